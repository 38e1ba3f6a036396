"""Body keypoints from a photo with MediaPipe Pose, in OpenPose's COCO-18 and BODY_25 conventions.

MediaPipe Pose (BlazePose, Bazarevsky et al. 2020) finds the most prominent person and returns 33 landmarks with a
visibility score each. The try-on networks were trained on OpenPose keypoints, so :func:`estimate_pose` converts them:

- the 17 shared joints are copied (MediaPipe's and OpenPose's "left"/"right" are both the person's own side);
- ``Neck`` is the midpoint of the shoulders and ``MidHip`` (BODY_25 8) the midpoint of the hips, with the smaller of
  the two confidences; BODY_25's big toes and heels come from MediaPipe's foot-index and heel points; MediaPipe has no
  small toe, so BODY_25 20 and 23 are always missing;
- the confidence is MediaPipe's visibility; a point with visibility below ``min_visibility`` or outside the image is
  missing (confidence 0, x = y = 0), as OpenPose writes undetected joints.

The joints are placed by a different network from OpenPose's, so they differ by a few pixels, most at the hips
(MediaPipe puts the hip joints a little lower and wider); the tests measure the difference on VITON-HD photos.

MediaPipe Pose sees one person only. :func:`detect_people` counts people with extra Pose passes on the parts of the
photo beside the first person (see there), and :func:`assess_person` turns the counts and the visible joints into the
three problems a try-on cannot work with: no person, several people, and a person cut off above the torso.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from . import labels
from ._mediapipe import check_rgb, run_pose, run_selfie_segmentation

logger = logging.getLogger(__name__)

# MediaPipe Pose landmark indices (33 points).
MP_NOSE, MP_LEFT_EYE, MP_RIGHT_EYE, MP_LEFT_EAR, MP_RIGHT_EAR = 0, 2, 5, 7, 8
MP_MOUTH_LEFT, MP_MOUTH_RIGHT = 9, 10
MP_LEFT_SHOULDER, MP_RIGHT_SHOULDER, MP_LEFT_ELBOW, MP_RIGHT_ELBOW = 11, 12, 13, 14
MP_LEFT_WRIST, MP_RIGHT_WRIST = 15, 16
MP_LEFT_PINKY, MP_RIGHT_PINKY, MP_LEFT_INDEX, MP_RIGHT_INDEX, MP_LEFT_THUMB, MP_RIGHT_THUMB = 17, 18, 19, 20, 21, 22
MP_LEFT_HIP, MP_RIGHT_HIP, MP_LEFT_KNEE, MP_RIGHT_KNEE, MP_LEFT_ANKLE, MP_RIGHT_ANKLE = 23, 24, 25, 26, 27, 28
MP_LEFT_HEEL, MP_RIGHT_HEEL, MP_LEFT_FOOT_INDEX, MP_RIGHT_FOOT_INDEX = 29, 30, 31, 32
NUM_MP_LANDMARKS = 33

# BODY_25 name -> MediaPipe landmark (Neck and MidHip are synthesised; the small toes do not exist in MediaPipe).
_BODY25_FROM_MP: dict[str, int] = {
    "Nose": MP_NOSE,
    "RShoulder": MP_RIGHT_SHOULDER,
    "RElbow": MP_RIGHT_ELBOW,
    "RWrist": MP_RIGHT_WRIST,
    "LShoulder": MP_LEFT_SHOULDER,
    "LElbow": MP_LEFT_ELBOW,
    "LWrist": MP_LEFT_WRIST,
    "RHip": MP_RIGHT_HIP,
    "RKnee": MP_RIGHT_KNEE,
    "RAnkle": MP_RIGHT_ANKLE,
    "LHip": MP_LEFT_HIP,
    "LKnee": MP_LEFT_KNEE,
    "LAnkle": MP_LEFT_ANKLE,
    "REye": MP_RIGHT_EYE,
    "LEye": MP_LEFT_EYE,
    "REar": MP_RIGHT_EAR,
    "LEar": MP_LEFT_EAR,
    "LBigToe": MP_LEFT_FOOT_INDEX,
    "LHeel": MP_LEFT_HEEL,
    "RBigToe": MP_RIGHT_FOOT_INDEX,
    "RHeel": MP_RIGHT_HEEL,
}

# The joints that say whether the body (not just the head) is in the picture: shoulders, elbows, wrists, hips.
BODY_JOINTS_COCO18: tuple[int, ...] = tuple(
    labels.COCO18_INDEX[name]
    for name in ("RShoulder", "LShoulder", "RElbow", "LElbow", "RWrist", "LWrist", "RHip", "LHip")
)

# Pose is run on a copy no larger than this (long side): MediaPipe works at 256 px internally anyway.
_MAX_SIDE = 1280


@dataclass(frozen=True, eq=False)
class PoseResult:
    """The pose of the most prominent person in an image.

    Attributes:
        coco18: ``float32 (18, 3)`` OpenPose COCO-18 keypoints ``(x, y, confidence)`` in pixels of the image.
        body25: ``float32 (25, 3)`` the same in OpenPose BODY_25 order (with ``MidHip`` and feet).
        landmarks: ``float32 (33, 4)`` the raw MediaPipe landmarks ``(x, y, z, visibility)``, x and y in pixels (not
            filtered: points outside the image or barely visible keep MediaPipe's estimate). ``z`` is MediaPipe's
            relative depth (same scale as x, smaller is nearer). All zeros when no person was found.
        image_size: ``(H, W)`` of the image the keypoints refer to.
        mask: ``float32 (H, W)`` MediaPipe Pose's own person probability for this person, or ``None``.
        min_visibility: the visibility threshold under which points were marked missing.
    """

    coco18: np.ndarray
    body25: np.ndarray
    landmarks: np.ndarray
    image_size: tuple[int, int]
    mask: np.ndarray | None = field(default=None, repr=False)
    min_visibility: float = 0.5

    @property
    def found(self) -> bool:
        """Whether MediaPipe found a person at all."""
        return bool(self.landmarks[:, 3].any())

    @property
    def num_body_keypoints(self) -> int:
        """How many of the 8 body joints (shoulders, elbows, wrists, hips) are visible."""
        return int((self.coco18[list(BODY_JOINTS_COCO18), 2] > 0).sum())

    @property
    def has_torso(self) -> bool:
        """Both shoulders and at least one hip visible: what a top try-on needs."""
        index = labels.COCO18_INDEX
        confidence = self.coco18[:, 2]
        shoulders = confidence[index["RShoulder"]] > 0 and confidence[index["LShoulder"]] > 0
        return bool(shoulders and (confidence[index["RHip"]] > 0 or confidence[index["LHip"]] > 0))

    def bbox(self) -> tuple[float, float, float, float] | None:
        """``(x0, y0, x1, y1)`` of the visible COCO-18 keypoints, or ``None`` when there are none."""
        visible = self.coco18[self.coco18[:, 2] > 0]
        if len(visible) == 0:
            return None
        return (
            float(visible[:, 0].min()),
            float(visible[:, 1].min()),
            float(visible[:, 0].max()),
            float(visible[:, 1].max()),
        )


def _empty_result(size: tuple[int, int], min_visibility: float) -> PoseResult:
    return PoseResult(
        coco18=np.zeros((18, 3), np.float32),
        body25=np.zeros((25, 3), np.float32),
        landmarks=np.zeros((NUM_MP_LANDMARKS, 4), np.float32),
        image_size=size,
        mask=None,
        min_visibility=min_visibility,
    )


def landmarks_to_openpose(
    landmarks: np.ndarray, image_size: tuple[int, int], *, min_visibility: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Converts MediaPipe's 33 landmarks (pixels) to OpenPose COCO-18 and BODY_25 keypoints.

    Args:
        landmarks: ``(33, 4)`` MediaPipe landmarks ``(x, y, z, visibility)`` with x, y in pixels.
        image_size: ``(H, W)``; points outside it are marked missing.
        min_visibility: points with a lower visibility are marked missing.

    Returns:
        ``(coco18, body25)``: ``float32 (18, 3)`` and ``(25, 3)`` arrays of ``(x, y, confidence)``.
    """
    landmarks = np.asarray(landmarks, np.float32)
    if landmarks.shape != (NUM_MP_LANDMARKS, 4):
        raise ValueError(f"landmarks must have shape (33, 4), got {landmarks.shape}")
    height, width = image_size
    body25 = np.zeros((25, 3), np.float32)
    for name, mp_index in _BODY25_FROM_MP.items():
        x, y, _, visibility = landmarks[mp_index]
        inside = 0.0 <= x <= width - 1 and 0.0 <= y <= height - 1
        if inside and visibility >= min_visibility:
            body25[labels.BODY25_INDEX[name]] = (x, y, visibility)

    def midpoint(target: str, first: str, second: str) -> None:
        a, b = body25[labels.BODY25_INDEX[first]], body25[labels.BODY25_INDEX[second]]
        if a[2] > 0 and b[2] > 0:
            body25[labels.BODY25_INDEX[target]] = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, min(a[2], b[2]))

    midpoint("Neck", "RShoulder", "LShoulder")
    midpoint("MidHip", "RHip", "LHip")
    coco18 = body25[list(labels.COCO18_TO_BODY25)].copy()
    return coco18, body25


