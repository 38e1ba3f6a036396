"""OpenPose-style skeleton images: the pose input of DAFlow and the pose overlay shown in the demo.

DAFlow (OFA-Sys/DAFlow, ``data/data_process/draw_keypoints.py``) feeds its network a skeleton rendered on a black
256x192 canvas: the 18 COCO points as filled circles of radius 4, then the first 17 OpenPose limbs, each a filled
ellipse (half-length = half the limb, half-width ``stickwidth = 4``) blended onto the canvas as
``0.4 * canvas + 0.6 * (canvas with the ellipse)``. The colours are OpenPose's, written by OpenCV in BGR order and read
back as RGB, so in RGB each colour triple appears reversed (the neck-shoulder limbs are blue). This module redraws that
with PIL and numpy (no OpenCV): the ellipse outline is sampled every degree and rounded as ``cv2.ellipse2Poly`` does,
then filled as a polygon.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from . import labels
from ._inputs_common import check_image, check_keypoints, check_size, to_coco18

# DAFlow's drawing constants at its 256-pixel-high canvas.
_REFERENCE_HEIGHT = 256
_POINT_RADIUS = 4
_STICK_WIDTH = 4
_MIN_CONFIDENCE = 0.01  # draw_keypoints.py skips points (and limbs touching them) with confidence <= 0.01

# The colours as an RGB reader sees them (OpenCV wrote the OpenPose triples as BGR).
SKELETON_COLORS_RGB: tuple[tuple[int, int, int], ...] = tuple(tuple(c[::-1]) for c in labels.OPENPOSE_COLORS)


def _ellipse_polygon(center: tuple[int, int], half_axes: tuple[int, int], angle_deg: int) -> list[tuple[int, int]]:
    """Outline of a rotated ellipse sampled every degree with rounded vertices (``cv2.ellipse2Poly`` semantics)."""
    t = np.deg2rad(np.arange(0, 361, dtype=np.float64))
    a = math.radians(angle_deg)
    x = half_axes[0] * np.cos(t)
    y = half_axes[1] * np.sin(t)
    px = np.rint(center[0] + x * math.cos(a) - y * math.sin(a)).astype(int)
    py = np.rint(center[1] + x * math.sin(a) + y * math.cos(a)).astype(int)
    points: list[tuple[int, int]] = []
    for point in zip(px.tolist(), py.tolist()):
        if not points or point != points[-1]:
            points.append(point)
    return points


def draw_skeleton(keypoints: np.ndarray, size: tuple[int, int], *, scale: float | None = None,
                  background: np.ndarray | None = None) -> np.ndarray:
    """Draw an OpenPose COCO-18 skeleton the way DAFlow's ``draw_keypoints.py`` does.

    Args:
        keypoints: COCO-18 or BODY_25 keypoints ``(N, 3)`` in pixel coordinates of the canvas.
        size: canvas ``(H, W)``.
        scale: multiplies the point radius (4) and the limb half-width (4); defaults to ``H / 256`` so that the
            drawing at any size looks like DAFlow's at 256x192 (exactly DAFlow's at H = 256).
        background: optional uint8 RGB ``(H, W, 3)`` to draw on instead of black.

    Returns:
        uint8 RGB ``(H, W, 3)``.
    """
    height, width = check_size(size)
    keypoints = to_coco18(check_keypoints(keypoints))
    if scale is None:
        scale = height / _REFERENCE_HEIGHT
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale}")
    radius = max(1, round(_POINT_RADIUS * scale))
    stick = max(1, round(_STICK_WIDTH * scale))
    if background is None:
        canvas = Image.new("RGB", (width, height))
    else:
        background = check_image(background, "background")
        if background.shape[:2] != (height, width):
            raise ValueError(f"background must have shape {(height, width, 3)}, got {background.shape}")
        canvas = Image.fromarray(background)

    visible = keypoints[:, 2] > _MIN_CONFIDENCE
    draw = ImageDraw.Draw(canvas)
    for i in range(len(labels.COCO18_NAMES)):
        if visible[i]:
            x, y = int(keypoints[i, 0]), int(keypoints[i, 1])
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=SKELETON_COLORS_RGB[i])

    result = np.asarray(canvas).astype(np.float32)
    for i, (a, b) in enumerate(labels.COCO18_LIMBS[: labels.NUM_DRAWN_LIMBS]):
        if not (visible[a] and visible[b]):
            continue
        (xa, ya), (xb, yb) = keypoints[a, :2], keypoints[b, :2]
        length = math.hypot(float(xa - xb), float(ya - yb))
        angle = int(math.degrees(math.atan2(float(ya - yb), float(xa - xb))))
        center = (int((xa + xb) / 2), int((ya + yb) / 2))
        polygon = np.asarray(_ellipse_polygon(center, (int(length / 2), stick), angle))
        # Rasterise the limb in its bounding box only (clipped to the canvas).
        x0, y0 = np.maximum(polygon.min(0), 0)
        x1, y1 = np.minimum(polygon.max(0) + 1, (width, height))
        if x0 >= x1 or y0 >= y1:
            continue
        limb = Image.new("L", (int(x1 - x0), int(y1 - y0)))
        local = [(int(px - x0), int(py - y0)) for px, py in polygon]
        if len(local) >= 3:
            ImageDraw.Draw(limb).polygon(local, fill=255)
        else:  # a zero-length limb degenerates to a point or a segment
            ImageDraw.Draw(limb).line(local * 2, fill=255)
        inside = np.asarray(limb) > 0
        crop = result[y0:y1, x0:x1]
        # 0.4 * canvas + 0.6 * (canvas with the limb filled): only the limb's pixels change.
        crop[inside] = np.rint(0.4 * crop[inside] + 0.6 * np.asarray(SKELETON_COLORS_RGB[i], np.float32))
    return result.clip(0, 255).astype(np.uint8)


def render_pose_overlay(image: np.ndarray, keypoints: np.ndarray, *, opacity: float = 0.85) -> np.ndarray:
    """The skeleton drawn over the photo, for the demo's intermediate outputs.

    Args:
        image: uint8 RGB ``(H, W, 3)``.
        keypoints: COCO-18 or BODY_25 ``(N, 3)`` in pixel coordinates of ``image``.
        opacity: how strongly the skeleton covers the photo (0 = invisible, 1 = opaque).

    Returns:
        uint8 RGB ``(H, W, 3)`` of the same size as ``image``.
    """
    image = check_image(image)
    if not (0.0 <= opacity <= 1.0):
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    height, width = image.shape[:2]
    # Half DAFlow's relative line width: readable without hiding the photo.
    scale = max(height, width) / (2 * _REFERENCE_HEIGHT)
    skeleton = draw_skeleton(keypoints, (height, width), scale=scale).astype(np.float32)
    drawn = (skeleton.max(axis=2, keepdims=True) > 0).astype(np.float32) * opacity
    out = image.astype(np.float32) * (1 - drawn) + skeleton * drawn
    return np.rint(out).clip(0, 255).astype(np.uint8)
