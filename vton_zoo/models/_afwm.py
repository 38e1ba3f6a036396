"""The PF-AFN appearance-flow warping module (AFWM) and its building blocks, shared by PF-AFN, RMGN and (in part)
DM-VTON, DAFlow and GP-VTON.

Paper: Ge et al., "Parser-Free Virtual Try-on via Distilling Appearance Flows", CVPR 2021.
Upstream: geyuying/PF-AFN @ e2bb71e2 (``PF-AFN_test/models/afwm.py``), research-only licence. Written for this
project from architectures.md §1.3-1.4; module and parameter names follow the official ``state_dict()`` so the
released checkpoints load strictly.

Deviations from upstream and why:

* ``align_corners`` of every ``grid_sample`` is a constructor option. PF-AFN ran on torch 1.1, where grid_sample
  behaved as ``align_corners=True``; RMGN and GP-VTON were run with the newer default ``False``. The parity manifests
  state the value per model.
* The correlation is ``vton_zoo.ops.correlation`` (CuPy on GPU, exact PyTorch elsewhere) instead of a GPU-only
  CuPy kernel, so the networks also run on CPU.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..ops.correlation import correlation
from ..ops.warp import apply_offset, grid_sample

FEATURE_CHANNELS = (64, 128, 256, 256, 256)


class DownSample(nn.Module):
    """BN -> ReLU -> 3x3 stride-2 conv (no bias): halves the resolution."""

    def __init__(self, in_channels: int, out_channels: int, norm: type[nn.Module] = nn.BatchNorm2d) -> None:
        super().__init__()
        self.block = nn.Sequential(
            norm(in_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=2, padding=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class ResBlock(nn.Module):
    """Pre-activation residual block: (BN -> ReLU -> conv) x 2 plus the identity."""

    def __init__(self, channels: int, norm: type[nn.Module] = nn.BatchNorm2d) -> None:
        super().__init__()
        self.block = nn.Sequential(
            norm(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False),
            norm(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x) + x


class FeatureEncoder(nn.Module):
    """Five stages of DownSample + 2 ResBlocks; returns the feature of every stage (H/2 ... H/32).

    Note the normalisation of the raw input: ``encoders.0.0.block.0`` is a norm over the input channels.
    """

    def __init__(self, in_channels: int, channels: tuple[int, ...] = FEATURE_CHANNELS,
                 norm: type[nn.Module] = nn.BatchNorm2d) -> None:
        super().__init__()
        self.encoders = nn.ModuleList()
        for out_channels in channels:
            self.encoders.append(nn.Sequential(
                DownSample(in_channels, out_channels, norm),
                ResBlock(out_channels, norm),
                ResBlock(out_channels, norm),
            ))
            in_channels = out_channels

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for encoder in self.encoders:
            x = encoder(x)
            features.append(x)
        return features


class RefinePyramid(nn.Module):
    """FPN: 1x1 lateral convs to ``fpn_dim``, top-down nearest x2 upsampling and add, 3x3 smoothing."""

    def __init__(self, channels: tuple[int, ...] = FEATURE_CHANNELS, fpn_dim: int = 256) -> None:
        super().__init__()
        # deepest first: adaptive.0 takes the H/32 feature
        self.adaptive = nn.ModuleList([nn.Conv2d(c, fpn_dim, kernel_size=1) for c in reversed(channels)])
        self.smooth = nn.ModuleList([nn.Conv2d(fpn_dim, fpn_dim, kernel_size=3, padding=1) for _ in channels])

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        pyramid = []
        previous = None
        for lateral, smooth, feature in zip(self.adaptive, self.smooth, reversed(features)):
            x = lateral(feature)
            if previous is not None:
                x = x + F.interpolate(previous, scale_factor=2, mode="nearest")
            x = smooth(x)
            previous = x
            pyramid.append(x)
        return pyramid[::-1]  # fine (H/2) to coarse (H/32), like the encoder


def flow_head(in_channels: int, out_channels: int = 2) -> nn.Sequential:
    """Conv3x3 in -> 128 -> 64 -> 32 -> out with LeakyReLU(0.1) between (``netMain`` / ``netRefine``)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 128, kernel_size=3, padding=1),
        nn.LeakyReLU(0.1),
        nn.Conv2d(128, 64, kernel_size=3, padding=1),
        nn.LeakyReLU(0.1),
        nn.Conv2d(64, 32, kernel_size=3, padding=1),
        nn.LeakyReLU(0.1),
        nn.Conv2d(32, out_channels, kernel_size=3, padding=1),
    )


