"""DAFlow (SDAFNet): single-stage try-on that warps the garment and the person with deformable attention flows.

Paper: Bai, Zhou, Li, Tang, Zhou, "Single Stage Virtual Try-on via Deformable Attention Flows", ECCV 2022
(https://arxiv.org/abs/2207.09161). Upstream: OFA-Sys/DAFlow @ f46388809dd4c1ada8a7202b1338a84f5147c9dc
(``models/sdafnet.py``, ``test_SDAFNet_viton.py``); the same network is ported to ModelScope
(``modelscope/models/cv/virual_tryon/sdafnet.py``, model ``damo/cv_daflow_virtual-try-on_base``). Licence: the
official repository says in its README only that it is "RESTRICTED to non-commercial research and educational
purposes" (no LICENSE file); the ModelScope port's code is Apache-2.0 (modelscope/modelscope). Written for this project
from architectures.md §5; module and parameter names follow the official ``state_dict()`` so the released checkpoint
loads strictly.

The network is ``SDAFNet_Tryon(ref_in_channel=6, source_in_channel=3, head_nums=6)`` at 256x192. Two BN ResNet-FPN
encoders (the PF-AFN ones, ``_afwm.FeatureEncoder`` / ``RefinePyramid``) embed the garment ("source") and the
reference = [pose skeleton, cloth-agnostic person] (pose first). ``DAFlowNet`` then estimates, coarse to fine, k = 6
sampling grids plus attention maps for the garment (cross flows) and k for the person (self flows). The try-on is the
attention-weighted sum of the 2k warped copies of the garment and of the agnostic person, lifted to 64 channels by a
light encoder and brought back to RGB by a light decoder. There is no generator, no correlation and no custom op.

Official quirks kept, and deviations from upstream:

* The official checkpoint is ONE state dict of the whole ``SDAFNet_Tryon``; here it lives in the single part ``net``
  (the name of the parity manifest's part), so ``load_official("daflow", "ckpt_viton.pt")`` loads it strictly.
* ``grid_sample`` and the bilinear ``interpolate`` calls use ``align_corners=False`` (DAFlow ran on torch 1.7, whose
  default that is), while the offsets are normalised with (size - 1) / 2, the align_corners=True convention
  (``ops.warp.apply_offset``), exactly as upstream.
* The Cross-MFE input is [pre-warped garment feature, *un-warped* person feature]; only the Self- and Refine-MFEs
  see the person feature pre-warped by the previous self flows. Upstream does this; kept as is.
* Refine-MFE outputs 2k cross offsets, 2k self offsets and 2k attention logits under ONE softmax: the first k of
  the attention maps weight the person (self) heads, the last k the garment (cross) heads, so the softmax also acts
  as the garment-vs-person composition mask.
* ``DAFlowNet.__init__`` registers ``lights_decoder`` before ``lights_encoder``; the attributes are declared in that
  order so the key order of ``state_dict()`` matches the official one.
* The output ``tryon`` has NO tanh and is unbounded (values outside [-1, 1] are expected); it is returned raw.
  Callers clamp to [-1, 1] when they convert it to an image (upstream clamps only in ``save_image``; the ModelScope
  pipeline maps ``(x + 1) / 2 * 255`` without clamping).
* The official test script resizes every input to 256x192 with bilinear ``F.interpolate`` (the identity for 256x192
  inputs). The zoo model takes any H, W divisible by 32 and leaves resizing to the caller.
* The ``detach`` of the pre-warp flows (a training detail) is kept. The ``use_light_en_de=False`` and
  ``warp_feature=False`` ablation branches of upstream are not ported (the released model uses neither).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .. import types
from ..ops.warp import apply_offset, grid_sample
from ..registry import ModelSpec, OfficialFile, WeightSource, WeightsSpec, register_model
from ._afwm import FEATURE_CHANNELS, FeatureEncoder, RefinePyramid
from ._base import TryOnModel

LIGHT_CHANNELS = 64  # width of the light image encoder's output (the space in which images are warped)


@dataclass
class DAFlowConfig:
    """Options of DAFlow."""

    heads: int = 6  # k, the number of flows (and attention maps) per branch; the release uses 6 (``head_nums``)
    align_corners: bool = False  # grid_sample / interpolate convention (False: torch 1.7 default DAFlow ran with)


SPEC = ModelSpec(
    name="daflow",
    title="DAFlow",
    paper="Single Stage Virtual Try-on via Deformable Attention Flows (ECCV 2022)",
    paper_url="https://arxiv.org/abs/2207.09161",
    code_url="https://github.com/OFA-Sys/DAFlow",
    commit="f46388809dd4c1ada8a7202b1338a84f5147c9dc",
    license="non-commercial research and education only (README; no LICENSE file); "
            "ModelScope port code Apache-2.0",
    inputs={
        "pose_image": types.image("RGB pose-skeleton image in [-1, 1]: 18 COCO keypoints and limbs drawn in the "
                                  "OpenPose colours on black (DAFlow's vis_pose / draw_keypoints.py)"),
        "person_agnostic": types.image("cloth-agnostic person in [-1, 1]: the photo with the upper garment, neck "
                                       "and arms painted black (DAFlow's get_img_agnostic.py)"),
        "garment": types.image("in-shop garment photo, RGB in [-1, 1], not masked (DAFlow needs no garment mask)"),
    },
    outputs={
        "tryon": types.raw("try-on image, RGB, UNBOUNDED (no tanh): about [-1, 1] but values outside occur; clamp "
                           "to [-1, 1] when converting to an image", 3),
    },
    resolution=(256, 192),
    official_parts=("net",),
    official_param_counts={"net": 37_651_485},
    weights=WeightsSpec(
        official_files=(
            OfficialFile("net", "ckpt_viton.pt",
                         "Alibaba OSS link in the README of https://github.com/OFA-Sys/DAFlow",
                         "plain state_dict of SDAFNet_Tryon (no 'module.' prefix). The ModelScope copy "
                         "damo/cv_daflow_virtual-try-on_base/pytorch_model.pt also loads "
                         "(plain or {'state_dict': ...}, 'module.' prefixes and inner '.module.' stripped)"),
        ),
        sources=(
            # README "Pretrained model": a plain file URL on Alibaba OSS.
            WeightSource("url", "https://ofa-beijing.oss-cn-beijing.aliyuncs.com/checkpoints/ckpt_viton.pt",
                         files=(("net", "ckpt_viton.pt"),), size=151_000_000,
                         license="DAFlow: non-commercial research and education only (README)"),
            # The same network on ModelScope (model card damo/cv_daflow_virtual-try-on_base), through its file API.
            WeightSource("modelscope", "https://modelscope.cn/api/v1/models/damo/cv_daflow_virtual-try-on_base/repo"
                                       "?Revision=master&FilePath=pytorch_model.pt",
                         files=(("net", "pytorch_model.pt"),), filename="pytorch_model.pt", size=151_000_000,
                         license="DAFlow weights: non-commercial research and education only (README); ModelScope "
                                 "port code Apache-2.0",
                         note="loaded as ModelScope's pipeline does: optional {'state_dict': ...}, 'module.' "
                              "prefixes stripped"),
        ),
        notes="One click (or `python -m vton_zoo weights download daflow`) fetches ckpt_viton.pt from the README's "
              "OSS link (ModelScope's copy if that fails); by hand: `python -m vton_zoo weights install daflow "
              "ckpt_viton.pt`. Training checkpoints {'state_dict' (module.), 'optim', 'opt'} load too.",
    ),
    description="Single-stage try-on from a pose skeleton image, a cloth-agnostic person and a garment; "
                "trained on VITON at 256x192. The output is unbounded: clamp it before display.",
)


def da_warp(feature: torch.Tensor, grids: torch.Tensor, attention: torch.Tensor, align_corners: bool = False
            ) -> torch.Tensor:
    """Deformable attention warp (``DAWarp``): sample ``feature`` at k grids and sum the copies weighted by attention.

    Args:
        feature: (B, C, H, W) features or image.
        grids: (B*k, 2, H, W) normalised sampling grids, head h of sample b at row b*k + h.
        attention: (B, k, H, W) per-head weights.

    Returns:
        (B, C, H, W) ``sum_h attention[:, h] * grid_sample(feature, grids[h])``.
    """
    batch, channels, height, width = feature.shape
    heads = attention.shape[1]
    copies = feature.repeat_interleave(heads, dim=0)  # [B*k, C, H, W]
    warped = grid_sample(copies, grids.permute(0, 2, 3, 1), mode="bilinear", padding_mode="border",
                         align_corners=align_corners)
    weighted = warped.reshape(batch, heads, channels, height, width) * attention.unsqueeze(2)  # [B, k, C, H, W]
    out = weighted[:, 0]
    for head in range(1, heads):  # sequential sum over heads, as upstream
        out = out + weighted[:, head]
    return out


class MFEBlock(nn.Module):
    """Multi-flow estimator: Conv3x3 in -> 128, then 128 -> 64 -> 32 -> out with ``kernel_size`` and LeakyReLU(0.1)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 widths: tuple[int, ...] = (128, 64, 32)) -> None:
        super().__init__()
        pad = kernel_size // 2
        layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], kernel_size=3, padding=1), nn.LeakyReLU(0.1)]
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Conv2d(c_in, c_out, kernel_size=kernel_size, padding=pad), nn.LeakyReLU(0.1)]
        layers.append(nn.Conv2d(widths[-1], out_channels, kernel_size=kernel_size, padding=pad))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class DAFlowNet(nn.Module):
    """Coarse-to-fine estimation of k cross (garment) and k self (person) flows with attention; renders the try-on."""

    def __init__(self, num_pyramid: int = len(FEATURE_CHANNELS), fpn_dim: int = 256, heads: int = 6,
                 align_corners: bool = False) -> None:
        super().__init__()
        self.heads = heads
        self.align_corners = align_corners
        # Official names and registration order (Self, Cross, Refine; decoder before encoder) for the key order.
        # Self-MFE: k flows + k attention logits for the person; its inner convs are 7x7.
        self.Self_MFEs = nn.ModuleList(  # noqa: N815 (official name)
            [MFEBlock(2 * fpn_dim, 3 * heads, kernel_size=7) for _ in range(num_pyramid)])
        # Cross-MFE: k flows + k attention logits for the garment.
        self.Cross_MFEs = nn.ModuleList(  # noqa: N815
            [MFEBlock(2 * fpn_dim, 3 * heads) for _ in range(num_pyramid)])
        # Refine-MFE: k cross + k self residual flows, 2k attention logits under one softmax.
        self.Refine_MFEs = nn.ModuleList(  # noqa: N815
            [MFEBlock(2 * fpn_dim, 6 * heads) for _ in range(num_pyramid)])
        self.lights_decoder = nn.Sequential(
            nn.Conv2d(LIGHT_CHANNELS, 32, kernel_size=1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(32, 3, kernel_size=3, padding=1),
        )
        self.lights_encoder = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, padding=1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(32, LIGHT_CHANNELS, kernel_size=1),
        )

    def _sample(self, x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        return grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=self.align_corners)

    def _resize(self, x: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        if size is None:
            return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=self.align_corners)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=self.align_corners)

    def _heads(self, logits: torch.Tensor, previous: torch.Tensor | None) -> torch.Tensor:
        """Turn 2k offset channels into k grids, composed with the previous k grids when there are any."""
        height, width = logits.shape[-2:]
        grid = apply_offset(logits.reshape(-1, 2, height, width))  # [B*k, h, w, 2]
        if previous is None:
            return grid.permute(0, 3, 1, 2)  # [B*k, 2, h, w]
        return self._sample(previous, grid)

    def _render(self, garment: torch.Tensor, person: torch.Tensor, cross_grids: torch.Tensor,
                self_grids: torch.Tensor, cross_attention: torch.Tensor, self_attention: torch.Tensor) -> torch.Tensor:
        """Warp the light-encoded garment and person with their k flows, add them, decode to RGB."""
        garment_warped = da_warp(self.lights_encoder(garment), cross_grids, cross_attention, self.align_corners)
        person_warped = da_warp(self.lights_encoder(person), self_grids, self_attention, self.align_corners)
        return self.lights_decoder(garment_warped + person_warped)

    def forward(self, garment: torch.Tensor, person_agnostic: torch.Tensor, garment_pyramid: list[torch.Tensor],
                reference_pyramid: list[torch.Tensor], return_levels: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Estimate the flows from the pyramids (fine to coarse lists) and render the try-on.

        With ``return_levels`` it also returns the try-on rendered after every level (H/16 ... H), the deep
        supervision targets of the official training script (``return_all=True``).
        """
        k = self.heads
        cross_grids = self_grids = cross_attention = self_attention = None
        levels = []
        for level in range(len(garment_pyramid)):
            garment_feature = garment_pyramid[-1 - level]  # coarse to fine
            reference_feature = reference_pyramid[-1 - level]
            # Pre-warp both features with the previous level's flows (detached, as upstream).
            if cross_grids is not None:
                garment_prewarped = da_warp(garment_feature, cross_grids.detach(), cross_attention, self.align_corners)
                reference_prewarped = da_warp(reference_feature, self_grids.detach(), self_attention,
                                              self.align_corners)
            else:
                garment_prewarped, reference_prewarped = garment_feature, reference_feature

            # Cross-MFE: garment flows from [pre-warped garment, un-warped reference] (upstream quirk).
            out = self.Cross_MFEs[level](torch.cat([garment_prewarped, reference_feature], 1))  # [B, 3k, h, w]
            cross_attention = F.softmax(out[:, 2 * k:], dim=1)
            cross_grids = self._heads(out[:, :2 * k], cross_grids)
            garment_warped = da_warp(garment_feature, cross_grids, cross_attention, self.align_corners)

            # Self-MFE: person flows from [warped garment, pre-warped reference].
            out = self.Self_MFEs[level](torch.cat([garment_warped, reference_prewarped], 1))  # [B, 3k, h, w]
            self_attention = F.softmax(out[:, 2 * k:], dim=1)
            self_grids = self._heads(out[:, :2 * k], self_grids)
            reference_warped = da_warp(reference_feature, self_grids, self_attention, self.align_corners)

            # Refine-MFE: residual flows for both branches and one softmax over all 2k heads.
            out = self.Refine_MFEs[level](torch.cat([garment_warped, reference_warped], 1))  # [B, 6k, h, w]
            attention = F.softmax(out[:, 4 * k:], dim=1)  # [B, 2k, h, w]: self heads first, then cross heads
            cross_grids = self._heads(out[:, :2 * k], cross_grids)
            self_grids = self._heads(out[:, 2 * k:4 * k], self_grids)

            cross_grids = self._resize(cross_grids)
            self_grids = self._resize(self_grids)
            self_attention = self._resize(attention[:, :k])
            cross_attention = self._resize(attention[:, k:])

            if return_levels:
                size = cross_grids.shape[-2:]
                levels.append(self._render(self._resize(garment, size), self._resize(person_agnostic, size),
                                           cross_grids, self_grids, cross_attention, self_attention))

        size = garment.shape[-2:]
        self_grids = self._resize(self_grids, person_agnostic.shape[-2:])
        cross_grids = self._resize(cross_grids, size)
        self_attention = self._resize(self_attention, person_agnostic.shape[-2:])
        cross_attention = self._resize(cross_attention, size)
        tryon = self._render(garment, person_agnostic, cross_grids, self_grids, cross_attention, self_attention)
        if return_levels:
            return tryon, levels
        return tryon


class SDAFNet(nn.Module):
    """``SDAFNet_Tryon``: garment and reference ResNet-FPN encoders + ``DAFlowNet`` (official checkpoint layout)."""

    def __init__(self, reference_channels: int = 6, garment_channels: int = 3, heads: int = 6,
                 align_corners: bool = False) -> None:
        super().__init__()
        self.source_features = FeatureEncoder(garment_channels)  # garment ("source")
        self.reference_features = FeatureEncoder(reference_channels)  # [pose, agnostic person] ("reference")
        self.source_FPN = RefinePyramid()  # noqa: N815 (official name)
        self.reference_FPN = RefinePyramid()  # noqa: N815
        self.dafnet = DAFlowNet(len(FEATURE_CHANNELS), heads=heads, align_corners=align_corners)

    def forward(self, reference: torch.Tensor, garment: torch.Tensor, person_agnostic: torch.Tensor,
                return_levels: bool = False) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """``reference`` = cat[pose, agnostic] (B, 6, H, W); returns the unbounded try-on (B, 3, H, W)."""
        reference_pyramid = self.reference_FPN(self.reference_features(reference))
        garment_pyramid = self.source_FPN(self.source_features(garment))
        return self.dafnet(garment, person_agnostic, garment_pyramid, reference_pyramid, return_levels=return_levels)


class DAFlow(TryOnModel):
    """``SDAFNet_Tryon(6, 3, 6)`` called as in the official ``test_SDAFNet_viton.py``."""

    spec = SPEC

    def __init__(self, config: DAFlowConfig | None = None) -> None:
        config = config or DAFlowConfig()
        super().__init__(config)
        self.net = SDAFNet(reference_channels=6, garment_channels=3, heads=config.heads,
                           align_corners=config.align_corners)

    def forward(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        self.check_inputs(inputs)
        person_agnostic = inputs["person_agnostic"]
        reference = torch.cat([inputs["pose_image"], person_agnostic], 1)  # [B, 6, H, W], pose first
        tryon = self.net(reference, inputs["garment"], person_agnostic)  # raw, no tanh
        return {"tryon": tryon}


@register_model(SPEC)
def daflow(**config) -> DAFlow:
    """DAFlow (SDAFNet, k = 6 heads) at 256x192 (options: ``heads``, ``align_corners``)."""
    return DAFlow(DAFlowConfig(**config))
