"""SSIM (Wang, Bovik, Sheikh, Simoncelli, "Image quality assessment: from error visibility to structural
similarity", IEEE TIP 13(4), 2004), as the authors' reference ``ssim.m`` computes it.

An 11x11 Gaussian window (sigma 1.5) gives local means, variances and covariance (population, i.e. normalised
by the window weights); ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2`` with ``L`` the data range (255 for uint8); the SSIM
map is kept where the window fits inside the image ("valid") and averaged; colour images: the mean over the RGB
channels. This equals ``skimage.metrics.structural_similarity(a, b, channel_axis=-1, gaussian_weights=True,
sigma=1.5, use_sample_covariance=False, data_range=255)``. Try-on papers differ here (pytorch-ssim zero-pads the
window, torchmetrics reflects): values are comparable only between runs of the same code.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

WINDOW = 11
SIGMA = 1.5
K1, K2 = 0.01, 0.03


def gaussian_window(size: int = WINDOW, sigma: float = SIGMA) -> np.ndarray:
    """Normalised 1-D Gaussian of ``size`` taps."""
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2
    window = np.exp(-0.5 * (offsets / sigma) ** 2)
    return window / window.sum()


def _as_batch(images: np.ndarray | torch.Tensor, what: str) -> np.ndarray:
    """uint8 / float ``(H, W, C)``, ``(N, H, W, C)`` or ``(H, W)`` -> float64 ``(N, H, W, C)``."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    array = np.asarray(images, dtype=np.float64)
    if array.ndim == 2:
        array = array[None, :, :, None]
    elif array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"{what} must be (H, W), (H, W, C) or (N, H, W, C), got shape {array.shape}")
    return array


def ssim(first: np.ndarray | torch.Tensor, second: np.ndarray | torch.Tensor, *, data_range: float = 255.0,
         window: int = WINDOW, sigma: float = SIGMA) -> np.ndarray:
    """SSIM per image between two images or batches in HWC layout (uint8 by default: ``data_range=255``).

    Returns:
        float64 ``(N,)``: one value per image (mean over the valid SSIM map and the channels).

    Raises:
        ValueError: shapes differ, or an image is smaller than the window.
    """
    a, b = _as_batch(first, "first"), _as_batch(second, "second")
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape} (N, H, W, C)")
    if min(a.shape[1:3]) < window:
        raise ValueError(f"images of {a.shape[1:3]} are smaller than the {window}x{window} SSIM window")
    taps = gaussian_window(window, sigma)
    radius = window // 2

    def blur(x: np.ndarray) -> np.ndarray:
        # Separable Gaussian; cropping the border keeps the windows that lie inside the image ("valid").
        x = ndimage.correlate1d(x, taps, axis=1, mode="constant")
        x = ndimage.correlate1d(x, taps, axis=2, mode="constant")
        return x[:, radius:x.shape[1] - radius, radius:x.shape[2] - radius]

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return ssim_map.mean(axis=(1, 2, 3))
