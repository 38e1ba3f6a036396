"""Coarse human parse from pose keypoints, a person mask and the photo's colours (no learned human parser).

The try-on networks were fed label maps from learned human parsers (LIP/CIHP-style, e.g. Graphonomy or SCHP). None is
bundled here, so :func:`coarse_parse` approximates the labels of :mod:`vton_zoo.preprocess.labels` in two steps:

1. **Geometry.** The keypoints place soft regions, in units of the shoulder width: a face ellipse from the eyes, ears,
   nose and mouth (anthropometric proportions: the eyes sit about 38 % down the face, the face is about 2.9
   inter-pupil distances tall), a head ellipse above it, a neck capsule from chin to neck, arm capsules
   shoulder-elbow-wrist, hand capsules beyond the wrists (towards MediaPipe's finger points when known), a torso
   quadrilateral shoulders-hips, and the legs below the hips. Long hair may hang over the shoulders and chest.
2. **Colour.** Each of four colour classes (skin, hair, upper garment, lower body) gets an RGB histogram from pixels
   where geometry alone is certain: the middle of the face (skin), the person mask around the top of the head (hair),
   the middle of the torso (upper garment) and the thighs (lower body). Every person pixel then takes the class with
   the highest ``log prior(position) + log p(colour | class)``. Colour separates what geometry cannot: skin from
   sleeves inside the arm capsules, hair falling over a top, the hem of a top from the trousers, a V-neck.

Skin pixels are then named by position (face, hand, arm, legs, or neck/chest skin, which is what VITON-HD's
"neck" label covers); garment and hair pixels keep their class. Everything outside the person mask is background.

It is an approximation: a learned parser knows garments, accessories and occlusions that this cannot; when a garment
has the colour of the skin or the hair, the labels fall back to the geometric regions. On the two VITON-HD test
photos the upper-garment region overlaps the dataset's own parse with IoU >= 0.7 (see the tests for the figures).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from . import labels
from ._mediapipe import check_rgb

logger = logging.getLogger(__name__)

_WORK_SIDE = 512  # the parse is computed at most at this long side, then resized to the image
_BINS = 16  # histogram bins per RGB channel
_COLOUR_WEIGHT = 0.8  # weight of log p(colour | class) against log prior(position)
_MIN_SEEDS = 40  # fewer seed pixels than this: the class has no colour model (uniform)
#: Above this colour overlap of hair and top (black hair, black top), hair is not looked for below the shoulders.
HAIR_TOP_OVERLAP = 0.2
#: Top and bottom histograms overlapping more than this are one colour (a dress): no colour line between them.
SAME_COLOUR = 0.5
#: The top's hem: from it on, at least this share of each row's garment pixels has colours unlike the top's: their
#: density under the top's colour model is below ``UNLIKE_TOP`` times the uniform density.
HEM_SHARE = 0.25
UNLIKE_TOP = 0.3

# Colour classes.
_SKIN, _HAIR, _UPPER, _LOWER = range(4)
_NUM_CLASSES = 4

# MediaPipe landmarks the parse uses beyond COCO-18 (see pose.py).
_MP_MOUTH = (9, 10)
_MP_HAND = {"R": (18, 20), "L": (17, 19)}  # pinky, index knuckles


def coarse_parse(image: np.ndarray, pose, person_mask: np.ndarray) -> np.ndarray:
    """Coarse body parse of a person photo.

    Args:
        image: ``uint8`` RGB ``(H, W, 3)``.
        pose: a :class:`vton_zoo.preprocess.pose.PoseResult` of this image, or its keypoints as a ``(18, 3)``
            COCO-18 or ``(25, 3)`` BODY_25 array in pixels of ``image``. Both shoulders must be visible.
        person_mask: ``bool`` or ``float32 (H, W)`` person probability (e.g. from
            :func:`vton_zoo.preprocess.segmentation.segment_person`); pixels below 0.5 are background.

    Returns:
        ``uint8 (H, W)`` label map with the labels of :mod:`vton_zoo.preprocess.labels`.

    Raises:
        ValueError: for inputs of the wrong type or shape, or a pose without both shoulders.
    """
    image = check_rgb(image)
    height, width = image.shape[:2]
    coco18, extra = _keypoints(pose, (height, width))
    mask = _mask(person_mask, (height, width))

    scale = min(1.0, _WORK_SIDE / max(height, width))
    work_w, work_h = max(1, round(width * scale)), max(1, round(height * scale))
    if scale < 1.0:
        image_work = np.asarray(Image.fromarray(image).resize((work_w, work_h), Image.BILINEAR))
        mask_work = np.asarray(Image.fromarray(mask.astype(np.float32), mode="F").resize((work_w, work_h)))
    else:
        image_work, mask_work = image, mask.astype(np.float32)
    sx, sy = work_w / width, work_h / height
    coco18 = coco18.copy()
    coco18[:, 0] *= sx
    coco18[:, 1] *= sy
    extra = {name: (point[0] * sx, point[1] * sy) for name, point in extra.items()}

    body = _Body.from_keypoints(coco18, extra)
    labels_work = _parse_work(image_work, mask_work >= 0.5, body)
    if labels_work.shape != (height, width):
        labels_work = np.asarray(Image.fromarray(labels_work).resize((width, height), Image.NEAREST))
    return _fit_to_mask(labels_work, mask)


# --- inputs -------------------------------------------------------------------------------------------------------


def _keypoints(pose, size: tuple[int, int]) -> tuple[np.ndarray, dict[str, tuple[float, float]]]:
    """COCO-18 keypoints plus optional MediaPipe extras (mouth, hand knuckles) from a PoseResult or an array."""
    extra: dict[str, tuple[float, float]] = {}
    if hasattr(pose, "coco18") and hasattr(pose, "landmarks"):
        if tuple(pose.image_size) != size:
            raise ValueError(f"pose was computed on a {tuple(pose.image_size)} image, not on this {size} image")
        coco18 = np.asarray(pose.coco18, np.float32)
        landmarks = np.asarray(pose.landmarks, np.float32)
        threshold = getattr(pose, "min_visibility", 0.5)

        def usable(index: int) -> bool:
            x, y, _, visibility = landmarks[index]
            return visibility >= threshold and 0 <= x < size[1] and 0 <= y < size[0]

        if len(landmarks) == 33:
            if all(usable(i) for i in _MP_MOUTH):
                extra["mouth"] = tuple(landmarks[list(_MP_MOUTH), :2].mean(0))
            for side, indices in _MP_HAND.items():
                if all(usable(i) for i in indices):
                    extra["hand" + side] = tuple(landmarks[list(indices), :2].mean(0))
    else:
        if not isinstance(pose, np.ndarray):
            raise ValueError(f"pose must be a PoseResult or a keypoint array (18, 3) / (25, 3), got {type(pose)}")
        if pose.shape == (25, 3):
            coco18 = np.asarray(pose, np.float32)[list(labels.COCO18_TO_BODY25)]
        elif pose.shape == (18, 3):
            coco18 = np.asarray(pose, np.float32)
        else:
            raise ValueError(f"pose keypoints must have shape (18, 3) or (25, 3), got {pose.shape}")
    if not np.isfinite(coco18).all():
        raise ValueError("pose keypoints contain NaN or inf")
    return coco18, extra


def _mask(person_mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if not isinstance(person_mask, np.ndarray):
        raise ValueError(f"person_mask must be a numpy array (H, W), got {type(person_mask).__name__}")
    if person_mask.shape != size:
        raise ValueError(f"person_mask must have the image's shape {size}, got {person_mask.shape}")
    if person_mask.dtype == bool:
        return person_mask
    if not np.issubdtype(person_mask.dtype, np.floating):
        raise ValueError(f"person_mask must be bool or float in [0, 1], got dtype {person_mask.dtype}")
    if not np.isfinite(person_mask).all():
        raise ValueError("person_mask contains NaN or inf")
    return person_mask >= 0.5


# --- body geometry --------------------------------------------------------------------------------------------------


@dataclass
class _Body:
    """Body frame and key points at working resolution; lengths in pixels."""

    shoulder: dict[str, np.ndarray]
    elbow: dict[str, np.ndarray | None]
    wrist: dict[str, np.ndarray | None]
    hand_tip: dict[str, np.ndarray | None]
    hip: dict[str, np.ndarray]
    knee: dict[str, np.ndarray | None]
    neck: np.ndarray
    mid_hip: np.ndarray
    across: np.ndarray  # unit vector from the person's right shoulder to the left one
    down: np.ndarray  # unit vector from neck to mid-hip
    shoulder_width: float
    torso_length: float
    eye_mid: np.ndarray
    face_down: np.ndarray  # unit vector, face frame "down" (eyes -> chin)
    face_across: np.ndarray
    face_width: float
    face_height: float  # hairline to chin

    @classmethod
    def from_keypoints(cls, coco18: np.ndarray, extra: dict[str, tuple[float, float]]) -> _Body:
        index = labels.COCO18_INDEX

        def point(name: str) -> np.ndarray | None:
            x, y, confidence = coco18[index[name]]
            return np.array([x, y], np.float64) if confidence > 0 else None

        shoulder = {"R": point("RShoulder"), "L": point("LShoulder")}
        if shoulder["R"] is None or shoulder["L"] is None:
            raise ValueError("coarse_parse needs both shoulders in the pose (the person's torso must be visible)")
        across_vec = shoulder["L"] - shoulder["R"]
        shoulder_width = float(np.hypot(*across_vec))
        if shoulder_width < 2.0:
            raise ValueError("the pose's shoulders coincide; cannot build a body frame")
        # Seen from the front the person's left shoulder is on the image right; from the back it is the reverse.
        # Geometry below only needs a consistent frame, so keep across as it is and take down perpendicular to it.
        across = across_vec / shoulder_width
        down = np.array([-across[1], across[0]])
        if down[1] < 0:
            down = -down
        neck = (shoulder["R"] + shoulder["L"]) / 2

        hip = {"R": point("RHip"), "L": point("LHip")}
        if hip["R"] is not None and hip["L"] is not None:
            mid_hip = (hip["R"] + hip["L"]) / 2
        elif hip["R"] is not None or hip["L"] is not None:
            # One hip: the other mirrored across the torso axis through the neck.
            side, other = ("R", "L") if hip["R"] is not None else ("L", "R")
            offset = hip[side] - neck
            along = float(offset @ down)
            hip[other] = neck + along * down - (offset - along * down)
            mid_hip = (hip["R"] + hip["L"]) / 2
        else:
            # No hips (photo cut at the waist): typical proportions, neck to mid-hip ~1.5 shoulder widths.
            mid_hip = neck + 1.5 * shoulder_width * down
            hip["R"] = mid_hip - 0.3 * shoulder_width * across
            hip["L"] = mid_hip + 0.3 * shoulder_width * across
        torso_vec = mid_hip - neck
        torso_length = float(np.hypot(*torso_vec))
        if torso_length < 0.5 * shoulder_width:
            torso_length = 1.5 * shoulder_width
            mid_hip = neck + torso_length * down
        else:
            down = torso_vec / torso_length

        elbow = {"R": point("RElbow"), "L": point("LElbow")}
        wrist = {"R": point("RWrist"), "L": point("LWrist")}
        knee = {"R": point("RKnee"), "L": point("LKnee")}
        hand_tip: dict[str, np.ndarray | None] = {}
        for side in "RL":
            tip = extra.get("hand" + side)
            if wrist[side] is None:
                hand_tip[side] = None
            elif tip is not None:
                # The knuckle points are mid-hand; the fingertips are about as far again.
                hand_tip[side] = wrist[side] + 1.6 * (np.asarray(tip, np.float64) - wrist[side])
            else:
                start = elbow[side] if elbow[side] is not None else shoulder[side]
                forearm = wrist[side] - start
                norm = float(np.hypot(*forearm)) or 1.0
                hand_tip[side] = wrist[side] + 0.45 * shoulder_width * forearm / norm

        # Face frame from eyes / ears / nose / mouth.
        eyes = [p for p in (point("REye"), point("LEye")) if p is not None]
        ears = [p for p in (point("REar"), point("LEar")) if p is not None]
        nose = point("Nose")
        mouth = np.asarray(extra["mouth"], np.float64) if "mouth" in extra else None
        face_across = across
        if len(eyes) == 2:
            eye_vec = eyes[1] - eyes[0]
            ipd = float(np.hypot(*eye_vec))
            if ipd > 1.0:
                face_across = eye_vec / ipd
        else:
            ipd = 0.0
        face_down = np.array([-face_across[1], face_across[0]])
        if face_down @ down < 0:
            face_down = -face_down
        if eyes:
            eye_mid = np.mean(eyes, axis=0)
        elif nose is not None:
            eye_mid = nose - 0.08 * shoulder_width * face_down
        else:
            eye_mid = neck - 0.75 * shoulder_width * down
        # Face height (hairline to chin) from several cues, checked against the shoulder width.
        estimates = []
        if mouth is not None and (mouth - eye_mid) @ face_down > 0:
            estimates.append(float((mouth - eye_mid) @ face_down) / 0.40)
        elif nose is not None and (nose - eye_mid) @ face_down > 0:
            estimates.append(float((nose - eye_mid) @ face_down) / 0.24)
        if ipd > 0:
            estimates.append(2.9 * ipd)
        face_height = float(np.median(estimates)) if estimates else 0.55 * shoulder_width
        face_height = float(np.clip(face_height, 0.35 * shoulder_width, 0.85 * shoulder_width))
        if len(ears) == 2:
            face_width = 0.95 * float(np.hypot(*(ears[1] - ears[0])))
        elif ipd > 0:
            face_width = 2.2 * ipd
        else:
            face_width = 0.75 * face_height
        face_width = float(np.clip(face_width, 0.55 * face_height, 0.95 * face_height))
        return cls(
            shoulder=shoulder,
            elbow=elbow,
            wrist=wrist,
            hand_tip=hand_tip,
            hip=hip,
            knee=knee,
            neck=neck,
            mid_hip=mid_hip,
            across=across,
            down=down,
            shoulder_width=shoulder_width,
            torso_length=torso_length,
            eye_mid=eye_mid,
            face_down=face_down,
            face_across=face_across,
            face_width=face_width,
            face_height=face_height,
        )


class _Grid:
    """Pixel-centre coordinates of the working image, with distance helpers."""

    def __init__(self, height: int, width: int):
        self.y, self.x = np.mgrid[0:height, 0:width].astype(np.float32)

    def frame(self, origin: np.ndarray, axis_u: np.ndarray, axis_v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx, dy = self.x - np.float32(origin[0]), self.y - np.float32(origin[1])
        return dx * np.float32(axis_u[0]) + dy * np.float32(axis_u[1]), dx * np.float32(axis_v[0]) + dy * np.float32(
            axis_v[1]
        )

    def segment_distance(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        vec = (end - start).astype(np.float64)
        length_sq = float(vec @ vec)
        dx, dy = self.x - np.float32(start[0]), self.y - np.float32(start[1])
        if length_sq < 1e-6:
            return np.hypot(dx, dy)
        t = np.clip((dx * np.float32(vec[0]) + dy * np.float32(vec[1])) / np.float32(length_sq), 0.0, 1.0)
        return np.hypot(dx - t * np.float32(vec[0]), dy - t * np.float32(vec[1]))


def _soft_inside(signed_distance: np.ndarray, softness: float) -> np.ndarray:
    """1 well inside (negative distance), 0 well outside, 0.5 on the boundary."""
    return 1.0 / (1.0 + np.exp(np.clip(signed_distance / max(softness, 1e-3), -30, 30)))


@dataclass
class _Regions:
    face_radius: np.ndarray  # normalised ellipse radius (1 on the face outline)
    head_radius: np.ndarray
    face_v: np.ndarray  # position along the face's down axis, 0 at the eyes, in face heights
    neck: np.ndarray  # soft [0, 1]
    arm: dict[str, np.ndarray]  # capsule distance minus radius, pixels (negative inside)
    hand: dict[str, np.ndarray]
    torso: np.ndarray  # soft [0, 1]
    torso_v: np.ndarray  # position along the torso axis: 0 at the neck, 1 at the mid-hip
    torso_u: np.ndarray  # across, in shoulder widths from the axis
    hanging_hair: np.ndarray  # soft [0, 1]


def _regions(grid: _Grid, body: _Body) -> _Regions:
    sw, fh, fw = body.shoulder_width, body.face_height, body.face_width
    # Face ellipse: eyes 38 % down from the hairline, chin 62 % below the eyes.
    face_u, face_v = grid.frame(body.eye_mid, body.face_across, body.face_down)
    face_centre_v = 0.12 * fh
    face_radius = np.hypot(face_u / (0.5 * fw), (face_v - face_centre_v) / (0.5 * fh))
    # Head (with hair volume): wider, reaching above the hairline.
    head_radius = np.hypot(face_u / (0.78 * fw), (face_v + 0.05 * fh) / (0.72 * fh))

    chin = body.eye_mid + 0.6 * fh * body.face_down
    neck_distance = grid.segment_distance(chin, body.neck + 0.1 * sw * body.down)
    neck = _soft_inside(neck_distance - 0.3 * fw, 0.04 * sw)

    arm, hand = {}, {}
    for side in "RL":
        shoulder, elbow, wrist = body.shoulder[side], body.elbow[side], body.wrist[side]
        upper_radius, fore_radius = 0.14 * sw, 0.115 * sw
        if elbow is not None:
            distance = grid.segment_distance(shoulder, elbow) - upper_radius
            if wrist is not None:
                distance = np.minimum(distance, grid.segment_distance(elbow, wrist) - fore_radius)
            else:
                # Forearm not found (out of the picture or hidden): continue the upper arm a little.
                extension = elbow + 0.6 * (elbow - shoulder)
                distance = np.minimum(distance, grid.segment_distance(elbow, extension) - fore_radius)
        elif wrist is not None:
            distance = grid.segment_distance(shoulder, wrist) - upper_radius
        else:
            distance = grid.segment_distance(shoulder, shoulder + 0.5 * sw * body.down) - upper_radius
        arm[side] = distance
        if wrist is not None and body.hand_tip[side] is not None:
            hand[side] = grid.segment_distance(wrist, body.hand_tip[side]) - 0.11 * sw
        else:
            hand[side] = np.full_like(distance, 1e4)

    torso_u, torso_v_px = grid.frame(body.neck, body.across, body.down)
    torso_v = torso_v_px / body.torso_length
    hip_half = max(0.5 * float(np.hypot(*(body.hip["L"] - body.hip["R"]))) + 0.2 * sw, 0.45 * sw)
    half_width = (0.58 * sw) * (1 - np.clip(torso_v, 0, 1)) + hip_half * np.clip(torso_v, 0, 1)
    # Signed distance to the torso's sides and top (negative inside); the bottom is the hip band's business.
    torso_inside = np.maximum(np.abs(torso_u) - half_width, -torso_v_px - 0.05 * sw)
    torso = _soft_inside(torso_inside, 0.06 * sw)

    # Hair can fall over the shoulders and chest, beside the face, down to about mid-torso.
    lateral = np.abs(face_u) / (0.5 * fw)  # 1 at the edge of the face
    hanging_hair = (
        _soft_inside(lateral - 2.4, 0.3)
        * _soft_inside(0.8 - lateral, 0.15)
        * _soft_inside(torso_v - 0.45, 0.08)
        * _soft_inside(-face_v, 0.05 * fh)
    )
    return _Regions(
        face_radius=face_radius,
        head_radius=head_radius,
        face_v=face_v / fh,
        neck=neck,
        arm=arm,
        hand=hand,
        torso=torso,
        torso_v=torso_v,
        torso_u=torso_u / sw,
        hanging_hair=hanging_hair,
    )


# --- colour models --------------------------------------------------------------------------------------------------


def _colour_index(image: np.ndarray) -> np.ndarray:
    q = (image >> 4).astype(np.int32)  # 16 bins per channel
    return q[..., 0] * (_BINS * _BINS) + q[..., 1] * _BINS + q[..., 2]


def _histogram(colour_index: np.ndarray, seeds: np.ndarray) -> np.ndarray | None:
    """log p(colour | class) over the 16^3 bins, smoothed and mixed with a uniform floor; None without seeds."""
    if int(seeds.sum()) < _MIN_SEEDS:
        return None
    counts = np.bincount(colour_index[seeds], minlength=_BINS**3).astype(np.float64)
    counts = ndimage.gaussian_filter(counts.reshape(_BINS, _BINS, _BINS), sigma=0.8, mode="constant").ravel()
    density = counts / counts.sum()
    return np.log(0.95 * density + 0.05 / _BINS**3)


def _overlap(first: np.ndarray | None, second: np.ndarray | None) -> float:
    """Shared probability mass of two colour models (log densities), 0 (disjoint) .. 1 (equal); 0 without models."""
    if first is None or second is None:
        return 0.0
    return float(np.minimum(np.exp(first), np.exp(second)).sum())


def _classify(colour_index: np.ndarray, histograms: list[np.ndarray | None], where: np.ndarray) -> np.ndarray:
    """Colour-only class (argmax of the histograms) of the pixels in ``where``; -1 elsewhere or without models."""
    scores = np.stack(
        [h[colour_index[where]] if h is not None else np.full(int(where.sum()), -np.inf) for h in histograms]
    )
    out = np.full(colour_index.shape, -1, np.int32)
    out[where] = scores.argmax(0)
    return out


def _parse_work(image: np.ndarray, person: np.ndarray, body: _Body) -> np.ndarray:
    height, width = person.shape
    grid = _Grid(height, width)
    regions = _regions(grid, body)
    colour_index = _colour_index(image)
    sw = body.shoulder_width
    arm_inside = {side: _soft_inside(regions.arm[side], 0.05 * sw) for side in "RL"}
    hand_inside = {side: _soft_inside(regions.hand[side], 0.04 * sw) for side in "RL"}
    arms = np.maximum(arm_inside["R"], arm_inside["L"])
    hands = np.maximum(hand_inside["R"], hand_inside["L"])
    face = _soft_inside(regions.face_radius - 1.0, 0.08)
    head = _soft_inside(regions.head_radius - 1.0, 0.08)
    # Hip band: a top's hem or the waistband lies somewhere between 25 % above and 35 % below the hip line.
    band_top, band_bottom = 0.75, 1.35
    below_band_top = _soft_inside(band_top - regions.torso_v, 0.05)
    above_band_bottom = _soft_inside(regions.torso_v - band_bottom, 0.05)

    # Seeds: where geometry alone is confident.
    skin_seed = person & (regions.face_radius < 0.55) & (regions.face_v > -0.05)
    hair_seed = person & (regions.head_radius < 1.0) & (regions.face_radius > 1.1) & (regions.face_v < -0.2)
    hair_seed &= regions.torso_v < 0  # above the shoulders
    limbs = (arms > 0.3) | (hands > 0.3)
    upper_seed = (
        person
        & (np.abs(regions.torso_u) < 0.3)
        & (regions.torso_v > 0.2)
        & (regions.torso_v < 0.5)  # the chest: a high-waisted skirt can start at 0.6
        & ~limbs
        & (regions.hanging_hair < 0.3)
    )
    lower_seed = person & (regions.torso_v > 1.25) & (np.abs(regions.torso_u) < 0.4) & ~limbs
    if body.knee["R"] is not None or body.knee["L"] is not None:
        knees_v = [float((k - body.neck) @ body.down) / body.torso_length for k in body.knee.values() if k is not None]
        lower_seed &= regions.torso_v < max(knees_v)

    skin_hist = _histogram(colour_index, _trim_skin_seeds(image, skin_seed))
    hair_hist = _histogram(colour_index, hair_seed)
    upper_hist = _histogram(colour_index, upper_seed)
    lower_hist = _histogram(colour_index, lower_seed)
    # Re-fit the garment models without seed pixels that look like skin or hair (hair over the chest, bare midriff;
    # no hair hangs over the thighs, so there only skin is dropped: a black skirt must keep its black).
    for name, seeds in (("upper", upper_seed), ("lower", lower_seed)):
        hist = upper_hist if name == "upper" else lower_hist
        if hist is None:
            continue
        histograms = [skin_hist, hair_hist if name == "upper" else None, hist]
        kept = seeds & (_classify(colour_index, histograms, seeds) == 2)
        if kept.sum() >= 0.3 * seeds.sum():
            refit = _histogram(colour_index, kept)
            if name == "upper":
                upper_hist = refit
            else:
                lower_hist = refit

    # Position priors per colour class.
    neck_chest = np.maximum(regions.neck, 0.35 * regions.torso * _soft_inside(regions.torso_v - 0.35, 0.08))
    prior_skin = np.maximum.reduce(
        [face, 0.9 * regions.neck, 0.6 * neck_chest, 0.7 * arms, hands, 0.3 * regions.torso]
    )
    leg_zone = _soft_inside(-(regions.torso_v - 1.0), 0.1)
    prior_skin = np.maximum(prior_skin, 0.4 * leg_zone)
    # Hair hanging over the shoulders and chest is told from the top by colour. When the two look alike (black hair,
    # black top) colour cannot tell them apart: hair below the shoulders is then unlikely (the top would be taken
    # for hair and kept over the new garment).
    hanging = regions.hanging_hair
    if _overlap(hair_hist, upper_hist) > HAIR_TOP_OVERLAP:
        hanging = hanging * np.where(regions.torso_v > 0.0, 0.15, 1.0)
    prior_hair = np.maximum(head, 0.7 * hanging) * (1 - 0.9 * face * (regions.face_v > -0.1))
    prior_upper = np.maximum.reduce([regions.torso * above_band_bottom, 0.8 * arms, 0.4 * regions.neck])
    prior_upper = np.maximum(prior_upper, 0.15 * (1 - above_band_bottom))  # long tops
    prior_lower = below_band_top * np.maximum(leg_zone, 0.3)
    priors = [prior_skin, prior_hair, prior_upper, prior_lower]
    histograms = [skin_hist, hair_hist, upper_hist, lower_hist]

    scores = np.empty((_NUM_CLASSES, height, width), np.float32)
    window = max(3, round(0.015 * max(height, width)) | 1)
    for k, (prior, hist) in enumerate(zip(priors, histograms)):
        colour = hist[colour_index] if hist is not None else np.full((height, width), np.log(1 / _BINS**3))
        colour = ndimage.uniform_filter(colour.astype(np.float32), size=window)
        scores[k] = np.log(0.01 + 0.99 * prior) + _COLOUR_WEIGHT * colour
    colour_class = scores.argmax(0)

    out = np.zeros((height, width), np.uint8)
    skin = person & (colour_class == _SKIN)
    hair = person & (colour_class == _HAIR)
    upper = person & (colour_class == _UPPER)
    lower = person & (colour_class == _LOWER)
    hem = None
    if upper_hist is not None:
        unlike_top = upper_hist[colour_index] < np.log(UNLIKE_TOP / _BINS**3)
        upper, lower, hem = _split_top_and_bottom(upper, lower, regions, arms > 0.3, unlike_top)
        if hem is None and _overlap(upper_hist, lower_hist) > SAME_COLOUR:
            # One colour from the chest down (a dress, a jumpsuit): colour cannot place the line between the upper
            # and the lower label; it is drawn straight across the hips rather than in tongues.
            band = (regions.torso_v > band_top) & (regions.torso_v < band_bottom) & (np.abs(regions.torso_u) < 0.75)
            band &= arms <= 0.3
            garment = upper | lower
            upper = np.where(band, garment & (regions.torso_v < 1.0), upper)
            lower = np.where(band, garment & (regions.torso_v >= 1.0), lower)
    if _overlap(hair_hist, upper_hist) > HAIR_TOP_OVERLAP:
        # Hair and top alike (black hair, black top): over the middle of the chest, and across the waist, it is the
        # top (long hair hangs beside the neck, over the shoulders).
        hair = hair & ~(((regions.torso_v > 0.15) & (np.abs(regions.torso_u) < 0.45))
                        | ((regions.torso_v > 0.7) & (np.abs(regions.torso_u) < 0.8)))
        # Nor does hair hang in front of the neck below the chin: what there reaches the neck's middle is a high
        # collar (a black crew neck, a halter's band), with the parts of it joined to that around the neck's base.
        collar_zone = (regions.face_v > 0.7) & (regions.torso_v < 0.2) & (np.abs(regions.torso_u) < 0.45)
        pieces, count = ndimage.label(hair & collar_zone)
        if count:
            middle = np.unique(pieces[(pieces > 0) & (np.abs(regions.torso_u) < 0.1)])
            hair &= ~np.isin(pieces, middle[middle > 0])
        upper = upper | (person & (colour_class == _HAIR) & ~hair)
    # Hair hangs from the head: dark pieces below it not joined to the hair about the head, above the chin (a black
    # belt, a dark fold, a dark strap over the shoulder) are garment, the top's above its hem, the bottom's below.
    pieces, count = ndimage.label(hair)
    if count > 1:
        attached = np.unique(pieces[hair & (regions.torso_v < 0.0) & (regions.face_v < 0.62)])
        loose = hair & ~np.isin(pieces, attached[attached > 0])
        if loose.any():
            hair &= ~loose
            below_hem = np.zeros_like(loose)
            if hem is not None:
                below_hem[hem:] = True
            else:
                below_hem = regions.torso_v >= 0.9
            upper |= loose & ~below_hem
            lower |= loose & below_hem
    above_chin = regions.face_v < 0.62
    in_head = (regions.head_radius < 1.15) & above_chin
    out[upper] = labels.UPPER_GARMENT
    out[upper & in_head] = labels.HAIR  # hats, dark hair read as garment: not a garment above the chin
    out[lower] = labels.LOWER_BODY
    # A bottom reaches that high only where the top's hem was found above it (high-waisted jeans).
    too_high = regions.torso_v < band_top - 0.1
    if hem is not None:
        too_high[hem:] = False
    out[lower & too_high] = labels.UPPER_GARMENT
    out[hair] = labels.HAIR
    # Skin, named by position.
    arm_side = np.where(regions.arm["R"] <= regions.arm["L"], labels.RIGHT_ARM, labels.LEFT_ARM).astype(np.uint8)
    hand_side = np.where(regions.hand["R"] <= regions.hand["L"], labels.RIGHT_HAND, labels.LEFT_HAND).astype(np.uint8)
    skin_label = np.full((height, width), labels.NECK, np.uint8)
    skin_label[regions.torso_v > band_top + 0.15] = labels.LOWER_BODY
    skin_label = np.where(arms > 0.3, arm_side, skin_label)
    skin_label = np.where(hands > 0.3, hand_side, skin_label)
    skin_label[(in_head & (regions.face_radius < 1.25)) | (face > 0.5)] = labels.FACE
    out[skin] = skin_label[skin]
    # The middle of the face is face whatever its colour (eyes, brows, lips, glasses).
    out[person & (regions.face_radius < 0.8)] = labels.FACE
    return _clean(out, person)


def _split_top_and_bottom(upper: np.ndarray, lower: np.ndarray, regions: _Regions, arms: np.ndarray,
                          unlike_top: np.ndarray) -> tuple[np.ndarray, np.ndarray, int | None]:
    """One line between the top and the bottom garment, found row by row in the middle of the body.

    Pixel by pixel, a patterned skirt's light parts can match a light top (and a dark top's folds a dark skirt):
    colour alone scatters the two labels. Going down the middle of the torso, the top's hem is the first row from
    which on a clear share (``HEM_SHARE``) of the garment pixels have colours the top does not have
    (``unlike_top``); garment pixels above it are the top, below it the bottom (within the hip band, where either can
    be; not on the arms). Without such a row (a dress, a top and a bottom of one colour) the labels stay. Returns the
    labels and the hem's row (None when not found).
    """
    middle = (np.abs(regions.torso_u) < 0.35) & (regions.torso_v > 0.45) & (regions.torso_v < 1.6)
    garment = (upper | lower) & middle
    counts = garment.sum(1).astype(np.float64)
    rows = np.flatnonzero(counts > 5)
    if len(rows) < 10:
        return upper, lower, None
    share = np.zeros(len(counts))
    share[rows] = (unlike_top & garment).sum(1)[rows] / counts[rows]
    raw = share.copy()
    share = ndimage.uniform_filter1d(share, size=5)
    span = max(3, int(0.1 * len(rows)))
    hem = None
    for index, y in enumerate(rows[:-span]):
        if share[y] >= HEM_SHARE and np.all(share[rows[index: index + span]] >= 0.6 * HEM_SHARE):
            hem = int(y)
            break
    # Up to the first row mostly of the bottom's colours (the smoothing above finds the hem a little late).
    while hem is not None and hem > rows[0] and raw[hem - 1] >= 0.5:
        hem -= 1
    logger.debug("parse: top / bottom split at row %s", hem)
    if hem is None:
        return upper, lower, None
    band = (regions.torso_v > 0.6) & (regions.torso_v < 1.6) & (np.abs(regions.torso_u) < 0.75) & ~arms
    above = np.zeros_like(upper)
    above[:hem] = True
    garment_all = upper | lower
    new_upper = np.where(band, garment_all & above, upper)
    new_lower = np.where(band, garment_all & ~above, lower)
    return new_upper, new_lower, hem


def _trim_skin_seeds(image: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Drops eyes, brows, lips and stray hair from the face seeds: keep the central chroma range (YCrCb)."""
    if seeds.sum() < _MIN_SEEDS:
        return seeds
    rgb = image[seeds].astype(np.float32)
    cr = 0.5 * rgb[:, 0] - 0.4187 * rgb[:, 1] - 0.0813 * rgb[:, 2]
    cb = -0.1687 * rgb[:, 0] - 0.3313 * rgb[:, 1] + 0.5 * rgb[:, 2]
    luma = 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]
    keep = np.ones(len(rgb), bool)
    for values, low, high in ((cr, 10, 90), (cb, 10, 90), (luma, 10, 95)):
        lo, hi = np.percentile(values, [low, high])
        keep &= (values >= lo) & (values <= hi)
    out = np.zeros_like(seeds)
    out[seeds] = keep
    return out


