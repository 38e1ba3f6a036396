"""The CuPy kernels' index maths and launch grid, executed on the CPU (``tests/_kernel_emulation.py``): the CUDA source
compiled as C++, run thread by thread over the grid ``launch_config`` gives, on inputs prepared by the production
``prepare_inputs``, against the float64 oracle and the PyTorch path. Plus what the kernels receive whatever the
caller passes (layouts, dtypes), checked on the memory the kernels read.
"""

from __future__ import annotations

import importlib
import logging

import pytest
import torch

from tests import _kernel_emulation as emu
from vton_zoo.ops import _correlation_cupy as cc
from vton_zoo.ops.correlation import (
    SELFCHECK_TOLERANCE,
    CheckedKernel,
    correlation,
    correlation_naive,
    correlation_torch,
)

corr = importlib.import_module("vton_zoo.ops.correlation")

pytestmark = pytest.mark.skipif(emu.compiler() is None, reason="no C++ compiler to run the kernel source on the CPU")


def _pair(shape, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64).to(dtype),
            torch.randn(shape, generator=g, dtype=torch.float64).to(dtype))


def _reference(first, second, grad, max_displacement, stride):
    """float64 forward and gradients (autograd through the PyTorch path in float64, itself exact against the naive
    oracle in test_correlation.py; the oracle's Python loops are used directly at small sizes)."""
    a = first.detach().double().requires_grad_(True)
    b = second.detach().double().requires_grad_(True)
    out = correlation_torch(a, b, max_displacement=max_displacement, stride=stride)
    grad_a, grad_b = torch.autograd.grad(out, (a, b), grad.double())
    if out.numel() * first.shape[1] <= 100_000:
        out = correlation_naive(first, second, max_displacement, stride)
    return out.detach(), grad_a.detach(), grad_b.detach()


def _emulate(first, second, grad, max_displacement, stride):
    guard = emu.Guarded()
    out = emu.forward(first, second, max_displacement, stride, guard)
    grad_first, grad_second = emu.backward(grad, first, second, max_displacement, stride, guard)
    guard.check()
    return out, grad_first, grad_second


def _assert_matches(got, expected, tol):
    for name, g, e in zip(("forward", "grad first", "grad second"), got, expected):
        assert not torch.isnan(g).any(), f"{name}: NaN (an out-of-bounds read or an element no thread wrote)"
        scale = float(e.abs().max())
        error = float((g.double() - e).abs().max()) / scale
        assert error <= tol, f"{name}: max error {error:.2e} of the largest value {scale:.3f}"


