"""Evaluation of the zoo's methods on the public try-on test sets: FID, KID, SSIM, LPIPS, runtime and memory.

Every method is run by the same code on the same pairs, so the numbers are comparable across the zoo (and, for FID,
with the papers that use pytorch-fid). Command line::

    python -m vton_zoo.eval --model tps-baseline --dataset DATA/viton-hd --layout viton-hd --pairs unpaired \
        --out runs/tps-unpaired
    python -m vton_zoo.eval report runs/* --out reports/

Modules: :mod:`.run` (one run: outputs, ``metrics.json``), :mod:`.fid` (FID, KID), :mod:`.inception` (pytorch-fid's
Inception and its weights), :mod:`.ssim`, :mod:`.lpips`, :mod:`.report` (table and plots). Importing this package
loads none of the metric networks.
"""

from .fid import fid_kid, frechet_distance, kernel_inception_distance
from .inception import MetricWeightsError, load_inception
from .report import build_report, find_report
from .run import EvalConfig, evaluate
from .ssim import ssim

__all__ = [
    "EvalConfig",
    "MetricWeightsError",
    "build_report",
    "evaluate",
    "fid_kid",
    "find_report",
    "frechet_distance",
    "kernel_inception_distance",
    "load_inception",
    "ssim",
]
