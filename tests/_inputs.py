"""Random but valid model inputs built from a ModelSpec (no model-specific knowledge)."""

from __future__ import annotations

import torch

from vton_zoo.registry import ModelSpec
from vton_zoo.types import RANGE_UNIT


def input_size(spec: ModelSpec) -> tuple[int, int]:
    """The smallest convenient size the model accepts (its own resolution if it has a fixed one)."""
    if spec.fixed_resolution:
        return spec.resolution
    m = spec.size_multiple
    return (2 * m, 2 * m) if m >= 32 else spec.resolution


def random_inputs(spec: ModelSpec, batch: int = 1, size: tuple[int, int] | None = None,
                  seed: int = 0) -> dict[str, torch.Tensor]:
    height, width = size or input_size(spec)
    g = torch.Generator().manual_seed(seed)
    inputs = {}
    for name, tspec in spec.inputs.items():
        shape = (batch, tspec.channels, height, width)
        if tspec.value_range == RANGE_UNIT and tspec.channels == 1:
            inputs[name] = (torch.rand(shape, generator=g) > 0.5).float()  # masks and labels: binary
        else:
            lo, hi = tspec.value_range
            lo, hi = max(lo, -1.0), min(hi, 1.0)
            inputs[name] = lo + (hi - lo) * torch.rand(shape, generator=g)
    return inputs
