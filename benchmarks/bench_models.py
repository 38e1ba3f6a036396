"""Per-model speed and memory: batch-1 latency, batch-N throughput and peak memory, eager fp32 vs optimised.

    python benchmarks/bench_models.py                                 # CPU, every model, eager vs the CPU preset
    python benchmarks/bench_models.py --models dm-vton pf-afn --device cuda --preset gpu

Each configuration runs in a fresh subprocess so its peak memory (RSS on CPU, max allocated on GPU) is its own.
"Optimised" must not change what the model computes: in fp32 the max |difference| to eager is printed beside it.
Rows: eager-loop = eager fp32 with the plain correlation loop (what the official network definitions do with an
exact PyTorch correlation); eager = our eager fp32 (GEMM correlation); then the presets.
Presets: cpu = channels_last + torch.compile (fp32); cpu-bf16 = channels_last + bf16 autocast (no compile);
cpu-bf16-compile = both; cpu-bf16-gen[-compile] = bf16 for the generator only, the warp
(flow estimator) in fp32; gpu = fp16 autocast + channels_last + CUDA graphs. Individual flags override the preset.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PRESETS = {
    "eager-loop": {"env": {"VTON_ZOO_CORRELATION": "loop"}},  # the official definitions' plain correlation loop
    "eager": {},
    "cpu": {"channels_last": True, "compile": True},
    "cpu-bf16": {"channels_last": True, "dtype": "bf16"},
    "cpu-bf16-compile": {"channels_last": True, "dtype": "bf16", "compile": True},
    "cpu-bf16-gen": {"channels_last": True, "dtype": "bf16", "low_precision": "generator"},  # warp in fp32
    "cpu-bf16-gen-compile": {"channels_last": True, "dtype": "bf16", "low_precision": "generator", "compile": True},
    "gpu": {"channels_last": True, "dtype": "fp16", "cuda_graphs": True},
    "gpu-compile": {"channels_last": True, "dtype": "fp16", "compile": True, "compile_mode": "max-autotune"},
}


def measure(args: argparse.Namespace) -> dict:
    """Runs inside the subprocess: one model, one configuration."""
    import torch

    from benchmarks._common import peak_rss_mib, sync, time_it
    from vton_zoo import create_model, get_spec
    from vton_zoo.accel import InferenceRunner
    from vton_zoo.types import random_inputs

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    spec = get_spec(args.model)
    size = tuple(int(v) for v in args.size.split("x")) if args.size else spec.resolution
    torch.manual_seed(0)
    fixture = _fixture(args.model) if args.weights == "fixture" else None
    if fixture is not None:  # the parity fixtures' deterministic official-format weights: realistic activations
        from tests._parity import recipe_state_dicts
        from vton_zoo import load_official

        model = load_official(args.model, *recipe_state_dicts(fixture).values()).to(device)
    else:
        model = create_model(args.model, device=device)
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, None: None}[args.dtype]
    parts = None
    if args.low_precision == "generator":  # the last official part is the generator (warp+gen, gmm+tom)
        parts = spec.official_parts[-1:] if len(spec.official_parts) > 1 else None  # one part (daflow): all of it
    elif args.low_precision:
        parts = tuple(args.low_precision.split(","))
    runner = InferenceRunner(model, channels_last=args.channels_last, compile=args.compile, autocast_dtype=dtype,
                             cuda_graphs=args.cuda_graphs, compile_mode=args.compile_mode,
                             low_precision_parts=parts)
    result = {"model": args.model, "size": list(size), "device": str(device), "config": args.label}
    one = random_inputs(spec.inputs, 1, size, seed=0, device=device)
    if fixture is not None:
        real = {k: v.to(device) for k, v in fixture.canonical_inputs().items()}
        if all(tuple(v.shape[-2:]) == tuple(size) for v in real.values() if v.dim() == 4):
            one = {k: v[:1] for k, v in real.items()}  # the fixture's real (VITON-HD derived) inputs
            result["inputs"] = "fixture"
    result["weights"] = "fixture" if fixture is not None else "random"
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    import time

    start = time.perf_counter()
    runner(one)
    sync(device)
    result["first_call_s"] = time.perf_counter() - start
    t1 = time_it(lambda: runner(one), device, warmup=1, repeat=args.repeat, min_time=args.min_time)
    result["latency_ms"] = t1["median"] * 1e3
    if args.check_eager:
        with torch.inference_mode():
            reference = create_model(args.model, device=device)
            reference.load_state_dict(model.state_dict())
            eager = reference(one)
            fast = runner(one)
        result["max_abs_vs_eager"] = max(float((fast[k].float() - eager[k].float()).abs().max()) for k in eager)
        final = "tryon" if "tryon" in eager else next(iter(eager))
        result["rel_l2_final_vs_eager"] = float((fast[final].float() - eager[final].float()).norm()
                                                / eager[final].float().norm().clamp_min(1e-12))
        result["rel_l2_vs_eager"] = max(float((fast[k].float() - eager[k].float()).norm()
                                              / eager[k].float().norm().clamp_min(1e-12)) for k in eager)
    if args.batch > 1:
        many = random_inputs(spec.inputs, args.batch, size, seed=1, device=device)
        try:
            tn = time_it(lambda: runner(many), device, warmup=1, repeat=max(2, args.repeat // 2))
            result["throughput_img_s"] = args.batch / tn["median"]
        except (RuntimeError, torch.OutOfMemoryError) as exc:
            result["throughput_error"] = str(exc)[:200]
    if device.type == "cuda":
        result["peak_mem_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        result["peak_mem_mib"] = peak_rss_mib()
    return result


def _fixture(model: str):
    """The parity fixture of ``model`` when ../shared (or VTON_PARITY_FIXTURES) is present, else None."""
    try:
        from tests._parity import fixture_dirs, load_fixture
    except ImportError:
        return None
    for path in fixture_dirs():
        fixture = load_fixture(path)
        if fixture.model == model:
            return fixture
    return None


def child_args(ns: argparse.Namespace, model: str, label: str, config: dict) -> list[str]:
    argv = [sys.executable, __file__, "--child", "--model", model, "--device", ns.device,
            "--weights", ns.weights, "--threads", str(ns.threads), "--batch", str(ns.batch),
            "--repeat", str(ns.repeat), "--min-time", str(ns.min_time), "--label", label]
    if ns.size:
        argv += ["--size", ns.size]
    for flag in ("channels_last", "compile", "cuda_graphs"):
        if config.get(flag):
            argv.append("--" + flag.replace("_", "-"))
    if config.get("dtype"):
        argv += ["--dtype", config["dtype"]]
    if config.get("low_precision"):
        argv += ["--low-precision", config["low_precision"]]
    if config.get("compile_mode"):
        argv += ["--compile-mode", config["compile_mode"]]
    if not label.startswith("eager"):
        argv.append("--check-eager")
    return argv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--preset", nargs="+", default=None, choices=list(PRESETS),
                        help="configurations to compare with eager (default: cpu on CPU, gpu on CUDA)")
    parser.add_argument("--no-loop", action="store_true", help="skip the eager-loop reference row")
    parser.add_argument("--size", default=None, help="HxW (default: the model's resolution)")
    parser.add_argument("--batch", type=int, default=16, help="batch for the throughput figure (1 to skip)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.0)
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--weights", choices=["fixture", "random"], default="fixture",
                        help="fixture: the parity fixtures' official-format weights and real inputs when ../shared is "
                             "present (meaningful differences for bf16/fp16); random: fresh initialisation")
    # child-only options
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--label", default="eager", help=argparse.SUPPRESS)
    parser.add_argument("--channels-last", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--compile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cuda-graphs", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--compile-mode", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default=None, choices=["fp16", "bf16"], help=argparse.SUPPRESS)
    parser.add_argument("--check-eager", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--low-precision", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(measure(args)))
        return

    from vton_zoo import list_models

    models = args.models or list_models()
    presets = args.preset or (["gpu"] if args.device.startswith("cuda") else ["cpu"])
    rows = []
    print(f"{'model':<10} {'config':<12} {'size':>8} {'latency b1':>12} {'first call':>11} "
          f"{f'img/s b{args.batch}':>10} {'peak MiB':>9} {'speed-up':>9} {'max|Δ| vs eager':>16} {'relL2 out':>9}")
    for model in models:
        baseline = None
        for label in (["eager"] if args.no_loop else ["eager-loop", "eager"]) + list(presets):
            env = {**os.environ, **PRESETS[label].get("env", {})}
            proc = subprocess.run(child_args(args, model, label, PRESETS[label]), capture_output=True, text=True,
                                  cwd=ROOT, env=env)
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if line is None:
                print(f"{model:<10} {label:<12} failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(line[len("RESULT "):])
            rows.append(r)
            baseline = r["latency_ms"] if label == "eager" else baseline  # speed-up is against our plain eager
            speedup = f"{baseline / r['latency_ms']:.2f}x" if baseline else "-"
            diff = f"{r['max_abs_vs_eager']:.1e}" if "max_abs_vs_eager" in r else "-"
            rel = f"{r['rel_l2_final_vs_eager']:.1e}" if "rel_l2_final_vs_eager" in r else "-"
            tput = f"{r['throughput_img_s']:.1f}" if "throughput_img_s" in r else "-"
            print(f"{model:<10} {label:<12} {'x'.join(map(str, r['size'])):>8} {r['latency_ms']:>9.1f} ms "
                  f"{r['first_call_s']:>9.1f} s {tput:>10} {r['peak_mem_mib']:>9.0f} {speedup:>9} {diff:>16} {rel:>9}",
                  flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
