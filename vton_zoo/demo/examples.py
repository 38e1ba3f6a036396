"""The demo's example photos: real ones fetched at run time where their licence allows, drawn ones as the fallback.

**Real photos** come from a public repository whose licence allows showing them, fetched when the app starts and
cached (the Hugging Face Hub cache; offline, the cache is reused): by default VITON-HD test photos
(:data:`VITON_HD_EXAMPLES`: Choi et al., CVPR 2021, released under CC BY-NC 4.0, which allows non-commercial
redistribution with credit), as the Kolors Virtual Try-On Space serves them, pinned to one commit of that Space (a
commit's files cannot change). Files can also be pinned by sha256. Whatever arrives must pass the photo checks the
app applies to uploads, or it is left out. The page names the source, the licence and the paper beside the examples
(:attr:`ExampleSet.credit`). The photos are never copied into this repository or its packages, and none of them is
among the project's development photos (``../shared/samples``, whose terms keep them out of the demo).

Dress Code photos (lower garments, dresses) are not offered: that dataset is released only to those who sign its
licence agreement, so no redistributable lower-garment or dress photo is known; the category selector still works
with your own photos.

**Drawn examples** are the offline fallback: flat-shaded figures that MediaPipe Pose reads as a person (front view,
arms down, head to feet, 3:4 like VITON-HD) and T-shirt product shots on white, drawn here (MIT like the code).
There is no public-domain full-body photo inside the packages the demo installs (scikit-image's ``astronaut`` and
matplotlib's ``grace_hopper`` are head-and-shoulders portraits, which the person check rightly refuses).

Settings: ``VTON_ZOO_EXAMPLES`` = ``viton-hd`` (default: the real photos above, drawn ones when they cannot be had),
``drawn`` (drawn only, nothing fetched), or ``hub:OWNER/NAME`` (a Hub *dataset* with ``person/`` and ``garment/``
folders, e.g. your own; ``VTON_ZOO_EXAMPLES_REPO=OWNER/NAME`` means the same).
"""

from __future__ import annotations

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
    """Example photos in a public Hub repository (a Space or a dataset), pinned by commit or file by file.

    Attributes:
        repo_id, repo_type, revision: where the files are (``repo_type`` ``"space"`` or ``"dataset"``; a commit
            hash as ``revision`` pins every file).
        persons, garments: ``(path in the repo, sha256 or None)`` of each photo, in gallery order.
        title, url: how the page names and links the source.
        licence, licence_url: the licence the photos are published under.
        note: anything else the credit line must say (where the photos come from originally).
    """

    repo_id: str
    repo_type: str
    revision: str
    persons: tuple[tuple[str, str | None], ...]
    garments: tuple[tuple[str, str | None], ...]
    title: str
    url: str
    licence: str
    licence_url: str
    note: str = ""

    def credit(self) -> str:
        extra = f" ({self.note})" if self.note else ""
        return (f"Example photos: {self.title}{extra}, [{self.licence}]({self.licence_url}): non-commercial use; "
                f"served by [{self.repo_id}]({self.url}), fetched at run time, not part of vton-zoo.")


# VITON-HD test photos (named as in the dataset: person and top share the number of their pair), as the Kolors Virtual
# Try-On Space serves them at one commit. VITON-HD's README: "All material is made available under Creative Commons
# BY-NC 4.0 ... use, redistribute, and adapt the material for non-commercial purposes, as long as you give
# appropriate credit by citing our paper". Upper-body garments only (VITON-HD has no others). No sha256 is pinned
# (none could be read from this offline machine); the commit pins the bytes.
VITON_HD_EXAMPLES = RemoteExamples(
    repo_id="Kwai-Kolors/Kolors-Virtual-Try-On", repo_type="space",
    revision="b453f9d841c9a96099fd07361c1d84436d920d70",
    persons=tuple((f"assets/human/{name}.jpg", None) for name in
                  ("00035_00", "00121_00", "00034_00", "01992_00")),
    garments=tuple((f"assets/cloth/{name}.jpg", None) for name in
                   ("04469_00", "04743_00", "09133_00", "09163_00", "09166_00", "09236_00", "09290_00", "09305_00",
                    "14673_00")),
    title="VITON-HD test photos (Choi et al., VITON-HD, CVPR 2021)",
    url="https://huggingface.co/spaces/Kwai-Kolors/Kolors-Virtual-Try-On",
    licence="CC BY-NC 4.0", licence_url="https://creativecommons.org/licenses/by-nc/4.0/",
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


_VERIFIED: dict[tuple[str, int, int], str] = {}  # (path, mtime_ns, size) -> sha256, so page loads hash once


def _verified_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _VERIFIED:
        from ..hub import sha256_file

        _VERIFIED[key] = sha256_file(path)
    return _VERIFIED[key]


def fetch_remote(source: RemoteExamples = VITON_HD_EXAMPLES, *, endpoint: str | None = None,
                 timeout: float = 10.0, cached_only: bool = False) -> ExampleSet:
    """The photos of ``source``, each fetched (or found in the Hub cache) and checked: against its pinned sha256
    when it has one, and always with the checks an upload gets (an image, within the size limits).

    A photo that cannot be had or fails a check is left out (logged); the set is empty unless at least one person
    and one garment arrived.

    Args:
        endpoint: the Hub to ask (default: ``HF_ENDPOINT`` or huggingface.co).
        timeout: seconds to wait for the Hub per request.
        cached_only: only what the Hub cache holds already (no network: instant, for building the page).
    """
    from .. import hub

    def get(items: tuple[tuple[str, str | None], ...], role: str) -> list[Path]:
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
            if sha256 is not None and _verified_sha256(path) != sha256:
                logger.warning("example %s from %s does not match its pinned sha256: left out", filename,
                               source.repo_id)
                continue
            try:
                _checked_photo(path, role)
            except ValueError as exc:
                logger.warning("example %s from %s is not a usable photo: left out (%s)", filename, source.repo_id,
                               exc)
                continue
            found.append(path)
        return found

    persons = get(source.persons, "person")
    garments = get(source.garments, "garment") if persons else []
    if not persons or not garments:
        return ExampleSet()
    return ExampleSet(persons, garments, source.credit(), real=True)


_CHECKED: dict[tuple[str, int, int], str] = {}  # (path, mtime_ns, size) -> "" (fine) or the refusal


def _checked_photo(path: Path, role: str) -> None:
    """The upload checks (format, size, megapixels; header only) on a fetched photo, remembered per file version."""
    from ..preprocess.io import probe_image

    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _CHECKED:
        try:
            probe_image(path, role=role, name=path.name)
            _CHECKED[key] = ""
        except ValueError as exc:
            _CHECKED[key] = str(exc)
    if _CHECKED[key]:
        raise ValueError(_CHECKED[key])


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
    elif setting.lower() in ("", "viton-hd"):
        real = fetch_remote(VITON_HD_EXAMPLES, endpoint=endpoint, cached_only=not fetch)
        if real.persons:
            return real
    else:
        logger.warning("%s=%r is not 'viton-hd', 'drawn' or 'hub:OWNER/NAME': showing the drawn examples",
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
    folders.add(cache / f"{VITON_HD_EXAMPLES.repo_type}s--{VITON_HD_EXAMPLES.repo_id.replace('/', '--')}")
    repo_id = os.environ.get(EXAMPLES_REPO_ENV, "") or os.environ.get(EXAMPLES_ENV, "").removeprefix("hub:")
    if repo_id.count("/") == 1:
        folders.add(cache / f"datasets--{repo_id.replace('/', '--')}")
    return sorted(str(f) for f in folders)
