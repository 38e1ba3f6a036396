"""The local correlation (cost volume) of the PF-AFN family: one public function, two implementations.

Semantics of the official CuPy kernel (architectures.md §1.1), kernel size 1, stride 1::

    out[b, (dy + d) * (2d + 1) + (dx + d), y, x] = mean_c first[b, c, y, x] * second[b, c, y + dy, x + dx]

for ``dy, dx in -d..d`` (``d = max_displacement``, 3 in every released model, giving 49 channels), with positions
outside the image contributing 0 (zero padding). ``dy`` is the outer (vertical) index, ``dx`` the inner one.

``impl="torch"`` runs on any device and dtype with autograd: batched GEMMs over row tiles (``correlation_torch``),
about 10x faster on CPU than the plain loop over displacements (``correlation_shift_loop``), which is kept as the
readable reference; memory stays O(C*H*W) per displacement either way.
``impl="cupy"`` runs forward and backward CUDA kernels (``_correlation_cupy``), fp32 and fp16, on
torch's current stream. ``impl="auto"`` picks CuPy for CUDA tensors when it works, else the torch path.
"""

from __future__ import annotations

import logging
import os
import warnings

import torch
import torch.nn.functional as F

logger = logging.getLogger(__name__)

_IMPLS = ("auto", "torch", "cupy", "loop")
# Process-wide default for impl="auto" (e.g. VTON_ZOO_CORRELATION=torch to never use CuPy, =loop for the plain
# reference loop in benchmarks).
ENV_VAR = "VTON_ZOO_CORRELATION"
_warned_fallback = False


def correlation(first: torch.Tensor, second: torch.Tensor, *, max_displacement: int = 3, stride: int = 1,
                impl: str = "auto") -> torch.Tensor:
    """Local correlation of two feature maps.

    Args:
        first: (B, C, H, W) features; the garment features in the try-on models.
        second: (B, C, H, W) features compared at each displacement; the person features.
        max_displacement: d; the output has (2d + 1)^2 channels.
        stride: displacement step (1 in every released model). Output positions are the full H x W grid.
        impl: ``"auto"``, ``"torch"``, ``"cupy"`` or ``"loop"`` (``correlation_shift_loop``). ``"auto"`` follows the
            ``VTON_ZOO_CORRELATION`` environment variable when it is set.

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
    if impl == "auto" and first.device.type == "cuda":
        from . import _correlation_cupy

        if _correlation_cupy.supported(first.dtype):
            return _correlation_cupy.correlation_cupy(first, second, max_displacement, stride)
        _warn_fallback(_correlation_cupy.unavailable_reason(first.dtype))
    if impl == "loop":
        return correlation_shift_loop(first, second, max_displacement=max_displacement, stride=stride)
    return correlation_torch(first, second, max_displacement=max_displacement, stride=stride)


def _warn_fallback(reason: str) -> None:
    global _warned_fallback
    if not _warned_fallback:
        _warned_fallback = True
        warnings.warn(f"CuPy correlation unavailable ({reason}); using the PyTorch implementation", RuntimeWarning,
                      stacklevel=3)


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
