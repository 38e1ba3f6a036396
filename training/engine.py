"""The common trainer behind ``python -m training METHOD ...``: data, DDP, AMP, schedule, logs, validation,
checkpoints, resume and the Hub push. The recipes themselves live in :mod:`training.stages`."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from vton_zoo import get_spec
from vton_zoo.data import build_dataset, open_dataset

from .checkpointing import (
    CheckpointError,
    export_final,
    latest_checkpoint,
    load_module,
    read_state,
    write_checkpoint,
)
from .losses import ssim
from .stages import STAGES, Stage, get_stage

logger = logging.getLogger("training")

VISUAL_KEYS = ("person", "garment", "warped_garment", "result")


# ---------------------------------------------------------------------------------------------------------------
# Command line


def _stages_help() -> str:
    lines = ["stages per method, in order (each reproduces the official recipe; --stage all runs them in turn):"]
    for method, stages in STAGES.items():
        lines.append(f"  {method}:")
        for cls in stages:
            extra = []
            if cls.init_from:
                extra.append(f"starts from {cls.init_from}/final")
            if cls.teacher_from:
                extra.append(f"teacher {cls.teacher_from}/final")
            r = cls.recipe
            sched = {"linear": f"{r.niter}+{r.niter_decay} epochs, linear decay",
                     "step": f"{r.niter} epochs, StepLR({r.step_size}, {r.gamma})",
                     "steps": f"{r.keep_steps}+{r.decay_steps} steps, linear decay"}[r.schedule]
            lines.append(f"    {cls.name:13s} {cls.summary}")
            lines.append(f"    {'':13s} [{r.optimizer} lr {r.lr:g}, batch {r.batch_size}/process, {sched}; "
                         f"layouts {', '.join(cls.layouts)}{'; ' + '; '.join(extra) if extra else ''}]")
    return "\n".join(lines)


EPILOG = f"""
{_stages_help()}

data layouts (--layout; the folder must follow the official layout, see vton_zoo/data/readers.py):
  viton        VITON as CP-VTON uses it: <phase>/image, cloth, cloth-mask, image-parse, pose + <phase>_pairs.txt
  viton-clean  PF-AFN / DM-VTON: <phase>_img, _color, _edge, _label, _densepose, _pose (+ <phase>_pairs.txt)
  viton-hd     <phase>/image, cloth, cloth-mask, image-parse-v3, openpose_json, image-densepose + pairs
  dresscode    upper_body/, lower_body/, dresses/ with images, label_maps, keypoints, dense + pairs files
The test phase of the same folder is the validation set.

