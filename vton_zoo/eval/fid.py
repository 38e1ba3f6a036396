"""FID and KID on Inception features of two image folders, computed as pytorch-fid computes FID.

- Features (:func:`inception_features`): images read with PIL as RGB, scaled to [0, 1] (``ToTensor``), through the
  FID Inception (:mod:`vton_zoo.eval.inception`), spatially averaged, float64. With pytorch-fid importable its own
  ``get_activations`` does this.
- FID (:func:`frechet_distance`): ``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))`` with pytorch-fid's fallback
  (``eps`` on the diagonals when the product is singular) and its check on imaginary parts. pytorch-fid's own
  function is used when it works with the installed SciPy (it calls ``sqrtm(disp=False)``, removed in SciPy 1.18).
- KID (:func:`kernel_inception_distance`): the unbiased estimator of the squared MMD with the cubic polynomial
  kernel ``k(x, y) = (x.y / d + 1)^3`` (Binkowski et al., "Demystifying MMD GANs", ICLR 2018), averaged over random
  subsets as torch-fidelity and clean-fid do (100 subsets of at most 1000 images, seeded). Papers often print it
  x 1000.

FID is biased for small sets (pytorch-fid's README: use at least 2048 images for ``dims=2048``); KID is not, which is
why it is reported next to FID on the small try-on test sets.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import linalg

logger = logging.getLogger(__name__)

#: What pytorch-fid globs in a folder.
IMAGE_EXTENSIONS = ("bmp", "jpg", "jpeg", "pgm", "png", "ppm", "tif", "tiff", "webp")


def image_files(folder: str | Path) -> list[Path]:
    """The images of ``folder`` (not recursive), sorted, as pytorch-fid lists them."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"image folder not found: {folder}")
    return sorted(path for ext in IMAGE_EXTENSIONS for path in folder.glob(f"*.{ext}"))


def _read(path: Path) -> torch.Tensor:
    with Image.open(path) as image:
        array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array.transpose(2, 0, 1).copy())


def inception_features(files: Sequence[str | Path], model: torch.nn.Module, *, batch_size: int = 50,
                       device: str | torch.device = "cpu", num_workers: int = 0) -> np.ndarray:
    """Inception features of image files: float64 ``(N, dims)``.

    Args:
        files: image paths (images of one batch must share a size, as in pytorch-fid).
        model: from :func:`vton_zoo.eval.inception.load_inception` (or any module returning ``[features]``).
        batch_size: images per forward pass.
        device: where ``model`` is.
        num_workers: DataLoader workers for pytorch-fid's reader.
    """
    files = [Path(f) for f in files]
    if not files:
        raise ValueError("no images to compute Inception features of")
    dims = int(getattr(model, "dims", 2048))
    if getattr(model, "backend", "zoo") == "pytorch-fid":
        from pytorch_fid.fid_score import get_activations

        return get_activations([str(f) for f in files], model, min(batch_size, len(files)), dims, device,
                               num_workers)
    features = np.empty((len(files), dims), np.float64)
    model.eval()
    for start in range(0, len(files), batch_size):
        chunk = files[start:start + batch_size]
        images = [_read(path) for path in chunk]
        sizes = {tuple(image.shape) for image in images}
        if len(sizes) > 1:
            raise ValueError(f"images of one batch differ in size ({sorted(sizes)}); resize them to one size first")
        with torch.no_grad():
            output = model(torch.stack(images).to(device))[0]
        if output.shape[2:] != (1, 1):
            output = F.adaptive_avg_pool2d(output, (1, 1))
        features[start:start + len(chunk)] = output.flatten(1).double().cpu().numpy()
    return features


def statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (``np.cov``, rows are samples) of features."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need at least 2 feature vectors (N, D) for a covariance, got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _frechet(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float) -> float:
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        logger.warning("FID: singular covariance product; adding %g to the diagonals", eps)
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"FID: imaginary component {np.max(np.abs(covmean.imag))} in the matrix square root")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """The Frechet distance between N(mu1, sigma1) and N(mu2, sigma2) (pytorch-fid's ``calculate_frechet_distance``
    when it runs with the installed SciPy, else the same computation here)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"statistics do not match: mu {mu1.shape} / {mu2.shape}, sigma {sigma1.shape} / "
                         f"{sigma2.shape}")
    try:
        from pytorch_fid.fid_score import calculate_frechet_distance
    except ImportError:
        return _frechet(mu1, sigma1, mu2, sigma2, eps)
    try:
        return float(calculate_frechet_distance(mu1, sigma1, mu2, sigma2, eps))
    except TypeError:  # SciPy >= 1.18: sqrtm() lost its disp argument
        return _frechet(mu1, sigma1, mu2, sigma2, eps)


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> np.ndarray:
    """``(x y^T / d + coef0) ** degree`` with ``d`` the feature size (KID's kernel)."""
    return (x @ y.T / x.shape[1] + coef0) ** degree


def mmd2_unbiased(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> float:
    """Unbiased estimate of the squared MMD between the samples ``x`` (m, d) and ``y`` (n, d) (m, n >= 2)."""
    m, n = len(x), len(y)
    k_xx = polynomial_kernel(x, x, degree, coef0)
    k_yy = polynomial_kernel(y, y, degree, coef0)
    k_xy = polynomial_kernel(x, y, degree, coef0)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2 * k_xy.mean())


def kernel_inception_distance(features_x: np.ndarray, features_y: np.ndarray, *, subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """KID: mean and standard deviation over ``subsets`` random subsets (without replacement, each of
    ``min(subset_size, len(x), len(y))`` rows per side) of :func:`mmd2_unbiased`."""
    x, y = np.asarray(features_x, np.float64), np.asarray(features_y, np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"features must be (N, D) with the same D, got {x.shape} and {y.shape}")
    size = min(subset_size, len(x), len(y))
    if size < 2:
        raise ValueError(f"KID needs at least 2 images per side, got {len(x)} and {len(y)}")
    rng = np.random.default_rng(seed)
    values = np.array([mmd2_unbiased(x[rng.choice(len(x), size, replace=False)],
                                     y[rng.choice(len(y), size, replace=False)]) for _ in range(subsets)])
    return float(values.mean()), float(values.std())


def fid_kid(generated: str | Path | Sequence[Path], real: str | Path | Sequence[Path], model: torch.nn.Module, *,
            batch_size: int = 50, device: str | torch.device = "cpu", num_workers: int = 0,
            kid_subsets: int = 100, kid_subset_size: int = 1000) -> dict[str, float | int]:
    """FID and KID between two image folders (or lists of files).

    Returns:
        ``{"fid", "kid", "kid_std", "num_generated", "num_real"}``.
    """
    generated_files = image_files(generated) if isinstance(generated, (str, Path)) else list(generated)
    real_files = image_files(real) if isinstance(real, (str, Path)) else list(real)
    for name, files in (("generated", generated_files), ("real", real_files)):
        if len(files) < 2:
            raise ValueError(f"FID needs at least 2 {name} images, got {len(files)}")
    options = dict(batch_size=batch_size, device=device, num_workers=num_workers)
    features_generated = inception_features(generated_files, model, **options)
    features_real = inception_features(real_files, model, **options)
    fid = frechet_distance(*statistics(features_generated), *statistics(features_real))
    kid, kid_std = kernel_inception_distance(features_generated, features_real, subsets=kid_subsets,
                                             subset_size=kid_subset_size)
    return {"fid": fid, "kid": kid, "kid_std": kid_std, "num_generated": len(generated_files),
            "num_real": len(real_files)}
