"""CUDA kernels for ``correlation`` compiled with ``cupy.RawModule``; imported lazily, never at package import.

Kernel layout (written for this project; the semantics are those of the official PF-AFN kernel, §1.1):

* forward: one thread per output pixel (b, y, x) keeps the (2d+1)^2 accumulators in registers and walks the
  channels once, so ``first`` is read once instead of once per displacement. Reads are coalesced along x.
* backward: one thread per input element (b, c, y, x) produces both gradients at that position:
  ``grad_first = 1/C * sum_k g[k, y, x] * second[y+dy, x+dx]`` and
  ``grad_second = 1/C * sum_k g[k, y-dy, x-dx] * first[y-dy, x-dx]``.

All arithmetic accumulates in float32 (also for fp16 tensors). Modules are compiled once per
(device, dtype, max_displacement, stride) and launched on torch's current CUDA stream.

What the kernels receive (``prepare_inputs``, ``prepare_grad``; plain torch, so tested on the CPU too): NCHW-contiguous
tensors of a kernel dtype, whatever the caller passed (channels_last, sliced, expanded or transposed views are copied
into that layout; ``out.sum().backward()`` hands backward a stride-0 gradient, copied the same way). float32 and
float16 run their own kernels; bfloat16 runs the float32 kernel (cast in, result cast back, as the PyTorch path also
computes bf16 in float32); other dtypes are refused (``correlation(impl="auto")`` gives them to the PyTorch path).
Launch grid (``launch_config``): one thread per output pixel (forward) or per input element (backward), 256 threads a
block, ceil(count / 256) blocks; the kernels return early past ``count``, so any batch size and width (the coarse
pyramid levels are 8x6 at 256x192) is covered. The index maths is executed on the CPU by the test suite: the same
source compiled as C++ and run thread by thread (``tests/_kernel_emulation.py``).
"""

from __future__ import annotations

import functools

import torch
from torch.autograd.function import once_differentiable

_SOURCE = r"""
#include <cuda_fp16.h>

__device__ __forceinline__ float load(const float* p, long long i) { return p[i]; }
__device__ __forceinline__ float load(const __half* p, long long i) { return __half2float(p[i]); }
__device__ __forceinline__ void store(float* p, long long i, float v) { p[i] = v; }
__device__ __forceinline__ void store(__half* p, long long i, float v) { p[i] = __float2half(v); }

#define D MAX_DISP
#define S STRIDE
#define N (2 * D + 1)

extern "C" __global__ void corr_forward(const T* __restrict__ first, const T* __restrict__ second,
                                        T* __restrict__ out, const int B, const int C, const int H, const int W) {
    const long long pixel = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const long long plane = (long long)H * W;
    if (pixel >= (long long)B * plane) return;
    const int x = pixel % W;
    const int y = (pixel / W) % H;
    const int b = pixel / plane;
    float acc[N * N];
#pragma unroll
    for (int k = 0; k < N * N; ++k) acc[k] = 0.f;
    const T* f = first + (long long)b * C * plane + (long long)y * W + x;
    const T* s = second + (long long)b * C * plane;
    for (int c = 0; c < C; ++c) {
        const float fv = load(f, (long long)c * plane);
        const T* sc = s + (long long)c * plane;
#pragma unroll
        for (int i = 0; i < N; ++i) {
            const int y2 = y + (i - D) * S;
            if (y2 < 0 || y2 >= H) continue;
#pragma unroll
            for (int j = 0; j < N; ++j) {
                const int x2 = x + (j - D) * S;
                if (x2 < 0 || x2 >= W) continue;
                acc[i * N + j] += fv * load(sc, (long long)y2 * W + x2);
            }
        }
    }
    const float inv_c = 1.f / (float)C;
    T* o = out + (long long)b * (N * N) * plane + (long long)y * W + x;
#pragma unroll
    for (int k = 0; k < N * N; ++k) store(o, (long long)k * plane, acc[k] * inv_c);
}

extern "C" __global__ void corr_backward(const T* __restrict__ grad_out, const T* __restrict__ first,
                                         const T* __restrict__ second, T* __restrict__ grad_first,
                                         T* __restrict__ grad_second, const int B, const int C, const int H,
                                         const int W) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const long long plane = (long long)H * W;
    if (index >= (long long)B * C * plane) return;
    const int x = index % W;
    const int y = (index / W) % H;
    const long long bc = index / plane;
    const int b = bc / C;
    const T* g = grad_out + (long long)b * (N * N) * plane;
    const T* f = first + bc * plane;
    const T* s = second + bc * plane;
    float gf = 0.f, gs = 0.f;
#pragma unroll
    for (int i = 0; i < N; ++i) {
        const int dy = (i - D) * S;
#pragma unroll
        for (int j = 0; j < N; ++j) {
            const int dx = (j - D) * S;
            const int k = i * N + j;
            const int y2 = y + dy, x2 = x + dx;  // where second is read for out[k, y, x]
            if (y2 >= 0 && y2 < H && x2 >= 0 && x2 < W)
                gf += load(g, (long long)k * plane + (long long)y * W + x) * load(s, (long long)y2 * W + x2);
            const int y1 = y - dy, x1 = x - dx;  // the output pixel that read second[y, x] at displacement k
            if (y1 >= 0 && y1 < H && x1 >= 0 && x1 < W)
                gs += load(g, (long long)k * plane + (long long)y1 * W + x1) * load(f, (long long)y1 * W + x1);
        }
    }
    const float inv_c = 1.f / (float)C;
    store(grad_first, index, gf * inv_c);
    store(grad_second, index, gs * inv_c);
}
"""