# Shapes: launch-grid edge cases (B*H*W below one block, just above, exact multiples), widths that are not multiples
# of 32 (the coarse pyramid levels of 256x192 / 512x384), H or W = 1, and batch 16.
SHAPES = [
    (3, 7, 5, 9),  # B*H*W = 135 < 256: one partial block
    (2, 4, 16, 8),  # forward: exactly one full block (256 pixels); backward 4 blocks
    (2, 4, 17, 24),  # 816 pixels: 3 full blocks + a partial one
    (16, 32, 8, 6),  # batch 16 at the coarsest level of 256x192
    (1, 5, 1, 300),  # one row wider than a block
    (2, 3, 13, 1),  # one column
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize(("max_displacement", "stride"), [(3, 1), (2, 2)])
def test_emulated_kernels_match_float64_reference_fp32(shape, max_displacement, stride):
    first, second = _pair(shape, seed=sum(shape))
    n = 2 * max_displacement + 1
    grad = torch.randn((shape[0], n * n, *shape[2:]), generator=torch.Generator().manual_seed(1))
    got = _emulate(first, second, grad, max_displacement, stride)
    assert got[0].dtype == torch.float32 and got[0].shape == (shape[0], n * n, *shape[2:])
    _assert_matches(got, _reference(first, second, grad, max_displacement, stride), 1e-5)


@pytest.mark.parametrize(("max_displacement", "stride"), [(0, 1), (1, 1), (4, 2), (1, 3)])
def test_emulated_kernels_other_displacements(max_displacement, stride):
    shape = (2, 6, 11, 13)
    first, second = _pair(shape, seed=max_displacement * 10 + stride)
    n = 2 * max_displacement + 1
    grad = torch.randn((2, n * n, 11, 13), generator=torch.Generator().manual_seed(2))
    _assert_matches(_emulate(first, second, grad, max_displacement, stride),
                    _reference(first, second, grad, max_displacement, stride), 1e-5)


@pytest.mark.parametrize("size", [(256, 192), (512, 384)], ids=["256x192", "512x384"])
def test_emulated_kernels_at_every_pyramid_level(size):
    """The five levels the PF-AFN family correlates (H/2 .. H/32), C=256 at the coarse levels, batch 16 at the
    coarsest; fewer channels at the fine levels keep the CPU emulation fast (the index maths does not depend on C)."""
    height, width = size
    for k in range(1, 6):
        level = (height >> k, width >> k)
        batch, channels = ((16, 256) if k == 5 else (1, 256) if k >= 4 else (1, 3))
        first, second = _pair((batch, channels, *level), seed=k)
        grad = torch.randn((batch, 49, *level), generator=torch.Generator().manual_seed(k))
        got = _emulate(first, second, grad, 3, 1)
        _assert_matches(got, _reference(first, second, grad, 3, 1), 1e-5)


def test_emulated_fp16_kernels_round_like_the_pytorch_path():
    """fp16 kernel: loads and stores through __half2float/__float2half, accumulation in float32."""
    first, second = _pair((2, 64, 9, 7), seed=3, dtype=torch.float16)
    grad = torch.randn((2, 49, 9, 7), generator=torch.Generator().manual_seed(3)).half()
    got = _emulate(first, second, grad, 3, 1)
    assert all(t.dtype == torch.float16 for t in got)
    # against float64 maths on the same fp16 values: only the final rounding to fp16 differs (2^-11 relative)
    _assert_matches(got, _reference(first, second, grad, 3, 1), 1e-3)
    a, b = first.clone().requires_grad_(True), second.clone().requires_grad_(True)
    torch_out = correlation_torch(a, b)
    torch_grads = torch.autograd.grad(torch_out, (a, b), grad)
    _assert_matches(got, (torch_out.detach().double(), *(g.double() for g in torch_grads)), 1e-3)


def test_emulated_bf16_inputs_run_the_fp32_kernel():
    first, second = _pair((1, 16, 6, 5), seed=4, dtype=torch.bfloat16)
    guard = emu.Guarded()
    out = emu.forward(first, second, 3, 1, guard)
    guard.check()
    assert out.dtype == torch.float32  # correlation_cupy casts the result back to bf16
    torch.testing.assert_close(out.double(), correlation_naive(first, second), rtol=1e-5, atol=1e-6)


def _layouts(shape, seed):
    """The same values in the layouts callers hand over: channels_last, a strided slice, a transposed view, a view with
    a storage offset, and a batch expanded with stride 0."""
    first, second = _pair(shape, seed=seed)
    batch, channels, height, width = shape
    big_first, big_second = _pair((batch, channels * 2, height + 3, width * 2), seed=seed + 1)
    big_first[:, ::2, 1:1 + height, ::2] = first
    big_second[:, ::2, 1:1 + height, ::2] = second
    return {
        "contiguous": (first, second),
        "channels_last": (first.contiguous(memory_format=torch.channels_last),
                          second.contiguous(memory_format=torch.channels_last)),
        "strided slice": (big_first[:, ::2, 1:1 + height, ::2], big_second[:, ::2, 1:1 + height, ::2]),
        "transposed": (first.transpose(2, 3).contiguous().transpose(2, 3),
                       second.transpose(2, 3).contiguous().transpose(2, 3)),
        "storage offset": (torch.cat([second, first])[batch:], torch.cat([first, second])[batch:]),
    }


@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "strided slice", "transposed", "storage offset"])
def test_any_input_layout_reaches_the_kernels_as_nchw(layout):
    shape = (2, 5, 7, 6)
    plain_first, plain_second = _layouts(shape, 5)["contiguous"]
    first, second = _layouts(shape, 5)[layout]
    torch.testing.assert_close(first, plain_first, rtol=0, atol=0)
    # what the kernels read: memory from data_ptr() on, indexed b*C*H*W + c*H*W + y*W + x
    for prepared, plain in zip(cc.prepare_inputs(first, second), (plain_first, plain_second)):
        flat = prepared.as_strided((prepared.numel(),), (1,))
        assert torch.equal(flat, plain.reshape(-1))
    grad = torch.randn((2, 49, 7, 6), generator=torch.Generator().manual_seed(6))
    # the output gradient in a channels_last layout, and expanded with stride 0 (as out.sum().backward() gives it)
    for grad_out in (grad.contiguous(memory_format=torch.channels_last), grad[:1].expand(2, -1, -1, -1)):
        got = _emulate(first, second, grad_out, 3, 1)
        _assert_matches(got, _reference(plain_first, plain_second, grad_out.contiguous(), 3, 1), 1e-5)


