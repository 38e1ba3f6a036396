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


def run(args: argparse.Namespace) -> None:
    device = torch.device(args.device)
    torch.set_num_threads(args.threads) if device.type == "cpu" else None
    dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    impls = ["torch"] + (["cupy"] if device.type == "cuda" else [])
    print(f"# correlation benchmark on {device} ({environment(device)}), C={CHANNELS}, d=3")
    print(f"{'input':>8} {'level':>8} {'batch':>5} {'dtype':>5} {'impl':>6} {'forward':>12} {'fwd+bwd':>12}")
    for input_size in args.inputs:
        height, width = (int(v) for v in input_size.split("x"))
        for level in pyramid(height, width):
            for batch in args.batches:
                for dtype_name in args.dtypes:
                    dtype = dtypes[dtype_name]
                    if device.type == "cpu" and dtype == torch.float16 and not args.cpu_fp16:
                        continue
                    results = {}
                    for impl in impls:
                        g = torch.Generator(device="cpu").manual_seed(0)
                        shape = (batch, CHANNELS, *level)
                        first = torch.randn(shape, generator=g).to(device, dtype).requires_grad_(True)
                        second = torch.randn(shape, generator=g).to(device, dtype).requires_grad_(True)

                        def forward(first=first, second=second, impl=impl):
                            with torch.no_grad():
                                return correlation(first, second, impl=impl)

                        def forward_backward(first=first, second=second, impl=impl):
                            out = correlation(first, second, impl=impl)
                            out.backward(torch.ones_like(out))

                        try:
                            fwd = time_it(forward, device, warmup=1, repeat=args.repeat)
                            bwd = time_it(forward_backward, device, warmup=1, repeat=args.repeat)
                        except (RuntimeError, torch.OutOfMemoryError) as exc:
                            print(f"{input_size:>8} {level[0]}x{level[1]:<5} {batch:>5} {dtype_name:>5} {impl:>6} "
                                  f"failed: {exc}")
                            continue
                        results[impl] = (fwd["median"], bwd["median"])
                        print(f"{input_size:>8} {f'{level[0]}x{level[1]}':>8} {batch:>5} {dtype_name:>5} {impl:>6} "
                              f"{fmt_ms(fwd['median']):>12} {fmt_ms(bwd['median']):>12}")
                    if "torch" in results and "cupy" in results:
                        (tf, tb), (cf, cb) = results["torch"], results["cupy"]
                        print(f"{'':>8} {'':>8} {'':>5} {'':>5} {'x':>6} {tf / cf:11.1f}x {tb / cb:11.1f}x  "
                              f"(cupy speed-up)")


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
