"""Checkpoints: official containers -> state dicts, strict loading, and the zoo's safetensors format.

Official ``.pth``/``.pt`` files are read only with ``torch.load(weights_only=True)``: no code is ever unpickled.
Two kinds of non-tensor objects that official training scripts pickle are allow-listed through torch's safe-globals
mechanism: DAFlow's ``argparse.Namespace`` of options (plain attribute values) and the numpy float64 scalar of
DM-VTON's ``best_fid`` (a numeric numpy scalar and its dtype, nothing else: see :data:`_NUMPY_SCALAR_GLOBALS`).

Layering: :mod:`vton_zoo.registry` holds the specs (data); this module reads and writes files and builds models with
weights (:func:`create_model`, :func:`load_official`); :mod:`vton_zoo.hub` fetches. Each imports only downward.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pickle
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from . import __version__, hub
from .registry import build, get_spec

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


def _numeric_numpy_scalar(dtype: Any, data: Any = None) -> Any:
    """``numpy.core.multiarray.scalar`` for numeric dtypes only (an object dtype would read a pointer from bytes)."""
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf" or not isinstance(data, bytes):
        raise pickle.UnpicklingError(f"refusing a numpy scalar of dtype {dtype!r} (only numbers are allowed)")
    return np._core.multiarray.scalar(dtype, data)


def _numeric_numpy_dtype(spec: Any, align: bool = False, copy: bool = False) -> np.dtype:
    """``numpy.dtype`` for numeric type codes only (``'f8'``, ``'i8'``, ...)."""
    if not isinstance(spec, str):
        raise pickle.UnpicklingError(f"refusing numpy dtype {spec!r}")
    dtype = np.dtype(spec)
    if dtype.kind not in "biuf":
        raise pickle.UnpicklingError(f"refusing numpy dtype {spec!r} (only numbers are allowed)")
    return dtype


# DM-VTON's train_pf_e2e.py saves {'epoch', 'best_fid', 'model', 'optimizer'} and best_fid is the numpy float64 that
# its FID code returns: pickled as numpy.core.multiarray.scalar(numpy.dtype('f8'), bytes) (numpy 1.x spelling;
# numpy 2 writes numpy._core). Exactly these globals are allowed, through wrappers that accept numeric dtypes only,
# plus the float64 dtype class that the pickle's BUILD step sets state on.
_NUMPY_SCALAR_GLOBALS = [
    (_numeric_numpy_scalar, "numpy.core.multiarray.scalar"),
    (_numeric_numpy_scalar, "numpy._core.multiarray.scalar"),
    (_numeric_numpy_dtype, "numpy.dtype"),
    np.dtypes.Float64DType,
]
_SAFE_GLOBALS = [argparse.Namespace, *_NUMPY_SCALAR_GLOBALS]


def read_official_file(path: str | os.PathLike) -> Any:
    """``torch.load`` a file safely (tensors and plain containers only) on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Checkpoint file not found: {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"Checkpoint file is empty (0 bytes): {path}")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise ValueError(f"{path} is not a readable safetensors file: {exc}") from exc
    described = hub.describe_non_checkpoint(path)
    if described:
        raise ValueError(f"{path} is not a PyTorch checkpoint: {described}")
    try:
        with torch.serialization.safe_globals(_SAFE_GLOBALS):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"{path} holds pickled Python objects that are not tensors, so it is not loaded (loading it would run "
            f"arbitrary code). Re-save only the weights in a trusted environment: "
            f"torch.save(torch.load(path, weights_only=False)['state_dict'], 'weights.pth'). Detail: {exc}"
        ) from exc
    except (RuntimeError, EOFError, OSError, ValueError, IndexError, KeyError, TypeError) as exc:
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


def _strip_inner_module(state: StateDict, expected: Mapping[str, Any]) -> StateDict:
    """Drop DataParallel's ``.module.`` inside keys when the model has none there (ModelScope's loader does too)."""
    if any(".module." in k for k in expected) or not any(".module." in k for k in state):
        return state
    renamed = {k.replace(".module.", "."): v for k, v in state.items()}
    return renamed if len(renamed) == len(state) else state