_TYPE_NAMES = {torch.float32: "float", torch.float16: "__half"}
#: Input dtype -> the dtype of the kernel that runs it (bf16 has no kernel of its own: it runs in float32).
KERNEL_DTYPES = {torch.float32: torch.float32, torch.float16: torch.float16, torch.bfloat16: torch.float32}
THREADS = 256
_INT32_MAX = 2**31 - 1


def _import_cupy():
    import cupy  # noqa: PLC0415  (lazy on purpose: nothing CUDA-related at import)

    return cupy


def unavailable_reason(dtype: torch.dtype) -> str:
    """Why the CuPy path cannot run for ``dtype`` here ('' when it can)."""
    if dtype not in KERNEL_DTYPES:
        return f"the CuPy kernels support float32, float16 and bfloat16 (as float32), not {dtype}"
    if not torch.cuda.is_available():
        return "CUDA is not available"
    return _cupy_reason()


@functools.cache
def _cupy_reason() -> str:
    try:
        cupy = _import_cupy()
        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # ImportError, CUDARuntimeError, missing libraries
        return f"cupy is not usable: {type(exc).__name__}: {exc}"
    return ""


def supported(dtype: torch.dtype) -> bool:
    """True when the CuPy kernels can run for CUDA tensors of ``dtype`` (CuPy is probed once per process)."""
    return unavailable_reason(dtype) == ""


def kernel_source(dtype: torch.dtype, max_displacement: int, stride: int) -> str:
    """The CUDA source of both kernels specialised for ``dtype`` and the displacement parameters."""
    if dtype not in _TYPE_NAMES:
        raise ValueError(f"the CuPy kernels are compiled for float32 and float16, not {dtype}")
    return (f"#define T {_TYPE_NAMES[dtype]}\n#define MAX_DISP {max_displacement}\n#define STRIDE {stride}\n"
            + _SOURCE)


@functools.cache
def _include_options() -> tuple[str, ...]:
    """``-I`` for the CUDA headers (cuda_fp16.h) of the pip CUDA runtime when that is how CUDA was installed."""
    try:
        from cuda.pathfinder import find_nvidia_header_directory  # noqa: PLC0415  (ships with CuPy 14)

        folder = find_nvidia_header_directory("cudart")
    except Exception:  # older CuPy, system CUDA: NVRTC finds its own headers
        return ()
    return (f"-I{folder}",) if folder else ()


