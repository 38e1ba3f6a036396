"""The demo's example photos: real ones fetched at run time where their licence allows, drawn ones as the fallback.

**Real photos** come from a public repository whose licence allows showing them, fetched when the app starts and
cached (the Hugging Face Hub cache; offline, the cache is reused): by default the example photos of the OOTDiffusion
Space (:data:`OOTD_EXAMPLES`, ``levihsu/OOTDiffusion``, CC BY-NC-SA 4.0: non-commercial, with attribution). Each
file's sha256 is pinned, so a changed or substituted file is refused. The page names the source and the licence
beside the examples (:attr:`ExampleSet.credit`). The photos are never copied into this repository or its packages.

**Drawn examples** are the offline fallback: flat-shaded figures that MediaPipe Pose reads as a person (front view,
arms down, head to feet, 3:4 like VITON-HD) and T-shirt product shots on white, drawn here (MIT like the code).
There is no public-domain full-body photo inside the packages the demo installs (scikit-image's ``astronaut`` and
matplotlib's ``grace_hopper`` are head-and-shoulders portraits, which the person check rightly refuses).

Settings: ``VTON_ZOO_EXAMPLES`` = ``ootd`` (default: the real photos above, drawn ones when they cannot be had),
``drawn`` (drawn only, nothing fetched), or ``hub:OWNER/NAME`` (a Hub *dataset* with ``person/`` and ``garment/``
folders, e.g. your own; ``VTON_ZOO_EXAMPLES_REPO=OWNER/NAME`` means the same).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

logger = logging.getLogger(__name__)

SIZE = (768, 1024)  # (W, H) of the drawn examples, VITON-HD's 3:4
REPO_EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES_ENV = "VTON_ZOO_EXAMPLES"
EXAMPLES_REPO_ENV = "VTON_ZOO_EXAMPLES_REPO"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class RemoteExamples:
    """Example photos in a public Hub repository (a Space or a dataset), pinned file by file.

    Attributes:
        repo_id, repo_type, revision: where the files are (``repo_type`` ``"space"`` or ``"dataset"``).
        persons, garments: ``(path in the repo, sha256)`` of each photo, in gallery order.
        title, url: how the page names and links the source.
        licence, licence_url: the licence the photos are published under.
        note: anything else the credit line must say (where the photos come from originally).
    """

    repo_id: str
    repo_type: str
    revision: str
    persons: tuple[tuple[str, str], ...]
    garments: tuple[tuple[str, str], ...]
    title: str
    url: str
    licence: str
    licence_url: str
    note: str = ""

    def credit(self) -> str:
        extra = f" ({self.note})" if self.note else ""
        return (f"Example photos: [{self.title}]({self.url}){extra}, [{self.licence}]({self.licence_url}): "
                "non-commercial use; fetched at run time, not part of vton-zoo.")


# The example photos of the OOTDiffusion demo Space (the same files as the GitHub repo's run/examples at commit
# 13ef0faba266, whose LICENSE is CC BY-NC-SA 4.0). Persons: studio shots (VITON-HD style) and full-body shots (Dress
# Code style); garments: two tops, two trousers, two dresses, so every garment category has an example.
OOTD_EXAMPLES = RemoteExamples(
    repo_id="levihsu/OOTDiffusion", repo_type="space", revision="main",
    persons=(
        ("run/examples/model/05997_00.jpg", "45f1b2a9e52e7c9aa2f7c475ad70aeef8dc446b7e3d6ddf34bbce63fffa11f95"),
        ("run/examples/model/model_5.png", "5faaea84635da215bd0819cf5ce65512ca1b742c39ee8fd67176b19e084ed872"),
        ("run/examples/model/07966_00.jpg", "70785b8c99e353755466ac397a117c659851d84c55d3292d599820752f930ae3"),
        ("run/examples/model/049205_0.jpg", "73594af5aa798c6908358f348eb8f1ac289f788580d8557b182aea731bb4e3ae"),
        ("run/examples/model/model_8.png", "bf4f2064cc6efe6aa4b6bb503d6d2aadba4feff13b5784457ed7ddd63c1fc20f"),
        ("run/examples/model/053514_0.jpg", "7246a15f016b6e13aecd99ca6b9116b9d558d883be7e307454759bd77e1e226c"),
    ),
    garments=(
        ("run/examples/garment/00126_00.jpg", "661ebf9c36b4ef974503023f8e59fe28937757646fb27b21c960869ab1cf3ac1"),
        ("run/examples/garment/050181_1.jpg", "923a11eaa89ef07348acb29add1eddd4f0e49184d912a590403e36150d35d54f"),
        ("run/examples/garment/00151_00.jpg", "d8ad0a63cdacfa9e7876c25624195def2f4005cc9eb8e63b3f8f275b4fa0d7f7"),
        ("run/examples/garment/051946_1.jpg", "7ff915215d9e2eb20808c1c994ad322310498f62eae6c5be918660ab121ac767"),
        ("run/examples/garment/051412_1.jpg", "8f5101cd45427dffa60adef80d0540dbe6606b49de5b6fd5f483595d8c3b350d"),
        ("run/examples/garment/053319_1.jpg", "3686dc756dacd464369dd240f311a33f1ea55f2b3889986454b66c6c337538e1"),
        ("run/examples/garment/052234_1.jpg", "03e7d5d003459b68b9ab8344e3ee2bd0a463108b3cd726e426736a8ffa9d1dbd"),
    ),
    title="OOTDiffusion's Space",
    url="https://huggingface.co/spaces/levihsu/OOTDiffusion",
    licence="CC BY-NC-SA 4.0", licence_url="https://creativecommons.org/licenses/by-nc-sa/4.0/",
    note="from VITON-HD and Dress Code",
)

DRAWN_CREDIT = "Example photos drawn by vton-zoo: the offline fallback (the real ones could not be fetched)."


@dataclass
class ExampleSet:
    """What the page's example galleries show, and the credit line beside them."""

    persons: list[Path] = field(default_factory=list)
    garments: list[Path] = field(default_factory=list)
    credit: str = ""
    real: bool = False


