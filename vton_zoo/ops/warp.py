"""Flow and sampling-grid utilities shared by the flow-based models (pure torch).

The PF-AFN family keeps flows as normalised sampling grids (B, 2, H, W) in [-1, 1], channel 0 = x, 1 = y
(architectures.md §1.2). ``apply_offset`` always normalises with (size - 1) / 2, the align_corners=True convention,
whatever the model's ``grid_sample`` setting: that is what the official code does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def apply_offset(offset: torch.Tensor) -> torch.Tensor:
    """Add pixel offsets to the identity grid and normalise to [-1, 1].

    Args:
        offset: (B, 2, H, W) pixel offsets, channel 0 = x, 1 = y.

    Returns:
        (B, H, W, 2) sampling grid for ``grid_sample``.
    """
    height, width = offset.shape[-2:]
    ys = torch.arange(height, device=offset.device, dtype=offset.dtype).view(1, height, 1)
    xs = torch.arange(width, device=offset.device, dtype=offset.dtype).view(1, 1, width)
    grid_x = (xs + offset[:, 0]) / ((width - 1.0) / 2.0) - 1.0
    grid_y = (ys + offset[:, 1]) / ((height - 1.0) / 2.0) - 1.0
    return torch.stack([grid_x, grid_y], dim=-1)  # [B, H, W, 2]


def warp(image: torch.Tensor, flow: torch.Tensor, *, padding_mode: str = "border", mode: str = "bilinear",
         align_corners: bool = False) -> torch.Tensor:
    """Sample ``image`` at a (B, 2, H, W) normalised flow grid."""
    return F.grid_sample(image, flow.permute(0, 2, 3, 1), mode=mode, padding_mode=padding_mode,
                         align_corners=align_corners)


def flow_to_pixels(flow: torch.Tensor) -> torch.Tensor:
    """Convert a normalised grid flow (B, 2, H, W) into pixel displacements from the identity (align_corners=True)."""
    height, width = flow.shape[-2:]
    ys = torch.arange(height, device=flow.device, dtype=flow.dtype).view(1, height, 1)
    xs = torch.arange(width, device=flow.device, dtype=flow.dtype).view(1, 1, width)
    dx = (flow[:, 0] + 1.0) * ((width - 1.0) / 2.0) - xs
    dy = (flow[:, 1] + 1.0) * ((height - 1.0) / 2.0) - ys
    return torch.stack([dx, dy], dim=1)  # [B, 2, H, W]
