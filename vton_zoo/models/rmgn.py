"""RMGN: parser-free try-on with the PF-AFN warp and a regional-mask-guided (AAD) generator.

Paper: Lin et al., "RMGN: A Regional Mask Guided Network for Parser-free Virtual Try-on",
IJCAI 2022 (https://arxiv.org/abs/2204.11258). Upstream: jokerlc/RMGN-VITON @
2bd6b32052d662b26c2bb88250f479fd23bea425 (``test.py``, ``models/afwm.py``, ``models/rmgn_generator.py``,
``models/aad.py``, ``models/encoder.py``). Licence: none stated (no LICENSE file, no statement in the README).
Written for this project from architectures.md §1 and §3; module and parameter names follow the official
``state_dict()`` so the released checkpoints load strictly.

The official test setting (``--hr --predmask``) at 512x384: part ``warp`` is PF-AFN's ``AFWM(3)``; part ``gen`` is
``RMGNGenerator(multilevel=False, predmask=True)``. Two U-Net attribute encoders turn the person (3 ch) and the
warped garment + warped mask (4 ch) into five feature maps each (H/16 ... H). An ``AADGenerator`` decodes from
H/16 to H through seven residual blocks whose normalisation is the paper's regional-mask fusion
(``AAD``): the instance-normalised activation is modulated once by the person features and once by the garment
features, and a predicted soft mask M (one channel, per pixel) mixes the two. The 18 masks M are the paper's
"regional masks"; ``model.gen(person, garment_cond)`` returns them beside the output.

Official quirks kept:

* The 18 3x3 convs of the residual blocks use the old ``torch.nn.utils.spectral_norm`` hook, so their keys are
  ``weight_orig`` (a parameter) and ``weight_u`` / ``weight_v`` (buffers). In eval mode no power iteration runs and
  the stored u, v define sigma = u . (W v); in train mode every forward updates u, v in place, as upstream.
* The official parameter count, 69,251,862, is ``parameters()`` only (``weight_orig`` included); the state dict also
  holds 72,960 ``weight_u``/``weight_v`` buffer elements (69,324,822 elements in all).
* The residual blocks are declared in the order ``mid_0, mid_1, mid_2, up_0 ... up_3`` (the state-dict order), not in
  the order they run (``mid_0, up_0, up_1, mid_1, up_2, up_3, mid_2``).
* The blocks that change width have a learned shortcut with its own AAD + spectral-norm conv, and the inner width
  is min(in, out); the first decoder stage (``mid_0``, ``up_0``) runs at H/16 and both use the H/16 attributes.
* The generator's own bilinear x2 upsamplings (between decoder stages and from the encoders' H/2 to H attributes)
  pass ``align_corners=True`` explicitly; the warp's ``grid_sample`` calls pass nothing upstream.
* ``conv_final`` always has 4 channels (3 rendering + 1 composition-mask logit); ``predmask`` only selects the
  composition in ``test.py``. The weights were released for the ``--predmask`` composition used here.

Deviations from upstream and why:

* ``grid_sample`` runs with ``align_corners=False`` by default (config ``align_corners``): RMGN's README requires
  torch >= 1.8, whose default is False, and its calls pass no argument. The value the released weights were
  trained with is not documented, so it is an option (parity manifest ``align_corners``).
* The correlation runs on CPU too (``vton_zoo.ops.correlation``); upstream is a GPU-only CuPy kernel.
* The mask binarisation and garment masking of ``test.py`` happen inside ``forward``.
* Only the test forward is implemented: the ``multilevel`` side outputs (``conv_L1``/``conv_L2``, training losses)
  are absent, as in the released checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .. import types
from ..ops.warp import warp
from ..registry import ModelSpec, OfficialFile, WeightSource, WeightsSpec, register_model
from ._afwm import AFWM
from ._base import TryOnModel, compose_tryon

NF = 64  # base width of the generator


@dataclass
class RMGNConfig:
    """Options of RMGN."""

    align_corners: bool = False  # grid_sample convention of the warp (False: torch >= 1.8 default RMGN runs with)


SPEC = ModelSpec(
    name="rmgn",
    title="RMGN",
    paper="RMGN: A Regional Mask Guided Network for Parser-free Virtual Try-on (IJCAI 2022)",
    paper_url="https://arxiv.org/abs/2204.11258",
    code_url="https://github.com/jokerlc/RMGN-VITON",
    commit="2bd6b32052d662b26c2bb88250f479fd23bea425",
    license="none stated (no LICENSE file in the repository)",
    inputs={"person": types.PERSON, "garment": types.GARMENT, "garment_mask": types.GARMENT_MASK},
    outputs=dict(types.FLOW_OUTPUTS),
    resolution=(512, 384),
    resolutions=((256, 192),),
    official_parts=("warp", "gen"),
    # parameters() only; gen's state dict also holds 72,960 spectral-norm u/v buffer elements
    official_param_counts={"warp": 29_304_416, "gen": 69_251_862},
    weights=WeightsSpec(
        official_files=(
            OfficialFile("warp", "RMGN_warp_epoch_030.pth",
                         "Google Drive, linked from https://github.com/jokerlc/RMGN-VITON#checkpoints",
                         "plain state_dict of AFWM(3)"),
            OfficialFile("gen", "RMGN_gen_epoch_030.pth",
                         "Google Drive, linked from https://github.com/jokerlc/RMGN-VITON#checkpoints",
                         "plain state_dict of RMGNGenerator (spectral-norm weight_orig/weight_u/weight_v keys)"),
        ),
        sources=(
            # README "[checkpoints]": one Drive file; options/test_options.py loads checkpoints/RMGN_warp_epoch_030.pth
            # and checkpoints/RMGN_gen_epoch_030.pth, so it is an archive of that folder (found at any depth).
            WeightSource("gdrive-file", "https://drive.google.com/file/d/1xLXAMhbVjjl9aIQjyTXzvH5bBhzXtrep/view",
                         files=(("warp", "checkpoints/RMGN_warp_epoch_030.pth"),
                                ("gen", "checkpoints/RMGN_gen_epoch_030.pth")),
                         filename="RMGN_checkpoints.zip", archive="zip", size=400_000_000,
                         license="RMGN: no licence stated (no LICENSE file); research use of the authors' release",
                         note="an archive (zip or tar, checked by content) of the checkpoints folder"),
        ),
        notes="One click (or `python -m vton_zoo weights download rmgn`) fetches the README's Google Drive archive; "
              "by hand: `python -m vton_zoo weights install rmgn DOWNLOADED_ARCHIVE` (or the two .pth files).",
    ),
    description="Parser-free: person + garment + garment mask in; PF-AFN warp + regional-mask AAD generator, "
                "trained on VITON at 512x384.",
)


# ---------------------------------------------------------------------------------------------------------------
# Attribute encoders


def _down(in_channels: int, out_channels: int) -> nn.Sequential:
    """Conv 4x4 stride 2 (no bias) -> InstanceNorm -> LeakyReLU(0.1): halves H and W."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False),
        nn.InstanceNorm2d(out_channels),
        nn.LeakyReLU(0.1),
    )


