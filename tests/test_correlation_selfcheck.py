"""The CuPy self-check's decisions, driven on the CPU with stand-in kernels that are right, wrong, or raise.

``correlation(impl="auto")`` sends CUDA tensors through ``correlation._CUPY``, a ``CheckedKernel``; here a
``CheckedKernel`` around a stand-in, accepting CPU tensors, takes its place, so every branch of the decision (use the
kernel, fall back with one warning, skip the check when switched off) runs without a GPU.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time

import pytest
import torch

from vton_zoo.ops.correlation import (
    SELFCHECK_ENV,
    SELFCHECK_TOLERANCE,
    CheckedKernel,
    correlation,
    correlation_shift_loop,
    correlation_torch,
)

LOGGER = "vton_zoo.ops.correlation"
corr = importlib.import_module(LOGGER)  # the module (vton_zoo.ops.correlation the attribute is the function)


class StandIn:
    """A "CuPy kernel" for CPU tensors: records its calls; ``fn`` computes (or raises)."""

    def __init__(self, fn, delay: float = 0.0) -> None:
        self.fn = fn
        self.calls = 0
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, first, second, max_displacement, stride):
        with self._lock:
            self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        return self.fn(first, second, max_displacement=max_displacement, stride=stride)


def right(first, second, *, max_displacement, stride):
    """A different, correct implementation (the shift loop): agrees up to float rounding."""
    return correlation_shift_loop(first, second, max_displacement=max_displacement, stride=stride)


def swapped_axes(first, second, *, max_displacement, stride):
    """Wrong channel order: dx outer, dy inner (transposed displacement grid)."""
    out = correlation_torch(first, second, max_displacement=max_displacement, stride=stride)
    n = 2 * max_displacement + 1
    b, _, h, w = out.shape
    return out.view(b, n, n, h, w).transpose(1, 2).reshape(b, n * n, h, w)


def last_column_lost(first, second, *, max_displacement, stride):
    """An off-by-one at the border: the last column of every plane is never written (zeros)."""
    out = correlation_torch(first, second, max_displacement=max_displacement, stride=stride)
    return torch.cat([out[..., :-1], torch.zeros_like(out[..., -1:])], dim=-1)


def raises(first, second, *, max_displacement, stride):
    raise RuntimeError("NVRTC failed: cuda_fp16.h: No such file or directory")


def _gate(fn, delay=0.0, unavailable=lambda dtype: ""):
    stand_in = StandIn(fn, delay)
    return stand_in, CheckedKernel(stand_in, correlation_torch, unavailable=unavailable, device_types=("cpu",),
                                   name="stand-in")


@pytest.fixture
def install(monkeypatch):
    """Put a CheckedKernel around a stand-in in place of correlation._CUPY, for CPU tensors."""
    monkeypatch.delenv(SELFCHECK_ENV, raising=False)
    monkeypatch.delenv("VTON_ZOO_CORRELATION", raising=False)

    def _install(fn, **kwargs):
        stand_in, gate = _gate(fn, **kwargs)
        monkeypatch.setattr(corr, "_CUPY", gate)
        return stand_in, gate

    return _install


def _inputs(dtype=torch.float32, shape=(1, 8, 6, 5), seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g).to(dtype), torch.randn(shape, generator=g).to(dtype)


def test_production_gate_is_for_cuda_only():
    assert corr._CUPY.device_types == ("cuda",)
    assert corr._CUPY.reference is correlation_torch


def test_right_kernel_passes_and_is_used(install, caplog):
    stand_in, gate = install(right)
    first, second = _inputs()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        out = correlation(first, second)
    assert stand_in.calls == 2  # the check's run, then the real call
    check = gate.results[("cpu", torch.float32, 3, 1)]
    assert check.passed and check.error < 1e-6 and check.tolerance == SELFCHECK_TOLERANCE[torch.float32]
    assert 0 < check.seconds < 5
    torch.testing.assert_close(out, correlation_shift_loop(first, second), rtol=0, atol=0)
    [record] = [r for r in caplog.records if "self-check" in r.getMessage()]
    assert record.levelno == logging.INFO and "passed" in record.getMessage() and " ms" in record.getMessage()
    correlation(first, second)
    assert stand_in.calls == 3  # decided once: no second check


@pytest.mark.parametrize("fn,what", [(swapped_axes, "max error"), (last_column_lost, "max error"),
                                     (raises, "the kernel raised RuntimeError: NVRTC failed")])
def test_wrong_or_raising_kernel_falls_back_with_one_warning(install, caplog, fn, what):
    stand_in, gate = install(fn)
    first, second = _inputs()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        outs = [correlation(first, second) for _ in range(5)]
        correlation(first, second, max_displacement=2, stride=2)  # another key: its own check, its own warning
    assert stand_in.calls == 2  # one check per key, never used
    for out in outs:
        torch.testing.assert_close(out, correlation_torch(first, second), rtol=0, atol=0)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2, warnings
    assert "self-check FAILED on cpu float32 d=3 s=1" in warnings[0] and what in warnings[0]
    assert "using the PyTorch implementation" in warnings[0]
    check = gate.results[("cpu", torch.float32, 3, 1)]
    assert not check.passed
    if fn is raises:
        assert check.error == float("inf")
    else:
        assert check.error > 0.05  # a wrong index moves whole elements, far above any tolerance


def test_fp16_rounding_passes_within_its_tolerance(install):
    """Two correct fp16 implementations differ by output rounding: above the fp32 tolerance, within fp16's."""
    stand_in, gate = install(right)
    first, second = _inputs(torch.float16, shape=(2, 64, 9, 7))
    out = correlation(first, second)
    check = gate.results[("cpu", torch.float16, 3, 1)]
    assert check.passed and check.tolerance == SELFCHECK_TOLERANCE[torch.float16]
    assert out.dtype == torch.float16 and stand_in.calls == 2


