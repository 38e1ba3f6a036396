"""GP-VTON: part-wise appearance flows with a global parsing head (LFGP warp) and a residual U-Net generator.

Paper: Xie, Huang, Dong, Zhao, Dong, Kampffmeyer, Yan, Liang, "GP-VTON: Towards General Purpose Virtual Try-on via
Collaborative Local-Flow Global-Parsing Learning", CVPR 2023 (arXiv 2303.13756).
Upstream: xiezhy6/GP-VTON @ cb41ee9c20206d634c9beaf7c0ebf2e84f687e00 (``test_warping.py``, ``test_tryon.py``,
``models/afwm.py``, ``models/networks.py``, ``data/aligned_dataset_{vitonhd,dresscode}.py``). Licence: README only,
"RESTRICTED to non-commercial research and educational purposes" (no LICENSE file). Written for this project from
architectures.md §6 and the parity manifest; module and parameter names follow the official ``state_dict()`` so the
released checkpoints load strictly.

Two registered models:

* ``gp-vton``: VITON-HD, ``AFWM_Vitonhd_lrarms(51)`` warp + ``ResUnetGenerator(36, 4, 5)`` generator, 7 parsing
  classes (0 background, 1 left sleeve, 2 torso, 3 right sleeve, 4 left arm, 5 right arm, 6 neck).
* ``gp-vton-dresscode``: DressCode, ``AFWM_Dressescode_lrarms(51)`` warp (garment encoder and every flow/parsing head
  modulated by SPADE on a 1-channel garment-type map) + the same generator; 10 parsing classes (1-3 upper/dress
  parts, 4-6 lower-body parts: left leg, skirt, right leg, 7 left arm, 8 right arm, 9 neck).

The two official inference scripts (``test_warping.py`` writes the warped garment and a label map to a PNG,
``test_tryon.py`` reads them back) are chained in memory here: ``forward`` = ``warp_stage`` + ``generate``.
Quirks of the official code that are kept, and deviations:

* The garment is warped per part (left sleeve, torso, right sleeve): three flows, stacked ``[left; torso; right]``
  on the batch axis as in the official ``last_flow`` (the ``flow`` output is (3B, 2, H, W)). A parsing head predicts
  the person's layout and decides, pixel by pixel, which part's warp is kept.
* ``grid_sample`` runs with ``align_corners=False`` (the torch 1.10 default GP-VTON used), also for the
  ``mode="nearest"`` warps of the part masks; ``apply_offset`` still normalises with (size - 1) / 2, as upstream.
* ``argmax`` is taken over ``softmax(logits)``, not the logits, as upstream: the two can differ where softmax rounds
  two near-equal logits to the same probability.
* Upstream builds its second-order smoothness filter with ``torch.cuda.FloatTensor`` inside ``forward`` and
  registers it as a parameter ``aflow_net.weight`` on the first call, which breaks CPU runs and leaves that key in
  trained checkpoints. Here it is a constant non-persistent buffer, so it never enters ``state_dict()``;
  ``load_official`` drops an ``aflow_net.weight`` key found in a file. It only feeds training losses.
* The attention/fused-flow branch (``netAttentionRefine``) and the per-level warped images only feed training losses;
  inference skips them (``PartFlowNet.forward(..., training_outputs=True)`` computes them).
* The correlation runs on CPU too (``vton_zoo.ops.correlation``); upstream is GPU-only (CuPy).
* The PNG round trip between the two stages (8-bit warped garment, uint8 labels) is skipped: ``generate`` gets the
  warp results in float, as in the parity fixtures.
* 1024x768 (``warp_downsample=2``): as upstream ``--resolution 1024``, the warp inputs are downsampled 0.5x (nearest
  for masks, labels and the 51-channel condition, bilinear for garment images and the garment-type map), the 512
  warp checkpoint runs, the flows are upsampled x2 (bilinear) and the parsing x2 (nearest), and the garment is
  warped and the generator run at full resolution. ``parsing_logits`` are returned upsampled (nearest) too.
* ``test_warping.py`` keeps the warp in ``train()`` mode; that is harmless because its encoders only use
  ``InstanceNorm2d(affine=False)`` without running statistics.
* DressCode: the official try-on stage builds its preserve mask with a few more person labels than the warp stage
  (for dresses and lower-body garments) and multiplies it by (1 - warped garment mask). ``forward`` takes one
  ``preserve_mask`` and applies the multiplication; call ``warp_stage`` and ``generate`` separately to pass the
  try-on stage its own mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .. import types
from ..ops.correlation import correlation
from ..ops.warp import apply_offset, grid_sample, warp
from ..registry import ModelSpec, OfficialFile, WeightSource, WeightsSpec, register_model
from ._afwm import FEATURE_CHANNELS, DownSample, FeatureEncoder, RefinePyramid, ResBlock, flow_head
from ._base import TryOnModel, compose_tryon
from ._resunet import ResUnetGenerator

NUM_PARTS = 3  # left sleeve, torso, right sleeve (DressCode lower body: left leg, skirt, right leg)


@dataclass
class GPVTONConfig:
    """Options of the GP-VTON models."""

    align_corners: bool = False  # grid_sample convention (False: the torch 1.10 default GP-VTON was run with)
    warp_downsample: int = 1  # 1: official --resolution 512; 2: --resolution 1024 (warp at half size, generator full)


def second_order_filters() -> torch.Tensor:
    """The four fixed 3x3 second-difference filters (horizontal, vertical, two diagonals), shape (4, 1, 3, 3).

    Upstream calls this tensor ``aflow_net.weight``; it measures flow curvature for the smoothness loss.
    """
    filters = torch.zeros(4, 1, 3, 3)
    filters[0, 0, 1] = torch.tensor([1.0, -2.0, 1.0])
    filters[1, 0, :, 1] = torch.tensor([1.0, -2.0, 1.0])
    filters[2, 0] = torch.tensor([[1.0, 0.0, 0.0], [0.0, -2.0, 0.0], [0.0, 0.0, 1.0]])
    filters[3, 0] = torch.tensor([[0.0, 0.0, 1.0], [0.0, -2.0, 0.0], [1.0, 0.0, 0.0]])
    return filters


# ---------------------------------------------------------------------------------------------------------------
# DressCode only: SPADE modulation by the garment-type map


class SPADE(nn.Module):
    """Parameter-free InstanceNorm, then a per-pixel scale and shift predicted from a label map (Park et al. 2019)."""

    def __init__(self, channels: int, label_channels: int = 1, hidden: int = 128) -> None:
        super().__init__()
        self.param_free_norm = nn.InstanceNorm2d(channels, affine=False)
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_channels, hidden, kernel_size=3, padding=1), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, channels, kernel_size=3, padding=1)
        self.mlp_beta = nn.Conv2d(hidden, channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor, label_map: torch.Tensor) -> torch.Tensor:
        label_map = F.interpolate(label_map, size=x.shape[-2:], mode="nearest")
        hidden = self.mlp_shared(label_map)
        return self.param_free_norm(x) * (1 + self.mlp_gamma(hidden)) + self.mlp_beta(hidden)


class SPADEResBlock(nn.Module):
    """(SPADE -> LeakyReLU(0.1) -> conv) x 2 plus the identity (upstream ``ResBlock_SPADE``; convs with bias)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm_0 = SPADE(channels)
        self.norm_1 = SPADE(channels)
        self.actvn_0 = nn.LeakyReLU(0.1)
        self.actvn_1 = nn.LeakyReLU(0.1)
        self.conv_0 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv_1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor, label_map: torch.Tensor) -> torch.Tensor:
        residual = self.conv_0(self.actvn_0(self.norm_0(x, label_map)))
        residual = self.conv_1(self.actvn_1(self.norm_1(residual, label_map)))
        return residual + x


