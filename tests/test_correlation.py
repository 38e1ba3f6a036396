"""The correlation op: naive float64 oracle, autograd, dtypes, dispatch rules, and CuPy vs PyTorch on a GPU."""

from __future__ import annotations

import pytest
import torch

from vton_zoo.ops import correlation
from vton_zoo.ops.correlation import correlation_naive, correlation_shift_loop, correlation_torch


def _pair(shape=(2, 5, 7, 9), dtype=torch.float64, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    first = torch.randn(shape, generator=g, dtype=torch.float64)
    second = torch.randn(shape, generator=g, dtype=torch.float64)
    return first.to(device=device, dtype=dtype), second.to(device=device, dtype=dtype)


@pytest.mark.parametrize("max_displacement,stride", [(3, 1), (1, 1), (2, 2), (0, 1)])
def test_torch_path_matches_naive_oracle(max_displacement, stride):
    first, second = _pair()
    expected = correlation_naive(first, second, max_displacement, stride)
    got = correlation(first, second, max_displacement=max_displacement, stride=stride, impl="torch")
    assert got.shape == (2, (2 * max_displacement + 1) ** 2, 7, 9)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("tile", [1, 4, 32])
@pytest.mark.parametrize("shape", [(1, 3, 5, 11), (2, 4, 9, 6)])
def test_gemm_tiles_and_shift_loop_match_oracle(tile, shape):
    first, second = _pair(shape, seed=7)
    expected = correlation_naive(first, second, 3, 1)
    torch.testing.assert_close(correlation_torch(first, second, tile=tile), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(correlation_shift_loop(first, second), expected, rtol=1e-12, atol=1e-12)
    expected2 = correlation_naive(first, second, 2, 2)
    torch.testing.assert_close(correlation_torch(first, second, max_displacement=2, stride=2, tile=tile), expected2,
                               rtol=1e-12, atol=1e-12)


def test_channel_order_and_zero_padding():
    # A single bright pixel in `second` shows up in exactly one channel per first-pixel: (dy+3)*7 + (dx+3).
    first = torch.ones(1, 2, 9, 9, dtype=torch.float64)
    second = torch.zeros(1, 2, 9, 9, dtype=torch.float64)
    second[0, :, 4, 6] = 1.0
    out = correlation(first, second, impl="torch")
    # At pixel (y=4, x=4) the bright pixel sits at dy=0, dx=+2 -> channel (0+3)*7 + (2+3) = 26.
    assert out[0, :, 4, 4].nonzero().flatten().tolist() == [26]
    assert out[0, 26, 4, 4] == 1.0  # mean over channels of 1*1
    # Near the border nothing wraps around: pixel (0, 0) never sees (4, 6) (dy=+4 is out of range).
    assert out[0, :, 0, 0].abs().sum() == 0


def test_float32_matches_oracle():
    first, second = _pair((1, 16, 6, 5), dtype=torch.float32, seed=3)
    expected = correlation_naive(first, second)
    torch.testing.assert_close(correlation(first, second, impl="torch").double(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_close_to_fp32(dtype):
    first, second = _pair((2, 32, 8, 6), dtype=torch.float32, seed=1)
    reference = correlation_torch(first, second)
    got = correlation(first.to(dtype), second.to(dtype), impl="torch")
    assert got.dtype == dtype
    # Inputs rounded to dtype, accumulated in fp32: error of the order of the dtype's epsilon.
    tol = 2e-2 if dtype == torch.bfloat16 else 3e-3
    torch.testing.assert_close(got.float(), reference, rtol=tol, atol=tol)


@pytest.mark.parametrize("fn", [correlation_torch, correlation_shift_loop])
def test_gradcheck(fn):
    first, second = _pair((1, 3, 5, 7), seed=2)
    first.requires_grad_(True)
    second.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: fn(a, b, max_displacement=2), (first, second))


def test_dispatch_rules(monkeypatch):
    first, second = _pair((1, 2, 4, 4), dtype=torch.float32)
    with pytest.raises(ValueError, match="impl='cupy' needs CUDA tensors"):
        correlation(first, second, impl="cupy")
    with pytest.raises(ValueError, match="impl must be one of"):
        correlation(first, second, impl="triton")
    with pytest.raises(ValueError, match="same shape"):
        correlation(first, second[:, :1])
    mixed = correlation(first, second.double())  # promoted, as under autocast
    assert mixed.dtype == torch.float64
    torch.testing.assert_close(mixed, correlation(first.double(), second.double()))
    monkeypatch.setenv("VTON_ZOO_CORRELATION", "loop")
    torch.testing.assert_close(correlation(first, second), correlation_shift_loop(first, second))
    monkeypatch.setenv("VTON_ZOO_CORRELATION", "bogus")
    with pytest.raises(ValueError, match="impl must be one of"):
        correlation(first, second)
    monkeypatch.delenv("VTON_ZOO_CORRELATION")
    # auto on CPU is the torch path, silently
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.testing.assert_close(correlation(first, second), correlation_torch(first, second))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize(("max_displacement", "stride"), [(3, 1), (4, 2)])
def test_cupy_kernels_compile_without_gpu(dtype, max_displacement, stride):
    """NVRTC (shipped with PyPI torch's CUDA toolkit wheels) compiles both kernels for sm_90 without a device."""
    pytest.importorskip("cupy")
    from vton_zoo.ops import _correlation_cupy

    try:
        ptx = _correlation_cupy.compile_ptx(dtype, max_displacement, stride, arch="compute_90")
    except (ImportError, OSError) as exc:  # no NVRTC library on this machine
        pytest.skip(f"NVRTC not available: {exc}")
    assert ".entry corr_forward" in ptx and ".entry corr_backward" in ptx
    assert ".local" not in ptx, "the forward accumulators spilled to local memory"
    with pytest.raises(ValueError, match="float32 and float16"):
        _correlation_cupy.kernel_source(torch.bfloat16, 3, 1)


# --------------------------------------------------------------------------------------------- GPU (marker: cuda)

cuda = pytest.mark.cuda


@cuda
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float16, 2e-3)])
@pytest.mark.parametrize("shape", [(2, 256, 8, 6), (1, 64, 64, 48), (3, 7, 5, 9)])
def test_cupy_matches_torch_forward_backward(dtype, tol, shape):
    if not torch.cuda.is_available():
        pytest.skip("CUDA not available")
    first, second = _pair(shape, dtype=torch.float32, seed=4, device="cuda")
    first, second = first.to(dtype).requires_grad_(True), second.to(dtype).requires_grad_(True)
    out_cupy = correlation(first, second, impl="cupy")
    grad = torch.randn_like(out_cupy)
    g1_cupy, g2_cupy = torch.autograd.grad(out_cupy, (first, second), grad)
    out_torch = correlation(first, second, impl="torch")
    g1_torch, g2_torch = torch.autograd.grad(out_torch, (first, second), grad)
    assert out_cupy.dtype == dtype
    torch.testing.assert_close(out_cupy.float(), out_torch.float(), rtol=tol, atol=tol)
    torch.testing.assert_close(g1_cupy.float(), g1_torch.float(), rtol=tol, atol=tol * 10)
    torch.testing.assert_close(g2_cupy.float(), g2_torch.float(), rtol=tol, atol=tol * 10)


