"""Model registry: ``ModelSpec`` describes a method, ``register_model`` adds its builder.

A method is a plain builder function decorated with ``@register_model(ModelSpec(...))``. The spec is data: the
pipeline and the app read input names, sizes and value ranges from it, never from constants elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .types import TensorSpec

if TYPE_CHECKING:  # pragma: no cover
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


# How a source is fetched (vton_zoo.hub does the network part):
#   "gdrive-file"    a Google Drive file share link (gdown: confirm page, cookies, retries)
#   "gdrive-folder"  a Google Drive folder link (gdown lists it and fetches every file)
#   "github-release" a GitHub release API URL (.../releases/tags/TAG); its assets are found in the answer, not guessed
#   "modelscope"     ModelScope's file API URL (.../api/v1/models/OWNER/NAME/repo?Revision=...&FilePath=...)
#   "url"            a plain file URL
#   "unavailable"    nothing can be fetched (expired links, never released): ``note`` says why
SOURCE_KINDS = ("gdrive-file", "gdrive-folder", "github-release", "modelscope", "url", "unavailable")
ARCHIVE_KINDS = ("zip", "tar")


@dataclass(frozen=True)
class WeightSource:
    """One place the authors' checkpoints can be fetched from, as data (like timm's pretrained configs).

    Attributes:
        kind: one of :data:`SOURCE_KINDS`.
        url: the link to fetch (share link, folder link, release API URL, file API URL or file URL); for an
            ``"unavailable"`` source, the page where the authors announced the weights.
        files: ``(part, file name)`` pairs in official part order: which downloaded file loads into which part.
            Files are found by base name anywhere in what arrives (archives included, at any depth).
        filename: the name a single-file download is saved under (``""``: the last segment of ``url``).
        archive: ``"zip"`` or ``"tar"`` when the download is an archive holding ``files`` (checked by content
            anyway), ``None`` for checkpoint files as they are.
        sha256: ``(file name, hex digest)`` pairs, where the digest of a released file is known; a mismatch is
            refused.
        size: the approximate download size in bytes (shown before downloading), ``None`` when unknown.
        license: the licence a user accepts by downloading from this source.
        note: container format, mirrors, why a source is unavailable.
    """

    kind: str
    url: str
    files: tuple[tuple[str, str], ...] = ()
    filename: str = ""
    archive: str | None = None
    sha256: tuple[tuple[str, str], ...] = ()
    size: int | None = None
    license: str = ""
    note: str = ""

    @property
    def live(self) -> bool:
        """``True`` when the source can be fetched by a program (``kind != "unavailable"``)."""
        return self.kind != "unavailable"

    def file_names(self) -> list[str]:
        """The base names of the checkpoint files, in official part order."""
        return [name.rsplit("/", 1)[-1] for _, name in self.files]

    def expected_sha256(self, filename: str) -> str | None:
        """The known sha256 of ``filename`` (a base name), or ``None``."""
        return next((digest.lower() for name, digest in self.sha256 if name == filename), None)

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, "url": self.url, "files": [list(f) for f in self.files],
                "archive": self.archive, "sha256": dict(self.sha256), "size": self.size, "license": self.license,
                "note": self.note}


@dataclass(frozen=True)
class WeightsSpec:
    """Where a method's weights come from.

    Attributes:
        official_files: the authors' released checkpoints, in the order the official test script loads them.
        sources: every place the official files can be fetched from, in the order to try them (the first that
            works wins); an ``"unavailable"`` source records why nothing can be fetched.
        hub_repo: a Hugging Face Hub repo holding the converted ``model.safetensors`` + ``config.json``, if any.
        hub_revision: the pinned revision of ``hub_repo``.
        needs_weights: ``False`` only for methods that work without learned weights.
        notes: free text shown in the app's Weights tab and in the README table.
    """

    official_files: tuple[OfficialFile, ...] = ()
    sources: tuple[WeightSource, ...] = ()
    hub_repo: str | None = None
    hub_revision: str | None = None
    needs_weights: bool = True
    notes: str = ""

    def live_sources(self) -> tuple[WeightSource, ...]:
        """The sources a program can fetch, in try order."""
        return tuple(s for s in self.sources if s.live)


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
            "sources": [source.summary() for source in self.weights.sources],
            "hub_repo": self.weights.hub_repo,
            "needs_weights": self.weights.needs_weights,
            "weights_notes": self.weights.notes,
        }


CATEGORIES = ("upper", "lower", "dress")  # garment categories, in the order the app lists them

_REGISTRY: dict[str, tuple[ModelSpec, Callable[..., TryOnModel]]] = {}


def _check_weights(spec: ModelSpec) -> None:
    """Registration-time checks of the weight sources (a typo in a spec fails on import, not on a user's click)."""
    for source in spec.weights.sources:
        where = f"Model '{spec.name}' source {source.url!r}"
        if source.kind not in SOURCE_KINDS:
            raise ValueError(f"{where}: kind must be one of {SOURCE_KINDS}, got {source.kind!r}")
        if source.archive not in (None, *ARCHIVE_KINDS):
            raise ValueError(f"{where}: archive must be None or one of {ARCHIVE_KINDS}, got {source.archive!r}")
        if not source.url:
            raise ValueError(f"{where}: a source needs a url")
        if source.live and tuple(part for part, _ in source.files) != spec.official_parts:
            raise ValueError(f"{where}: files must name the parts {spec.official_parts} in order, got "
                             f"{[part for part, _ in source.files]}")
        unknown = [name for name, _ in source.sha256 if name not in source.file_names() and name != source.filename]
        if unknown:
            raise ValueError(f"{where}: sha256 given for files it does not list: {unknown}")


def register_model(spec: ModelSpec) -> Callable[[Callable[..., TryOnModel]], Callable[..., TryOnModel]]:
    """Decorator registering ``builder`` under ``spec.name``. Raises on a duplicate name or an inconsistent spec."""

    def decorator(builder: Callable[..., TryOnModel]) -> Callable[..., TryOnModel]:
        unknown = [c for c in spec.categories if c not in CATEGORIES]
        if unknown or not spec.categories:
            raise ValueError(f"Model '{spec.name}': categories must be a non-empty subset of {CATEGORIES}, "
                             f"got {spec.categories}")
        _check_weights(spec)
        if spec.name in _REGISTRY:
            raise ValueError(f"Model '{spec.name}' is already registered")
        _REGISTRY[spec.name] = (spec, builder)
        return builder

    return decorator


# The registry is filled when ``vton_zoo.models`` is imported, which ``vton_zoo/__init__.py`` does: this module
# imports nothing above it (specs are data; checkpoints.py builds models with weights, hub.py fetches).


def list_models() -> list[str]:
    """The registered model names, sorted."""
    return sorted(_REGISTRY)


def get_spec(name: str) -> ModelSpec:
    """The ``ModelSpec`` of ``name``; ``ValueError`` for an unknown name."""
    if name not in _REGISTRY:
        raise ValueError(f"Unknown model '{name}'. Available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name][0]


def build(name: str, **config: Any) -> TryOnModel:
    """Call ``name``'s builder with ``config`` (a freshly initialised network, train mode as built).

    ``vton_zoo.create_model`` (in :mod:`vton_zoo.checkpoints`) adds weights, eval mode, device and dtype.
    """
    get_spec(name)
    return _REGISTRY[name][1](**config)
