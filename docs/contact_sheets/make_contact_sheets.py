"""Remake the README's tps-baseline contact sheets from redistributable images only.

    python docs/contact_sheets/make_contact_sheets.py

The persons and tops are the demo's own drawn examples (``examples/images``); the trousers, the skirt and the dress
are drawn here. ``python -m vton_zoo.eval photos`` runs tps-baseline over them (persons x garments) and its first
sheet of each run is copied next to this script: ``tps_baseline_tops.png`` and ``tps_baseline_bottoms_dresses.png``,
with ``*.md`` reports (checks and timings). The real development photos (../shared/samples/real) are not
redistributable: their sheets stay out of the repository.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

SIZE = (768, 1024)
BACKDROP = (246, 246, 244)


def _canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", SIZE, BACKDROP)
    return image, ImageDraw.Draw(image)


def _pattern(shape: Image.Image, fill: Image.Image) -> Image.Image:
    """``fill`` inside the white parts of the mask ``shape`` (mode L), the backdrop elsewhere."""
    out = Image.new("RGB", SIZE, BACKDROP)
    out.paste(fill, (0, 0), shape)
    return out


def draw_trousers() -> Image.Image:
    """Denim trousers: a waistband, two legs with a crotch, seams and a little shading."""
    mask = Image.new("L", SIZE, 0)
    d = ImageDraw.Draw(mask)
    d.polygon([(250, 110), (518, 110), (540, 930), (408, 930), (386, 380), (382, 380), (360, 930), (228, 930)],
              fill=255)
    w, h = SIZE
    x = np.arange(w, dtype=np.float32)[None, :, None]
    y = np.arange(h, dtype=np.float32)[:, None, None]
    base = np.array([52, 86, 140], np.float32)
    twill = 6 * np.sin((x + y) * 0.9)
    fold = 10 * np.cos((x - 384) / 60.0)
    denim = np.clip(base + twill + fold + 0 * y, 0, 255).astype(np.uint8)
    out = _pattern(mask, Image.fromarray(np.broadcast_to(denim, (h, w, 3)).copy()))
    d = ImageDraw.Draw(out)
    d.rectangle((250, 110, 518, 150), outline=(30, 50, 90), width=3)
    d.line([(384, 150), (384, 380)], fill=(30, 50, 90), width=3)
    for px in (272, 300, 468, 496):
        d.rectangle((px - 4, 110, px + 4, 152), fill=(40, 66, 112))
    d.ellipse((377, 124, 391, 138), fill=(200, 170, 90))
    return out


def draw_skirt() -> Image.Image:
    """A flared tartan skirt."""
    mask = Image.new("L", SIZE, 0)
    ImageDraw.Draw(mask).polygon([(270, 260), (498, 260), (600, 760), (168, 760)], fill=255)
    w, h = SIZE
    x = np.arange(w)[None, :]
    y = np.arange(h)[:, None]
    check = ((x // 40) % 2) ^ ((y // 40) % 2)
    tartan = np.where(check[..., None] > 0, [150, 30, 40], [120, 20, 30]).astype(np.float32)
    tartan = np.where(((x % 80) < 6)[..., None] | ((y % 80) < 6)[..., None], [230, 200, 90], tartan)
    out = _pattern(mask, Image.fromarray(tartan.astype(np.uint8)))
    ImageDraw.Draw(out).rectangle((270, 260, 498, 290), fill=(90, 15, 25))
    return out


def draw_dress() -> Image.Image:
    """A sleeveless dress with a fitted bodice and a flared skirt, dotted."""
    mask = Image.new("L", SIZE, 0)
    d = ImageDraw.Draw(mask)
    d.polygon([(300, 80), (340, 80), (384, 150), (428, 80), (468, 80), (490, 200), (470, 420), (610, 940),
               (158, 940), (298, 420), (278, 200)], fill=255)
    fill = Image.new("RGB", SIZE, (40, 110, 120))
    df = ImageDraw.Draw(fill)
    for row, cy in enumerate(range(60, 1000, 56)):
        for cx in range(20 + 28 * (row % 2), 768, 56):
            df.ellipse((cx - 9, cy - 9, cx + 9, cy + 9), fill=(240, 220, 170))
    out = _pattern(mask, fill)
    ImageDraw.Draw(out).line([(298, 420), (470, 420)], fill=(20, 70, 80), width=6)
    return out


def _run(persons: list[Path], garments: dict[str, Image.Image | Path], name: str) -> None:
    from vton_zoo.eval.photos import run_photos

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "persons").mkdir()
        (tmp / "garments").mkdir()
        for person in persons:
            shutil.copy(person, tmp / "persons" / person.name)
        for stem, garment in garments.items():
            if isinstance(garment, Path):
                shutil.copy(garment, tmp / "garments" / f"{stem}.png")
            else:
                garment.save(tmp / "garments" / f"{stem}.png")
        run_photos("tps-baseline", tmp / "persons", tmp / "garments", tmp / "out", pairs="all")
        shutil.copy(tmp / "out" / "sheets" / "sheet_01.png", HERE / f"{name}.png")
        shutil.copy(tmp / "out" / "report.md", HERE / f"{name}.md")
        print(HERE / f"{name}.png")


def main() -> None:
    images = ROOT / "examples" / "images"
    persons = [images / "person_a.png", images / "person_b.png", images / "person_c.png"]
    if not all(p.is_file() for p in persons):
        raise SystemExit(f"{images} lacks the drawn persons: run python examples/make_examples.py first")
    _run(persons[:2], {"dots": images / "garment_dots.png", "stripes": images / "garment_stripes.png",
                       "green_long": images / "garment_green_long.png"}, "tps_baseline_tops")
    _run(persons[1:], {"trousers": draw_trousers(), "skirt": draw_skirt(), "dress": draw_dress()},
         "tps_baseline_bottoms_dresses")


if __name__ == "__main__":
    main()
