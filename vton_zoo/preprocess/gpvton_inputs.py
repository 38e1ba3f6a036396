"""GP-VTON's inputs from a person photo, its keypoints and coarse parse, and a garment photo with its part masks.

What the official test loader (xiezhy6/GP-VTON ``data/aligned_dataset_vitonhd.py``) builds, and what is built here:

- ``warp_condition`` (51 ch) = [DensePose part one-hot (25 ch, x2-1), BODY_25 pose maps (25 ch), preserve mask (1)].
  * DensePose: there is no DensePose here, so :func:`approximate_densepose` paints the 24 DensePose parts (I labels)
    from the coarse parse and the keypoints; see its docstring for the approximation and the figures it reaches.
  * Pose maps: one white square of half-side 8 px (at 512x384; 16 at 1024x768) per BODY_25 point on black, in
    {-1, 1}, drawn with PIL as upstream; points with ``x <= 1`` or ``y <= 1`` or confidence 0 are left out.
- ``preserve_mask``: upstream keeps every person label of its 29-class parsing except the upper garment, neck, arms
  and background, plus the palms (the arm labels minus dilated shoulder-elbow and elbow-wrist bands). With the coarse
  parse: hair, face, lower body and hands.
- ``arms_color``: the per-channel median RGB over face, neck and arms (hands included, as upstream's arm labels include
  them), over values > 0, broadcast to (3, H, W) and mapped by ``/127.5 - 1``.
- ``garment``, ``garment_mask``, part masks and ``garment_parts_label = (left + 2 torso + 3 right) / 3``. Upstream
  derives the parts from its garment parsing; here they are taken as inputs (made from the mask's geometry by
  :mod:`vton_zoo.preprocess.garment`).

The DressCode variant (``gp-vton-dresscode``, upper-body garments) differs only in the part label (``/ 6`` instead of
``/ 3``) and the extra constant ``garment_type`` map (1/3 for upper-body garments); its skin colour also uses the legs,
which the coarse parse does not separate from trousers, so the same face/neck/arm median is used.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw

from . import labels
from ._inputs_common import (
    channels_tensor,
    check_image,
    check_keypoints,
    check_mask,
    check_parse,
    check_size,
    image_tensor,
    label_mask,
    mask_tensor,
    resize_image,
    resize_labels,
    resize_mask,
    scale_keypoints,
    square_pose_maps,
    to_body25,
)
from .garment import garment_parts_label

logger = logging.getLogger(__name__)

GPVTON_SIZE = (512, 384)
NUM_DENSEPOSE_CHANNELS = 25  # I = 0 (background) .. 24

# DensePose part indices (I labels). For a person facing the camera the annotated front parts are 2 (torso) and 9/10
# (upper legs); for the arms the two labels of a segment split it lengthwise (inner/outer halves in a frontal view),
# as measured on the VITON-HD DensePose maps.
DENSEPOSE_PARTS: dict[str, int] = {
    "torso_back": 1,
    "torso_front": 2,
    "right_hand": 3,
    "left_hand": 4,
    "left_foot": 5,
    "right_foot": 6,
    "upper_leg_right_back": 7,
    "upper_leg_left_back": 8,
    "upper_leg_right_front": 9,
    "upper_leg_left_front": 10,
    "lower_leg_right_back": 11,
    "lower_leg_left_back": 12,
    "lower_leg_right_front": 13,
    "lower_leg_left_front": 14,
    "upper_arm_left_inner": 15,
    "upper_arm_right_inner": 16,
    "upper_arm_left_outer": 17,
    "upper_arm_right_outer": 18,
    "lower_arm_left_inner": 19,
    "lower_arm_right_inner": 20,
    "lower_arm_left_outer": 21,
    "lower_arm_right_outer": 22,
    "head_right": 23,
    "head_left": 24,
}
_P = DENSEPOSE_PARTS

PRESERVED_LABELS = (labels.HAIR, labels.FACE, labels.LOWER_BODY)
SKIN_LABELS = (labels.FACE, labels.NECK, labels.RIGHT_ARM, labels.LEFT_ARM, labels.RIGHT_HAND, labels.LEFT_HAND)

_B25 = labels.BODY25_INDEX
_NOSE, _NECK, _MID_HIP = _B25["Nose"], _B25["Neck"], _B25["MidHip"]
_SHOULDER = {"R": _B25["RShoulder"], "L": _B25["LShoulder"]}
_ELBOW = {"R": _B25["RElbow"], "L": _B25["LElbow"]}
_WRIST = {"R": _B25["RWrist"], "L": _B25["LWrist"]}
_HIP = {"R": _B25["RHip"], "L": _B25["LHip"]}
_KNEE = {"R": _B25["RKnee"], "L": _B25["LKnee"]}
_ANKLE = {"R": _B25["RAnkle"], "L": _B25["LAnkle"]}
_TOES = {"R": (_B25["RBigToe"], _B25["RSmallToe"]), "L": (_B25["LBigToe"], _B25["LSmallToe"])}

# Body proportions in shoulder widths (OpenPose points, measured on VITON-HD), used to stand in for unseen joints.
_TORSO_LENGTH = 1.7  # neck to mid-hip
_HIP_WIDTH = 0.58
_UPPER_ARM, _LOWER_ARM = 0.8, 0.75
_UPPER_LEG, _LOWER_LEG, _FOOT = 1.45, 1.4, 0.35
_SHOULDER_INSET = 0.06
_LOOSE = 0.2


# --- geometry -------------------------------------------------------------------------------------------------------


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance of each point (M, 2) to the segment a-b, and the unclamped position t along it (0 at a, 1 at b)."""
    ab = b - a
    length2 = float(ab @ ab)
    t = (points - a) @ ab / length2 if length2 > 1e-9 else np.zeros(len(points))
    nearest = a + np.clip(t, 0.0, 1.0)[:, None] * ab
    return np.linalg.norm(points - nearest, axis=1), t


