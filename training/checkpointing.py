"""Training checkpoints that survive ``kill -9``.

A stage's run folder holds::

    checkpoints/step-000120/   model.safetensors + config.json   (the zoo format: create_model(name, weights=...))
                               discriminator.safetensors          (GAN stages)
                               trainer_state.pt                   (optimizers, schedulers, step, epoch, RNG states:
                                                                   tensors, numbers, lists; read weights_only)
                               train_args.json
    checkpoints/LATEST          the name of the newest complete checkpoint folder
    final/                      the same files as a checkpoint + README.md (model card), written at the end

Every checkpoint is written into a hidden temporary folder that is renamed into place once complete; ``LATEST`` is
then replaced atomically (temporary file + rename). A run killed at any moment leaves the previous checkpoint and
``LATEST`` intact; half-written temporary folders are ignored and cleaned up by the next save.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vton_zoo.checkpoints import CONFIG_NAME, WEIGHTS_NAME, atomic_write_text, save_safetensors

logger = logging.getLogger(__name__)

LATEST = "LATEST"
STATE_NAME = "trainer_state.pt"
ARGS_NAME = "train_args.json"
DISCRIMINATOR_NAME = "discriminator.safetensors"


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a DistributedDataParallel wrapper (or the module itself)."""
    return module.module if hasattr(module, "module") and isinstance(module, nn.parallel.DistributedDataParallel) \
        else module


def save_module(module: nn.Module, folder: str | os.PathLike, config: dict[str, Any],
                weights_name: str = WEIGHTS_NAME) -> Path:
    """Write a module's state dict as safetensors + ``config.json`` (each through a temporary file + rename)."""
    from safetensors.torch import save_model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        save_model(module, str(tmp_path))
        os.replace(tmp_path, folder / weights_name)
    finally:
        tmp_path.unlink(missing_ok=True)
    if config:
        atomic_write_text(folder / CONFIG_NAME, json.dumps(config, indent=2, sort_keys=True) + "\n")
    return folder


def load_module(module: nn.Module, folder: str | os.PathLike, weights_name: str = WEIGHTS_NAME) -> None:
    """Strictly load ``folder/weights_name`` into ``module``."""
    from safetensors.torch import load_model

    path = Path(folder) / weights_name
    if not path.is_file():
        raise ValueError(f"{path} not found")
    try:
        load_model(module, str(path), strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path} does not match {type(module).__name__}: {exc}") from exc


def read_any_config(folder: str | os.PathLike) -> dict[str, Any]:
    """``config.json`` of a zoo or training weights folder."""
    path = Path(folder) / CONFIG_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path} not found: pass a folder written by `python -m training` (its final/ or a "
                         "checkpoints/step-* folder)") from None


def save_weights(model: nn.Module, folder: Path, extra: dict[str, Any]) -> None:
    """The stage's trained network: zoo format for zoo models, the training format for teachers."""
    if hasattr(model, "spec"):
        save_safetensors(model, folder, extra=extra)
    else:
        model.save(folder, extra=extra)


def write_checkpoint(run_dir: Path, step: int, *, model: nn.Module, discriminator: nn.Module | None,
                     state: dict[str, Any], args: dict[str, Any], extra: dict[str, Any], keep: int = 2) -> Path:
    """Write checkpoint ``step`` atomically, point ``LATEST`` at it and prune all but the newest ``keep``."""
    root = run_dir / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    name = f"step-{step:07d}"
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    save_weights(model, staging, extra)
    if discriminator is not None:
        save_module(discriminator, staging, {}, DISCRIMINATOR_NAME)
    torch.save(state, staging / STATE_NAME)
    (staging / ARGS_NAME).write_text(json.dumps(args, indent=2, sort_keys=True, default=str) + "\n")
    final = root / name
    if final.exists():  # a re-save of the same step after a resume
        shutil.rmtree(final)
    os.replace(staging, final)
    atomic_write_text(root / LATEST, name + "\n")
    complete = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("step-"))
    for old in complete[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    for partial in root.glob(".step-*"):  # left by a killed run
        shutil.rmtree(partial, ignore_errors=True)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The folder ``LATEST`` names, or ``None`` when there is no complete checkpoint."""
    pointer = run_dir / "checkpoints" / LATEST
    if not pointer.is_file():
        return None
    folder = run_dir / "checkpoints" / pointer.read_text().strip()
    if not (folder / STATE_NAME).is_file():
        raise RuntimeError(f"{pointer} names {folder}, which is incomplete; delete {pointer} to start over")
    return folder


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read safely (crafted, corrupt or from an older trainer)."""


def read_state(folder: Path) -> dict[str, Any]:
    """The trainer state of a checkpoint folder: optimizer and scheduler state dicts, step, epoch and RNG states.

    Loaded with ``weights_only=True``: the file may hold only tensors, numbers, strings, lists, tuples and dicts
    (``write_checkpoint`` stores the numpy and python RNG states as tensors for that reason), so a crafted file in a
    run folder cannot run code on ``--resume``.

    Raises:
        CheckpointError: the file holds anything else (its pickle is never executed), or is not a torch file.
    """
    path = folder / STATE_NAME
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{path} holds objects other than tensors, numbers and lists; refusing to unpickle it (a crafted file "
            f"could run code). Trainer states written before this check held a pickled numpy RNG state: delete "
            f"the run's checkpoints/LATEST to start over. ({str(exc).splitlines()[0]})") from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise CheckpointError(f"{path} is not a readable trainer state: {type(exc).__name__}: {exc}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} holds a {type(state).__name__}, not a trainer state dict")
    return state


def export_final(run_dir: Path, checkpoint: Path, card: str | None) -> Path:
    """Copy a checkpoint's weights + config (+ discriminator) into ``run_dir/final`` atomically, with a model card."""
    staging = Path(tempfile.mkdtemp(prefix=".final-", dir=run_dir))
    for item in (WEIGHTS_NAME, CONFIG_NAME, DISCRIMINATOR_NAME, ARGS_NAME):
        if (checkpoint / item).is_file():
            try:  # checkpoint files are never modified in place, so a hard link is a safe, free copy
                os.link(checkpoint / item, staging / item)
            except OSError:
                shutil.copyfile(checkpoint / item, staging / item)
    if card is not None:
        (staging / "README.md").write_text(card, encoding="utf-8")
    final = run_dir / "final"
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=".final-old-", dir=run_dir))
        os.replace(final, old / "final")
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, final)
    return final
