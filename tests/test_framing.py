"""Framing: the crop box rules, the transform both ways (images, masks, labels, keypoints), padding and paste-back.

The geometry and the transform are tested on synthetic images (exact answers); :func:`frame_person` on the shared
VITON / VITON-HD photos (read from ../shared/samples, never copied), placed on wider and narrower canvases.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests._parity import SHARED
from vton_zoo.preprocess.framing import Framing, frame_box, frame_garment, identity_framing

SAMPLES = SHARED / "samples"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} not found")


def _scene(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A textured test photo (gradients + noise) so that any misplaced pixel shows."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    base = np.stack([xs * 255 / width, ys * 255 / height, (xs + ys) * 127 / (width + height)], axis=-1)
    return np.clip(base + rng.integers(-20, 21, (height, width, 3)), 0, 255).astype(np.uint8)


def _aspect(box) -> float:
    return (box[2] - box[0]) / (box[3] - box[1])


# --- the box ---------------------------------------------------------------------------------------------------------


def test_box_is_the_whole_photo_when_it_is_framed_like_the_datasets():
    # A 3:4 photo whose person fills the height (VITON-HD): no crop, no padding.
    assert frame_box((1024, 768), (132, 0, 649, 1024), (512, 384)) == (0, 0, 768, 1024)
    assert frame_box((256, 192), (34, 8, 163, 248), (256, 192)) == (0, 0, 192, 256)


def test_box_crops_a_wide_photo_around_the_person():
    body = (1200.0, 100.0, 1500.0, 900.0)  # a person right of centre in a 2000x1000 photo
    box = frame_box((1000, 2000), body, (256, 192))
    x0, y0, x1, y1 = box
    assert abs(_aspect(box) - 0.75) < 2 / (y1 - y0)
    assert 0 <= x0 <= body[0] and body[2] <= x1 <= 2000 and 0 <= y0 <= body[1] and body[3] <= y1 <= 1000
    # Centred on the body, with the margin: 5 % of the body's 800 px on top and bottom.
    assert abs((x0 + x1) / 2 - 1350) <= 1
    assert y1 - y0 == 880


def test_box_keeps_the_person_inside_when_near_a_border():
    body = (10.0, 50.0, 310.0, 950.0)  # at the left edge of a wide photo
    x0, y0, x1, y1 = frame_box((1000, 2000), body, (256, 192))
    assert x0 == 0 and x1 >= 310  # shifted right rather than padded
    assert y0 >= 0 and y1 <= 1000


def test_box_pads_only_where_the_body_does_not_fit():
    # A 9:16 phone photo, the person filling its width: the box is wider than the photo, padded evenly.
    body = (0.0, 100.0, 540.0, 900.0)
    x0, y0, x1, y1 = frame_box((960, 540), body, (256, 192))
    assert x0 < 0 and x1 > 540 and abs(-x0 - (x1 - 540)) <= 1
    assert 0 <= y0 and y1 <= 960  # vertically it stays inside the photo
    assert abs(_aspect((x0, y0, x1, y1)) - 0.75) < 2 / (y1 - y0)


def test_box_of_a_wide_body_grows_in_height():
    body = (100.0, 400.0, 900.0, 600.0)  # arms outstretched: wider than tall
    box = frame_box((1000, 1000), body, (256, 192))
    assert box[2] - box[0] >= 800 and abs(_aspect(box) - 0.75) < 0.01
    assert box[1] <= 400 and box[3] >= 600


@pytest.mark.parametrize("bad", [(0, 0, 0, 0), (5, 5, 5, 100), (float("nan"), 0, 10, 10), "box", (3000, 0, 4000, 9)])
def test_box_rejects_bad_body_boxes(bad):
    with pytest.raises(ValueError, match="body_box"):
        frame_box((100, 100), bad, (256, 192))


def test_box_rejects_bad_sizes_and_margin():
    with pytest.raises(ValueError, match="size"):
        frame_box((100, 100), (0, 0, 50, 50), (0, 192))
    with pytest.raises(ValueError, match="margin"):
        frame_box((100, 100), (0, 0, 50, 50), (256, 192), margin=-1)


# --- the transform ------------------------------------------------------------------------------------------------


def test_framing_validates_itself():
    with pytest.raises(ValueError, match="box"):
        Framing((100, 100), (10, 10, 5, 50), (32, 24))
    with pytest.raises(ValueError, match="does not overlap"):
        Framing((100, 100), (200, 0, 260, 80), (32, 24))
    with pytest.raises(ValueError, match="pad"):
        Framing((100, 100), (0, 0, 60, 80), (32, 24), pad="mirror")
    framing = Framing((100, 100), (0, 0, 60, 80), (32, 24))
    with pytest.raises(ValueError, match="size the framing was computed for"):
        framing.crop(np.zeros((90, 100, 3), np.uint8))


def test_identity_framing_returns_the_photo():
    photo = _scene(64, 48)
    framing = identity_framing(photo.shape[:2])
    assert framing.is_identity and framing.padding == (0, 0, 0, 0)
    np.testing.assert_array_equal(framing.crop(photo), photo)
    np.testing.assert_array_equal(framing.paste(photo[::-1].copy(), photo, feather=0), photo[::-1])


def test_crop_moves_a_marked_point_where_the_keypoint_transform_says():
    photo = np.full((600, 900, 3), 255, np.uint8)
    draw = Image.fromarray(photo)
    ImageDraw.Draw(draw).ellipse((500 - 6, 300 - 6, 500 + 6, 300 + 6), fill=(255, 0, 0))
    photo = np.asarray(draw)
    framing = Framing((600, 900), (350, 100, 650, 500), (256, 192))  # 300x400 crop, scale 0.64
    framed = framing.crop(photo)
    assert framed.shape == (256, 192, 3)
    red = (framed[..., 0] > 200) & (framed[..., 1] < 120)
    ys, xs = np.nonzero(red)
    expected = framing.to_framed(np.array([[500.0, 300.0, 1.0]], np.float32))[0]
    assert abs(xs.mean() + 0.5 - expected[0]) < 0.6 and abs(ys.mean() + 0.5 - expected[1]) < 0.6
    back = framing.to_image(expected[None])[0]
    np.testing.assert_allclose(back[:2], (500, 300), atol=1e-3)


def test_keypoint_transforms_are_inverse_and_keep_missing_points():
    framing = Framing((1000, 500), (-120, 40, 620, 1027), (256, 192))
    points = np.array([[10.0, 50.0, 0.9], [0.0, 0.0, 0.0], [498.0, 998.0, 0.7], [250.0, 10.0, 0.8]], np.float32)
    framed = framing.to_framed(points)
    assert framed[1].tolist() == [0.0, 0.0, 0.0]
    assert framed[3, 2] == 0.0  # above the box: outside the framed image, so missing
    np.testing.assert_allclose(framing.to_image(framed)[[0, 2]], points[[0, 2]], atol=1e-3)


def test_crop_then_paste_at_scale_one_gives_the_photo_back_exactly():
    photo = _scene(300, 400)
    # Box partly outside the photo (left and bottom padding), output size = box size: no resampling.
    framing = Framing((300, 400), (-40, 60, 200, 380), (320, 240))
    assert framing.padding == (40, 0, 0, 80)
    framed = framing.crop(photo)
    np.testing.assert_array_equal(framed[0:240, 40:240], photo[60:300, 0:200])
    np.testing.assert_array_equal(framing.paste(framed, photo), photo)


def test_paste_changes_only_the_crop_box_and_fades_at_the_seams():
    photo = _scene(400, 600)
    framing = Framing((400, 600), (200, 50, 350, 250), (256, 192))
    result = np.zeros((256, 192, 3), np.uint8)  # a black result: every changed pixel gets darker
    out = framing.paste(result, photo, feather=0.1)
    changed = (out != photo).any(axis=2)
    ys, xs = np.nonzero(changed)
    assert xs.min() >= 200 and xs.max() < 350 and ys.min() >= 50 and ys.max() < 250
    outside = np.ones((400, 600), bool)
    outside[50:250, 200:350] = False
    np.testing.assert_array_equal(out[outside], photo[outside])
    # Centre fully replaced; the seam (15 px wide) fades from the photo to the result.
    assert (out[100:200, 240:310] == 0).all()
    edge, inside = out[150, 200].astype(int), out[150, 214].astype(int)
    assert np.abs(edge - photo[150, 200]).max() <= 8 and (inside <= 2).all()


def test_paste_at_the_photo_border_has_no_seam():
    photo = _scene(200, 150)
    framing = Framing((200, 150), (-30, 0, 150, 240), (256, 192))  # touches left, top, right borders; pads
    out = framing.paste(np.zeros((256, 192, 3), np.uint8), photo, feather=0.1)
    assert (out[0, :] == 0).all() and (out[:, 0] == 0).all()  # image borders are no seam: replaced fully


def test_paste_with_a_region_keeps_the_rest_of_the_crop():
    photo = _scene(300, 300)
    framing = Framing((300, 300), (0, 0, 300, 300), (128, 128))
    region = np.zeros((128, 128), np.float32)
    region[32:96, 32:96] = 1.0
    out = framing.paste(np.zeros((128, 128, 3), np.uint8), photo, region=region, feather=0)
    np.testing.assert_array_equal(out[:60], photo[:60])
    assert (out[90:210, 90:210] == 0).all()
    np.testing.assert_array_equal(framing.paste(photo[:128, :128].copy(), photo, region=np.zeros((128, 128))),
                                  photo)
    with pytest.raises(ValueError, match="region"):
        framing.paste(np.zeros((128, 128, 3), np.uint8), photo, region=np.zeros((64, 64)))
    with pytest.raises(ValueError, match="result"):
        framing.paste(np.zeros((64, 64, 3), np.uint8), photo)


def test_crop_then_paste_at_another_scale_is_close_to_the_photo():
    photo = np.asarray(Image.fromarray(_scene(100, 75, seed=3)).resize((600, 800), Image.BICUBIC))  # smooth
    framing = Framing((800, 600), (100, 100, 400, 500), (256, 192))
    back = framing.paste(framing.crop(photo), photo, feather=0)
    error = np.abs(back.astype(int) - photo.astype(int))[100:500, 100:400]
    assert error.mean() < 3.0
    np.testing.assert_array_equal(back[:100], photo[:100])


def test_padding_colours():
    photo = np.zeros((200, 100, 3), np.uint8)
    photo[:, :50] = (200, 10, 10)
    photo[:, 50:] = (10, 10, 200)
    photo[:, :2] = (250, 250, 250)  # the left border strip is light
    framing = Framing((200, 100), (-100, 0, 200, 200), (200, 300), pad="background")
    framed = framing.crop(photo, resample=Image.NEAREST)
    np.testing.assert_array_equal(framed[100, 0], (250, 250, 250))  # far left: the left border's colour
    np.testing.assert_array_equal(framed[100, 299], (10, 10, 200))  # far right: the right border's colour
    edge = dict(framing.__dict__, pad="edge")
    np.testing.assert_array_equal(Framing(**edge).crop(photo, resample=Image.NEAREST)[100, 0], (250, 250, 250))
    fixed = dict(framing.__dict__, pad=(0, 255, 0))
    np.testing.assert_array_equal(Framing(**fixed).crop(photo, resample=Image.NEAREST)[100, 0], (0, 255, 0))


def test_masks_and_labels_are_framed_alike():
    framing = Framing((100, 80), (-10, 20, 70, 100), (40, 40))
    mask = np.zeros((100, 80), bool)
    mask[40:80, 20:40] = True
    framed = framing.crop_mask(mask)
    assert framed.dtype == np.float32 and framed.shape == (40, 40)
    labels_map = mask.astype(np.uint8) * 3
    framed_labels = framing.crop_labels(labels_map)
    assert set(np.unique(framed_labels)) == {0, 3}
    # Both put the square in the same place: x 20..40 -> (30..50)/2 = 15..25, y 40..80 -> 10..30.
    np.testing.assert_array_equal(framed >= 0.5, framed_labels == 3)
    assert (framed_labels[12:28, 16:24] == 3).all() and framed_labels[:, :5].max() == 0
    with pytest.raises(ValueError, match="mask"):
        framing.crop_mask(np.zeros((10, 10)))


def test_frame_garment_pads_a_square_product_shot_with_the_backdrop():
    shot = np.full((600, 600, 3), 245, np.uint8)
    shot[60:540, 40:560] = (30, 60, 120)  # a garment filling most of a square photo
    mask = (shot != 245).any(axis=2)
    framing = frame_garment(shot, mask, (256, 192))
    x0, y0, x1, y1 = framing.box
    assert x0 >= 0 and x1 <= 600 and y0 < 0 and y1 > 600  # taller than the photo: padded top and bottom
    framed = framing.crop(shot)
    assert np.abs(framed[2].astype(int) - 245).max() <= 1 and np.abs(framed[-3].astype(int) - 245).max() <= 1
    with pytest.raises(ValueError, match="empty"):
        frame_garment(shot, np.zeros((600, 600), bool), (256, 192))


# --- people in real photos ------------------------------------------------------------------------------------------


@cache
def _photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(SAMPLES / name).convert("RGB"))


def _frame(photo: np.ndarray, size=(256, 192)) -> Framing:
    from vton_zoo.preprocess.framing import frame_person
    from vton_zoo.preprocess.pose import estimate_pose
    from vton_zoo.preprocess.segmentation import segment_person

    pose = estimate_pose(photo)
    return frame_person(photo, size, pose=pose, person_mask=segment_person(photo, pose=pose))


@needs_samples
@pytest.mark.parametrize("name", ["viton_hd/test/image/00000_00.jpg", "viton_hd/test/image/00017_00.jpg",
                                  "viton/test_img/000066_0.jpg", "viton/test_img/016962_0.jpg"])
def test_dataset_photos_pass_through_unchanged(name):
    pytest.importorskip("mediapipe")
    photo = _photo(name)
    framing = _frame(photo, size=photo.shape[:2])
    assert framing.is_identity
    np.testing.assert_array_equal(framing.crop(photo), photo)


@needs_samples
def test_person_in_a_wide_photo_is_cropped_around_them():
    pytest.importorskip("mediapipe")
    person = _photo("viton_hd/test/image/00017_00.jpg")
    canvas = np.full((1024, 2400, 3), 232, np.uint8)
    canvas[:, 1300:2068] = person
    framing = _frame(canvas, size=(512, 384))
    x0, y0, x1, y1 = framing.box
    assert framing.padding == (0, 0, 0, 0)
    # The framing of the person alone (the whole 768x1024 photo), shifted by the offset, to within a few pixels.
    assert abs(x0 - 1300) <= 40 and abs(x1 - 2068) <= 40 and y0 >= 0 and y1 <= 1024
    assert abs(_aspect(framing.box) - 0.75) < 0.01


@needs_samples
def test_person_in_a_narrow_photo_is_padded_at_the_sides():
    pytest.importorskip("mediapipe")
    narrow = np.ascontiguousarray(_photo("viton_hd/test/image/00000_00.jpg")[:, 120:680])  # 560 wide, 1024 tall
    framing = _frame(narrow)
    left, top, right, bottom = framing.padding
    assert left > 0 and right > 0 and top == 0 and bottom == 0
    framed = framing.crop(narrow)
    # The padding takes the light backdrop's colour: no dark streaks at the sides of the framed photo.
    assert framed[:, :3].mean() > 200 and framed[:, -3:].mean() > 200
