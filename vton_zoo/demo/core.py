"""The demo's logic without the page: method status, a lazy pipeline cache, running several methods, the zip.

Nothing here imports Gradio, so it can be tested and reused directly. :mod:`vton_zoo.demo.ui` maps it onto the page.

Settings (environment):

- ``VTON_ZOO_DEMO_RANDOM_WEIGHTS=1``: methods without installed weights run with freshly initialised networks
  (``weights="random"``). Their output is noise; the page labels them "plumbing test". For checking the plumbing
  on a machine without checkpoints, never for judging a method.
- ``VTON_ZOO_DEMO_CACHE``: how many loaded pipelines to keep (default 8, least recently used evicted).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import zipfile
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import weights as zoo_weights
from ..registry import get_spec, list_models

logger = logging.getLogger(__name__)

RANDOM_WEIGHTS_ENV = "VTON_ZOO_DEMO_RANDOM_WEIGHTS"
CACHE_SIZE_ENV = "VTON_ZOO_DEMO_CACHE"
BASELINE = "tps-baseline"
INTERMEDIATE_ORDER = ("garment_mask", "pose_overlay", "parse", "warped_garment", "flow", "composite_mask")

try:  # Hugging Face Spaces: a ZeroGPU slice is attached only inside functions decorated with spaces.GPU
    import spaces

    _gpu = spaces.GPU(duration=60)
except ImportError:  # pragma: no cover - spaces is in requirements.txt; off Spaces its decorator is a no-op anyway
    def _gpu(function):
        return function


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


@dataclass(frozen=True)
class MethodStatus:
    """Whether a method can run here, as the page shows it.

    Attributes:
        name: registry name.
        state: ``"ready"``, ``"random"`` (no weights, running on random weights: plumbing test),
            ``"missing"`` (weights not installed) or ``"needs-gpu"``.
        weights: :func:`vton_zoo.weights.status` (``"built-in"``, ``"installed"``, ``"missing"``).
        licence: short licence of the official code/weights.
    """

    name: str
    state: str
    weights: str
    licence: str

    @property
    def runnable(self) -> bool:
        return self.state in ("ready", "random")

    @property
    def label(self) -> str:
        text = {"ready": "ready", "random": "random weights: plumbing test", "missing": "weights not installed",
                "needs-gpu": "needs a GPU"}[self.state]
        return f"{get_spec(self.name).title} ({self.name}): {text} · {self.licence}"


def method_status(name: str) -> MethodStatus:
    spec = get_spec(name)
    weights = zoo_weights.status(name)
    if spec.needs_gpu and not cuda_available():
        state = "needs-gpu"
    elif weights != "missing":
        state = "ready"
    else:
        state = "random" if random_weights_enabled() else "missing"
    return MethodStatus(name, state, weights, short_licence(spec.license))


def method_order() -> list[str]:
    """Every registered method, the weight-free baseline first."""
    names = list_models()
    return sorted(names, key=lambda n: (n != BASELINE, n))


def method_choices() -> list[tuple[str, str]]:
    """``(label, name)`` pairs for the method checkbox group."""
    return [(method_status(n).label, n) for n in method_order()]


def default_methods(limit: int = 3) -> list[str]:
    """What is ticked when the page opens: the methods that can run with real weights (the baseline at least)."""
    ready = [n for n in method_order() if method_status(n).state == "ready"]
    return ready[:limit] or [BASELINE]


@dataclass(frozen=True)
class Options:
    """The Advanced settings of one run.

    Attributes:
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        fp16: half precision (CUDA only; ignored on CPU).
        full_size: paste the result back into the original photo (else return the model-resolution image).
        intermediates: also return garment mask, pose overlay, warped garment, flow...
        resolutions: per method ``(H, W)`` where a method supports several; the method's default otherwise.
    """

    device: str = "auto"
    fp16: bool = False
    full_size: bool = True
    intermediates: bool = True
    resolutions: dict[str, tuple[int, int]] = field(default_factory=dict)


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
    """One method's outcome in a run: a result, or the error that stopped it (the other methods carry on)."""

    name: str
    image: Any = None  # PIL.Image: the final image (original size or model size)
    model_image: Any = None
    intermediates: dict[str, Any] = field(default_factory=dict)
    latency_s: float | None = None  # wall time of this method, preprocessing and model
    timings: dict[str, float] = field(default_factory=dict)
    device: str | None = None
    warnings: list[str] = field(default_factory=list)
    first_run: bool = False  # the pipeline was built (and its model loaded) during this run
    error: str | None = None
    error_kind: str | None = None  # "weights" (not installed), "input" (bad photo), "runtime"

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def title(self) -> str:
        return get_spec(self.name).title

    def summary(self) -> str:
        """A short Markdown text for the method's column: latency and device, or the error."""
        if not self.ok:
            head = {"weights": "Weights not installed", "input": "Cannot use these photos"}.get(self.error_kind,
                                                                                                "Failed")
            return f"**{head}**\n\n{self.error}"
        parts = [f"**{self.latency_s:.2f} s** on `{self.device}`"]
        if "model" in self.timings:
            parts.append(f"model {self.timings['model'] * 1000:.0f} ms")
        load = self.timings.get("load_model", 0.0)
        if load > 0.0005:
            parts.append(f"incl. model load {load:.2f} s")
        text = " · ".join(parts)
        if self.warnings:
            text += "\n\n" + "\n".join(f"- {w}" for w in self.warnings)
        return text