outputs: OUT/<stage>/checkpoints/step-*/ (model.safetensors + config.json in the zoo format, trainer_state.pt),
OUT/<stage>/final/ (weights + config + README.md model card), OUT/<stage>/metrics.jsonl, OUT/<stage>/samples/*.png
and tensorboard logs in OUT/<stage>/tb when tensorboard is installed. Load a result with
vton_zoo.create_model(NAME, weights="OUT/<stage>/final").

multi-GPU: torchrun --nproc_per_node N -m training METHOD ... (DistributedDataParallel; --batch-size is per process).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training", description="Train a zoo method with its official recipe.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    parser.add_argument("method", choices=list(STAGES), help="the method to train")
    parser.add_argument("--stage", default=None, help="stage name (default: the first), or 'all'")
    parser.add_argument("--data", required=True, help="dataset root folder")
    parser.add_argument("--layout", default=None, help="dataset layout (default: the stage's first)")
    parser.add_argument("--out", required=True, help="run folder; each stage writes OUT/<stage>/")
    parser.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), default=None,
                        help="training size (default: the model's resolution)")
    parser.add_argument("--batch-size", type=int, default=None, help="per process (default: the recipe's)")
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default: the recipe's)")
    parser.add_argument("--niter", type=int, default=None, help="epochs at the initial learning rate")
    parser.add_argument("--niter-decay", type=int, default=None, help="epochs of learning-rate decay")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps")
    parser.add_argument("--save-every", type=int, default=None, help="checkpoint every N steps (default: epoch)")
    parser.add_argument("--val-every", type=int, default=0, help="validate every N steps (0: at each save)")
    parser.add_argument("--val-batches", type=int, default=4, help="validation batches (SSIM, and FID when the "
                        "Inception weights are available)")
    parser.add_argument("--fid-inception-weights", default=None,
                        help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth for validation FID (default: the "
                             "copy in torch's hub cache if there is one; validation never downloads it)")
    parser.add_argument("--fid-dims", type=int, default=2048, choices=(64, 192, 768, 2048),
                        help="Inception feature size for validation FID")
    parser.add_argument("--log-every", type=int, default=50, help="log losses and image grids every N steps")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers")
    parser.add_argument("--init", default=None, help="weights folder to start from (default: previous stage)")
    parser.add_argument("--teacher", default=None, help="frozen teacher folder (default: OUT/teacher-e2e/final)")
    parser.add_argument("--vgg-weights", default=None,
                        help="local torchvision VGG19 weights (vgg19-dcbb9e9d.pth) for offline machines")
    parser.add_argument("--amp", action="store_true", help="mixed precision: bf16 on CPU, fp16 on CUDA")
    parser.add_argument("--device", default=None, help="cpu / cuda (default: cuda when available)")
    parser.add_argument("--sync-bn", choices=("auto", "on", "off"), default="auto",
                        help="SyncBatchNorm under DDP (auto: where the official recipe used it)")
    parser.add_argument("--mask-epoch", type=int, default=70, help="GP-VTON: epoch from which the dynamic "
                        "gradient truncation applies")
    parser.add_argument("--no-dynamic-mask", dest="dynamic_mask", action="store_false",
                        help="GP-VTON: turn the dynamic gradient truncation off")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from OUT/<stage>/checkpoints/LATEST")
    parser.add_argument("--push-to-hub", action="store_true", help="upload final/ to the Hugging Face Hub")
    parser.add_argument("--hub-model-id", default=None, help="OWNER/NAME of the Hub model repo")
    parser.add_argument("--hub-private", action="store_true", help="create the Hub repo as private")
    return parser


# ---------------------------------------------------------------------------------------------------------------
# Helpers


class ResumableSampler(DistributedSampler):
    """DistributedSampler (seeded per epoch, identical on every rank) that can skip the batches of a resumed epoch."""

    def __init__(self, dataset, num_replicas: int, rank: int, seed: int) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed, drop_last=False)
        self.skip = 0

    def __iter__(self):
        return iter(list(super().__iter__())[self.skip:])

    def __len__(self) -> int:
        return max(0, super().__len__() - self.skip)


def lr_factor(recipe, args, step: int, steps_per_epoch: int) -> float:
    epoch = step // max(1, steps_per_epoch)
    if recipe.schedule == "linear":
        if args.niter_decay <= 0:
            return 1.0
        return max(0.0, 1.0 - max(0, epoch - args.niter + 1) / args.niter_decay)
    if recipe.schedule == "step":
        return recipe.gamma ** (epoch // recipe.step_size)
    return max(0.0, 1.0 - max(0, step - recipe.keep_steps) / (recipe.decay_steps + 1))


def _rng_state() -> dict[str, Any]:
    """Every RNG the trainer draws from, as tensors, strings and numbers (loadable with ``weights_only=True``)."""
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state(legacy=True)
    version, internal, gauss_next = random.getstate()
    state = {"torch": torch.get_rng_state(),
             "numpy": {"name": str(name), "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)},
             "python": {"version": int(version), "internal": torch.tensor(internal, dtype=torch.int64),
                        "gauss_next": gauss_next}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    np.random.set_state((numpy_state["name"], numpy_state["keys"].numpy().astype(np.uint32), numpy_state["pos"],
                         numpy_state["has_gauss"], numpy_state["cached_gaussian"]))
    python_state = state["python"]
    random.setstate((python_state["version"], tuple(int(v) for v in python_state["internal"].tolist()),
                     python_state["gauss_next"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _logged_metrics(run_dir: Path) -> dict[str, float]:
    """The last validation and speed figures in ``metrics.jsonl`` (``{}`` when there is none)."""
    found: dict[str, float] = {}
    path = run_dir / "metrics.jsonl"
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a killed run
                continue
            if record.get("kind") in ("val", "speed"):
                found.update({k: float(v) for k, v in record.items() if k not in ("kind", "step")})
    return found


def _to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def image_grid(visuals: dict[str, torch.Tensor], rows: int = 4) -> np.ndarray:
    """(person | garment | warped garment | result) per sample, uint8 (H, W, 3)."""
    columns = []
    for key in VISUAL_KEYS:
        if key in visuals:
            images = visuals[key][:rows].detach().float().cpu().clamp(-1, 1)
            if images.shape[1] == 1:
                images = images.repeat(1, 3, 1, 1)
            columns.append(torch.cat(list(images[:, :3]), 1))  # [3, rows*H, W]
    grid = torch.cat(columns, 2)
    return ((grid.permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)


class Logger:
    """metrics.jsonl + image grids (PNG) + tensorboard when installed; rank 0 only."""

    def __init__(self, run_dir: Path, enabled: bool) -> None:
        self.enabled = enabled
        self.run_dir = run_dir
        self.writer = None
        if not enabled:
            return
        (run_dir / "samples").mkdir(parents=True, exist_ok=True)
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir / "tb"))
        except ImportError:
            logger.info("tensorboard not installed: logging to metrics.jsonl and samples/*.png only")

    def scalars(self, step: int, values: dict[str, float], kind: str = "train") -> None:
        if not self.enabled:
            return
        with open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"kind": kind, "step": step, **values}) + "\n")
        if self.writer is not None:
            for key, value in values.items():
                self.writer.add_scalar(f"{kind}/{key}", value, step)

    def images(self, step: int, visuals: dict[str, torch.Tensor]) -> None:
        if not self.enabled:
            return
        from PIL import Image

        grid = image_grid(visuals)
        Image.fromarray(grid).save(self.run_dir / "samples" / f"step-{step:07d}.png")
        if self.writer is not None:
            self.writer.add_image("train/person_garment_warped_result", grid, step, dataformats="HWC")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


# ---------------------------------------------------------------------------------------------------------------
# Training


def _init_distributed() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and os.environ.get("TRAINING_BACKEND") != "gloo" else "gloo"
        dist.init_process_group(backend)
    rank = dist.get_rank() if dist.is_initialized() else 0
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    return world, rank, local_rank


def resolve_args(args: argparse.Namespace, cls: type[Stage]) -> argparse.Namespace:
    """Fill the recipe's defaults into the unset arguments (a copy per stage)."""
    args = argparse.Namespace(**vars(args))
    recipe = cls.recipe
    args.stage = cls.name
    args.layout = args.layout or cls.layouts[0]
    if args.layout not in cls.layouts:
        raise ValueError(f"{cls.method}/{cls.name} trains on layouts {cls.layouts}, not {args.layout!r}")
    if args.size is None:
        args.size = list(recipe.size or get_spec(_zoo_or_default(cls, args.layout)).resolution)
    args.batch_size = args.batch_size or recipe.batch_size
    args.lr = args.lr if args.lr is not None else recipe.lr
    args.niter = args.niter if args.niter is not None else recipe.niter
    args.niter_decay = args.niter_decay if args.niter_decay is not None else recipe.niter_decay
    return args


def _zoo_or_default(cls: type[Stage], layout: str) -> str:
    from .stages import zoo_name

    name = zoo_name(cls, layout)
    return name or {"pf-afn": "pf-afn", "dm-vton": "dm-vton"}[cls.method]


def _reader(args: argparse.Namespace, cls: type[Stage], phase: str):
    kwargs = {"maps": True} if args.layout == "viton-clean" else {}
    return open_dataset(args.layout, args.data, phase, **kwargs)


def _dataset(args: argparse.Namespace, cls: type[Stage], phase: str, method: str):
    reader = _reader(args, cls, phase)
    kwargs: dict[str, Any] = dict(cls.dataset_kwargs)
    if cls.method == "gp-vton":
        kwargs["dynamic_mask"] = args.dynamic_mask
    if cls.method == "daflow" and phase != "train":
        kwargs["flip"] = 0.0
    return build_dataset(method, reader, size=tuple(args.size), mode="paired", seed=args.seed, **kwargs)


def build_optimizers(stage: Stage, lr: float) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer | None]:
    """The recipe's optimiser (Adam or AdamW, its betas) over the stage's trainable parameter groups, and Adam for
    its discriminator (``None`` when the stage has none)."""
    recipe = stage.recipe
    groups = stage.param_groups(lr)
    for group in groups:
        group["params"] = [p for p in group["params"] if p.requires_grad]
    optimizer_cls = torch.optim.AdamW if recipe.optimizer == "adamw" else torch.optim.Adam
    optimizer = optimizer_cls(groups, lr=lr, betas=recipe.betas)
    d_optimizer = None
    if stage.discriminator is not None:
        d_optimizer = torch.optim.Adam(stage.discriminator.parameters(), lr=lr, betas=recipe.betas)
    return optimizer, d_optimizer


def _validation_inception(args: argparse.Namespace, device: torch.device) -> torch.nn.Module | None:
    """The FID Inception for validation when its weights are available (``--fid-inception-weights`` or torch's hub
    cache), else ``None``: validation then reports SSIM only. Never downloads."""
    from vton_zoo.eval.inception import MetricWeightsError, cache_path, load_inception

    weights = args.fid_inception_weights
    if weights is None:
        if not cache_path().is_file():
            logger.info("validation FID off: no Inception weights at %s (pass --fid-inception-weights)",
                        cache_path())
            return None
        weights = cache_path()
    try:
        return load_inception(args.fid_dims, weights, device=device)
    except MetricWeightsError as error:
        if args.fid_inception_weights is not None:
            raise  # asked for by path: a wrong file is an error, not a silent skip
        logger.warning("validation FID off: %s", error)
        return None


def _inception_features(model: torch.nn.Module, images: torch.Tensor) -> np.ndarray:
    """Pooled Inception features of [-1, 1] images: (B, dims) float64."""
    features = model(((images.float() + 1) / 2).clamp(0, 1))[0]
    if features.shape[2:] != (1, 1):
        features = F.adaptive_avg_pool2d(features, (1, 1))
    return features.flatten(1).double().cpu().numpy()


def _validation_fid(fake: np.ndarray, real: np.ndarray) -> float | None:
    """FID between the validation outputs and their targets (biased on few images: for trends, not for papers)."""
    from vton_zoo.eval.fid import frechet_distance, statistics

    if len(fake) < 2:
        logger.warning("validation FID needs at least 2 images, got %d (raise --val-batches)", len(fake))
        return None
    return frechet_distance(*statistics(fake), *statistics(real))


def train_stage(args: argparse.Namespace, cls: type[Stage]) -> Path | None:
    """Run one stage; returns its ``final/`` folder (rank 0) or ``None``."""
    args = resolve_args(args, cls)
    world, rank, local_rank = _init_distributed()
    if args.device:
        device = torch.device(args.device)
    elif torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    random.seed(args.seed)
    run_dir = Path(args.out) / cls.name
    is_main = rank == 0
    if is_main:
        run_dir.mkdir(parents=True, exist_ok=True)

    method_for_data = _zoo_or_default(cls, args.layout)
    dataset = _dataset(args, cls, "train", method_for_data)
    sampler = ResumableSampler(dataset, world, rank, args.seed)
    loader_kwargs = dict(batch_size=args.batch_size, num_workers=args.workers, pin_memory=device.type == "cuda",
                         drop_last=len(dataset) >= args.batch_size * world * 2)
    if args.workers:
        loader_kwargs["persistent_workers"] = False
    loader = DataLoader(dataset, sampler=sampler, **loader_kwargs)
    steps_per_epoch = max(1, math.ceil(len(dataset) / world / args.batch_size) if not loader_kwargs["drop_last"]
                          else len(dataset) // world // args.batch_size)
    total_steps = (args.niter + args.niter_decay) * steps_per_epoch if cls.recipe.schedule != "steps" else \
        cls.recipe.keep_steps + cls.recipe.decay_steps
    if args.max_steps is not None:
        total_steps = min(total_steps, args.max_steps) if total_steps else args.max_steps
    save_every = args.save_every or cls.recipe.save_every or steps_per_epoch

    stage = cls(args).to(device)
    stage.train()
    sync_bn = {"on": True, "off": False, "auto": cls.recipe.sync_bn}[args.sync_bn] and world > 1
    if sync_bn and device.type != "cuda":
        logger.warning("SyncBatchNorm needs GPUs: each CPU process normalises its own batch")
        sync_bn = False
    if sync_bn:
        stage.model = nn.SyncBatchNorm.convert_sync_batchnorm(stage.model)
        stage.to(device)
    discriminator = stage.discriminator
    if discriminator is not None:
        discriminator.to(device)
    optimizer, d_optimizer = build_optimizers(stage, args.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(cls.recipe, args, step, steps_per_epoch))
    d_scheduler = None
    if d_optimizer is not None:
        d_scheduler = torch.optim.lr_scheduler.LambdaLR(
            d_optimizer, lambda step: lr_factor(cls.recipe, args, step, steps_per_epoch))

    step = 0
    if args.resume:
        checkpoint = latest_checkpoint(run_dir)
        if checkpoint is None:
            logger.warning("--resume: no checkpoint in %s, starting from step 0", run_dir)
        else:
            load_module(stage.model, checkpoint)
            state = read_state(checkpoint)
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            if discriminator is not None:
                from .checkpointing import DISCRIMINATOR_NAME

                load_module(discriminator, checkpoint, DISCRIMINATOR_NAME)
                d_optimizer.load_state_dict(state["d_optimizer"])
                d_scheduler.load_state_dict(state["d_scheduler"])
            _set_rng_state(state["rng"])
            step = int(state["step"])
            logger.info("resumed %s at step %d", checkpoint, step)

    ddp_stage: nn.Module = stage
    ddp_discriminator = discriminator
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        ddp_stage = nn.parallel.DistributedDataParallel(stage, device_ids=ids)
        if discriminator is not None:
            ddp_discriminator = nn.parallel.DistributedDataParallel(discriminator, device_ids=ids)

    use_amp = args.amp
    amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and device.type == "cuda")
    log = Logger(run_dir, is_main)
    train_args = {k: v for k, v in vars(args).items()}
    extra = {"training": {"method": cls.method, "stage": cls.name, "layout": args.layout, "step": step}}

    def save(current_step: int) -> Path | None:
        path = None
        if is_main:
            state = {"step": current_step, "epoch": current_step // steps_per_epoch,
                     "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng": _rng_state()}
            if discriminator is not None:
                state["d_optimizer"] = d_optimizer.state_dict()
                state["d_scheduler"] = d_scheduler.state_dict()
            extra["training"]["step"] = current_step
            path = write_checkpoint(run_dir, current_step, model=stage.model, discriminator=discriminator,
                                    state=state, args=train_args, extra=extra)
            logger.info("saved %s", path)
        if world > 1:
            dist.barrier()
        return path

    metrics: dict[str, float] = {}
    inception = _validation_inception(args, device) if is_main else None

    def validate(current_step: int) -> None:
        if not is_main:
            return
        stage.eval()
        try:
            val_set = _dataset(args, cls, "test", method_for_data)
        except (ValueError, FileNotFoundError) as exc:
            logger.warning("no validation (%s)", exc)
            stage.train()
            return
        val_loader = DataLoader(val_set, batch_size=args.batch_size, shuffle=False)
        scores, fake_features, real_features = [], [], []
        with torch.no_grad():
            for index, batch in enumerate(val_loader):
                if index >= args.val_batches:
                    break
                prediction, target = stage.validate(_to_device(batch, device))
                scores.append(ssim(prediction, target))
                if inception is not None:
                    fake_features.append(_inception_features(inception, prediction))
                    real_features.append(_inception_features(inception, target))
        stage.train()
        if scores:
            metrics["ssim"] = float(torch.cat(scores).mean())
            values = {"ssim": metrics["ssim"]}
            if inception is not None:
                fid = _validation_fid(np.concatenate(fake_features), np.concatenate(real_features))
                if fid is not None:
                    metrics["fid"] = values["fid"] = fid
            log.scalars(current_step, values, kind="val")
            logger.info("step %d: validation %s", current_step,
                        ", ".join(f"{k.upper()} {v:.4f}" for k, v in values.items()))

    try:
        from tqdm import tqdm

        progress = tqdm(total=total_steps, initial=step, disable=not is_main, desc=f"{cls.method}/{cls.name}",
                        dynamic_ncols=True)
    except ImportError:  # pragma: no cover - tqdm is a dependency of huggingface_hub
        progress = None
    started = time.perf_counter()
    first_step = step
    last_saved = step
    epoch = step // steps_per_epoch
    while step < total_steps:
        sampler.set_epoch(epoch)
        dataset.set_epoch(epoch)
        stage.epoch = epoch
        sampler.skip = (step - epoch * steps_per_epoch) * args.batch_size
        for batch in loader:
            if step >= total_steps:
                break
            batch = _to_device(batch, device)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                loss, logs, visuals = ddp_stage(batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{cls.method}/{cls.name}: loss is {float(loss)} at step {step}")
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            stage.before_optimizer_step()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            if discriminator is not None:
                d_optimizer.zero_grad(set_to_none=True)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                    d_loss = stage.discriminator_loss(ddp_discriminator)
                d_loss.backward()
                d_optimizer.step()
                d_scheduler.step()
                logs["d_loss"] = float(d_loss.detach())
            step += 1
            if progress is not None:
                progress.update(1)
                progress.set_postfix(loss=f"{float(loss.detach()):.4f}")
            if is_main and (step % args.log_every == 0 or step == 1):
                log.scalars(step, {"loss": float(loss.detach()), **logs, "lr": optimizer.param_groups[-1]["lr"]})
                log.images(step, visuals)
            if args.val_every and step % args.val_every == 0:
                validate(step)
            if step % save_every == 0 or step == total_steps:
                if not args.val_every:
                    validate(step)
                save(step)
                last_saved = step
        epoch += 1
    if progress is not None:
        progress.close()
    elapsed = time.perf_counter() - started
    if is_main and step > first_step:
        metrics["steps_per_second"] = (step - first_step) / elapsed
        log.scalars(step, {"steps_per_second": metrics["steps_per_second"]}, kind="speed")
    if last_saved != step:
        save(step)
    log.close()
    final = None
    if is_main:
        from .card import model_card

        checkpoint = latest_checkpoint(run_dir)
        metrics = {**_logged_metrics(run_dir), **metrics}  # a resumed, already finished run keeps its figures
        card = model_card(cls, args, metrics) if cls.zoo_model else None
        final = export_final(run_dir, checkpoint, card)
        logger.info("%s/%s finished at step %d: %s", cls.method, cls.name, step, final)
        if args.push_to_hub:
            from vton_zoo.hub import PushError, push_folder

            if not cls.zoo_model:
                logger.warning("not pushing %s: the teacher is a training-only network", cls.name)
            else:
                try:
                    url = push_folder(final, args.hub_model_id, private=args.hub_private,
                                      commit_message=f"{cls.method} {cls.name}: {step} steps")
                except PushError as exc:
                    raise PushError(f"{exc}\nThe trained weights are kept in {final}. To push them again without "
                                    "training, re-run the same command with --resume.", status=exc.status) from exc
                logger.info("pushed to %s", url)
    if world > 1:
        dist.barrier()
    return final


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    from vton_zoo.hub import PushError, check_push

    if args.push_to_hub:
        if not args.hub_model_id:
            parser.error("--push-to-hub needs --hub-model-id OWNER/NAME")
        try:  # fail now rather than after hours of training
            check_push(args.hub_model_id)
        except (ValueError, PushError) as exc:
            parser.error(str(exc))
    classes = STAGES[args.method] if args.stage == "all" else (get_stage(args.method, args.stage),)
    try:
        for cls in classes:
            train_stage(args, cls)
    except PushError as exc:
        logger.error("%s", exc)
        return 1
    except CheckpointError as exc:  # e.g. --resume on a crafted trainer_state.pt: our words, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0
