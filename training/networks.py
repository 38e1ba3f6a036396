"""Training-only networks and forwards: the parser-based teacher the zoo does not register, and the appearance-flow
forward that returns what the official training losses need.

- :class:`ParserBasedTeacher`: PF-AFN's "PB-AFN" teacher, ``AFWM(45)`` + ``ResUnetGenerator(8, 4, 5)``
  (architectures.md §2.3, §2.5). It is also the teacher of our DM-VTON recipe: DM-VTON's own teacher is
  FS-VTON's ``StyleAFWM(45)``, which the zoo does not re-implement; the teacher's role (a parser-based
  try-on that makes the student's "tutor" image and the distillation targets) is the same.
- :func:`flow_training_forward`: the ``phase='train'`` forward of PF-AFN's AFWM (also DM-VTON's ``MobileAFWM`` and
  RMGN's warp), run on the zoo module's own layers, so the trained weights are the zoo's.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vton_zoo.models._afwm import AFWM
from vton_zoo.models._base import compose_tryon
from vton_zoo.models._resunet import ResUnetGenerator
from vton_zoo.ops.correlation import correlation
from vton_zoo.ops.warp import apply_offset, warp

from .losses import second_order_deltas

TEACHER_FORMAT = "vton-zoo-training"


class ParserBasedTeacher(nn.Module):
    """PB-AFN: ``AFWM(45)`` warp on the 45-channel parser-based condition + ``ResUnetGenerator(8, 4, 5)``.

    Teacher condition and generator input are built by :class:`vton_zoo.data.FlowTryOnDataset` (``teacher_condition``,
    ``preserve_region``, ``dense_preserve_mask``).
    """

    name = "pf-afn-teacher"

    def __init__(self, align_corners: bool = True) -> None:
        super().__init__()
        self.align_corners = align_corners
        self.warp = AFWM(cond_channels=45, align_corners=align_corners)
        self.gen = ResUnetGenerator(8, 4, 5, ngf=64)

    def generate(self, preserve_region: torch.Tensor, warped_garment: torch.Tensor, warped_mask: torch.Tensor,
                 dense_preserve_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The 8-channel generator input -> (tryon, composite mask, raw generator output)."""
        generator_out = self.gen(torch.cat([preserve_region, warped_garment, warped_mask, dense_preserve_mask], 1))
        tryon, composite_mask = compose_tryon(generator_out, warped_garment, warped_mask)
        return tryon, composite_mask, generator_out

    @torch.no_grad()
    def tryon(self, batch: dict[str, torch.Tensor], garment: torch.Tensor, garment_mask: torch.Tensor
              ) -> torch.Tensor:
        """The teacher's try-on of ``garment`` on the batch's people (the student's "tutor" image), no gradient."""
        mask = (garment_mask > 0.5).to(garment.dtype)
        warped_garment, flow = self.warp(batch["teacher_condition"], garment * mask)
        warped_mask = warp(mask, flow, padding_mode="zeros", align_corners=self.align_corners)
        tryon, _, _ = self.generate(batch["preserve_region"], warped_garment, warped_mask,
                                    batch["dense_preserve_mask"])
        return tryon

    def save(self, folder: str | os.PathLike, extra: dict | None = None) -> Path:
        """Write ``model.safetensors`` + ``config.json`` (format ``vton-zoo-training``) into ``folder``."""
        from .checkpointing import save_module

        return save_module(self, folder, {"format": TEACHER_FORMAT, "model": self.name,
                                          "config": {"align_corners": self.align_corners}, **(extra or {})})

    @classmethod
    def load(cls, folder: str | os.PathLike) -> ParserBasedTeacher:
        """Load a folder written by :meth:`save` (strict)."""
        from .checkpointing import load_module, read_any_config

        config = read_any_config(folder)
        if config.get("model") != cls.name:
            raise ValueError(f"{folder} holds {config.get('model')!r}, not the {cls.name} this stage needs")
        teacher = cls(**config.get("config", {}))
        load_module(teacher, folder)
        return teacher


