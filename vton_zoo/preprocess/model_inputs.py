"""One entry point from preprocessed photos to any zoo model's input dict.

The per-model recipes live in :mod:`.daflow_inputs`, :mod:`.gpvton_inputs` and :mod:`.cpvton_inputs`; the PF-AFN
family (PF-AFN, DM-VTON, RMGN) only needs the photos and the garment mask resized; ``tps-baseline`` takes the photos,
the garment mask, the one-hot coarse parse, COCO-18 keypoint heatmaps and the garment-type map of the garment's
category (:func:`build_tps_inputs`).
:func:`build_model_inputs` picks the recipe from the model's ``spec.inputs``, so the result can be passed straight to
``model(inputs)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..registry import ModelSpec, get_spec
from . import labels
from ._inputs_common import (
    channels_tensor,
    check_image,
    check_keypoints,
    check_mask,
    check_parse,
    check_size,
    image_tensor,
    mask_tensor,
    resize_image,
    resize_labels,
    resize_mask,
    scale_keypoints,
    to_coco18,
)
from .cpvton_inputs import build_cpvton_inputs
from .daflow_inputs import build_daflow_inputs
from .gpvton_inputs import build_gpvton_inputs

_PHOTO_INPUTS = frozenset({"person", "garment", "garment_mask"})
_TPS_INPUTS = _PHOTO_INPUTS | {"parse", "pose", "garment_type"}
#: The garment-type map's value per category (GP-VTON's DressCode convention: 1/3 upper body, 2/3 lower body, 1 dress).
GARMENT_TYPE = {"upper": 1.0 / 3.0, "lower": 2.0 / 3.0, "dress": 1.0}


def _spec_of(model: str | ModelSpec | Any) -> ModelSpec:
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, str):
        return get_spec(model)
    spec = getattr(model, "spec", None)
    if isinstance(spec, ModelSpec):
        return spec
    raise ValueError(f"model must be a model name, a ModelSpec or a zoo model, got {type(model).__name__}")


def recipe_for(model: str | ModelSpec | Any) -> str:
    """Which input recipe a model needs: ``"photos"``, ``"daflow"``, ``"gp-vton"``, ``"gp-vton-dresscode"``,
    ``"cp-vton"`` or ``"tps"``.

    Raises:
        ValueError: no recipe here produces the model's inputs.
    """
    spec = _spec_of(model)
    names = set(spec.inputs)
    if names == _PHOTO_INPUTS:
        return "photos"
    if names == _TPS_INPUTS:
        return "tps"
    if names == {"pose_image", "person_agnostic", "garment"}:
        return "daflow"
    if "warp_condition" in names:
        return "gp-vton-dresscode" if "garment_type" in names else "gp-vton"
    if "person_representation" in names:
        return "cp-vton"
    raise ValueError(f"no input builder for model '{spec.name}' (inputs {sorted(names)})")


def build_model_inputs(model: str | ModelSpec | Any, *, person: np.ndarray, garment: np.ndarray,
                       garment_mask: np.ndarray | None = None, keypoints: np.ndarray | None = None,
                       parse: np.ndarray | None = None,
                       garment_parts: Mapping[str, np.ndarray] | Sequence[np.ndarray] | np.ndarray | None = None,
                       size: tuple[int, int] | None = None, category: str = "upper") -> dict[str, torch.Tensor]:
    """The input dict of ``model`` (float32 tensors ``(1, C, H, W)`` keyed by its ``spec.inputs``).

    Args:
        model: a model name, its ``ModelSpec`` or a zoo model.
        person: person photo, uint8 RGB ``(h, w, 3)``, already framed to the aspect ratio of ``size``.
        garment: garment photo, uint8 RGB ``(hg, wg, 3)``.
        garment_mask: garment mask ``(hg, wg)`` (bool or float in [0, 1]); every model but DAFlow needs it.
        keypoints: COCO-18 or BODY_25 ``(N, 3)`` in pixels of ``person`` (DAFlow, GP-VTON, CP-VTON).
        parse: coarse parse ``uint8 (h, w)`` of ``person`` (DAFlow, GP-VTON, CP-VTON).
        garment_parts: left sleeve / torso / right sleeve masks of the garment (GP-VTON), see
            :func:`~vton_zoo.preprocess.gpvton_inputs.build_gpvton_inputs`.
        size: ``(H, W)``; defaults to the model's resolution.
        category: the garment's category, ``"upper"``, ``"lower"`` or ``"dress"`` (``tps-baseline`` uses it).

    Raises:
        ValueError: a missing or malformed argument, or a model with no recipe.
    """
    spec = _spec_of(model)
    recipe = recipe_for(spec)
    size = check_size(size if size is not None else spec.resolution)

    def need(value: Any, name: str) -> Any:
        if value is None:
            raise ValueError(f"{spec.name} needs {name}")
        return value

    if recipe == "photos":
        person = check_image(person, "person image")
        garment = check_image(garment, "garment image")
        mask = check_mask(need(garment_mask, "garment_mask"), garment.shape[:2], "garment mask")
        inputs = {
            "person": image_tensor(resize_image(person, size, Image.BICUBIC)),
            "garment": image_tensor(resize_image(garment, size, Image.BICUBIC)),
            "garment_mask": mask_tensor(resize_mask(mask, size)),
        }
    elif recipe == "daflow":
        inputs = build_daflow_inputs(person, need(keypoints, "keypoints"), need(parse, "parse"), garment, size=size)
    elif recipe == "tps":
        inputs = build_tps_inputs(person, need(keypoints, "keypoints"), need(parse, "parse"), garment,
                                  need(garment_mask, "garment_mask"), size=size, category=category)
    elif recipe == "cp-vton":
        inputs = build_cpvton_inputs(person, need(keypoints, "keypoints"), need(parse, "parse"), garment,
                                     need(garment_mask, "garment_mask"), size=size)
    else:
        inputs = build_gpvton_inputs(person, need(keypoints, "keypoints"), need(parse, "parse"), garment,
                                     need(garment_mask, "garment_mask"), need(garment_parts, "garment_parts"),
                                     size=size, variant="dresscode" if recipe == "gp-vton-dresscode" else "vitonhd")
    return {name: inputs[name] for name in spec.inputs}


def pose_heatmaps(keypoints: np.ndarray, size: tuple[int, int], sigma: float | None = None) -> np.ndarray:
    """One Gaussian heatmap per COCO-18 keypoint: float32 ``(18, H, W)`` in [0, 1], peak 1 at the point.

    Missing points (confidence 0) give all-zero maps. ``sigma`` defaults to 1/128 of ``H`` (at least 1.5 pixels).
    A point outside the image gives a map whose peak (at the border) is below 1 or zero: it may read back as missing.
    """
    height, width = check_size(size)
    keypoints = to_coco18(check_keypoints(keypoints))
    sigma = max(1.5, height / 128) if sigma is None else float(sigma)
    xs, ys = np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
    maps = np.zeros((keypoints.shape[0], height, width), np.float32)
    for index, (x, y, confidence) in enumerate(keypoints):
        if confidence > 0:
            # Separable Gaussian: outer product of the row and column profiles.
            maps[index] = np.outer(np.exp(-0.5 * ((ys - y) / sigma) ** 2), np.exp(-0.5 * ((xs - x) / sigma) ** 2))
    return maps


def build_tps_inputs(person: np.ndarray, keypoints: np.ndarray, parse: np.ndarray, garment: np.ndarray,
                     garment_mask: np.ndarray, *, size: tuple[int, int] = (512, 384),
                     category: str = "upper") -> dict[str, torch.Tensor]:
    """Everything ``tps-baseline`` takes, from a framed person photo and a garment photo with its mask.

    Args:
        person: person photo, uint8 RGB ``(h, w, 3)``, framed to the aspect ratio of ``size``.
        keypoints: COCO-18 or BODY_25 ``(N, 3)`` in pixel coordinates of ``person``.
        parse: coarse parse ``uint8 (h, w)`` of ``person``.
        garment: garment photo, uint8 RGB ``(hg, wg, 3)``.
        garment_mask: garment mask ``(hg, wg)``, bool or float in [0, 1].
        size: ``(H, W)`` of the tensors.
        category: the garment's category: ``"upper"``, ``"lower"`` or ``"dress"``.

    Returns:
        ``{"person", "garment", "garment_mask", "parse" (1, 10, H, W) one-hot, "pose" (1, 18, H, W) heatmaps,
        "garment_type" (1, 1, H, W) constant: GARMENT_TYPE[category]}``.
    """
    size = check_size(size)
    if category not in GARMENT_TYPE:
        raise ValueError(f"category must be one of {', '.join(GARMENT_TYPE)}, got {category!r}")
    person = check_image(person, "person image")
    garment = check_image(garment, "garment image")
    parse = check_parse(parse, person.shape[:2])
    mask = check_mask(garment_mask, garment.shape[:2], "garment mask")
    if not mask.any():
        raise ValueError("garment mask is empty: no garment pixel to warp")
    keypoints = scale_keypoints(to_coco18(check_keypoints(keypoints)), person.shape[:2], size)
    parse_small = resize_labels(parse, size)
    one_hot = (parse_small[None] == np.arange(labels.NUM_PARSE_LABELS, dtype=np.uint8)[:, None, None])
    return {
        "person": image_tensor(resize_image(person, size, Image.BICUBIC)),
        "garment": image_tensor(resize_image(garment, size, Image.BICUBIC)),
        "garment_mask": mask_tensor(resize_mask(mask, size)),
        "parse": channels_tensor(one_hot.astype(np.float32)),
        "pose": channels_tensor(pose_heatmaps(keypoints, size)),
        "garment_type": mask_tensor(np.full(size, GARMENT_TYPE[category], np.float32)),
    }