class AFlowNet(nn.Module):
    """Cascaded appearance-flow estimation, coarse to fine (architectures.md §1.4).

    Per level: correlation of the pre-warped garment feature with the person feature -> ``netMain`` -> offset,
    composed with the previous flow; then ``netRefine`` on [garment feature warped by that flow, person feature] ->
    offset, composed again; then the flow is upsampled x2 for the next level.
    """

    def __init__(self, num_pyramid: int = 5, fpn_dim: int = 256, align_corners: bool = True) -> None:
        super().__init__()
        self.align_corners = align_corners
        self.netMain = nn.ModuleList([flow_head(49) for _ in range(num_pyramid)])  # noqa: N815 (official name)
        self.netRefine = nn.ModuleList([flow_head(2 * fpn_dim) for _ in range(num_pyramid)])  # noqa: N815

    def _sample(self, x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        return grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=self.align_corners)

    def forward(self, garment: torch.Tensor, garment_pyramid: list[torch.Tensor],
                person_pyramid: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        last_flow = None
        for level in range(len(garment_pyramid)):
            garment_feature = garment_pyramid[-1 - level]  # coarse to fine
            person_feature = person_pyramid[-1 - level]
            if last_flow is not None:
                garment_prewarped = self._sample(garment_feature, last_flow.detach().permute(0, 2, 3, 1))
            else:
                garment_prewarped = garment_feature
            cost = F.leaky_relu(correlation(garment_prewarped, person_feature), 0.1)  # [B, 49, h, w]
            grid = apply_offset(self.netMain[level](cost))  # [B, h, w, 2]
            if last_flow is not None:
                flow = self._sample(last_flow, grid)
            else:
                flow = grid.permute(0, 3, 1, 2)  # [B, 2, h, w]
            last_flow = flow
            garment_warped = self._sample(garment_feature, flow.permute(0, 2, 3, 1))
            grid = apply_offset(self.netRefine[level](torch.cat([garment_warped, person_feature], 1)))
            flow = self._sample(last_flow, grid)
            last_flow = F.interpolate(flow, scale_factor=2, mode="bilinear")
        garment_warped = self._sample(garment, last_flow.permute(0, 2, 3, 1))
        return garment_warped, last_flow


class AFWM(nn.Module):
    """Appearance-flow warping module: two ResNet-FPN encoders (garment, person/condition) + ``AFlowNet``."""

    def __init__(self, cond_channels: int = 3, garment_channels: int = 3, align_corners: bool = True) -> None:
        super().__init__()
        self.image_features = FeatureEncoder(garment_channels)
        self.cond_features = FeatureEncoder(cond_channels)
        self.image_FPN = RefinePyramid()  # noqa: N815 (official name)
        self.cond_FPN = RefinePyramid()  # noqa: N815
        self.aflow_net = AFlowNet(len(FEATURE_CHANNELS), align_corners=align_corners)

    def forward(self, cond: torch.Tensor, garment: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Warp ``garment`` (B, 3, H, W) onto the person described by ``cond``; returns (warped, flow)."""
        cond_pyramid = self.cond_FPN(self.cond_features(cond))
        garment_pyramid = self.image_FPN(self.image_features(garment))
        return self.aflow_net(garment, garment_pyramid, cond_pyramid)
