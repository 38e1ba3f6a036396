"""Reports over evaluation runs: one markdown table (methods x metrics) and plots.

``python -m vton_zoo.eval report RUNS... [--out DIR]`` reads each run's ``metrics.json`` (a run folder or the file)
and writes into ``DIR``:

- ``report.md``: the table (one row per method, weights, dataset layout and resolution; the paired run gives
  P-SSIM, P-LPIPS, P-FID, P-KID, the unpaired run U-FID, U-KID; KID is printed x 1000 as the try-on papers do),
  notes on how the numbers were computed, and the plots;
- ``report.json``: the same rows as data;
- ``quality_vs_latency.png``: FID (unpaired when there is such a run, else paired) against milliseconds per image;
- ``hist_ssim.png``, ``hist_lpips.png``: per-image histograms of the paired runs, one colour per method.

Without ``--out`` the report goes to ``$VTON_ZOO_HOME/reports/`` (default ``~/.cache/vton_zoo/reports``), which is
where the app's About tab looks for ``report.md`` and the plots (:func:`find_report`). A new report replaces the
previous one there.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

REPORT_MD, REPORT_JSON = "report.md", "report.json"
LATENCY_PLOT = "quality_vs_latency.png"
HISTOGRAM_METRICS = ("ssim", "lpips")


def reports_dir() -> Path:
    """``$VTON_ZOO_HOME/reports``: the default ``--out`` and where the app reads reports."""
    from ..weights import home

    return home() / "reports"


def find_report(folder: str | Path | None = None) -> dict | None:
    """What the app shows: ``{"markdown": text, "rows": [...], "plots": [paths]}`` from ``folder`` (default
    :func:`reports_dir`), or ``None`` when no report has been written there."""
    folder = Path(folder) if folder is not None else reports_dir()
    if not (folder / REPORT_MD).is_file():
        return None
    rows = json.loads((folder / REPORT_JSON).read_text()) if (folder / REPORT_JSON).is_file() else []
    plots = [folder / LATENCY_PLOT] + [folder / f"hist_{m}.png" for m in HISTOGRAM_METRICS]
    return {"markdown": (folder / REPORT_MD).read_text(), "rows": rows, "plots": [p for p in plots if p.is_file()]}


# --- formatting ------------------------------------------------------------------------------------------------------


def _fmt(value, digits: int = 3, scale: float = 1.0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value * scale:.{digits}f}"


ROW_HEADER = ("| Method | Weights | Data | Pairs | N | H×W | FID↓ | KID×10³↓ | SSIM↑ | LPIPS↓ | ms/img | peak MB | "
              "Device |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")


def markdown_row(metrics: dict, *, header: bool = False) -> str:
    """One run as a markdown table row (with the header line when ``header``)."""
    height, width = metrics.get("resolution", ("?", "?"))
    row = (f"| {metrics['model']} | {metrics.get('weights', '?')} | {metrics.get('layout', '?')} | "
           f"{metrics.get('pairs', '?')} | {metrics.get('num_pairs', '?')} | {height}×{width} | "
           f"{_fmt(metrics.get('fid'), 2)} | {_fmt(metrics.get('kid'), 2, 1000)} | {_fmt(metrics.get('ssim'), 4)} | "
           f"{_fmt(metrics.get('lpips'), 4)} | {_fmt(metrics.get('runtime_ms_per_image'), 1)} | "
           f"{_fmt(metrics.get('peak_memory_mb'), 0)} | {metrics.get('device', '?')} |\n")
    return (ROW_HEADER + row) if header else row


# --- reading runs ----------------------------------------------------------------------------------------------------


def load_run(path: str | Path) -> dict:
    """A run's ``metrics.json`` (``path`` is the run folder or the file), with ``run_dir`` added.

    Raises:
        ValueError: no readable ``metrics.json`` there.
    """
    path = Path(path).expanduser()
    file = path / "metrics.json" if path.is_dir() else path
    if not file.is_file():
        raise ValueError(f"no metrics.json in {path} (pass evaluation run folders written by python -m vton_zoo.eval)")
    try:
        metrics = json.loads(file.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{file} is not valid JSON ({error})") from None
    if not isinstance(metrics, dict) or "model" not in metrics:
        raise ValueError(f"{file} is not an evaluation metrics file (no 'model')")
    metrics["run_dir"] = str(file.parent)
    return metrics


def per_image(metrics: dict, name: str) -> list[float]:
    """A run's per-image values of ``name`` from its ``per_image.csv`` (empty when absent)."""
    file = Path(metrics["run_dir"]) / metrics.get("per_image", "per_image.csv")
    if not file.is_file():
        return []
    with open(file, newline="") as handle:
        return [float(row[name]) for row in csv.DictReader(handle) if row.get(name) not in (None, "")]


