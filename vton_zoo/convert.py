"""Convert the authors' released checkpoints into the zoo's format (``model.safetensors`` + ``config.json``).

Usage::

    python -m vton_zoo.convert pf-afn warp_model_final.pth gen_model_final.pth --out weights/pf-afn
    python -m vton_zoo.convert --list                # each model's official files, in the order to pass them

The files are read with ``torch.load(weights_only=True)`` and loaded strictly; the result loads with
``vton_zoo.create_model(NAME, weights=OUT)``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .checkpoints import create_model, load_official, save_safetensors
from .hub import sha256_file
from .registry import get_spec, list_models

logger = logging.getLogger(__name__)


def convert(name: str, files: list[str | Path], out: str | Path, **config) -> Path:
    """Load ``files`` (official order) into ``name`` and save the zoo format into ``out``."""
    files = [Path(f) for f in files]
    model = load_official(name, *files)
    if config:  # e.g. align_corners for RMGN: rebuild with the option and copy the weights over
        configured = create_model(name, **config)
        configured.load_state_dict(model.state_dict())
        model = configured
    source = {
        "converted_from": [{"file": f.name, "sha256": sha256_file(f)} for f in files],
        "official_parts": list(model.spec.official_parts),
        "license": model.spec.license,
        "code_url": model.spec.code_url,
    }
    return save_safetensors(model, out, extra={"source": source})


def _describe(name: str) -> str:
    spec = get_spec(name)
    lines = [f"{name}: {spec.title} ({spec.paper})"]
    for f in spec.weights.official_files:
        lines.append(f"  {f.part:>5}: {f.filename}  <- {f.source}" + (f"  [{f.note}]" if f.note else ""))
    for source in spec.weights.sources:
        state = "download" if source.live else "unavailable"
        lines.append(f"  {state}: {source.kind} {source.url}" + (f"  [{source.note}]" if source.note else ""))
    if spec.weights.notes:
        lines.append(f"  note: {spec.weights.notes}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vton_zoo.convert", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", help="model name (see --list)")
    parser.add_argument("files", nargs="*", help="official checkpoint files, in the official test script's order")
    parser.add_argument("--out", help="output folder for model.safetensors + config.json")
    parser.add_argument("--align-corners", choices=["true", "false"], default=None,
                        help="override the grid_sample convention (models that have the option, e.g. rmgn)")
    parser.add_argument("--list", action="store_true", help="list models and their official files")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.list or not args.name:
        print("\n\n".join(_describe(n) for n in list_models()))
        return 0
    if not args.files or not args.out:
        parser.error("give the official files and --out")
    config = {}
    if args.align_corners is not None:
        config["align_corners"] = args.align_corners == "true"
    try:
        out = convert(args.name, args.files, args.out, **config)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out / 'model.safetensors'} and {out / 'config.json'}; load with "
          f"vton_zoo.create_model({args.name!r}, weights={str(out)!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
