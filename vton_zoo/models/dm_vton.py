"""DM-VTON: a distilled, mobile, real-time student of the PF-AFN family (MobileNetV2 warp + MobileNetV2 U-Net).

Paper: Nguyen-Ngoc, Phan-Nguyen, Le, Nguyen, Tran, Le, "DM-VTON: Distilled Mobile Real-time Virtual Try-On",
ISMAR 2023 (https://arxiv.org/abs/2308.13798). Upstream: KiseKloset/DM-VTON @
8dc704818576a531bdf27440e26672980530db8e (``pipelines/dmvton_pipeline.py``, ``models/warp_modules/mobile_afwm.py``,
``models/extractors/mobile_fpn.py``, ``models/generators/mobile_unet.py``). Licence: CC BY-NC-SA 4.0 (``LICENSE``;
"academic purposes only"). Written for this project from architectures.md §1 and §4; module and parameter names
follow the official ``state_dict()`` so the released checkpoints load strictly.

This is the parser-free student of ``DMVTONPipeline(align_corners=True)``: ``MobileAFWM(3)`` (part ``warp``: two
MobileNetV2 feature pyramids for the garment and the person, and the PF-AFN ``AFlowNet`` cascade with its 49-channel
correlation) and ``MobileNetV2_unet(7, 4)`` (part ``gen``) at 256x192, composed like PF-AFN (architectures.md §1.6).

Official quirks kept:

* ``smooth_layers`` of each feature pyramid is ONE 3x3 conv registered five times (``ModuleList([conv] * 5)``): all
  five pyramid levels are smoothed by the same weights, and ``state_dict()`` lists ``smooth_layers.0..4.{weight,bias}``
  as five aliases of one storage. The structure is kept so that official checkpoints load strictly.
  ``load_state_dict`` copies the aliases in key order, so when a file holds five *different* tensors (the parity
  fixtures' synthetic weights) the one under ``smooth_layers.4`` wins, exactly as upstream; a real checkpoint holds
  five equal copies. Unique parameters (``parameters()`` deduplicates) number 7,170,388 for the warp part. Safetensors
  stores the shared tensor once and reloads it into all five aliases.
* The pyramid's top level is a global average pool followed by a 1x1 conv: a spatially constant 256-d vector that
  is bilinearly "upsampled" onto the H/32 lateral. It is never smoothed or returned itself.
* The pyramid's first conv has stride 1 and its first inverted residual (expansion 1) still has a 1x1 expansion conv;
  the generator's backbone starts with a stride-2 conv and its expansion-1 block has none. Both as upstream.

Deviations from upstream and why:

* The correlation runs on CPU too (``vton_zoo.ops.correlation``); upstream is a GPU-only CuPy kernel.
* The mask binarisation and garment masking of the pipeline happen inside ``forward``, so callers pass the garment
  and its mask as loaded; ``flow``, ``warped_mask`` and ``generator_out`` are returned besides the pipeline's
  ``(p_tryon, warped_cloth)``.
* Only the test-phase forward is implemented; the training outputs (per-level flows, features, deltas) belong to
  ``training/``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .. import types
from ..ops.warp import warp
from ..registry import ModelSpec, OfficialFile, WeightSource, WeightsSpec, register_model
from ._afwm import AFlowNet
from ._base import TryOnModel, compose_tryon

# (expansion t, output channels c, stride s) of the inverted-residual stages, one block each (n = 1)
PYRAMID_STAGES = ((1, 16, 1), (6, 24, 2), (6, 32, 2), (6, 64, 2), (6, 96, 2), (6, 160, 2), (6, 320, 1))
BACKBONE_STAGES = ((1, 16, 1), (6, 24, 2), (6, 32, 2), (6, 64, 2), (6, 96, 1), (6, 160, 2), (6, 320, 1))
FPN_DIM = 256
NUM_LEVELS = 5


@dataclass
class DMVTONConfig:
    """Options of DM-VTON."""

    align_corners: bool = True  # grid_sample convention; the official pipeline passes True everywhere


SPEC = ModelSpec(
    name="dm-vton",
    title="DM-VTON",
    paper="DM-VTON: Distilled Mobile Real-time Virtual Try-On (ISMAR 2023)",
    paper_url="https://arxiv.org/abs/2308.13798",
    code_url="https://github.com/KiseKloset/DM-VTON",
    commit="8dc704818576a531bdf27440e26672980530db8e",
    license="CC BY-NC-SA 4.0 (academic / non-commercial use only)",
    inputs={"person": types.PERSON, "garment": types.GARMENT, "garment_mask": types.GARMENT_MASK},
    outputs=dict(types.FLOW_OUTPUTS),
    resolution=(256, 192),
    official_parts=("warp", "gen"),
    official_param_counts={"warp": 7_170_388, "gen": 2_179_736},
    weights=WeightsSpec(
        official_files=(
            OfficialFile("warp", "dmvton_pf_warp.pt",
                         "GitHub release https://github.com/KiseKloset/DM-VTON/releases/tag/1.0.0, or the Google "
                         "Drive folder linked from https://github.com/KiseKloset/DM-VTON#readme",
                         "training container {'epoch', 'best_fid' (numpy float64), 'model': state_dict, "
                         "'optimizer'}; only 'model' is read"),
            OfficialFile("gen", "dmvton_pf_gen.pt",
                         "GitHub release https://github.com/KiseKloset/DM-VTON/releases/tag/1.0.0, or the Google "
                         "Drive folder linked from https://github.com/KiseKloset/DM-VTON#readme",
                         "training container {'epoch', 'best_fid' (numpy float64), 'model': state_dict, "
                         "'optimizer'}; only 'model' is read"),
        ),
        sources=(
            # Release 1.0.0 (issues #21, #28: "the teacher/student pretrained checkpoints reported in the paper"):
            # its assets are read from the release API and matched by name (archives are looked into), not guessed.
            WeightSource("github-release", "https://api.github.com/repos/KiseKloset/DM-VTON/releases/tags/1.0.0",
                         files=(("warp", "dmvton_pf_warp.pt"), ("gen", "dmvton_pf_gen.pt")),
                         license="DM-VTON: CC BY-NC-SA 4.0 (academic / non-commercial use only)",
                         note="test.py / scripts/test.sh load checkpoints/dmvton_pf_{warp,gen}.pt"),
            # README "You can download the pretrained checkpoints here": a Drive folder; only the two files are
            # fetched from it.
            WeightSource("gdrive-folder", "https://drive.google.com/drive/folders/1wfWGsR0vWC5LrA26xhj92ec_GoCKV80A",
                         files=(("warp", "dmvton_pf_warp.pt"), ("gen", "dmvton_pf_gen.pt")),
                         license="DM-VTON: CC BY-NC-SA 4.0 (academic / non-commercial use only)"),
        ),
        notes="One click (or `python -m vton_zoo weights download dm-vton`) fetches the GitHub release 1.0.0 files "
              "(the README's Drive folder if that fails); by hand: "
              "`python -m vton_zoo weights install dm-vton dmvton_pf_warp.pt dmvton_pf_gen.pt`.",
    ),
    description="Parser-free mobile student distilled from FS-VTON: person + garment + garment mask in; "
                "trained on VITON-Clean at 256x192; about 9.4M parameters.",
)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expansion -> 3x3 depthwise -> 1x1 linear projection, BN after each conv.

    ``expand_always``: keep the 1x1 expansion conv even for expansion 1 (the feature pyramid's variant); otherwise
    an expansion-1 block starts with the depthwise conv (the generator's variant). The identity is added when the
    block keeps both resolution and width.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: int,
                 expand_always: bool = False) -> None:
        super().__init__()
        hidden = in_channels * expansion
        self.use_residual = stride == 1 and in_channels == out_channels
        layers: list[nn.Module] = []
        if expansion != 1 or expand_always:
            layers += [nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return x + out if self.use_residual else out


class MobileFeaturePyramid(nn.Module):
    """MobileNetV2 encoder + FPN (official ``MobileNetV2_dynamicFPN``): five 256-ch maps, H/2 (first) to H/32."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        width = 32
        self.first_layer = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU6(inplace=True),
        )
        self.inverted_residual_blocks = nn.ModuleList()
        lateral_channels = []
        for expansion, out_channels, stride in PYRAMID_STAGES:
            # each stage is a Sequential of n = 1 block (official key ``inverted_residual_blocks.i.0``)
            self.inverted_residual_blocks.append(nn.Sequential(
                InvertedResidual(width, out_channels, stride, expansion, expand_always=True)))
            if stride > 1:
                lateral_channels.append(out_channels)
            width = out_channels
        self.top_layer = nn.Conv2d(width, FPN_DIM, 1)  # on the globally pooled deepest feature
        self.lateral_layers = nn.ModuleList([nn.Conv2d(c, FPN_DIM, 1) for c in lateral_channels])
        # Official quirk: ONE conv registered once per level, so all levels share its weights (see module docstring).
        smooth = nn.Conv2d(FPN_DIM, FPN_DIM, 3, padding=1)
        self.smooth_layers = nn.ModuleList([smooth] * len(lateral_channels))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.first_layer(x)
        laterals = []
        for stage, (_, _, stride) in zip(self.inverted_residual_blocks, PYRAMID_STAGES):
            x = stage(x)
            if stride > 1:  # a new resolution: H/2, H/4, ..., H/32
                laterals.append(self.lateral_layers[len(laterals)](x))
        merged = self.top_layer(F.adaptive_avg_pool2d(x, 1))  # [B, 256, 1, 1] global vector
        pyramid = []
        for lateral in reversed(laterals):  # coarse to fine
            merged = F.interpolate(merged, size=lateral.shape[-2:], mode="bilinear", align_corners=False) + lateral
            pyramid.append(merged)
        smoothed = [smooth(level) for smooth, level in zip(self.smooth_layers, pyramid)]
        return smoothed[::-1]  # fine (H/2) to coarse (H/32)


