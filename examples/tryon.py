"""Try a garment on a person with one or several methods: python examples/tryon.py PERSON GARMENT --models ..."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing the package
import vton_zoo  # noqa: E402
from vton_zoo.weights import WeightsNotInstalledError  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("person")
parser.add_argument("garment")
parser.add_argument("--models", nargs="+", default=["tps-baseline"], choices=vton_zoo.list_models())
parser.add_argument("--out", type=Path, default=Path("outputs"))
args = parser.parse_args()
args.out.mkdir(parents=True, exist_ok=True)
for name in args.models:
    try:
        result = vton_zoo.TryOnPipeline(name)(args.person, args.garment)
    except WeightsNotInstalledError as exc:  # its message says how to install the weights
        print(f"{name}: {exc}")
        continue
    result.image.save(args.out / f"{name}.png")
    print(f"{name}: {args.out / f'{name}.png'}, {result.timings['total']:.2f} s on {result.device}")