def load_part(module: torch.nn.Module, checkpoint: CheckpointLike, *, what: str) -> None:
    """Strictly load ``checkpoint`` into ``module``; only the documented upstream leftovers may be extra."""
    state = to_state_dict(checkpoint)
    expected = module.state_dict()
    state = _strip_inner_module(state, expected)
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
    spec = get_spec(name)
    parts = spec.official_parts
    if len(checkpoints) != len(parts):
        files = ", ".join(f"{f.part}: {f.filename}" for f in spec.weights.official_files) or ", ".join(parts)
        raise ValueError(f"{name} needs {len(parts)} official checkpoints ({', '.join(parts)}), got "
                         f"{len(checkpoints)}. Expected files: {files}")
    model = build(name)
    for part, checkpoint in zip(parts, checkpoints):
        load_part(getattr(model, part), checkpoint, what=f"{name} part '{part}'")
    model.eval()
    if device is not None:
        model.to(device)
    return model


def create_model(
    name: str,
    *,
    weights: str | os.PathLike | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    **config: Any,
) -> TryOnModel:
    """Build a registered model, optionally with weights, in eval mode.

    Args:
        name: a name from ``list_models()``.
        weights: ``None`` (freshly initialised), a folder holding ``model.safetensors`` + ``config.json`` (the zoo's
            own format, see ``python -m vton_zoo.convert``), or ``"hub:OWNER/REPO[@REVISION]"`` for such a folder
            on the Hugging Face Hub.
        device: where to put the model.
        dtype: floating dtype of the parameters (e.g. ``torch.float16`` on GPU).
        **config: model-specific options (e.g. ``align_corners`` for RMGN); a weights folder's ``config.json``
            supplies them too, explicit arguments win.

    Returns:
        The model, in eval mode, with ``model.spec`` attached.
    """
    get_spec(name)  # validates the name
    if weights is None:
        model = build(name, **config)
    else:
        folder = resolve_weights(weights)
        saved = read_config(folder)
        if saved.get("model") != name:
            raise ValueError(f"Weights in {folder} are for model '{saved.get('model')}', not '{name}'")
        model = _build_checked(name, {**saved.get("config", {}), **config}, folder)
        load_safetensors(model, folder)
    model.eval()
    if device is not None or dtype is not None:
        model.to(device=device, dtype=dtype)
    logger.debug("created %s (weights=%s)", name, weights)
    return model


def _build_checked(name: str, config: Mapping[str, Any], where: Any) -> TryOnModel:
    try:
        return build(name, **config)
    except TypeError as exc:  # an option the model does not have
        raise ValueError(f"{where}: config.json's options {sorted(config)} do not fit {name}: {exc}") from exc


def check_config(folder: str | os.PathLike, name: str | None = None) -> dict[str, Any]:
    """Read ``config.json`` and check that its options build the model (on the meta device: no memory used).

    Raises:
        ValueError: unreadable, not a vton-zoo config, for another model than ``name``, or an unknown option.
    """
    config = read_config(folder)
    if name is not None and config["model"] != name:
        raise ValueError(f"{Path(folder) / CONFIG_NAME} holds weights for {config['model']!r}, not {name!r}")
    get_spec(config["model"])
    try:
        with torch.device("meta"):
            _build_checked(config["model"], config.get("config", {}), Path(folder) / CONFIG_NAME)
    except (RuntimeError, NotImplementedError) as exc:  # a builder that cannot run on meta: the options still load
        logger.debug("%s: options not checked on the meta device (%s)", folder, exc)
    return config


# ---------------------------------------------------------------------------------------------------------------
# The zoo's own format: model.safetensors + config.json