def compile_ptx(dtype: torch.dtype, max_displacement: int = 3, stride: int = 1, arch: str = "compute_90") -> str:
    """Compile the kernels to PTX with NVRTC for ``arch``; needs CuPy and NVRTC but no GPU (used by tests).

    Raises:
        RuntimeError: the compiler reports an error (its log is in the message).
    """
    from cupy.cuda import nvrtc  # noqa: PLC0415

    program = nvrtc.createProgram(kernel_source(dtype, max_displacement, stride), "correlation.cu", [], [])
    try:
        nvrtc.compileProgram(program, [f"-arch={arch}", *_include_options()])
    except nvrtc.NVRTCError as exc:
        raise RuntimeError(f"NVRTC failed: {exc}\n{nvrtc.getProgramLog(program)}") from exc
    ptx = nvrtc.getPTX(program)
    return ptx.decode() if isinstance(ptx, bytes) else ptx


# ------------------------------------------------------------------ what the kernels receive (runs on any device)


def prepare_inputs(first: torch.Tensor, second: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The two inputs as the kernels index them: NCHW-contiguous, same shape, a kernel dtype (bf16 -> float32).

    Raises:
        ValueError: shapes differ or are not 4-D, a dtype without a kernel, or a size the kernels' int32 arguments
            cannot hold.
    """
    if first.dim() != 4 or first.shape != second.shape:
        raise ValueError(f"correlation needs two (B, C, H, W) tensors of the same shape, got "
                         f"{tuple(first.shape)} and {tuple(second.shape)}")
    if first.dtype != second.dtype:
        raise ValueError(f"correlation inputs must have the same dtype, got {first.dtype} and {second.dtype}")
    kernel_dtype = KERNEL_DTYPES.get(first.dtype)
    if kernel_dtype is None:
        raise ValueError(f"the CuPy kernels support float32, float16 and bfloat16 (as float32), not {first.dtype}")
    if max(first.shape) > _INT32_MAX:
        raise ValueError(f"correlation input {tuple(first.shape)} is too large for the CuPy kernels")
    # .contiguous() is the NCHW layout (torch.contiguous_format): channels_last and other strided views are copied.
    return (first.to(kernel_dtype).contiguous(), second.to(kernel_dtype).contiguous())


def prepare_grad(grad_out: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The output gradient as the backward kernel indexes it: NCHW-contiguous, ``like``'s dtype (an expanded
    stride-0 gradient, e.g. from ``out.sum().backward()``, is materialised)."""
    return grad_out.to(like.dtype).contiguous()


def launch_config(count: int) -> tuple[int, int]:
    """(blocks, threads per block) covering ``count`` threads; the last block is partial when ``count`` is not a
    multiple of ``THREADS`` (the kernels return early past ``count``)."""
    if count <= 0:
        raise ValueError(f"nothing to launch for {count} threads")
    return (count + THREADS - 1) // THREADS, THREADS


def forward_launch(first: torch.Tensor, second: torch.Tensor, max_displacement: int,
                   empty=None) -> tuple[torch.Tensor, int, tuple]:
    """The forward output (uninitialised), its thread count and the kernel arguments, for prepared inputs.

    ``empty(shape, like)`` allocates (``like.new_empty`` by default; the CPU emulation passes guarded buffers).
    """
    import numpy as np

    batch, channels, height, width = first.shape
    n = 2 * max_displacement + 1
    shape = (batch, n * n, height, width)
    out = empty(shape, first) if empty is not None else first.new_empty(shape)
    args = (first.data_ptr(), second.data_ptr(), out.data_ptr(), np.int32(batch), np.int32(channels),
            np.int32(height), np.int32(width))
    return out, batch * height * width, args


def backward_launch(grad_out: torch.Tensor, first: torch.Tensor, second: torch.Tensor,
                    empty=None) -> tuple[torch.Tensor, torch.Tensor, int, tuple]:
    """Both input gradients (uninitialised), the thread count and the kernel arguments, for prepared tensors."""
    import numpy as np

    batch, channels, height, width = first.shape
    empty = empty or (lambda shape, like: like.new_empty(shape))
    grad_first = empty(tuple(first.shape), first)
    grad_second = empty(tuple(second.shape), second)
    args = (grad_out.data_ptr(), first.data_ptr(), second.data_ptr(), grad_first.data_ptr(), grad_second.data_ptr(),
            np.int32(batch), np.int32(channels), np.int32(height), np.int32(width))
    return grad_first, grad_second, first.numel(), args


# ----------------------------------------------------------------------------------------------- CUDA only


def _device_index(tensor: torch.Tensor) -> int:
    return tensor.device.index if tensor.device.index is not None else torch.cuda.current_device()


@functools.cache
def _kernels(device_index: int, dtype: torch.dtype, max_displacement: int, stride: int):
    cupy = _import_cupy()
    source = kernel_source(dtype, max_displacement, stride)
    with cupy.cuda.Device(device_index):
        module = cupy.RawModule(code=source, options=_include_options())
        return module.get_function("corr_forward"), module.get_function("corr_backward")


def _launch(kernel, tensor: torch.Tensor, count: int, args: tuple) -> None:
    cupy = _import_cupy()
    with cupy.cuda.Device(_device_index(tensor)):
        # Launch on torch's current stream (also inside a CUDA-graph capture), not on CuPy's default stream.
        stream = cupy.cuda.ExternalStream(torch.cuda.current_stream(tensor.device).cuda_stream)
        blocks, threads = launch_config(count)
        with stream:
            kernel((blocks,), (threads,), args)


class _CorrelationFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, first: torch.Tensor, second: torch.Tensor, max_displacement: int, stride: int) -> torch.Tensor:
        # inputs arrive prepared (correlation_cupy): NCHW-contiguous float32 / float16
        out, count, args = forward_launch(first, second, max_displacement)
        if out.numel():
            forward_kernel, _ = _kernels(_device_index(first), first.dtype, max_displacement, stride)
            _launch(forward_kernel, first, count, args)
        ctx.save_for_backward(first, second)
        ctx.params = (max_displacement, stride)
        return out

    @staticmethod
    @once_differentiable  # the backward kernel is not itself differentiable: double backward raises, not zeros
    def backward(ctx, grad_out: torch.Tensor):
        first, second = ctx.saved_tensors
        max_displacement, stride = ctx.params
        grad_out = prepare_grad(grad_out, first)
        grad_first, grad_second, count, args = backward_launch(grad_out, first, second)
        if count:
            _, backward_kernel = _kernels(_device_index(first), first.dtype, max_displacement, stride)
            _launch(backward_kernel, first, count, args)
        return grad_first, grad_second, None, None


def correlation_cupy(first: torch.Tensor, second: torch.Tensor, max_displacement: int, stride: int) -> torch.Tensor:
    """Run the CUDA kernels (see the module docstring) on CUDA tensors of any layout; the result has the inputs'
    dtype. Raises ``RuntimeError`` if CuPy cannot run."""
    reason = unavailable_reason(first.dtype)
    if reason:
        raise RuntimeError(f"CuPy correlation unavailable: {reason}")
    if first.device.type != "cuda" or second.device != first.device:
        raise ValueError(f"the CuPy kernels need both inputs on one CUDA device, got {first.device} and "
                         f"{second.device}")
    dtype = first.dtype
    kernel_first, kernel_second = prepare_inputs(first, second)  # differentiable: grads flow back through casts
    out = _CorrelationFunction.apply(kernel_first, kernel_second, max_displacement, stride)
    return out.to(dtype)
