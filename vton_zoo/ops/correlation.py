"""The local correlation (cost volume) of the PF-AFN family: one public function, two implementations.

Semantics of the official CuPy kernel (architectures.md §1.1), kernel size 1, stride 1::

    out[b, (dy + d) * (2d + 1) + (dx + d), y, x] = mean_c first[b, c, y, x] * second[b, c, y + dy, x + dx]

for ``dy, dx in -d..d`` (``d = max_displacement``, 3 in every released model, giving 49 channels), with positions
outside the image contributing 0 (zero padding). ``dy`` is the outer (vertical) index, ``dx`` the inner one.

``impl="torch"`` is the readable reference: a loop over the displacements, each a multiply and a channel mean, so
memory stays O(C*H*W) per displacement (an ``unfold`` would need (2d+1)^2 times that). It runs on any device and dtype
with autograd. ``impl="cupy"`` runs forward and backward CUDA kernels (``_correlation_cupy``), fp32 and fp16, on
torch's current stream. ``impl="auto"`` picks CuPy for CUDA tensors when it works, else the torch path.
"""

from __future__ import annotations

import logging
import warnings

import torch
import torch.nn.functional as F

logger = logging.getLogger(__name__)

_IMPLS = ("auto", "torch", "cupy")
_warned_fallback = False


def correlation(first: torch.Tensor, second: torch.Tensor, *, max_displacement: int = 3, stride: int = 1,
                impl: str = "auto") -> torch.Tensor:
    """Local correlation of two feature maps.

    Args:
        first: (B, C, H, W) features; the garment features in the try-on models.
        second: (B, C, H, W) features compared at each displacement; the person features.
        max_displacement: d; the output has (2d + 1)^2 channels.
        stride: displacement step (1 in every released model). Output positions are the full H x W grid.
        impl: ``"auto"``, ``"torch"`` or ``"cupy"``.

    Returns:
        (B, (2d + 1)^2, H, W) in the inputs' dtype.
    """
    if impl not in _IMPLS:
        raise ValueError(f"impl must be one of {_IMPLS}, got {impl!r}")
    if first.dim() != 4 or first.shape != second.shape:
        raise ValueError(f"correlation needs two (B, C, H, W) tensors of the same shape, got "
                         f"{tuple(first.shape)} and {tuple(second.shape)}")
    if first.dtype != second.dtype or first.device != second.device:
        raise ValueError(f"correlation inputs must share dtype and device, got {first.dtype}/{first.device} and "
                         f"{second.dtype}/{second.device}")
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
    return correlation_torch(first, second, max_displacement=max_displacement, stride=stride)


def _warn_fallback(reason: str) -> None:
    global _warned_fallback
    if not _warned_fallback:
        _warned_fallback = True
        warnings.warn(f"CuPy correlation unavailable ({reason}); using the PyTorch implementation", RuntimeWarning,
                      stacklevel=3)


def correlation_torch(first: torch.Tensor, second: torch.Tensor, *, max_displacement: int = 3,
                      stride: int = 1) -> torch.Tensor:
    """Reference implementation: one multiply + channel mean per displacement.

    Low-precision inputs (fp16/bf16) are multiplied and summed in float32 and cast back, like the CuPy kernel's
    float accumulator, so the result is as exact as the output dtype allows.
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