class MobileAFWM(nn.Module):
    """Warp module: garment and person MobileNetV2 pyramids + the PF-AFN cascaded appearance-flow estimator."""

    def __init__(self, cond_channels: int = 3, garment_channels: int = 3, align_corners: bool = True) -> None:
        super().__init__()
        self.image_mobile = MobileFeaturePyramid(garment_channels)
        self.cond_mobile = MobileFeaturePyramid(cond_channels)
        self.aflow_net = AFlowNet(NUM_LEVELS, fpn_dim=FPN_DIM, align_corners=align_corners)

    def forward(self, cond: torch.Tensor, garment: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Warp ``garment`` (B, 3, H, W) onto the person ``cond``; returns (warped garment, flow (B, 2, H, W))."""
        cond_pyramid = self.cond_mobile(cond)
        garment_pyramid = self.image_mobile(garment)
        return self.aflow_net(garment, garment_pyramid, cond_pyramid)


class MobileNetV2Backbone(nn.Module):
    """The generator's MobileNetV2 encoder: stride-2 stem, seven inverted-residual stages, 1x1 conv to 512."""

    def __init__(self, in_channels: int, last_channels: int = 512) -> None:
        super().__init__()
        width = 32
        layers: list[nn.Module] = [nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU6(inplace=True),
        )]
        for expansion, out_channels, stride in BACKBONE_STAGES:
            layers.append(InvertedResidual(width, out_channels, stride, expansion))
            width = out_channels
        layers.append(nn.Sequential(
            nn.Conv2d(width, last_channels, 1, bias=False),
            nn.BatchNorm2d(last_channels),
            nn.ReLU6(inplace=True),
        ))
        self.features = nn.Sequential(*layers)


