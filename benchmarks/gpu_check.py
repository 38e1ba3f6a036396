"""The day a GPU is lent: every GPU check and figure of issue 14 in one run of under 8 minutes, one table at the end.

    python3 benchmarks/gpu_check.py --out DIR                      # on a GPU machine (about 7 minutes)
    python benchmarks/gpu_check.py --device cpu --quick --out DIR   # the CPU smoke run of every code path (~30 s)

Parts, each in its own process group under its own time limit (a failure or a timeout becomes a row of the table and
the script goes on; unused time passes to the parts after it):

- env: versions, the GPU, NVRTC's compile time, and the CuPy self-check of each dtype (its error, cost, decision).
- tests: ``pytest -m cuda`` on tests/test_correlation.py (CuPy vs PyTorch output and gradients, fp32 and fp16, every
  pyramid level, any layout, CUDA graphs) and tests/test_parity.py (GPU parity of the six models against the fixtures,
  TF32 off).
- correlation: forward and forward+backward, CuPy vs PyTorch, at the pyramid levels of 256x192 and 512x384, batch 1
  and 16, fp32 and fp16 (``bench_correlation.measure``); target: CuPy at least 3x faster forward+backward.
- model:NAME, one per network: batch-1 latency eager fp32, CUDA graphs fp32, and fp16 + channels_last + CUDA graphs;
  batch-16 throughput in fp32 and fp16; peak memory (``bench_models.measure``, random weights). Targets (H100):
  dm-vton at most 2 ms at batch 1 with CUDA graphs, at least 1500 images/s in fp16.
- pipeline: ``TryOnPipeline`` on the device for every method with random weights, twice (per-stage timings of the
  second call, the first call's total).

Writes DIR/gpu_check.md (the table and each part's details), DIR/gpu_check.json and DIR/gpu_check.log (all output).

Nothing comes from the network. Files: the repo and ``../shared`` (parity fixtures, a sample photo pair); where
``../shared`` is not beside the repo (a lent GPU machine gets the repo only), ``python benchmarks/gpu_carry.py``
prepares ``.gpu_carry/`` to send along: the fixtures, one photo pair and a trimmed MediaPipe wheel for the pipeline's
pose model (the machine has no MediaPipe). What is missing makes its rows "skip", with the reason.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CARRY = ROOT / ".gpu_carry"  # written by benchmarks/gpu_carry.py
NETWORKS = ("dm-vton", "pf-afn", "rmgn", "daflow", "gp-vton", "cp-vton")
#: Relative share of the time budget per part (a part's limit is its share of the time left).
WEIGHTS = {"env": 1.0, "tests": 3.0, "correlation": 1.5, "pipeline": 1.6,
           "model": 0.7, "model:rmgn": 1.0, "model:gp-vton": 1.3}  # 512x384 networks take longer
TARGETS = {"corr_speedup": 3.0, "dm-vton_b1_graphs_ms": 2.0, "dm-vton_b16_fp16_img_s": 1500.0}
OK, FAIL, SKIP, INFO, MISS = "ok", "FAIL", "skip", "info", "below target"


# ================================================================================================ child side

class Emitter:
    """Appends result rows to a JSON-lines file as they come (a part killed at its time limit keeps its rows)."""

    def __init__(self, path: str, part: str) -> None:
        self.path = path
        self.part = part

    def __call__(self, item: str, result: str, status: str = INFO, target: str = "", *, summary: bool = True,
                 **detail) -> None:
        row = {"part": self.part, "item": item, "result": result, "status": status, "target": target,
               "summary": summary, "detail": detail}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, default=str) + "\n")
        print(f"[{self.part}] {item}: {result} ({status})", flush=True)


def _error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _uses_cupy(out) -> bool:
    """Whether the CuPy autograd function produced ``out`` (directly, or under the cast back from bf16)."""
    functions = [out.grad_fn]
    for _ in range(3):
        if any(f is not None and "CorrelationFunction" in type(f).__name__ for f in functions):
            return True
        functions = [g for f in functions if f is not None for g, _ in f.next_functions]
    return False


def part_env(args: argparse.Namespace, emit: Emitter) -> None:
    import torch

    from vton_zoo.ops import _correlation_cupy as cc
    from vton_zoo.ops.correlation import CheckedKernel, correlation, correlation_shift_loop, correlation_torch

    device = torch.device(args.device)
    emit("python / torch", f"{sys.version.split()[0]} / torch {torch.__version__} (CUDA {torch.version.cuda})")
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        emit("device", f"{props.name}, {props.total_memory / 2**30:.0f} GiB, sm_{props.major}{props.minor}, "
                       f"{props.multi_processor_count} SMs; cuDNN {torch.backends.cudnn.version()}")
    else:
        emit("device", "cpu (smoke run: CUDA-only calls skipped, CUDA-graph flags ignored)", SKIP)
    try:
        import cupy

        emit("cupy", f"{cupy.__version__}; {cc.unavailable_reason(torch.float32) or 'usable'}")
    except ImportError as exc:
        emit("cupy", _error(exc), FAIL if device.type == "cuda" else SKIP)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        for dtype in (torch.float32, torch.float16):  # compiled first, so the self-checks below time the check only
            for max_displacement, stride in ((3, 1), (4, 2)):
                item = f"NVRTC compile {str(dtype)[6:]} d={max_displacement} s={stride}"
                start = time.perf_counter()
                try:
                    cc._kernels(index, dtype, max_displacement, stride)
                    emit(item, f"{(time.perf_counter() - start) * 1e3:.0f} ms", OK, summary=stride == 1)
                except Exception as exc:
                    emit(item, _error(exc), FAIL)
        # the production self-check, as impl="auto" runs it (fp16 and bf16 inputs too)
        gate = importlib.import_module("vton_zoo.ops.correlation")._CUPY
        for dtype in (torch.float32, torch.float16, torch.bfloat16):
            for max_displacement, stride in ((3, 1), (4, 2)):
                first = torch.randn(1, 8, 6, 5, device=device, dtype=dtype, requires_grad=True)
                out = correlation(first, torch.randn_like(first), max_displacement=max_displacement, stride=stride)
                picked = "CuPy" if _uses_cupy(out) else "PyTorch"
                emit(f"auto picks ({str(dtype)[6:]}, d={max_displacement} s={stride})", picked,
                     OK if picked == "CuPy" else FAIL, "CuPy", summary=False)
        for key, check in gate.results.items():
            emit(f"self-check {str(check.dtype)[6:]} d={check.max_displacement} s={check.stride}",
                 f"error {check.error:.1e}, {check.seconds * 1e3:.1f} ms -> "
                 f"{'CuPy' if check.passed else 'PyTorch (fallback)'}" + (f"; {check.detail}" if check.detail else ""),
                 OK if check.passed else FAIL, f"error <= {check.tolerance:.0e}, well under 1 s",
                 error=check.error, seconds=check.seconds, key=str(key))
    else:  # smoke: the same check code around a CPU stand-in (the shift loop), so its reporting path runs
        def stand_in(first, second, max_displacement, stride):
            return correlation_shift_loop(first, second, max_displacement=max_displacement, stride=stride)

        gate = CheckedKernel(stand_in, correlation_torch, unavailable=lambda dtype: "", device_types=("cpu",),
                             name="stand-in")
        for dtype in (torch.float32, torch.float16):
            check = gate.check(device, dtype, 3, 1)
            emit(f"self-check {str(dtype)[6:]} (CPU stand-in)", check.describe(), OK if check.passed else FAIL,
                 f"error <= {check.tolerance:.0e}", error=check.error, seconds=check.seconds)


def part_correlation(args: argparse.Namespace, emit: Emitter) -> None:
    import torch

    from benchmarks.bench_correlation import measure

    device = torch.device(args.device)
    quick = args.quick
    impls = ["torch", "cupy"] if device.type == "cuda" else ["torch"]
    inputs = ["64x64"] if quick else ["256x192", "512x384"]
    batches = [1, 2] if quick else [1, 16]
    dtypes = ["fp32"] if quick or device.type != "cuda" else ["fp32", "fp16"]
    totals: dict[tuple, dict[str, list[float]]] = {}
    for row in measure(device, inputs, batches, dtypes, impls, repeat=1 if quick else 5, levels=2 if quick else 5):
        key = (row["input"], row["batch"], row["dtype"])
        name = f"{row['input']} {row['level']} b{row['batch']} {row['dtype']} {row['impl']}"
        if "error" in row:
            emit(name, row["error"], FAIL, summary=True)
            continue
        emit(name, f"fwd {row['forward_s'] * 1e3:.3f} ms, fwd+bwd {row['forward_backward_s'] * 1e3:.3f} ms",
             summary=False, **row)
        sums = totals.setdefault(key, {}).setdefault(row["impl"], [0.0, 0.0])
        sums[0] += row["forward_s"]
        sums[1] += row["forward_backward_s"]
    speedups = []
    for (input_size, batch, dtype), impl_sums in totals.items():
        torch_f, torch_b = impl_sums.get("torch", (float("nan"),) * 2)
        if "cupy" in impl_sums:
            cupy_f, cupy_b = impl_sums["cupy"]
            speedup = torch_b / cupy_b
            speedups.append(speedup)
            emit(f"all levels {input_size} b{batch} {dtype}",
                 f"fwd+bwd torch {torch_b * 1e3:.2f} ms, cupy {cupy_b * 1e3:.2f} ms: {speedup:.1f}x "
                 f"(fwd {torch_f / cupy_f:.1f}x)", OK if speedup >= TARGETS["corr_speedup"] else MISS,
                 f"cupy >= {TARGETS['corr_speedup']:.0f}x fwd+bwd", speedup=speedup)
        else:
            emit(f"all levels {input_size} b{batch} {dtype}",
                 f"fwd+bwd torch {torch_b * 1e3:.2f} ms (fwd {torch_f * 1e3:.2f} ms); cupy: CUDA only", SKIP,
                 f"cupy >= {TARGETS['corr_speedup']:.0f}x fwd+bwd")
    if speedups:
        worst = min(speedups)
        emit("CuPy speed-up fwd+bwd, worst case", f"{worst:.1f}x (best {max(speedups):.1f}x)",
             OK if worst >= TARGETS["corr_speedup"] else MISS, f">= {TARGETS['corr_speedup']:.0f}x")


def part_model(args: argparse.Namespace, emit: Emitter) -> None:
    import gc

    import torch

    from benchmarks.bench_models import measure

    device = torch.device(args.device)
    name = args.model
    low = "fp16" if device.type == "cuda" else "bf16"  # CPU smoke: autocast in bf16 (fp16 autocast is for GPUs)
    configs = [("eager fp32", {}), ("CUDA graphs fp32", {"cuda_graphs": True}),
               (f"CUDA graphs {low} channels_last", {"cuda_graphs": True, "channels_last": True, "dtype": low})]
    figures = {}
    for label, config in configs:
        ns = argparse.Namespace(model=name, device=str(device), threads=args.threads, size=args.size,
                                weights="random", dtype=config.get("dtype"), low_precision=None,
                                channels_last=config.get("channels_last", False), compile=False,
                                cuda_graphs=config.get("cuda_graphs", False), compile_mode=None, label=label,
                                repeat=1 if args.quick else 20, min_time=0.0 if args.quick else 0.2,
                                batch=args.batch, check_eager=bool(config))
        try:
            r = measure(ns)
        except Exception as exc:
            emit(f"{name} {label}", _error(exc), FAIL)
            continue
        finally:
            gc.collect()
            if device.type == "cuda":
                torch.cuda.empty_cache()
        figures[label] = r
        tput = r.get("throughput_img_s")
        text = (f"b1 {r['latency_ms']:.2f} ms; b{args.batch} " + (f"{tput:.0f} img/s" if tput else
                                                                     r.get("throughput_error", "-"))
                + f"; peak {r['peak_mem_mib']:.0f} MiB; first call {r['first_call_s']:.1f} s")
        if "rel_l2_final_vs_eager" in r:
            text += f"; rel. L2 vs eager {r['rel_l2_final_vs_eager']:.1e}"
        emit(f"{name} {label}", text, summary=False, **r)
    if not figures:
        return
    eager, graphs, low_graphs = (figures.get(label) for label, _ in configs)

    def ms(r):
        return f"{r['latency_ms']:.2f}" if r else "-"

    def img_s(r):
        return f"{r['throughput_img_s']:.0f}" if r and "throughput_img_s" in r else "-"

    size = "x".join(map(str, next(iter(figures.values()))["size"]))
    peak = max(r["peak_mem_mib"] for r in figures.values())
    emit(f"{name} {size}",
         f"b1 ms: eager {ms(eager)} / graphs {ms(graphs)} / graphs {low} {ms(low_graphs)}; "
         f"b{args.batch} img/s: fp32 {img_s(eager)} / {low} {img_s(low_graphs)}; peak {peak:.0f} MiB",
         OK if len(figures) == len(configs) else FAIL)
    if name == "dm-vton" and device.type == "cuda":
        best = min(r["latency_ms"] for r in (graphs, low_graphs) if r)
        emit("dm-vton b1 with CUDA graphs", f"{best:.2f} ms", OK if best <= TARGETS["dm-vton_b1_graphs_ms"] else MISS,
             f"<= {TARGETS['dm-vton_b1_graphs_ms']:.0f} ms (H100)")
        if low_graphs and "throughput_img_s" in low_graphs:
            tput = low_graphs["throughput_img_s"]
            emit(f"dm-vton b{args.batch} fp16", f"{tput:.0f} img/s",
                 OK if tput >= TARGETS["dm-vton_b16_fp16_img_s"] else MISS,
                 f">= {TARGETS['dm-vton_b16_fp16_img_s']:.0f} img/s (H100)")


def part_pipeline(args: argparse.Namespace, emit: Emitter) -> None:
    import numpy as np
    import torch

    try:
        import mediapipe  # noqa: F401
    except Exception as exc:
        emit("MediaPipe", f"not importable ({_error(exc)}); run benchmarks/gpu_carry.py, carry .gpu_carry",
             SKIP if args.device == "cpu" else FAIL)
        return
    from vton_zoo import TryOnPipeline, list_models

    torch.set_num_threads(args.threads)
    emit("photos", f"{Path(args.person).name} + {Path(args.garment).name}", summary=False)
    methods = args.methods or list_models()
    for name in methods:
        try:
            pipe = TryOnPipeline(name, device=args.device, weights="random")
            first = pipe(args.person, args.garment)
            second = first if args.quick else pipe(args.person, args.garment)  # steady state: no model load
            image = np.asarray(second.image)
            if image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
                raise RuntimeError(f"unexpected result image {image.shape}")
        except Exception as exc:
            emit(f"pipeline {name}", _error(exc), FAIL)
            continue
        stages = {k: round(v * 1e3, 1) for k, v in second.timings.items()}
        text = (f"{second.device}: {stages['total']:.0f} ms (model {stages.get('model', 0):.1f} ms, person "
                f"{stages.get('person', 0):.0f} ms, garment {stages.get('garment', 0):.0f} ms, postprocess "
                f"{stages.get('postprocess', 0):.0f} ms); first call {first.timings['total']:.1f} s")
        emit(f"pipeline {name}", text, OK, first_call_s=first.timings["total"], stages_ms=stages,
             warnings=second.warnings)
        del pipe
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()


CHILD_PARTS = {"env": part_env, "correlation": part_correlation, "model": part_model, "pipeline": part_pipeline}


# ================================================================================================ parent side

def _run_group(argv: list[str], env: dict, timeout: float, log) -> tuple[int | None, float, bool]:
    """Run ``argv`` in its own process group; on timeout kill the whole group (pytest and its workers too)."""
    start = time.perf_counter()
    log.write(f"\n===== {' '.join(argv)}  (limit {timeout:.0f} s)\n")
    log.flush()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        rc = process.wait(timeout=max(timeout, 1.0))
        return rc, time.perf_counter() - start, False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return None, time.perf_counter() - start, True
    finally:
        log.flush()


def _read_rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by the kill
            pass
    return rows


def _tail(log_path: Path, lines: int = 3) -> str:
    text = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return " | ".join(line.strip() for line in text[-lines:])[-400:]


def _pytest_rows(junit: Path, device: str) -> list[dict]:
    import xml.etree.ElementTree as ET

    rows = []
    if not junit.is_file():
        return [{"part": "tests", "item": "pytest -m cuda", "result": "no report written", "status": FAIL,
                 "target": "all pass", "summary": True, "detail": {}}]
    counts: dict[str, dict[str, int]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = (case.get("classname") or "").split(".")[-1] or "?"
        outcome = "passed"
        message = ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome = {"failure": "failed", "error": "failed", "skipped": "skipped"}[tag]
                message = (element.get("message") or element.text or "").strip().splitlines()
                message = message[0][:300] if message else ""
                break
        counts.setdefault(module, {"passed": 0, "failed": 0, "skipped": 0})[outcome] += 1
        if outcome == "failed":
            rows.append({"part": "tests", "item": f"{module}::{case.get('name')}", "result": message,
                         "status": FAIL, "target": "pass", "summary": True, "detail": {}})
    for module, c in counts.items():
        if c["failed"]:
            status = FAIL
        elif c["passed"]:
            status = OK
        else:
            status = SKIP if device == "cpu" else FAIL  # on a GPU a fully skipped file means the tests did not run
        rows.insert(0, {"part": "tests", "item": module, "result": f"{c['passed']} passed, {c['failed']} failed, "
                                                                   f"{c['skipped']} skipped",
                        "status": status, "target": "all pass", "summary": True, "detail": c})
    return rows


def _carried_site(tmp: Path) -> str | None:
    """Unpack .gpu_carry's MediaPipe + protobuf when this Python cannot import MediaPipe; the folder, else None."""
    wheel = CARRY / "pipeline_site.zip"
    if not wheel.is_file():
        return None
    probe = subprocess.run([sys.executable, "-c", "import mediapipe"], capture_output=True, timeout=120)
    if probe.returncode == 0:
        return None
    site = tmp / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return str(site)


