"""Runs the CuPy correlation kernels' CUDA source on the CPU, thread by thread: the index maths checked without a GPU.

The exact source string the GPU compiles (``_correlation_cupy.kernel_source``) is compiled as C++ by the host
compiler, after a small header that supplies what CUDA would: ``blockIdx``/``blockDim``/``threadIdx`` (unsigned, as
in CUDA), ``__half`` as the IEEE binary16 ``_Float16`` with round-to-nearest-even conversions (as ``__float2half``),
and empty ``__global__``/``__device__`` qualifiers. A host loop then calls the kernel once per (block, thread) of the
launch grid that ``_correlation_cupy.launch_config`` computes, with the arguments that ``forward_launch`` /
``backward_launch`` build from tensors prepared by ``prepare_inputs`` / ``prepare_grad``: the Python side of the launch
is the production code, only the hardware is replaced.

The kernels use no shared memory, no atomics and no synchronisation (every thread writes its own outputs), so running
the threads one after another computes what the GPU computes, up to floating-point contraction (NVRTC fuses
multiply-adds). Every buffer sits between guard regions of NaN as long as the buffer itself: an out-of-bounds read
turns a result into NaN, an out-of-bounds write changes a guard, and an output element no thread writes stays NaN.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import torch

from vton_zoo.ops import _correlation_cupy as cc

_PRELUDE = r"""
#include <cstdint>
struct emu_uint3 { unsigned int x, y, z; };
static emu_uint3 blockIdx, threadIdx, blockDim, gridDim;
#define __global__
#define __device__
#define __forceinline__ inline
"""

_FP16_HEADER = r"""
#pragma once
typedef _Float16 __half;
inline float __half2float(__half h) { return (float)h; }
inline __half __float2half(float f) { return (__half)f; }
"""

_LAUNCHERS = r"""
template <typename... Args>
static void emu_launch(void (*kernel)(Args...), unsigned int grid, unsigned int block, Args... args) {
    gridDim = {grid, 1, 1};
    blockDim = {block, 1, 1};
    for (unsigned int b = 0; b < grid; ++b) {
        for (unsigned int t = 0; t < block; ++t) {
            blockIdx = {b, 0, 0};
            threadIdx = {t, 0, 0};
            kernel(args...);
        }
    }
}

extern "C" void launch_corr_forward(unsigned int grid, unsigned int block, const T* first, const T* second, T* out,
                                    int B, int C, int H, int W) {
    emu_launch(corr_forward, grid, block, first, second, out, B, C, H, W);
}

