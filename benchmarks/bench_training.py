"""Training speed: optimizer steps per second of every stage of every method (figures, never pass/fail).

    python benchmarks/bench_training.py                           # CPU, 256x192, batch 1, every stage
    python benchmarks/bench_training.py --device cuda             # native sizes, batch 1 and the recipe batch
    python benchmarks/bench_training.py --methods cp-vton rmgn --size 512 384 --batches 1 4 --amp

Each stage is built as ``python -m training`` builds it (recipe defaults, the stage's dataset on a synthetic folder
in the stage's first layout, a random VGG19 for the perceptual losses, a random frozen teacher for the students)
and timed on the trainer's update: forward (under autocast with ``--amp``), backward, optimizer step, and the
discriminator's step for GAN stages. Sizes: ``--size`` when given; otherwise 256x192 on CPU, and on CUDA the zoo
model's resolution (512x384 for GP-VTON and RMGN). ``recipe`` in ``--batches`` is the stage's official per-GPU
batch; a batch that runs out of memory is reported as OOM.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import environment, sync  # noqa: E402
from training import engine  # noqa: E402
from training.losses import VGG19Features  # noqa: E402
from training.networks import ParserBasedTeacher  # noqa: E402
from training.stages import STAGES  # noqa: E402
from vton_zoo import get_spec  # noqa: E402
from vton_zoo.data import make_synthetic  # noqa: E402


def build(cls, size: tuple[int, int], batch_size: int, work: Path, vgg: Path, teacher: Path, device: torch.device):
    """(stage, optimizer, discriminator optimizer or None, one batch on ``device``) as the trainer builds them."""
    layout = cls.layouts[0]
    data = work / f"{layout}-{size[0]}x{size[1]}-{batch_size}"
    if not data.is_dir():
        make_synthetic(layout, data, n=max(2, batch_size), size=size, seed=0)  # n >= 2: unpaired garments
    argv = [cls.method, "--stage", cls.name, "--data", str(data), "--out", str(work / "out"), "--size",
            str(size[0]), str(size[1]), "--batch-size", str(batch_size), "--vgg-weights", str(vgg)]
    if cls.teacher_from:
        argv += ["--teacher", str(teacher)]
    args = engine.resolve_args(engine.build_parser().parse_args(argv), cls)
    dataset = engine._dataset(args, cls, "train", engine._zoo_or_default(cls, layout))
    batch = next(iter(DataLoader(dataset, batch_size=batch_size, shuffle=False)))
    batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
    stage = cls(args).to(device).train()
    if stage.discriminator is not None:
        stage.discriminator.to(device)
    optimizer, d_optimizer = engine.build_optimizers(stage, args.lr)
    return stage, optimizer, d_optimizer, batch


def train_step(stage, optimizer, d_optimizer, batch, device: torch.device, amp: bool) -> None:
    """The trainer's update (``training.engine.train_stage``), without logging and checkpoints."""
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    with torch.autocast(device.type, dtype=dtype, enabled=amp):
        loss, _, _ = stage(batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    stage.before_optimizer_step()
    optimizer.step()
    if d_optimizer is not None:
        d_optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=dtype, enabled=amp):
            d_loss = stage.discriminator_loss()
        d_loss.backward()
        d_optimizer.step()


def measure(cls, size, batch_size, work, vgg, teacher, device, amp: bool, steps: int) -> str:
    """Steps/s as text (or why there is no figure)."""
    try:
        stage, optimizer, d_optimizer, batch = build(cls, size, batch_size, work, vgg, teacher, device)
        train_step(stage, optimizer, d_optimizer, batch, device, amp)  # warm-up (allocations, cuDNN autotune)
        sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            train_step(stage, optimizer, d_optimizer, batch, device, amp)
        sync(device)
        rate = steps / (time.perf_counter() - start)
        del stage, optimizer, d_optimizer, batch
        return f"{rate:8.3f}"
    except torch.OutOfMemoryError:
        return "     OOM"
    finally:
        if device.type == "cuda":
            torch.cuda.empty_cache()


def default_size(cls, device: torch.device) -> tuple[int, int]:
    if device.type == "cpu":
        return (256, 192)
    return tuple(cls.recipe.size or get_spec(engine._zoo_or_default(cls, cls.layouts[0])).resolution)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--methods", nargs="*", default=list(STAGES), choices=list(STAGES))
    parser.add_argument("--size", type=int, nargs=2, default=None, metavar=("H", "W"))
    parser.add_argument("--batches", nargs="*", default=None,
                        help="batch sizes, integers or 'recipe' (default: 1 on CPU, 1 and recipe on CUDA)")
    parser.add_argument("--steps", type=int, default=2, help="timed steps after one warm-up step")
    parser.add_argument("--amp", action="store_true", help="bf16 autocast on CPU, fp16 on CUDA")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    batches = args.batches or (["1"] if device.type == "cpu" else ["1", "recipe"])
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory(prefix="bench-training-") as tmp:
        work = Path(tmp)
        vgg = work / "vgg19_random.pth"
        torch.save(VGG19Features().features.state_dict(), vgg)
        teacher = work / "teacher"
        ParserBasedTeacher().save(teacher)
        print(f"# training steps/s on {device} ({environment(device)}){', amp' if args.amp else ''}; "
              f"{args.steps} timed steps after 1 warm-up")
        header = f"| {'method':8s} | {'stage':13s} | {'size':8s} | " + " | ".join(
            f"{'batch ' + b:>12s}" for b in batches) + " |"
        print(header)
        print("|" + "|".join("-" * (len(cell) + 0) for cell in header.split("|")[1:-1]) + "|")
        for method in args.methods:
            for cls in STAGES[method]:
                size = tuple(args.size) if args.size else default_size(cls, device)
                cells = []
                for b in batches:
                    batch_size = cls.recipe.batch_size if b == "recipe" else int(b)
                    rate = measure(cls, size, batch_size, work, vgg, teacher, device, args.amp, args.steps)
                    cells.append(f"{rate.strip() + f' (b{batch_size})':>12s}" if b == "recipe" else f"{rate:>12s}")
                print(f"| {method:8s} | {cls.name:13s} | {size[0]}x{size[1]:<4d} | " + " | ".join(cells) + " |",
                      flush=True)


if __name__ == "__main__":
    main()