def estimate_pose(
    image: np.ndarray,
    *,
    model_complexity: int = 1,
    min_visibility: float = 0.5,
    min_detection_confidence: float = 0.5,
) -> PoseResult:
    """Estimates the pose of the most prominent person in a photo.

    Args:
        image: ``uint8`` RGB ``(H, W, 3)``.
        model_complexity: MediaPipe Pose landmark model: 1 (full, bundled with MediaPipe). 0 (lite) and 2 (heavy)
            work only where their model files are already installed (they are not bundled, and nothing is downloaded).
        min_visibility: keypoints below this MediaPipe visibility are marked missing.
        min_detection_confidence: MediaPipe's person-detector threshold.

    Returns:
        The pose; ``result.found`` is False when no person was detected (all keypoints missing).

    Raises:
        ValueError: for an image that is not a ``uint8`` RGB array of at least 32x32 pixels.
        RuntimeError: when MediaPipe or the requested model is not installed.
    """
    image = check_rgb(image)
    height, width = image.shape[:2]
    scale = min(1.0, _MAX_SIDE / max(height, width))
    work = image
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        work = np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))
    found = _run_landmarks(work, (height, width), model_complexity, min_detection_confidence)
    if found is None:
        logger.debug("MediaPipe Pose found no person in a %dx%d image", width, height)
        return _empty_result((height, width), min_visibility)
    landmarks, mask = found
    if not _plausible_shoulders(landmarks, mask):
        # Now and then the landmark model folds the body up inside the torso (shoulders a third of the body's width
        # apart, elbows on the belly). The mirrored photo usually gives the true pose: mirrored back, it is taken
        # when its shoulders are plausible.
        mirrored = _run_landmarks(np.ascontiguousarray(work[:, ::-1]), (height, width), model_complexity,
                                  min_detection_confidence)
        if mirrored is not None:
            mirrored_landmarks, mirrored_mask = mirrored
            mirrored_landmarks = mirrored_landmarks[list(_MIRROR)]
            mirrored_landmarks[:, 0] = width - mirrored_landmarks[:, 0]
            mirrored_mask = None if mirrored_mask is None else np.ascontiguousarray(mirrored_mask[:, ::-1])
            if _plausible_shoulders(mirrored_landmarks, mirrored_mask):
                logger.info("pose: the shoulders were folded up; the mirrored photo's pose is used")
                landmarks, mask = mirrored_landmarks, mirrored_mask
    coco18, body25 = landmarks_to_openpose(landmarks, (height, width), min_visibility=min_visibility)
    return PoseResult(
        coco18=coco18,
        body25=body25,
        landmarks=landmarks,
        image_size=(height, width),
        mask=mask,
        min_visibility=min_visibility,
    )