def save_safetensors(model: TryOnModel, folder: str | os.PathLike, *, extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``model.safetensors`` and ``config.json`` into ``folder`` (atomically, file by file)."""
    from safetensors.torch import save_model

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
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    except OSError as exc:
        raise ValueError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(config, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(config).__name__} ({str(config)[:40]!r})")
    if config.get("format") != "vton-zoo" or not isinstance(config.get("model"), str):
        raise ValueError(f"{path} is not a vton-zoo config (missing 'format': 'vton-zoo' or 'model')")
    version = config.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"{path}: format_version must be an integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise ValueError(f"{path} uses format version {version}; upgrade vton-zoo to read it")
    if not isinstance(config.get("config", {}), dict):
        raise ValueError(f"{path}: 'config' must be an object of model options, got {config['config']!r}")
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


# ---------------------------------------------------------------------------------------------------------------
# Archives the authors publish (PF-AFN's and RMGN's Drive files): zip or tar, files at any depth


def archive_kind(path: str | os.PathLike) -> str | None:
    """``"zip"``, ``"tar"`` (plain or compressed) or ``None``, by content rather than by name."""
    path = Path(path)
    try:  # tar first: a tar whose last member is a zip (torch's format) also passes zipfile's end-of-file check
        if tarfile.is_tarfile(path):
            return "tar"
    except (OSError, tarfile.TarError):
        pass
    if zipfile.is_zipfile(path):
        # torch.save's own format is a zip too: it holds `<name>/data.pkl`, which no release archive does.
        with zipfile.ZipFile(path) as archive:
            if any(n.endswith("/data.pkl") or n == "data.pkl" for n in archive.namelist()):
                return None
        return "zip"
    return None


def _pick(candidates: list[str], want: str, hints: Sequence[str]) -> str:
    """Of several members with the same base name, the one whose path ends like a hint (e.g. ``PFAFN/...``)."""
    for hint in hints:
        for name in candidates:
            if name == hint or name.endswith("/" + hint):
                return name
    return sorted(candidates, key=lambda n: (n.count("/"), n))[0]


def extract_files(archive: str | os.PathLike, wanted: Sequence[str], into: str | os.PathLike, *,
                  hints: Sequence[str] = ()) -> dict[str, Path]:
    """Copy the members of a zip/tar archive whose base name is in ``wanted`` into ``into`` (flat, by base name).

    Members are found at any depth; nothing else is written (no member path is ever used as a file path, so an
    archive cannot write outside ``into``).

    Args:
        archive: the archive file.
        wanted: base names to find (e.g. ``warp_model_final.pth``).
        into: an existing folder.
        hints: longer paths that tell which of several same-named members to take (``PFAFN/warp_model_final.pth``).

    Returns:
        ``{base name: extracted path}`` for the names found.

    Raises:
        ValueError: the file is not a zip or tar archive, or cannot be read (truncated, corrupt).
    """
    archive, into = Path(archive), Path(into)
    kind = archive_kind(archive)
    found: dict[str, Path] = {}
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                members = [m for m in zf.infolist() if not m.is_dir() and "__MACOSX/" not in m.filename]
                for want in wanted:
                    names = [m.filename for m in members if m.filename.rsplit("/", 1)[-1] == want]
                    if names:
                        with zf.open(_pick(names, want, hints)) as src, open(into / want, "wb") as dst:
                            shutil.copyfileobj(src, dst, 1 << 20)
                        found[want] = into / want
        elif kind == "tar":
            with tarfile.open(archive) as tf:
                members = [m for m in tf.getmembers() if m.isfile()]
                for want in wanted:
                    names = [m.name for m in members if m.name.rsplit("/", 1)[-1] == want]
                    if names:
                        src = tf.extractfile(tf.getmember(_pick(names, want, hints)))
                        with src, open(into / want, "wb") as dst:
                            shutil.copyfileobj(src, dst, 1 << 20)
                        found[want] = into / want
        else:
            what = hub.describe_non_checkpoint(archive) or "not a zip or tar archive"
            raise ValueError(f"{archive.name} is {what}")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"{archive.name} is a damaged or truncated {kind} archive: {exc}") from exc
    return found


def archive_members(archive: str | os.PathLike, limit: int = 12) -> list[str]:
    """The first file names in an archive (for messages saying what arrived)."""
    kind = archive_kind(archive)
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                return [n for n in zf.namelist() if not n.endswith("/")][:limit]
        if kind == "tar":
            with tarfile.open(archive) as tf:
                return [m.name for m in tf.getmembers() if m.isfile()][:limit]
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError):
        pass
    return []