def combine(runs: Sequence[dict]) -> list[dict]:
    """One row per (model, weights, layout, resolution), merging its paired and unpaired runs (later runs win)."""
    rows: dict[tuple, dict] = {}
    for run in runs:
        key = (run["model"], run.get("weights"), run.get("layout"), tuple(run.get("resolution", ())))
        row = rows.setdefault(key, {"model": run["model"], "weights": run.get("weights"), "layout": run.get("layout"),
                                    "resolution": list(run.get("resolution", ())), "runs": [], "_ms": [],
                                    "_mb": []})
        row["runs"].append(run["run_dir"])
        prefix = "p" if run.get("pairs") == "paired" else "u"
        row[f"{prefix}_fid"], row[f"{prefix}_kid"] = run.get("fid"), run.get("kid")
        row[f"{prefix}_n"] = run.get("num_pairs")
        if prefix == "p":
            row["p_ssim"], row["p_lpips"] = run.get("ssim"), run.get("lpips")
        if run.get("runtime_ms_per_image") is not None:
            row["_ms"].append(run["runtime_ms_per_image"])
        if run.get("peak_memory_mb") is not None:
            row["_mb"].append(run["peak_memory_mb"])
        row["device"] = run.get("device")
    out = []
    for row in rows.values():
        ms, mb = row.pop("_ms"), row.pop("_mb")
        row["ms_per_image"] = sum(ms) / len(ms) if ms else None
        row["peak_memory_mb"] = max(mb) if mb else None
        out.append(row)
    return out


