"""Command line: ``python -m vton_zoo.eval [run] --model ...``, ``python -m vton_zoo.eval report RUNS...`` and
``python -m vton_zoo.eval photos --model ... --persons DIR --garments DIR --out DIR`` (real photos, no ground truth:
contact sheets and automatic checks, see :mod:`vton_zoo.eval.photos`).

Examples::

    python -m vton_zoo.eval --model tps-baseline --dataset DATA/viton-hd --layout viton-hd --pairs paired \
        --out runs/tps-paired --resolution 512x384 --batch-size 8
    python -m vton_zoo.eval report runs/tps-paired runs/tps-unpaired          # -> $VTON_ZOO_HOME/reports/
    python -m vton_zoo.eval photos --model tps-baseline --persons my/people --garments my/garments --out runs/photos

Exit status: 0 on success; 2 for bad input (missing dataset folder, pairs naming missing images, bad options); 1 when
model or metric weights are missing (the message says which file and where to put it) or on another failure.
"""

from __future__ import annotations

import argparse
import logging
import sys

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


def _size(text: str) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in text.lower().replace(",", "x").split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW such as 256x192, got {text!r}") from None
    return height, width


def _run_parser() -> argparse.ArgumentParser:
    from .run import LAYOUTS, PAIRS

    parser = argparse.ArgumentParser(prog="python -m vton_zoo.eval",
                                     description="Evaluate a zoo model on a try-on test set (FID, KID, SSIM, LPIPS, "
                                                 "speed). `python -m vton_zoo.eval report --help` for reports.")
    parser.add_argument("--model", required=True, help="model name (python -m vton_zoo list)")
    parser.add_argument("--weights", default=None,
                        help="weights folder, 'hub:OWNER/REPO[@REV]' or 'random' (default: the installed weights)")
    parser.add_argument("--dataset", required=True, help="dataset root folder")
    parser.add_argument("--layout", required=True, choices=LAYOUTS, help="the dataset's folder layout")
    parser.add_argument("--pairs", default="unpaired", choices=PAIRS,
                        help="unpaired: the published test pairs; paired: each person with their own garment "
                             "(SSIM and LPIPS need paired)")
    parser.add_argument("--out", required=True, help="run folder (outputs/, real/, metrics.json); rerun to resume")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available)")
    parser.add_argument("--dtype", default=None, help="float32 (default), float16 (GPU) or bfloat16")
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N pairs")
    parser.add_argument("--resolution", type=_size, default=None, help="HxW (default: the model's native size)")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers preparing the inputs")
    parser.add_argument("--fid-dims", type=int, default=2048, choices=(64, 192, 768, 2048),
                        help="Inception feature size (2048 is the standard FID)")
    parser.add_argument("--inception-weights", default=None,
                        help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth (default: torch's hub cache, "
                             "downloaded when missing)")
    parser.add_argument("--skip-fid", action="store_true", help="do not compute FID / KID")
    parser.add_argument("--lpips-net", default="alex", choices=("alex", "vgg"))
    parser.add_argument("--lpips-weights", default=None,
                        help="LPIPS v0.1 linear layers (the lpips package's weights/v0.1/alex.pth)")
    parser.add_argument("--lpips-backbone", default=None,
                        help="torchvision's alexnet-owt-7be5be79.pth / vgg16-397923af.pth (default: torch's hub "
                             "cache)")
    parser.add_argument("--skip-lpips", action="store_true", help="do not compute LPIPS")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    return parser


def _report_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vton_zoo.eval report",
                                     description="One markdown table and plots over evaluation runs.")
    parser.add_argument("runs", nargs="+", help="run folders (or their metrics.json)")
    parser.add_argument("--out", default=None,
                        help="report folder (default: $VTON_ZOO_HOME/reports, which the app's About tab shows)")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    return parser


def _photos_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vton_zoo.eval photos",
                                     description="Run a method over real person and garment photos (no ground "
                                                 "truth): contact sheets, per-pair results, automatic checks and "
                                                 "timings in OUT (report.md, report.json, sheets/, results/).")
    parser.add_argument("--model", required=True, help="model name (python -m vton_zoo list)")
    parser.add_argument("--persons", required=True, help="folder of person photos")
    parser.add_argument("--garments", required=True, help="folder of garment product shots")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--pairs", default="3",
                        help="'all' (every person with every garment), N (each person with N garments in turn; "
                             "default 3) or a file of 'person garment [category]' lines")
    parser.add_argument("--category", default=None, choices=("auto", "upper", "lower", "dress"),
                        help="garment category for every pair (default: detected per garment)")
    parser.add_argument("--resolution", type=_size, default=None, help="HxW (default: the model's native size)")
    parser.add_argument("--weights", default=None, help="weights folder, 'hub:OWNER/REPO[@REV]' or 'random'")
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    report = bool(argv) and argv[0] == "report"
    photos = bool(argv) and argv[0] == "photos"
    if argv and argv[0] in ("report", "run", "photos"):
        argv = argv[1:]
    args = (_report_parser() if report else _photos_parser() if photos else _run_parser()).parse_args(argv)
    logging.basicConfig(level=logging.WARNING - 10 * min(args.verbose + 1, 2),
                        format="%(levelname)s %(name)s: %(message)s")
    from ..weights import WeightsNotInstalledError
    from .inception import MetricWeightsError

    try:
        if report:
            from .report import build_report

            result = build_report(args.runs, args.out)
            sys.stdout.write(f"{result['markdown']}\n")
        elif photos:
            from pathlib import Path

            from .photos import run_photos

            run_photos(args.model, args.persons, args.garments, args.out, pairs=args.pairs,
                       resolution=args.resolution, category=args.category, device=args.device, weights=args.weights)
            sys.stdout.write((Path(args.out) / "report.md").read_text())
        else:
            from .report import markdown_row
            from .run import EvalConfig, evaluate

            options = {key: value for key, value in vars(args).items() if key != "verbose"}
            metrics = evaluate(EvalConfig(**options))
            sys.stdout.write(markdown_row(metrics, header=True))
    except (WeightsNotInstalledError, MetricWeightsError) as error:
        sys.stderr.write(f"error: {error}\n")
        return EXIT_FAILURE
    except ValueError as error:
        sys.stderr.write(f"error: {error}\n")
        return EXIT_BAD_INPUT
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
