"""Custom ops: the correlation cost volume (PyTorch reference + CuPy CUDA kernels) and flow/grid utilities."""

from .correlation import correlation
from .warp import apply_offset, warp

__all__ = ["apply_offset", "correlation", "warp"]
