"""One evaluation run: a zoo model over a dataset's test pairs, its outputs saved, its metrics written.

What a run does (:func:`evaluate`):

1. Opens the dataset with the readers of ``vton_zoo.data`` (every file the pairs name is checked first; a missing
   folder or image is a ``ValueError`` naming it and showing the expected layout) and picks the pairs:
   ``unpaired`` = the test pairs file as published (VITON, VITON-HD and VITON-Clean list a different garment per
   person; DressCode's ``test_pairs_unpaired.txt``); ``paired`` = each person with the garment they wear
   (``X_0.jpg`` -> ``X_1.jpg``, VITON-HD ``X_00.jpg`` -> itself; DressCode's ``test_pairs_paired.txt``). The chosen
   list is written to ``OUT/pairs.txt``.
2. Builds each pair's inputs as the method's official test loader does: the per-method datasets of
   ``vton_zoo.data`` where the method has one (from the dataset's own parses, poses and DensePose), otherwise
   :func:`vton_zoo.preprocess.model_inputs.build_model_inputs` from the dataset's parse and keypoints
   (``tps-baseline``). Sizes: the model's native resolution unless ``resolution`` is given.
3. Runs the model in batches (progress bar), writes ``OUT/outputs/<name>.png`` (try-on) and
   ``OUT/real/<person>.png`` (the ground-truth person at the same resolution, resized as the inputs are). Outputs
   already on disk are skipped, so an interrupted run resumes.
4. Measures the model's forward time per image (the first batch is a warm-up when there are several) and the peak
   memory (CUDA: ``max_memory_allocated``; CPU: the process's peak resident set size).
5. Computes FID and KID (outputs vs real persons, :mod:`vton_zoo.eval.fid`), and on paired runs SSIM and LPIPS per
   image (:mod:`vton_zoo.eval.ssim`, :mod:`vton_zoo.eval.lpips`), and writes ``metrics.json``, ``per_image.csv``
   and ``row.md`` (a markdown table row).

``vton_zoo`` never imports ``training`` except here: the evaluation reads datasets, which is the readers' job. It
needs a checkout of the repository (``training/`` is not part of the installed package).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import platform
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..checkpoints import create_model
from ..registry import get_spec
from ..weights import RANDOM, resolve_for_pipeline

logger = logging.getLogger(__name__)

LAYOUTS = ("viton", "viton-clean", "viton-hd", "dresscode")
PAIRS = ("paired", "unpaired")
METRICS_NAME = "metrics.json"


@dataclass
class EvalConfig:
    """Options of one run (the command line's flags).

    Attributes:
        model: zoo model name.
        dataset: dataset root folder.
        layout: ``viton``, ``viton-clean``, ``viton-hd`` or ``dresscode``.
        out: run folder (created).
        pairs: ``paired`` or ``unpaired``.
        weights: as :class:`~vton_zoo.pipeline.TryOnPipeline`: ``None`` (installed), a folder, ``hub:...`` or
            ``random``.
        batch_size: pairs per forward pass.
        device: ``cpu``, ``cuda``, ``cuda:N``; ``None``: CUDA when available.
        dtype: ``float32`` (default), ``float16`` or ``bfloat16``.
        limit: evaluate only the first N pairs.
        resolution: ``(H, W)``; default the model's native resolution.
        workers: DataLoader workers preparing inputs.
        fid_dims: Inception feature size (2048 = pool3, the standard).
        inception_weights: pytorch-fid's weight file; ``None``: torch's hub cache (downloaded when online).
        skip_fid: do not compute FID / KID.
        lpips_net: ``alex`` or ``vgg``.
        lpips_weights: LPIPS v0.1 linear-layer file; ``None``: see :func:`vton_zoo.eval.lpips.default_linear_path`.
        lpips_backbone: torchvision's ImageNet backbone file; ``None``: torch's hub cache.
        skip_lpips: do not compute LPIPS.
    """

    model: str
    dataset: str | Path
    layout: str
    out: str | Path
    pairs: str = "unpaired"
    weights: str | None = None
    batch_size: int = 8
    device: str | None = None
    dtype: str | None = None
    limit: int | None = None
    resolution: tuple[int, int] | None = None
    workers: int = 0
    fid_dims: int = 2048
    inception_weights: str | None = None
    skip_fid: bool = False
    lpips_net: str = "alex"
    lpips_weights: str | None = None
    lpips_backbone: str | None = None
    skip_lpips: bool = False


# --- dataset ---------------------------------------------------------------------------------------------------------


def _training_data():
    from .. import data  # torch Datasets and readers: imported only when an evaluation runs

    return data


def output_name(pair) -> str:
    """File name of a pair's try-on: ``<person stem>__<garment stem>.png`` (DressCode: prefixed by category)."""
    prefix = "" if pair.category == "upper_body" else f"{pair.category}-"
    return f"{prefix}{Path(pair.person).stem}__{Path(pair.garment).stem}.png"


def real_name(pair) -> str:
    """File name of a pair's ground-truth person image."""
    prefix = "" if pair.category == "upper_body" else f"{pair.category}-"
    return f"{prefix}{Path(pair.person).stem}.png"


def open_test_pairs(layout: str, root: str | Path, pairs: str, out: str | Path, limit: int | None = None):
    """The test reader whose ``pairs`` are the evaluated pairs (see the module docstring), validated.

    Raises:
        ValueError: unknown layout or pairs, a missing dataset folder, or a pairs file naming missing images.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown dataset layout {layout!r}; known: {', '.join(LAYOUTS)}")
    if pairs not in PAIRS:
        raise ValueError(f"pairs must be 'paired' or 'unpaired', got {pairs!r}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise ValueError(f"dataset folder not found: {root}")
    data = _training_data()
    from vton_zoo.data.readers import Pair, own_garment_name

    kwargs: dict = {}
    if layout == "dresscode":
        kwargs["order"] = pairs
    elif layout == "viton-clean":
        kwargs["maps"] = (root / "test_label").is_dir() and (root / "test_pose").is_dir() \
            and (root / "test_densepose").is_dir()
    reader = data.open_dataset(layout, root, "test", **kwargs)
    chosen = list(reader.pairs)
    if pairs == "paired" and layout != "dresscode":
        seen: dict[tuple[str, str], object] = {}
        for pair in chosen:
            seen.setdefault((pair.category, pair.person), Pair(pair.person, own_garment_name(pair.person),
                                                               pair.category))
        chosen = list(seen.values())
    if limit is not None:
        chosen = chosen[:limit]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    listing = out / "pairs.txt"
    listing.write_text("".join(f"{p.person} {p.garment} {p.category}\n" for p in chosen))
    if layout == "dresscode":
        reader.pairs = chosen
    else:
        # Reopened on the chosen list, so that the reader checks the files of exactly these pairs.
        reader = data.open_dataset(layout, root, "test", pairs_file=str(listing.resolve()), **kwargs)
        reader.pairs = [Pair(p.person, p.garment, c.category) for p, c in zip(reader.pairs, chosen)]
    return reader


class _EvalItems(torch.utils.data.Dataset):
    """Model inputs (C, H, W) and the ground-truth person (uint8 H, W, 3) of each pair."""

    def __init__(self, reader, model_name: str, size: tuple[int, int]) -> None:
        from vton_zoo.data.datasets import DATASETS, build_dataset

        self.reader = reader
        self.spec = get_spec(model_name)
        self.size = size
        self.dataset = (build_dataset(model_name, reader, size=size, mode="paired") if model_name in DATASETS
                        else None)

    def __len__(self) -> int:
        return len(self.reader.pairs)

    def __getitem__(self, index: int) -> dict:
        if self.dataset is not None:
            item = self.dataset[index]
            inputs = {name: item[name] for name in self.spec.inputs}
            real = ((item["person"].permute(1, 2, 0) + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
        else:
            from ..preprocess._inputs_common import resize_image
            from ..preprocess.model_inputs import build_model_inputs

            pair = self.reader.pairs[index]
            example = self.reader.load(pair)
            parse = example.coarse_parse() if example.parse is not None else None
            try:
                batch = build_model_inputs(self.spec, person=example.person, garment=example.garment,
                                           garment_mask=example.garment_mask, keypoints=example.keypoints,
                                           parse=parse, size=self.size)
            except ValueError as error:
                raise ValueError(f"{pair.person}: {error} (this dataset layout does not provide it)") from None
            inputs = {name: value[0] for name, value in batch.items()}
            real = torch.from_numpy(np.array(resize_image(example.person, self.size, Image.BICUBIC)))
        return {"inputs": inputs, "real": real, "index": index}


# --- helpers ---------------------------------------------------------------------------------------------------------


def _resolution(spec, resolution: Sequence[int] | None) -> tuple[int, int]:
    if resolution is None:
        return tuple(spec.resolution)
    height, width = (int(v) for v in resolution)
    if (height, width) in spec.supported_resolutions():
        return height, width
    if spec.fixed_resolution:
        raise ValueError(f"{spec.name} runs only at {spec.resolution[0]}x{spec.resolution[1]}, not {height}x{width}")
    if height <= 0 or width <= 0 or height % spec.size_multiple or width % spec.size_multiple:
        raise ValueError(f"{spec.name} needs H and W that are positive multiples of {spec.size_multiple}, got "
                         f"{height}x{width}")
    logger.warning("%s was not trained at %dx%d", spec.name, height, width)
    return height, width


def _device(device: str | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}: use 'cpu', 'cuda' or 'cuda:N'") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available on this machine")
    return resolved


_DTYPES = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
           "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}


def _dtype(dtype: str | None, device: torch.device) -> torch.dtype:
    if dtype is None:
        return torch.float32
    if dtype.lower() not in _DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}: use float32, float16 or bfloat16")
    resolved = _DTYPES[dtype.lower()]
    if resolved == torch.float16 and device.type == "cpu":
        raise ValueError("float16 needs a GPU; on CPU use float32 or bfloat16")
    return resolved


def _to_uint8(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [-1, 1] -> uint8 (H, W, 3), as the pipeline writes its images."""
    array = image.detach().float().cpu().nan_to_num(0.0).clamp(-1.0, 1.0).numpy()
    return np.ascontiguousarray(np.rint((array.transpose(1, 2, 0) + 1.0) * 127.5).astype(np.uint8))


def _save_png(array: np.ndarray, path: Path) -> None:
    """Write atomically (a killed run leaves no truncated PNG for the resume to trust)."""
    partial = path.with_name(path.name + ".part")
    Image.fromarray(array).save(partial, format="PNG")
    os.replace(partial, path)


def _read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).copy()


