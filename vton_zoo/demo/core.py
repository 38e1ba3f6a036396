"""The demo's logic without the page: method status, a lazy pipeline cache, running several methods, the zip.

Nothing here imports Gradio, so it can be tested and reused directly. :mod:`vton_zoo.demo.ui` maps it onto the page.

Settings (environment):

- ``VTON_ZOO_DEMO_RANDOM_WEIGHTS=1``: methods without installed weights run with freshly initialised networks
  (``weights="random"``). Their output is noise; the page labels them "plumbing test". For checking the plumbing
  on a machine without checkpoints, never for judging a method.
- ``VTON_ZOO_DEMO_CACHE``: how many loaded pipelines to keep (default 8, least recently used evicted).
- ``VTON_ZOO_ADMIN_TOKEN``: lets whoever gives this token manage weights (download, install) on a public app (a
  Space, or a server bound to anything but loopback); see :class:`AdminPolicy`.
"""

from __future__ import annotations

import atexit
import hmac
import html
import ipaddress
import logging
import os
import shutil
import tempfile
import threading
import time
import zipfile
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import weights as zoo_weights
from ..registry import CATEGORIES, get_spec, list_models

logger = logging.getLogger(__name__)

RANDOM_WEIGHTS_ENV = "VTON_ZOO_DEMO_RANDOM_WEIGHTS"
CACHE_SIZE_ENV = "VTON_ZOO_DEMO_CACHE"
ADMIN_TOKEN_ENV = "VTON_ZOO_ADMIN_TOKEN"
BASELINE = "tps-baseline"
INTERMEDIATE_ORDER = ("garment_mask", "pose_overlay", "parse", "warped_garment", "flow", "composite_mask")
CATEGORY_WORDS = {"upper": "upper-body garments", "lower": "lower-body garments", "dress": "dresses"}
CATEGORY_NAMES = {"upper": "upper-body garment", "lower": "lower-body garment", "dress": "dress"}

try:  # Hugging Face Spaces: a ZeroGPU slice is attached only inside functions decorated with spaces.GPU
    import spaces

    _gpu = spaces.GPU(duration=60)
except ImportError:  # pragma: no cover - spaces is in requirements.txt; off Spaces its decorator is a no-op anyway
    def _gpu(function):
        return function


def md_text(text: object) -> str:
    """``text`` made safe inside Markdown: HTML special characters escaped, so ``checkpoints/<name>`` shows as
    written instead of being swallowed as a tag."""
    return html.escape(str(text), quote=False)


# ---------------------------------------------------------------------------------------------------------------------
# Who may manage weights


