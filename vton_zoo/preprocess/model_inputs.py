"""One entry point from preprocessed photos to any zoo model's input dict.

The per-model recipes live in :mod:`.daflow_inputs`, :mod:`.gpvton_inputs` and :mod:`.cpvton_inputs`; the PF-AFN
family (PF-AFN, DM-VTON, RMGN) only needs the photos and the garment mask resized. :func:`build_model_inputs` picks
the recipe from the model's ``spec.inputs``, so the result can be passed straight to ``model(inputs)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..registry import ModelSpec, get_spec
from ._inputs_common import (
    check_image,
    check_mask,
    check_size,
    image_tensor,
    mask_tensor,
    resize_image,
    resize_mask,
)
from .cpvton_inputs import build_cpvton_inputs
from .daflow_inputs import build_daflow_inputs
from .gpvton_inputs import build_gpvton_inputs

_PHOTO_INPUTS = frozenset({"person", "garment", "garment_mask"})


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
    """Which input recipe a model needs: ``"photos"``, ``"daflow"``, ``"gp-vton"``, ``"gp-vton-dresscode"`` or
    ``"cp-vton"``.

    Raises:
        ValueError: no recipe here produces the model's inputs.
    """
    spec = _spec_of(model)
    names = set(spec.inputs)
    if names == _PHOTO_INPUTS:
        return "photos"
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
                       size: tuple[int, int] | None = None) -> dict[str, torch.Tensor]:
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
    elif recipe == "cp-vton":
        inputs = build_cpvton_inputs(person, need(keypoints, "keypoints"), need(parse, "parse"), garment,
                                     need(garment_mask, "garment_mask"), size=size)
    else:
        inputs = build_gpvton_inputs(person, need(keypoints, "keypoints"), need(parse, "parse"), garment,
                                     need(garment_mask, "garment_mask"), need(garment_parts, "garment_parts"),
                                     size=size, variant="dresscode" if recipe == "gp-vton-dresscode" else "vitonhd")
    return {name: inputs[name] for name in spec.inputs}