@_gpu
def _infer(pipe, person, garment, full_size: bool, intermediates: bool):
    """The GPU part of a method (model load and forward, incl. CuPy kernel compilation on first use)."""
    return pipe(person, garment, full_size=full_size, intermediates=intermediates)


def run_method(name: str, person, garment, options: Options, cache: PipelineCache) -> MethodRun:
    """Run one method; any failure is caught and described in the returned :class:`MethodRun`."""
    run = MethodRun(name)
    started = time.perf_counter()
    try:
        status = method_status(name)
        if status.state == "missing":
            raise zoo_weights.WeightsNotInstalledError(name)
        if status.state == "needs-gpu":
            raise RuntimeError(f"{name} needs a CUDA GPU and this machine has none")
        device = resolve_device(options.device)
        weights = zoo_weights.RANDOM if status.state == "random" else None
        pipe, run.first_run = cache.get(name, device=device, fp16=options.fp16, weights=weights,
                                        resolution=options.resolutions.get(name))
        result = _infer(pipe, person, garment, options.full_size, options.intermediates)
    except zoo_weights.WeightsNotInstalledError as exc:
        run.error, run.error_kind = str(exc), "weights"
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
    run.latency_s = time.perf_counter() - started
    return run


def run_methods(person, garment, methods: Sequence[str], options: Options | None = None,
                cache: PipelineCache | None = None,
                on_start: Callable[[int, int, str], None] | None = None) -> Iterator[MethodRun]:
    """Run ``methods`` one after another on the same pair, yielding each outcome as soon as it is ready.

    Raises:
        ValueError: no person, no garment, or no method chosen (nothing to run).
    """
    if person is None:
        raise ValueError("Upload or pick a person photo first")
    if garment is None:
        raise ValueError("Upload or pick a garment photo first")
    if not methods:
        raise ValueError("Tick at least one method")
    for name in methods:
        get_spec(name)  # unknown name -> ValueError before anything runs
    options = options or Options()
    cache = cache if cache is not None else PipelineCache()
    for index, name in enumerate(methods):
        if on_start is not None:
            on_start(index, len(methods), name)
        yield run_method(name, person, garment, options, cache)


def ordered_intermediates(run: MethodRun) -> list[tuple[Any, str]]:
    """``(image, caption)`` pairs of a run's intermediates, in data-flow order."""
    known = [k for k in INTERMEDIATE_ORDER if k in run.intermediates]
    rest = sorted(k for k in run.intermediates if k not in INTERMEDIATE_ORDER)
    return [(run.intermediates[k], k.replace("_", " ")) for k in known + rest]


_RUN_DIRS: deque[Path] = deque()
_KEEP_RUN_DIRS = 32


def new_run_dir() -> Path:
    """A fresh temporary folder for one run's files; the oldest of more than 32 are deleted."""
    folder = Path(tempfile.mkdtemp(prefix="vton-zoo-run-"))
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