@dataclass(frozen=True)
class Figure:
    """How one drawn person looks."""

    name: str
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    top: tuple[int, int, int]
    bottom: tuple[int, int, int]
    long_hair: bool = False
    arm_spread: int = 0  # extra pixels the hands sit away from the hips


@dataclass(frozen=True)
class Garment:
    """How one drawn T-shirt looks."""

    name: str
    color: tuple[int, int, int]
    pattern: str = "plain"  # "plain", "stripes" or "dots"
    accent: tuple[int, int, int] = (255, 255, 255)
    long_sleeves: bool = False


FIGURES = (
    Figure("person_a", skin=(224, 172, 140), hair=(60, 40, 30), top=(60, 90, 160), bottom=(50, 50, 60)),
    Figure("person_b", skin=(150, 100, 70), hair=(25, 20, 20), top=(90, 140, 120), bottom=(70, 80, 110),
           long_hair=True, arm_spread=25),
    Figure("person_c", skin=(240, 200, 175), hair=(170, 120, 60), top=(150, 40, 50), bottom=(40, 40, 45),
           arm_spread=45),
)

GARMENTS = (
    Garment("garment_red", color=(200, 40, 45)),
    Garment("garment_stripes", color=(30, 45, 90), pattern="stripes", accent=(235, 235, 235)),
    Garment("garment_dots", color=(240, 200, 60), pattern="dots", accent=(40, 110, 70)),
    Garment("garment_green_long", color=(60, 130, 90), long_sleeves=True),
)


def _shade(color: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(np.clip(c * factor, 0, 255)) for c in color)


