"""Correlation op: PyTorch path vs CuPy kernels at the pyramid sizes of 256x192 and 512x384 inputs.

    python benchmarks/bench_correlation.py                       # CPU: torch path
    python benchmarks/bench_correlation.py --device cuda          # GPU: torch vs cupy, fp32 and fp16

Prints forward and forward+backward times per (input size, level, batch, dtype, impl), and the CuPy speed-up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import environment, fmt_ms, time_it  # noqa: E402
from vton_zoo.ops import correlation  # noqa: E402

CHANNELS = 256  # FPN width of every PF-AFN-family model


def pyramid(height: int, width: int) -> list[tuple[int, int]]:
    return [(height >> k, width >> k) for k in range(1, 6)]


DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def measure(device: torch.device, inputs: list[str], batches: list[int], dtypes: list[str], impls: list[str], *,
            repeat: int = 5, channels: int = CHANNELS, levels: int = 5):
    """Yield one dict per (input size, pyramid level, batch, dtype, impl): forward and forward+backward median
    seconds, or ``error`` when that configuration failed (out of memory, CuPy unavailable)."""
    for input_size in inputs:
        height, width = (int(v) for v in input_size.split("x"))
        for level in pyramid(height, width)[:levels]:
            for batch in batches:
                for dtype_name in dtypes:
                    for impl in impls:
                        row = {"input": input_size, "level": f"{level[0]}x{level[1]}", "batch": batch,
                               "dtype": dtype_name, "impl": impl}
                        try:
                            row.update(_time_one(device, (batch, channels, *level), DTYPES[dtype_name], impl, repeat))
                        except (RuntimeError, ValueError, torch.OutOfMemoryError) as exc:
                            row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                        yield row


def _time_one(device: torch.device, shape: tuple, dtype: torch.dtype, impl: str, repeat: int) -> dict:
    g = torch.Generator(device="cpu").manual_seed(0)
    first = torch.randn(shape, generator=g).to(device, dtype).requires_grad_(True)
    second = torch.randn(shape, generator=g).to(device, dtype).requires_grad_(True)

    def forward():
        with torch.no_grad():
            return correlation(first, second, impl=impl)

    def forward_backward():
        out = correlation(first, second, impl=impl)
        out.backward(torch.ones_like(out))

    fwd = time_it(forward, device, warmup=1, repeat=repeat)
    both = time_it(forward_backward, device, warmup=1, repeat=repeat)
    return {"forward_s": fwd["median"], "forward_backward_s": both["median"]}


def run(args: argparse.Namespace) -> None:
    device = torch.device(args.device)
    torch.set_num_threads(args.threads) if device.type == "cpu" else None
    impls = ["torch"] + (["cupy"] if device.type == "cuda" else [])
    dtypes = [d for d in args.dtypes if device.type != "cpu" or d != "fp16" or args.cpu_fp16]
    print(f"# correlation benchmark on {device} ({environment(device)}), C={CHANNELS}, d=3")
    print(f"{'input':>8} {'level':>8} {'batch':>5} {'dtype':>5} {'impl':>6} {'forward':>12} {'fwd+bwd':>12}")
    results = {}
    for row in measure(device, args.inputs, args.batches, dtypes, impls, repeat=args.repeat):
        head = f"{row['input']:>8} {row['level']:>8} {row['batch']:>5} {row['dtype']:>5} {row['impl']:>6}"
        if "error" in row:
            print(f"{head} failed: {row['error']}")
            continue
        print(f"{head} {fmt_ms(row['forward_s']):>12} {fmt_ms(row['forward_backward_s']):>12}", flush=True)
        key = (row["input"], row["level"], row["batch"], row["dtype"])
        results.setdefault(key, {})[row["impl"]] = (row["forward_s"], row["forward_backward_s"])
        if row["impl"] == impls[-1] and len(results[key]) == 2:
            (tf, tb), (cf, cb) = results[key]["torch"], results[key]["cupy"]
            print(f"{'':>8} {'':>8} {'':>5} {'':>5} {'x':>6} {tf / cf:11.1f}x {tb / cb:11.1f}x  (cupy speed-up)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--inputs", nargs="+", default=["256x192", "512x384"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 16])
    parser.add_argument("--dtypes", nargs="+", default=["fp32", "fp16"], choices=["fp32", "fp16", "bf16"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cpu-fp16", action="store_true", help="also time fp16 on CPU (slow there)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
