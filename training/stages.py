"""The training stages of every method, reproducing the official recipes (architectures.md §2.5, §4.5, §5.4, §6.4, §7).

A stage is an ``nn.Module`` whose ``forward(batch)`` returns ``(loss, logs, visuals)``: it holds the network it
trains (``self.model``, a zoo model or the training-only teacher), frozen helpers (teacher, VGG) and the recipe's
loss. The engine (:mod:`training.engine`) wraps it in DistributedDataParallel, so only parameters that require
gradients are synchronised. GAN stages keep their discriminator outside the module (``self.discriminator``) and
train it in :meth:`Stage.discriminator_loss`.

Deviations from upstream, and why:

* Every VGG19 max-pool uses ``ceil_mode=True`` (as DM-VTON does): the coarsest warp level (H/16) is too small for
  four floor-mode pools at small sizes; the result is unchanged where sizes are even.
* DM-VTON's teacher is FS-VTON (``StyleAFWM``), which the zoo does not re-implement; the PF-AFN parser-based teacher
  (:class:`training.networks.ParserBasedTeacher`) takes its place with DM-VTON's hyper-parameters.
* DAFlow's LPIPS (``net-lin`` VGG with learned linear weights) is replaced by the VGG perceptual loss of §1.7.
* RMGN never released training code: its warp is trained with PF-AFN's stage-1 warp loss on the person image, its
  generator with PF-AFN's end-to-end generator loss (L1 + VGG on the try-on and on the rendered person + mask L1).
* GP-VTON's try-on stage warps the garments online with the frozen stage-1 warp instead of reading precomputed
  ``--warproot`` images; its warp-stage discriminator sees the fused warped garment mask as the "cloth label".
* CP-VTON's TOM stage reads ``warp-cloth`` / ``warp-mask`` when the VITON folder has them
  (``VitonReader(warped=True)``) and otherwise warps online with the frozen GMM.
* Distillation terms are MSEs per sample (upstream ``criterionL2``) multiplied by the per-sample gate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vton_zoo import create_model
from vton_zoo.models._base import compose_tryon
from vton_zoo.ops.warp import warp

from . import losses as L
from .checkpointing import read_any_config
from .networks import ParserBasedTeacher, flow_training_forward

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipe:
    """The official defaults of a stage (each can be overridden on the command line)."""

    lr: float = 5e-5
    betas: tuple[float, float] = (0.5, 0.999)
    optimizer: str = "adam"  # or "adamw"
    batch_size: int = 4  # per process (per GPU), as the official scripts count it
    niter: int = 50  # epochs at the initial learning rate
    niter_decay: int = 50  # epochs of linear decay to 0
    schedule: str = "linear"  # "linear" (niter + niter_decay epochs), "step" (StepLR), "steps" (iterations)
    step_size: int = 30  # "step": epochs per decay
    gamma: float = 0.2  # "step": decay factor
    keep_steps: int = 100_000  # "steps": iterations at the initial rate
    decay_steps: int = 100_000  # "steps": iterations of linear decay
    sync_bn: bool = False  # the official recipe used SyncBatchNorm (multi-GPU DDP)
    save_every: int = 0  # 0: every epoch
    size: tuple[int, int] | None = None  # None: the zoo model's resolution


class Stage(nn.Module):
    """Base class. Subclasses set the class attributes and implement :meth:`build` and :meth:`forward`."""

    method = "?"
    name = "?"
    summary = ""
    zoo_model: str | None = None  # the zoo model the stage trains (None: a training-only network)
    layouts: tuple[str, ...] = ("viton-clean",)
    recipe = Recipe()
    init_from: str | None = None  # stage whose final weights initialise this one
    teacher_from: str | None = None  # stage whose final weights are the frozen teacher
    dataset_kwargs: dict[str, Any] = {}
    needs_vgg = True
    has_discriminator = False

    def __init__(self, args: Any) -> None:
        super().__init__()
        self.args = args
        self.epoch = 0
        self.size = tuple(args.size)
        self.vgg_loss: L.VGGLoss | None = None
        if self.needs_vgg:
            self.vgg_loss = L.VGGLoss(L.load_vgg19(args.vgg_weights, ceil_mode=True))
        self.discriminator: nn.Module | None = None
        if self.zoo_model is not None:
            self.zoo_model = zoo_name(type(self), args.layout)
        self.build()

    # -- construction

    def build(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def zoo(self, init: Path | None) -> nn.Module:
        """The zoo model, from ``init`` (a zoo weights folder) or freshly initialised, in train mode."""
        config = self.model_config()
        model = create_model(self.zoo_model, weights=init, **config) if init else create_model(self.zoo_model,
                                                                                               **config)
        return model.train()

    def model_config(self) -> dict[str, Any]:
        return {}

    def init_folder(self) -> Path | None:
        """``--init`` or the previous stage's ``final/`` under ``--out`` (when the recipe chains stages)."""
        if self.args.init:
            return Path(self.args.init)
        if self.init_from:
            folder = Path(self.args.out) / self.init_from / "final"
            if folder.is_dir():
                logger.info("%s/%s starts from %s", self.method, self.name, folder)
                return folder
            logger.warning("%s/%s: no %s (stage %s not run) and no --init: starting from scratch", self.method,
                           self.name, folder, self.init_from)
        return None

    def teacher_folder(self) -> Path:
        folder = Path(self.args.teacher) if self.args.teacher else Path(self.args.out) / str(self.teacher_from) / \
            "final"
        if not folder.is_dir():
            raise ValueError(f"{self.method}/{self.name} needs the frozen teacher of stage {self.teacher_from!r}: "
                             f"{folder} not found. Run `python -m training {self.method} --stage {self.teacher_from} "
                             f"--out {self.args.out} ...` first, or pass --teacher DIR")
        return folder

    def frozen(self, module: nn.Module) -> nn.Module:
        module.requires_grad_(False)
        return module.eval()

    def param_groups(self, lr: float) -> list[dict[str, Any]]:
        """Optimizer parameter groups (default: every trainable parameter of ``self.model`` at ``lr``)."""
        return [{"params": [p for p in self.model.parameters() if p.requires_grad], "lr": lr}]

    def before_optimizer_step(self) -> None:
        """Hook between backward and the optimizer step (PF-AFN's partial training)."""

    def train(self, mode: bool = True) -> Stage:
        super().train(mode)
        for name in ("teacher", "frozen_part"):
            module = getattr(self, name, None)
            if isinstance(module, nn.Module):
                module.eval()
        return self

    # -- validation: (prediction, target) images in [-1, 1] compared with SSIM

    def validate(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError

    discriminator_weight = 1.0  # GAN stages: the official weight of the LSGAN discriminator loss

    def discriminator_loss(self, discriminator: nn.Module | None = None) -> torch.Tensor:
        """GAN stages: the weighted LSGAN loss of ``discriminator`` (the DDP-wrapped one, else
        ``self.discriminator``) on the (real, fake) pair the last forward kept in ``self._d_inputs``."""
        d_inputs = getattr(self, "_d_inputs", None)
        assert d_inputs is not None, f"{self.method}/{self.name}: no discriminator inputs (no GAN forward yet)"
        real, fake = d_inputs
        prediction = (discriminator or self.discriminator)(torch.cat([real, fake], 0))
        real_prediction, fake_prediction = prediction.split(real.shape[0])
        return self.discriminator_weight * L.lsgan_d_loss(real_prediction, fake_prediction)

    # -- shared loss terms

    def vgg(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        assert self.vgg_loss is not None
        return self.vgg_loss(x, y)

    def warp_pyramid_loss(self, out: dict, target: torch.Tensor, target_mask: torch.Tensor
                          ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """PF-AFN stage-1 warp loss (§2.5.1): per level ``(num+1) * [L1 + 0.2 VGG + 2 edge-L1 + 6 second-order]``
        plus ``0.01 * sum TV(delta_list)``."""
        levels = len(out["warped_levels"])
        terms = {k: target.new_zeros(()) for k in ("l1", "vgg", "edge", "smooth", "tv")}
        for num in range(levels):
            scale = 0.5 ** (levels - 1 - num)
            target_level = F.interpolate(target, scale_factor=scale, mode="bilinear") if scale != 1 else target
            mask_level = F.interpolate(target_mask, scale_factor=scale, mode="bilinear") if scale != 1 else \
                target_mask
            weight = num + 1
            terms["l1"] = terms["l1"] + weight * F.l1_loss(out["warped_levels"][num], target_level)
            terms["vgg"] = terms["vgg"] + weight * 0.2 * self.vgg(out["warped_levels"][num], target_level)
            terms["edge"] = terms["edge"] + weight * 2 * F.l1_loss(out["warped_mask_levels"][num], mask_level)
            terms["smooth"] = terms["smooth"] + weight * 6 * L.second_order_smooth_loss(out["delta_x"][num],
                                                                                         out["delta_y"][num])
        terms["tv"] = 0.01 * sum(L.tv_loss(delta) for delta in out["deltas"])
        return sum(terms.values()), terms

    def generator_loss(self, tryon: torch.Tensor, rendered: torch.Tensor, composite_mask: torch.Tensor,
                       person: torch.Tensor, mask_weight: float = 1.0) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The PF-AFN-family generator loss: ``5 L1 + VGG`` on the try-on and on the rendered person, plus
        ``mask_weight * mean|1 - m|``."""
        terms = {
            "gen_l1": 5 * F.l1_loss(tryon, person),
            "gen_vgg": self.vgg(tryon, person),
            "bg_l1": 5 * F.l1_loss(rendered, person),
            "bg_vgg": self.vgg(rendered, person),
            "mask_l1": mask_weight * (1 - composite_mask).abs().mean(),
        }
        return sum(terms.values()), terms


def _logs(terms: dict[str, torch.Tensor]) -> dict[str, float]:
    return {k: float(v.detach()) for k, v in terms.items()}


def _masked_garment(batch: dict[str, torch.Tensor], key: str = "garment", mask_key: str = "garment_mask"
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    mask = (batch[mask_key] > 0.5).to(batch[key].dtype)
    return batch[key] * mask, mask


# ---------------------------------------------------------------------------------------------------------------
# PF-AFN family: PF-AFN, DM-VTON (teacher + student), RMGN


class TeacherWarp(Stage):
    """Parser-based teacher warp AFWM(45) (``train_PBAFN_stage1.py``, DM-VTON ``train_pb_warp.py``)."""

    name = "teacher-warp"
    summary = "parser-based teacher warp AFWM(45) on the 45-channel condition; PF-AFN stage-1 warp loss"
    condition = "teacher_condition"  # the batch key the warp is conditioned on

    def build(self) -> None:
        self.model = ParserBasedTeacher().train()
        init = self.init_folder()
        if init:
            self.model = ParserBasedTeacher.load(init).train()
        self.model.gen.requires_grad_(False)

    def forward(self, batch):
        garment, mask = _masked_garment(batch)
        out = flow_training_forward(self.model.warp, batch[self.condition], garment, mask)
        loss, terms = self.warp_pyramid_loss(out, batch["person_garment"], batch["person_garment_mask"])
        visuals = {"person": batch["person"], "garment": garment, "warped_garment": out["warped_garment"],
                   "result": out["warped_garment"]}
        return loss, _logs(terms), visuals

    @torch.no_grad()
    def validate(self, batch):
        garment, _ = _masked_garment(batch)
        warped, _ = self.model.warp(batch[self.condition], garment)
        return warped, batch["person_garment"]


class TeacherEndToEnd(Stage):
    """Teacher warp (lr x 0.2) + ResUnet(8, 4, 5) (``train_PBAFN_e2e.py``, DM-VTON ``train_pb_e2e.py``)."""

    name = "teacher-e2e"
    summary = "teacher warp (lr x0.2) + generator ResUnet(8,4,5); 0.5 warp loss + generator loss"
    init_from = "teacher-warp"
    mask_by_person_garment = True  # PF-AFN multiplies the composite mask by the GT clothes mask; DM-VTON does not

    def build(self) -> None:
        init = self.init_folder()
        self.model = (ParserBasedTeacher.load(init) if init else ParserBasedTeacher()).train()

    def param_groups(self, lr):
        return [{"params": list(self.model.warp.parameters()), "lr": 0.2 * lr},
                {"params": list(self.model.gen.parameters()), "lr": lr}]

    def forward(self, batch):
        garment, mask = _masked_garment(batch)
        out = flow_training_forward(self.model.warp, batch["teacher_condition"], garment, mask)
        warp_loss, terms = self.warp_pyramid_loss(out, batch["person_garment"], batch["person_garment_mask"])
        generator_out = self.model.gen(torch.cat([batch["preserve_region"], out["warped_garment"],
                                                  out["warped_mask"], batch["dense_preserve_mask"]], 1))
        warped_mask = out["warped_mask"]
        if self.mask_by_person_garment:
            warped_mask = warped_mask * batch["person_garment_mask"]
        tryon, composite_mask = compose_tryon(generator_out, out["warped_garment"], warped_mask)
        rendered = torch.tanh(generator_out[:, :3])
        gen_loss, gen_terms = self.generator_loss(tryon, rendered, composite_mask, batch["person"])
        visuals = {"person": batch["person"], "garment": garment, "warped_garment": out["warped_garment"],
                   "result": tryon}
        return 0.5 * warp_loss + gen_loss, _logs({**terms, **gen_terms}), visuals

    @torch.no_grad()
    def validate(self, batch):
        garment, mask = _masked_garment(batch)
        warped, flow = self.model.warp(batch["teacher_condition"], garment)
        warped_mask = warp(mask, flow, padding_mode="zeros", align_corners=self.model.align_corners)
        tryon, _, _ = self.model.generate(batch["preserve_region"], warped, warped_mask, batch["dense_preserve_mask"])
        return tryon, batch["person"]


class StudentWarp(Stage):
    """Parser-free student warp with distillation (``train_PFAFN_stage1.py``; DM-VTON ``train_pf_warp.py``).

    The frozen teacher tries a random other garment on the person (the "tutor" image); the student warps the
    person's own garment onto that tutor image and must reproduce the real garment region. Distillation of the
    person-branch FPN features (``(5-num) * 0.04``) and the flows (levels >= 2, ``(num+1)``), gated per sample.
    """

    name = "student-warp"
    summary = ("student warp on the teacher's unpaired try-on ('tutor'), PF-AFN warp loss + feature and flow "
               "distillation gated per sample")
    teacher_from = "teacher-e2e"
    dataset_kwargs = {"unpaired_garment": True}
    recipe = Recipe(lr=3e-5, niter=100, niter_decay=100, sync_bn=True)
    distill_garment_features = False  # DM-VTON also distils the garment-branch features
    partial_init = True  # PF-AFN: copy the teacher warp except cond_* and netRefine, train those first

    def build(self) -> None:
        self.teacher = self.frozen(ParserBasedTeacher.load(self.teacher_folder()))
        init = self.init_folder()
        self.model = self.zoo(init)
        self.part_names: set[str] = set()
        if init is None and self.partial_init:
            teacher_state = self.teacher.warp.state_dict()
            student_state = self.model.warp.state_dict()
            copied = {k: v for k, v in teacher_state.items() if "cond_" not in k and "aflow_net.netRefine" not in k
                      and k in student_state and student_state[k].shape == v.shape}
            self.model.warp.load_state_dict(copied, strict=False)
            self.part_names = {f"warp.{k}" for k in student_state if k not in copied}
            logger.info("student warp: %d tensors copied from the teacher, %d trained first", len(copied),
                        len(self.part_names))
        self.model.gen.requires_grad_(False)

    def before_optimizer_step(self) -> None:
        # PF-AFN: for the first niter epochs only the parameters not copied from the teacher are updated
        if self.part_names and self.epoch < self.args.niter:
            for name, parameter in self.model.named_parameters():
                if name not in self.part_names:
                    parameter.grad = None

    def tutor(self, batch):
        return self.teacher.tryon(batch, batch["garment_unpaired"], batch["garment_mask_unpaired"])

    def forward(self, batch):
        garment, mask = _masked_garment(batch)
        tutor = self.tutor(batch)
        out = flow_training_forward(self.model.warp, tutor, garment, mask)
        warp_loss, terms = self.warp_pyramid_loss(out, batch["person_garment"], batch["person_garment_mask"])
        with torch.no_grad():
            sup = flow_training_forward(self.teacher.warp, batch["teacher_condition"], garment, mask)
        gate = L.distillation_gate(sup["warped_garment"], out["warped_garment"], batch["person_garment"])
        terms["distill_features"] = L.feature_distillation_loss(sup["cond_features"], out["cond_features"], gate)
        if self.distill_garment_features:
            terms["distill_garment_features"] = L.feature_distillation_loss(sup["garment_features"],
                                                                            out["garment_features"], gate)
        terms["distill_flow"] = L.flow_distillation_loss(sup["flows"], out["flows"], gate)
        loss = warp_loss + sum(v for k, v in terms.items() if k.startswith("distill"))
        logs = _logs(terms)
        logs["gate"] = float(gate.mean())
        visuals = {"person": tutor, "garment": garment, "warped_garment": out["warped_garment"],
                   "result": out["warped_garment"]}
        return loss, logs, visuals

    @torch.no_grad()
    def validate(self, batch):
        garment, _ = _masked_garment(batch)
        warped, _ = self.model.warp(batch["person"], garment)
        return warped, batch["person_garment"]


class StudentEndToEnd(Stage):
    """Student warp (lr x 0.2) + generator on the tutor image (``train_PFAFN_e2e.py``; DM-VTON ``train_pf_e2e.py``).

    ``loss = 0.25 warp + 5 L1 + VGG + 5 bgL1 + bgVGG + mask L1 + skin terms`` with the skin weights
    (30 L1, 2 VGG) doubled once ``epoch >= niter``.
    """

    name = "student-e2e"
    summary = "student warp (lr x0.2) + generator on the tutor image; 0.25 warp loss + generator + skin terms"
    init_from = "student-warp"
    teacher_from = "teacher-e2e"
    dataset_kwargs = {"unpaired_garment": True}
    recipe = Recipe(lr=3e-5, niter=100, niter_decay=100, sync_bn=True)

    def build(self) -> None:
        self.teacher = self.frozen(ParserBasedTeacher.load(self.teacher_folder()))
        self.model = self.zoo(self.init_folder())

    def param_groups(self, lr):
        return [{"params": list(self.model.warp.parameters()), "lr": 0.2 * lr},
                {"params": list(self.model.gen.parameters()), "lr": lr}]

    def generator(self, tutor: torch.Tensor, warped_garment: torch.Tensor, warped_mask: torch.Tensor
                  ) -> torch.Tensor:
        return self.model.gen(torch.cat([tutor, warped_garment, warped_mask], 1))

    def forward(self, batch):
        garment, mask = _masked_garment(batch)
        with torch.no_grad():
            garment_un, mask_un = _masked_garment(batch, "garment_unpaired", "garment_mask_unpaired")
            warped_un, flow_un = self.teacher.warp(batch["teacher_condition"], garment_un)
            warped_mask_un = warp(mask_un, flow_un, padding_mode="zeros", align_corners=self.teacher.align_corners)
            tutor, _, _ = self.teacher.generate(batch["preserve_region"], warped_un, warped_mask_un,
                                                batch["dense_preserve_mask"])
        out = flow_training_forward(self.model.warp, tutor, garment, mask)
        warp_loss, terms = self.warp_pyramid_loss(out, batch["person_garment"], batch["person_garment_mask"])
        generator_out = self.generator(tutor, out["warped_garment"], out["warped_mask"])
        tryon, composite_mask = compose_tryon(generator_out, out["warped_garment"], out["warped_mask"])
        rendered = torch.tanh(generator_out[:, :3])
        gen_loss, gen_terms = self.generator_loss(tryon, rendered, composite_mask, batch["person"])
        skin = warped_mask_un * (1 - batch["person_garment_mask"])
        factor = 2.0 if self.epoch >= self.args.niter else 1.0
        gen_terms["skin_l1"] = factor * 30 * F.l1_loss(tryon * skin, batch["person"] * skin)
        gen_terms["skin_vgg"] = factor * 2 * self.vgg(tryon * skin, batch["person"] * skin)
        loss = 0.25 * warp_loss + sum(gen_terms.values())
        visuals = {"person": tutor, "garment": garment, "warped_garment": out["warped_garment"], "result": tryon}
        return loss, _logs({**terms, **gen_terms}), visuals

    @torch.no_grad()
    def validate(self, batch):
        inputs = {k: batch[k] for k in self.model.spec.inputs}
        return self.model(inputs)["tryon"], batch["person"]


class PFAFNTeacherWarp(TeacherWarp):
    method = "pf-afn"
    recipe = Recipe(sync_bn=True)


class PFAFNTeacherEndToEnd(TeacherEndToEnd):
    method = "pf-afn"
    recipe = Recipe(sync_bn=True)


class PFAFNStudentWarp(StudentWarp):
    method = "pf-afn"
    zoo_model = "pf-afn"


class PFAFNStudentEndToEnd(StudentEndToEnd):
    method = "pf-afn"
    zoo_model = "pf-afn"


class DMVTONTeacherWarp(TeacherWarp):
    method = "dm-vton"
    layouts = ("viton-clean", "dresscode", "viton-hd")
    recipe = Recipe(batch_size=18)


class DMVTONTeacherEndToEnd(TeacherEndToEnd):
    method = "dm-vton"
    layouts = ("viton-clean", "dresscode", "viton-hd")
    recipe = Recipe(batch_size=14)
    mask_by_person_garment = False


class DMVTONStudentWarp(StudentWarp):
    method = "dm-vton"
    zoo_model = "dm-vton"
    layouts = ("viton-clean", "dresscode", "viton-hd")
    recipe = Recipe(batch_size=8)
    distill_garment_features = True
    partial_init = False  # DM-VTON's mobile student starts from scratch

    def build(self) -> None:
        super().build()


class DMVTONStudentEndToEnd(StudentEndToEnd):
    method = "dm-vton"
    zoo_model = "dm-vton"
    layouts = ("viton-clean", "dresscode", "viton-hd")
    recipe = Recipe(batch_size=6)


class RMGNWarp(TeacherWarp):
    """RMGN's warp (the PF-AFN AFWM(3)) trained parser-free with PF-AFN's stage-1 warp loss on the person image
    (the teacher-warp recipe with the person image as the condition)."""

    method = "rmgn"
    name = "warp"
    summary = "warp AFWM(3) on the person image; PF-AFN stage-1 warp loss"
    zoo_model = "rmgn"
    recipe = Recipe(sync_bn=True)
    condition = "person"

    def build(self) -> None:
        self.model = self.zoo(self.init_folder())
        self.model.gen.requires_grad_(False)


class RMGNGenerator(Stage):
    """RMGN generator (with the warp at lr x 0.2): 0.25 warp loss + the generator loss of the PF-AFN family."""

    method = "rmgn"
    name = "gen"
    summary = "RMGN generator + warp (lr x0.2); 0.25 warp loss + 5 L1 + VGG on try-on and rendered + mask L1"
    zoo_model = "rmgn"
    init_from = "warp"
    recipe = Recipe(sync_bn=True)

    def build(self) -> None:
        self.model = self.zoo(self.init_folder())

    def param_groups(self, lr):
        return [{"params": list(self.model.warp.parameters()), "lr": 0.2 * lr},
                {"params": list(self.model.gen.parameters()), "lr": lr}]

    def forward(self, batch):
        garment, mask = _masked_garment(batch)
        out = flow_training_forward(self.model.warp, batch["person"], garment, mask)
        warp_loss, terms = self.warp_pyramid_loss(out, batch["person_garment"], batch["person_garment_mask"])
        generator_out, _ = self.model.gen(batch["person"], torch.cat([out["warped_garment"], out["warped_mask"]], 1))
        tryon, composite_mask = compose_tryon(generator_out, out["warped_garment"], out["warped_mask"])
        gen_loss, gen_terms = self.generator_loss(tryon, torch.tanh(generator_out[:, :3]), composite_mask,
                                                  batch["person"])
        visuals = {"person": batch["person"], "garment": garment, "warped_garment": out["warped_garment"],
                   "result": tryon}
        return 0.25 * warp_loss + gen_loss, _logs({**terms, **gen_terms}), visuals

    @torch.no_grad()
    def validate(self, batch):
        return self.model({k: batch[k] for k in self.model.spec.inputs})["tryon"], batch["person"]


# ---------------------------------------------------------------------------------------------------------------
# DAFlow


class DAFlowTrain(Stage):
    """``train_SDAFNet_viton.py``: deep supervision over the 5 per-level renders,
    ``(num+1) * [L1 + VGG + 100 style + 0.1 content]`` (VGG in place of LPIPS)."""

    method = "daflow"
    name = "train"
    summary = "single stage: deep supervision (num+1)*(L1 + VGG + 100 style + 0.1 content); AdamW, StepLR(30, 0.2)"
    zoo_model = "daflow"
    layouts = ("viton", "viton-clean", "viton-hd")
    recipe = Recipe(lr=5e-5, betas=(0.9, 0.999), optimizer="adamw", batch_size=8, niter=200, niter_decay=0,
                    schedule="step", step_size=30, gamma=0.2, save_every=10_000)

    def build(self) -> None:
        self.model = self.zoo(self.init_folder())
        assert self.vgg_loss is not None
        self.style_content = L.StyleContentLoss(self.vgg_loss.vgg)

    def forward(self, batch):
        reference = torch.cat([batch["pose_image"], batch["person_agnostic"]], 1)
        tryon, levels = self.model.net(reference, batch["garment"], batch["person_agnostic"], return_levels=True)
        person = batch["person"]
        terms = {k: person.new_zeros(()) for k in ("l1", "vgg", "style", "content")}
        for num, output in enumerate(levels):
            target = F.interpolate(person, size=output.shape[-2:], mode="bilinear", align_corners=False)
            weight = num + 1
            terms["l1"] = terms["l1"] + weight * F.l1_loss(output, target)
            if num == 0:  # upstream upsamples the coarsest render x2 before the perceptual terms
                output = F.interpolate(output, scale_factor=2, mode="bilinear", align_corners=False)
                target = F.interpolate(person, size=output.shape[-2:], mode="bilinear", align_corners=False)
            content, style = self.style_content(output, target)
            terms["vgg"] = terms["vgg"] + weight * self.vgg(output, target)
            terms["style"] = terms["style"] + weight * 100 * style
            terms["content"] = terms["content"] + weight * 0.1 * content
        visuals = {"person": person, "garment": batch["garment"], "warped_garment": batch["person_agnostic"],
                   "result": tryon.clamp(-1, 1)}
        return sum(terms.values()), _logs(terms), visuals

    @torch.no_grad()
    def validate(self, batch):
        return self.model({k: batch[k] for k in self.model.spec.inputs})["tryon"].clamp(-1, 1), batch["person"]


# ---------------------------------------------------------------------------------------------------------------
# GP-VTON


def _gp_inputs(model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: batch[k] for k in model.spec.inputs}


class GPVTONWarp(Stage):
    """``train_warping.py``: part flows (left sleeve / torso / right sleeve), fused flow, global parsing loss, LSGAN,
    and dynamic gradient truncation (after ``--mask-epoch``, the losses ignore the dynamic preserve region)."""

    method = "gp-vton"
    name = "warp"
    summary = ("LFGP warp: per-part flows + fused flow + parsing (weighted CE) + LSGAN (spectral D), dynamic gradient "
               "truncation after --mask-epoch")
    zoo_model = "gp-vton"
    layouts = ("viton-hd", "dresscode")
    recipe = Recipe(lr=5e-5, batch_size=2, niter=70, niter_decay=50, sync_bn=True)
    has_discriminator = True
    discriminator_weight = 0.1

    def build(self) -> None:
        self.model = self.zoo(self.init_folder())
        self.model.gen.requires_grad_(False)
        classes = self.model.num_classes
        self.discriminator = L.SpectralDiscriminator(51 + 1 + classes)
        self._d_inputs: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, batch):
        model = self.model
        garment, garment_mask = _masked_garment(batch)
        part_masks = torch.cat([batch["left_sleeve_mask"], batch["torso_mask"], batch["right_sleeve_mask"]], 0)
        part_garments = garment.repeat(3, 1, 1, 1) * part_masks
        garment_type = batch.get("garment_type") if model.conditioned else None
        out = model.warp(batch["warp_condition"], garment, garment_mask, batch["garment_parts_label"], part_garments,
                         part_masks, batch["preserve_mask"], garment_type, training_outputs=True)
        person = batch["person"]
        person_parts = torch.cat([batch["person_left_mask"], batch["person_middle_mask"],
                                  batch["person_right_mask"]], 0)  # [3B, 1, H, W]
        target_parts = person.repeat(3, 1, 1, 1) * person_parts
        present = (part_masks.flatten(1).amax(1) > 0).to(person.dtype).view(-1, 1, 1, 1)  # parts the garment has
        preserve = batch["preserve_mask_loss"]
        truncate = self.args.dynamic_mask and self.epoch >= self.args.mask_epoch
        levels = len(out["x_all"])
        terms = {k: person.new_zeros(()) for k in ("l1", "vgg", "edge", "smooth", "full", "attention", "parsing",
                                                   "tv")}
        batch_size = person.shape[0]
        for num in range(levels):
            size = out["x_all"][num].shape[-2:]
            weight = num + 1

            def down(t: torch.Tensor, size: torch.Size = size) -> torch.Tensor:
                return F.interpolate(t, size=size, mode="bilinear") if t.shape[-2:] != size else t

            x, x_edge = out["x_all"][num] * present, out["x_edge_all"][num] * present
            target, target_edge = down(target_parts) * present, down(person_parts) * present
            x_full, x_edge_full = out["x_full_all"][num], out["x_edge_full_all"][num]
            target_full, target_edge_full = down(person * batch["person_garment_mask"]), \
                down(batch["person_garment_mask"])
            if truncate:
                preserve_parts = down(preserve).repeat(3, 1, 1, 1)
                x, target = L.truncate_gradients(x, target, preserve_parts)
                x_edge, target_edge = L.truncate_gradients(x_edge, target_edge, preserve_parts)
                x_full, target_full = L.truncate_gradients(x_full, target_full, down(preserve))
                x_edge_full, target_edge_full = L.truncate_gradients(x_edge_full, target_edge_full, down(preserve))
            terms["l1"] = terms["l1"] + weight * F.l1_loss(x, target)
            terms["vgg"] = terms["vgg"] + weight * 0.2 * self.vgg(x, target)
            terms["edge"] = terms["edge"] + weight * 2 * F.l1_loss(x_edge, target_edge)
            smooth = [L.second_order_smooth_loss(dx, dy) for dx, dy in
                      zip(out["delta_x_all"][num].split(batch_size), out["delta_y_all"][num].split(batch_size))]
            terms["smooth"] = terms["smooth"] + weight * 6 * (smooth[0] + 40 * smooth[1] + smooth[2]) / 3
            terms["full"] = terms["full"] + weight * (F.l1_loss(x_full, target_full)
                                                      + 2 * F.l1_loss(x_edge_full, target_edge_full))
            attention_target = down(torch.cat(person_parts.split(batch_size), 1))
            terms["attention"] = terms["attention"] + weight * 0.5 * F.l1_loss(out["attention_all"][num],
                                                                               attention_target)
            terms["parsing"] = terms["parsing"] + weight * 0.5 * L.parsing_loss(out["seg_list"][num],
                                                                                batch["seg_target"])
        terms["tv"] = 0.1 * sum(L.tv_loss(delta * present.view(-1, 1, 1, 1)) for delta in out["delta_list"])
        seg = torch.softmax(out["seg_list"][-1], 1)
        fake = torch.cat([batch["warp_condition"], out["x_edge_full_all"][-1], seg], 1)
        real = torch.cat([batch["warp_condition"], batch["person_garment_mask"], batch["seg_onehot"]], 1)
        assert self.discriminator is not None
        self.discriminator.requires_grad_(False)
        terms["gan"] = 0.1 * L.lsgan_g_loss(self.discriminator(fake))
        self.discriminator.requires_grad_(True)
        self._d_inputs = (real.detach(), fake.detach())
        visuals = {"person": person, "garment": garment, "warped_garment": out["x_full_all"][-1],
                   "result": sum(out["x_all"][-1].split(batch_size))}
        return sum(terms.values()), _logs(terms), visuals

    @torch.no_grad()
    def validate(self, batch):
        out = self.model.warp_stage(_gp_inputs(self.model, batch))
        return out["warped_garment"], batch["person"] * batch["person_garment_mask"]


class GPVTONTryOn(Stage):
    """``train_tryon.py``: ResUnet(36, 4, 5) on the frozen warp's results; composite mask x the person's garment mask
    (VITON-HD); ``5 L1 + VGG + 5 bgL1 + bgVGG + 5 mask L1 + 0.5 LSGAN``, D = spectral PatchGAN(39) with BatchNorm."""

    method = "gp-vton"
    name = "tryon"
    summary = "try-on generator ResUnet(36,4,5) on the frozen warp's output; L1/VGG/mask + LSGAN (spectral D, BN)"
    zoo_model = "gp-vton"
    layouts = ("viton-hd", "dresscode")
    init_from = "warp"
    recipe = Recipe(lr=5e-4, batch_size=10, niter=200, niter_decay=0, sync_bn=True)
    has_discriminator = True
    discriminator_weight = 0.5

    def build(self) -> None:
        self.model = self.zoo(self.init_folder())
        self.frozen_part = self.frozen(self.model.warp)
        self.discriminator = L.SpectralDiscriminator(36 + 3, norm="batch")
        self._d_inputs = None

    def forward(self, batch):
        model = self.model
        with torch.no_grad():
            warped = model.warp_stage(_gp_inputs(model, batch))
        # the generator input, as GPVTON.generate builds it
        garment_labels = range(1, model.body_classes[0])
        warped_parsing, warped_garment = warped["warped_parsing"], warped["warped_garment"]
        warped_mask = sum((warped_parsing == label).to(warped_garment.dtype) for label in garment_labels)
        left_arm, right_arm, neck = ((warped_parsing == label).to(warped_garment.dtype)
                                     for label in model.body_classes)
        preserve_mask = model._generator_preserve_mask(batch["preserve_mask"], warped_mask)
        generator_in = torch.cat([batch["person"] * preserve_mask, warped_garment, warped_mask,
                                  (left_arm + 2 * right_arm + 3 * neck) / 3, batch["arms_color"],
                                  batch["warp_condition"][:, 25:50]], 1)
        generator_out = model.gen(generator_in)
        composite_target = warped_mask * batch["person_garment_mask"] if not model.conditioned else warped_mask
        tryon, composite_mask = compose_tryon(generator_out, warped_garment, composite_target)
        gen_loss, terms = self.generator_loss(tryon, torch.tanh(generator_out[:, :3]), composite_mask,
                                              batch["person"], mask_weight=5.0)
        assert self.discriminator is not None
        self.discriminator.requires_grad_(False)
        terms["gan"] = 0.5 * L.lsgan_g_loss(self.discriminator(torch.cat([generator_in, tryon], 1)))
        self.discriminator.requires_grad_(True)
        self._d_inputs = (torch.cat([generator_in, batch["person"]], 1).detach(),
                          torch.cat([generator_in, tryon], 1).detach())
        visuals = {"person": batch["person"], "garment": batch["garment"], "warped_garment": warped_garment,
                   "result": tryon}
        return gen_loss + terms["gan"], _logs(terms), visuals

    @torch.no_grad()
    def validate(self, batch):
        return self.model(_gp_inputs(self.model, batch))["tryon"], batch["person"]


# ---------------------------------------------------------------------------------------------------------------
# CP-VTON


class CPVTONStage(Stage):
    method = "cp-vton"
    zoo_model = "cp-vton"
    layouts = ("viton", "viton-hd")
    recipe = Recipe(lr=1e-4, batch_size=4, schedule="steps", keep_steps=100_000, decay_steps=100_000)

    def model_config(self) -> dict[str, Any]:
        return {"fine_height": self.size[0], "fine_width": self.size[1]}


class CPVTONGMM(CPVTONStage):
    """``train.py --stage GMM``: L1 between the TPS-warped garment and the person's garment on white."""

    name = "gmm"
    summary = "geometric matching module (TPS): L1(warped garment, person's garment)"
    needs_vgg = False

    def build(self) -> None:
        self.model = self.zoo(self.init_folder())
        self.model.tom.requires_grad_(False)

    def warp(self, batch):
        grid, _ = self.model.gmm(batch["person_representation"], batch["garment"])
        align = self.model.config.align_corners
        warped = F.grid_sample(batch["garment"], grid, mode="bilinear", padding_mode="border", align_corners=align)
        warped_mask = F.grid_sample(batch["garment_mask"], grid, mode="bilinear", padding_mode="zeros",
                                    align_corners=align)
        return warped, warped_mask

    def forward(self, batch):
        warped, _ = self.warp(batch)
        loss = L.gmm_loss(warped, batch["person_garment"])
        visuals = {"person": batch["person"], "garment": batch["garment"], "warped_garment": warped,
                   "result": warped}
        return loss, {"l1": float(loss.detach())}, visuals

    @torch.no_grad()
    def validate(self, batch):
        return self.warp(batch)[0], batch["person_garment"]


class CPVTONTOM(CPVTONStage):
    """``train.py --stage TOM``: ``L1 + VGG + L1(composite mask, warped garment mask)`` on the GMM's warps."""

    name = "tom"
    summary = "try-on module (U-Net) on the GMM's warped garments: L1 + VGG + mask L1"
    init_from = "gmm"

    def build(self) -> None:
        self.model = self.zoo(self.init_folder())
        self.frozen_part = self.frozen(self.model.gmm)

    def forward(self, batch):
        model = self.model
        if "warped_garment" in batch:
            warped, warped_mask = batch["warped_garment"], batch["warped_garment_mask"]
        else:
            with torch.no_grad():
                grid, _ = model.gmm(batch["person_representation"], batch["garment"])
                align = model.config.align_corners
                warped = F.grid_sample(batch["garment"], grid, padding_mode="border", align_corners=align)
                warped_mask = F.grid_sample(batch["garment_mask"], grid, padding_mode="zeros", align_corners=align)
        generator_out = model.tom(torch.cat([batch["person_representation"], warped], 1))
        rendered = torch.tanh(generator_out[:, :3])
        composite_mask = torch.sigmoid(generator_out[:, 3:4])
        tryon = warped * composite_mask + rendered * (1 - composite_mask)
        assert self.vgg_loss is not None
        loss, terms = L.tom_loss(tryon, composite_mask, batch["person"], warped_mask, self.vgg_loss)
        visuals = {"person": batch["person"], "garment": batch["garment"], "warped_garment": warped, "result": tryon}
        return loss, _logs(terms), visuals

    @torch.no_grad()
    def validate(self, batch):
        return self.model({k: batch[k] for k in self.model.spec.inputs})["tryon"], batch["person"]


# ---------------------------------------------------------------------------------------------------------------
# Registry

STAGES: dict[str, tuple[type[Stage], ...]] = {
    "pf-afn": (PFAFNTeacherWarp, PFAFNTeacherEndToEnd, PFAFNStudentWarp, PFAFNStudentEndToEnd),
    "dm-vton": (DMVTONTeacherWarp, DMVTONTeacherEndToEnd, DMVTONStudentWarp, DMVTONStudentEndToEnd),
    "rmgn": (RMGNWarp, RMGNGenerator),
    "daflow": (DAFlowTrain,),
    "gp-vton": (GPVTONWarp, GPVTONTryOn),
    "cp-vton": (CPVTONGMM, CPVTONTOM),
}


def get_stage(method: str, stage: str | None) -> type[Stage]:
    """The stage class; ``stage=None`` is the method's first stage."""
    if method not in STAGES:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(STAGES)}")
    stages = STAGES[method]
    if stage is None:
        return stages[0]
    for cls in stages:
        if cls.name == stage:
            return cls
    raise ValueError(f"{method} has no stage {stage!r}; its stages, in order: {', '.join(c.name for c in stages)}")


def zoo_name(stage_cls: type[Stage], layout: str) -> str | None:
    """The zoo model a stage trains on a layout (GP-VTON on DressCode is ``gp-vton-dresscode``)."""
    if stage_cls.zoo_model == "gp-vton" and layout == "dresscode":
        return "gp-vton-dresscode"
    return stage_cls.zoo_model


def describe_config(folder: Path) -> str:
    config = read_any_config(folder)
    return f"{config.get('model')} ({folder})"
