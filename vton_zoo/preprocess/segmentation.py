"""Person segmentation: which pixels of a photo belong to the person.

:func:`segment_person` runs MediaPipe's selfie segmentation (a small MobileNetV3-style network bundled with
MediaPipe; model 0 is the general 256x256 model, model 1 the faster 144x256 "landscape" one) and returns the person
probability as a ``float32`` mask. It was trained on people close to the camera, and works on fashion photos down to
the knees or feet. MediaPipe Pose also predicts a mask for the person it tracks (``PoseResult.mask``);
``method="pose"`` returns that one, and ``method="combined"`` (the default) the pixel-wise maximum of both, which keeps
loose hair and garment edges that one of the two misses; see the tests for the measured difference.
"""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from ._mediapipe import check_rgb, run_selfie_segmentation
from .pose import PoseResult, estimate_pose

logger = logging.getLogger(__name__)

METHODS = ("selfie", "pose", "combined")
_MAX_SIDE = 1280


def segment_person(
    image: np.ndarray,
    *,
    method: str = "combined",
    model_selection: int = 0,
    pose: PoseResult | None = None,
) -> np.ndarray:
    """Person probability of every pixel.

    Args:
        image: ``uint8`` RGB ``(H, W, 3)``.
        method: ``"selfie"`` (MediaPipe selfie segmentation), ``"pose"`` (MediaPipe Pose's mask of the person it
            found) or ``"combined"`` (the pixel-wise maximum of both).
        model_selection: selfie segmentation model: 0 general (256x256), 1 landscape (144x256).
        pose: the pose of ``image`` if already computed (``"pose"``/``"combined"`` reuse its mask).

    Returns:
        ``float32 (H, W)`` in ``[0, 1]``; all zeros where nobody is found (``"pose"``).

    Raises:
        ValueError: for a bad image or argument.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    image = check_rgb(image)
    height, width = image.shape[:2]
    masks = []
    if method in ("selfie", "combined"):
        scale = min(1.0, _MAX_SIDE / max(height, width))
        work = image
        if scale < 1.0:
            work = np.asarray(
                Image.fromarray(image).resize((round(width * scale), round(height * scale)), Image.BILINEAR)
            )
        mask = run_selfie_segmentation(work, model_selection=model_selection)
        if mask.shape != (height, width):
            mask = np.asarray(Image.fromarray(mask, mode="F").resize((width, height), Image.BILINEAR))
        masks.append(mask)
    if method in ("pose", "combined"):
        if pose is None:
            pose = estimate_pose(image)
        if pose.image_size != (height, width):
            raise ValueError(f"pose was computed on a {pose.image_size} image, not on this {(height, width)} one")
        masks.append(pose.mask if pose.mask is not None else np.zeros((height, width), np.float32))
    out = masks[0] if len(masks) == 1 else np.maximum(masks[0], masks[1])
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)