def is_loopback(host: str | None) -> bool:
    """``True`` for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    if not host or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class AdminPolicy:
    """Whether visitors may download and install weights (which changes what every other visitor gets).

    A deployed app is public: on a Space (``SPACE_ID`` set) or when bound to anything but loopback, weight
    management is refused, its controls are not on the page and its endpoints are not registered, unless an
    administrator token is configured (``VTON_ZOO_ADMIN_TOKEN``): then the controls ask for it, and every call checks
    it on the server. Bound to loopback (the default ``python app.py``) the user is the administrator.

    Attributes:
        public: the app is reachable by others (a Space, or bound to a non-loopback interface).
        token: the configured administrator token, if any.
    """

    public: bool
    token: str | None = None

    @property
    def manageable(self) -> bool:
        """Weight management exists on this app at all (controls built, endpoints registered)."""
        return not self.public or bool(self.token)

    @property
    def needs_token(self) -> bool:
        return self.public and bool(self.token)

    def allows(self, given: str | None = None) -> bool:
        """The server-side check of one call."""
        if not self.public:
            return True
        if not self.token or not given:
            return False
        return hmac.compare_digest(str(given).encode(), self.token.encode())

    def describe(self) -> str:
        if not self.public:
            return "local app (bound to loopback): you manage the weights"
        if self.token:
            return f"public app: weight management needs the administrator token ({ADMIN_TOKEN_ENV})"
        return f"public app: weight management is off (set {ADMIN_TOKEN_ENV} to allow it with a token)"


def admin_policy(host: str | None = None) -> AdminPolicy:
    """The policy for an app served on ``host`` (default: ``GRADIO_SERVER_NAME``, else Gradio's 127.0.0.1)."""
    host = host if host is not None else os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    public = bool(os.environ.get("SPACE_ID")) or not is_loopback(host)
    token = os.environ.get(ADMIN_TOKEN_ENV, "").strip() or None
    return AdminPolicy(public=public, token=token)


def random_weights_enabled() -> bool:
    """``True`` when the demo runs methods without installed weights on random weights (plumbing test)."""
    return os.environ.get(RANDOM_WEIGHTS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def devices() -> list[str]:
    """The device choices of the page: ``auto`` first, then ``cpu`` and ``cuda`` where there is one."""
    return ["auto", "cpu", *(["cuda"] if cuda_available() else [])]


def resolve_device(choice: str | None) -> str:
    """``"auto"``/``None`` -> ``"cuda"`` when available, else ``"cpu"``; anything else is validated."""
    if choice in (None, "", "auto"):
        return "cuda" if cuda_available() else "cpu"
    if choice == "cuda" and not cuda_available():
        raise ValueError("device 'cuda' was chosen but this machine has no CUDA GPU; choose 'auto' or 'cpu'")
    if choice not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {choice!r}")
    return choice


def short_licence(text: str) -> str:
    """The first clause of a spec's licence text (``"MIT (LICENSE)"`` -> ``"MIT"``)."""
    return text.split(" (")[0].split(";")[0].strip()


def weights_status(name: str) -> str:
    """:func:`vton_zoo.weights.status`, where any surprise (an unreadable folder, a bad ``config.json``) is
    "broken": the page stays up and says so."""
    try:
        return zoo_weights.status(name)
    except Exception as exc:  # noqa: BLE001 - one method's bad folder must not take the page down
        logger.warning("weights of %s cannot be read: %s", name, exc)
        return "broken"


def live_sources(name: str) -> list:
    """The official sources a program can fetch for ``name`` (empty: nothing to download)."""
    try:
        return list(zoo_weights.live_sources(name))
    except Exception as exc:  # noqa: BLE001 - a spec problem reads as "nothing to download", not a crash
        logger.warning("cannot list the sources of %s: %s", name, exc)
        return []


def source_licences(name: str) -> list[str]:
    """The licences a user accepts by downloading ``name``'s official files (one per distinct source licence)."""
    found = [short_licence(s.license) for s in live_sources(name) if getattr(s, "license", "")]
    return list(dict.fromkeys(found)) or [short_licence(get_spec(name).license)]


def download_size(name: str) -> int | None:
    """The size of ``name``'s first live source in bytes, when the spec knows it."""
    sources = live_sources(name)
    return getattr(sources[0], "size", None) if sources else None


@dataclass(frozen=True)
class MethodStatus:
    """Whether a method can run here, as the page shows it.

    Attributes:
        name: registry name.
        state: ``"ready"``, ``"random"`` (no weights, running on random weights: plumbing test), ``"missing"``
            (weights not installed), ``"downloading"`` (a background download of its weights is under way),
            ``"broken"`` (an installed folder that cannot be read) or ``"needs-gpu"``.
        weights: :func:`weights_status` (``"built-in"``, ``"installed"``, ``"missing"``, ``"broken"``).
        licence: short licence of the official code/weights.
        downloadable: its official files can be fetched by a program.
        progress: the background download's fraction done (``"downloading"`` only).
    """

    name: str
    state: str
    weights: str
    licence: str
    downloadable: bool = False
    progress: float | None = None

    @property
    def runnable(self) -> bool:
        return self.state in ("ready", "random")

    @property
    def title(self) -> str:
        return get_spec(self.name).title

    @property
    def short_state(self) -> str:
        """A few words for the method checkboxes (empty when ready)."""
        if self.state == "downloading":
            return f"downloading {self.progress or 0.0:.0%}"
        return {"ready": "", "random": "random weights", "missing": "no weights", "broken": "weights broken",
                "needs-gpu": "needs a GPU"}[self.state]

    @property
    def label(self) -> str:
        """The method's checkbox label: its title, plus its state when it cannot run as it is."""
        return self.title + (f" · {self.short_state}" if self.short_state else "")


def method_status(name: str, fetching: dict | None = None) -> MethodStatus:
    """The status of ``name``; ``fetching`` is a background download's snapshot (``{name: FetchState}``)."""
    spec = get_spec(name)
    weights = weights_status(name)
    downloadable = weights != "built-in" and bool(live_sources(name))
    progress = None
    fetch = (fetching or {}).get(name)
    if spec.needs_gpu and not cuda_available():
        state = "needs-gpu"
    elif weights in ("built-in", "installed"):
        state = "ready"
    elif fetch is not None and fetch.state in ("queued", "downloading", "verifying"):
        state, progress = "downloading", float(fetch.fraction or 0.0)
    elif random_weights_enabled():
        state = "random"
    else:
        state = weights  # "missing" or "broken"
    return MethodStatus(name, state, weights, short_licence(spec.license), downloadable, progress)


def method_order() -> list[str]:
    """Every registered method, the weight-free baseline first."""
    names = list_models()
    return sorted(names, key=lambda n: (n != BASELINE, n))


def method_choices(fetching: dict | None = None) -> list[tuple[str, str]]:
    """``(label, name)`` pairs for the method checkbox group."""
    return [(method_status(n, fetching).label, n) for n in method_order()]


def default_methods(limit: int = 3) -> list[str]:
    """What is ticked when the page opens: the methods that can run with real weights (the baseline at least)."""
    ready = [n for n in method_order() if method_status(n).state == "ready"]
    return ready[:limit] or [BASELINE]


def supports(name: str, category: str | None) -> bool:
    """Whether ``name`` handles garments of ``category`` (``None``/``"auto"``: not known yet, so yes)."""
    return category in (None, "", "auto") or category in get_spec(name).categories


def train_command(name: str) -> str:
    return f"python -m training {name}"


def licence_words(text: str) -> str:
    """A source licence in a few words: its first clause, without a leading ``"NAME: "`` or ``"NAME weights: "``."""
    short = short_licence(text)
    head, sep, rest = short.partition(": ")
    return rest if sep and len(head.split()) <= 3 and rest else short


def method_line(status: MethodStatus, category: str | None = None) -> str:
    """One compact Markdown line for a method that will not run: why, and what to do about it.

    The action itself (a download button) sits beside the line on the page; this text says what it fetches.
    """
    name = status.name
    head = f"**{md_text(status.title)}**"
    if not supports(name, category):
        handled = " and ".join(CATEGORY_WORDS[c] for c in get_spec(name).categories)
        return f"{head}: skipped, trained on {handled} only"
    if status.state == "needs-gpu":
        return f"{head}: needs a CUDA GPU; this machine has none"
    if status.state == "downloading":
        return f"{head}: downloading its official weights ({status.progress or 0.0:.0%}), ready when done"
    what = "weights broken (reinstall them)" if status.state == "broken" else "no weights here"
    if status.downloadable:
        licence = md_text(licence_words(source_licences(name)[0]))
        size = download_size(name)
        size_text = f"{size / 1e6:.0f} MB, " if size else ""
        return f"{head}: {what}; official download ({size_text}{licence})"
    return f"{head}: {what}; not published: train it (`{train_command(name)}`)"


@dataclass(frozen=True)
class Options:
    """The Advanced settings of one run.

    Attributes:
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        fp16: half precision (CUDA only; ignored on CPU).
        full_size: paste the result back into the original photo (else return the model-resolution image).
        intermediates: also return garment mask, pose overlay, warped garment, flow...
        resolutions: per method ``(H, W)`` where a method supports several; the method's default otherwise.
        category: the garment's category (``"upper"``, ``"lower"``, ``"dress"``), or ``None``/``"auto"``: detected
            from the garment photo by the pipeline.
    """

    device: str = "auto"
    fp16: bool = False
    full_size: bool = True
    intermediates: bool = True
    resolutions: dict[str, tuple[int, int]] = field(default_factory=dict)
    category: str | None = None

    def __post_init__(self):
        if self.category not in (None, "auto", *CATEGORIES):
            raise ValueError(f"category must be 'auto' or one of {CATEGORIES}, got {self.category!r}")


def parse_resolution(text: str | Sequence[int] | None) -> tuple[int, int] | None:
    """``"512x384"`` (H x W, as the page writes it) -> ``(512, 384)``; ``None``/``""`` -> ``None``."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        height, width = text
        return int(height), int(width)
    try:
        height, width = (int(v) for v in text.lower().replace(" ", "").split("x"))
    except ValueError as exc:
        raise ValueError(f"resolution must look like 512x384 (height x width), got {text!r}") from exc
    return height, width


class PipelineCache:
    """Loaded :class:`~vton_zoo.TryOnPipeline` objects, least recently used evicted, safe across threads.

    Nothing is loaded until a method is first run; building a pipeline happens outside the cache lock, under a
    per-key lock, so two requests for the same method build it once and other methods are not held up.
    """

    def __init__(self, max_items: int | None = None):
        self.max_items = max(1, int(max_items or os.environ.get(CACHE_SIZE_ENV, 8)))
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[tuple, threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[tuple]:
        with self._lock:
            return list(self._items)

    def clear(self, name: str | None = None) -> None:
        """Forget every pipeline (or those of ``name``, e.g. after its weights were installed)."""
        with self._lock:
            for key in [k for k in self._items if name is None or k[0] == name]:
                del self._items[key]

    def get(self, name: str, *, device: str, fp16: bool = False, resolution: tuple[int, int] | None = None,
            weights: str | None = None) -> tuple[Any, bool]:
        """The pipeline for these settings and whether it was created by this call."""
        key = (name, device, bool(fp16), resolution, weights)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key], False
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key], False
            pipe = _build_pipeline(name, device=device, fp16=fp16, resolution=resolution, weights=weights)
            with self._lock:
                self._items[key] = pipe
                while len(self._items) > self.max_items:
                    evicted, _ = self._items.popitem(last=False)
                    logger.info("pipeline cache: evicted %s", evicted)
        return pipe, True


def _build_pipeline(name: str, *, device: str, fp16: bool, resolution: tuple[int, int] | None, weights: str | None):
    import torch

    from ..pipeline import TryOnPipeline

    dtype = torch.float16 if fp16 and device == "cuda" else None
    return TryOnPipeline(name, device=device, weights=weights, dtype=dtype, resolution=resolution)


@dataclass
class MethodRun:
    """One method's outcome in a run: a result, the error that stopped it, or why it was not run (the other
    methods carry on either way)."""

    name: str
    image: Any = None  # PIL.Image: the final image (original size or model size)
    model_image: Any = None
    intermediates: dict[str, Any] = field(default_factory=dict)
    latency_s: float | None = None  # wall time of this method, preprocessing and model
    timings: dict[str, float] = field(default_factory=dict)
    device: str | None = None
    warnings: list[str] = field(default_factory=list)
    first_run: bool = False  # the pipeline was built (and its model loaded) during this run
    category: str | None = None  # the garment category the pipeline used
    error: str | None = None
    # "weights" (not installed / broken / downloading), "gpu" (needs one), "category" (not trained on this
    # garment category): the method did not run, and the page shows one line; "input" (bad photo), "runtime"
    error_kind: str | None = None
    line: str = ""  # the compact Markdown line of a method that did not run (see method_line)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def skipped(self) -> bool:
        """The method did not run (no weights, no GPU, another garment category): a line, not a result column."""
        return self.error_kind in ("weights", "gpu", "category")

    @property
    def title(self) -> str:
        return get_spec(self.name).title

    def summary(self) -> str:
        """A short Markdown text for the method's column: latency and device, or the error (escaped)."""
        if self.skipped:
            return self.line or md_text(self.error)
        if not self.ok:
            head = "Cannot use these photos" if self.error_kind == "input" else "Failed"
            return f"**{head}**: {md_text(self.error)}"
        parts = [f"**{self.latency_s:.2f} s** on `{self.device}`"]
        if "model" in self.timings:
            parts.append(f"model {self.timings['model'] * 1000:.0f} ms")
        load = self.timings.get("load_model", 0.0)
        if load > 0.0005:
            parts.append(f"incl. model load {load:.2f} s")
        text = " · ".join(parts)
        if self.warnings:
            text += "\n\n" + "\n".join(f"- {md_text(w)}" for w in self.warnings)
        return text


@_gpu
def _infer(pipe, person, garment, full_size: bool, intermediates: bool, category: str | None = None):
    """The GPU part of a method (model load and forward, incl. CuPy kernel compilation on first use)."""
    return pipe(person, garment, category=category, full_size=full_size, intermediates=intermediates)


def not_run(name: str, category: str | None = None, fetching: dict | None = None) -> MethodRun | None:
    """The outcome of a method that will not run with these settings (a compact line), or ``None`` if it can run."""
    status = method_status(name, fetching)
    if not supports(name, category):
        kind = "category"
    elif status.state == "needs-gpu":
        kind = "gpu"
    elif not status.runnable:
        kind = "weights"
    else:
        return None
    line = method_line(status, category)
    return MethodRun(name, error=line, error_kind=kind, line=line, latency_s=0.0)


def run_method(name: str, person, garment, options: Options, cache: PipelineCache,
               fetching: dict | None = None) -> MethodRun:
    """Run one method; any failure is caught and described in the returned :class:`MethodRun`."""
    category = options.category if options.category not in (None, "", "auto") else None
    skipped = not_run(name, category, fetching)
    if skipped is not None:
        return skipped
    run = MethodRun(name)
    started = time.perf_counter()
    try:
        status = method_status(name)
        device = resolve_device(options.device)
        weights = zoo_weights.RANDOM if status.state == "random" else None
        pipe, run.first_run = cache.get(name, device=device, fp16=options.fp16, weights=weights,
                                        resolution=options.resolutions.get(name))
        result = _infer(pipe, person, garment, options.full_size, options.intermediates, category)
    except zoo_weights.WeightsNotInstalledError:  # removed between the status check and the load
        return not_run(name, category) or MethodRun(name, error=f"{name}: weights not installed",
                                                     error_kind="weights")
    except ValueError as exc:
        run.error, run.error_kind = str(exc), "input"
    except Exception as exc:  # noqa: BLE001 - one method's crash must not take the others down
        logger.exception("%s failed", name)
        run.error, run.error_kind = f"{type(exc).__name__}: {exc}", "runtime"
    else:
        run.image, run.model_image = result.image, result.model_image
        run.intermediates = dict(result.intermediates or {})
        run.timings = {k: float(v) for k, v in (result.timings or {}).items()}
        run.device = str(result.device)
        run.warnings = [str(w) for w in (result.warnings or [])]
        run.category = getattr(result, "category", None) or category
    run.latency_s = time.perf_counter() - started
    return run


def run_methods(person, garment, methods: Sequence[str], options: Options | None = None,
                cache: PipelineCache | None = None,
                on_start: Callable[[int, int, str], None] | None = None,
                fetching: dict | None = None) -> Iterator[MethodRun]:
    """Check the photos once, then run ``methods`` one after another on them, yielding each outcome as soon as it
    is ready (a method that cannot run with these settings yields its one-line reason at once).

    With ``options.category`` automatic, the garment's category is detected once here and every method gets it.

    Raises:
        ValueError: no person, no garment, no method chosen, an unknown method, or photos that cannot be used (one
            message for all methods, see :func:`prepare_inputs`).
    """
    if not methods:
        raise ValueError("Tick at least one method")
    for name in methods:
        get_spec(name)  # unknown name -> ValueError before anything runs
    options = options or Options()
    cache = cache if cache is not None else PipelineCache()
    prepared = prepare_inputs(person, garment, category=options.category,
                              person_name=getattr(person, "name", None), garment_name=getattr(garment, "name", None))
    options = replace(options, category=prepared.category)
    for index, name in enumerate(methods):
        if on_start is not None:
            on_start(index, len(methods), name)
        run = run_method(name, prepared.person, prepared.garment, options, cache, fetching)
        if run.ok and run.category is None:
            run.category = prepared.category
        yield run


# ---------------------------------------------------------------------------------------------------------------------
# The photos, checked once per run (every method would refuse them with the same words)


@dataclass(frozen=True)
class Prepared:
    """Both photos of a run, loaded and checked once: uint8 RGB arrays, and the garment's category with where it
    came from (``"given"`` or what the detection saw)."""

    person: Any
    garment: Any
    category: str
    category_reason: str


def _work_copy(image):
    """``image`` at most ``GARMENT_WORK_SIDE`` pixels long, as the pipeline checks and measures garments."""
    import numpy as np
    from PIL import Image

    from ..pipeline import GARMENT_WORK_SIDE

    height, width = image.shape[:2]
    scale = GARMENT_WORK_SIDE / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))


