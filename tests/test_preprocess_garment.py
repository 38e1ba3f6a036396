"""Garment mask and garment parts: measured against the datasets' own masks, and on synthetic product shots."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vton_zoo.preprocess.garment import garment_mask, garment_parts, garment_parts_label

VITON_GARMENTS = ["003434_1", "006026_1", "010567_1", "014396_1", "017575_1", "019119_1"]
VITON_HD_GARMENTS = ["00017_00", "00205_00"]
LONG_SLEEVES = {"003434_1", "006026_1", "010567_1"}
SHORT_SLEEVES = {"014396_1", "019119_1", "00017_00"}
SLEEVELESS = {"017575_1"}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def _dataset_pair(shared_dir, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The garment photo and the dataset's mask (binarised > 127, the JPEG noise removed)."""
    if name in VITON_HD_GARMENTS:
        photo = shared_dir / "samples/viton_hd/test/cloth" / f"{name}.jpg"
        mask = shared_dir / "samples/viton_hd/test/cloth-mask" / f"{name}.jpg"
    else:
        photo = shared_dir / "samples/viton/test_clothes" / f"{name}.jpg"
        mask = shared_dir / "samples/viton/test_edge" / f"{name}.jpg"
    return np.asarray(Image.open(photo).convert("RGB")), np.asarray(Image.open(mask).convert("L")) > 127


# --- garment_mask against the datasets' masks --------------------------------------------------------------------


@pytest.mark.parametrize("name", VITON_GARMENTS + VITON_HD_GARMENTS)
def test_garment_mask_matches_dataset_mask(shared_dir, name):
    photo, expected = _dataset_pair(shared_dir, name)
    mask = garment_mask(photo)
    assert mask.dtype == np.bool_ and mask.shape == expected.shape
    iou = _iou(mask, expected)
    print(f"garment mask IoU {name}: {iou:.4f}")
    assert iou >= 0.95


def test_garment_mask_from_path(shared_dir):
    path = shared_dir / "samples/viton/test_clothes/014396_1.jpg"
    _, expected = _dataset_pair(shared_dir, "014396_1")
    assert _iou(garment_mask(path), expected) >= 0.95


# --- synthetic product shots --------------------------------------------------------------------------------------

H, W = 512, 384
# A T-shirt outline in relative coordinates: torso x in [0.24, 0.76], sleeves outside it.
TSHIRT = [
    (0.38, 0.12),
    (0.45, 0.15),
    (0.55, 0.15),
    (0.62, 0.12),
    (0.80, 0.18),
    (0.95, 0.38),
    (0.82, 0.45),
    (0.76, 0.36),
    (0.76, 0.90),
    (0.24, 0.90),
    (0.24, 0.36),
    (0.18, 0.45),
    (0.05, 0.38),
    (0.20, 0.18),
]


def _polygon_mask(points, height: int = H, width: int = W) -> np.ndarray:
    canvas = Image.new("L", (width, height), 0)
    ImageDraw.Draw(canvas).polygon([(x * width, y * height) for x, y in points], fill=255)
    return np.asarray(canvas) > 127


def _product_shot(background: np.ndarray, mask: np.ndarray, colour=(40, 90, 160), jpeg: bool = True) -> np.ndarray:
    """The garment painted with soft folds and a white logo (the logo must end up inside the mask), JPEG-encoded."""
    height, width = mask.shape
    folds = 1.0 + 0.15 * np.sin(np.arange(width) / 13.0)[None, :, None]
    garment = np.asarray(colour, np.float32) * folds
    image = np.where(mask[..., None], garment, background.astype(np.float32))
    logo = np.zeros_like(mask)
    logo[int(0.45 * height) : int(0.55 * height), int(0.4 * width) : int(0.6 * width)] = True
    image[logo & mask] = 250.0
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    if not jpeg:
        return image
    import io

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=90)
    return np.asarray(Image.open(buffer).convert("RGB"))


