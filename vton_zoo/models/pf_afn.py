"""PF-AFN: parser-free try-on with an appearance-flow warp (AFWM) and a residual U-Net generator.

Paper: Ge, Song, Zhang, Ge, Liu, Luo, "Parser-Free Virtual Try-on via Distilling Appearance Flows", CVPR 2021.
Upstream: geyuying/PF-AFN @ e2bb71e2f0b472479f386fa1b9c146ec3340f2e8 (``PF-AFN_test/test.py``,
``models/afwm.py``, ``models/networks.py``). Licence: README only, "RESTRICTED to non-commercial research and
educational purposes". Written for this project from architectures.md §1-2.

This is the student (parser-free) model of the official test script: ``AFWM(3)`` + ``ResUnetGenerator(7, 4, 5)``
at 256x192. Deviations from upstream and why:

* ``grid_sample`` runs with ``align_corners=True``: PF-AFN was trained and tested on torch 1.1, whose grid_sample
  behaved that way; the newer default would shift every warp by half a pixel (parity manifest ``align_corners``).
* The correlation runs on CPU too (``vton_zoo.ops.correlation``); upstream is GPU-only.
* The mask binarisation and garment masking of ``test.py`` happen inside ``forward``, so callers pass the garment
  and its mask as loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import types
from ..ops.warp import warp
from ..registry import ModelSpec, OfficialFile, WeightSource, WeightsSpec, register_model
from ._afwm import AFWM
from ._base import TryOnModel, compose_tryon
from ._resunet import ResUnetGenerator


@dataclass
class PFAFNConfig:
    """Options of the PF-AFN family models."""

    align_corners: bool = True  # grid_sample convention (True: torch 1.1 behaviour PF-AFN was trained with)


SPEC = ModelSpec(
    name="pf-afn",
    title="PF-AFN",
    paper="Parser-Free Virtual Try-on via Distilling Appearance Flows (CVPR 2021)",
    paper_url="https://arxiv.org/abs/2103.04559",
    code_url="https://github.com/geyuying/PF-AFN",
    commit="e2bb71e2f0b472479f386fa1b9c146ec3340f2e8",
    license="non-commercial research and education only (README; no LICENSE file)",
    inputs={"person": types.PERSON, "garment": types.GARMENT, "garment_mask": types.GARMENT_MASK},
    outputs=dict(types.FLOW_OUTPUTS),
    resolution=(256, 192),
    official_parts=("warp", "gen"),
    official_param_counts={"warp": 29_304_416, "gen": 43_899_968},
    weights=WeightsSpec(
        official_files=(
            OfficialFile("warp", "PFAFN/warp_model_final.pth",
                         "Google Drive, linked from https://github.com/geyuying/PF-AFN#inference",
                         "plain state_dict (torch 1.1 legacy format)"),
            OfficialFile("gen", "PFAFN/gen_model_final.pth",
                         "Google Drive, linked from https://github.com/geyuying/PF-AFN#inference",
                         "plain state_dict"),
        ),
        sources=(
            # README "[Checkpoints]": one Drive file, a zip holding checkpoints/PFAFN/{warp,gen}_model_final.pth
            # (test.py loads them from there); found by name at any depth.
            WeightSource("gdrive-file", "https://drive.google.com/file/d/1_a0AiN8Y_d_9TNDhHIcRlERz3zptyYWV/view",
                         files=(("warp", "PFAFN/warp_model_final.pth"), ("gen", "PFAFN/gen_model_final.pth")),
                         filename="PFAFN_checkpoints.zip", archive="zip", size=290_000_000,
                         license="PF-AFN: non-commercial research and education only (README)",
                         note="zip of the checkpoints folder; both files are plain state dicts"),
        ),
        notes="One click (or `python -m vton_zoo weights download pf-afn`) fetches the README's Google Drive zip; "
              "by hand: `python -m vton_zoo weights install pf-afn DOWNLOADED.zip`.",
    ),
    description="Parser-free student: person + garment + garment mask in; trained on VITON at 256x192.",
)


class PFAFN(TryOnModel):
    """``AFWM(3)`` warp + ``ResUnetGenerator(7, 4, 5)`` generator, composed as in the official ``test.py``."""

    spec = SPEC

    def __init__(self, config: PFAFNConfig | None = None) -> None:
        config = config or PFAFNConfig()
        super().__init__(config)
        self.warp = AFWM(cond_channels=3, align_corners=config.align_corners)
        self.gen = ResUnetGenerator(7, 4, 5, ngf=64)

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
def pf_afn(**config) -> PFAFN:
    """PF-AFN student at 256x192 (options: ``align_corners``)."""
    return PFAFN(PFAFNConfig(**config))
