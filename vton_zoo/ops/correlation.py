"""The local correlation (cost volume) of the PF-AFN family: one public function, two implementations.

Semantics of the official CuPy kernel (architectures.md §1.1), kernel size 1, stride 1::

    out[b, (dy + d) * (2d + 1) + (dx + d), y, x] = mean_c first[b, c, y, x] * second[b, c, y + dy, x + dx]

for ``dy, dx in -d..d`` (``d = max_displacement``, 3 in every released model, giving 49 channels), with positions
outside the image contributing 0 (zero padding). ``dy`` is the outer (vertical) index, ``dx`` the inner one.

``impl="torch"`` runs on any device and dtype with autograd: batched GEMMs over row tiles (``correlation_torch``),
about 10x faster on CPU than the plain loop over displacements (``correlation_shift_loop``), which is kept as the
readable reference; memory stays O(C*H*W) per displacement either way.
``impl="cupy"`` runs forward and backward CUDA kernels (``_correlation_cupy``), fp32 and fp16 (bf16 through the fp32
kernel), on torch's current stream. ``impl="auto"`` picks CuPy for CUDA tensors when it works, else the torch path.

Self-check (``impl="auto"`` only): the first time CuPy would run for a (device, kernel dtype, max_displacement,
stride), ``CheckedKernel`` runs forward and backward of CuPy and of the PyTorch path (in float64, so TF32 settings
cannot blur the reference) on a small random input (``SELFCHECK_SHAPE``, a private generator: the global RNGs are
untouched) and compares the output and both gradients. CuPy is used for that
key only when the largest difference, relative to the largest |value| of the PyTorch result, is within
``SELFCHECK_TOLERANCE`` (1e-4 for float32, 1e-2 for float16, whose outputs are rounded to 2^-11); otherwise one
warning with the measured error (or the kernel's exception) is logged and the key stays on the PyTorch path for the
life of the process. The check takes milliseconds (the sizes are tiny; NVRTC's first compile, paid by the first CuPy
call anyway, is not counted) and its cost is logged at INFO. ``VTON_ZOO_CUPY_SELFCHECK=0`` skips it (benchmarks).
The decision is made once per key under a lock (the app runs jobs in threads). A first call inside a CUDA-graph
capture does not check (it could not synchronise): that call runs the PyTorch path and the check waits for an
uncaptured call.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

logger = logging.getLogger(__name__)

_IMPLS = ("auto", "torch", "cupy", "loop")
# Process-wide default for impl="auto" (e.g. VTON_ZOO_CORRELATION=torch to never use CuPy, =loop for the plain
# reference loop in benchmarks).
ENV_VAR = "VTON_ZOO_CORRELATION"
#: "0" skips the CuPy self-check (benchmarks); anything else, or unset, checks each key once.
SELFCHECK_ENV = "VTON_ZOO_CUPY_SELFCHECK"
#: (B, C, H, W) of the self-check: B*H*W = 286 and B*C*H*W = 9152 are not multiples of the 256-thread blocks (a
#: partial last block in both kernels), H and W are not multiples of 32, and 11 >= 2 * 4 + 1 rows so even d=4 has
#: interior and border pixels.
SELFCHECK_SHAPE = (2, 32, 11, 13)
#: Largest |kernel - PyTorch| allowed, relative to the largest |PyTorch value|, per kernel dtype; the PyTorch side is
#: computed in float64 from the same inputs. float32: the kernel sums 32 products in float32 (about 1e-7); float16:
#: the kernel rounds its float32 sums to float16 (half a unit in the last place is up to 2^-11 of the largest value).
#: A wrong index moves whole elements: errors of order 0.1-1.
SELFCHECK_TOLERANCE = {torch.float32: 1e-4, torch.float16: 1e-2}


def correlation(first: torch.Tensor, second: torch.Tensor, *, max_displacement: int = 3, stride: int = 1,
                impl: str = "auto") -> torch.Tensor:
    """Local correlation of two feature maps.

    Args:
        first: (B, C, H, W) features; the garment features in the try-on models. Any memory layout.
        second: (B, C, H, W) features compared at each displacement; the person features.
        max_displacement: d; the output has (2d + 1)^2 channels.
        stride: displacement step (1 in every released model). Output positions are the full H x W grid.
        impl: ``"auto"``, ``"torch"``, ``"cupy"`` or ``"loop"`` (``correlation_shift_loop``). ``"auto"`` follows the
            ``VTON_ZOO_CORRELATION`` environment variable when it is set; on CUDA it uses CuPy for the keys that
            passed the self-check (module docstring). ``"cupy"`` runs the kernels unchecked.

    Returns:
        (B, (2d + 1)^2, H, W) in the inputs' dtype.
    """
    if impl == "auto":
        impl = os.environ.get(ENV_VAR, "auto") or "auto"
    if impl not in _IMPLS:
        raise ValueError(f"impl must be one of {_IMPLS}, got {impl!r}")
    if first.dim() != 4 or first.shape != second.shape:
        raise ValueError(f"correlation needs two (B, C, H, W) tensors of the same shape, got "
                         f"{tuple(first.shape)} and {tuple(second.shape)}")
    if first.device != second.device:
        raise ValueError(f"correlation inputs must be on the same device, got {first.device} and {second.device}")
    if first.dtype != second.dtype:  # e.g. under autocast: a bf16 conv output meets an fp32 grid_sample output
        common = torch.promote_types(first.dtype, second.dtype)
        first, second = first.to(common), second.to(common)
    if max_displacement < 0 or stride < 1:
        raise ValueError(f"need max_displacement >= 0 and stride >= 1, got {max_displacement}, {stride}")

    if impl == "cupy":
        if first.device.type != "cuda":
            raise ValueError(f"impl='cupy' needs CUDA tensors, got a tensor on {first.device}; use impl='torch' "
                             f"or impl='auto' on the CPU")
        from . import _correlation_cupy

        return _correlation_cupy.correlation_cupy(first, second, max_displacement, stride)
    if impl == "auto" and first.device.type in _CUPY.device_types:
        out = _CUPY(first, second, max_displacement, stride)
        if out is not None:
            return out
    if impl == "loop":
        return correlation_shift_loop(first, second, max_displacement=max_displacement, stride=stride)
    return correlation_torch(first, second, max_displacement=max_displacement, stride=stride)


@dataclass(frozen=True)
class SelfCheck:
    """The outcome of one self-check: ``error`` is relative to the reference's largest |value| (inf when the kernel
    raised or gave non-finite values; ``detail`` then says what happened)."""

    device: str
    dtype: torch.dtype
    max_displacement: int
    stride: int
    passed: bool
    error: float
    tolerance: float
    seconds: float
    detail: str = ""

    def describe(self) -> str:
        what = f"{self.device} {str(self.dtype).replace('torch.', '')} d={self.max_displacement} s={self.stride}"
        error = self.detail or f"max error {self.error:.2e} (tolerance {self.tolerance:.0e})"
        return f"{what}: {error}, checked in {self.seconds * 1e3:.1f} ms"


def _relative_error(got: torch.Tensor, reference: torch.Tensor) -> float:
    got, reference = got.detach().double(), reference.detach().double()
    if got.shape != reference.shape:
        return math.inf
    if not bool(torch.isfinite(got).all()):
        return math.inf
    scale = float(reference.abs().max()) if reference.numel() else 0.0
    return float((got - reference).abs().max()) / max(scale, 1e-12) if got.numel() else 0.0


class CheckedKernel:
    """Runs a fast correlation kernel for a (device, kernel dtype, max_displacement, stride) key only after the kernel
    matched ``reference`` on a small random input (module docstring); ``None`` means "use the PyTorch path".

    Args:
        kernel: ``kernel(first, second, max_displacement, stride)`` with autograd (the CuPy kernels in production;
            tests pass stand-ins that are right, wrong or raise, on CPU tensors).
        reference: the trusted implementation, same call with keywords (``correlation_torch``); run in float64.
        unavailable: ``unavailable(dtype)`` says why the kernel cannot run at all ('' when it can); warned once per
            reason, without a self-check.
        device_types: the device types the kernel is for (``("cuda",)`` in production).
        kernel_dtypes: input dtype -> the dtype the kernel computes in (the check runs in that dtype); other dtypes
            use the PyTorch path silently.
    """

    def __init__(self, kernel: Callable, reference: Callable, *, unavailable: Callable[[torch.dtype], str],
                 device_types: tuple[str, ...] = ("cuda",), kernel_dtypes: dict | None = None,
                 name: str = "CuPy") -> None:
        self.kernel = kernel
        self.reference = reference
        self.unavailable = unavailable
        self.device_types = device_types
        self.kernel_dtypes = kernel_dtypes if kernel_dtypes is not None else {
            torch.float32: torch.float32, torch.float16: torch.float16, torch.bfloat16: torch.float32}
        self.name = name
        self.results: dict[tuple, SelfCheck] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, first: torch.Tensor, second: torch.Tensor, max_displacement: int,
                 stride: int) -> torch.Tensor | None:
        kernel_dtype = self.kernel_dtypes.get(first.dtype)
        if kernel_dtype is None:
            return None
        reason = self.unavailable(first.dtype)
        if reason:
            self._warn_once(reason, f"{self.name} correlation unavailable ({reason}); using the PyTorch "
                                    f"implementation")
            return None
        if os.environ.get(SELFCHECK_ENV, "1").strip() != "0":
            if not self.passed(first.device, kernel_dtype, max_displacement, stride):
                return None
        return self.kernel(first, second, max_displacement, stride)

    def passed(self, device: torch.device, dtype: torch.dtype, max_displacement: int, stride: int) -> bool:
        """Whether the kernel may run for this key; the first call checks (once, under a lock)."""
        key = (str(device), dtype, max_displacement, stride)
        result = self.results.get(key)
        if result is None:
            if device.type == "cuda" and torch.cuda.is_current_stream_capturing():
                logger.debug("%s correlation self-check deferred: first call inside a CUDA-graph capture", self.name)
                return False
            with self._lock:
                result = self.results.get(key)
                if result is None:
                    result = self.check(device, dtype, max_displacement, stride)
                    self.results[key] = result
                    if result.passed:
                        logger.info("%s correlation self-check passed on %s", self.name, result.describe())
                    else:
                        logger.warning("%s correlation self-check FAILED on %s; using the PyTorch implementation "
                                       "for this case from now on", self.name, result.describe())
        return result.passed

    def check(self, device: torch.device, dtype: torch.dtype, max_displacement: int, stride: int) -> SelfCheck:
        """Forward and backward of kernel and reference on ``SELFCHECK_SHAPE`` random inputs (does not record)."""
        tolerance = SELFCHECK_TOLERANCE.get(dtype, SELFCHECK_TOLERANCE[torch.float32])
        start = time.perf_counter()
        error, detail = math.inf, ""
        try:
            with torch.inference_mode(False), torch.enable_grad(), torch.autocast(device.type, enabled=False):
                generator = torch.Generator().manual_seed(20240)
                batch, channels, height, width = SELFCHECK_SHAPE
                n = 2 * max_displacement + 1
                first = torch.randn(SELFCHECK_SHAPE, generator=generator).to(device, dtype)
                second = torch.randn(SELFCHECK_SHAPE, generator=generator).to(device, dtype)
                grad = torch.randn((batch, n * n, height, width), generator=generator).to(device, dtype)
                results = []
                # the reference in float64: exact whatever the matmul precision settings (TF32) say
                for run_dtype, run in ((dtype, lambda a, b: self.kernel(a, b, max_displacement, stride)),
                                       (torch.float64, lambda a, b: self.reference(
                                           a, b, max_displacement=max_displacement, stride=stride))):
                    a = first.to(run_dtype, copy=True).requires_grad_(True)
                    b = second.to(run_dtype, copy=True).requires_grad_(True)
                    out = run(a, b)
                    results.append((out, *torch.autograd.grad(out, (a, b), grad.to(run_dtype))))
                error = max(_relative_error(got, ref) for got, ref in zip(*results))
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
            if not math.isfinite(error):
                detail = "non-finite or misshapen output"
        except Exception as exc:  # a compile error, a launch failure, a missing library: the PyTorch path stays
            detail = f"the kernel raised {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
        seconds = time.perf_counter() - start
        return SelfCheck(str(device), dtype, max_displacement, stride, error <= tolerance, error, tolerance, seconds,
                         detail)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            with self._lock:
                if key not in self._warned:
                    self._warned.add(key)
                    logger.warning("%s", message)


def _cupy_kernel(first: torch.Tensor, second: torch.Tensor, max_displacement: int, stride: int) -> torch.Tensor:
    from . import _correlation_cupy

    return _correlation_cupy.correlation_cupy(first, second, max_displacement, stride)


def _cupy_unavailable(dtype: torch.dtype) -> str:
    from . import _correlation_cupy

    return _correlation_cupy.unavailable_reason(dtype)


def correlation_torch(first: torch.Tensor, second: torch.Tensor, *, max_displacement: int = 3,
                      stride: int = 1, tile: int = 32) -> torch.Tensor:
    """PyTorch implementation as banded matrix products (the default off-GPU path).

    For each vertical displacement, the channels-last rows of ``first`` are cut into tiles of ``tile`` pixels and
    multiplied (one batched GEMM) with the matching window of ``second`` (the tile widened by the horizontal
    displacement range); the (2d+1) diagonals of each tile's product are the correlation values. This computes the
    same sums as ``correlation_shift_loop`` with GEMM kernels instead of 49 memory-bound multiply-and-reduce passes
    (about 10x faster on CPU), and holds O(C*H*W) extra memory per vertical displacement. Low-precision inputs are
    computed in float32 and cast back. Autograd flows through the matmuls.
    """
    n = 2 * max_displacement + 1
    reach = max_displacement * stride
    batch, channels, height, width = first.shape
    compute_dtype = torch.float32 if first.dtype in (torch.float16, torch.bfloat16) else first.dtype
    tile = max(1, min(tile, width))
    padded_width = -(-width // tile) * tile
    tiles = padded_width // tile
    first_rows = first.to(compute_dtype).permute(0, 2, 3, 1)  # [B, H, W, C]
    if padded_width != width:
        first_rows = F.pad(first_rows, (0, 0, 0, padded_width - width))
    first_tiles = first_rows.reshape(batch, height, tiles, tile, channels)
    second_rows = F.pad(second.to(compute_dtype), (reach, reach + padded_width - width, reach, reach))
    second_rows = second_rows.permute(0, 2, 3, 1).contiguous()  # [B, H+2r, Wp+2r, C], zeros outside the image
    window = tile + 2 * reach
    planes = []
    for i in range(n):  # vertical displacement dy = (i - d) * stride
        rows = second_rows[:, i * stride:i * stride + height]  # [B, H, Wp+2r, C]
        windows = rows.as_strided((batch, height, tiles, window, channels),
                                  (rows.stride(0), rows.stride(1), tile * channels, channels, 1),
                                  rows.storage_offset())
        products = torch.matmul(first_tiles, windows.transpose(-1, -2))  # [B, H, tiles, T, T+2r]
        # out[x, j] = products[x, x + j*stride]: the j-th diagonal of each tile
        diagonals = products.as_strided((batch, height, tiles, tile, n),
                                        (products.stride(0), products.stride(1), products.stride(2),
                                         window + 1, stride), products.storage_offset())
        planes.append(diagonals.reshape(batch, height, padded_width, n)[:, :, :width])
    out = torch.stack(planes, 1)  # [B, dy, H, W, dx]
    out = out.permute(0, 1, 4, 2, 3).reshape(batch, n * n, height, width) / channels
    return out.to(first.dtype)


def correlation_shift_loop(first: torch.Tensor, second: torch.Tensor, *, max_displacement: int = 3,
                           stride: int = 1) -> torch.Tensor:
    """The plainest implementation: one multiply + channel mean per displacement (what the fixtures were made with).

    Memory stays O(C*H*W) per displacement (an ``unfold`` would need (2d+1)^2 times that). Kept as a readable
    reference and a cross-check of ``correlation_torch``.
    """
    d = max_displacement * stride
    height, width = first.shape[-2:]
    compute_dtype = torch.float32 if first.dtype in (torch.float16, torch.bfloat16) else first.dtype
    first_c = first.to(compute_dtype)
    second_padded = F.pad(second.to(compute_dtype), (d, d, d, d))  # zeros outside the image
    planes = []
    for dy in range(-max_displacement, max_displacement + 1):  # outer: vertical
        top = d + dy * stride
        for dx in range(-max_displacement, max_displacement + 1):  # inner: horizontal
            left = d + dx * stride
            shifted = second_padded[:, :, top:top + height, left:left + width]
            planes.append((first_c * shifted).mean(1))
    return torch.stack(planes, 1).to(first.dtype)  # [B, (2d+1)^2, H, W]


def correlation_naive(first: torch.Tensor, second: torch.Tensor, max_displacement: int = 3,
                      stride: int = 1) -> torch.Tensor:
    """Direct float64 transcription of the kernel's index maths, one output element at a time (the test oracle)."""
    f = first.detach().double().cpu()
    s = second.detach().double().cpu()
    batch, channels, height, width = f.shape
    n = 2 * max_displacement + 1
    out = torch.zeros(batch, n * n, height, width, dtype=torch.float64)
    for b in range(batch):
        for y in range(height):
            for x in range(width):
                for top_channel in range(n * n):
                    dy = (top_channel // n - max_displacement) * stride
                    dx = (top_channel % n - max_displacement) * stride
                    y2, x2 = y + dy, x + dx
                    if 0 <= y2 < height and 0 <= x2 < width:
                        acc = 0.0
                        for c in range(channels):
                            acc += float(f[b, c, y, x]) * float(s[b, c, y2, x2])
                        out[b, top_channel, y, x] = acc / channels
    return out


#: The CuPy path of ``impl="auto"`` (module docstring). Tests swap in a ``CheckedKernel`` with a stand-in kernel and
#: ``device_types=("cpu",)`` to drive the decision logic without a GPU.
_CUPY = CheckedKernel(_cupy_kernel, correlation_torch, unavailable=_cupy_unavailable)