@cuda
def test_cupy_gradcheck_fp32_against_fp64_reference():
    if not torch.cuda.is_available():
        pytest.skip("CUDA not available")
    first, second = _pair((1, 4, 6, 5), seed=5)
    expected = correlation_naive(first, second)
    got = correlation(first.float().cuda(), second.float().cuda(), impl="cupy").double().cpu()
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


@cuda
def test_auto_uses_cupy_on_cuda():
    if not torch.cuda.is_available():
        pytest.skip("CUDA not available")
    from vton_zoo.ops import _correlation_cupy

    assert _correlation_cupy.supported(torch.float32), _correlation_cupy.unavailable_reason(torch.float32)
    first, second = _pair((1, 8, 6, 5), dtype=torch.float32, device="cuda")
    first.requires_grad_(True)
    out = correlation(first, second)  # auto
    assert "CorrelationFunction" in type(out.grad_fn).__name__
    torch.testing.assert_close(out, correlation(first, second, impl="cupy"))


def _cuda_pair(shape, dtype, seed=0):
    first, second = _pair(shape, dtype=torch.float32, seed=seed, device="cuda")
    return first.to(dtype).requires_grad_(True), second.to(dtype).requires_grad_(True)


def _cupy_vs_torch(first, second, grad, **kwargs):
    """Output and both gradients of impl='cupy' and impl='torch' for the same leaves."""
    results = []
    for impl in ("cupy", "torch"):
        out = correlation(first, second, impl=impl, **kwargs)
        results.append((out, *torch.autograd.grad(out, (first, second), grad)))
    return results


def _max_rel(got, expected):
    return float((got.float() - expected.float()).abs().max() / expected.float().abs().max().clamp_min(1e-12))