def test_expanded_batch_input():
    first, second = _pair((1, 4, 5, 6), seed=8)
    expanded = first.expand(3, -1, -1, -1)  # stride 0 along the batch
    prepared, _ = cc.prepare_inputs(expanded, second.expand(3, -1, -1, -1))
    assert prepared.is_contiguous() and prepared.stride(0) == 4 * 5 * 6
    guard = emu.Guarded()
    out = emu.forward(expanded, second.expand(3, -1, -1, -1), 3, 1, guard)
    guard.check()
    torch.testing.assert_close(out.double(), correlation_naive(first, second).expand(3, -1, -1, -1))


def test_prepare_inputs_refuses_what_the_kernels_cannot_index():
    a = torch.zeros(1, 2, 3, 4)
    with pytest.raises(ValueError, match="same shape"):
        cc.prepare_inputs(a, a[:, :1])
    with pytest.raises(ValueError, match="same dtype"):
        cc.prepare_inputs(a, a.half())
    with pytest.raises(ValueError, match="not torch.float64"):
        cc.prepare_inputs(a.double(), a.double())
    assert cc.prepare_inputs(a.bfloat16(), a.bfloat16())[0].dtype == torch.float32
    with pytest.raises(ValueError, match="nothing to launch"):
        cc.launch_config(0)
    assert cc.launch_config(1) == (1, 256) and cc.launch_config(256) == (1, 256) and cc.launch_config(257) == (2, 256)


# ---------------------------------------------------------------- the emulation catches planted bugs (it can fail)

def _planted(monkeypatch, old, new):
    source = cc._SOURCE
    assert source.count(old) == 1, old
    monkeypatch.setattr(cc, "_SOURCE", source.replace(old, new))


@pytest.mark.parametrize(("old", "new", "what"), [
    ("if (x2 < 0 || x2 >= W) continue;", "if (x2 < 0 || x2 > W) continue;", "forward reads one column too far"),
    ("const int y = (pixel / W) % H;", "const int y = (pixel / H) % H;", "forward row index"),
    ("const int y1 = y - dy, x1 = x - dx;", "const int y1 = y + dy, x1 = x - dx;", "backward source pixel"),
    ("store(grad_second, index, gs * inv_c);", "store(grad_second, index - 1, gs * inv_c);", "backward store"),
])
def test_emulation_catches_planted_kernel_bugs(monkeypatch, old, new, what):
    _planted(monkeypatch, old, new)
    shape = (2, 4, 17, 24)
    first, second = _pair(shape, seed=9)
    grad = torch.randn((2, 49, 17, 24), generator=torch.Generator().manual_seed(9))
    with pytest.raises(AssertionError):
        _assert_matches(_emulate(first, second, grad, 3, 1), _reference(first, second, grad, 3, 1), 1e-5)


def test_emulation_catches_a_launch_grid_one_block_short(monkeypatch):
    monkeypatch.setattr(cc, "launch_config", lambda count: (count // cc.THREADS, cc.THREADS))
    first, second = _pair((2, 4, 17, 24), seed=10)
    guard = emu.Guarded()
    out = emu.forward(first, second, 3, 1, guard)
    assert torch.isnan(out).any()  # the pixels of the missing partial block were never written


# ------------------------------------------------- the self-check around the emulated kernels: pass, and catch a bug

@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize(("max_displacement", "stride"), [(3, 1), (4, 2)])
def test_selfcheck_passes_the_kernel_source(dtype, max_displacement, stride):
    gate = CheckedKernel(emu.correlation_emulated, correlation_torch, unavailable=lambda dtype: "",
                         device_types=("cpu",))
    check = gate.check(torch.device("cpu"), dtype, max_displacement, stride)
    assert check.passed, check.describe()
    assert check.error < SELFCHECK_TOLERANCE[dtype] / 10, check.describe()


def test_selfcheck_rejects_a_planted_kernel_bug(monkeypatch, caplog):
    _planted(monkeypatch, "const int y1 = y - dy, x1 = x - dx;", "const int y1 = y - dy, x1 = x + dx;")
    gate = CheckedKernel(emu.correlation_emulated, correlation_torch, unavailable=lambda dtype: "",
                         device_types=("cpu",))
    monkeypatch.setattr(corr, "_CUPY", gate)
    first, second = _pair((1, 8, 6, 5), seed=11)
    with caplog.at_level(logging.WARNING, logger=corr.__name__):
        out = correlation(first, second)
    torch.testing.assert_close(out, correlation_torch(first, second), rtol=0, atol=0)
    [message] = [r.getMessage() for r in caplog.records]
    assert "self-check FAILED on cpu float32 d=3 s=1: max error" in message