def _pyramids(warp_module: nn.Module, cond: torch.Tensor, garment: torch.Tensor
              ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    if hasattr(warp_module, "cond_mobile"):  # DM-VTON's MobileAFWM
        return warp_module.cond_mobile(cond), warp_module.image_mobile(garment)
    return (warp_module.cond_FPN(warp_module.cond_features(cond)),
            warp_module.image_FPN(warp_module.image_features(garment)))


def flow_training_forward(warp_module: nn.Module, cond: torch.Tensor, garment: torch.Tensor,
                          garment_mask: torch.Tensor) -> dict[str, torch.Tensor | list[torch.Tensor]]:
    """PF-AFN's training forward of the cascaded appearance flow on the zoo warp module's layers.

    Args:
        warp_module: an ``AFWM`` or ``MobileAFWM`` (the zoo's ``model.warp``).
        cond: the person condition (the student's person image, or the teacher's 45 channels).
        garment: the masked garment (B, 3, H, W).
        garment_mask: its binary mask (B, 1, H, W).

    Returns:
        ``warped_garment``, ``flow`` and ``warped_mask`` at full size, and per level (coarse num=0 to fine num=4):
        ``cond_features`` / ``garment_features`` (FPN), ``flows`` (upstream ``last_flow_all``), ``deltas`` (the 10 raw
        offset maps, ``delta_list``), ``warped_levels`` / ``warped_mask_levels`` (the garment and its mask at
        1/16 ... 1 scale, warped; ``x_all`` / ``x_edge_all``), ``delta_x`` / ``delta_y`` (second differences).
    """
    net = warp_module.aflow_net
    align = net.align_corners
    cond_pyramid, garment_pyramid = _pyramids(warp_module, cond, garment)
    levels = len(garment_pyramid)
    out: dict[str, list[torch.Tensor]] = {k: [] for k in (
        "cond_features", "garment_features", "flows", "deltas", "warped_levels", "warped_mask_levels", "delta_x",
        "delta_y")}
    last_flow = None
    for level in range(levels):
        garment_feature = garment_pyramid[-1 - level]
        cond_feature = cond_pyramid[-1 - level]
        out["cond_features"].append(cond_feature)
        out["garment_features"].append(garment_feature)
        if last_flow is not None:
            prewarped = warp(garment_feature, last_flow.detach(), padding_mode="border", align_corners=align)
        else:
            prewarped = garment_feature
        cost = F.leaky_relu(correlation(prewarped, cond_feature), 0.1)  # [B, 49, h, w]
        offsets = net.netMain[level](cost)
        out["deltas"].append(offsets)
        grid = apply_offset(offsets)  # [B, h, w, 2]
        if last_flow is not None:
            flow = F.grid_sample(last_flow, grid, mode="bilinear", padding_mode="border", align_corners=align)
        else:
            flow = grid.permute(0, 3, 1, 2)
        last_flow = flow
        garment_warped = warp(garment_feature, flow, padding_mode="border", align_corners=align)
        offsets = net.netRefine[level](torch.cat([garment_warped, cond_feature], 1))
        out["deltas"].append(offsets)
        flow = F.grid_sample(last_flow, apply_offset(offsets), mode="bilinear", padding_mode="border",
                             align_corners=align)
        last_flow = F.interpolate(flow, scale_factor=2, mode="bilinear")  # [B, 2, 2h, 2w]
        out["flows"].append(last_flow)
        scale = 0.5 ** (levels - 1 - level)
        garment_level = F.interpolate(garment, scale_factor=scale, mode="bilinear") if scale != 1 else garment
        mask_level = F.interpolate(garment_mask, scale_factor=scale, mode="bilinear") if scale != 1 else garment_mask
        out["warped_levels"].append(warp(garment_level, last_flow, padding_mode="border", align_corners=align))
        out["warped_mask_levels"].append(warp(mask_level, last_flow, padding_mode="zeros", align_corners=align))
        delta_x, delta_y = second_order_deltas(last_flow)
        out["delta_x"].append(delta_x)
        out["delta_y"].append(delta_y)
    result: dict[str, torch.Tensor | list[torch.Tensor]] = dict(out)
    result["flow"] = last_flow
    result["warped_garment"] = out["warped_levels"][-1]
    result["warped_mask"] = out["warped_mask_levels"][-1]
    return result