# MediaPipe landmark index of each landmark's mirror image (left <-> right).
_MIRROR = (0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21, 24, 23, 26, 25, 28, 27,
           30, 29, 32, 31)
#: The shoulders (joint to joint) span at least this fraction of the person mask's width just below them; on the
#: development photos 0.6-0.85 (0.61 with a hand on the hip), a folded-up pose 0.29.
MIN_SHOULDER_SHARE = 0.45


def _run_landmarks(work: np.ndarray, size: tuple[int, int], model_complexity: int, min_detection_confidence: float
                   ) -> tuple[np.ndarray, np.ndarray | None] | None:
    """MediaPipe's 33 landmarks (pixels of an image of ``size``) and its person mask at ``size``, or None."""
    height, width = size
    result = run_pose(work, model_complexity=model_complexity, min_detection_confidence=min_detection_confidence)
    if result.pose_landmarks is None:
        return None
    landmarks = np.array(
        [(p.x * width, p.y * height, p.z * width, p.visibility) for p in result.pose_landmarks.landmark], np.float32
    )
    mask = None
    if result.segmentation_mask is not None:
        mask = np.clip(np.asarray(result.segmentation_mask, np.float32), 0.0, 1.0)
        if mask.shape != (height, width):
            mask = np.asarray(Image.fromarray(mask, mode="F").resize((width, height), Image.BILINEAR))
    return landmarks, mask