class UpSkip(nn.Module):
    """ConvTranspose 4x4 stride 2 (no bias) -> InstanceNorm -> LeakyReLU(0.1), then concat with the skip."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.deconv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False)
        self.norm = nn.InstanceNorm2d(out_channels)  # no parameters: its name is free

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.norm(self.deconv(x)), 0.1)
        return torch.cat([x, skip], 1)


class AttrEncoder(nn.Module):
    """U-Net encoder returning five attribute maps: 512 @H/16, 256 @H/8, 128 @H/4, 64 @H/2, 64 @H."""

    def __init__(self, in_channels: int, nf: int = NF) -> None:
        super().__init__()
        self.conv1 = _down(in_channels, nf // 2)  # H/2
        self.conv2 = _down(nf // 2, nf)  # H/4
        self.conv3 = _down(nf, nf * 2)  # H/8
        self.conv4 = _down(nf * 2, nf * 4)  # H/16
        self.conv5 = _down(nf * 4, nf * 8)  # H/32
        self.deconv1 = UpSkip(nf * 8, nf * 4)  # H/16, 256 + 256 ch
        self.deconv2 = UpSkip(nf * 8, nf * 2)  # H/8, 128 + 128 ch
        self.deconv3 = UpSkip(nf * 4, nf)  # H/4, 64 + 64 ch
        self.deconv4 = UpSkip(nf * 2, nf // 2)  # H/2, 32 + 32 ch

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feat1 = self.conv1(x)
        feat2 = self.conv2(feat1)
        feat3 = self.conv3(feat2)
        feat4 = self.conv4(feat3)
        feat5 = self.conv5(feat4)
        attr1 = self.deconv1(feat5, feat4)  # [B, 512, H/16, W/16]
        attr2 = self.deconv2(attr1, feat3)  # [B, 256, H/8, W/8]
        attr3 = self.deconv3(attr2, feat2)  # [B, 128, H/4, W/4]
        attr4 = self.deconv4(attr3, feat1)  # [B, 64, H/2, W/2]
        attr5 = _upsample(attr4)  # [B, 64, H, W]
        return [attr1, attr2, attr3, attr4, attr5]


def _upsample(x: torch.Tensor) -> torch.Tensor:
    """Bilinear x2 with align_corners=True, as the official generator and encoder pass explicitly."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------------------------------------------------
