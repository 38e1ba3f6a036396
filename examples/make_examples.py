"""Draw the demo's example images into examples/images/ (persons and garment product shots; no photo is copied).

    python examples/make_examples.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing the package
from vton_zoo.demo.examples import make_examples  # noqa: E402

if __name__ == "__main__":
    for path in make_examples(Path(__file__).resolve().parent / "images"):
        print(path)