class MobileUNet(nn.Module):
    """Generator (official ``MobileNetV2_unet``): MobileNetV2 encoder, 4 transposed-conv up stages with skips."""

    def __init__(self, in_channels: int = 7, out_channels: int = 4) -> None:
        super().__init__()
        self.backbone = MobileNetV2Backbone(in_channels)
        self.dconv1 = nn.ConvTranspose2d(512, 96, 4, stride=2, padding=1)
        self.invres1 = InvertedResidual(192, 96, 1, 6)
        self.dconv2 = nn.ConvTranspose2d(96, 32, 4, stride=2, padding=1)
        self.invres2 = InvertedResidual(64, 32, 1, 6)
        self.dconv3 = nn.ConvTranspose2d(32, 24, 4, stride=2, padding=1)
        self.invres3 = InvertedResidual(48, 24, 1, 6)
        self.dconv4 = nn.ConvTranspose2d(24, 16, 4, stride=2, padding=1)
        self.invres4 = InvertedResidual(32, 16, 1, 6)
        self.conv_last = nn.Conv2d(16, out_channels, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.backbone.features
        skip_2 = features[0:2](x)  # [B, 16, H/2, W/2]
        skip_4 = features[2](skip_2)  # [B, 24, H/4, W/4]
        skip_8 = features[3](skip_4)  # [B, 32, H/8, W/8]
        skip_16 = features[4:6](skip_8)  # [B, 96, H/16, W/16]
        bottleneck = features[6:9](skip_16)  # [B, 512, H/32, W/32]
        x = self.invres1(torch.cat([skip_16, self.dconv1(bottleneck)], 1))
        x = self.invres2(torch.cat([skip_8, self.dconv2(x)], 1))
        x = self.invres3(torch.cat([skip_4, self.dconv3(x)], 1))
        x = self.invres4(torch.cat([skip_2, self.dconv4(x)], 1))
        x = F.interpolate(x, scale_factor=2, mode="nearest")  # [B, 16, H, W]
        return self.conv_last(x)


class DMVTON(TryOnModel):
    """``MobileAFWM(3)`` warp + ``MobileNetV2_unet(7, 4)`` generator, composed as in ``DMVTONPipeline``."""

    spec = SPEC

    def __init__(self, config: DMVTONConfig | None = None) -> None:
        config = config or DMVTONConfig()
        super().__init__(config)
        self.warp = MobileAFWM(cond_channels=3, align_corners=config.align_corners)
        self.gen = MobileUNet(7, 4)

    def forward(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        self.check_inputs(inputs)
        person = inputs["person"]
        garment_mask = (inputs["garment_mask"] > 0.5).to(person.dtype)
        garment = inputs["garment"] * garment_mask
        warped_garment, flow = self.warp(person, garment)
        warped_mask = warp(garment_mask, flow, padding_mode="zeros", align_corners=self.config.align_corners)
        generator_out = self.gen(torch.cat([person, warped_garment, warped_mask], 1))
        tryon, composite_mask = compose_tryon(generator_out, warped_garment, warped_mask)
        return {
            "warped_garment": warped_garment,
            "flow": flow,
            "warped_mask": warped_mask,
            "generator_out": generator_out,
            "composite_mask": composite_mask,
            "tryon": tryon,
        }


@register_model(SPEC)
def dm_vton(**config) -> DMVTON:
    """DM-VTON student at 256x192 (options: ``align_corners``)."""
    return DMVTON(DMVTONConfig(**config))