def _clean(out: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Removes specks: pieces of a label smaller than 0.2 % of the person go to the surrounding label."""
    min_area = max(4, int(0.002 * person.sum()))
    speck = np.zeros_like(person)
    for label in range(1, labels.NUM_PARSE_LABELS):
        components, count = ndimage.label(out == label)
        if count == 0:
            continue
        sizes = np.bincount(components.ravel(), minlength=count + 1)
        small = sizes < min_area
        small[0] = False
        speck |= small[components]
    if speck.any():
        keep = person & ~speck
        if keep.any():
            _, (rows, cols) = ndimage.distance_transform_edt(~keep, return_indices=True)
            out = np.where(speck, out[rows, cols], out)
    out[~person] = labels.BACKGROUND
    return out


def _fit_to_mask(labels_map: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Background outside the full-resolution mask; mask pixels the resize left unlabelled take the nearest label."""
    out = labels_map.copy()
    out[~mask] = labels.BACKGROUND
    missing = mask & (out == labels.BACKGROUND)
    if missing.any() and (out != labels.BACKGROUND).any():
        _, (rows, cols) = ndimage.distance_transform_edt(out == labels.BACKGROUND, return_indices=True)
        out[missing] = out[rows[missing], cols[missing]]
    return out


def colorize(parse: np.ndarray) -> np.ndarray:
    """``uint8`` RGB visualisation of a label map with :data:`labels.PARSE_PALETTE`."""
    palette = np.array(labels.PARSE_PALETTE, np.uint8)
    if parse.dtype != np.uint8 or parse.ndim != 2:
        raise ValueError(f"parse must be a uint8 label map (H, W), got {parse.dtype} {parse.shape}")
    if parse.size and parse.max() >= len(palette):
        raise ValueError(f"parse has label {int(parse.max())}; labels are 0..{len(palette) - 1}")
    return palette[parse]
