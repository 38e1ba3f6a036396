"""Garment mask and garment parts: measured against the datasets' own masks, and on synthetic product shots."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

from vton_zoo.preprocess.garment import check_garment_photo, garment_mask, garment_parts, garment_parts_label

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


PERSON_PHOTOS = [f"viton/test_img/{name}.jpg" for name in ("000066_0", "004912_0", "005510_0", "014834_0",
                                                            "015794_0", "016962_0")] + [
    f"viton_hd/test/image/{name}.jpg" for name in ("00000_00", "00017_00")]  # fmt: skip


def _jpeg(image: np.ndarray, quality: int = 90) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(np.clip(np.rint(image), 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


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
    return _jpeg(image)


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


# --- pale garments and pale parts -----------------------------------------------------------------------------------


def _pale_shot(background, mask: np.ndarray, colour, shade: float = 3.0, parts=()) -> np.ndarray:
    """A garment barely darker than the backdrop, with soft diagonal folds of +-``shade`` levels; ``parts`` are
    ``(region, colour)`` pairs painted over it (prints, two-tone sleeves, a hem band). JPEG-encoded."""
    rows, cols = np.mgrid[0:H, 0:W]
    folds = shade * np.sin(cols / 11.0 + rows / 29.0)[..., None]
    image = np.broadcast_to(np.asarray(background, np.float32), (H, W, 3)).copy()
    image[mask] = (np.asarray(colour, np.float32) + folds)[mask]
    for region, part_colour in parts:
        image[region & mask] = (np.asarray(part_colour, np.float32) + folds)[region & mask]
    return _jpeg(image)


_ROWS, _COLS = np.arange(H)[:, None], np.arange(W)[None, :]
_LOGO = (_ROWS > 0.4 * H) & (_ROWS < 0.6 * H) & (_COLS > 0.35 * W) & (_COLS < 0.65 * W)
_SLEEVES = (_COLS < 0.24 * W) | (_COLS > 0.76 * W)
_HEM = np.broadcast_to(_ROWS > 0.72 * H, (H, W))
NAVY, WHITE = (30, 40, 90), (247, 247, 247)
PALE_CASES = {
    "white on white": ((255, 255, 255), WHITE, ()),
    "flat white on white": ((255, 255, 255), (251, 251, 251), ()),  # 4 levels below the backdrop, no folds
    "cream on off-white": ((242, 236, 224), (234, 228, 215), ()),
    "white on light grey": ((238, 238, 238), (250, 250, 250), ()),  # lighter than the backdrop
    "white with a dark print": ((255, 255, 255), WHITE, ((_LOGO, NAVY),)),
    "white torso, navy sleeves": ((255, 255, 255), WHITE, ((_SLEEVES, NAVY),)),
    "navy with a white hem band": ((255, 255, 255), NAVY, ((_HEM, WHITE),)),
}


@pytest.mark.parametrize("case", list(PALE_CASES))
def test_garment_mask_of_pale_garments_and_pale_parts(case):
    # Colour distances of 4-15 to the backdrop, under the main threshold of 12 over much of the garment.
    background, colour, parts = PALE_CASES[case]
    expected = _polygon_mask(TSHIRT)
    shade = 0.0 if case.startswith("flat") else 3.0
    mask = garment_mask(_pale_shot(background, expected, colour, shade, parts))
    iou = _iou(mask, expected)
    print(f"pale garment {case}: IoU {iou:.4f}")
    assert iou >= 0.98, f"{case}: IoU {iou:.4f}"


@pytest.mark.parametrize("name", VITON_GARMENTS + VITON_HD_GARMENTS)
def test_garment_mask_of_dataset_garments_made_pale(shared_dir, name):
    # The dataset garment with its contrast to the backdrop cut to 3% (real outlines, prints and folds, but a dark
    # garment now 5-11 levels off the backdrop): found through the pale-part path, measured against the dataset mask.
    photo, expected = _dataset_pair(shared_dir, name)
    backdrop = np.median(np.concatenate([photo[0], photo[-1]]), axis=0)
    pale = _jpeg(backdrop - 0.03 * (backdrop - photo.astype(np.float32)))
    iou = _iou(garment_mask(pale), expected)
    print(f"pale version of {name}: IoU {iou:.4f}")
    assert iou >= 0.94


def test_garment_mask_of_a_striped_top_on_white():
    # Navy and white stripes on a white backdrop: the white stripes reach the garment's sides, where nothing tells
    # them from the backdrop; the mask must still hold them (it dropped every white stripe at the sides).
    expected = _polygon_mask(TSHIRT)
    stripes = (np.arange(H)[:, None] // 14) % 2 == 0
    image = np.full((H, W, 3), 246.0, np.float32)
    image[expected] = (30, 40, 90)
    image[expected & np.broadcast_to(stripes, (H, W))] = 246.0
    mask = garment_mask(_jpeg(image))
    # Where a white stripe ends on a slanted edge (the sleeves) or at the hem, its end cannot be seen: a staircase.
    assert _iou(mask, expected) >= 0.95
    torso = (slice(int(0.4 * H), int(0.85 * H)), slice(int(0.25 * W), int(0.75 * W)))
    assert mask[torso].mean() >= 0.99


def test_garment_mask_of_a_soft_white_tee_with_a_print():
    # A white T-shirt 4 levels brighter than a white backdrop, its outline softened (a 2 px blur, as after resizing
    # a JPEG) and shaded, with a large dark print: most of it was left out.
    expected = _polygon_mask(TSHIRT)
    rows, cols = np.mgrid[0:H, 0:W]
    image = np.full((H, W, 3), 246.0, np.float32)
    image[expected] = 250.0
    image = ndi.gaussian_filter(image, (2.0, 2.0, 0))
    image += np.where(expected, 2.0 * np.sin(cols / 9.0 + rows / 23.0), 0.0)[..., None]
    logo = (rows > 0.3 * H) & (rows < 0.7 * H) & (cols > 0.35 * W) & (cols < 0.65 * W)
    image[logo] = (200, 30, 40)
    mask = garment_mask(_jpeg(image))
    assert _iou(mask, expected) >= 0.97


def _backdrop_shading() -> dict[str, np.ndarray]:
    """Smooth, edgeless darkening of a 250 backdrop: a soft drop shadow of the T-shirt and a dim spot in a corner."""
    rows, cols = np.mgrid[0:H, 0:W].astype(np.float32)
    shirt = _polygon_mask(TSHIRT).astype(np.float32)
    shadow = ndi.gaussian_filter(np.roll(shirt, (12, 12), axis=(0, 1)), 12.0) * 6.0
    spot = 6.0 * np.exp(-(((rows - 0.85 * H) / (0.06 * H)) ** 2 + ((cols - 0.12 * W) / (0.08 * W)) ** 2))
    return {"drop shadow": 250.0 - shadow, "dim spot": 250.0 - spot}


@pytest.mark.parametrize("shading", ["drop shadow", "dim spot"])
@pytest.mark.parametrize("pale", [False, True], ids=["dark garment", "pale garment"])
def test_backdrop_shading_is_not_garment(shading, pale):
    # Shading 3-6 levels deep is above the pale threshold but has no crisp outline: it must stay backdrop.
    expected = _polygon_mask(TSHIRT)
    backdrop = np.repeat(_backdrop_shading()[shading][..., None], 3, axis=2)
    photo = _pale_shot(backdrop, expected, (240, 240, 238)) if pale else _product_shot(backdrop, expected)
    mask = garment_mask(photo)
    assert _iou(mask, expected) >= 0.98
    away = ndi.distance_transform_edt(~expected) > 3
    assert (mask & away).sum() <= 20, f"{(mask & away).sum()} backdrop pixels in the mask"


def test_no_garment_in_a_blank_photo():
    with pytest.raises(ValueError, match="no garment found"):
        garment_mask(np.full((H, W, 3), 250, np.uint8))


def test_garment_mask_rejects_bad_images():
    with pytest.raises(ValueError, match="^garment image is too small"):
        garment_mask(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="^garment image array contains NaN"):
        garment_mask(np.full((64, 64, 3), np.nan, np.float32))


# --- garment photo checks ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", VITON_GARMENTS + VITON_HD_GARMENTS)
def test_check_accepts_dataset_garments(shared_dir, name):
    photo, _ = _dataset_pair(shared_dir, name)
    check_garment_photo(photo)


def test_check_accepts_synthetic_product_shots():
    for background in _backgrounds().values():
        check_garment_photo(_product_shot(background, _polygon_mask(TSHIRT)))
    touching = _polygon_mask([(0.0, 0.2), (1.0, 0.2), (1.0, 0.4), (0.75, 0.4), (0.75, 0.9), (0.25, 0.9),
                              (0.25, 0.4), (0.0, 0.4)])  # fmt: skip
    check_garment_photo(_product_shot(_backgrounds()["white"], touching))  # sleeves cut by the photo's edges
    check_garment_photo(_pale_shot((255, 255, 255), _polygon_mask(TSHIRT), WHITE))


def test_check_does_not_take_a_printed_figure_for_a_person(shared_dir):
    # A close-up of 003434_1's print on a white margin: MediaPipe Pose finds a small, upside-down "body" in it.
    photo, _ = _dataset_pair(shared_dir, "003434_1")
    close_up = photo[int(0.2 * 256) : int(0.8 * 256), int(0.2 * 192) : int(0.8 * 192)]
    check_garment_photo(np.pad(close_up, ((10, 10), (10, 10), (0, 0)), constant_values=255))


@pytest.mark.parametrize("person", ["viton_hd/test/image/00000_00.jpg", "viton/test_img/000066_0.jpg"])
def test_check_does_not_take_a_photo_print_for_a_person(shared_dir, person):
    # A black T-shirt whose front is a large photo print of a person: MediaPipe finds an upright, big "person" in it
    # (the check refused such shots), but the figure's head lies inside the garment's silhouette.
    photo = np.full((1024, 768, 3), 250, np.uint8)
    shirt = _polygon_mask(TSHIRT, 1024, 768)
    photo[shirt] = (20, 20, 22)
    print_ = np.asarray(Image.open(shared_dir / "samples" / person).convert("RGB").resize((499, 665)))
    inside = shirt[256:921, 134:633]
    photo[256:921, 134:633][inside] = print_[inside]
    check_garment_photo(photo)


@pytest.mark.parametrize("path", PERSON_PHOTOS)
def test_check_rejects_person_photos(shared_dir, path):
    with pytest.raises(ValueError, match=r"^garment photo shows a person.*product photo of the garment alone"):
        check_garment_photo(shared_dir / "samples" / path)


def test_check_rejects_a_person_on_a_busy_background(shared_dir):
    # The VITON-HD person cut out with the dataset's own parse and put in front of a cluttered room: the person
    # message, not the background one.
    person = np.asarray(Image.open(shared_dir / "samples/viton_hd/test/image/00000_00.jpg").convert("RGB"))
    parse = np.asarray(Image.open(shared_dir / "samples/viton_hd/test/image-parse-v3/00000_00.png")) > 0
    room = np.asarray(Image.fromarray(_busy_backgrounds()["scene"].astype(np.uint8)).resize(parse.shape[::-1]))
    with pytest.raises(ValueError, match="^garment photo shows a person"):
        check_garment_photo(np.where(parse[..., None], person, room))


@pytest.mark.parametrize("background", ["noise", "blocks", "checkerboard", "scene"])
def test_check_rejects_busy_backgrounds(background):
    photo = _product_shot(_busy_backgrounds()[background], _polygon_mask(TSHIRT))
    with pytest.raises(ValueError, match=r"^garment photo has a busy background.*product photo.*plain"):
        check_garment_photo(photo)


@pytest.mark.parametrize("name", VITON_GARMENTS + VITON_HD_GARMENTS)
def test_check_rejects_a_garment_filling_the_frame(shared_dir, name):
    # A band across the middle of the garment (40% of its height, the photo's full width): the garment covers 40-70%
    # of the photo's border, so the border is no plain backdrop.
    photo, mask = _dataset_pair(shared_dir, name)
    rows = np.nonzero(mask.any(axis=1))[0]
    top, bottom = rows[0] + int(0.3 * (rows[-1] - rows[0])), rows[0] + int(0.7 * (rows[-1] - rows[0]))
    band = mask[top:bottom]
    assert np.concatenate([band[0], band[-1], band[:, 0], band[:, -1]]).mean() >= 0.4
    with pytest.raises(ValueError, match=r"^garment photo has a busy background.*plain"):
        check_garment_photo(photo[top:bottom])


def test_check_rejects_bad_images():
    with pytest.raises(ValueError, match="^garment image is too small"):
        check_garment_photo(np.zeros((8, 8, 3), np.uint8))


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


def test_parts_label_divisor_overlaps_and_float_masks():
    left, torso, right = garment_parts(_polygon_mask(TSHIRT))
    dresscode = garment_parts_label(left, torso, right, divisor=6.0)
    np.testing.assert_allclose(np.unique(dresscode), [0, 1 / 6, 2 / 6, 3 / 6], rtol=1e-6)
    np.testing.assert_array_equal(dresscode * 2, garment_parts_label(left, torso, right))
    # Overlapping parts: the sleeves win over the torso, the left sleeve over the right one; float masks (> 0.5).
    full, empty = np.ones((4, 4), np.float32), np.zeros((4, 4), np.float32)
    np.testing.assert_allclose(garment_parts_label(empty, full, full), 1.0)
    np.testing.assert_allclose(garment_parts_label(full, full, full), 1 / 3)


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


@pytest.mark.parametrize("opencv", [True, False], ids=["opencv", "scipy"])
def test_within_is_the_octagon_of_the_two_distance_transforms(opencv, monkeypatch):
    """``_within`` (a square's dilation, cut by the city-block distance) gives exactly the pixels within a chessboard
    distance r and a city-block distance r sqrt 2 of the mask, at any radius and at the edges: with OpenCV's dilations
    where it is installed, and with SciPy's running maxima and distance transform where it is not."""
    from scipy import ndimage as ndi

    from vton_zoo.preprocess import garment

    if opencv and garment._cv2 is None:
        pytest.skip("OpenCV is not installed")
    if not opencv:
        monkeypatch.setattr(garment, "_cv2", None)
    rng = np.random.default_rng(0)
    for _ in range(60):
        h, w = rng.integers(5, 60, 2)
        mask = rng.random((h, w)) < rng.uniform(0.002, 0.2)
        if not mask.any():
            mask[rng.integers(h), rng.integers(w)] = True
        for radius in (0.5, 1.0, 1.5, 2.0, 4.7, 12.3):
            expected = (ndi.distance_transform_cdt(~mask, "chessboard") <= radius) & (
                ndi.distance_transform_cdt(~mask, "taxicab") <= radius * 1.4142)
            assert np.array_equal(garment._within(mask, radius), expected), (h, w, radius)
    assert not garment._within(np.zeros((4, 4), bool), 3.0).any()


@pytest.mark.parametrize("name", ["049805_1", "050191_1"])
def test_garment_mask_leaves_out_the_drop_shadow_under_the_hem(shared_dir, name):
    """A purple sweatshirt and a green T-shirt shot with a soft grey shadow under the hem: the mask ends at the
    fabric's hem, not below it (before: a band of the grey shadow, 8 px at 1024x768, was the garment's, and was worn
    as a grey line under the hem; 77 % / 32 % of the mask's bottom edge band was grey, now under 10 %)."""
    path = shared_dir / "samples/real/garment" / f"{name}.jpg"
    if not path.exists():
        pytest.skip(f"the development garments are not in {path.parent}")
    photo = np.asarray(Image.open(path).convert("RGB"))
    mask = garment_mask(photo)
    # The mask's bottom band: mask pixels with the backdrop at most 5 px below them.
    below = np.zeros_like(mask)
    for step in range(1, 6):
        below[:-step] |= ~mask[step:]
    band = mask & below
    pixels = photo[band].astype(int)
    grey = float(((pixels.max(1) - pixels.min(1)) < 12).mean())
    assert band.sum() > 1000
    assert grey < 0.1, grey


def test_drop_shadow_left_out_on_a_drawn_shot():
    """A drawn product shot: a red garment on white with a soft grey shadow under its hem and along its right side.
    The mask ends at the fabric (the shadow's band is not the garment); a grey garment's own edge is left alone; an
    empty mask stays empty."""
    from vton_zoo.preprocess.garment import _without_drop_shadow

    height, width = 512, 384
    image = np.full((height, width, 3), 250, np.uint8)
    image[80:400, 100:280] = (200, 30, 40)
    for step in range(1, 6):  # the shadow: grey, fading out into the backdrop
        level = 150 + step * 16
        image[400 + step - 1, 100:280 + step] = level
        image[80 + step:400 + step, 280 + step - 1] = level
    mask = garment_mask(image)
    fabric = np.zeros((height, width), bool)
    fabric[80:400, 100:280] = True
    assert (mask & fabric).sum() >= 0.97 * fabric.sum()
    assert (mask & ~fabric).sum() <= 0.01 * fabric.sum(), (mask & ~fabric).sum()
    # (A grey garment: its edge may be its own, the same colour as a shadow.)
    grey = image.copy()
    grey[80:400, 100:280] = (160, 160, 160)
    assert (garment_mask(grey) & ~fabric).sum() > 0.02 * fabric.sum()
    empty = np.zeros((height, width), bool)
    assert not _without_drop_shadow(empty, image.astype(np.float32), np.array([250.0, 250, 250]), 1).any()


def test_garment_mask_leaves_out_the_backdrops_shading_at_the_image_border(shared_dir):
    """A white T-shirt on a backdrop that darkens towards the left edge of the shot: the darker backdrop there is not
    the garment (before: a block of it, joined to the T-shirt's side, was in the mask out to the image's edge and
    was worn as a grey bump at the T-shirt's side; 84 mask pixels on the left border, now none)."""
    path = shared_dir / "samples/real/garment/048554_1.jpg"
    if not path.exists():
        pytest.skip(f"the development garments are not in {path.parent}")
    mask = garment_mask(np.asarray(Image.open(path).convert("RGB")))
    assert mask.sum() > 0.1 * mask.size
    assert mask[:, 0].sum() == 0 and mask[:, -1].sum() == 0, (mask[:, 0].sum(), mask[:, -1].sum())


def _loop_interior_in_mask(photo: np.ndarray, mask: np.ndarray) -> tuple[int, int]:
    """Of the garment's top third (where its straps are), the pixels in the backdrop's colour (within 12 levels of the
    border's median) at least 2 px inside the mask: ``(in the mask, the mask's pixels there)``."""
    border = np.concatenate([photo[0], photo[-1], photo[:, 0], photo[:, -1]]).astype(np.float32)
    backdrop = np.linalg.norm(photo.astype(np.float32) - np.median(border, axis=0), axis=-1) < 12
    rows = np.flatnonzero(mask.any(1))
    top = np.zeros_like(mask)
    top[rows[0]: rows[0] + (rows[-1] - rows[0]) // 3] = True
    inside = ndi.binary_erosion(mask, iterations=2)
    return int((inside & top & backdrop).sum()), int((mask & top).sum())


def test_garment_mask_leaves_out_the_backdrop_inside_a_strap_loop(shared_dir):
    """A yellow camisole shot with the back of each strap showing beside its front: the backdrop seen between the two
    strands of a strap is not the garment (before: the loops were filled, and worn, each strap was a wide band with
    the backdrop's white in it; 1127 of the top third's 22108 mask pixels were the backdrop's, now 2 % at most, at
    the strands' blended edges)."""
    path = shared_dir / "samples/real/garment" / "02015_00.jpg"
    if not path.exists():
        pytest.skip(f"the development garments are not in {path.parent}")
    photo = np.asarray(Image.open(path).convert("RGB"))
    mask = garment_mask(photo)
    backdrop, total = _loop_interior_in_mask(photo, mask)
    assert total > 10000
    assert backdrop <= 0.02 * total, (backdrop, total)


def test_garment_mask_opens_a_drawn_strap_loop_and_keeps_white_fabric():
    """A drawn camisole: a navy bodice, each strap two thin strands meeting at the top (the back's strand seen beside
    the front's), the backdrop between them. The loop's inside is left out, the strands stay; a white bodice's own
    white between two dark print bands is kept (it is no loop of thin strands)."""
    height, width = 512, 384
    image = np.full((height, width, 3), 246, np.uint8)
    image[200:420, 60:324] = (30, 40, 90)
    strands = np.zeros((height, width), bool)
    for x_top, x_front, x_back in ((120, 135, 110), (264, 249, 274)):
        for y in range(80, 201):
            t = (y - 80) / 120
            for x_end in (x_front, x_back):
                x = int(round(x_top + t * (x_end - x_top)))
                strands[y, x - 2: x + 3] = True
    image[strands] = (30, 40, 90)
    loop = np.zeros((height, width), bool)
    for y in range(90, 200):
        xs = np.flatnonzero(strands[y])
        for left, right in ((xs[xs < 192].min(), xs[xs < 192].max()), (xs[xs > 192].min(), xs[xs > 192].max())):
            loop[y, left: right + 1] = True
    loop &= ~ndi.binary_dilation(strands, iterations=2)
    mask = garment_mask(image)
    assert (mask & loop).sum() <= 0.05 * loop.sum(), ((mask & loop).sum(), loop.sum())
    assert (mask & strands).sum() >= 0.9 * strands.sum()
    # A white top with two dark bands across its chest: the white between them is the top's.
    white = np.full((height, width, 3), 246, np.uint8)
    white[120:420, 100:284] = 252
    white[200:215, 100:284] = (30, 40, 90)
    white[260:275, 100:284] = (30, 40, 90)
    between = np.zeros((height, width), bool)
    between[218:257, 110:274] = True
    assert garment_mask(white)[between].all()


def _tiered_blouse(fabric) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A drawn blouse with tiered ruffle sleeves on white: each tier flares out and down, the next starts narrow
    under it, so the backdrop shows in a notch between two tiers at the sleeve's outer side. Returns the photo, the
    garment's own pixels and the notches' pixels (the backdrop enclosed by a vertical closing of the garment)."""
    height, width = 512, 384
    garment = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(garment)
    draw.polygon([(130, 70), (254, 70), (262, 440), (122, 440)], fill=255)  # the body
    for side in (-1, 1):
        inner = 192 + side * 62
        for top in range(80, 261, 36):  # six tiers, each 40 px tall, the next 36 px lower
            narrow, wide = inner + side * 50, inner + side * 70
            draw.polygon([(inner, top), (narrow, top), (wide, top + 40), (inner, top + 40)], fill=255)
    garment = np.asarray(garment) > 0
    image = np.full((height, width, 3), 246, np.uint8)
    image[garment] = fabric
    # The notches: backdrop with garment above and below it in its column, within the sleeves' outer half.
    above = np.maximum.accumulate(garment, axis=0)
    below = np.maximum.accumulate(garment[::-1], axis=0)[::-1]
    sleeves = np.zeros((height, width), bool)
    sleeves[:300, :122] = sleeves[:300, 262:] = True
    notches = above & below & ~garment & sleeves
    # (Less the blended pixel or two along the fabric's edge, which the mask may take or leave anywhere.)
    return image, garment, notches & ~ndi.binary_dilation(garment, iterations=2)


@pytest.mark.parametrize("fabric", [(232, 170, 214), (30, 40, 90)])
def test_garment_mask_leaves_out_the_notches_between_ruffle_tiers(fabric):
    """The backdrop between two ruffle tiers is not the garment (before: the stripe closing filled each notch, and
    worn, the sleeves showed white wedges over the arms; 049920's six notches, 30-32 px tall at 512x384). Here each
    notch is 28 px tall."""
    image, garment, notches = _tiered_blouse(fabric)
    assert notches.sum() > 1200
    mask = garment_mask(_jpeg(image))
    assert (mask & notches).sum() <= 0.05 * notches.sum(), ((mask & notches).sum(), notches.sum())
    assert (mask & garment).sum() >= 0.98 * garment.sum()