def detect_category(garment_rgb) -> tuple[str, str]:
    """The garment's category from the shape of its mask, as the pipeline detects it: ``(category, reason)``.

    Done once per run, so that every method gets the same category (the pipeline would detect it again per method,
    at each model's resolution)."""
    from ..preprocess import garment as garment_prep

    guess = garment_prep.garment_category(garment_prep.garment_mask(_work_copy(garment_rgb)))
    return guess.category, guess.reason


def prepare_inputs(person, garment, *, category: str | None = "auto", person_name: str | None = None,
                   garment_name: str | None = None) -> Prepared:
    """Load both photos once (our size and format checks, before any pixel is decoded), check them the way every
    method would (one clear message instead of the same refusal from each method) and settle the garment category.

    Args:
        person, garment: paths, arrays or PIL images.
        category: ``"upper"``, ``"lower"``, ``"dress"``, or ``"auto"``/``None``: detected from the garment photo.
        person_name, garment_name: how messages name uploaded files (their own names, never a server path).

    Raises:
        ValueError: a photo cannot be used; the message says why and what to give instead.
    """
    from ..preprocess import garment as garment_prep
    from ..preprocess import pose
    from ..preprocess.io import load_image

    if person is None:
        raise ValueError("Upload or pick a person photo first")
    if garment is None:
        raise ValueError("Upload or pick a garment photo first")
    person_rgb = load_image(person, role="person", name=person_name)
    garment_rgb = load_image(garment, role="garment", name=garment_name)
    check = pose.assess_person(person_rgb)
    if not check.ok:
        if check.status in ("no_person", "cut_off") and garment_prep.looks_like_product_shot(person_rgb, check.pose):
            raise ValueError(garment_prep.GARMENT_AS_PERSON)
        raise ValueError(check.message)
    garment_small = _work_copy(garment_rgb)
    garment_prep.check_garment_photo(garment_small)
    if category in (None, "", "auto"):
        guess = garment_prep.garment_category(garment_prep.garment_mask(garment_small))
        category, reason = guess.category, guess.reason
    elif category in CATEGORIES:
        reason = "given"
    else:
        raise ValueError(f"category must be 'auto' or one of {CATEGORIES}, got {category!r}")
    return Prepared(person_rgb, garment_rgb, category, reason)


