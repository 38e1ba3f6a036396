"""Timing and memory helpers shared by the benchmark scripts (figures, never pass/fail)."""

from __future__ import annotations

import platform
import resource
import statistics
import time
from collections.abc import Callable

import torch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_it(fn: Callable[[], object], device: torch.device, *, warmup: int = 2, repeat: int = 5,
            min_time: float = 0.0) -> dict[str, float]:
    """Median / min wall time of ``fn`` in seconds after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    start_all = time.perf_counter()
    while len(times) < repeat or time.perf_counter() - start_all < min_time:
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
        if len(times) >= 1000:
            break
    return {"median": statistics.median(times), "min": min(times), "n": len(times)}


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def environment(device: torch.device) -> str:
    parts = [f"torch {torch.__version__}", f"python {platform.python_version()}",
             f"threads {torch.get_num_threads()}"]
    if device.type == "cuda":
        parts.append(torch.cuda.get_device_name(device))
    else:
        parts.append(platform.processor() or platform.machine())
    return ", ".join(parts)


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.2f} ms"