def _peak_memory_mb(device: torch.device) -> tuple[float, str]:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "cuda max_memory_allocated"
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20, "cpu peak RSS of the process"


# --- the run ---------------------------------------------------------------------------------------------------------


def _generate(config: EvalConfig, reader, out: Path, size: tuple[int, int], device: torch.device,
              dtype: torch.dtype) -> dict:
    """Run the model over the pairs whose outputs are missing; returns timing and memory figures (or {})."""
    from tqdm.auto import tqdm

    outputs_dir, real_dir = out / "outputs", out / "real"
    outputs_dir.mkdir(parents=True, exist_ok=True)
    real_dir.mkdir(parents=True, exist_ok=True)
    pairs = reader.pairs
    pending = [i for i, pair in enumerate(pairs)
               if not (outputs_dir / output_name(pair)).is_file() or not (real_dir / real_name(pair)).is_file()]
    skipped = len(pairs) - len(pending)
    if skipped:
        logger.info("%d of %d outputs already written; running the other %d", skipped, len(pairs), len(pending))
    if not pending:
        return {}
    weights = resolve_for_pipeline(config.model, config.weights)
    model = create_model(config.model, weights=None if weights is None else str(weights), device=device,
                         dtype=dtype)
    items = _EvalItems(reader, config.model, size)
    loader = torch.utils.data.DataLoader(torch.utils.data.Subset(items, pending), batch_size=config.batch_size,
                                         shuffle=False, num_workers=config.workers)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    batch_seconds, batch_counts = [], []
    start_all = time.perf_counter()
    for batch in tqdm(loader, desc=f"{config.model} {config.pairs}", unit="batch"):
        inputs = {name: value.to(device=device, dtype=dtype) for name, value in batch["inputs"].items()}
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        with torch.inference_mode():
            result = model(inputs)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        batch_seconds.append(time.perf_counter() - start)
        batch_counts.append(len(batch["index"]))
        if "tryon" not in result:
            raise RuntimeError(f"{config.model} returned no 'tryon' output (got {sorted(result)})")
        tryon = result["tryon"].float().cpu()
        for row, index in enumerate(batch["index"].tolist()):
            pair = pairs[index]
            _save_png(_to_uint8(tryon[row]), outputs_dir / output_name(pair))
            real_path = real_dir / real_name(pair)
            if not real_path.is_file():
                _save_png(batch["real"][row].numpy(), real_path)
    wall = time.perf_counter() - start_all
    timed = slice(1, None) if len(batch_seconds) > 1 else slice(None)  # the first batch warms up
    seconds, count = sum(batch_seconds[timed]), sum(batch_counts[timed])
    peak, memory_kind = _peak_memory_mb(device)
    return {"runtime_ms_per_image": 1000.0 * seconds / count, "wall_seconds": wall, "images_generated": len(pending),
            "timed_images": count, "peak_memory_mb": peak, "memory_kind": memory_kind}


