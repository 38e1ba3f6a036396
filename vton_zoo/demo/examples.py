"""Example images the project may redistribute: person figures and garment product shots it draws itself.

There is no public-domain full-body photo inside the packages the demo installs: scikit-image's ``astronaut`` and
matplotlib's ``grace_hopper`` are head-and-shoulders portraits, which the person check rightly refuses (the hips
must be visible). So the person examples are drawn here: flat-shaded figures that MediaPipe Pose reads as a
person (front view, arms down, head to feet, 3:4 like VITON-HD). The garments are T-shirt product shots on a white
background, the input every method expects.

Richer photographic examples can be fetched from a Hugging Face dataset when online (``VTON_ZOO_EXAMPLES_REPO``,
see :func:`hub_examples`); they are cached, and the drawn ones stay the offline fallback.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

logger = logging.getLogger(__name__)

SIZE = (768, 1024)  # (W, H) of the drawn examples, VITON-HD's 3:4
REPO_EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "images"
EXAMPLES_REPO_ENV = "VTON_ZOO_EXAMPLES_REPO"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


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


def examples() -> tuple[list[Path], list[Path]]:
    """``(persons, garments)`` for the demo's galleries: Hub examples first when available, then the drawn ones."""
    hub_persons, hub_garments = hub_examples()
    persons, garments = local_examples()
    return hub_persons + persons, hub_garments + garments