@cuda
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float16, 2e-3)])
@pytest.mark.parametrize("size", [(256, 192), (512, 384)], ids=["256x192", "512x384"])
def test_cupy_matches_torch_at_every_pyramid_level(dtype, tol, size):
    """The sizes the models run: C=256 at H/2 .. H/32 (widths 96 .. 6, not all multiples of 32), batch 1 and 16."""
    if not torch.cuda.is_available():
        pytest.skip("CUDA not available")
    for k in range(1, 6):
        for batch in (1, 16):
            first, second = _cuda_pair((batch, 256, size[0] >> k, size[1] >> k), dtype, seed=k + batch)
            grad = torch.randn((batch, 49, size[0] >> k, size[1] >> k), device="cuda", dtype=dtype)
            (out, g1, g2), (ref, r1, r2) = _cupy_vs_torch(first, second, grad)
            for name, got, expected in (("out", out, ref), ("grad first", g1, r1), ("grad second", g2, r2)):
                assert got.dtype == dtype
                assert _max_rel(got, expected) < tol * 10, (k, batch, name, _max_rel(got, expected))


@cuda
@pytest.mark.parametrize("layout", ["channels_last", "strided", "expanded grad", "bf16", "stride 2"])
def test_cupy_any_layout_and_dtype(layout):
    """What callers pass: channels_last (InferenceRunner), strided views, the stride-0 gradient of out.sum(), bf16."""
    if not torch.cuda.is_available():
        pytest.skip("CUDA not available")
    dtype = torch.bfloat16 if layout == "bf16" else torch.float32
    first, second = _cuda_pair((3, 64, 13, 10), dtype, seed=6)
    kwargs = {"max_displacement": 4, "stride": 2} if layout == "stride 2" else {}
    n = 2 * kwargs.get("max_displacement", 3) + 1
    grad = torch.randn((3, n * n, 13, 10), device="cuda", dtype=dtype)
    if layout == "channels_last":
        first = first.detach().contiguous(memory_format=torch.channels_last).requires_grad_(True)
        second = second.detach().contiguous(memory_format=torch.channels_last).requires_grad_(True)
        grad = grad.contiguous(memory_format=torch.channels_last)
    elif layout == "strided":
        big = torch.randn((3, 128, 13, 20), device="cuda")
        big[:, ::2, :, ::2] = first.detach()
        first = big[:, ::2, :, ::2].requires_grad_(True)
    elif layout == "expanded grad":
        grad = torch.ones((1, 1, 1, 1), device="cuda", dtype=dtype).expand(3, n * n, 13, 10)
    (out, g1, g2), (ref, r1, r2) = _cupy_vs_torch(first, second, grad, **kwargs)
    tol = 2e-2 if dtype == torch.bfloat16 else 1e-5
    assert out.dtype == dtype and g1.dtype == dtype
    for got, expected in ((out, ref), (g1, r1), (g2, r2)):
        assert _max_rel(got, expected) < tol


@cuda
def test_selfcheck_passes_on_this_gpu():
    """The production self-check with the real kernels: each key passes well within its tolerance, in milliseconds."""
    if not torch.cuda.is_available():
        pytest.skip("CUDA not available")
    from vton_zoo.ops.correlation import _CUPY, SELFCHECK_TOLERANCE, CheckedKernel

    gate = CheckedKernel(_CUPY.kernel, _CUPY.reference, unavailable=_CUPY.unavailable)
    for dtype in (torch.float32, torch.float16):
        for max_displacement, stride in ((3, 1), (4, 2)):
            gate.check(torch.device("cuda"), dtype, max_displacement, stride)  # compiles the module
            check = gate.check(torch.device("cuda"), dtype, max_displacement, stride)
            assert check.passed, check.describe()
            assert check.error < SELFCHECK_TOLERANCE[dtype] / 10, check.describe()
            assert check.seconds < 0.5, check.describe()


@cuda
def test_cupy_inside_a_cuda_graph():
    """InferenceRunner(cuda_graphs=True) captures the kernels: replaying with new inputs gives the new result."""
    if not torch.cuda.is_available():
        pytest.skip("CUDA not available")
    first, second = (t.detach() for t in _cuda_pair((2, 32, 16, 12), torch.float16, seed=8))
    static_first, static_second = first.clone(), second.clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        correlation(static_first, static_second)  # warm-up outside the capture: self-check and compilation
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_out = correlation(static_first, static_second)
    new_first, new_second = (t.detach() for t in _cuda_pair((2, 32, 16, 12), torch.float16, seed=9))
    static_first.copy_(new_first)
    static_second.copy_(new_second)
    graph.replay()
    torch.cuda.synchronize()
    expected = correlation(new_first, new_second, impl="torch")
    assert _max_rel(static_out, expected) < 2e-2


@cuda
def test_cupy_double_backward_is_refused():
    if not torch.cuda.is_available():
        pytest.skip("CUDA not available")
    first, second = _cuda_pair((1, 4, 5, 6), torch.float32)
    out = correlation(first, second, impl="cupy")
    (grad_first,) = torch.autograd.grad(out.square().sum(), (first,), create_graph=True)
    with pytest.raises(RuntimeError, match="differentiate twice|once_differentiable"):
        grad_first.sum().backward()
