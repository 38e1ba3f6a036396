"""Flow and sampling-grid utilities shared by the flow-based models (pure torch).

The PF-AFN family keeps flows as normalised sampling grids (B, 2, H, W) in [-1, 1], channel 0 = x, 1 = y
(architectures.md §1.2). ``apply_offset`` always normalises with (size - 1) / 2, the align_corners=True convention,
whatever the model's ``grid_sample`` setting: that is what the official code does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOW_PRECISION = (torch.float16, torch.bfloat16)


def upcast(tensor: torch.Tensor) -> torch.Tensor:
    """fp16/bf16 -> fp32; other dtypes unchanged (a no-op in fp32, so exact-mode outputs are untouched)."""
    return tensor.float() if tensor.dtype in LOW_PRECISION else tensor


def grid_sample(image: torch.Tensor, grid: torch.Tensor, **kwargs) -> torch.Tensor:
    """``F.grid_sample`` computed in at least fp32.

    Sampling coordinates need more than bf16's 8 mantissa bits (a normalised coordinate near 1 moves in steps of
    1/128, about 2 px at 384 px), and coarse-to-fine flows resample the previous flow at every level, so under
    autocast the errors would compound. The result is fp32; the convolutions that follow cast it back down.
    """
    image, grid = upcast(image), upcast(grid)
    if grid.dtype != image.dtype:
        grid = grid.to(image.dtype)
    return F.grid_sample(image, grid, **kwargs)


def apply_offset(offset: torch.Tensor) -> torch.Tensor:
    """Add pixel offsets to the identity grid and normalise to [-1, 1] (in at least fp32, see :func:`grid_sample`).

    Args:
        offset: (B, 2, H, W) pixel offsets, channel 0 = x, 1 = y.

    Returns:
        (B, H, W, 2) sampling grid for ``grid_sample``.
    """
    offset = upcast(offset)
    height, width = offset.shape[-2:]
    ys = torch.arange(height, device=offset.device, dtype=offset.dtype).view(1, height, 1)
    xs = torch.arange(width, device=offset.device, dtype=offset.dtype).view(1, 1, width)
    grid_x = (xs + offset[:, 0]) / ((width - 1.0) / 2.0) - 1.0
    grid_y = (ys + offset[:, 1]) / ((height - 1.0) / 2.0) - 1.0
    return torch.stack([grid_x, grid_y], dim=-1)  # [B, H, W, 2]


def warp(image: torch.Tensor, flow: torch.Tensor, *, padding_mode: str = "border", mode: str = "bilinear",
         align_corners: bool = False) -> torch.Tensor:
    """Sample ``image`` at a (B, 2, H, W) normalised flow grid."""
    return grid_sample(image, flow.permute(0, 2, 3, 1), mode=mode, padding_mode=padding_mode,
                       align_corners=align_corners)


def flow_to_pixels(flow: torch.Tensor) -> torch.Tensor:
    """Convert a normalised grid flow (B, 2, H, W) into pixel displacements from the identity (align_corners=True)."""
    height, width = flow.shape[-2:]
    ys = torch.arange(height, device=flow.device, dtype=flow.dtype).view(1, height, 1)
    xs = torch.arange(width, device=flow.device, dtype=flow.dtype).view(1, 1, width)
    dx = (flow[:, 0] + 1.0) * ((width - 1.0) / 2.0) - xs
    dy = (flow[:, 1] + 1.0) * ((height - 1.0) / 2.0) - ys
    return torch.stack([dx, dy], dim=1)  # [B, 2, H, W]