# Regional-mask generator


class AAD(nn.Module):
    """Regional-mask fusion: IN(h) modulated by person and by garment features, mixed by a soft mask M."""

    def __init__(self, channels: int, person_channels: int, garment_channels: int) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels)
        # declaration order = official key order
        self.conv_h = nn.Conv2d(channels, 1, kernel_size=1)
        self.conv_a1_gamma = nn.Conv2d(person_channels, channels, kernel_size=1)
        self.conv_a1_beta = nn.Conv2d(person_channels, channels, kernel_size=1)
        self.conv_a2_gamma = nn.Conv2d(garment_channels, channels, kernel_size=1)
        self.conv_a2_beta = nn.Conv2d(garment_channels, channels, kernel_size=1)

    def forward(self, h: torch.Tensor, person_attr: torch.Tensor,
                garment_attr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.norm(h)
        person_mod = (self.conv_a1_gamma(person_attr) + 1) * h + self.conv_a1_beta(person_attr)
        garment_mod = (self.conv_a2_gamma(garment_attr) + 1) * h + self.conv_a2_beta(garment_attr)
        region_mask = torch.sigmoid(self.conv_h(h))  # [B, 1, h, w]: 1 = take the garment-modulated features
        return (1 - region_mask) * person_mod + region_mask * garment_mod, region_mask


def _sn_conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    """3x3 conv with the old spectral-norm hook (keys ``weight_orig``, ``weight_u``, ``weight_v``)."""
    return nn.utils.spectral_norm(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))