extern "C" void launch_corr_backward(unsigned int grid, unsigned int block, const T* grad_out, const T* first,
                                     const T* second, T* grad_first, T* grad_second, int B, int C, int H, int W) {
    emu_launch(corr_backward, grid, block, grad_out, first, second, grad_first, grad_second, B, C, H, W);
}
"""


def compiler() -> str | None:
    return shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")


def _library(dtype: torch.dtype, max_displacement: int, stride: int) -> ctypes.CDLL:
    return _compile(_PRELUDE + cc.kernel_source(dtype, max_displacement, stride) + _LAUNCHERS)


@functools.cache
def _compile(source: str) -> ctypes.CDLL:
    folder = Path(tempfile.gettempdir()) / "vton_zoo_kernel_emulation"
    folder.mkdir(exist_ok=True)
    digest = hashlib.sha256((_FP16_HEADER + source).encode()).hexdigest()[:16]
    library = folder / f"corr_{digest}.so"
    if not library.is_file():  # each process builds in its own scratch folder, then renames into place
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            (Path(scratch) / "cuda_fp16.h").write_text(_FP16_HEADER)
            source_path = Path(scratch) / "kernels.cpp"
            source_path.write_text(source)
            built = Path(scratch) / "kernels.so"
            result = subprocess.run([compiler(), "-std=c++17", "-O1", "-shared", "-fPIC", "-Wno-unknown-pragmas",
                                     "-I", scratch, str(source_path), "-o", str(built)],
                                    capture_output=True, text=True, timeout=120)
            if result.returncode != 0:
                raise RuntimeError(f"the kernel source does not compile as C++:\n{result.stderr[-4000:]}")
            os.replace(built, library)
    return ctypes.CDLL(str(library))


def _c_args(args: tuple) -> list:
    """The kernel arguments as built for CuPy (data pointers as ints, sizes as numpy int32) in ctypes form."""
    out = []
    for value in args:
        if isinstance(value, int):  # a data_ptr()
            out.append(ctypes.c_void_p(value))
        else:  # numpy.int32
            out.append(ctypes.c_int(int(value)))
    return out


def launch(name: str, tensor: torch.Tensor, count: int, args: tuple, max_displacement: int, stride: int) -> None:
    """What ``_correlation_cupy._launch`` does, on the CPU: the same grid, the same arguments."""
    blocks, threads = cc.launch_config(count)
    function = getattr(_library(tensor.dtype, max_displacement, stride), f"launch_{name}")
    function(ctypes.c_uint(blocks), ctypes.c_uint(threads), *_c_args(args))


class Guarded:
    """Allocates tensors in the middle of NaN guard regions as long as the tensor, and checks the guards."""

    def __init__(self) -> None:
        self.buffers: list[tuple[torch.Tensor, int]] = []

    def empty(self, shape, like: torch.Tensor) -> torch.Tensor:
        numel = 1
        for size in shape:
            numel *= size
        pad = max(numel, 64)
        buffer = torch.full((numel + 2 * pad,), float("nan"), dtype=like.dtype)
        self.buffers.append((buffer, pad))
        return buffer[pad:pad + numel].view(shape)

    def copy(self, tensor: torch.Tensor) -> torch.Tensor:
        """The ``numel`` elements from ``tensor.data_ptr()`` on, as a kernel reads them, in a guarded buffer (a
        tensor that is not NCHW-contiguous would come out scrambled, as it would on the GPU)."""
        out = self.empty(tuple(tensor.shape), tensor)
        if tensor.numel():
            out.view(-1).copy_(tensor.as_strided((tensor.numel(),), (1,)))
        return out

    def check(self) -> None:
        for buffer, pad in self.buffers:
            head, tail = buffer[:pad], buffer[buffer.numel() - pad:]
            if not (bool(torch.isnan(head).all()) and bool(torch.isnan(tail).all())):
                raise AssertionError("a kernel wrote outside its buffer (a guard region changed)")


def forward(first: torch.Tensor, second: torch.Tensor, max_displacement: int, stride: int,
            guard: Guarded) -> torch.Tensor:
    """The forward kernel on CPU tensors prepared as for the GPU (``first``/``second`` may have any layout)."""
    first, second = cc.prepare_inputs(first, second)
    first, second = guard.copy(first), guard.copy(second)
    out, count, args = cc.forward_launch(first, second, max_displacement, empty=guard.empty)
    launch("corr_forward", first, count, args, max_displacement, stride)
    return out


def backward(grad_out: torch.Tensor, first: torch.Tensor, second: torch.Tensor, max_displacement: int, stride: int,
             guard: Guarded) -> tuple[torch.Tensor, torch.Tensor]:
    """The backward kernel: gradients w.r.t. ``first`` and ``second`` for ``grad_out`` (any layout)."""
    first, second = cc.prepare_inputs(first, second)
    first, second = guard.copy(first), guard.copy(second)
    grad_out = guard.copy(cc.prepare_grad(grad_out, first))
    grad_first, grad_second, count, args = cc.backward_launch(grad_out, first, second, empty=guard.empty)
    launch("corr_backward", first, count, args, max_displacement, stride)
    return grad_first, grad_second


class _EmulatedCorrelation(torch.autograd.Function):
    @staticmethod
    def forward(ctx, first, second, max_displacement, stride):
        ctx.save_for_backward(first, second)
        ctx.params = (max_displacement, stride)
        return forward(first, second, max_displacement, stride, Guarded()).to(first.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        first, second = ctx.saved_tensors
        grad_first, grad_second = backward(grad_out, first, second, *ctx.params, Guarded())
        return grad_first.to(first.dtype), grad_second.to(second.dtype), None, None


def correlation_emulated(first: torch.Tensor, second: torch.Tensor, max_displacement: int,
                         stride: int) -> torch.Tensor:
    """The kernels as a differentiable op on CPU tensors (the call signature of ``correlation_cupy``)."""
    return _EmulatedCorrelation.apply(first, second, max_displacement, stride)