def _side(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sign of the cross product (b - a) x (p - a): which side of the line a-b each point is on."""
    ab = b - a
    return np.sign(ab[0] * (points[:, 1] - a[1]) - ab[1] * (points[:, 0] - a[0]))


class _Body:
    """Joint positions in pixels, unseen joints filled in from body proportions, plus the body's axes."""

    def __init__(self, keypoints: np.ndarray, parse: np.ndarray) -> None:
        xy = keypoints[:, :2].astype(np.float64)
        self.seen = keypoints[:, 2] > 0
        seen = self.seen
        height, width = parse.shape
        face = np.argwhere(parse == labels.FACE)[:, ::-1].astype(np.float64)  # (x, y)
        self.face_centre = face.mean(0) if len(face) else (xy[_NOSE] if seen[_NOSE] else None)

        if seen[_SHOULDER["R"]] and seen[_SHOULDER["L"]]:
            shoulder_width = float(np.linalg.norm(xy[_SHOULDER["R"]] - xy[_SHOULDER["L"]]))
        elif seen[_HIP["R"]] and seen[_HIP["L"]]:
            shoulder_width = float(np.linalg.norm(xy[_HIP["R"]] - xy[_HIP["L"]])) / _HIP_WIDTH
        elif len(face):
            shoulder_width = 2.2 * float(np.ptp(face[:, 0]) + 1)
        else:
            shoulder_width = 0.25 * width
        self.scale = max(shoulder_width, 4.0)
        s = self.scale

        # The person's right as an image direction: from the left shoulder (or hip) to the right one.
        right = np.array([-1.0, 0.0])  # a person facing the camera has their right on the image's left
        for pair in (_SHOULDER, _HIP):
            if seen[pair["R"]] and seen[pair["L"]]:
                d = xy[pair["R"]] - xy[pair["L"]]
                if np.linalg.norm(d) > 1e-6:
                    right = d / np.linalg.norm(d)
                    break
        self.right = right
        self.facing_camera = bool(right[0] <= 0)
        # Down the body: neck to mid-hip when both are seen, else perpendicular to the shoulders, pointing down.
        down = np.array([-right[1], right[0]])
        if down[1] < 0:
            down = -down
        if seen[_NECK] and seen[_MID_HIP] and np.linalg.norm(xy[_MID_HIP] - xy[_NECK]) > 1e-6:
            down = (xy[_MID_HIP] - xy[_NECK]) / np.linalg.norm(xy[_MID_HIP] - xy[_NECK])
        self.down = down

        points: dict[str, np.ndarray] = {}

        def get(index: int, fallback: np.ndarray) -> np.ndarray:
            return xy[index] if seen[index] else fallback

        neck_guess = None
        if seen[_SHOULDER["R"]] and seen[_SHOULDER["L"]]:
            neck_guess = (xy[_SHOULDER["R"]] + xy[_SHOULDER["L"]]) / 2
        elif self.face_centre is not None:
            neck_guess = self.face_centre + down * 0.6 * s
        else:
            neck_guess = np.array([width / 2, 0.2 * height])
        points["neck"] = get(_NECK, neck_guess)
        for side, sign in (("R", 1.0), ("L", -1.0)):
            points["shoulder" + side] = get(_SHOULDER[side], points["neck"] + sign * right * s / 2)
        mid_hip_guess = points["neck"] + down * _TORSO_LENGTH * s
        if seen[_HIP["R"]] and seen[_HIP["L"]]:
            mid_hip_guess = (xy[_HIP["R"]] + xy[_HIP["L"]]) / 2
        points["midhip"] = get(_MID_HIP, mid_hip_guess)
        for side, sign in (("R", 1.0), ("L", -1.0)):
            points["hip" + side] = get(_HIP[side], points["midhip"] + sign * right * _HIP_WIDTH * s / 2)
            points["elbow" + side] = get(_ELBOW[side], points["shoulder" + side] + down * _UPPER_ARM * s)
            points["wrist" + side] = get(_WRIST[side], points["elbow" + side] + self._along(
                points["shoulder" + side], points["elbow" + side], down) * _LOWER_ARM * s)
            points["knee" + side] = get(_KNEE[side], points["hip" + side] + down * _UPPER_LEG * s)
            points["ankle" + side] = get(_ANKLE[side], points["knee" + side] + self._along(
                points["hip" + side], points["knee" + side], down) * _LOWER_LEG * s)
            toes = [xy[i] for i in _TOES[side] if seen[i]]
            points["toe" + side] = np.mean(toes, 0) if toes else points["ankle" + side] + down * _FOOT * s
        self.points = points
        # Shoulders, hips: the torso quadrilateral; its centre tells the arms' inner side. OpenPose puts the shoulder
        # points on the joints, about half an arm's thickness outside the trunk's outline: pull them in.
        inset = _SHOULDER_INSET * s * right
        self.torso = np.stack([points["shoulderR"] - inset, points["shoulderL"] + inset, points["hipL"],
                               points["hipR"]])
        self.torso_centre = self.torso.mean(0)

    @staticmethod
    def _along(a: np.ndarray, b: np.ndarray, default: np.ndarray) -> np.ndarray:
        d = b - a
        n = np.linalg.norm(d)
        return d / n if n > 1e-6 else default

    def torso_distance(self, pts: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """0 inside the shoulder-hip quadrilateral, else the distance to its outline."""
        canvas = Image.new("L", (shape[1], shape[0]))
        ImageDraw.Draw(canvas).polygon([tuple(p) for p in self.torso], fill=1, outline=1)
        inside = np.asarray(canvas, bool)[pts[:, 1].astype(int), pts[:, 0].astype(int)]
        quad = self.torso
        dist = np.min([_segment_distance(pts, quad[i], quad[(i + 1) % 4])[0] for i in range(4)], axis=0)
        return np.where(inside, 0.0, dist)


def approximate_densepose(parse: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """DensePose part labels (I = 0..24) painted from the coarse parse and the keypoints.

    GP-VTON's warp is conditioned on DensePose's part index map. DensePose is not available offline here, so this
    stands in for it: every person pixel of the coarse parse gets the DensePose part of the nearest body segment
    among those its parse label can belong to:

    - face -> head, split into its right (23) and left (24) halves by the body's vertical axis through the face;
    - hair -> head inside an ellipse around the face, torso over the shoulder-hip quadrilateral, else background
      (DensePose labels the body surface under the hair, not the hair);
    - neck -> head above the midpoint between the chin and the neck keypoint, torso below;
    - upper garment -> torso (inside the shoulder-hip quadrilateral, or nearest to it) or the nearest upper/lower arm
      segment (sleeves);
    - arms -> that side's upper or lower arm, the inner or outer half by the side of the bone; pixels past the wrist
      -> hand; hands -> hand;
    - lower body -> torso above the hips, else the nearest upper leg, lower leg or foot segment of either side.

    The person is assumed upright and, when their right shoulder is on the image's left, facing the camera (front
    labels 2, 9/10, 13/14; otherwise the back ones 1, 7/8, 11/12). Joints the pose did not see are stood in for from
    average body proportions. On the two VITON-HD samples with real DensePose maps (512x384), 74-75 % of the pixels
    that either marks as person get the same part, 80-82 % the same body region (head, torso, arms, hands, legs,
    feet), and the torso and head halves reach IoU 0.67-0.85 (tests/test_preprocess_inputs.py). The differences are
    mostly loose garment and hair outside the body outline, and the inner/outer halves of the arms.

    Args:
        parse: coarse parse ``uint8 (H, W)``.
        keypoints: BODY_25 (or COCO-18) ``(N, 3)`` in pixel coordinates of ``parse``.

    Returns:
        uint8 ``(H, W)`` of DensePose I labels.
    """
    if not isinstance(parse, np.ndarray) or parse.ndim != 2:
        raise ValueError(f"parse must be a uint8 label map (H, W), got {getattr(parse, 'shape', type(parse))}")
    parse = check_parse(parse, parse.shape)
    keypoints = to_body25(check_keypoints(keypoints))
    shape = parse.shape
    out = np.zeros(shape, np.uint8)
    if not (parse > 0).any():
        return out
    body = _Body(keypoints, parse)
    pts_all = np.argwhere(parse > 0)[:, ::-1].astype(np.float64) + 0.5  # pixel centres (x, y)
    lab_all = parse[parse > 0]
    result = np.zeros(len(pts_all), np.uint8)
    p = body.points
    front = body.facing_camera

    def arm_labels(pts: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
        """(distance to the nearest arm segment of this side, its DensePose label)."""
        name = "right" if side == "R" else "left"
        d_up, _ = _segment_distance(pts, p["shoulder" + side], p["elbow" + side])
        d_low, t_low = _segment_distance(pts, p["elbow" + side], p["wrist" + side])
        inner_up = _side(pts, p["shoulder" + side], p["elbow" + side]) == _side(
            body.torso_centre[None], p["shoulder" + side], p["elbow" + side])
        inner_low = _side(pts, p["elbow" + side], p["wrist" + side]) == _side(
            body.torso_centre[None], p["elbow" + side], p["wrist" + side])
        lab_up = np.where(inner_up, _P[f"upper_arm_{name}_inner"], _P[f"upper_arm_{name}_outer"])
        lab_low = np.where(inner_low, _P[f"lower_arm_{name}_inner"], _P[f"lower_arm_{name}_outer"])
        lab = np.where(d_up <= d_low, lab_up, lab_low)
        # Past the wrist is the hand.
        past_wrist = (t_low > 1.0) & (d_low > d_up)
        lab = np.where(past_wrist, _P[f"{name}_hand"], lab)
        return np.minimum(d_up, d_low), lab

    def leg_labels(pts: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
        name = "right" if side == "R" else "left"
        view = "front" if front else "back"
        segments = [(p["hip" + side], p["knee" + side], _P[f"upper_leg_{name}_{view}"]),
                    (p["knee" + side], p["ankle" + side], _P[f"lower_leg_{name}_{view}"]),
                    (p["ankle" + side], p["toe" + side], _P[f"{name}_foot"])]
        dists = np.stack([_segment_distance(pts, a, b)[0] for a, b, _ in segments])
        best = dists.argmin(0)
        return dists.min(0), np.array([lab for _, _, lab in segments], np.uint8)[best]

    torso_label = _P["torso_front"] if front else _P["torso_back"]

    def head_labels(pts: np.ndarray) -> np.ndarray:
        centre = body.face_centre if body.face_centre is not None else p["neck"] - body.down * 0.6 * body.scale
        # The person's right half: the side of the vertical body axis through the face that "right" points to.
        on_right = (pts - centre) @ body.right > 0
        return np.where(on_right, _P["head_right"], _P["head_left"]).astype(np.uint8)

    # Face.
    sel = lab_all == labels.FACE
    result[sel] = head_labels(pts_all[sel])

    # Neck: head above the midpoint between the chin and the neck point, torso below.
    sel = lab_all == labels.NECK
    if sel.any():
        pts = pts_all[sel]
        face_pts = pts_all[lab_all == labels.FACE]
        along = (pts - p["neck"]) @ body.down
        chin = ((face_pts - p["neck"]) @ body.down).max() if len(face_pts) else along.min()
        result[sel] = np.where(along < chin / 2, head_labels(pts), torso_label)

    # Hair: head near the face, torso over the torso, else background.
    sel = lab_all == labels.HAIR
    if sel.any():
        pts = pts_all[sel]
        face_pts = pts_all[lab_all == labels.FACE]
        if len(face_pts):
            centre = face_pts.mean(0)
            half = np.maximum(np.ptp(face_pts, 0) / 2, 1.0) * 1.15
        else:
            centre = p["neck"] - body.down * 0.6 * body.scale
            half = np.array([0.3, 0.4]) * body.scale
        in_head = (((pts - centre) / half) ** 2).sum(1) <= 1.0
        in_torso = body.torso_distance(pts, shape) == 0
        result[sel] = np.where(in_head, head_labels(pts), np.where(in_torso, torso_label, 0))

    # Upper garment: torso or sleeve (nearest arm segment).
    sel = lab_all == labels.UPPER_GARMENT
    if sel.any():
        pts = pts_all[sel]
        d_torso = body.torso_distance(pts, shape)
        d_r, lab_r = arm_labels(pts, "R")
        d_l, lab_l = arm_labels(pts, "L")
        # A hand label past the wrist makes no sense for a sleeve: use the lower arm there.
        lab_r = np.where(lab_r == _P["right_hand"], _P["lower_arm_right_outer"], lab_r)
        lab_l = np.where(lab_l == _P["left_hand"], _P["lower_arm_left_outer"], lab_l)
        arm_d, arm_lab = np.where(d_r <= d_l, d_r, d_l), np.where(d_r <= d_l, lab_r, lab_l)
        part = np.where(d_torso <= arm_d, torso_label, arm_lab)
        # Loose garment well away from the body covers no body surface.
        result[sel] = np.where(np.minimum(d_torso, arm_d) > _LOOSE * body.scale, 0, part)

    # Arms and hands.
    for side, arm, hand in (("R", labels.RIGHT_ARM, labels.RIGHT_HAND), ("L", labels.LEFT_ARM, labels.LEFT_HAND)):
        sel = lab_all == arm
        if sel.any():
            result[sel] = arm_labels(pts_all[sel], side)[1]
        result[lab_all == hand] = _P["right_hand" if side == "R" else "left_hand"]

    # Lower body: torso above the hips, else legs and feet.
    sel = lab_all == labels.LOWER_BODY
    if sel.any():
        pts = pts_all[sel]
        d_r, lab_r = leg_labels(pts, "R")
        d_l, lab_l = leg_labels(pts, "L")
        leg = np.where(d_r <= d_l, lab_r, lab_l)
        hip_line = ((pts - p["midhip"]) @ body.down) < 0
        in_torso = body.torso_distance(pts, shape) == 0
        result[sel] = np.where(hip_line & in_torso, torso_label, leg)

    ys, xs = np.nonzero(parse > 0)
    out[ys, xs] = result
    return out


# --- the other maps -------------------------------------------------------------------------------------------------


def densepose_onehot(densepose: np.ndarray) -> np.ndarray:
    """DensePose I labels (H, W) -> one-hot float32 (25, H, W) scaled to {-1, 1} (``onehot * 2 - 1``)."""
    height, width = densepose.shape
    onehot = np.full((NUM_DENSEPOSE_CHANNELS, height, width), -1.0, np.float32)
    onehot[densepose, np.arange(height)[:, None], np.arange(width)[None, :]] = 1.0
    return onehot


def preserve_mask(parse: np.ndarray, *, keep_hands: bool = True) -> np.ndarray:
    """Person regions GP-VTON keeps as they are (bool): hair, face, lower body and, with ``keep_hands``, the hands."""
    return label_mask(parse, PRESERVED_LABELS + (labels.HAND_LABELS if keep_hands else ()))


def skin_color(image: np.ndarray, parse: np.ndarray) -> np.ndarray:
    """Per-channel median RGB (float32 (3,)) over face, neck, arms and hands, counting values > 0 as upstream.

    Falls back to the face alone, then to the whole person, then to a neutral mid-tone, when a region is empty.
    """
    for wanted in (SKIN_LABELS, (labels.FACE,)):
        region = image[label_mask(parse, wanted)]
        if len(region):
            break
    else:
        region = image[parse > 0]
        if len(region):
            logger.warning("no face, neck or arm pixels in the parse: skin colour taken over the whole person")
    median = np.empty(3, np.float32)
    for c in range(3):
        values = region[:, c][region[:, c] > 0] if len(region) else region[:, c]
        median[c] = np.median(values) if len(values) else 128.0
    return median


def _split_parts(garment_parts: Mapping[str, np.ndarray] | Sequence[np.ndarray] | np.ndarray,
                 shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(left sleeve, torso, right sleeve) bool masks from a mapping, a 3-sequence or a label map 0/1/2/3."""
    if isinstance(garment_parts, Mapping):
        missing = [k for k in ("left_sleeve", "torso", "right_sleeve") if k not in garment_parts]
        if missing:
            raise ValueError(f"garment_parts needs the keys 'left_sleeve', 'torso', 'right_sleeve'; missing {missing}")
        parts = [garment_parts[k] for k in ("left_sleeve", "torso", "right_sleeve")]
    elif isinstance(garment_parts, np.ndarray) and garment_parts.ndim == 2:
        if garment_parts.dtype != np.uint8 or garment_parts.max(initial=0) > 3:
            raise ValueError("a garment part label map must be uint8 with 0 background, 1 left sleeve, 2 torso, "
                             "3 right sleeve")
        parts = [garment_parts == i for i in (1, 2, 3)]
    elif isinstance(garment_parts, Sequence | np.ndarray) and len(garment_parts) == 3:
        parts = list(garment_parts)
    else:
        raise ValueError("garment_parts must be a dict {'left_sleeve', 'torso', 'right_sleeve'} of masks, a sequence "
                         "(left_sleeve, torso, right_sleeve) or a uint8 label map (1 left sleeve, 2 torso, 3 right)")
    names = ("left sleeve mask", "torso mask", "right sleeve mask")
    left, torso, right = (check_mask(np.asarray(m), shape, name) for m, name in zip(parts, names))
    return left, torso, right


def build_gpvton_inputs(person: np.ndarray, keypoints: np.ndarray, parse: np.ndarray, garment: np.ndarray,
                        garment_mask: np.ndarray,
                        garment_parts: Mapping[str, np.ndarray] | Sequence[np.ndarray] | np.ndarray, *,
                        size: tuple[int, int] = GPVTON_SIZE, variant: str = "vitonhd",
                        keep_hands: bool = True) -> dict[str, torch.Tensor]:
    """Everything ``gp-vton`` (``variant="vitonhd"``) or ``gp-vton-dresscode`` (``"dresscode"``) takes.

    The photo (PIL bicubic), parse (nearest) and keypoints (scaled) are brought to ``size`` first and every map is
    computed there, as upstream computes them at its load resolution. The pose squares have half-side
    ``8 * H / 512`` (8 at 512x384, 16 at 1024x768).

    Args:
        person: person photo, uint8 RGB ``(h, w, 3)``, framed to the aspect ratio of ``size``.
        keypoints: BODY_25 (or COCO-18: MidHip is synthesised, feet missing) ``(N, 3)`` in pixels of ``person``.
        parse: coarse parse ``uint8 (h, w)`` of ``person``.
        garment: garment photo, uint8 RGB ``(hg, wg, 3)``.
        garment_mask: garment mask ``(hg, wg)``, bool or float in [0, 1].
        garment_parts: the garment's left sleeve (image right), torso and right sleeve masks at ``(hg, wg)``: a dict
            with keys ``left_sleeve``, ``torso``, ``right_sleeve``, a 3-sequence, or a uint8 label map (1, 2, 3).
        size: ``(H, W)`` of the tensors.
        variant: ``"vitonhd"`` or ``"dresscode"`` (upper-body garments).
        keep_hands: keep the hands in the preserve mask (upstream's palm mask).

    Returns:
        ``person``, ``warp_condition``, ``garment``, ``garment_mask``, ``garment_parts_label``, ``left_sleeve_mask``,
        ``torso_mask``, ``right_sleeve_mask``, ``preserve_mask``, ``arms_color`` (and ``garment_type`` for DressCode):
        float32 ``(1, C, H, W)``.
    """
    if variant not in ("vitonhd", "dresscode"):
        raise ValueError(f"variant must be 'vitonhd' or 'dresscode', got {variant!r}")
    size = check_size(size)
    person = check_image(person, "person image")
    garment = check_image(garment, "garment image")
    parse = check_parse(parse, person.shape[:2])
    garment_mask = check_mask(garment_mask, garment.shape[:2], "garment mask")
    left, torso, right = _split_parts(garment_parts, garment.shape[:2])
    keypoints = to_body25(scale_keypoints(check_keypoints(keypoints), person.shape[:2], size))

    person_small = resize_image(person, size, Image.BICUBIC)
    parse_small = resize_labels(parse, size)
    densepose = approximate_densepose(parse_small, keypoints)
    pose_maps = square_pose_maps(keypoints, size, radius=8 * size[0] / GPVTON_SIZE[0])
    preserve = preserve_mask(parse_small, keep_hands=keep_hands)
    warp_condition = np.empty((2 * NUM_DENSEPOSE_CHANNELS + 1, *size), np.float32)
    warp_condition[:NUM_DENSEPOSE_CHANNELS] = densepose_onehot(densepose)
    warp_condition[NUM_DENSEPOSE_CHANNELS:-1] = pose_maps
    warp_condition[-1] = preserve

    skin = skin_color(person_small, parse_small) / 127.5 - 1.0
    arms_color = np.broadcast_to(skin[:, None, None], (3, *size)).astype(np.float32)

    left, torso, right = (resize_mask(m, size) for m in (left, torso, right))
    torso = torso & ~left & ~right
    right = right & ~left
    inputs = {
        "person": image_tensor(person_small),
        "warp_condition": channels_tensor(warp_condition),
        "garment": image_tensor(resize_image(garment, size, Image.BICUBIC)),
        "garment_mask": mask_tensor(resize_mask(garment_mask, size)),
        "garment_parts_label": mask_tensor(garment_parts_label(left, torso, right,
                                                               3.0 if variant == "vitonhd" else 6.0)),
        "left_sleeve_mask": mask_tensor(left),
        "torso_mask": mask_tensor(torso),
        "right_sleeve_mask": mask_tensor(right),
        "preserve_mask": mask_tensor(preserve),
        "arms_color": channels_tensor(arms_color),
    }
    if variant == "dresscode":
        inputs["garment_type"] = mask_tensor(np.full(size, 1.0 / 3.0, np.float32))  # upper-body garment
    return inputs