class AADResnetBlock(nn.Module):
    """AAD -> ReLU -> SN conv, twice, plus the input (through AAD -> ReLU -> SN conv when the width changes)."""

    def __init__(self, in_channels: int, out_channels: int, attr_channels: int) -> None:
        super().__init__()
        mid_channels = min(in_channels, out_channels)
        self.AAD_1 = AAD(in_channels, attr_channels, attr_channels)  # noqa: N815 (official names)
        self.conv_1 = _sn_conv3x3(in_channels, mid_channels)
        self.AAD_2 = AAD(mid_channels, attr_channels, attr_channels)  # noqa: N815
        self.conv_2 = _sn_conv3x3(mid_channels, out_channels)
        self.learned_shortcut = in_channels != out_channels
        if self.learned_shortcut:
            self.AAD_s = AAD(in_channels, attr_channels, attr_channels)  # noqa: N815
            self.conv_s = _sn_conv3x3(in_channels, out_channels)

    def forward(self, x: torch.Tensor, person_attr: torch.Tensor,
                garment_attr: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        out, mask_1 = self.AAD_1(x, person_attr, garment_attr)
        out = self.conv_1(F.relu(out))
        out, mask_2 = self.AAD_2(out, person_attr, garment_attr)
        out = self.conv_2(F.relu(out))
        masks = [mask_1, mask_2]
        if self.learned_shortcut:
            shortcut, mask_s = self.AAD_s(x, person_attr, garment_attr)
            shortcut = self.conv_s(F.relu(shortcut))
            masks.append(mask_s)
        else:
            shortcut = x
        return out + shortcut, masks


class AADGenerator(nn.Module):
    """Decoder H/16 -> H: a head conv on both H/16 attributes, seven AAD residual blocks, a 3x3 output conv."""

    def __init__(self, nf: int = NF, out_channels: int = 4) -> None:
        super().__init__()
        self.conv_head = nn.Conv2d(nf * 16, nf * 16, 3, padding=1)
        # Declared in the official (state-dict) order; they run as mid_0, up_0, up_1, mid_1, up_2, up_3, mid_2.
        self.AADResBlk_mid_0 = AADResnetBlock(nf * 16, nf * 16, nf * 8)  # noqa: N815 (official names)
        self.AADResBlk_mid_1 = AADResnetBlock(nf * 4, nf * 4, nf * 2)  # noqa: N815
        self.AADResBlk_mid_2 = AADResnetBlock(nf, nf, nf)  # noqa: N815
        self.AADResBlk_up_0 = AADResnetBlock(nf * 16, nf * 8, nf * 8)  # noqa: N815
        self.AADResBlk_up_1 = AADResnetBlock(nf * 8, nf * 4, nf * 4)  # noqa: N815
        self.AADResBlk_up_2 = AADResnetBlock(nf * 4, nf * 2, nf * 2)  # noqa: N815
        self.AADResBlk_up_3 = AADResnetBlock(nf * 2, nf, nf)  # noqa: N815
        self.conv_final = nn.Conv2d(nf, out_channels, 3, padding=1)

    def forward(self, person_attrs: list[torch.Tensor],
                garment_attrs: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        masks: list[torch.Tensor] = []
        x = self.conv_head(torch.cat([person_attrs[0], garment_attrs[0]], 1))  # [B, 1024, H/16, W/16]
        x, m = self.AADResBlk_mid_0(x, person_attrs[0], garment_attrs[0])
        masks += m
        x, m = self.AADResBlk_up_0(x, person_attrs[0], garment_attrs[0])  # [B, 512, H/16, W/16]
        masks += m
        x, m = self.AADResBlk_up_1(_upsample(x), person_attrs[1], garment_attrs[1])  # [B, 256, H/8, W/8]
        masks += m
        x = _upsample(x)
        x, m = self.AADResBlk_mid_1(x, person_attrs[2], garment_attrs[2])  # [B, 256, H/4, W/4]
        masks += m
        x, m = self.AADResBlk_up_2(x, person_attrs[2], garment_attrs[2])  # [B, 128, H/4, W/4]
        masks += m
        x, m = self.AADResBlk_up_3(_upsample(x), person_attrs[3], garment_attrs[3])  # [B, 64, H/2, W/2]
        masks += m
        x = _upsample(x)
        x, m = self.AADResBlk_mid_2(x, person_attrs[4], garment_attrs[4])  # [B, 64, H, W]
        masks += m
        return self.conv_final(x), masks


class RMGNGenerator(nn.Module):
    """The official ``RMGNGenerator(multilevel=False, predmask=True)``: two attribute encoders + ``AADGenerator``."""

    def __init__(self, person_channels: int = 3, garment_channels: int = 4, nf: int = NF) -> None:
        super().__init__()
        self.inp_encoder = AttrEncoder(person_channels, nf)
        self.ref_encoder = AttrEncoder(garment_channels, nf)
        self.generator = AADGenerator(nf, out_channels=4)

    def forward(self, person: torch.Tensor, garment_cond: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Returns the raw (B, 4, H, W) output and the 18 region masks (B, 1, h, w), H/16 to H, in run order."""
        return self.generator(self.inp_encoder(person), self.ref_encoder(garment_cond))


# ---------------------------------------------------------------------------------------------------------------
# The model


class RMGN(TryOnModel):
    """``AFWM(3)`` warp + ``RMGNGenerator`` (predmask), composed as in the official ``test.py``."""

    spec = SPEC

    def __init__(self, config: RMGNConfig | None = None) -> None:
        config = config or RMGNConfig()
        super().__init__(config)
        self.warp = AFWM(cond_channels=3, align_corners=config.align_corners)
        self.gen = RMGNGenerator()

    def forward(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        _, height, width = self.check_inputs(inputs)
        if (height // 32) * (width // 32) < 2:  # the encoders' H/32 InstanceNorm needs more than one pixel
            raise ValueError(f"rmgn needs an input larger than 32x32, got {height}x{width}")
        person = inputs["person"]
        garment_mask = (inputs["garment_mask"] > 0.5).to(person.dtype)
        garment = inputs["garment"] * garment_mask
        warped_garment, flow = self.warp(person, garment)
        warped_mask = warp(garment_mask, flow, padding_mode="zeros", align_corners=self.config.align_corners)
        generator_out, _ = self.gen(person, torch.cat([warped_garment, warped_mask], 1))
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
def rmgn(**config) -> RMGN:
    """RMGN at 512x384 (also runs at 256x192; options: ``align_corners``)."""
    return RMGN(RMGNConfig(**config))