def _backgrounds(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    off_white = np.broadcast_to(np.asarray([242, 236, 224], np.float32), (H, W, 3))
    blotches = np.asarray(
        Image.fromarray(rng.integers(0, 256, (H // 16, W // 16), dtype=np.uint8)).resize((W, H), Image.BICUBIC),
        np.float32,
    )
    textured = off_white + rng.normal(0.0, 4.0, (H, W, 3)) + (blotches[..., None] / 255.0 - 0.5) * 16.0
    rows, cols = np.mgrid[0:H, 0:W].astype(np.float32)
    gradient = np.stack([215 + 35 * rows / H + 10 * cols / W] * 3, axis=-1)  # a studio backdrop's light fall-off
    return {
        "white": np.full((H, W, 3), 255.0, np.float32),
        "light-grey": np.full((H, W, 3), 246.0, np.float32),
        "off-white": off_white,
        "textured": np.clip(textured, 0, 255),
        "gradient": gradient,
    }


@pytest.mark.parametrize("background", ["white", "light-grey", "off-white", "textured", "gradient"])
@pytest.mark.parametrize("colour", [(40, 90, 160), (170, 30, 40), (20, 20, 20), (235, 190, 150)])
def test_garment_mask_on_plain_backgrounds(background, colour):
    expected = _polygon_mask(TSHIRT)
    photo = _product_shot(_backgrounds()[background], expected, colour)
    mask = garment_mask(photo)
    iou = _iou(mask, expected)
    assert iou >= 0.97, f"{background} {colour}: IoU {iou:.4f}"
    # The white logo on the chest is garment (hole filling), not background.
    assert mask[int(0.5 * H), int(0.5 * W)]


def test_garment_mask_keeps_a_garment_touching_the_border():
    # Long sleeves cut by the left and right edges of the photo.
    expected = _polygon_mask([(0.0, 0.2), (1.0, 0.2), (1.0, 0.4), (0.75, 0.4), (0.75, 0.9), (0.25, 0.9), (0.25, 0.4),
                              (0.0, 0.4)])  # fmt: skip
    mask = garment_mask(_product_shot(_backgrounds()["white"], expected))
    assert _iou(mask, expected) >= 0.97


def test_garment_mask_rgba_cutout_and_large_photo():
    # A transparent-background cutout (composited on white by load_image), at 1600x1200: segmented at a reduced
    # working size and scaled back to the photo's size.
    expected = _polygon_mask(TSHIRT, 1600, 1200)
    rgba = np.zeros((1600, 1200, 4), np.uint8)
    rgba[expected] = (120, 60, 30, 255)
    mask = garment_mask(rgba)
    assert mask.shape == (1600, 1200)
    assert _iou(mask, expected) >= 0.98


def _busy_backgrounds(seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    blocks = Image.fromarray(rng.integers(0, 256, (12, 9, 3), dtype=np.uint8)).resize((W, H), Image.NEAREST)
    rows, cols = np.mgrid[0:H, 0:W]
    stripes = np.where(((rows // 12 + cols // 12) % 2)[..., None] == 0, [200, 40, 40], [240, 230, 60])
    scene = Image.new("RGB", (W, H), (150, 140, 120))  # a "room": shelves, a window, a sofa
    draw = ImageDraw.Draw(scene)
    for _ in range(40):
        x, y, width, height = rng.integers(0, W), rng.integers(0, H), rng.integers(20, 120), rng.integers(20, 120)
        draw.rectangle([x, y, x + width, y + height], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return {
        "noise": rng.integers(0, 256, (H, W, 3)).astype(np.float32),
        "blocks": np.asarray(blocks, np.float32),
        "checkerboard": stripes.astype(np.float32),
        "scene": np.asarray(scene, np.float32),
    }


@pytest.mark.parametrize("background", ["noise", "blocks", "checkerboard", "scene"])
def test_garment_on_busy_background_is_refused(background):
    photo = _product_shot(_busy_backgrounds()[background], _polygon_mask(TSHIRT))
    with pytest.raises(ValueError, match=r"^garment photo has a busy background"):
        garment_mask(photo)


def test_no_garment_in_a_blank_photo():
    with pytest.raises(ValueError, match="no garment found"):
        garment_mask(np.full((H, W, 3), 250, np.uint8))


def test_garment_mask_rejects_bad_images():
    with pytest.raises(ValueError, match="^garment image is too small"):
        garment_mask(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="^garment image array contains NaN"):
        garment_mask(np.full((64, 64, 3), np.nan, np.float32))


# --- garment parts --------------------------------------------------------------------------------------------------


def _centroid_x(mask: np.ndarray) -> float:
    return float(np.nonzero(mask)[1].mean())


def _assert_partition(mask, left, torso, right):
    for part in (left, torso, right):
        assert part.dtype == np.bool_ and part.shape == mask.shape
    assert not (left & torso).any() and not (left & right).any() and not (torso & right).any()
    np.testing.assert_array_equal(left | torso | right, mask)


@pytest.mark.parametrize("name", VITON_GARMENTS + VITON_HD_GARMENTS)
def test_parts_of_dataset_masks(shared_dir, name):
    _, mask = _dataset_pair(shared_dir, name)
    left, torso, right = garment_parts(mask)
    _assert_partition(mask, left, torso, right)
    area = mask.sum()
    shares = left.sum() / area, torso.sum() / area, right.sum() / area
    print(f"garment parts {name}: left {shares[0]:.3f} torso {shares[1]:.3f} right {shares[2]:.3f}")
    # The wearer's right sleeve is on the image-left, the left sleeve on the image-right.
    if left.any():
        assert _centroid_x(left) > _centroid_x(torso)
    if right.any():
        assert _centroid_x(right) < _centroid_x(torso)
    if name in LONG_SLEEVES:
        assert min(shares[0], shares[2]) >= 0.12 and shares[1] >= 0.5
        # A long sleeve runs most of the garment's height.
        rows = np.nonzero(mask.any(axis=1))[0]
        for sleeve in (left, right):
            sleeve_rows = np.nonzero(sleeve.any(axis=1))[0]
            assert sleeve_rows.max() - sleeve_rows.min() >= 0.6 * (rows.max() - rows.min())
    elif name in SHORT_SLEEVES:
        assert 0.03 <= shares[0] <= 0.2 and 0.03 <= shares[2] <= 0.2
        assert abs(shares[0] - shares[2]) <= 0.04  # front-facing shots are about symmetric
    elif name in SLEEVELESS:
        assert shares[1] == 1.0


def test_parts_of_a_drawn_tshirt_and_its_mirror():
    mask = _polygon_mask(TSHIRT)
    left, torso, right = garment_parts(mask)
    _assert_partition(mask, left, torso, right)
    columns = np.arange(W)[None, :]
    drawn_left = mask & (columns > 0.76 * W)  # image-right of the torso: the wearer's left sleeve
    drawn_right = mask & (columns < 0.24 * W)
    assert _iou(left, drawn_left) >= 0.9 and _iou(right, drawn_right) >= 0.9
    # Mirroring the garment swaps the sleeves.
    mirrored = garment_parts(mask[:, ::-1])
    np.testing.assert_array_equal(mirrored[0], right[:, ::-1])
    np.testing.assert_array_equal(mirrored[2], left[:, ::-1])


def test_parts_of_a_tank_top_and_a_v_neck():
    tank = _polygon_mask([(0.35, 0.1), (0.42, 0.1), (0.5, 0.2), (0.58, 0.1), (0.65, 0.1), (0.7, 0.3), (0.72, 0.9),
                          (0.28, 0.9), (0.3, 0.3)])  # fmt: skip
    left, torso, right = garment_parts(tank)
    assert not left.any() and not right.any()
    np.testing.assert_array_equal(torso, tank)
    v_neck = [point for point in TSHIRT if point not in ((0.45, 0.15), (0.55, 0.15))]
    v_neck.insert(1, (0.5, 0.4))  # a deep V: the neckline reaches below the armpits
    mask = _polygon_mask(v_neck)
    left, torso, right = garment_parts(mask)
    _assert_partition(mask, left, torso, right)
    columns = np.arange(W)[None, :]
    assert _iou(left, mask & (columns > 0.76 * W)) >= 0.9 and _iou(right, mask & (columns < 0.24 * W)) >= 0.9


def test_parts_by_columns_reproduce_the_parity_fixture(shared_dir):
    fixture = np.load(shared_dir / "fixtures/parity/gp-vton/inputs.npz")
    for i in range(fixture["edge"].shape[0]):
        left, torso, right = garment_parts(fixture["edge"][i, 0], method="columns")
        np.testing.assert_array_equal(left, fixture["left_mask"][i, 0] > 0.5)
        np.testing.assert_array_equal(torso, fixture["torso_mask"][i, 0] > 0.5)
        np.testing.assert_array_equal(right, fixture["right_mask"][i, 0] > 0.5)
        np.testing.assert_array_equal(garment_parts_label(left, torso, right), fixture["flat_clothes_label"][i, 0])


def test_parts_label_values():
    mask = _polygon_mask(TSHIRT)
    label = garment_parts_label(*garment_parts(mask))
    assert label.dtype == np.float32 and label.shape == mask.shape
    np.testing.assert_allclose(np.unique(label), [0, 1 / 3, 2 / 3, 1], rtol=1e-6)
    assert label[int(0.4 * H), int(0.9 * W)] == pytest.approx(1 / 3)  # image-right sleeve = wearer's left = 1/3
    assert label[int(0.4 * H), int(0.1 * W)] == pytest.approx(1.0)
    assert label[int(0.6 * H), int(0.5 * W)] == pytest.approx(2 / 3)


def test_parts_from_a_product_shot_end_to_end(shared_dir):
    photo, _ = _dataset_pair(shared_dir, "00017_00")
    left, torso, right = garment_parts(garment_mask(photo))
    assert left.sum() > 0.05 * torso.sum() and right.sum() > 0.05 * torso.sum()


def test_parts_reject_bad_masks():
    with pytest.raises(ValueError, match="empty"):
        garment_parts(np.zeros((64, 48), bool))
    with pytest.raises(ValueError, match="2-D"):
        garment_parts(np.ones((64, 48, 3), bool))
    with pytest.raises(ValueError, match="method"):
        garment_parts(np.ones((64, 48), bool), method="magic")
    with pytest.raises(ValueError, match="differ in shape"):
        garment_parts_label(np.ones((4, 4), bool), np.ones((4, 5), bool), np.ones((4, 4), bool))
