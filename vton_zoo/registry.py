"""Model registry: ``ModelSpec`` describes a method, ``register_model`` adds its builder.

A method is a plain builder function decorated with ``@register_model(ModelSpec(...))``. The spec is data: the
pipeline and the app read input names, sizes and value ranges from it, never from constants elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .types import TensorSpec

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .models._base import TryOnModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfficialFile:
    """One checkpoint file released by the authors.

    Attributes:
        part: the sub-network it loads into (``model.<part>``), e.g. ``"warp"`` or ``"gen"``.
        filename: the file name the official test script expects.
        source: where the authors published it (a URL or a plain description).
        note: anything a user must know (dead link, mirror, container format).
    """

    part: str
    filename: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class WeightsSpec:
    """Where a method's weights come from.

    Attributes:
        official_files: the authors' released checkpoints, in the order the official test script loads them.
        hub_repo: a Hugging Face Hub repo holding the converted ``model.safetensors`` + ``config.json``, if any.
        hub_revision: the pinned revision of ``hub_repo``.
        needs_weights: ``False`` only for methods that work without learned weights.
        notes: free text shown in the app's Weights tab and in the README table.
    """

    official_files: tuple[OfficialFile, ...] = ()
    hub_repo: str | None = None
    hub_revision: str | None = None
    needs_weights: bool = True
    notes: str = ""


@dataclass(frozen=True)
class ModelSpec:
    """Everything the zoo knows about one method, as data."""

    # identity
    name: str
    title: str
    paper: str
    paper_url: str
    code_url: str
    commit: str
    license: str
    # interface
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]
    resolution: tuple[int, int]  # (H, W) the released weights were trained at
    resolutions: tuple[tuple[int, int], ...] = ()  # other (H, W) the official code supports
    size_multiple: int = 32  # H and W must be divisible by this
    fixed_resolution: bool = False  # True: only `resolution` works (e.g. a Linear layer sized for it)
    # garment categories the method handles ("upper", "lower", "dress"); VITON/VITON-HD-trained weights: upper only
    categories: tuple[str, ...] = ("upper",)
    # weights
    official_parts: tuple[str, ...] = ()  # sub-module names, in official checkpoint order
    official_param_counts: dict[str, int] = field(default_factory=dict)
    weights: WeightsSpec = field(default_factory=WeightsSpec)
    # notes
    description: str = ""
    needs_gpu: bool = False

    def supported_resolutions(self) -> tuple[tuple[int, int], ...]:
        return (self.resolution, *[r for r in self.resolutions if r != self.resolution])

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly dict of the spec (used by the README table, the app and model cards)."""
        return {
            "name": self.name,
            "title": self.title,
            "paper": self.paper,
            "paper_url": self.paper_url,
            "code_url": self.code_url,
            "commit": self.commit,
            "license": self.license,
            "inputs": {k: {"shape": v.shape_text(), "range": list(v.value_range), "description": v.description}
                       for k, v in self.inputs.items()},
            "outputs": {k: {"shape": v.shape_text(), "range": list(v.value_range), "description": v.description}
                        for k, v in self.outputs.items()},
            "resolution": list(self.resolution),
            "categories": list(self.categories),
            "official_files": [f.__dict__ for f in self.weights.official_files],
            "hub_repo": self.weights.hub_repo,
            "needs_weights": self.weights.needs_weights,
            "weights_notes": self.weights.notes,
        }


CATEGORIES = ("upper", "lower", "dress")  # garment categories, in the order the app lists them

_REGISTRY: dict[str, tuple[ModelSpec, Callable[..., TryOnModel]]] = {}


def register_model(spec: ModelSpec) -> Callable[[Callable[..., TryOnModel]], Callable[..., TryOnModel]]:
    """Decorator registering ``builder`` under ``spec.name``. Raises on a duplicate name."""

    def decorator(builder: Callable[..., TryOnModel]) -> Callable[..., TryOnModel]:
        unknown = [c for c in spec.categories if c not in CATEGORIES]
        if unknown or not spec.categories:
            raise ValueError(f"Model '{spec.name}': categories must be a non-empty subset of {CATEGORIES}, "
                             f"got {spec.categories}")
        if spec.name in _REGISTRY:
            raise ValueError(f"Model '{spec.name}' is already registered")
        _REGISTRY[spec.name] = (spec, builder)
        return builder

    return decorator


def _ensure_models_imported() -> None:
    from . import models  # noqa: F401  (importing registers every model)


def list_models() -> list[str]:
    """The registered model names, sorted."""
    _ensure_models_imported()
    return sorted(_REGISTRY)


def get_spec(name: str) -> ModelSpec:
    """The ``ModelSpec`` of ``name``; ``ValueError`` for an unknown name."""
    _ensure_models_imported()
    if name not in _REGISTRY:
        raise ValueError(f"Unknown model '{name}'. Available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name][0]


def create_model(
    name: str,
    *,
    weights: str | Path | None = None,
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
    builder = _REGISTRY[name][1]
    if weights is None:
        model = builder(**config)
    else:
        from . import checkpoints

        folder = checkpoints.resolve_weights(weights)
        saved = checkpoints.read_config(folder)
        if saved.get("model") != name:
            raise ValueError(f"Weights in {folder} are for model '{saved.get('model')}', not '{name}'")
        model = builder(**{**saved.get("config", {}), **config})
        checkpoints.load_safetensors(model, folder)
    model.eval()
    if device is not None or dtype is not None:
        model.to(device=device, dtype=dtype)
    logger.debug("created %s (weights=%s)", name, weights)
    return model
