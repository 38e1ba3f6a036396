"""Command line: ``python -m vton_zoo tryon ...`` and ``python -m vton_zoo list``.

Examples::

    python -m vton_zoo list
    python -m vton_zoo tryon --model tps-baseline --person me.jpg --garment shirt.jpg -o out.png
    python -m vton_zoo tryon --model dm-vton --person me.jpg --garment shirt.jpg -o out.png --intermediates steps/

Exit status: 0 on success; 2 for bad input (a photo that cannot be used, an unknown model, bad options), with the
reason on stderr; 1 when a method's weights are not installed (the message says how to get them) or on any other
failure.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vton_zoo", description="Image-based virtual try-on model zoo.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    commands = parser.add_subparsers(dest="command", required=True)

    tryon = commands.add_parser("tryon", help="put a garment on a person photo")
    tryon.add_argument("--model", required=True, help="model name (see `python -m vton_zoo list`)")
    tryon.add_argument("--person", required=True, help="person photo (JPEG, PNG, WebP, ...)")
    tryon.add_argument("--garment", required=True, help="garment product shot on a plain light background")
    tryon.add_argument("-o", "--output", required=True, help="where to write the result image (.png, .jpg, ...)")
    tryon.add_argument("--weights", default=None,
                       help="weights folder, 'hub:OWNER/REPO[@REV]', or 'random' (default: the installed weights)")
    tryon.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available)")
    tryon.add_argument("--dtype", default=None, help="float32 (default), float16 (GPU) or bfloat16")
    tryon.add_argument("--model-size", action="store_true",
                       help="write the model-resolution image instead of the full-size photo")
    tryon.add_argument("--intermediates", metavar="DIR", default=None,
                       help="also write the intermediate images (garment mask, pose, flow, ...) and timings here")
    tryon.add_argument("--category", default="auto", choices=("auto", "upper", "lower", "dress"),
                       help="the garment's category: upper-body, lower-body (trousers, skirts, shorts) or dress; "
                            "auto (default) detects it from the garment photo")

    commands.add_parser("list", help="list the models and whether their weights are installed")
    from .weights_cli import add_parser as add_weights_parser

    add_weights_parser(commands)  # python -m vton_zoo weights list|download|install|verify|publish
    return parser


def _list(out) -> int:
    from . import get_spec, list_models
    from .weights import status

    rows = [("model", "resolution", "weights", "licence", "title")]
    for name in list_models():
        spec = get_spec(name)
        height, width = spec.resolution
        licence = spec.license if len(spec.license) <= 40 else spec.license[:37] + "..."
        rows.append((name, f"{height}x{width}", status(name), licence, spec.title))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1] + "\n")
    return EXIT_OK


def _tryon(args: argparse.Namespace, out) -> int:
    from .pipeline import TryOnPipeline

    output = Path(args.output)
    if output.suffix.lower() not in {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}:
        raise ValueError(f"output {str(output)!r} must end in an image extension such as .png or .jpg")
    pipe = TryOnPipeline(args.model, device=args.device, weights=args.weights, dtype=args.dtype)
    result = pipe(args.person, args.garment, category=args.category, full_size=not args.model_size,
                  intermediates=args.intermediates is not None)
    output.parent.mkdir(parents=True, exist_ok=True)
    result.image.save(output)
    if args.intermediates is not None:
        folder = Path(args.intermediates)
        folder.mkdir(parents=True, exist_ok=True)
        for name, image in result.intermediates.items():
            image.save(folder / f"{name}.png")
        result.model_image.save(folder / "model_image.png")
        (folder / "timings.json").write_text(json.dumps(result.timings, indent=2) + "\n")
    for note in result.warnings:
        sys.stderr.write(f"warning: {note}\n")
    timing = ", ".join(f"{stage} {seconds:.2f}s" for stage, seconds in result.timings.items())
    out.write(f"wrote {output} ({result.image.width}x{result.image.height}) with {result.model} on {result.device}, "
              f"category {result.category}: {timing}\n")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from .weights import WeightsNotInstalledError

    try:
        if args.command == "list":
            return _list(sys.stdout)
        if args.command == "weights":
            from .weights_cli import main as weights_main

            return weights_main(args)
        return _tryon(args, sys.stdout)
    except ValueError as err:
        sys.stderr.write(f"error: {err}\n")
        return EXIT_BAD_INPUT
    except WeightsNotInstalledError as err:
        sys.stderr.write(f"error: {err}\n")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
