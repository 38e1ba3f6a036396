"""Checkpoints: official containers -> state dicts, strict loading, and the zoo's safetensors format.

Official ``.pth``/``.pt`` files are read only with ``torch.load(weights_only=True)``: no code is ever unpickled.
The one
non-tensor object the official training scripts pickle, DAFlow's ``argparse.Namespace`` of options, is allow-listed
(it only carries plain attribute values).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pickle
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:  # pragma: no cover
    from .models._base import TryOnModel

logger = logging.getLogger(__name__)

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
FORMAT_VERSION = 1

# Keys that official training code leaves in saved checkpoints but that are not weights of the network.
# ``aflow_net.weight``: the fixed second-order filter that PF-AFN-style AFlowNets register as a parameter inside
# forward (architectures.md §1.4); it is a constant, rebuilt by our modules as a non-persistent buffer.
IGNORED_LEFTOVER_KEYS = ("aflow_net.weight",)

# Container keys under which the official scripts nest the state dict.
_CONTAINER_KEYS = ("state_dict", "model", "model_state_dict", "net")

StateDict = dict[str, torch.Tensor]
CheckpointLike = str | os.PathLike | Mapping[str, Any]


def read_official_file(path: str | os.PathLike) -> Any:
    """``torch.load`` a file safely (tensors and plain containers only) on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Checkpoint file not found: {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"Checkpoint file is empty (0 bytes): {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"{path} holds pickled Python objects that are not tensors, so it is not loaded (loading it would run "
            f"arbitrary code). Re-save only the weights in a trusted environment: "
            f"torch.save(torch.load(path, weights_only=False)['state_dict'], 'weights.pth'). Detail: {exc}"
        ) from exc
    except (RuntimeError, EOFError, OSError) as exc:
        raise ValueError(f"{path} is not a readable PyTorch checkpoint (truncated or another format?): {exc}") from exc


def to_state_dict(checkpoint: CheckpointLike) -> StateDict:
    """Turn any official container into a flat state dict.

    Accepts a path or an already-loaded object: a plain state dict, ``{'model': sd, ...}`` (DM-VTON training),
    ``{'state_dict': sd, 'optim': ..., 'opt': Namespace}`` (DAFlow training, ModelScope), with or without
    DataParallel's ``module.`` prefix.
    """
    obj: Any = read_official_file(checkpoint) if isinstance(checkpoint, (str, os.PathLike)) else checkpoint
    if not isinstance(obj, Mapping):
        raise ValueError(f"Expected a state dict (a mapping of names to tensors), got {type(obj).__name__}")
    # Unwrap nested containers ({'model': {...}}, {'state_dict': {...}}) until the values are tensors.
    for _ in range(3):
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            break
        inner = next((obj[k] for k in _CONTAINER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            break
        obj = inner
    tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise ValueError(f"No tensors found in the checkpoint (top-level keys: {sorted(obj)[:10]})")
    if all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module."):]: v for k, v in tensors.items()}
    return tensors


def load_part(module: torch.nn.Module, checkpoint: CheckpointLike, *, what: str) -> None:
    """Strictly load ``checkpoint`` into ``module``; only the documented upstream leftovers may be extra."""
    state = to_state_dict(checkpoint)
    expected = module.state_dict()
    for key in IGNORED_LEFTOVER_KEYS:
        if key in state and key not in expected:
            logger.debug("%s: ignoring upstream leftover key %s", what, key)
            del state[key]
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong_shape = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}"
                   for k, v in expected.items() if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if missing or unexpected or wrong_shape:
        parts = [f"Checkpoint does not match {what}."]
        if missing:
            parts.append(f"{len(missing)} missing keys, e.g. {missing[:5]}.")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys, e.g. {unexpected[:5]}.")
        if wrong_shape:
            parts.append(f"{len(wrong_shape)} shape mismatches, e.g. {wrong_shape[:3]}.")
        parts.append("Check that the files are given in the official order and belong to this model.")
        raise ValueError(" ".join(parts))
    module.load_state_dict(state, strict=True)


def load_official(name: str, *checkpoints: CheckpointLike, device: str | torch.device | None = None) -> TryOnModel:
    """Build ``name`` and load the authors' released checkpoints into it.

    Args:
        name: a registered model name.
        *checkpoints: paths or loaded state dicts, in the order the official test script loads them
            (``model.spec.official_parts``, e.g. warp then generator).
        device: where to put the model.

    Returns:
        The model in eval mode.
    """
    from .registry import create_model, get_spec

    spec = get_spec(name)
    parts = spec.official_parts
    if len(checkpoints) != len(parts):
        files = ", ".join(f"{f.part}: {f.filename}" for f in spec.weights.official_files) or ", ".join(parts)
        raise ValueError(f"{name} needs {len(parts)} official checkpoints ({', '.join(parts)}), got "
                         f"{len(checkpoints)}. Expected files: {files}")
    model = create_model(name)
    for part, checkpoint in zip(parts, checkpoints):
        load_part(getattr(model, part), checkpoint, what=f"{name} part '{part}'")
    model.eval()
    if device is not None:
        model.to(device)
    return model


# ---------------------------------------------------------------------------------------------------------------
# The zoo's own format: model.safetensors + config.json


def save_safetensors(model: TryOnModel, folder: str | os.PathLike, *, extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``model.safetensors`` and ``config.json`` into ``folder`` (atomically, file by file)."""
    from safetensors.torch import save_model

    from . import __version__

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "format": "vton-zoo",
        "format_version": FORMAT_VERSION,
        "vton_zoo_version": __version__,
        "model": model.spec.name,
        "config": model.config_dict(),
        "resolution": list(model.spec.resolution),
        **(dict(extra) if extra else {}),
    }
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        save_model(model, str(tmp_path), metadata={"model": model.spec.name, "format": "vton-zoo"})
        os.replace(tmp_path, folder / WEIGHTS_NAME)
    finally:
        tmp_path.unlink(missing_ok=True)
    atomic_write_text(folder / CONFIG_NAME, json.dumps(config, indent=2, sort_keys=True) + "\n")
    return folder


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as tmp:
        tmp.write(text)
        tmp_path = Path(tmp.name)
    os.replace(tmp_path, path)


def read_config(folder: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``config.json`` of a weights folder."""
    path = Path(folder) / CONFIG_NAME
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path} not found: a zoo weights folder holds {WEIGHTS_NAME} and {CONFIG_NAME}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if config.get("format") != "vton-zoo" or "model" not in config:
        raise ValueError(f"{path} is not a vton-zoo config (missing 'format': 'vton-zoo' or 'model')")
    if int(config.get("format_version", 0)) > FORMAT_VERSION:
        raise ValueError(f"{path} uses format version {config['format_version']}; upgrade vton-zoo to read it")
    return config


def load_safetensors(model: TryOnModel, folder: str | os.PathLike) -> None:
    """Strictly load ``folder/model.safetensors`` into ``model`` (shared tensors are stored once)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_model

    path = Path(folder) / WEIGHTS_NAME
    if not path.is_file():
        raise ValueError(f"{path} not found")
    try:
        load_model(model, str(path), strict=True)
    except (RuntimeError, SafetensorError) as exc:
        raise ValueError(f"{path} does not match {model.spec.name}: {exc}") from exc


def resolve_weights(weights: str | os.PathLike) -> Path:
    """Map a ``weights=`` argument to a local folder with ``model.safetensors`` + ``config.json``."""
    text = str(weights)
    if text.startswith("hub:"):
        from . import hub

        repo, _, revision = text[len("hub:"):].partition("@")
        return hub.download_weights(repo, revision=revision or None)
    path = Path(weights)
    if path.is_file() and path.name == WEIGHTS_NAME:
        path = path.parent
    if not path.is_dir():
        raise ValueError(f"weights={text!r}: not a folder. Pass a folder holding {WEIGHTS_NAME} + {CONFIG_NAME} "
                         f"(made by `python -m vton_zoo.convert`), or 'hub:OWNER/REPO'. Official .pth files go "
                         f"through vton_zoo.load_official().")
    return path


def state_dict_checksums(state: Mapping[str, torch.Tensor]) -> dict[str, tuple[float, float]]:
    """float64 sum and sum of squares per tensor (the parity manifests' checksum)."""
    out = {}
    for key, value in state.items():
        v = value.detach().to(torch.float64)
        out[key] = (float(v.sum()), float((v * v).sum()))
    return out


def official_state_dicts(model: TryOnModel) -> list[StateDict]:
    """The model's weights split into the official per-part state dicts (inverse of ``load_official``)."""
    return [getattr(model, part).state_dict() for part in model.spec.official_parts]


def check_parts(parts: Sequence[str], model: torch.nn.Module) -> None:
    """Raise if a spec lists a part the model does not have (used by the registry tests)."""
    for part in parts:
        if not isinstance(getattr(model, part, None), torch.nn.Module):
            raise AttributeError(f"{type(model).__name__} has no sub-module '{part}'")
