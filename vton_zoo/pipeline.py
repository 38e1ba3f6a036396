"""Photo in, photo out: :class:`TryOnPipeline` runs any zoo model on an ordinary person photo and garment photo.

One call does what the official repos leave to their users::

    person photo ─ load ─ pose + checks ─ segmentation ─ framing ─ coarse parse ─┐
    garment photo ─ load ─ checks ─ garment mask ─ framing ─ (part masks) ───────┴─ model inputs ─ model ─ paste back

- Reading: :func:`vton_zoo.preprocess.io.load_image` (paths, bytes, PIL images, arrays; bad files are refused with a
  ``ValueError`` naming the problem).
- Person: MediaPipe pose; the photo must show exactly one person with shoulders and hips in the picture
  (:func:`~vton_zoo.preprocess.pose.assess_person`); person segmentation; framing to the model's aspect ratio around
  the body (:mod:`vton_zoo.preprocess.framing`); the coarse parse on the framed crop.
- Garment: the optional photo check of :mod:`vton_zoo.preprocess.garment` (a person photo or a busy background
  handed in as the garment), the garment mask, the garment's category (``upper``, ``lower`` or ``dress``: given by
  the caller, or detected from the mask's shape by :func:`~vton_zoo.preprocess.garment.garment_category`), framing
  (the garment centred at the model's aspect ratio), and GP-VTON's part masks. A method that does not take the
  category (``spec.categories``) is refused with a ``ValueError``; for lower-body garments and dresses the person is
  framed whole (head to feet) instead of down to mid-thigh.
- Model: the inputs are built by :func:`~vton_zoo.preprocess.model_inputs.build_model_inputs` from the model's spec;
  a batch of pairs runs through the model once, stacked.
- Result: the model-resolution image, the image pasted back into the person photo at its original size (only the
  try-on region changes: the garment area and what it covers, faded into the photo), intermediates for the demo and
  per-stage timings.

Weights: ``weights=None`` uses the installed weights (:mod:`vton_zoo.weights`) or raises
:class:`~vton_zoo.weights.WeightsNotInstalledError` saying how to get them; methods that need no learned weights
just work; ``weights="random"`` builds an untrained network on purpose (its output is noise).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image
from scipy import ndimage

from .checkpoints import create_model
from .registry import CATEGORIES, ModelSpec, get_spec, list_models
from .weights import RANDOM, resolve_for_pipeline

logger = logging.getLogger(__name__)

#: Shortest side of the working resolution the person is analysed at (the coarse parse and the agnostic maps are
#: computed there, then the builders resize to the model's resolution, as the official loaders resize 1024x768).
WORK_MIN_HEIGHT = 512
#: The garment photo is shrunk to at most this long side (or the model's, if larger) before it is segmented.
GARMENT_WORK_SIDE = 512
#: The pasted region (the try-on area) reaches this fraction of the model height beyond the changed pixels, fading.
REGION_GROW = 0.03

Paste = Literal["region", "crop"]
_STAGES = ("load_model", "read_inputs", "person", "garment", "model", "postprocess")
_DTYPES = {
    "float32": torch.float32, "fp32": torch.float32, "float": torch.float32,
    "float16": torch.float16, "fp16": torch.float16, "half": torch.float16,
    "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
}


@dataclass
class TryOnResult:
    """What one (person, garment) pair gave.

    Attributes:
        image: the try-on as a PIL RGB image: the person photo at its original size with the try-on pasted in, or
            the model-resolution image when the pipeline was called with ``full_size=False``.
        model_image: the model's output at its resolution (PIL RGB).
        intermediates: PIL images for display: ``person_crop`` (the framed person the model saw), ``garment_crop``,
            ``garment_mask``, ``pose_overlay``, ``parse`` (colour-coded), and what the model outputs among
            ``warped_garment``, ``warped_mask``, ``flow`` (colour-coded, see :func:`flow_to_rgb`),
            ``composite_mask`` (and other image/mask outputs such as CP-VTON's ``rendered_person``). Empty when the
            pipeline was called with ``intermediates=False``.
        timings: seconds per stage: ``load_model`` (building the model; 0 once built), ``read_inputs``, ``person``,
            ``garment``, ``model``, ``postprocess`` and ``total`` (their sum). In a batch, the stages run once for
            all pairs (``load_model``, ``model``) are shared out evenly, so the totals add up to the batch's time.
        model: the model's name.
        device: where the model ran, e.g. ``"cpu"`` or ``"cuda:0"``.
        warnings: notes for the user (random weights, padded photo, ...).
        framing: the person framing (crop box in the photo, padding, model size), for callers that map points.
        category: the garment category used: ``"upper"``, ``"lower"`` or ``"dress"``.
        category_reason: where it came from: ``"given"``, or what the detection saw in the garment photo.
        keypoints: the person's BODY_25 keypoints ``(25, 3)`` in pixels of ``model_image`` (x, y, confidence).
    """

    image: Image.Image
    model_image: Image.Image
    intermediates: dict[str, Image.Image]
    timings: dict[str, float]
    model: str
    device: str
    warnings: list[str] = field(default_factory=list)
    framing: Any = None
    category: str = "upper"
    category_reason: str = "given"
    keypoints: np.ndarray | None = None


@dataclass
class _Prepared:
    """One pair after preprocessing, before the model."""

    inputs: dict[str, torch.Tensor]
    person: np.ndarray  # the original person photo (uint8 RGB)
    framing: Any  # person Framing at the model's resolution
    person_crop: np.ndarray  # framed person at the model's resolution
    keypoints: np.ndarray  # BODY_25 keypoints in model pixels
    parse: np.ndarray | None  # coarse parse at the model's resolution
    garment_crop: np.ndarray
    garment_mask: np.ndarray
    timings: dict[str, float]
    warnings: list[str]
    category: str
    category_reason: str


class TryOnPipeline:
    """Virtual try-on with one zoo model, from photos to photos.

    Args:
        name: a model from :func:`vton_zoo.list_models`.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``torch.device``, or ``None`` (CUDA when available).
        weights: ``None`` (the installed weights; :class:`~vton_zoo.weights.WeightsNotInstalledError` when a method
            needs weights and none are installed), ``"random"`` (untrained, for plumbing tests), a folder with
            ``model.safetensors`` + ``config.json``, or ``"hub:OWNER/REPO[@REV]"``.
        dtype: ``torch.float32`` (default), ``torch.float16`` (CUDA only) or ``torch.bfloat16``; strings such as
            ``"fp16"`` work too.
        resolution: ``(H, W)`` the model runs at; default the model's native one. Other sizes of
            ``spec.supported_resolutions()`` are fine; any other multiple of ``spec.size_multiple`` runs with a
            warning (the weights were not trained there).

    Raises:
        ValueError: unknown model, device, dtype or resolution.
        WeightsNotInstalledError: ``weights=None`` and the method's weights are not installed.

    The model is built on the first call. Instances can be shared between threads.
    """

    def __init__(self, name: str, *, device: str | torch.device | None = None,
                 weights: str | os.PathLike | None = None, dtype: torch.dtype | str | None = None,
                 resolution: Sequence[int] | None = None) -> None:
        self.spec: ModelSpec = get_spec(name)
        self.name = name
        self.device = _resolve_device(device)
        self.dtype = _resolve_dtype(dtype, self.device)
        self.resolution, self._resolution_warning = _resolve_resolution(self.spec, resolution)
        self.weights = resolve_for_pipeline(name, weights)
        self._random = weights is not None and str(weights) == RANDOM and self.spec.weights.needs_weights
        self._model: torch.nn.Module | None = None
        self._lock = threading.Lock()
        from .preprocess.model_inputs import recipe_for

        self.recipe = recipe_for(self.spec)

    def __repr__(self) -> str:
        height, width = self.resolution
        return (f"TryOnPipeline({self.name!r}, device={str(self.device)!r}, dtype={self.dtype}, "
                f"resolution=({height}, {width}), built={self._model is not None})")

    # --- the model --------------------------------------------------------------------------------------------------

    @property
    def model(self) -> torch.nn.Module:
        """The model (built on first access)."""
        self._ensure_model()
        assert self._model is not None
        return self._model

    @property
    def is_loaded(self) -> bool:
        """Whether the model has been built."""
        return self._model is not None

    def _ensure_model(self) -> float:
        """Build the model if needed; returns the seconds this call spent building it."""
        if self._model is not None:
            return 0.0
        with self._lock:
            if self._model is not None:
                return 0.0
            start = time.perf_counter()
            weights = None if self.weights is None else str(self.weights)
            model = create_model(self.name, weights=weights, device=self.device, dtype=self.dtype)
            self._model = model
            elapsed = time.perf_counter() - start
            logger.info("built %s on %s in %.2f s", self.name, self.device, elapsed)
            return elapsed

    # --- calls ------------------------------------------------------------------------------------------------------

    def __call__(self, person: Any, garment: Any, *, category: str | None = None, full_size: bool = True,
                 intermediates: bool = True, paste: Paste = "region") -> TryOnResult:
        """Try ``garment`` on ``person``.

        Args:
            person: the person photo: a path, bytes, a file object, a PIL image or a numpy array (see
                :func:`vton_zoo.preprocess.io.load_image`).
            garment: the garment product shot, same kinds.
            category: the garment's category, ``"upper"``, ``"lower"`` (trousers, skirts, shorts) or ``"dress"``
                (:data:`vton_zoo.registry.CATEGORIES`); ``None`` or ``"auto"`` (default) detects it from the garment
                photo's shape (:func:`~vton_zoo.preprocess.garment.garment_category`). The result says which was used.
            full_size: return the person photo at its original size with the try-on pasted in (default), or the
                model-resolution image.
            intermediates: also return the intermediate images (a little slower).
            paste: ``"region"`` (default) pastes only the try-on area (the garment and what it covers, faded into
                the photo): the face and background keep the photo's own pixels; ``"crop"`` pastes the whole
                framed crop.

        Raises:
            ValueError: a bad person or garment photo, an unknown category, or a category the method does not take
                (given or detected); the message names the problem.
        """
        wanted = _resolve_category(category)
        return self._run([(person, garment)], [wanted], full_size=full_size, intermediates=intermediates,
                         paste=paste, single=True)[0]

    def batch(self, pairs: Iterable[tuple[Any, Any]], *, category: str | Sequence[str | None] | None = None,
              full_size: bool = True, intermediates: bool = True, paste: Paste = "region") -> list[TryOnResult]:
        """Try on several (person, garment) pairs; the model runs once on the stacked batch.

        Args:
            pairs: (person, garment) pairs, each as in :meth:`__call__`.
            category: one category for every pair (``None``/``"auto"``: detected per pair), or one per pair.

        Raises:
            ValueError: a malformed ``pairs`` or ``category``, or a bad photo; the message starts with
                ``"pair <index>: "``.
        """
        if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Iterable):
            raise ValueError(f"pairs must be a sequence of (person, garment) pairs, got {type(pairs).__name__}")
        pairs = list(pairs)
        for index, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"pair {index}: expected a (person, garment) pair, got {type(pair).__name__}")
        if category is None or isinstance(category, str):
            wanted = [_resolve_category(category)] * len(pairs)
        else:
            wanted = list(category)
            if len(wanted) != len(pairs):
                raise ValueError(f"category must be one value or one per pair ({len(pairs)}), got {len(wanted)}")
            wanted = [_resolve_category(value) for value in wanted]
        if not pairs:
            return []
        return self._run(pairs, wanted, full_size=full_size, intermediates=intermediates, paste=paste, single=False)

    def detect_category(self, garment: Any) -> tuple[str, str]:
        """The category this pipeline would use for ``garment`` with ``category="auto"``: ``(category, reason)``.

        Runs the garment photo's checks and mask (no person, no model); a ``ValueError`` for a photo that cannot be
        used. It does not check that this pipeline's method takes the category.
        """
        from .preprocess import garment as garment_module
        from .preprocess.io import load_image

        garment_small = _shrink(load_image(garment, role="garment"), max(GARMENT_WORK_SIDE, *self.resolution))
        garment_module.check_garment_photo(garment_small)
        guess = garment_module.garment_category(garment_module.garment_mask(garment_small))
        return guess.category, guess.reason

    def _run(self, pairs: list, categories: list[str | None], *, full_size: bool, intermediates: bool, paste: Paste,
             single: bool) -> list[TryOnResult]:
        if paste not in ("region", "crop"):
            raise ValueError(f"paste must be 'region' or 'crop', got {paste!r}")
        count = len(pairs)
        load_time = self._ensure_model()
        need_parse = self.recipe != "photos" or intermediates or (full_size and paste == "region")

        prepared: list[_Prepared] = []
        for index, ((person, garment), category) in enumerate(zip(pairs, categories)):
            try:
                prepared.append(self._prepare(person, garment, category, need_parse=need_parse))
            except ValueError as err:
                if single:
                    raise
                raise ValueError(f"pair {index}: {err}") from err

        start = time.perf_counter()
        inputs = {name: torch.cat([p.inputs[name] for p in prepared]).to(device=self.device, dtype=self.dtype)
                  for name in self.spec.inputs}
        with torch.inference_mode():
            outputs = self.model(inputs)
        outputs = {name: value.detach().float().cpu() for name, value in outputs.items()
                   if isinstance(value, torch.Tensor)}
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        model_time = time.perf_counter() - start

        results = []
        for index, item in enumerate(prepared):
            start = time.perf_counter()
            mine = {name: value[index::count] for name, value in outputs.items()}
            result = self._postprocess(item, mine, full_size=full_size, intermediates=intermediates, paste=paste)
            timings = {
                "load_model": load_time / count,
                **item.timings,
                "model": model_time / count,
                "postprocess": time.perf_counter() - start,
            }
            timings["total"] = sum(timings[stage] for stage in _STAGES)
            result.timings = timings
            results.append(result)
        return results

    # --- preprocessing ----------------------------------------------------------------------------------------------

    def _prepare(self, person: Any, garment: Any, category: str | None, *, need_parse: bool) -> _Prepared:
        from .preprocess import garment as garment_module
        from .preprocess.framing import frame_garment, frame_person
        from .preprocess.io import load_image
        from .preprocess.model_inputs import build_model_inputs
        from .preprocess.parse import coarse_parse
        from .preprocess.pose import assess_person, estimate_pose
        from .preprocess.segmentation import segment_person

        warnings = list(self._static_warnings())
        timings: dict[str, float] = {}
        start = time.perf_counter()
        person_rgb = load_image(person, role="person")
        garment_rgb = load_image(garment, role="garment")
        timings["read_inputs"] = time.perf_counter() - start

        # Garment: checks, mask, category, framing, parts (first: the category decides how the person is framed).
        start = time.perf_counter()
        garment_small = _shrink(garment_rgb, max(GARMENT_WORK_SIDE, *self.resolution))
        # A person photo or a busy background handed in as the garment: refused with a message saying what to upload.
        garment_module.check_garment_photo(garment_small)
        mask_small = garment_module.garment_mask(garment_small)
        if category is None:
            guess = garment_module.garment_category(mask_small)
            category, reason = guess.category, f"detected from the garment photo: {guess.reason}"
        else:
            reason = "given"
        self._check_category(category, reason)
        garment_framing = frame_garment(garment_small, mask_small, self.resolution)
        garment_crop = garment_framing.crop(garment_small)
        garment_mask = garment_framing.crop_mask(mask_small) >= 0.5
        if not garment_mask.any():
            raise ValueError("no garment found in the garment photo after framing it")
        parts = garment_module.garment_parts(garment_mask) if self.recipe.startswith("gp-vton") else None
        timings["garment"] = time.perf_counter() - start

        # Person: one person, torso visible; mask; framing (whole for lower-body garments and dresses); analysis at the
        # working resolution.
        start = time.perf_counter()
        pose = estimate_pose(person_rgb)
        check = assess_person(person_rgb, pose=pose)
        if not check.ok:
            garment_shot = check.status in ("no_person", "cut_off") and garment_module.looks_like_product_shot(
                person_rgb, check.pose)
            if garment_shot:
                raise ValueError(garment_module.GARMENT_AS_PERSON)
            raise ValueError(check.message)
        person_mask = segment_person(person_rgb, pose=pose)
        extent = "upper" if category == "upper" else "full"
        framing = frame_person(person_rgb, self.resolution, pose=pose, person_mask=person_mask, extent=extent)
        if any(framing.padding):
            warnings.append("The person photo was padded at the sides to the model's aspect ratio "
                            f"({self.resolution[1]}:{self.resolution[0]}); a photo with more room around the person "
                            "works better")
        work = framing.with_size(self._work_size(framing))
        person_work = work.crop(person_rgb)
        pose_work = work.transform_pose(pose)
        parse_work = None
        if need_parse:
            parse_work = coarse_parse(person_work, pose_work, work.crop_mask(person_mask))
        keypoints_work = pose_work.body25

        # Model inputs (the builders bring the working-resolution person to the model's resolution).
        inputs = build_model_inputs(self.spec, person=person_work, garment=garment_crop, garment_mask=garment_mask,
                                    keypoints=keypoints_work, parse=parse_work, garment_parts=parts,
                                    size=self.resolution, category=category)
        timings["person"] = time.perf_counter() - start

        model_h, model_w = self.resolution
        work_h = work.size[0]
        parse_model = None
        if parse_work is not None:
            parse_model = np.asarray(Image.fromarray(parse_work).resize((model_w, model_h), Image.NEAREST))
        person_crop = framing.crop(person_rgb)
        keypoints = keypoints_work.copy()
        keypoints[:, :2] *= model_h / work_h
        return _Prepared(inputs=inputs, person=person_rgb, framing=framing, person_crop=person_crop,
                         keypoints=keypoints, parse=parse_model, garment_crop=garment_crop, garment_mask=garment_mask,
                         timings=timings, warnings=warnings, category=category, category_reason=reason)

    def _check_category(self, category: str, reason: str) -> None:
        """A ``ValueError`` when this pipeline's method does not take garments of ``category``."""
        if category in self.spec.categories:
            return
        takes = ", ".join(_CATEGORY_WORDS[c] for c in self.spec.categories)
        others = [name for name in list_models() if category in get_spec(name).categories]
        how = "it was given as such" if reason == "given" else f"the garment photo looks like one ({reason})"
        hint = f"use a method that takes them ({', '.join(others)})" if others else "no method here takes them"
        override = "" if reason == "given" else ", or pass the category yourself if the detection is wrong"
        raise ValueError(f"{self.name} takes {takes} only, and this garment is a {_CATEGORY_WORDS[category]}: {how}; "
                         f"{hint}{override}")

    def _work_size(self, framing) -> tuple[int, int]:
        """The model's resolution times the largest integer factor that stays within the crop's own pixels and
        reaches at most :data:`WORK_MIN_HEIGHT` (so 256x192 models analyse a large photo at 512x384)."""
        model_h, model_w = self.resolution
        crop_h = framing.box[3] - framing.box[1]
        factor = max(1, min(crop_h // model_h, math.ceil(WORK_MIN_HEIGHT / model_h)))
        return model_h * factor, model_w * factor

    def _static_warnings(self) -> list[str]:
        notes = []
        if self._random:
            notes.append(f"{self.name} runs with random (untrained) weights: its output is noise")
        if self._resolution_warning:
            notes.append(self._resolution_warning)
        return notes

    # --- postprocessing ---------------------------------------------------------------------------------------------

    def _postprocess(self, item: _Prepared, outputs: dict[str, torch.Tensor], *, full_size: bool,
                     intermediates: bool, paste: Paste) -> TryOnResult:
        if "tryon" not in outputs:
            raise RuntimeError(f"{self.name} returned no 'tryon' output (got {sorted(outputs)})")
        model_image = _to_uint8_image(outputs["tryon"][0])
        if full_size:
            region = self._paste_region(item, outputs, model_image) if paste == "region" else None
            image = item.framing.paste(model_image, item.person, region=region)
        else:
            image = model_image
        shown = self._intermediates(item, outputs) if intermediates else {}
        return TryOnResult(image=Image.fromarray(image), model_image=Image.fromarray(model_image),
                           intermediates=shown, timings={}, model=self.name, device=str(self.device),
                           warnings=item.warnings, framing=item.framing, category=item.category,
                           category_reason=item.category_reason, keypoints=item.keypoints.copy())

    def _paste_region(self, item: _Prepared, outputs: dict[str, torch.Tensor], model_image: np.ndarray
                      ) -> np.ndarray | None:
        """Soft mask at the model's resolution of what the try-on changes: the old garment, neck and arms of the
        parse, and the new garment where the model says where it put it, less what the model left exactly as it was;
        grown and softened."""
        from .preprocess import labels

        if item.parse is None:
            return None
        wanted = {labels.UPPER_GARMENT, labels.NECK, labels.RIGHT_ARM, labels.LEFT_ARM, labels.RIGHT_HAND,
                  labels.LEFT_HAND}
        if item.category == "lower":
            wanted = {labels.LOWER_BODY}
        elif item.category == "dress":
            wanted |= {labels.LOWER_BODY}
        changed = np.isin(item.parse, sorted(wanted))
        for name in ("warped_mask", "composite_mask"):
            value = outputs.get(name)
            if value is not None and value.dim() == 4 and value.shape[1] == 1 and value.shape[-2:] == changed.shape:
                changed |= value[0, 0].numpy() > 0.5
        # What the model left exactly as it was (the hands it keeps in front of a new top, an arm beside it) is not
        # pasted: it comes back at the photo's own resolution, not softened by the model's. (A learned generator
        # redraws every pixel a little: for it nothing is left out.)
        # (``model_image``: the try-on as the uint8 image the paste uses.)
        if model_image.shape == item.person_crop.shape:
            changed &= (model_image != item.person_crop).any(axis=-1)
        if not changed.any():
            return np.zeros(changed.shape, np.float32)  # (nothing changed: the photo as it is)
        grow = max(1.0, REGION_GROW * self.resolution[0])
        distance = ndimage.distance_transform_edt(~changed)  # pixels to the nearest changed pixel
        # Fully replaced up to half the margin outside the changed area, fading to the photo over one margin.
        return np.clip((1.5 * grow - distance) / grow, 0.0, 1.0).astype(np.float32)

    def _intermediates(self, item: _Prepared, outputs: dict[str, torch.Tensor]) -> dict[str, Image.Image]:
        from .preprocess.parse import colorize
        from .preprocess.skeleton import render_pose_overlay

        shown = {
            "person_crop": Image.fromarray(item.person_crop),
            "garment_crop": Image.fromarray(item.garment_crop),
            "garment_mask": Image.fromarray(item.garment_mask.astype(np.uint8) * 255),
            "pose_overlay": Image.fromarray(render_pose_overlay(item.person_crop, item.keypoints)),
        }
        if item.parse is not None:
            shown["parse"] = Image.fromarray(colorize(item.parse))
        flow = _flow_of(outputs)
        if flow is not None:
            shown["flow"] = Image.fromarray(flow_to_rgb(flow))
        skip = {"tryon", "flow", "generator_out", "tps_grid", "tps_theta", "parsing_logits"}
        for name, tspec in self.spec.outputs.items():
            value = outputs.get(name)
            if name in skip or value is None or value.dim() != 4:
                continue
            sample = value[0]
            low, high = tspec.value_range
            if tspec.channels == 3 and (low, high) == (-1.0, 1.0):
                shown[name] = Image.fromarray(_to_uint8_image(sample))
            elif tspec.channels == 1 and (low, high) == (0.0, 1.0):
                shown[name] = Image.fromarray(np.rint(sample[0].clamp(0, 1).numpy() * 255).astype(np.uint8))
            elif tspec.channels == 1 and low == 0.0 and math.isfinite(high) and high > 1.0:
                shown[name] = Image.fromarray(_colorize_labels(sample[0].numpy()))
        return shown


# --- helpers --------------------------------------------------------------------------------------------------------


def flow_to_rgb(flow: np.ndarray | torch.Tensor, *, grid: bool = True, max_magnitude: float | None = None
                ) -> np.ndarray:
    """Colour-code a flow field: hue is the direction, saturation the length (white = no motion).

    Args:
        flow: ``(2, H, W)`` (channel 0 = x, 1 = y): a normalised sampling grid in ``[-1, 1]`` (``grid=True``, the
            zoo's flows, align_corners=True convention) or pixel displacements (``grid=False``).
        grid: whether ``flow`` is a sampling grid (converted to displacements from the identity first).
        max_magnitude: the displacement (pixels) shown fully saturated; default the field's own maximum (at least
            one pixel).

    Returns:
        ``uint8`` RGB ``(H, W, 3)``. Directions: right = red, down = yellow-green, left = cyan, up = blue-violet.
    """
    if isinstance(flow, torch.Tensor):
        flow = flow.detach().float().cpu().numpy()
    flow = np.asarray(flow, np.float32)
    if flow.ndim != 3 or flow.shape[0] != 2:
        raise ValueError(f"flow must have shape (2, H, W), got {flow.shape}")
    height, width = flow.shape[1:]
    flow = np.nan_to_num(flow, nan=0.0, posinf=0.0, neginf=0.0)
    if grid:
        xs = np.arange(width, dtype=np.float32)[None, :]
        ys = np.arange(height, dtype=np.float32)[:, None]
        dx = (flow[0] + 1.0) * ((width - 1) / 2.0) - xs
        dy = (flow[1] + 1.0) * ((height - 1) / 2.0) - ys
    else:
        dx, dy = flow[0], flow[1]
    magnitude = np.hypot(dx, dy)
    # Default scale: the field's largest displacement, at least one pixel (so rounding noise stays white).
    scale = float(max_magnitude) if max_magnitude is not None else max(1.0, float(magnitude.max()))
    if not (math.isfinite(scale) and scale > 0):
        scale = 1.0
    hue = (np.arctan2(dy, dx) / (2 * np.pi)) % 1.0
    saturation = np.clip(magnitude / scale, 0.0, 1.0)
    hsv = np.stack([np.rint(hue * 255), np.rint(saturation * 255), np.full_like(hue, 255)], axis=-1)
    return np.asarray(Image.fromarray(hsv.astype(np.uint8), mode="HSV").convert("RGB"))


def _flow_of(outputs: dict[str, torch.Tensor]) -> np.ndarray | None:
    """The flow to show for one sample: ``flow`` (B, 2, H, W) or, for GP-VTON's stacked part flows, the torso's;
    CP-VTON's ``tps_grid`` (B, H, W, 2) otherwise."""
    flow = outputs.get("flow")
    if flow is not None and flow.dim() == 4 and flow.shape[1] == 2:
        return flow[len(flow) // 2].numpy()  # one flow, or [left, torso, right]: the middle one
    grid = outputs.get("tps_grid")
    if grid is not None and grid.dim() == 4 and grid.shape[-1] == 2:
        return grid[0].permute(2, 0, 1).numpy()
    return None


def _to_uint8_image(tensor: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [-1, 1] (clipped) -> uint8 (H, W, 3)."""
    array = tensor.detach().float().cpu().nan_to_num(0.0).clamp(-1.0, 1.0).numpy()
    return np.ascontiguousarray(np.rint((array.transpose(1, 2, 0) + 1.0) * 127.5).astype(np.uint8))


def _colorize_labels(values: np.ndarray) -> np.ndarray:
    from .preprocess import labels

    palette = np.asarray(labels.PARSE_PALETTE, np.uint8)
    index = np.clip(np.rint(np.nan_to_num(values)), 0, None).astype(np.int64) % len(palette)
    return palette[index]


_CATEGORY_WORDS = {"upper": "upper-body garment", "lower": "lower-body garment", "dress": "dress"}
# Other spellings of the categories (DressCode's folder names).
_CATEGORY_ALIASES = {"upper_body": "upper", "lower_body": "lower", "dresses": "dress", "top": "upper",
                     "tops": "upper", "bottom": "lower", "bottoms": "lower"}


def _resolve_category(category: Any) -> str | None:
    """``None`` for automatic detection (``None``, ``""`` or ``"auto"``), else one of ``CATEGORIES``."""
    if category is None:
        return None
    if not isinstance(category, str):
        raise ValueError(f"category must be 'auto' or one of {', '.join(CATEGORIES)}, got {category!r}")
    name = category.strip().lower()
    if name in ("", "auto"):
        return None
    name = _CATEGORY_ALIASES.get(name, name)
    if name not in CATEGORIES:
        raise ValueError(f"unknown garment category {category!r}: use 'auto' or one of {', '.join(CATEGORIES)}")
    return name


def _shrink(image: np.ndarray, max_side: int) -> np.ndarray:
    height, width = image.shape[:2]
    if max(height, width) <= max_side:
        return image
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.BOX))


def _resolve_device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"unknown device {device!r}: use 'cpu', 'cuda' or 'cuda:N'") from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available on this machine; use 'cpu'")
    if resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unsupported device {device!r}: use 'cpu' or 'cuda'")
    return resolved


def _resolve_dtype(dtype: torch.dtype | str | None, device: torch.device) -> torch.dtype:
    if dtype is None:
        return torch.float32
    if isinstance(dtype, str):
        if dtype.lower() not in _DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}: use one of {sorted(_DTYPES)}")
        dtype = _DTYPES[dtype.lower()]
    if dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise ValueError(f"dtype must be float32, float16 or bfloat16, got {dtype}")
    if dtype == torch.float16 and device.type == "cpu":
        raise ValueError("float16 needs a GPU; on CPU use float32 (or bfloat16)")
    return dtype


def _resolve_resolution(spec: ModelSpec, resolution: Sequence[int] | None) -> tuple[tuple[int, int], str]:
    if resolution is None:
        return tuple(spec.resolution), ""
    try:
        height, width = (int(v) for v in resolution)
    except (TypeError, ValueError):
        raise ValueError(f"resolution must be (H, W), got {resolution!r}") from None
    if (height, width) in spec.supported_resolutions():
        return (height, width), ""
    if spec.fixed_resolution:
        raise ValueError(f"{spec.name} runs only at {spec.resolution[0]}x{spec.resolution[1]}, "
                         f"not {height}x{width}")
    multiple = spec.size_multiple
    if height <= 0 or width <= 0 or height % multiple or width % multiple:
        raise ValueError(f"{spec.name} needs H and W that are positive multiples of {multiple}, got {height}x{width}")
    supported = ", ".join(f"{h}x{w}" for h, w in spec.supported_resolutions())
    return (height, width), (f"{spec.name} was trained at {supported}; at {height}x{width} expect worse results")
