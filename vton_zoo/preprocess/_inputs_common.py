"""Shared plumbing of the per-model input builders: validation, resizing, keypoint orders, pose maps, tensors.

Private to :mod:`vton_zoo.preprocess`; the public entry points are in ``daflow_inputs``, ``gpvton_inputs``,
``cpvton_inputs`` and ``model_inputs``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw

from . import labels

logger = logging.getLogger(__name__)

# Index of the BODY_25 points that COCO-18 does not have.
_MID_HIP = labels.BODY25_INDEX["MidHip"]
_R_HIP, _L_HIP = labels.BODY25_INDEX["RHip"], labels.BODY25_INDEX["LHip"]


# --- validation -----------------------------------------------------------------------------------------------------


def check_size(size: Sequence[int], what: str = "size") -> tuple[int, int]:
    """A target ``(H, W)`` of two positive ints."""
    try:
        height, width = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a pair (H, W) of positive ints, got {size!r}") from None
    if height <= 0 or width <= 0 or height != size[0] or width != size[1]:
        raise ValueError(f"{what} must be a pair (H, W) of positive ints, got {size!r}")
    return height, width


def check_image(image: np.ndarray, what: str = "image") -> np.ndarray:
    """An RGB ``uint8`` array ``(H, W, 3)`` with H, W >= 1."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{what} must be a numpy uint8 RGB array (H, W, 3), got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"{what} must have dtype uint8 (RGB 0..255), got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{what} must have shape (H, W, 3), got {image.shape}")
    return image


def check_mask(mask: np.ndarray, shape: tuple[int, int], what: str = "mask") -> np.ndarray:
    """A bool or float mask ``(H, W)`` of the given shape, returned as bool (float masks are thresholded at 0.5)."""
    if not isinstance(mask, np.ndarray):
        raise ValueError(f"{what} must be a numpy array (H, W), got {type(mask).__name__}")
    if mask.shape != shape:
        raise ValueError(f"{what} must have shape {shape} (the image's H, W), got {mask.shape}")
    if mask.dtype == bool:
        return mask
    if mask.dtype == np.uint8:
        # 0/255 or 0/1 masks: anything at or above half of the maximum possible value counts.
        return mask >= (128 if mask.max(initial=0) > 1 else 1)
    if np.issubdtype(mask.dtype, np.floating):
        if not np.isfinite(mask).all():
            raise ValueError(f"{what} contains NaN or inf")
        if mask.min(initial=0.0) < 0.0 or mask.max(initial=0.0) > 1.0:
            raise ValueError(f"{what} must be in [0, 1], got range [{mask.min()}, {mask.max()}]")
        return mask >= 0.5
    raise ValueError(f"{what} must be bool, uint8 or float in [0, 1], got dtype {mask.dtype}")


def check_parse(parse: np.ndarray, shape: tuple[int, int], what: str = "parse") -> np.ndarray:
    """A coarse parse label map ``uint8 (H, W)`` with labels ``0..NUM_PARSE_LABELS-1``."""
    if not isinstance(parse, np.ndarray):
        raise ValueError(f"{what} must be a numpy uint8 label map (H, W), got {type(parse).__name__}")
    if parse.shape != shape:
        raise ValueError(f"{what} must have the person image's shape {shape}, got {parse.shape}")
    if parse.dtype != np.uint8:
        raise ValueError(f"{what} must have dtype uint8 (labels of vton_zoo.preprocess.labels), got {parse.dtype}")
    if parse.size and parse.max() >= labels.NUM_PARSE_LABELS:
        raise ValueError(f"{what} has label {int(parse.max())}; "
                         f"the coarse labels are 0..{labels.NUM_PARSE_LABELS - 1}")
    return parse


def check_keypoints(keypoints: np.ndarray, what: str = "keypoints") -> np.ndarray:
    """Keypoints ``(18 or 25, 3)`` of (x, y, confidence), returned as float32 with missing points zeroed."""
    if not isinstance(keypoints, np.ndarray):
        raise ValueError(f"{what} must be a numpy array (18 or 25, 3), got {type(keypoints).__name__}")
    if keypoints.ndim != 2 or keypoints.shape[1] != 3 or keypoints.shape[0] not in (18, 25):
        raise ValueError(f"{what} must have shape (18, 3) (COCO-18) or (25, 3) (BODY_25), got {keypoints.shape}")
    if not np.issubdtype(keypoints.dtype, np.number) or keypoints.dtype == bool:
        raise ValueError(f"{what} must be numeric, got dtype {keypoints.dtype}")
    keypoints = keypoints.astype(np.float32)
    if not np.isfinite(keypoints).all():
        raise ValueError(f"{what} contains NaN or inf")
    missing = keypoints[:, 2] <= 0
    keypoints[missing] = 0.0
    return keypoints


# --- keypoint orders ------------------------------------------------------------------------------------------------