def markdown_table(rows: Sequence[dict]) -> str:
    """The methods x metrics table."""
    lines = ["| Method | Weights | Data | H×W | P-SSIM↑ | P-LPIPS↓ | P-FID↓ | P-KID×10³↓ | U-FID↓ | U-KID×10³↓ | "
             "ms/img | peak MB | N (P/U) | Device |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        resolution = "×".join(str(v) for v in r["resolution"])
        counts = f"{r.get('p_n') or '–'}/{r.get('u_n') or '–'}"
        lines.append(f"| {r['model']} | {r['weights']} | {r['layout']} | {resolution} | {_fmt(r.get('p_ssim'), 4)} | "
                     f"{_fmt(r.get('p_lpips'), 4)} | {_fmt(r.get('p_fid'), 2)} | {_fmt(r.get('p_kid'), 2, 1000)} | "
                     f"{_fmt(r.get('u_fid'), 2)} | {_fmt(r.get('u_kid'), 2, 1000)} | {_fmt(r['ms_per_image'], 1)} | "
                     f"{_fmt(r['peak_memory_mb'], 0)} | {counts} | {r.get('device') or '?'} |")
    return "\n".join(lines) + "\n"


# --- plots -----------------------------------------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _label(row: dict, rows: Sequence[dict]) -> str:
    same_model = sum(r["model"] == row["model"] for r in rows) > 1
    return f"{row['model']} ({row['layout']}, {row['weights']})" if same_model else row["model"]


def plot_quality_vs_latency(rows: Sequence[dict], path: Path) -> Path | None:
    """FID against ms per image, one labelled point per row; ``None`` when no row has both."""
    points = []
    for row in rows:
        fid = row.get("u_fid") if row.get("u_fid") is not None else row.get("p_fid")
        if fid is not None and row.get("ms_per_image") is not None:
            points.append((row["ms_per_image"], fid, _label(row, rows)))
    if not points:
        return None
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 4.4), dpi=100)
    for x, y, label in points:
        axes.scatter([x], [y], s=40)
        axes.annotate(label, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    axes.set_xscale("log")
    axes.set_xlabel("model time per image (ms, log scale)")
    axes.set_ylabel("FID (unpaired where available; lower is better)")
    axes.set_title("Quality vs latency")
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def plot_histograms(runs: Sequence[dict], folder: Path) -> list[Path]:
    """Per-image histograms of the paired runs' SSIM and LPIPS (one figure per metric)."""
    written = []
    for name in HISTOGRAM_METRICS:
        series = [(f"{run['model']} ({run.get('layout')})", per_image(run, name)) for run in runs
                  if run.get("pairs") == "paired"]
        series = [(label, values) for label, values in series if values]
        if not series:
            continue
        plt = _pyplot()
        figure, axes = plt.subplots(figsize=(6.4, 4.0), dpi=100)
        low = min(min(values) for _, values in series)
        high = max(max(values) for _, values in series)
        bins = 30 if high > low else 1
        for label, values in series:
            axes.hist(values, bins=bins, range=(low, high) if high > low else None, alpha=0.5, label=label)
        axes.set_xlabel(f"per-image {name.upper()} ({'higher' if name == 'ssim' else 'lower'} is better)")
        axes.set_ylabel("images")
        axes.legend(fontsize=8)
        figure.tight_layout()
        path = folder / f"hist_{name}.png"
        figure.savefig(path)
        plt.close(figure)
        written.append(path)
    return written


# --- the report ------------------------------------------------------------------------------------------------------


def build_report(run_paths: Sequence[str | Path], out: str | Path | None = None) -> dict:
    """Write ``report.md``, ``report.json`` and the plots for the given runs into ``out`` (default
    :func:`reports_dir`).

    Returns:
        ``{"out": folder, "markdown": path, "json": path, "plots": [paths], "rows": rows}``.

    Raises:
        ValueError: no runs, or a run folder without ``metrics.json``.
    """
    if not run_paths:
        raise ValueError("give at least one evaluation run folder")
    runs = [load_run(path) for path in run_paths]
    rows = combine(runs)
    folder = Path(out).expanduser() if out is not None else reports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    plots = []
    latency = plot_quality_vs_latency(rows, folder / LATENCY_PLOT)
    if latency is not None:
        plots.append(latency)
    plots += plot_histograms(runs, folder)

    evaluators = sorted({f"{r.get('fid_evaluator')} (dims {r.get('fid_dims')}, weights {r.get('inception_weights')})"
                         for r in runs if r.get("fid") is not None})
    memory = sorted({r.get("memory_kind") for r in runs if r.get("memory_kind")})
    lines = ["# vton-zoo evaluation", "", markdown_table(rows), "Notes:", ""]
    if evaluators:
        lines.append(f"- FID / KID: {'; '.join(evaluators)}; KID = unbiased MMD² with the cubic polynomial kernel, "
                     "mean over 100 subsets of ≤ 1000 images, shown ×10³. FID on fewer than 2048 images is biased "
                     "upwards: compare it only between rows with the same pairs.")
    lines.append("- SSIM: Gaussian window 11, σ 1.5, valid region, RGB mean (Wang et al. 2004); LPIPS v0.1 "
                 "(lin); both on paired runs only (P-). U- = unpaired pairs.")
    if memory:
        lines.append(f"- ms/img: the model's forward time per image (first batch excluded); peak MB: "
                     f"{', '.join(memory)}.")
    lines.append("")
    for plot in plots:
        lines.append(f"![{plot.stem}]({plot.name})")
    (folder / REPORT_MD).write_text("\n".join(lines) + "\n")
    (folder / REPORT_JSON).write_text(json.dumps(rows, indent=2) + "\n")
    logger.info("wrote %s", folder / REPORT_MD)
    return {"out": folder, "markdown": folder / REPORT_MD, "json": folder / REPORT_JSON, "plots": plots,
            "rows": rows}