def _photos(args: argparse.Namespace) -> tuple[str, str]:
    if args.person and args.garment:
        return args.person, args.garment
    shared = Path(os.environ.get("VTON_SHARED", ROOT.parent / "shared"))
    candidates = [(CARRY / "samples" / "person.jpg", CARRY / "samples" / "garment.jpg"),
                  (shared / "samples/viton/test_img/000066_0.jpg", shared / "samples/viton/test_clothes/003434_1.jpg"),
                  (ROOT / "examples/images/person_a.png", ROOT / "examples/images/garment_red.png")]
    for person, garment in candidates:
        if person.is_file() and garment.is_file():
            return str(person), str(garment)
    raise SystemExit("no person/garment photo found: pass --person and --garment")


def _table(rows: list[dict], summary_only: bool = True) -> str:
    header = ("part", "item", "result", "target", "status")
    body = [[r["part"], r["item"], r["result"], r["target"], r["status"]] for r in rows
            if r["summary"] or not summary_only]
    widths = [max(len(h), *(len(str(b[i])) for b in body)) if body else len(h) for i, h in enumerate(header)]
    line = lambda cells: "| " + " | ".join(str(c).replace("|", "/").ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for gpu_check.md / .json / .log")
    parser.add_argument("--device", default=None, help="cuda (default when available) or cpu (smoke run)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, few repeats, dm-vton only")
    parser.add_argument("--budget", type=float, default=None, help="seconds for all parts (default 470; quick 120)")
    parser.add_argument("--parts", nargs="+", default=["env", "tests", "correlation", "models", "pipeline"],
                        choices=["env", "tests", "correlation", "models", "pipeline"])
    parser.add_argument("--models", nargs="+", default=None, help="networks to time (default: the six)")
    parser.add_argument("--methods", nargs="+", default=None, help="pipeline methods (default: all)")
    parser.add_argument("--size", default=None, help="HxW for the model timings (default: each model's own)")
    parser.add_argument("--batch", type=int, default=None, help="throughput batch (default 16; quick 2)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--person", default=None)
    parser.add_argument("--garment", default=None)
    # child-only
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--result", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--model", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        emit = Emitter(args.result, args.child if args.child != "model" else f"model:{args.model}")
        try:
            CHILD_PARTS[args.child](args, emit)
        except Exception as exc:  # recorded (traceback in the log); the parent goes on with the next part
            import traceback

            traceback.print_exc()
            emit(f"{args.child} crashed", _error(exc), FAIL)
        return 0

    started = time.perf_counter()
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda, but CUDA is not available here (use --device cpu for the smoke run)")
    quick = args.quick
    budget = args.budget or (120.0 if quick else 470.0)
    batch = args.batch or (2 if quick else 16)
    threads = args.threads or (2 if device == "cpu" else 8)
    models = args.models or (["dm-vton"] if quick else list(NETWORKS))
    methods = args.methods or (["dm-vton"] if quick else None)
    size = args.size or ("64x64" if quick else None)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="gpu_check-"))
    log_path = out / "gpu_check.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1", VTON_ZOO_HOME=str(tmp / "home"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    site = _carried_site(tmp) if "pipeline" in args.parts else None
    # only the pipeline part sees the carried packages (they bring an older protobuf)
    pipeline_env = dict(env, PYTHONPATH=os.pathsep.join([site, env["PYTHONPATH"]])) if site else env
    if "VTON_PARITY_FIXTURES" not in env and (CARRY / "parity").is_dir():
        env["VTON_PARITY_FIXTURES"] = str(CARRY / "parity")
    person, garment = _photos(args) if "pipeline" in args.parts else ("", "")

    common = ["--device", device, "--threads", str(threads), "--batch", str(batch)] + (["--quick"] if quick else [])
    if size:
        common += ["--size", size]
    jobs: list[tuple[str, str, list[str]]] = []  # (label, weight key, argv)
    child = [sys.executable, str(Path(__file__).resolve()), "--out", str(out)]
    for part in args.parts:
        if part == "tests":
            jobs.append(("tests", "tests", [sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-p",
                                            "no:cacheprovider", "--junitxml", str(tmp / "junit.xml"),
                                            "tests/test_correlation.py", "tests/test_parity.py"]))
        elif part == "models":
            for name in models:
                weight = f"model:{name}" if f"model:{name}" in WEIGHTS else "model"
                jobs.append((f"model:{name}", weight, child + ["--child", "model", "--model", name, *common]))
        elif part == "pipeline":
            extra = ["--person", person, "--garment", garment] + (["--methods", *methods] if methods else [])
            jobs.append(("pipeline", "pipeline", child + ["--child", "pipeline", *common, *extra]))
        else:
            jobs.append((part, part, child + ["--child", part, *common]))

    rows: list[dict] = []
    parts: list[dict] = []
    deadline = started + budget
    with open(log_path, "w", encoding="utf-8") as log:
        for index, (label, weight, argv) in enumerate(jobs):
            left = deadline - time.perf_counter()
            share = WEIGHTS[weight] / sum(WEIGHTS[w] for _, w, _ in jobs[index:])
            limit = left * share
            if limit < 5:
                rows.append({"part": label, "item": "not run", "result": "the time budget was spent", "status": FAIL,
                             "target": "", "summary": True, "detail": {}})
                continue
            result_file = tmp / f"{label.replace(':', '_')}.jsonl"
            if label != "tests":
                argv = argv + ["--result", str(result_file)]
            print(f"# {label}: limit {limit:.0f} s", flush=True)
            rc, seconds, timed_out = _run_group(argv, pipeline_env if label == "pipeline" else env, limit, log)
            part_rows = _pytest_rows(tmp / "junit.xml", device) if label == "tests" else _read_rows(result_file)
            if timed_out:
                part_rows.append({"part": label, "item": "time limit", "result": f"stopped after {seconds:.0f} s "
                                  f"(rows above are what it finished)", "status": FAIL, "target": "",
                                  "summary": True, "detail": {}})
            elif rc not in (0, None) and (label != "tests" or not part_rows):
                part_rows.append({"part": label, "item": f"exit {rc}", "result": _tail(log_path), "status": FAIL,
                                  "target": "", "summary": True, "detail": {}})
            rows.extend(part_rows)
            parts.append({"part": label, "seconds": round(seconds, 1), "rc": rc, "timed_out": timed_out})
            print(f"# {label}: {seconds:.0f} s, exit {rc}{' (time limit)' if timed_out else ''}", flush=True)

    total = time.perf_counter() - started
    table = _table(rows)
    title = (f"gpu_check on {device} ({'quick' if quick else 'full'}), {total:.0f} s in all; "
             f"parts: " + ", ".join(f"{p['part']} {p['seconds']:.0f} s" for p in parts))
    print("\n" + title + "\n\n" + table)
    details = [f"# {title}", "", table, ""]
    for label in dict.fromkeys(r["part"] for r in rows):
        part_rows = [r for r in rows if r["part"] == label and not r["summary"]]
        if part_rows:
            details += [f"## {label}: details", "", _table(part_rows, summary_only=False), ""]
    (out / "gpu_check.md").write_text("\n".join(details) + "\n", encoding="utf-8")
    (out / "gpu_check.json").write_text(json.dumps({"device": device, "quick": quick, "seconds": total,
                                                    "parts": parts, "rows": rows}, indent=1, default=str))
    failed = sum(r["status"] == FAIL for r in rows)
    print(f"\n{failed} failed rows; written to {out}/gpu_check.md, .json, .log")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