class SPADEFeatureEncoder(nn.Module):
    """Garment encoder of the DressCode warp: per stage an InstanceNorm ``DownSample`` and 2 ``SPADEResBlock``s."""

    def __init__(self, in_channels: int, channels: tuple[int, ...] = FEATURE_CHANNELS) -> None:
        super().__init__()
        self.encoders = nn.ModuleList()
        for out_channels in channels:
            self.encoders.append(nn.ModuleList([
                DownSample(in_channels, out_channels, nn.InstanceNorm2d),
                SPADEResBlock(out_channels),
                SPADEResBlock(out_channels),
            ]))
            in_channels = out_channels

    def forward(self, x: torch.Tensor, label_map: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for downsample, block_a, block_b in self.encoders:
            x = block_b(block_a(downsample(x), label_map), label_map)
            features.append(x)
        return features


class SPADEHead(nn.ModuleList):
    """A ``flow_head`` with ``SPADE`` after each hidden conv: conv, SPADE, LeakyReLU x 3, conv [, Tanh].

    A ``ModuleList`` (not ``Sequential``) because the SPADE layers take the label map; the indices are the official
    key names (``.1``, ``.4``, ``.7`` are the SPADE layers).
    """

    def __init__(self, in_channels: int, out_channels: int, tanh: bool = False) -> None:
        layers: list[nn.Module] = []
        for width in (128, 64, 32):
            layers += [nn.Conv2d(in_channels, width, kernel_size=3, padding=1), SPADE(width), nn.LeakyReLU(0.1)]
            in_channels = width
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        if tanh:
            layers.append(nn.Tanh())
        super().__init__(layers)

    def forward(self, x: torch.Tensor, label_map: torch.Tensor) -> torch.Tensor:
        for layer in self:
            x = layer(x, label_map) if isinstance(layer, SPADE) else layer(x)
        return x


# ---------------------------------------------------------------------------------------------------------------
# The LFGP warp


def _head(in_channels: int, out_channels: int, conditioned: bool, tanh: bool = False) -> nn.Module:
    if conditioned:
        return SPADEHead(in_channels, out_channels, tanh)
    head = flow_head(in_channels, out_channels)
    return nn.Sequential(*head, nn.Tanh()) if tanh else head


def _run(head: nn.Module, x: torch.Tensor, label_map: torch.Tensor | None) -> torch.Tensor:
    return head(x, label_map) if isinstance(head, SPADEHead) else head(x)


class PartFlowNet(nn.Module):
    """Cascaded part flows with global parsing (upstream ``AFlowNet_Vitonhd_lrarms`` / ``AFlowNet_Dresscode_lrarms``).

    Per pyramid level, coarse to fine, for each of the 3 garment parts (batched as 3B): correlation of the garment
    feature (pre-warped by the part's previous flow) with the person feature -> ``net<Part>Main`` offset, composed
    with the previous flow; ``net<Part>Refine`` on [garment feature warped by that flow, person feature] -> offset,
    composed again; upsample x2. Then the parsing head: the garment feature (x2) warped by each part flow, masked by
    the warped part mask and (1 - preserve mask), fused by ``netPartFusion`` and, with the person feature (x2),
    classified by ``netSeg`` (tanh-bounded logits).
    """

    def __init__(self, num_pyramid: int = 5, fpn_dim: int = 256, num_classes: int = 7, conditioned: bool = False,
                 align_corners: bool = False) -> None:
        super().__init__()
        self.align_corners = align_corners

        def heads(in_channels: int, out_channels: int, cond: bool = conditioned, tanh: bool = False) -> nn.ModuleList:
            return nn.ModuleList([_head(in_channels, out_channels, cond, tanh) for _ in range(num_pyramid)])

        # Official names (noqa N815): one head per level and per part.
        self.netLeftMain = heads(49, 2)  # noqa: N815
        self.netTorsoMain = heads(49, 2)  # noqa: N815
        self.netRightMain = heads(49, 2)  # noqa: N815
        self.netLeftRefine = heads(2 * fpn_dim, 2)  # noqa: N815
        self.netTorsoRefine = heads(2 * fpn_dim, 2)  # noqa: N815
        self.netRightRefine = heads(2 * fpn_dim, 2)  # noqa: N815
        # fuses the 3 part flows into one garment flow (training losses only); never SPADE-conditioned
        self.netAttentionRefine = heads(4 * fpn_dim, NUM_PARTS, cond=False, tanh=True)  # noqa: N815
        self.netPartFusion = nn.ModuleList([  # noqa: N815
            nn.Sequential(nn.Conv2d(NUM_PARTS * fpn_dim, fpn_dim, kernel_size=1), ResBlock(fpn_dim, nn.InstanceNorm2d))
            for _ in range(num_pyramid)
        ])
        self.netSeg = heads(2 * fpn_dim, num_classes, tanh=True)  # noqa: N815
        # upstream ``aflow_net.weight``, created inside its forward; a constant here, kept out of the state dict
        self.register_buffer("second_order", second_order_filters(), persistent=False)

    def _sample(self, x: torch.Tensor, flow: torch.Tensor, padding_mode: str = "border") -> torch.Tensor:
        return warp(x, flow, padding_mode=padding_mode, align_corners=self.align_corners)

    def _compose(self, last_flow: torch.Tensor | None, offsets: torch.Tensor) -> torch.Tensor:
        """Turn pixel offsets into a grid and resample the previous flow at it (the first level takes the grid)."""
        grid = apply_offset(offsets)  # [3B, h, w, 2]
        if last_flow is None:
            return grid.permute(0, 3, 1, 2)  # [3B, 2, h, w]
        return grid_sample(last_flow, grid, mode="bilinear", padding_mode="border",
                           align_corners=self.align_corners)

    def forward(self, part_garments: torch.Tensor, part_masks: torch.Tensor, garment: torch.Tensor,
                garment_mask: torch.Tensor, garment_pyramid: list[torch.Tensor], cond_pyramid: list[torch.Tensor],
                preserve_mask: torch.Tensor, garment_type: torch.Tensor | None = None,
                training_outputs: bool = False) -> dict[str, torch.Tensor | list[torch.Tensor]]:
        """Estimate the part flows and the parsing.

        Args:
            part_garments: (3B, 3, H, W) the masked garment times each part mask, stacked [left; torso; right].
            part_masks: (3B, 1, H, W) the garment part masks, same order.
            garment: (B, 3, H, W) the masked garment (training outputs only).
            garment_mask: (B, 1, H, W) its mask (training outputs only).
            garment_pyramid, cond_pyramid: FPN features, fine (H/2) to coarse (H/32).
            preserve_mask: (B, 1, H, W) person regions kept as they are.
            garment_type: (B, 1, H, W) garment-type map (DressCode only).
            training_outputs: also return what the official training losses use (upstream's other 10 lists).

        Returns:
            ``flow`` (3B, 2, H, W) and ``seg_list`` (per level, (B, classes, 2h, 2w) logits; the last is full size);
            with ``training_outputs`` also ``last_flow_all``, ``delta_list``, ``x_all``, ``x_edge_all``,
            ``delta_x_all``, ``delta_y_all``, ``x_full_all``, ``x_edge_full_all``, ``attention_all``.
        """
        mains = (self.netLeftMain, self.netTorsoMain, self.netRightMain)
        refines = (self.netLeftRefine, self.netTorsoRefine, self.netRightRefine)
        num_levels = len(garment_pyramid)
        batch = garment_pyramid[0].shape[0]
        extra: dict[str, list[torch.Tensor]] = {k: [] for k in (
            "last_flow_all", "delta_list", "x_all", "x_edge_all", "delta_x_all", "delta_y_all", "x_full_all",
            "x_edge_full_all", "attention_all")}
        seg_list = []
        last_flow = None
        for level in range(num_levels):
            garment_feature = garment_pyramid[num_levels - 1 - level]  # coarse to fine
            cond_feature = cond_pyramid[num_levels - 1 - level]
            garment_features = garment_feature.repeat(NUM_PARTS, 1, 1, 1)  # [3B, 256, h, w]
            cond_features = cond_feature.repeat(NUM_PARTS, 1, 1, 1)

            # 1. correlation -> part offsets -> compose
            if last_flow is not None:
                garment_prewarped = self._sample(garment_features, last_flow.detach())
            else:
                garment_prewarped = garment_features
            cost = F.leaky_relu(correlation(garment_prewarped, cond_features), 0.1)  # [3B, 49, h, w]
            offsets = torch.cat([_run(heads[level], part_cost, garment_type)
                                 for heads, part_cost in zip(mains, cost.split(batch))], 0)  # [3B, 2, h, w]
            last_flow = self._compose(last_flow, offsets)
            if training_outputs:
                extra["delta_list"].append(offsets)

            # 2. refinement on [garment feature warped by the part flow, person feature]
            garment_warped = self._sample(garment_features, last_flow)
            offsets = torch.cat([_run(heads[level], torch.cat([part_warped, cond_feature], 1), garment_type)
                                 for heads, part_warped in zip(refines, garment_warped.split(batch))], 0)
            flow = self._compose(last_flow, offsets)
            if training_outputs:
                extra["delta_list"].append(offsets)
                self._fusion_outputs(extra, level, num_levels, flow, garment_warped, cond_feature, garment,
                                     garment_mask)
            last_flow = F.interpolate(flow, scale_factor=2, mode="bilinear")  # [3B, 2, 2h, 2w]

            # 3. global parsing at 2h x 2w
            scale = 0.5 ** (num_levels - 1 - level)
            part_masks_level = F.interpolate(part_masks, scale_factor=scale, mode="bilinear")
            part_masks_warped = self._sample(part_masks_level, last_flow, "zeros")
            preserve_level = F.interpolate(preserve_mask, scale_factor=scale, mode="bilinear")
            garment_up = F.interpolate(garment_feature, scale_factor=2, mode="bilinear").repeat(NUM_PARTS, 1, 1, 1)
            cond_up = F.interpolate(cond_feature, scale_factor=2, mode="bilinear")
            garment_up = self._sample(garment_up, last_flow)
            parts = [part_feature * part_mask * (1 - preserve_level) for part_feature, part_mask
                     in zip(garment_up.split(batch), part_masks_warped.split(batch))]
            fused = self.netPartFusion[level](torch.cat(parts, 1))  # [B, 256, 2h, 2w]
            seg_list.append(_run(self.netSeg[level], torch.cat([fused, cond_up], 1), garment_type))

            if training_outputs:
                extra["last_flow_all"].append(last_flow)
                part_images = F.interpolate(part_garments, scale_factor=scale, mode="bilinear")
                extra["x_all"].append(self._sample(part_images, last_flow, "zeros"))
                extra["x_edge_all"].append(part_masks_warped)
                flow_x, flow_y = last_flow.split(1, dim=1)
                extra["delta_x_all"].append(F.conv2d(flow_x, self.second_order))
                extra["delta_y_all"].append(F.conv2d(flow_y, self.second_order))
        outputs: dict[str, torch.Tensor | list[torch.Tensor]] = {"flow": last_flow, "seg_list": seg_list}
        if training_outputs:
            outputs.update(extra)
        return outputs

    def _fusion_outputs(self, extra: dict[str, list[torch.Tensor]], level: int, num_levels: int, flow: torch.Tensor,
                        garment_warped: torch.Tensor, cond_feature: torch.Tensor, garment: torch.Tensor,
                        garment_mask: torch.Tensor) -> None:
        """Training only: attention over the 3 part flows -> one fused garment flow, and the garment warped by it."""
        batch = cond_feature.shape[0]
        attention = torch.softmax(self.netAttentionRefine[level](torch.cat([*garment_warped.split(batch),
                                                                            cond_feature], 1)), dim=1)
        left, torso, right = flow.split(batch)
        fused_flow = left * attention[:, 0:1] + torso * attention[:, 1:2] + right * attention[:, 2:3]
        fused_flow = F.interpolate(fused_flow, scale_factor=2, mode="bilinear")
        extra["attention_all"].append(F.interpolate(attention, scale_factor=2, mode="bilinear"))
        scale = 0.5 ** (num_levels - 1 - level)
        extra["x_full_all"].append(self._sample(F.interpolate(garment, scale_factor=scale, mode="bilinear"),
                                                fused_flow, "zeros"))
        extra["x_edge_full_all"].append(self._sample(F.interpolate(garment_mask, scale_factor=scale, mode="bilinear"),
                                                     fused_flow, "zeros"))


class PartFlowWarp(nn.Module):
    """The LFGP warping module (upstream ``AFWM_Vitonhd_lrarms`` / ``AFWM_Dressescode_lrarms``).

    InstanceNorm ResNet-FPN encoders for the garment ([masked garment, flat part label], 4 channels; SPADE residual
    blocks on the garment type for DressCode) and the person condition (51 channels), then ``PartFlowNet``.
    """

    def __init__(self, cond_channels: int = 51, garment_channels: int = 3, num_classes: int = 7,
                 conditioned: bool = False, align_corners: bool = False) -> None:
        super().__init__()
        if conditioned:
            self.image_features = SPADEFeatureEncoder(garment_channels + 1)
        else:
            self.image_features = FeatureEncoder(garment_channels + 1, norm=nn.InstanceNorm2d)
        self.cond_features = FeatureEncoder(cond_channels, norm=nn.InstanceNorm2d)
        self.image_FPN = RefinePyramid()  # noqa: N815 (official name)
        self.cond_FPN = RefinePyramid()  # noqa: N815
        self.aflow_net = PartFlowNet(len(FEATURE_CHANNELS), num_classes=num_classes, conditioned=conditioned,
                                     align_corners=align_corners)

    def forward(self, cond: torch.Tensor, garment: torch.Tensor, garment_mask: torch.Tensor,
                garment_parts_label: torch.Tensor, part_garments: torch.Tensor, part_masks: torch.Tensor,
                preserve_mask: torch.Tensor, garment_type: torch.Tensor | None = None,
                training_outputs: bool = False) -> dict[str, torch.Tensor | list[torch.Tensor]]:
        """See ``PartFlowNet.forward``; ``garment`` is already masked, the parts are stacked on the batch axis."""
        garment_input = torch.cat([garment, garment_parts_label], 1)  # [B, 4, H, W]
        if isinstance(self.image_features, SPADEFeatureEncoder):
            if garment_type is None:
                raise ValueError("the DressCode warp needs a garment_type map")
            garment_pyramid = self.image_FPN(self.image_features(garment_input, garment_type))
        else:
            garment_pyramid = self.image_FPN(self.image_features(garment_input))
        cond_pyramid = self.cond_FPN(self.cond_features(cond))
        return self.aflow_net(part_garments, part_masks, garment, garment_mask, garment_pyramid, cond_pyramid,
                              preserve_mask, garment_type, training_outputs)


# ---------------------------------------------------------------------------------------------------------------
# Specs


_INPUTS = {
    "person": types.image("person photo, RGB in [-1, 1] (used by the generator: its preserved regions)"),
    "warp_condition": types.image(
        "person representation for the warp, 51 channels in [-1, 1]: DensePose I one-hot (25, x2-1), BODY_25 pose "
        "maps (25, squares of radius 8 at 512x384 / 16 at 1024x768), preserve_mask (1); channels 25:50 (the pose) "
        "also feed the generator", channels=51),
    "garment": types.image("in-shop garment photo, RGB in [-1, 1], not masked (the model multiplies it by "
                           "garment_mask)"),
    "garment_mask": types.mask("garment mask, binary {0, 1}"),
    "garment_parts_label": types.mask(
        "flat garment part label: left sleeve 1/3, torso 2/3, right sleeve 1, else 0 (from the garment parsing)"),
    "left_sleeve_mask": types.mask("garment left-sleeve mask {0, 1} (image-right side of a front-facing garment)"),
    "torso_mask": types.mask("garment torso mask {0, 1} (torso, collar and other body labels of the garment parsing)"),
    "right_sleeve_mask": types.mask("garment right-sleeve mask {0, 1}"),
    "preserve_mask": types.mask(
        "person regions kept as they are {0, 1}: 29-class parsing labels other than the upper garment, arms, "
        "neck and background, plus the palms"),
    "arms_color": types.image("skin colour: per-image median RGB over face, neck and arms, broadcast to "
                              "(B, 3, H, W), /127.5-1"),
}


def _outputs(num_classes: int, garment_classes: str) -> dict[str, types.TensorSpec]:
    last = float(num_classes - 1)
    return {
        "flow": types.raw("part flows as normalised sampling grids (channel 0 = x, 1 = y), stacked [left; torso; "
                          "right] on the batch axis", 2, shape="(3B, 2, H, W)"),
        "parsing_logits": types.TensorSpec(num_classes, types.RANGE_SIGNED,
                                           "tanh-bounded parsing logits of the last level (at 1024x768 computed at "
                                           "half size and upsampled, nearest)"),
        "parsing": types.TensorSpec(1, (0.0, last), f"argmax(softmax(parsing_logits)) as float: {garment_classes}"),
        "warped_garment": types.image("the part warps fused by the parsing, times (1 - preserve_mask), [-1, 1]"),
        "warped_parsing": types.TensorSpec(1, (0.0, last), "warped part masks labelled by part (garment classes, "
                                                           "times 1 - preserve_mask) plus the arm and neck classes"),
        "generator_out": types.raw("raw generator output: 3 rendering channels (pre-tanh) + 1 mask logit", 4),
        "composite_mask": types.mask("sigmoid(mask logit) * warped garment mask: where the warped garment is kept"),
        "tryon": types.image("final try-on image, [-1, 1]"),
    }


_PAPER = ("GP-VTON: Towards General Purpose Virtual Try-on via Collaborative Local-Flow Global-Parsing Learning "
          "(CVPR 2023)")
_COMMIT = "cb41ee9c20206d634c9beaf7c0ebf2e84f687e00"
_LICENSE = "non-commercial research and education only (README; no LICENSE file)"
_BAIDU = "Baidu Yun, linked from https://github.com/xiezhy6/GP-VTON#inference (links expired, issue #60)"
# Baidu Yun links (README "Inference"), expired (issue #60); the Google Drive mirror never came (issue #46).
_BAIDU_SOURCE = WeightSource(
    "unavailable", "https://github.com/xiezhy6/GP-VTON#inference",
    license=_LICENSE,
    note="published on Baidu Yun only; the links have expired (issue #60) and the announced Google Drive mirror was "
         "never posted (issue #46): train the model with training/ or install files you have")
_WEIGHTS_NOTE = (
    "The authors published their checkpoints on Baidu Yun only (a Google Drive mirror was announced as 'available "
    "soon', issue #46), and issue #60 reports that the download links have expired, so no official weights can be "
    "obtained today: train the model with training/ (two stages: warp, then generator on the warp's outputs). If you "
    "have the files: `python -m vton_zoo.convert {name} PBAFN_warp_epoch_*.pth PBAFN_gen_epoch_*.pth --out DIR` "
    "and load the 1024x768 generator with `create_model('{name}', weights=DIR, warp_downsample=2)`. A stray "
    "`aflow_net.weight` key in warp files is ignored.")

SPEC = ModelSpec(
    name="gp-vton",
    title="GP-VTON (VITON-HD)",
    paper=_PAPER,
    paper_url="https://arxiv.org/abs/2303.13756",
    code_url="https://github.com/xiezhy6/GP-VTON",
    commit=_COMMIT,
    license=_LICENSE,
    inputs=_INPUTS,
    outputs=_outputs(7, "0 background, 1 left sleeve, 2 torso, 3 right sleeve, 4 left arm, 5 right arm, 6 neck"),
    resolution=(512, 384),
    resolutions=((1024, 768),),
    official_parts=("warp", "gen"),
    official_param_counts={"warp": 54_304_622, "gen": 43_916_672},
    weights=WeightsSpec(
        official_files=(
            OfficialFile("warp", "PBAFN_warp_epoch_121.pth", _BAIDU,
                         "checkpoints/gp-vton_partflow_vitonhd_usepreservemask_lrarms_1027/; plain state_dict, "
                         "may hold an extra aflow_net.weight (ignored); used at 512x384 and 1024x768"),
            OfficialFile("gen", "PBAFN_gen_epoch_201.pth", _BAIDU,
                         "512x384: checkpoints/gp-vton_gen_vitonhd_wskin_wgan_lrarms_1029/; 1024x768: "
                         "checkpoints/gp-vton_gen_vitonhd_wskin_wgan_lrarms_1024_230722/ (use warp_downsample=2)"),
        ),
        sources=(_BAIDU_SOURCE,),
        notes=_WEIGHTS_NOTE.format(name="gp-vton"),
    ),
    description="Part-wise flow warp with global parsing + ResUnet generator, trained on VITON-HD (512x384; the "
                "1024x768 generator runs the 512 warp on half-size inputs). Needs DensePose, OpenPose BODY_25, a "
                "29-class human parsing and a garment parsing to build its inputs.",
)

_DRESSCODE_INPUTS = {
    **_INPUTS,
    "garment_parts_label": types.mask(
        "flat garment part label / 6: upper and dresses 1 left sleeve, 2 torso, 3 right sleeve; lower body 4 left "
        "leg, 5 skirt/middle, 6 right leg; else 0"),
    "left_sleeve_mask": types.mask("garment left-sleeve (lower body: left-leg) mask {0, 1}"),
    "torso_mask": types.mask("garment torso (lower body: skirt/middle) mask {0, 1}"),
    "right_sleeve_mask": types.mask("garment right-sleeve (lower body: right-leg) mask {0, 1}"),
    "arms_color": types.image("skin colour: per-image median RGB over face, neck, arms and legs, broadcast, "
                              "/127.5-1"),
    "garment_type": types.mask("garment-type map, constant per image: 1/3 upper body, 2/3 lower body, 1 dresses"),
}

DRESSCODE_SPEC = ModelSpec(
    name="gp-vton-dresscode",
    title="GP-VTON (DressCode)",
    paper=_PAPER,
    paper_url="https://arxiv.org/abs/2303.13756",
    code_url="https://github.com/xiezhy6/GP-VTON",
    commit=_COMMIT,
    license=_LICENSE,
    inputs=_DRESSCODE_INPUTS,
    outputs=_outputs(10, "0 background, 1-3 upper/dress parts, 4-6 lower-body parts, 7 left arm, 8 right arm, "
                         "9 neck"),
    resolution=(512, 384),
    resolutions=((1024, 768),),
    categories=("upper", "lower", "dress"),
    official_parts=("warp", "gen"),
    official_param_counts={"warp": 81_406_877, "gen": 43_916_672},
    weights=WeightsSpec(
        official_files=(
            OfficialFile("warp", "PBAFN_warp_epoch_051.pth", _BAIDU,
                         "checkpoints/gp-vton_partflow_dresscode_lrarms_resume_1105/; plain state_dict"),
            OfficialFile("gen", "PBAFN_gen_epoch_201.pth", _BAIDU,
                         "512x384: checkpoints/gp-vton_gen_dresscode_wskin_wgan_wodenseleg_lrarms_1108/; 1024x768: "
                         "..._1024_230730/PBAFN_gen_epoch_111.pth (use warp_downsample=2)"),
        ),
        sources=(_BAIDU_SOURCE,),
        notes=_WEIGHTS_NOTE.format(name="gp-vton-dresscode"),
    ),
    description="GP-VTON for DressCode (upper body, lower body, dresses): the warp's garment encoder and heads are "
                "SPADE-modulated by the garment type; 10 parsing classes.",
)


# ---------------------------------------------------------------------------------------------------------------
# Models


class GPVTON(TryOnModel):
    """``AFWM_Vitonhd_lrarms(51)`` warp + ``ResUnetGenerator(36, 4, 5)``, chained as ``test_warping.py`` and
    ``test_tryon.py`` are."""

    spec = SPEC
    num_classes = 7
    conditioned = False  # SPADE on the garment type (DressCode)
    body_classes = (4, 5, 6)  # left arm, right arm, neck in the parsing; 1-3 are the garment parts

    def __init__(self, config: GPVTONConfig | None = None) -> None:
        config = config or GPVTONConfig()
        if config.warp_downsample not in (1, 2):
            raise ValueError(f"warp_downsample must be 1 (512x384 inputs) or 2 (1024x768 inputs, warp at half size), "
                             f"got {config.warp_downsample}")
        super().__init__(config)
        self.warp = PartFlowWarp(51, num_classes=self.num_classes, conditioned=self.conditioned,
                                 align_corners=config.align_corners)
        self.gen = ResUnetGenerator(36, 4, 5, ngf=64)

    # -- helpers the DressCode variant overrides

    def _garment_type(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor | None:
        return None

    def _first_part_class(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B, 1, 1, 1) parsing class of the left part (torso = +1, right = +2)."""
        batch = inputs["person"].shape[0]
        return torch.ones(batch, 1, 1, 1, device=inputs["person"].device, dtype=inputs["person"].dtype)

    def _generator_preserve_mask(self, preserve_mask: torch.Tensor, warped_mask: torch.Tensor) -> torch.Tensor:
        return preserve_mask

    # -- the two official stages

    def warp_stage(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``test_warping.py``: part flows, parsing, and the fused warped garment and label map.

        Returns ``flow``, ``parsing_logits``, ``parsing``, ``warped_garment``, ``warped_parsing``.
        """
        _, height, width = self.check_inputs(inputs)
        scale = self.config.warp_downsample
        if height % (32 * scale) or width % (32 * scale) or min(height, width) < 64 * scale:
            raise ValueError(f"{self.spec.name} needs H and W divisible by {32 * scale} and at least {64 * scale} "
                             f"(its warp pyramid halves the{' half-size' if scale > 1 else ''} inputs 5 times and "
                             f"instance-normalises the last level); got {height}x{width}")
        preserve_mask = inputs["preserve_mask"]
        garment_mask = inputs["garment_mask"]
        garment = inputs["garment"] * garment_mask
        part_masks = torch.cat([inputs["left_sleeve_mask"], inputs["torso_mask"], inputs["right_sleeve_mask"]], 0)
        part_garments = garment.repeat(NUM_PARTS, 1, 1, 1) * part_masks  # [3B, 3, H, W] left; torso; right
        warp_inputs = dict(cond=inputs["warp_condition"], garment=garment, garment_mask=garment_mask,
                           garment_parts_label=inputs["garment_parts_label"], part_garments=part_garments,
                           part_masks=part_masks, preserve_mask=preserve_mask, garment_type=self._garment_type(inputs))
        if scale != 1:
            # official --resolution 1024: the 512 warp runs on half-size inputs
            bilinear = ("garment", "part_garments", "garment_type")
            warp_inputs = {k: None if v is None else F.interpolate(
                v, scale_factor=1 / scale, mode="bilinear" if k in bilinear else "nearest")
                for k, v in warp_inputs.items()}
        out = self.warp(**warp_inputs)
        flow, parsing_logits = out["flow"], out["seg_list"][-1]
        if scale != 1:
            flow = F.interpolate(flow, scale_factor=scale, mode="bilinear")
            parsing_logits = F.interpolate(parsing_logits, scale_factor=scale, mode="nearest")

        align = self.config.align_corners
        warped_parts = warp(part_garments, flow, padding_mode="zeros", align_corners=align)
        warped_part_masks = warp(part_masks, flow, padding_mode="zeros", mode="nearest", align_corners=align)
        parsing = torch.argmax(torch.softmax(parsing_logits, dim=1), dim=1, keepdim=True).to(flow.dtype)

        first_class = self._first_part_class(inputs)
        warped_garment = 0
        warped_parsing = 0
        for part, (part_warped, mask_warped) in enumerate(zip(warped_parts.split(garment.shape[0]),
                                                              warped_part_masks.split(garment.shape[0]))):
            label = first_class + part
            selected = (parsing == label).to(flow.dtype)
            warped_garment = warped_garment + part_warped * selected
            warped_parsing = warped_parsing + mask_warped * selected * label
        warped_garment = warped_garment * (1 - preserve_mask)
        warped_parsing = warped_parsing * (1 - preserve_mask)
        for label in self.body_classes:
            warped_parsing = warped_parsing + (parsing == label).to(flow.dtype) * label
        return {
            "flow": flow,
            "parsing_logits": parsing_logits,
            "parsing": parsing,
            "warped_garment": warped_garment,
            "warped_parsing": warped_parsing,
        }

    def generate(self, person: torch.Tensor, preserve_mask: torch.Tensor, warped_garment: torch.Tensor,
                 warped_parsing: torch.Tensor, arms_color: torch.Tensor,
                 warp_condition: torch.Tensor) -> dict[str, torch.Tensor]:
        """``test_tryon.py``: the 36-channel generator input from the warp results, the generator, the composition.

        Args:
            person, preserve_mask, arms_color, warp_condition: as in ``spec.inputs`` (only the pose channels 25:50
                of ``warp_condition`` are used).
            warped_garment, warped_parsing: ``warp_stage`` outputs (or the official stage-1 PNG, decoded).

        Returns:
            ``generator_out``, ``composite_mask``, ``tryon``.
        """
        garment_labels = range(1, self.body_classes[0])
        warped_mask = sum((warped_parsing == label).to(warped_garment.dtype) for label in garment_labels)
        left_arm, right_arm, neck = ((warped_parsing == label).to(warped_garment.dtype) for label in self.body_classes)
        arms_neck_label = (left_arm + 2 * right_arm + 3 * neck) / 3
        preserve_mask = self._generator_preserve_mask(preserve_mask, warped_mask)
        generator_in = torch.cat([person * preserve_mask, warped_garment, warped_mask, arms_neck_label, arms_color,
                                  warp_condition[:, 25:50]], 1)  # [B, 36, H, W]
        generator_out = self.gen(generator_in)
        tryon, composite_mask = compose_tryon(generator_out, warped_garment, warped_mask)
        return {"generator_out": generator_out, "composite_mask": composite_mask, "tryon": tryon}

    def forward(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        warped = self.warp_stage(inputs)  # validates the inputs
        generated = self.generate(inputs["person"], inputs["preserve_mask"], warped["warped_garment"],
                                  warped["warped_parsing"], inputs["arms_color"], inputs["warp_condition"])
        return {**warped, **generated}


class GPVTONDressCode(GPVTON):
    """``AFWM_Dressescode_lrarms(51)`` warp (SPADE on the garment type) + ``ResUnetGenerator(36, 4, 5)``."""

    spec = DRESSCODE_SPEC
    num_classes = 10
    conditioned = True
    body_classes = (7, 8, 9)

    def _garment_type(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return inputs["garment_type"]

    def _first_part_class(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        # upstream selects classes 1-3 for 'upper' and 'dresses' pairs, 4-6 for 'lower' (garment_type 2/3)
        garment_type = inputs["garment_type"].flatten(1).mean(1)
        lower = torch.round(garment_type * 3) == 2
        return torch.where(lower, 4.0, 1.0).to(inputs["person"].dtype).view(-1, 1, 1, 1)

    def _generator_preserve_mask(self, preserve_mask: torch.Tensor, warped_mask: torch.Tensor) -> torch.Tensor:
        # the DressCode try-on dataset removes the warped garment from the preserved region
        return preserve_mask * (1 - warped_mask)


@register_model(SPEC)
def gp_vton(**config) -> GPVTON:
    """GP-VTON for VITON-HD (options: ``warp_downsample`` 1 for 512x384, 2 for 1024x768; ``align_corners``)."""
    return GPVTON(GPVTONConfig(**config))


@register_model(DRESSCODE_SPEC)
def gp_vton_dresscode(**config) -> GPVTONDressCode:
    """GP-VTON for DressCode (options as ``gp-vton``); needs the extra ``garment_type`` input."""
    return GPVTONDressCode(GPVTONConfig(**config))
