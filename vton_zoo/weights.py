"""Where installed weights live, and how a ``weights=`` choice becomes a model.

Installed weights are zoo-format folders (``model.safetensors`` + ``config.json``) under
``$VTON_ZOO_HOME/weights/<model>/`` (default ``~/.cache/vton_zoo``). They get there by converting the authors' files
(:func:`install_official`, the app's Weights tab, ``python -m vton_zoo.convert``) or by downloading a converted
folder from the Hugging Face Hub (:func:`install_from_hub`).

The TryOnPipeline and the app resolve ``weights=None`` through :func:`resolve_for_pipeline`: a method that needs no
learned weights is built as it is; otherwise the installed folder is used, or a :class:`WeightsNotInstalledError`
says exactly how to get the weights. ``weights="random"`` builds a freshly initialised network on purpose (tests,
benchmarks, plumbing checks); its output is noise.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from .checkpoints import CONFIG_NAME, WEIGHTS_NAME, read_config
from .registry import get_spec

logger = logging.getLogger(__name__)

RANDOM = "random"


class WeightsNotInstalledError(RuntimeError):
    """A method needs learned weights and none are installed or given."""

    def __init__(self, name: str):
        self.model = name
        super().__init__(how_to_get(name))


def home() -> Path:
    """The zoo's data folder: ``$VTON_ZOO_HOME`` or ``~/.cache/vton_zoo``."""
    env = os.environ.get("VTON_ZOO_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vton_zoo"


def install_dir(name: str) -> Path:
    """The folder that holds ``name``'s installed weights (it may not exist)."""
    get_spec(name)
    return home() / "weights" / name


def installed(name: str) -> Path | None:
    """The installed weights folder of ``name``, or ``None`` when nothing valid is installed there."""
    folder = install_dir(name)
    if not (folder / WEIGHTS_NAME).is_file() or not (folder / CONFIG_NAME).is_file():
        return None
    try:
        config = read_config(folder)
    except ValueError as exc:
        logger.warning("ignoring %s: %s", folder, exc)
        return None
    if config.get("model") != name:
        logger.warning("ignoring %s: it holds weights for %s", folder, config.get("model"))
        return None
    return folder


def status(name: str) -> str:
    """``"built-in"`` (needs no weights), ``"installed"`` or ``"missing"``."""
    if not get_spec(name).weights.needs_weights:
        return "built-in"
    return "installed" if installed(name) is not None else "missing"


def how_to_get(name: str) -> str:
    """A message telling a user how to install ``name``'s weights."""
    spec = get_spec(name)
    lines = [f"{name} needs learned weights and none are installed (looked in {install_dir(name)})."]
    if spec.weights.hub_repo:
        lines.append(f"Online: vton_zoo.weights.install_from_hub('{name}') downloads the converted weights from "
                     f"https://huggingface.co/{spec.weights.hub_repo}.")
    if spec.weights.official_files:
        files = " ".join(f.filename for f in spec.weights.official_files)
        sources = "; ".join(sorted({f.source for f in spec.weights.official_files}))
        lines.append(f"From the authors' files ({sources}): python -m vton_zoo.convert {name} {files} "
                     f"--out {install_dir(name)}")
    if spec.weights.notes:
        lines.append(spec.weights.notes)
    lines.append(f"Or train it: python -m training {name} --help")
    return "\n".join(lines)


def _replace_folder(src: Path, dst: Path) -> Path:
    """Move a finished folder into place (any previous install is replaced only once the new one is complete)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if dst.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dst.name}-old-", dir=dst.parent))
        os.replace(dst, old / dst.name)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return dst


def install_official(name: str, files: list[str | os.PathLike], **config) -> Path:
    """Convert the authors' checkpoint files (official order) into ``install_dir(name)``.

    The conversion is written to a temporary folder first, so a failure leaves any previous install intact.
    """
    from .convert import convert

    target = install_dir(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-new-", dir=target.parent))
    try:
        convert(name, [Path(f) for f in files], staging, **config)
        return _replace_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install_from_hub(name: str, repo_id: str | None = None, *, revision: str | None = None) -> Path:
    """Download a converted weights folder from the Hub (default: the spec's ``hub_repo``) and install it."""
    from . import hub

    spec = get_spec(name)
    repo_id = repo_id or spec.weights.hub_repo
    if not repo_id:
        raise ValueError(f"{name} has no Hub repo of converted weights; {how_to_get(name)}")
    folder = hub.download_weights(repo_id, revision=revision or spec.weights.hub_revision)
    if read_config(folder).get("model") != name:
        raise ValueError(f"Hub repo {repo_id} holds weights for {read_config(folder).get('model')!r}, not {name!r}")
    target = install_dir(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-new-", dir=target.parent))
    try:
        for item in (WEIGHTS_NAME, CONFIG_NAME, "README.md"):
            if (folder / item).is_file():
                shutil.copyfile(folder / item, staging / item)
        return _replace_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def resolve_for_pipeline(name: str, weights: str | os.PathLike | None) -> str | Path | None:
    """Turn a pipeline/app ``weights=`` choice into what :func:`vton_zoo.create_model` takes.

    Returns ``None`` for a freshly initialised network (weight-free methods, or ``weights="random"``).

    Raises:
        WeightsNotInstalledError: ``weights`` is ``None``, the method needs weights and none are installed.
    """
    spec = get_spec(name)
    if weights is None:
        if not spec.weights.needs_weights:
            return None
        folder = installed(name)
        if folder is None:
            raise WeightsNotInstalledError(name)
        return folder
    if str(weights) == RANDOM:
        if spec.weights.needs_weights:
            logger.warning("%s runs with random weights: its output is noise (use it only to test the plumbing)", name)
        return None
    return weights