def test_bf16_is_checked_as_the_fp32_kernel_and_fp64_never_reaches_it(install):
    stand_in, gate = install(right)
    first, second = _inputs(torch.bfloat16)
    assert correlation(first, second).dtype == torch.bfloat16
    assert list(gate.results) == [("cpu", torch.float32, 3, 1)]
    calls = stand_in.calls
    correlation(first.double(), second.double())
    assert stand_in.calls == calls and len(gate.results) == 1


def test_switched_off_runs_the_kernel_unchecked(install, monkeypatch):
    stand_in, gate = install(swapped_axes)
    monkeypatch.setenv(SELFCHECK_ENV, "0")
    first, second = _inputs()
    out = correlation(first, second)
    assert stand_in.calls == 1 and not gate.results
    torch.testing.assert_close(out, swapped_axes(first, second, max_displacement=3, stride=1))


def test_unavailable_backend_warns_once_and_never_checks(install, caplog):
    stand_in, gate = install(right, unavailable=lambda dtype: "cupy is not usable: ImportError: no cupy")
    first, second = _inputs()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(3):
            torch.testing.assert_close(correlation(first, second), correlation_torch(first, second))
    assert stand_in.calls == 0 and not gate.results
    assert [r.getMessage() for r in caplog.records] == [
        "stand-in correlation unavailable (cupy is not usable: ImportError: no cupy); using the PyTorch "
        "implementation"]


def test_check_under_inference_mode_no_grad_and_autocast_leaves_the_rng_alone(install):
    stand_in, gate = install(right)
    first, second = _inputs()
    torch.manual_seed(123)
    rng = torch.get_rng_state()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = correlation(first, second)
    assert torch.equal(torch.get_rng_state(), rng)  # the check draws from its own generator
    assert gate.results[("cpu", torch.float32, 3, 1)].passed and out.dtype == torch.float32
    with torch.no_grad():
        correlation(first, second, max_displacement=1)
    assert gate.results[("cpu", torch.float32, 1, 1)].passed


def test_gradients_flow_through_the_checked_kernel(install):
    install(right)
    first, second = _inputs()
    first.requires_grad_(True)
    second.requires_grad_(True)
    grad = torch.randn(1, 49, 6, 5)
    got = torch.autograd.grad(correlation(first, second), (first, second), grad)
    expected = torch.autograd.grad(correlation_torch(first, second), (first, second), grad)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)


def test_two_threads_one_check_one_warning(install, caplog):
    """The app runs two jobs at once: the first call of a key checks once, under a lock; the other waits for it."""
    stand_in, gate = install(swapped_axes, delay=0.05)
    first, second = _inputs()
    expected = correlation_torch(first, second)
    errors = []
    start = threading.Barrier(4)

    def job():
        start.wait()
        for _ in range(10):
            out = correlation(first, second)
            if not torch.equal(out, expected):
                errors.append("a thread got the wrong kernel's output")

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        threads = [threading.Thread(target=job) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    assert stand_in.calls == 1
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_check_cost_is_small(install):
    """The check's sizes are tiny (2x32x11x13): on this CPU it takes milliseconds (the figure is logged)."""
    stand_in, gate = install(right)
    check = gate.check(torch.device("cpu"), torch.float32, 3, 1)
    assert check.passed and check.seconds < 1.0, check.describe()
    assert stand_in.calls == 1 and not gate.results  # check() measures without recording