def ordered_intermediates(run: MethodRun) -> list[tuple[Any, str]]:
    """``(image, caption)`` pairs of a run's intermediates, in data-flow order."""
    known = [k for k in INTERMEDIATE_ORDER if k in run.intermediates]
    rest = sorted(k for k in run.intermediates if k not in INTERMEDIATE_ORDER)
    return [(run.intermediates[k], k.replace("_", " ")) for k in known + rest]


_RUN_DIRS: deque[Path] = deque()
_KEEP_RUN_DIRS = 32


_RUN_ROOT: list[Path] = []  # this process's parent folder of run folders, made on first use
_RUN_ROOT_LOCK = threading.Lock()


def _run_root() -> Path:
    with _RUN_ROOT_LOCK:
        if not _RUN_ROOT:
            root = Path(tempfile.mkdtemp(prefix="vton-zoo-runs-"))
            atexit.register(shutil.rmtree, root, ignore_errors=True)  # a stopped app leaves no run files behind
            _RUN_ROOT.append(root)
        return _RUN_ROOT[0]


def new_run_dir() -> Path:
    """A fresh temporary folder for one run's files; the oldest of more than 32 are deleted, and all of them when
    the process ends (Gradio serves the results from its own cache copy)."""
    folder = Path(tempfile.mkdtemp(prefix="run-", dir=_run_root()))
    _RUN_DIRS.append(folder)
    while len(_RUN_DIRS) > _KEEP_RUN_DIRS:
        shutil.rmtree(_RUN_DIRS.popleft(), ignore_errors=True)
    return folder