def _plausible_shoulders(landmarks: np.ndarray, mask: np.ndarray | None) -> bool:
    """Whether the shoulders span a plausible share of the person mask's width just below them (True when that
    cannot be told: no mask, shoulders not seen or outside the photo)."""
    if mask is None:
        return True
    right, left = landmarks[MP_RIGHT_SHOULDER], landmarks[MP_LEFT_SHOULDER]
    height, width = mask.shape
    if min(right[3], left[3]) < 0.5:
        return True
    row = int((right[1] + left[1]) / 2 + 0.02 * height)
    if not 0 <= row < height:
        return True
    silhouette = int((mask[row] > 0.5).sum())
    span = float(np.hypot(right[0] - left[0], right[1] - left[1]))
    return silhouette == 0 or span >= MIN_SHOULDER_SHARE * silhouette


def _is_person(pose: PoseResult, min_body_keypoints: int) -> bool:
    return pose.found and pose.num_body_keypoints >= min_body_keypoints


def detect_people(
    image: np.ndarray,
    *,
    max_people: int = 3,
    min_body_keypoints: int = 3,
    first: PoseResult | None = None,
) -> int:
    """Counts the people in a photo (up to ``max_people``).

    MediaPipe Pose reports the most prominent person only. After it has found one, the photo is cut into the strips to
    the left and right of that person's box (keypoints and Pose mask, widened by 10 % of the box height), and Pose runs
    again on each strip wide enough to hold somebody; every person found there is counted, and so on until
    ``max_people``. Masking the first person out instead (painting over it) was not used: the painted silhouette
    itself is sometimes detected as a person. The strips miss a second person standing right behind or in front of
    the first; try-on photos showing two people side by side are the case that matters.

    A detection counts only with at least ``min_body_keypoints`` visible body joints (shoulders, elbows, wrists,
    hips), which also rejects MediaPipe's rare false detections on scenes without people.

    Args:
        image: ``uint8`` RGB ``(H, W, 3)``.
        max_people: stop counting here.
        min_body_keypoints: visible body joints a detection needs to count as a person.
        first: the pose of ``image`` if already computed (saves one Pose pass).

    Returns:
        The number of people found, ``0 .. max_people``.
    """
    image = check_rgb(image)
    pose = first if first is not None else estimate_pose(image)
    if not _is_person(pose, min_body_keypoints):
        return 0
    count = 1
    pending = [(image, pose)]
    while pending and count < max_people:
        region, region_pose = pending.pop()
        for strip in _side_strips(region, region_pose):
            strip_pose = estimate_pose(strip)
            if _is_person(strip_pose, min_body_keypoints):
                count += 1
                logger.debug("another person found beside the first (count=%d)", count)
                if count >= max_people:
                    break
                pending.append((strip, strip_pose))
    return count


def _person_box(pose: PoseResult) -> tuple[float, float, float, float]:
    """Horizontal extent of a person: visible keypoints plus the Pose mask, widened by 10 % of the box height."""
    height, width = pose.image_size
    x0, y0, x1, y1 = pose.bbox() or (width / 2, height / 2, width / 2, height / 2)
    # The raw landmarks of the head and hands (not just the filtered keypoints) bound the person too.
    visible = pose.landmarks[pose.landmarks[:, 3] >= 0.3]
    if len(visible):
        x0, x1 = min(x0, visible[:, 0].min()), max(x1, visible[:, 0].max())
        y0, y1 = min(y0, visible[:, 1].min()), max(y1, visible[:, 1].max())
    if pose.mask is not None:
        columns = np.flatnonzero((pose.mask > 0.5).any(axis=0))
        rows = np.flatnonzero((pose.mask > 0.5).any(axis=1))
        if len(columns):
            x0, x1 = min(x0, columns[0]), max(x1, columns[-1])
            y0, y1 = min(y0, rows[0]), max(y1, rows[-1])
    margin = 0.1 * max(y1 - y0, x1 - x0, 1.0)
    return max(0.0, x0 - margin), y0, min(float(width), x1 + margin), y1