def _paired_metrics(config: EvalConfig, pairs, out: Path, device: torch.device,
                    lpips_model: torch.nn.Module | None) -> tuple[dict, list[dict]]:
    from .ssim import ssim

    rows = [{"person": p.person, "garment": p.garment, "category": p.category, "output": output_name(p)}
            for p in pairs]
    for start in range(0, len(pairs), config.batch_size):
        chunk = pairs[start:start + config.batch_size]
        generated = np.stack([_read_rgb(out / "outputs" / output_name(p)) for p in chunk])
        real = np.stack([_read_rgb(out / "real" / real_name(p)) for p in chunk])
        values = ssim(generated, real)
        distances = None
        if lpips_model is not None:
            to_tensor = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float().div(127.5).sub(1.0).to(device)
            with torch.no_grad():
                distances = lpips_model(to_tensor(generated), to_tensor(real)).cpu().numpy()
        for offset in range(len(chunk)):
            rows[start + offset]["ssim"] = float(values[offset])
            if distances is not None:
                rows[start + offset]["lpips"] = float(distances[offset])
    summary = {"ssim": float(np.mean([r["ssim"] for r in rows]))}
    if lpips_model is not None:
        summary["lpips"] = float(np.mean([r["lpips"] for r in rows]))
        summary["lpips_net"] = config.lpips_net
        summary["lpips_weights"] = [Path(p).name for p in lpips_model.weights_files]
    return summary, rows


