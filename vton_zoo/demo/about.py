"""The About tab's text: the methods with their papers and licences, and the evaluation reports when present."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .. import weights as zoo_weights
from ..registry import get_spec
from .core import method_order

logger = logging.getLogger(__name__)

REPO_REPORTS = Path(__file__).resolve().parents[2] / "reports"
MAX_REPORT_CHARS = 20_000


def report_dirs() -> list[Path]:
    """Where evaluation reports (Markdown) are looked for: ``$VTON_ZOO_HOME/reports``, then the repo's ``reports/``."""
    return [zoo_weights.home() / "reports", REPO_REPORTS]


def report_files() -> list[Path]:
    """The Markdown reports found, newest first."""
    found = [p for d in report_dirs() if d.is_dir() for p in d.glob("*.md") if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def metrics_markdown() -> str:
    """The evaluation reports' content (tables included), or a line saying how to produce them."""
    files = report_files()
    if not files:
        places = " or ".join(f"`{d}`" for d in report_dirs())
        return (f"No evaluation report yet. Reports written by the evaluation scripts as Markdown into {places} "
                "appear here with their metric tables.")
    parts = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")[:MAX_REPORT_CHARS]
        except OSError as exc:
            logger.warning("cannot read report %s: %s", path, exc)
            continue
        parts.append(f"#### {path.stem}\n\n_{path}_\n\n{text.strip()}")
    return "\n\n".join(parts)


def report_plots() -> list[str]:
    """The plots of the evaluation report that ``python -m vton_zoo.eval report`` wrote (quality vs latency,
    per-image histograms), as file paths; empty when there is none."""
    from ..eval.report import find_report

    try:
        report = find_report()
    except (OSError, ValueError) as exc:  # a half-written or corrupt report must not break the page
        logger.warning("cannot read the evaluation report: %s", exc)
        return []
    return [str(path) for path in report["plots"]] if report else []


def methods_markdown() -> str:
    """One table row per method: paper, code, licence, native resolution."""
    lines = ["| method | paper | official code | licence | resolution (H x W) |", "|---|---|---|---|---|"]
    for name in method_order():
        spec = get_spec(name)
        paper = f"[{spec.paper}]({spec.paper_url})" if spec.paper_url else spec.paper
        code = f"[code]({spec.code_url})" if spec.code_url else "this project"
        sizes = ", ".join(f"{h}x{w}" for h, w in spec.supported_resolutions())
        lines.append(f"| **{spec.title}** (`{name}`) | {paper} | {code} | {spec.license} | {sizes} |")
    return "\n".join(lines)


def about_markdown(examples_credit: str = "") -> str:
    """The whole About tab (``examples_credit``: where the example photos on the page come from)."""
    home = os.environ.get("VTON_ZOO_HOME") or str(zoo_weights.home())
    return "\n\n".join([
        "### vton-zoo",
        "Published flow-based virtual try-on networks re-implemented behind one interface, with the authors' "
        "checkpoints loading unchanged, plus `tps-baseline`, a weight-free thin-plate-spline baseline that runs "
        "everywhere. Each method keeps its authors' licence: most official weights are for non-commercial research "
        "only. " + (examples_credit or "The example images are drawn by this project."),
        "### Methods",
        methods_markdown(),
        "### Metrics (evaluation reports)",
        metrics_markdown(),
        f"Weights and reports live under `{home}` (`VTON_ZOO_HOME`).",
    ])