def _side_strips(image: np.ndarray, pose: PoseResult) -> list[np.ndarray]:
    height, width = image.shape[:2]
    x0, _, x1, _ = _person_box(pose)
    # A strip must be wide enough to hold a person standing at a similar scale: a quarter of the image height.
    min_width = max(MIN_STRIP, height // 4)
    strips = []
    if x0 >= min_width:
        strips.append(np.ascontiguousarray(image[:, : int(x0)]))
    if width - x1 >= min_width:
        strips.append(np.ascontiguousarray(image[:, int(np.ceil(x1)) :]))
    return strips


MIN_STRIP = 32


@dataclass(frozen=True)
class PersonCheck:
    """What :func:`assess_person` found.

    Attributes:
        status: ``"ok"``, ``"no_person"``, ``"several_people"`` or ``"cut_off"``.
        num_people: people counted (see :func:`detect_people`).
        message: a sentence for the user; empty when ``status == "ok"``.
        pose: the pose of the most prominent person (``pose.found`` False when there is none).
    """

    status: str
    num_people: int
    message: str
    pose: PoseResult

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def assess_person(
    image: np.ndarray,
    *,
    pose: PoseResult | None = None,
    min_body_keypoints: int = 3,
    what: str = "person image",
) -> PersonCheck:
    """Checks that a photo shows exactly one person with the torso in the picture.

    - ``no_person``: MediaPipe Pose finds nobody, and the selfie segmentation sees no person-sized region either.
    - ``cut_off``: somebody is there (a pose or a person-sized segmentation), but the shoulders and at least one hip
      are not all visible, e.g. a head-and-shoulders portrait or a face close-up.
    - ``several_people``: :func:`detect_people` counts more than one person.

    Args:
        image: ``uint8`` RGB ``(H, W, 3)``.
        pose: the pose of ``image`` if already computed.
        min_body_keypoints: see :func:`detect_people`.
        what: how messages name the image.

    Returns:
        A :class:`PersonCheck`; see :func:`require_single_person` for the raising variant.
    """
    image = check_rgb(image, what)
    pose = pose if pose is not None else estimate_pose(image)
    if not pose.found or pose.num_body_keypoints < min_body_keypoints:
        # No usable pose. Tell a photo without people from a close-up where the body is outside the frame.
        person_fraction = float((run_selfie_segmentation(image) > 0.5).mean())
        if pose.found or person_fraction >= 0.1:
            return PersonCheck(
                "cut_off",
                1,
                f"The {what} shows a person, but not their body: the shoulders, arms and hips must be in the picture "
                "(photograph the person from the head to at least the hips)",
                pose,
            )
        return PersonCheck("no_person", 0, f"No person was found in the {what}", pose)
    count = detect_people(image, first=pose, min_body_keypoints=min_body_keypoints)
    if count > 1:
        more = "or more " if count >= 3 else ""
        return PersonCheck(
            "several_people",
            count,
            f"The {what} shows {count} {more}people; it must show exactly one person",
            pose,
        )
    if not pose.has_torso:
        return PersonCheck(
            "cut_off",
            1,
            f"The person in the {what} is cut off: both shoulders and the hips must be visible "
            "(photograph the person from the head to at least the hips)",
            pose,
        )
    return PersonCheck("ok", 1, "", pose)


def require_single_person(
    image: np.ndarray, *, pose: PoseResult | None = None, what: str = "person image"
) -> PoseResult:
    """Like :func:`assess_person`, but raises ``ValueError`` with the message unless the photo is usable.

    Returns:
        The pose of the one person.
    """
    check = assess_person(image, pose=pose, what=what)
    if not check.ok:
        raise ValueError(check.message)
    return check.pose


def transform_keypoints(
    keypoints: np.ndarray, *, scale: tuple[float, float], offset: tuple[float, float], size: tuple[int, int]
) -> np.ndarray:
    """Maps keypoints to a cropped/resized image: ``x' = x * sx + ox``, ``y' = y * sy + oy``.

    Missing points stay missing (zeros); points that land outside ``size`` ``(H, W)`` become missing.

    Args:
        keypoints: ``(N, 3)`` ``(x, y, confidence)``.
        scale: ``(sx, sy)``.
        offset: ``(ox, oy)`` in output pixels.
        size: ``(H, W)`` of the output image.

    Returns:
        ``float32 (N, 3)``.
    """
    keypoints = np.asarray(keypoints, np.float32)
    if keypoints.ndim != 2 or keypoints.shape[1] != 3:
        raise ValueError(f"keypoints must have shape (N, 3), got {keypoints.shape}")
    out = np.zeros_like(keypoints)
    present = keypoints[:, 2] > 0
    x = keypoints[:, 0] * scale[0] + offset[0]
    y = keypoints[:, 1] * scale[1] + offset[1]
    inside = present & (x >= 0) & (y >= 0) & (x <= size[1] - 1) & (y <= size[0] - 1)
    out[inside, 0], out[inside, 1], out[inside, 2] = x[inside], y[inside], keypoints[inside, 2]
    return out
