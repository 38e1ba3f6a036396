"""DAFlow's inputs from a person photo, its keypoints and coarse parse, and a garment photo.

DAFlow (OFA-Sys/DAFlow) is fed ``pose_image``, an OpenPose skeleton (see :mod:`vton_zoo.preprocess.skeleton`), and
``person_agnostic``, the photo with the upper garment, neck and arms painted black, made by
``data/data_process/get_img_agnostic.py`` at 256x192. That script:

1. paints the upper-clothes parse labels black;
2. draws black shapes from the 18 OpenPose points (radius unit ``r = 10`` px at 256x192): a shoulder-to-shoulder line
   of width ``7r``, an ellipse around each shoulder (``4r`` left/up/down, ``5r`` right, as upstream), ``10r``-wide
   lines along the upper and lower arms with a ``4r`` disc at each elbow, ``3r x 6r`` ellipses at the hips, ``6r``
   lines down each side of the torso, a ``12r`` line between the hips and the shoulder-hip quadrilateral, after moving
   the hips so that they are as far apart as the shoulders; and a ``8r`` square over the neck point;
3. pastes the original head (hair, face) and lower body back.

Differences here, and why:

- The parse is the coarse one of :mod:`vton_zoo.preprocess.labels`. Step 1 paints the upper garment, neck and arm
  labels (upstream only the upper-clothes labels, relying on the shapes of step 2 for neck and arms), so that an arm
  the pose shapes miss is still hidden.
- Upstream step 3 also means to paste the hands back, but its hand mask is emptied by a zero-size crop (``r = 0``), so
  in its training data the hands are visible only where the pose shapes did not reach. ``keep_hands=True`` (default)
  pastes the coarse parse's hand labels back; ``keep_hands=False`` leaves them as the shapes left them.
- Missing keypoints (confidence 0) are skipped shape by shape; upstream would draw towards (0, 0).
- The shapes scale with the image height (``r = 10 * H / 256``), so any size gives the 256x192 look.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from . import labels
from ._inputs_common import (
    check_image,
    check_keypoints,
    check_parse,
    check_size,
    image_tensor,
    label_mask,
    resize_image,
    resize_labels,
    scale_keypoints,
    to_coco18,
)
from .skeleton import draw_skeleton

DAFLOW_SIZE = (256, 192)

# COCO-18 indices used by the agnostic shapes.
_NECK, _R_SHOULDER, _R_ELBOW, _R_WRIST = 1, 2, 3, 4
_L_SHOULDER, _L_ELBOW, _L_WRIST = 5, 6, 7
_R_HIP, _L_HIP = 8, 11

HIDDEN_LABELS = (labels.UPPER_GARMENT, labels.NECK, labels.RIGHT_ARM, labels.LEFT_ARM)
KEPT_LABELS = (labels.HAIR, labels.FACE, labels.LOWER_BODY)


def _draw_pose_shapes(draw: ImageDraw.ImageDraw, keypoints: np.ndarray, r: float) -> None:
    """The black pose-driven shapes of get_img_agnostic.py (step 2 of the module docstring)."""
    points = keypoints[:, :2].astype(np.float64)
    seen = keypoints[:, 2] > 0

    def pt(i: int) -> tuple[float, float]:
        return float(points[i, 0]), float(points[i, 1])

    def width(k: float) -> int:
        return max(1, round(k * r))

    black = (0, 0, 0)
    if seen[[_R_SHOULDER, _L_SHOULDER, _R_HIP, _L_HIP]].all():
        # Hips moved symmetrically about their midpoint to the shoulders' spread.
        shoulder_spread = np.linalg.norm(points[_L_SHOULDER] - points[_R_SHOULDER])
        hip_spread = max(np.linalg.norm(points[_L_HIP] - points[_R_HIP]), 1e-8)
        centre = (points[_R_HIP] + points[_L_HIP]) / 2
        for i in (_R_HIP, _L_HIP):
            points[i] = centre + (points[i] - centre) / hip_spread * shoulder_spread

    # Arms.
    if seen[_R_SHOULDER] and seen[_L_SHOULDER]:
        draw.line([pt(_R_SHOULDER), pt(_L_SHOULDER)], black, width=width(7))
    for i in (_R_SHOULDER, _L_SHOULDER):
        if seen[i]:
            x, y = pt(i)
            draw.ellipse((x - 4 * r, y - 4 * r, x + 5 * r, y + 4 * r), black, black)
    for i in (_R_ELBOW, _R_WRIST, _L_ELBOW, _L_WRIST):
        if not (seen[i - 1] and seen[i]):
            continue
        draw.line([pt(i - 1), pt(i)], black, width=width(10))
        if i in (_R_ELBOW, _L_ELBOW):
            x, y = pt(i)
            draw.ellipse((x - 4 * r, y - 4 * r, x + 4 * r, y + 4 * r), black, black)

    # Torso.
    for i in (_R_HIP, _L_HIP):
        if seen[i]:
            x, y = pt(i)
            draw.ellipse((x - 3 * r, y - 6 * r, x + 3 * r, y + 6 * r), black, black)
    for chain, k in (((_R_SHOULDER, _R_HIP), 6), ((_L_SHOULDER, _L_HIP), 6), ((_R_HIP, _L_HIP), 12)):
        line = [pt(i) for i in chain if seen[i]]
        if len(line) == 2:
            draw.line(line, black, width=width(k))
    quad = [pt(i) for i in (_R_SHOULDER, _L_SHOULDER, _L_HIP, _R_HIP) if seen[i]]
    if len(quad) >= 3:
        draw.polygon(quad, black, black)

    # Neck.
    if seen[_NECK]:
        x, y = pt(_NECK)
        draw.rectangle((x - 4 * r, y - 4 * r, x + 4 * r, y + 4 * r), black, black)


def daflow_agnostic(image: np.ndarray, parse: np.ndarray, keypoints: np.ndarray, *, keep_hands: bool = True,
                    pose_shapes: bool = True) -> np.ndarray:
    """The cloth-agnostic person DAFlow is fed, at the image's own resolution.

    Args:
        image: person photo, uint8 RGB ``(H, W, 3)``.
        parse: coarse parse ``uint8 (H, W)`` of the same photo.
        keypoints: COCO-18 or BODY_25 ``(N, 3)`` in pixel coordinates of ``image``.
        keep_hands: paste the parse's hand labels back (see the module docstring).
        pose_shapes: draw the pose-driven shapes; ``False`` only paints the hidden parse labels (the recipe of the
            parity fixtures' ``img_agnostic``).

    Returns:
        uint8 RGB ``(H, W, 3)``: black over the upper garment, neck and arms.
    """
    image = check_image(image, "person image")
    height, width = image.shape[:2]
    parse = check_parse(parse, (height, width))
    keypoints = to_coco18(check_keypoints(keypoints))

    painted = image.copy()
    painted[label_mask(parse, HIDDEN_LABELS)] = 0
    agnostic = Image.fromarray(painted)
    if pose_shapes:
        _draw_pose_shapes(ImageDraw.Draw(agnostic), keypoints, 10.0 * height / DAFLOW_SIZE[0])
    out = np.array(agnostic)
    kept = label_mask(parse, KEPT_LABELS + (labels.HAND_LABELS if keep_hands else ()))
    out[kept] = image[kept]
    return out


def daflow_pose_image(keypoints: np.ndarray, size: tuple[int, int] = DAFLOW_SIZE) -> np.ndarray:
    """DAFlow's skeleton input (uint8 RGB ``size``) from keypoints already in that canvas's pixel coordinates."""
    return draw_skeleton(keypoints, check_size(size))


def build_daflow_inputs(person: np.ndarray, keypoints: np.ndarray, parse: np.ndarray, garment: np.ndarray, *,
                        size: tuple[int, int] = DAFLOW_SIZE, keep_hands: bool = True) -> dict[str, torch.Tensor]:
    """Everything ``daflow`` takes, from a framed person photo and a garment photo.

    The photo, parse and keypoints are resized to ``size`` (PIL bilinear for RGB as torchvision's ``Resize``,
    nearest for labels, coordinates scaled); the skeleton and the agnostic image are then drawn at ``size``, as
    upstream draws them at 256x192. The person should already be framed to the aspect ratio of ``size``.

    Args:
        person: person photo, uint8 RGB ``(h, w, 3)``.
        keypoints: COCO-18 or BODY_25 ``(N, 3)`` in pixel coordinates of ``person``.
        parse: coarse parse ``uint8 (h, w)`` of ``person``.
        garment: in-shop garment photo, uint8 RGB (any size; resized to ``size``).
        size: ``(H, W)`` of the tensors (the model's resolution, 256x192).
        keep_hands: see :func:`daflow_agnostic`.

    Returns:
        ``{"pose_image", "person_agnostic", "garment"}``: float32 ``(1, 3, H, W)`` in [-1, 1].
    """
    size = check_size(size)
    person = check_image(person, "person image")
    garment = check_image(garment, "garment image")
    parse = check_parse(parse, person.shape[:2])
    keypoints = scale_keypoints(check_keypoints(keypoints), person.shape[:2], size)

    person_small = resize_image(person, size, Image.BILINEAR)
    parse_small = resize_labels(parse, size)
    return {
        "pose_image": image_tensor(daflow_pose_image(keypoints, size)),
        "person_agnostic": image_tensor(daflow_agnostic(person_small, parse_small, keypoints, keep_hands=keep_hands)),
        "garment": image_tensor(resize_image(garment, size, Image.BILINEAR)),
    }