def save_results(runs: Sequence[MethodRun], folder: str | os.PathLike) -> tuple[dict[str, Path], Path]:
    """Write every result (and intermediates) as PNG into ``folder`` and zip them.

    Returns:
        ``({method: result path}, zip path)``; the zip also holds ``results.md`` with latencies, devices and errors.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    lines = ["| method | latency (s) | device | result |", "|---|---|---|---|"]
    files: list[Path] = []
    for run in runs:
        if run.ok:
            paths[run.name] = folder / f"{run.name}.png"
            run.image.save(paths[run.name])
            files.append(paths[run.name])
            if run.model_image is not None:
                files.append(folder / f"{run.name}_model_size.png")
                run.model_image.save(files[-1])
            for key, image in run.intermediates.items():
                files.append(folder / run.name / f"{key}.png")
                files[-1].parent.mkdir(exist_ok=True)
                image.save(files[-1])
            lines.append(f"| {run.name} | {run.latency_s:.3f} | {run.device} | {run.name}.png |")
        else:
            lines.append(f"| {run.name} | | | error: {run.error.splitlines()[0]} |")
    (folder / "results.md").write_text("\n".join(lines) + "\n")
    archive = folder / "vton-zoo-results.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(folder / "results.md", "results.md")
        for path in files:
            zf.write(path, path.relative_to(folder).as_posix())
    return paths, archive
