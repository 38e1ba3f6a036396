"""tps-baseline: per-stage CPU time of one person/garment pair, preprocessing included, at the three sizes.

    python benchmarks/bench_tps_baseline.py                 # VITON-HD sample pair from ../shared/samples
    python benchmarks/bench_tps_baseline.py --repeat 9 --threads 1
    python benchmarks/bench_tps_baseline.py --person P.jpg --garment G.jpg

Each stage runs on the photos resized to the model size (what the pipeline does after framing): MediaPipe pose,
person segmentation, coarse parse, garment mask, input tensors, and the model itself. Prints the median CPU time
(``time.process_time``, all threads of the process) and the median wall time of ``--repeat`` runs after one warm-up.
The budget of issue 4 is <= 0.5 s CPU per pair at 512x384, preprocessing included.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import environment  # noqa: E402
from vton_zoo import create_model  # noqa: E402
from vton_zoo.preprocess import garment as garment_mod  # noqa: E402
from vton_zoo.preprocess import parse as parse_mod  # noqa: E402
from vton_zoo.preprocess import pose as pose_mod  # noqa: E402
from vton_zoo.preprocess import segmentation  # noqa: E402
from vton_zoo.preprocess.model_inputs import build_model_inputs  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "viton_hd" / "test"
SIZES = ((256, 192), (512, 384), (1024, 768))


def run_once(model, person: np.ndarray, garment: np.ndarray, size: tuple[int, int]) -> dict[str, tuple[float, float]]:
    """One pair through every stage: {stage: (cpu seconds, wall seconds)}."""
    times: dict[str, tuple[float, float]] = {}
    state: dict[str, object] = {}

    def stage(name, fn):
        cpu, wall = time.process_time(), time.perf_counter()
        state[name] = fn()
        times[name] = (time.process_time() - cpu, time.perf_counter() - wall)

    person = np.asarray(Image.fromarray(person).resize((size[1], size[0]), Image.BICUBIC))
    garment = np.asarray(Image.fromarray(garment).resize((size[1], size[0]), Image.BICUBIC))
    stage("pose", lambda: pose_mod.estimate_pose(person))
    stage("segmentation", lambda: segmentation.segment_person(person, pose=state["pose"]))
    stage("parse", lambda: parse_mod.coarse_parse(person, state["pose"], state["segmentation"]))
    stage("garment mask", lambda: garment_mod.garment_mask(garment))
    stage("inputs", lambda: build_model_inputs(model, person=person, garment=garment,
                                               garment_mask=state["garment mask"],
                                               keypoints=state["pose"].coco18, parse=state["parse"], size=size))
    with torch.no_grad():
        stage("model", lambda: model(state["inputs"]))
    times["total"] = tuple(sum(t[i] for t in times.values()) for i in range(2))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--person", type=Path, default=SAMPLES / "image" / "00000_00.jpg")
    parser.add_argument("--garment", type=Path, default=SAMPLES / "cloth" / "00205_00.jpg")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    person = np.asarray(Image.open(args.person).convert("RGB"))
    garment = np.asarray(Image.open(args.garment).convert("RGB"))
    model = create_model("tps-baseline")
    print(f"tps-baseline, {args.person.name} + {args.garment.name}, median of {args.repeat} "
          f"({environment(torch.device('cpu'))})")
    for size in SIZES:
        run_once(model, person, garment, size)  # warm-up (MediaPipe graph start, allocations)
        runs = [run_once(model, person, garment, size) for _ in range(args.repeat)]
        print(f"\n{size[0]}x{size[1]}            cpu ms    wall ms")
        for name in runs[0]:
            cpu = statistics.median(r[name][0] for r in runs)
            wall = statistics.median(r[name][1] for r in runs)
            print(f"  {name:<14} {cpu * 1e3:9.1f}  {wall * 1e3:9.1f}")


if __name__ == "__main__":
    main()