def to_coco18(keypoints: np.ndarray) -> np.ndarray:
    """COCO-18 from COCO-18 (copy) or BODY_25 (drop MidHip and the feet)."""
    if keypoints.shape[0] == 18:
        return keypoints.copy()
    return keypoints[list(labels.COCO18_TO_BODY25)].copy()


def to_body25(keypoints: np.ndarray) -> np.ndarray:
    """BODY_25 from BODY_25 (copy) or COCO-18 (MidHip = mean of the hips when both are seen, feet missing)."""
    if keypoints.shape[0] == 25:
        return keypoints.copy()
    out = np.zeros((25, 3), np.float32)
    out[list(labels.COCO18_TO_BODY25)] = keypoints
    if out[_R_HIP, 2] > 0 and out[_L_HIP, 2] > 0:
        out[_MID_HIP, :2] = (out[_R_HIP, :2] + out[_L_HIP, :2]) / 2
        out[_MID_HIP, 2] = min(out[_R_HIP, 2], out[_L_HIP, 2])
    return out


def scale_keypoints(keypoints: np.ndarray, from_hw: tuple[int, int], to_hw: tuple[int, int]) -> np.ndarray:
    """Keypoints of an image of size ``from_hw`` mapped onto the same image resized to ``to_hw``.

    Coordinates are multiplied by the size ratio (``x * W_to / W_from``), as the official dataloaders do when they
    resize the OpenPose coordinates (e.g. ``x0.25`` for 1024x768 -> 256x192). Missing points stay at (0, 0, 0).
    """
    out = keypoints.astype(np.float32, copy=True)
    out[:, 0] *= to_hw[1] / from_hw[1]
    out[:, 1] *= to_hw[0] / from_hw[0]
    out[out[:, 2] <= 0] = 0.0
    return out


# --- resizing -------------------------------------------------------------------------------------------------------


def resize_image(image: np.ndarray, size: tuple[int, int], resample: int = Image.BICUBIC) -> np.ndarray:
    """Resize an RGB uint8 image to ``(H, W)`` with PIL (no-op when the size already matches)."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    aspect_in, aspect_out = image.shape[1] / image.shape[0], width / height
    if abs(aspect_in / aspect_out - 1) > 0.02:
        logger.warning("resizing a %dx%d image to %dx%d changes its aspect ratio (%.3f -> %.3f); frame it first",
                       image.shape[0], image.shape[1], height, width, aspect_in, aspect_out)
    return np.asarray(Image.fromarray(image).resize((width, height), resample))


def resize_labels(label_map: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a uint8 label map with nearest-neighbour sampling (PIL NEAREST, as the official loaders)."""
    height, width = size
    if label_map.shape == (height, width):
        return label_map
    return np.asarray(Image.fromarray(label_map).resize((width, height), Image.NEAREST))


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a bool mask with nearest-neighbour sampling."""
    return resize_labels(mask.astype(np.uint8) * 255, size) >= 128


# --- maps -----------------------------------------------------------------------------------------------------------


def square_pose_maps(keypoints: np.ndarray, size: tuple[int, int], radius: float) -> np.ndarray:
    """One map per keypoint: a white square of half-side ``radius`` on black, in {-1, 1}, float32 (N, H, W).

    The squares are drawn with ``PIL.ImageDraw.rectangle((x-r, y-r, x+r, y+r))`` and a point is drawn only when
    ``x > 1 and y > 1``, as CP-VTON's ``cp_dataset.py`` and GP-VTON's ``aligned_dataset_vitonhd.py`` do; points
    with confidence 0 (missing) are skipped too.
    """
    height, width = size
    maps = np.full((keypoints.shape[0], height, width), -1.0, np.float32)
    for i, (x, y, conf) in enumerate(keypoints):
        if conf <= 0 or not (x > 1 and y > 1):
            continue
        canvas = Image.new("L", (width, height))
        ImageDraw.Draw(canvas).rectangle((x - radius, y - radius, x + radius, y + radius), 255, 255)
        maps[i] = np.asarray(canvas, np.float32) / 127.5 - 1.0
    return maps


def label_mask(parse: np.ndarray, wanted: Sequence[int]) -> np.ndarray:
    """Bool mask of the pixels whose label is in ``wanted``."""
    return np.isin(parse, np.asarray(wanted, np.uint8))


# --- tensors --------------------------------------------------------------------------------------------------------


def image_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, C) -> float32 (1, C, H, W) in [-1, 1] (x / 127.5 - 1: ToTensor then Normalize(0.5, 0.5))."""
    array = image.astype(np.float32) / 127.5 - 1.0
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))[None]


def mask_tensor(mask: np.ndarray) -> torch.Tensor:
    """bool/float (H, W) -> float32 (1, 1, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32))[None, None]


def channels_tensor(array: np.ndarray) -> torch.Tensor:
    """float32 (C, H, W) -> (1, C, H, W)."""
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))[None]
