"""Garment category from the product shot's shape: drawn garments, and the real development set (from ../shared)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests._parity import SHARED
from vton_zoo.preprocess.garment import garment_category, garment_mask

H, W = 512, 384
REAL = SHARED / "samples" / "real" / "garment"

# Outlines in relative coordinates (x, y).
DRAWN = {
    "t-shirt": ("upper", [(0.38, 0.12), (0.45, 0.15), (0.55, 0.15), (0.62, 0.12), (0.80, 0.18), (0.95, 0.38),
                          (0.82, 0.45), (0.76, 0.36), (0.76, 0.90), (0.24, 0.90), (0.24, 0.36), (0.18, 0.45),
                          (0.05, 0.38), (0.20, 0.18)]),
    "tube top": ("upper", [(0.15, 0.35), (0.85, 0.35), (0.85, 0.65), (0.15, 0.65)]),
    "a-line skirt": ("lower", [(0.32, 0.2), (0.68, 0.2), (0.8, 0.75), (0.2, 0.75)]),
    "pencil skirt": ("lower", [(0.3, 0.15), (0.7, 0.15), (0.72, 0.8), (0.28, 0.8)]),
    "mini skirt": ("lower", [(0.25, 0.3), (0.75, 0.3), (0.85, 0.7), (0.15, 0.7)]),
    "shorts": ("lower", [(0.2, 0.25), (0.8, 0.25), (0.85, 0.72), (0.53, 0.72), (0.5, 0.5), (0.47, 0.72),
                         (0.15, 0.72)]),
    "trousers": ("lower", [(0.3, 0.05), (0.7, 0.05), (0.72, 0.95), (0.53, 0.95), (0.5, 0.3), (0.47, 0.95),
                           (0.28, 0.95)]),
    "sleeveless dress": ("dress", [(0.38, 0.05), (0.45, 0.05), (0.5, 0.1), (0.55, 0.05), (0.62, 0.05), (0.66, 0.2),
                                   (0.64, 0.45), (0.72, 0.95), (0.28, 0.95), (0.36, 0.45), (0.34, 0.2)]),
}

# The development set's product shots, by what they show (VITON-HD NNNNN_00 shots are tops; DressCode 0485xx-0501xx
# upper-body, 0514xx-0519xx lower-body, 05199x-0537xx dresses).
TROUSERS = {"051412_1", "051473_1", "051515_1", "051517_1", "051827_1", "051946_1", "051988_1", "051991_1"}
DRESSES = {"051998_1", "052234_1", "053290_1", "053319_1", "053742_1", "053744_1", "053786_1", "053790_1"}


def _drawn(points) -> np.ndarray:
    canvas = Image.new("L", (W, H), 0)
    ImageDraw.Draw(canvas).polygon([(x * W, y * H) for x, y in points], fill=255)
    return np.asarray(canvas) > 127


@pytest.mark.parametrize("name", list(DRAWN))
def test_category_of_drawn_garments(name):
    category, outline = DRAWN[name]
    guess = garment_category(_drawn(outline))
    assert guess.category == category, (name, guess)
    if name in ("shorts", "trousers") or name.endswith("skirt"):
        assert guess.kind == name.split()[-1], guess
    # Mirrored and shifted, the shape says the same.
    assert garment_category(np.roll(_drawn(outline)[:, ::-1], 20, axis=1)).category == category


def test_category_reason_and_bad_masks():
    guess = garment_category(_drawn(DRAWN["trousers"][1]))
    assert "two legs" in guess.reason
    with pytest.raises(ValueError, match="empty"):
        garment_category(np.zeros((H, W), bool))
    with pytest.raises(ValueError, match="2-D"):
        garment_category(np.zeros((H, W, 3), bool))


@pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} not found (the real development photos live in ../shared)")
def test_category_of_the_real_product_shots():
    wrong = {}
    counts = {"upper": 0, "lower": 0, "dress": 0}
    for path in sorted(REAL.glob("*.jpg")):
        photo = Image.open(path).convert("RGB")
        photo.thumbnail((512, 512), Image.BOX)
        guess = garment_category(garment_mask(np.asarray(photo)))
        expected = "lower" if path.stem in TROUSERS else "dress" if path.stem in DRESSES else "upper"
        counts[guess.category] += 1
        if guess.category != expected:
            wrong[path.stem] = (guess.category, guess.reason)
    assert not wrong, wrong
    assert counts == {"upper": 26, "lower": 8, "dress": 8}
