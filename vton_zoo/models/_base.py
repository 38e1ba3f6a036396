"""The base class of every zoo model: named tensors in, named tensors out, checked against the spec."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from ..registry import ModelSpec


class TryOnModel(nn.Module):
    """A try-on network behind the zoo interface.

    Subclasses set ``spec`` (the registered ``ModelSpec``), keep the official sub-networks as attributes named after
    ``spec.official_parts`` (so ``load_official`` can load each official checkpoint into its part), and implement
    ``forward(inputs) -> outputs`` starting with ``self.check_inputs(inputs)``.
    """

    spec: ModelSpec

    def __init__(self, config: Any = None) -> None:
        super().__init__()
        self.config = config

    def config_dict(self) -> dict[str, Any]:
        """The constructor options, JSON-serialisable (saved in ``config.json``)."""
        if self.config is None:
            return {}
        return dataclasses.asdict(self.config)

    def check_inputs(self, inputs: dict[str, torch.Tensor]) -> tuple[int, int, int]:
        """Validate names, shapes and dtypes of ``inputs`` against the spec.

        Returns:
            (B, H, W) shared by every input.

        Raises:
            ValueError: an unknown or missing name, a wrong rank / channel count / size, mismatched batch or size
                across inputs, a non-float tensor, or H/W not divisible by ``spec.size_multiple``.
        """
        spec = self.spec
        if not isinstance(inputs, dict):
            raise ValueError(f"{spec.name} takes a dict of tensors keyed by {list(spec.inputs)}, "
                             f"got {type(inputs).__name__}")
        unknown = sorted(set(inputs) - set(spec.inputs))
        missing = [k for k in spec.inputs if k not in inputs]
        if unknown or missing:
            raise ValueError(f"{spec.name} expects inputs {list(spec.inputs)}; "
                             f"missing {missing}, unknown {unknown}")
        size = None
        for key, tspec in spec.inputs.items():
            value = inputs[key]
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"{spec.name} input '{key}' must be a torch.Tensor, got {type(value).__name__}")
            if not value.is_floating_point():
                raise ValueError(f"{spec.name} input '{key}' must be a floating-point tensor "
                                 f"(range {tspec.value_range}), got {value.dtype}")
            if value.dim() != 4 or (tspec.channels is not None and value.shape[1] != tspec.channels):
                raise ValueError(f"{spec.name} input '{key}' must have shape {tspec.shape_text()} "
                                 f"with C={tspec.channels}, got {tuple(value.shape)}")
            this = (value.shape[0], value.shape[2], value.shape[3])
            if size is None:
                size = this
            elif this != size:
                raise ValueError(f"{spec.name} inputs must share batch size and H x W; '{key}' has "
                                 f"(B, H, W) = {this}, the others {size}")
        assert size is not None
        _, height, width = size
        m = spec.size_multiple
        if height % m or width % m or height == 0 or width == 0:
            raise ValueError(f"{spec.name} needs H and W divisible by {m} (its feature pyramid halves the size "
                             f"{m.bit_length() - 1} times); got {height}x{width}. Its native resolution is "
                             f"{spec.resolution[0]}x{spec.resolution[1]}.")
        return size

    def extra_repr(self) -> str:
        return f"spec={self.spec.name!r}"


def compose_tryon(generator_out: torch.Tensor, warped_garment: torch.Tensor,
                  warped_mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The PF-AFN-family output composition (architectures.md §1.6).

    ``p_rendered = tanh(out[:, :3])``; ``m = sigmoid(out[:, 3:4])`` (times ``warped_mask`` when given);
    ``tryon = warped_garment * m + p_rendered * (1 - m)``.

    Returns:
        (tryon, composite_mask)
    """
    rendered = torch.tanh(generator_out[:, :3])
    composite_mask = torch.sigmoid(generator_out[:, 3:4])
    if warped_mask is not None:
        composite_mask = composite_mask * warped_mask
    tryon = warped_garment * composite_mask + rendered * (1 - composite_mask)
    return tryon, composite_mask