def evaluate(config: EvalConfig) -> dict:
    """Run one evaluation (see the module docstring) and return what ``metrics.json`` holds.

    Raises:
        ValueError: bad options, a missing dataset folder, or pairs naming missing images.
        vton_zoo.weights.WeightsNotInstalledError: the method's weights are not installed.
        vton_zoo.eval.inception.MetricWeightsError: metric weights missing offline (the message says which file and
            where to put it).
    """
    spec = get_spec(config.model)
    size = _resolution(spec, config.resolution)
    device = _device(config.device)
    dtype = _dtype(config.dtype, device)
    if config.batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {config.batch_size}")
    resolve_for_pipeline(config.model, config.weights)  # fail early when weights are missing
    out = Path(config.out).expanduser()
    reader = open_test_pairs(config.layout, config.dataset, config.pairs, out, config.limit)
    pairs = list(reader.pairs)
    logger.info("evaluating %s on %d %s pairs of %s (%s) at %dx%d", config.model, len(pairs), config.pairs,
                config.dataset, config.layout, *size)
    # Metric networks are loaded before the long part, so that missing weights fail fast.
    inception = None
    if not config.skip_fid:
        from .inception import load_inception

        inception = load_inception(config.fid_dims, config.inception_weights, device=device)
    lpips_model = None
    if config.pairs == "paired" and not config.skip_lpips:
        from .lpips import load_lpips

        lpips_model = load_lpips(config.lpips_net, config.lpips_weights, config.lpips_backbone, device=device)

    previous = {}
    if (out / METRICS_NAME).is_file():
        try:
            previous = json.loads((out / METRICS_NAME).read_text())
        except json.JSONDecodeError:
            previous = {}
    speed = _generate(config, reader, out, size, device, dtype)
    if not speed:  # every output was already there: keep the figures of the run that made them
        speed = {key: previous.get(key) for key in ("runtime_ms_per_image", "peak_memory_mb", "memory_kind")}
        speed["images_generated"] = 0

    if not spec.weights.needs_weights:
        weights_label = "built-in"
    elif config.weights is None:
        weights_label = "installed"
    else:
        weights_label = "random" if str(config.weights) == RANDOM else str(config.weights)
    metrics: dict = {
        "model": config.model,
        "weights": weights_label,
        "dataset": str(Path(config.dataset).expanduser().resolve()),
        "layout": config.layout,
        "pairs": config.pairs,
        "num_pairs": len(pairs),
        "resolution": list(size),
        "device": str(device),
        "dtype": str(dtype).replace("torch.", ""),
        "batch_size": config.batch_size,
        "fid": None, "kid": None, "kid_std": None, "ssim": None, "lpips": None,
        **speed,
    }
    if inception is not None:
        from .fid import fid_kid

        generated = [out / "outputs" / output_name(p) for p in pairs]
        real = sorted({out / "real" / real_name(p) for p in pairs})
        scores = fid_kid(generated, real, inception, batch_size=config.batch_size * 4, device=device)
        metrics.update(fid=scores["fid"], kid=scores["kid"], kid_std=scores["kid_std"],
                       fid_num_real=scores["num_real"],
                       fid_evaluator=("pytorch-fid 0.3.0" if inception.backend == "pytorch-fid" else
                                      "pytorch-fid 0.3.0 architecture (vton_zoo.eval.inception)"),
                       fid_dims=config.fid_dims, inception_weights=Path(inception.weights_file).name)
        if len(pairs) < 2048 and config.fid_dims == 2048:
            logger.warning("FID on %d images (< 2048) is biased upwards; compare it only between runs on the same "
                           "pairs (KID is unbiased)", len(pairs))
    rows = [{"person": p.person, "garment": p.garment, "category": p.category, "output": output_name(p)}
            for p in pairs]
    if config.pairs == "paired":
        summary, rows = _paired_metrics(config, pairs, out, device, lpips_model)
        metrics.update(summary)
    metrics["per_image"] = "per_image.csv"
    metrics["config"] = {key: (str(value) if isinstance(value, Path) else value)
                         for key, value in asdict(config).items()}
    metrics["environment"] = {"torch": torch.__version__, "python": platform.python_version(),
                              "cuda_device": torch.cuda.get_device_name(device) if device.type == "cuda" else None}
    metrics["created"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")

    with open(out / "per_image.csv", "w", newline="") as handle:
        fields = list(rows[0]) if rows else ["person", "garment", "category", "output"]
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    (out / METRICS_NAME).write_text(json.dumps(metrics, indent=2) + "\n")
    from .report import markdown_row

    (out / "row.md").write_text(markdown_row(metrics, header=True))
    logger.info("wrote %s", out / METRICS_NAME)
    return metrics