def draw_person(figure: Figure, size: tuple[int, int] = SIZE) -> Image.Image:
    """A front-view figure, head to feet, arms down, on a light studio background."""
    width, height = size
    scale = height / 1024
    image = Image.new("RGB", size, (236, 236, 232))
    draw = ImageDraw.Draw(image)
    cx = width // 2

    def pts(*xy):
        return [(cx + x * scale, y * scale) for x, y in xy]

    def box(x0, y0, x1, y1):
        return [cx + x0 * scale, y0 * scale, cx + x1 * scale, y1 * scale]

    draw.ellipse(box(-170, 985, 170, 1015), fill=(215, 215, 210))  # floor shadow
    if figure.long_hair:
        draw.rounded_rectangle(box(-85, 60, 85, 300), int(60 * scale), fill=figure.hair)
    # legs and shoes
    for side in (-1, 1):
        x_in, x_out = 12 * side, 118 * side
        draw.polygon(pts((x_in, 560), (x_out, 560), (x_out - 20 * side, 985), (x_in + 10 * side, 985)),
                     fill=figure.bottom)
        draw.ellipse(box(min(x_in, x_out) - 15, 965, max(x_in, x_out) + 5, 1012), fill=(35, 32, 30))
    # arms (upper arm in the sleeve colour, forearm skin) and hands
    spread = figure.arm_spread
    for side in (-1, 1):
        shoulder, elbow, wrist = (150 * side, 265), ((185 + spread // 2) * side, 420), ((205 + spread) * side, 560)
        draw.line(pts(shoulder, elbow), fill=figure.skin, width=int(58 * scale), joint="curve")
        draw.line(pts(elbow, wrist), fill=figure.skin, width=int(48 * scale), joint="curve")
        draw.ellipse(box(wrist[0] - 30, wrist[1] - 10, wrist[0] + 30, wrist[1] + 62), fill=_shade(figure.skin, 0.95))
    # neck and torso (a T-shirt with short sleeves)
    draw.rectangle(box(-30, 180, 30, 250), fill=_shade(figure.skin, 0.92))
    draw.polygon(pts((-150, 240), (-45, 232), (0, 262), (45, 232), (150, 240), (178, 335), (128, 348), (132, 600),
                     (-132, 600), (-128, 348), (-178, 335)), fill=figure.top)
    draw.line(pts((-128, 348), (-132, 600)), fill=_shade(figure.top, 0.8), width=int(6 * scale))
    draw.line(pts((128, 348), (132, 600)), fill=_shade(figure.top, 0.8), width=int(6 * scale))
    # head: face, hair, eyes, nose, mouth
    draw.ellipse(box(-70, 40, 70, 210), fill=figure.skin)
    draw.chord(box(-76, 28, 76, 150), 180, 360, fill=figure.hair)
    for ex in (-30, 30):
        draw.ellipse(box(ex - 12, 110, ex + 12, 124), fill=(250, 250, 250))
        draw.ellipse(box(ex - 6, 111, ex + 6, 123), fill=(40, 30, 20))
    draw.line(pts((0, 122), (-6, 155), (4, 158)), fill=_shade(figure.skin, 0.8), width=max(2, int(3 * scale)))
    draw.arc(box(-28, 160, 28, 185), 10, 170, fill=(150, 60, 60), width=max(2, int(4 * scale)))
    return image.filter(ImageFilter.GaussianBlur(1.2 * scale))


def draw_garment(garment: Garment, size: tuple[int, int] = SIZE) -> Image.Image:
    """A T-shirt laid flat, photographed from above on a white background (a product shot)."""
    width, height = size
    s = min(width / 768, height / 1024)
    cx, top = width / 2, height / 2 - 330 * s

    def pts(*xy):
        return [(cx + x * s, top + y * s) for x, y in xy]

    sleeve_end = 560 if garment.long_sleeves else 250
    sleeve_x = 300 if garment.long_sleeves else 350
    outline = pts((-90, 0), (-30, 35), (30, 35), (90, 0), (230, 45), (sleeve_x + 20, sleeve_end - 60),
                  (sleeve_x - 60, sleeve_end), (225, 230), (230, 660), (-230, 660), (-225, 230),
                  (-(sleeve_x - 60), sleeve_end), (-(sleeve_x + 20), sleeve_end - 60), (-230, 45))
    shirt = Image.new("L", size, 0)
    ImageDraw.Draw(shirt).polygon(outline, fill=255)
    fabric = Image.new("RGB", size, garment.color)
    draw = ImageDraw.Draw(fabric)
    if garment.pattern == "stripes":
        for y in range(0, height, int(60 * s)):
            draw.rectangle([0, y, width, y + int(22 * s)], fill=garment.accent)
    elif garment.pattern == "dots":
        for row, y in enumerate(range(0, height, int(70 * s))):
            for x in range(int((row % 2) * 35 * s), width, int(70 * s)):
                draw.ellipse([x - 14 * s, y - 14 * s, x + 14 * s, y + 14 * s], fill=garment.accent)
    # soft folds: darken towards the side seams
    xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)
    folds = 1.0 - 0.12 * xs ** 2
    fabric = Image.fromarray((np.asarray(fabric, np.float32) * folds[None, :, None]).astype(np.uint8))
    image = Image.new("RGB", size, (252, 252, 251))
    shadow = shirt.filter(ImageFilter.GaussianBlur(10 * s)).point(lambda v: v * 0.18)
    image.paste((200, 200, 200), (int(6 * s), int(8 * s)), shadow)
    image.paste(fabric, (0, 0), shirt)
    collar = ImageDraw.Draw(image)
    collar.arc([cx - 60 * s, top - 35 * s, cx + 60 * s, top + 38 * s], 0, 180, fill=_shade(garment.color, 0.7),
               width=int(10 * s))
    return image


def make_examples(folder: str | os.PathLike, *, size: tuple[int, int] = SIZE) -> list[Path]:
    """Draw every example into ``folder`` (PNG) and return the paths, persons first."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for figure in FIGURES:
        paths.append(folder / f"{figure.name}.png")
        draw_person(figure, size).save(paths[-1], optimize=True)
    for garment in GARMENTS:
        paths.append(folder / f"{garment.name}.png")
        draw_garment(garment, size).save(paths[-1], optimize=True)
    return paths


def local_examples() -> tuple[list[Path], list[Path]]:
    """The drawn ``(persons, garments)``: the repository's ``examples/images`` when present, else drawn once into
    ``$VTON_ZOO_HOME/examples``."""
    from ..weights import home

    wanted = [f.name for f in FIGURES] + [g.name for g in GARMENTS]
    folder = REPO_EXAMPLES
    if not all((folder / f"{name}.png").is_file() for name in wanted):
        folder = home() / "examples"
        if not all((folder / f"{name}.png").is_file() for name in wanted):
            make_examples(folder)
    return ([folder / f"{f.name}.png" for f in FIGURES], [folder / f"{g.name}.png" for g in GARMENTS])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_VERIFIED: dict[tuple[str, int, int], str] = {}  # (path, mtime_ns, size) -> sha256, so page loads hash once


def _verified_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _VERIFIED:
        _VERIFIED[key] = _sha256(path)
    return _VERIFIED[key]


def fetch_remote(source: RemoteExamples = OOTD_EXAMPLES, *, endpoint: str | None = None, timeout: float = 10.0,
                 cached_only: bool = False) -> ExampleSet:
    """The photos of ``source``, each fetched (or found in the Hub cache) and checked against its pinned sha256.

    A photo that cannot be had or does not match is left out (logged); the set is empty unless at least one person
    and one garment arrived.

    Args:
        endpoint: the Hub to ask (default: ``HF_ENDPOINT`` or huggingface.co).
        timeout: seconds to wait for the Hub per request.
        cached_only: only what the Hub cache holds already (no network: instant, for building the page).
    """
    from .. import hub

    def get(items: tuple[tuple[str, str], ...]) -> list[Path]:
        found = []
        for filename, sha256 in items:
            try:
                path = hub.download_repo_file(source.repo_id, filename, repo_type=source.repo_type,
                                              revision=source.revision, endpoint=endpoint, timeout=timeout,
                                              cached_only=cached_only)
            except (RuntimeError, ValueError) as exc:
                if not cached_only:
                    logger.warning("example %s from %s not available: %s", filename, source.repo_id, exc)
                if "offline" in str(exc):
                    break  # no network and not cached: the rest will not arrive either
                continue
            if _verified_sha256(path) != sha256:
                logger.warning("example %s from %s does not match its pinned sha256: left out", filename,
                               source.repo_id)
                continue
            found.append(path)
        return found

    persons = get(source.persons)
    garments = get(source.garments) if persons else []
    if not persons or not garments:
        return ExampleSet()
    return ExampleSet(persons, garments, source.credit(), real=True)


def hub_examples(repo_id: str | None = None) -> tuple[list[Path], list[Path]]:
    """Photographic examples from a Hub dataset with ``person/`` and ``garment/`` folders (cached; offline reuses
    the cache). Returns empty lists when no repo is configured or it cannot be had."""
    repo_id = repo_id or os.environ.get(EXAMPLES_REPO_ENV)
    if not repo_id:
        return [], []
    from .. import hub

    try:
        folder = hub.download_dataset(repo_id, allow_patterns=["person/*", "garment/*"])
    except (RuntimeError, ValueError) as exc:
        logger.warning("no Hub examples from %s: %s", repo_id, exc)
        return [], []

    def images(sub: str) -> list[Path]:
        return sorted(p for p in (folder / sub).glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)

    return images("person"), images("garment")


def example_set(setting: str | None = None, *, fetch: bool = True, endpoint: str | None = None) -> ExampleSet:
    """The examples the page shows, following ``VTON_ZOO_EXAMPLES`` (see the module docstring).

    Real photos when they can be had, else the drawn ones; never raises.

    Args:
        setting: ``VTON_ZOO_EXAMPLES``'s value (default: the environment's).
        fetch: ask the network for what the cache lacks (may take a while offline: the Hub client retries); with
            ``False`` only cached photos are used, instantly.
        endpoint: the Hub to ask (default: ``HF_ENDPOINT`` or huggingface.co).
    """
    setting = (setting if setting is not None else os.environ.get(EXAMPLES_ENV, "")).strip()
    repo_id = os.environ.get(EXAMPLES_REPO_ENV, "")
    if setting.startswith("hub:"):
        repo_id, setting = setting[4:], "hub"
    drawn_persons, drawn_garments = local_examples()
    if setting.lower() == "drawn":
        return ExampleSet(drawn_persons, drawn_garments, "Example photos: drawn by vton-zoo (MIT).")
    if repo_id:
        persons, garments = hub_examples(repo_id) if fetch or _hub_cached(repo_id) else ([], [])
        if persons and garments:
            credit = f"Example photos: the Hub dataset [{repo_id}](https://huggingface.co/datasets/{repo_id})."
            return ExampleSet(persons, garments, credit, real=True)
    elif setting.lower() in ("", "ootd"):
        real = fetch_remote(OOTD_EXAMPLES, endpoint=endpoint, cached_only=not fetch)
        if real.persons:
            return real
    else:
        logger.warning("%s=%r is not 'ootd', 'drawn' or 'hub:OWNER/NAME': showing the drawn examples",
                       EXAMPLES_ENV, setting)
    return ExampleSet(drawn_persons, drawn_garments, DRAWN_CREDIT)


def _hub_cached(repo_id: str) -> bool:
    """Whether a configured examples dataset is in the Hub cache (without asking the network)."""
    from huggingface_hub import scan_cache_dir

    try:
        return any(repo.repo_id == repo_id and repo.repo_type == "dataset" for repo in scan_cache_dir().repos)
    except Exception:  # noqa: BLE001 - no cache folder yet, unreadable cache: not cached
        return False


def fetch_in_background(setting: str | None = None, *, endpoint: str | None = None) -> threading.Thread:
    """Fetch the real example photos into the Hub cache in a daemon thread (the app starts without waiting; the
    page shows them from the next page load on)."""
    thread = threading.Thread(target=example_set, args=(setting,), kwargs={"fetch": True, "endpoint": endpoint},
                              name="vton-zoo-examples", daemon=True)
    thread.start()
    return thread


def examples() -> tuple[list[Path], list[Path]]:
    """``(persons, garments)`` of :func:`example_set` with what is at hand now (cached photos or drawn ones)."""
    found = example_set(fetch=False)
    return found.persons, found.garments


def allowed_paths() -> list[str]:
    """The folders the app may serve example photos from (Gradio's ``allowed_paths``): the drawn examples and the
    Hub cache folders of the configured example repositories, nothing wider."""
    from huggingface_hub import constants

    folders = {REPO_EXAMPLES}
    from ..weights import home

    folders.add(home() / "examples")
    cache = Path(constants.HF_HUB_CACHE)
    folders.add(cache / f"{OOTD_EXAMPLES.repo_type}s--{OOTD_EXAMPLES.repo_id.replace('/', '--')}")
    repo_id = os.environ.get(EXAMPLES_REPO_ENV, "") or os.environ.get(EXAMPLES_ENV, "").removeprefix("hub:")
    if repo_id.count("/") == 1:
        folders.add(cache / f"datasets--{repo_id.replace('/', '--')}")
    return sorted(str(f) for f in folders)
