"""Random but valid model inputs built from a ModelSpec (no model-specific knowledge)."""

from __future__ import annotations

import torch

from vton_zoo import types
from vton_zoo.registry import ModelSpec


def input_size(spec: ModelSpec) -> tuple[int, int]:
    """The smallest convenient size the model accepts (its own resolution if it has a fixed one)."""
    if spec.fixed_resolution:
        return spec.resolution
    m = spec.size_multiple
    return (2 * m, 2 * m) if m >= 32 else spec.resolution


def random_inputs(spec: ModelSpec, batch: int = 1, size: tuple[int, int] | None = None,
                  seed: int = 0) -> dict[str, torch.Tensor]:
    return types.random_inputs(spec.inputs, batch, size or input_size(spec), seed)
