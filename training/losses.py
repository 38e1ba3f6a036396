"""The losses of the official training recipes (architectures.md §1.7, §2.5, §4.5, §5.4, §6.4, §7).

- :class:`VGG19Features` / :func:`load_vgg19` / :class:`VGGLoss`: the perceptual loss on torchvision's VGG19
  (slices relu1_1 ... relu5_1, weights 1/32 ... 1, on [-1, 1] images without ImageNet normalisation, as PF-AFN,
  DM-VTON, GP-VTON and CP-VTON apply it); :func:`gram_matrix` / :class:`StyleContentLoss` for DAFlow.
- :func:`tv_loss`, :func:`second_order_deltas`, :func:`second_order_smooth_loss`: the flow regularisers.
- :class:`SpectralDiscriminator`, :func:`lsgan_d_loss`, :func:`lsgan_g_loss`: GP-VTON's LSGAN.
- :func:`distillation_gate`, :func:`feature_distillation_loss`, :func:`flow_distillation_loss`: PF-AFN's
  "adjustable knowledge distillation" (and DM-VTON's garment-feature term), gated per sample.
- :func:`gmm_loss`, :func:`tom_loss`: CP-VTON.
- :func:`parsing_loss`, :func:`truncate_gradients`: GP-VTON's weighted cross-entropy and dynamic gradient truncation.
- :func:`ssim`: the validation metric.

Nothing here downloads anything by itself: :func:`load_vgg19` asks torchvision for its ImageNet weights only when
no local file is given, and raises a ``RuntimeError`` that says what to do when that fails.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vton_zoo.models.gp_vton import second_order_filters

logger = logging.getLogger(__name__)

VGG_WEIGHTS_ENV = "VTON_ZOO_VGG_WEIGHTS"
# torchvision vgg19 "features": conv channels per block, "M" = 2x2 max pool (indices 0..36 as in torchvision).
_VGG19_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
# relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 as slices of ``features`` (architectures.md §1.7)
VGG_SLICES = ((0, 2), (2, 7), (7, 12), (12, 21), (21, 30))
VGG_LAYER_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)


# ---------------------------------------------------------------------------------------------------------------
# VGG19 perceptual loss


class VGG19Features(nn.Module):
    """torchvision's ``vgg19().features`` (same module indices, so its state dict loads), frozen, in eval mode.

    Args:
        ceil_mode: the pooling mode; DM-VTON sets ``ceil_mode=True`` on its pools, the others keep torchvision's
            ``False``. It changes no parameter.
    """

    def __init__(self, ceil_mode: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3
        for item in _VGG19_CFG:
            if item == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=ceil_mode))
            else:
                layers += [nn.Conv2d(in_channels, item, kernel_size=3, padding=1), nn.ReLU(inplace=False)]
                in_channels = item
        self.features = nn.Sequential(*layers)
        # torchvision's VGG initialisation (``vgg19(weights=None)``): He-normal, fan-out. Only a stand-in when the
        # ImageNet weights are not loaded, but unlike PyTorch's default conv init it keeps the activations' scale
        # through the 16 layers, so a perceptual loss on random features is not ~1e-3 of its real size.
        for module in self.features:
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGG19Features:
        return super().train(False)  # always frozen

    def forward(self, x: torch.Tensor, depth: int = 30) -> list[torch.Tensor]:
        """The activations after every ReLU of ``features[:depth]`` keyed by index, as a list in order."""
        outputs = []
        for index, layer in enumerate(self.features[:depth]):
            x = layer(x)
            if isinstance(layer, nn.ReLU):
                outputs.append((index, x))
        return outputs


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path} does not hold a state dict (got {type(state).__name__})")
    # Accept the full torchvision vgg19 state dict (features.* + classifier.*) or just the features.
    features = {k: v for k, v in state.items() if k.startswith("features.")}
    if not features:
        features = {f"features.{k}": v for k, v in state.items() if k.split(".")[0].isdigit()}
    return features


def load_vgg19(weights: str | os.PathLike | None = None, *, ceil_mode: bool = False) -> VGG19Features:
    """VGG19 features with ImageNet weights, for the perceptual losses.

    Args:
        weights: a local ``.pth`` / ``.safetensors`` file holding torchvision's vgg19 state dict (e.g.
            ``vgg19-dcbb9e9d.pth``, the file PF-AFN asks for) or only its ``features``. ``None``: the file named by
            ``$VTON_ZOO_VGG_WEIGHTS``, else torchvision's ``VGG19_Weights.IMAGENET1K_V1`` (downloaded by torchvision
            into its cache when online).
        ceil_mode: see :class:`VGG19Features`.

    Raises:
        RuntimeError: no file was given and torchvision cannot provide the weights (not installed, or offline).
        ValueError: the file is not a VGG19 state dict.
    """
    model = VGG19Features(ceil_mode=ceil_mode)
    if weights is None and os.environ.get(VGG_WEIGHTS_ENV):
        weights = os.environ[VGG_WEIGHTS_ENV]
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise ValueError(f"--vgg-weights {path}: no such file")
        state = _read_state_dict(path)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ValueError(f"{path} is not a torchvision VGG19 state dict: {exc}") from exc
        logger.info("VGG19 weights from %s", path)
        return model
    try:
        from torchvision.models import VGG19_Weights, vgg19

        reference = vgg19(weights=VGG19_Weights.IMAGENET1K_V1)
    except Exception as exc:  # noqa: BLE001 - ImportError, URLError, hash mismatch: all mean "not available"
        raise RuntimeError(
            "The VGG perceptual loss needs ImageNet VGG19 weights and torchvision could not provide them "
            f"({type(exc).__name__}: {exc}). On an offline machine download "
            "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth elsewhere and pass --vgg-weights PATH "
            f"(or set ${VGG_WEIGHTS_ENV}).") from exc
    model.features.load_state_dict(reference.features.state_dict())
    return model


class VGGLoss(nn.Module):
    """``sum_i w_i * L1(vgg_i(x), vgg_i(y).detach())`` over relu1_1 ... relu5_1 (official ``VGGLoss``).

    Images go in as they are ([-1, 1], no ImageNet normalisation), as in every official recipe.
    """

    def __init__(self, vgg: VGG19Features, layer_weights: Sequence[float] = VGG_LAYER_WEIGHTS) -> None:
        super().__init__()
        self.vgg = vgg
        self.layer_weights = tuple(layer_weights)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The five slice outputs (relu1_1, relu2_1, relu3_1, relu4_1, relu5_1)."""
        out = []
        for start, stop in VGG_SLICES:
            x = self.vgg.features[start:stop](x)
            out.append(x)
        return out

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = x.new_zeros(())
        for weight, fx, fy in zip(self.layer_weights, self.features(x), self.features(y)):
            loss = loss + weight * F.l1_loss(fx, fy.detach())
        return loss


def gram_matrix(feature: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C) Gram matrix normalised by C*H*W."""
    batch, channels, height, width = feature.shape
    flat = feature.reshape(batch, channels, height * width)
    return flat @ flat.transpose(1, 2) / (channels * height * width)


class StyleContentLoss(nn.Module):
    """DAFlow's ``external_function.VGGLoss``: content = L1 of relu1_1..relu5_1, style = L1 of the Gram matrices of
    relu2_2, relu3_4, relu4_4, relu5_2 (torchvision indices 8, 17, 26, 31). Returns ``(content, style)``."""

    CONTENT = (1, 6, 11, 20, 29)
    STYLE = (8, 17, 26, 31)

    def __init__(self, vgg: VGG19Features) -> None:
        super().__init__()
        self.vgg = vgg

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fx = dict(self.vgg(x, depth=32))
        with torch.no_grad():
            fy = dict(self.vgg(y, depth=32))
        content = sum(F.l1_loss(fx[i], fy[i]) for i in self.CONTENT)
        style = sum(F.l1_loss(gram_matrix(fx[i]), gram_matrix(fy[i])) for i in self.STYLE)
        return content, style


# ---------------------------------------------------------------------------------------------------------------
# Flow regularisers


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """Total variation ``mean|dx/dh| + mean|dx/dw|`` (official ``TVLoss``, applied to the raw offset maps)."""
    return (x[:, :, 1:] - x[:, :, :-1]).abs().mean() + (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().mean()


def second_order_deltas(flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The 4-filter second differences (horizontal, vertical, 2 diagonals) of the x and y flow components.

    Args:
        flow: (B, 2, H, W).

    Returns:
        ``(delta_x, delta_y)``, each (B, 4, H-2, W-2) (upstream ``delta_x_all`` / ``delta_y_all``).
    """
    filters = second_order_filters().to(flow)
    flow_x, flow_y = flow.split(1, dim=1)
    return F.conv2d(flow_x, filters), F.conv2d(flow_y, filters)


def second_order_smooth_loss(delta_x: torch.Tensor, delta_y: torch.Tensor, epsilon: float = 1e-3) -> torch.Tensor:
    """Charbonnier-like curvature penalty ``sum((d^2 + eps^2)^0.45) / numel`` of each component, summed."""
    loss_x = (delta_x.pow(2) + epsilon**2).pow(0.45).sum() / delta_x.numel()
    loss_y = (delta_y.pow(2) + epsilon**2).pow(0.45).sum() / delta_y.numel()
    return loss_x + loss_y


# ---------------------------------------------------------------------------------------------------------------
# LSGAN with spectral-norm PatchGAN discriminators (GP-VTON)


class SpectralDiscriminator(nn.Module):
    """GP-VTON's ``SpectralDiscriminator``: a 70x70 PatchGAN (4x4 convs, 64-128-256-512, LeakyReLU 0.2) with spectral
    normalisation on every conv.

    ``SpectralDiscriminator(59)`` (the warp stage) has 2,822,081 parameters like upstream's; ``norm="batch"`` adds the
    BatchNorm the try-on stage's discriminator uses.
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, norm: str | None = None) -> None:
        super().__init__()
        if norm not in (None, "batch", "instance"):
            raise ValueError(f"norm must be None, 'batch' or 'instance', got {norm!r}")

        def conv(c_in: int, c_out: int, stride: int) -> nn.Module:
            return nn.utils.spectral_norm(nn.Conv2d(c_in, c_out, kernel_size=4, stride=stride, padding=1))

        def normalisation(channels: int) -> list[nn.Module]:
            if norm == "batch":
                return [nn.BatchNorm2d(channels)]
            if norm == "instance":
                return [nn.InstanceNorm2d(channels)]
            return []

        layers: list[nn.Module] = [conv(in_channels, ndf, 2), nn.LeakyReLU(0.2, True)]
        channels = ndf
        for n in range(1, n_layers + 1):
            out_channels = ndf * min(2**n, 8)
            layers += [conv(channels, out_channels, 2 if n < n_layers else 1), *normalisation(out_channels),
                       nn.LeakyReLU(0.2, True)]
            channels = out_channels
        layers.append(conv(channels, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def lsgan_d_loss(real_prediction: torch.Tensor, fake_prediction: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN discriminator loss ``0.5 * (MSE(D(real), 1) + MSE(D(fake), 0))``."""
    return 0.5 * (F.mse_loss(real_prediction, torch.ones_like(real_prediction))
                  + F.mse_loss(fake_prediction, torch.zeros_like(fake_prediction)))


def lsgan_g_loss(fake_prediction: torch.Tensor) -> torch.Tensor:
    """Least-squares GAN generator loss ``MSE(D(fake), 1)``."""
    return F.mse_loss(fake_prediction, torch.ones_like(fake_prediction))


# ---------------------------------------------------------------------------------------------------------------
# Knowledge distillation (PF-AFN stage 3, DM-VTON stage 3)


def _per_sample_l1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x - y).abs().flatten(1).mean(1)


def _per_sample_mse(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x - y).pow(2).flatten(1).mean(1)


def distillation_gate(teacher_warped: torch.Tensor, student_warped: torch.Tensor,
                      target: torch.Tensor) -> torch.Tensor:
    """The per-sample gate of "adjustable knowledge distillation": 1 where the teacher's warp is closer (L1) to the
    target than the student's, else 0. Shape (B,), no gradient."""
    with torch.no_grad():
        return (_per_sample_l1(teacher_warped, target) < _per_sample_l1(student_warped, target)).to(target.dtype)


def _gated(values: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
    return (values * gate).mean()


def feature_distillation_loss(teacher_features: Sequence[torch.Tensor], student_features: Sequence[torch.Tensor],
                              gate: torch.Tensor, weight: float = 0.04) -> torch.Tensor:
    """``sum_num (5 - num) * weight * MSE(teacher_num, student_num)`` over the pyramid (coarse num=0 to fine num=4),
    each sample's term multiplied by its gate; the teacher features are detached."""
    levels = len(teacher_features)
    loss = student_features[0].new_zeros(())
    for num, (teacher, student) in enumerate(zip(teacher_features, student_features)):
        loss = loss + (levels - num) * weight * _gated(_per_sample_mse(teacher.detach(), student), gate)
    return loss


def flow_distillation_loss(teacher_flows: Sequence[torch.Tensor], student_flows: Sequence[torch.Tensor],
                           gate: torch.Tensor, first_level: int = 2) -> torch.Tensor:
    """``sum_{num >= first_level} (num + 1) * MSE(teacher_flow_num, student_flow_num)``, gated per sample."""
    loss = student_flows[0].new_zeros(())
    for num, (teacher, student) in enumerate(zip(teacher_flows, student_flows)):
        if num >= first_level:
            loss = loss + (num + 1) * _gated(_per_sample_mse(teacher.detach(), student), gate)
    return loss


# ---------------------------------------------------------------------------------------------------------------
# CP-VTON


def gmm_loss(warped_garment: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CP-VTON GMM: ``L1(warped garment, the person's garment on white)``."""
    return F.l1_loss(warped_garment, target)


def tom_loss(tryon: torch.Tensor, composite_mask: torch.Tensor, person: torch.Tensor, warped_mask: torch.Tensor,
             vgg_loss: VGGLoss) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """CP-VTON TOM: ``L1(tryon, person) + VGG(tryon, person) + L1(composite mask, warped garment mask)``."""
    terms = {"l1": F.l1_loss(tryon, person), "vgg": vgg_loss(tryon, person),
             "mask": F.l1_loss(composite_mask, warped_mask)}
    return terms["l1"] + terms["vgg"] + terms["mask"], terms


# ---------------------------------------------------------------------------------------------------------------
# GP-VTON


GPVTON_SEG_WEIGHTS = (1.0, 40.0, 5.0, 40.0, 30.0, 30.0, 40.0)  # background, left, torso, right, l-arm, r-arm, neck
GPVTON_DRESSCODE_SEG_WEIGHTS = (1.0, 40.0, 5.0, 40.0, 40.0, 5.0, 40.0, 30.0, 30.0, 40.0)


def parsing_loss(logits: torch.Tensor, target: torch.Tensor, class_weights: Sequence[float] | None = None
                 ) -> torch.Tensor:
    """GP-VTON's global-parsing loss: class-weighted cross entropy of the ``netSeg`` logits.

    Args:
        logits: (B, K, h, w).
        target: (B, 1, H, W) or (B, H, W) class ids (float or int); resized nearest to the logits' size.
        class_weights: K weights (default: upstream's VITON-HD weights for K = 7, DressCode's for K = 10).
    """
    classes = logits.shape[1]
    if class_weights is None:
        class_weights = {7: GPVTON_SEG_WEIGHTS, 10: GPVTON_DRESSCODE_SEG_WEIGHTS}.get(classes, (1.0,) * classes)
    if len(class_weights) != classes:
        raise ValueError(f"{len(class_weights)} class weights for {classes} classes")
    if target.dim() == 3:
        target = target[:, None]
    target = F.interpolate(target.float(), size=logits.shape[-2:], mode="nearest")[:, 0].long()
    weights = torch.tensor(class_weights, dtype=logits.dtype, device=logits.device)
    return F.cross_entropy(logits, target, weight=weights)


def truncate_gradients(prediction: torch.Tensor, target: torch.Tensor, preserve_mask: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """GP-VTON's dynamic gradient truncation: zero both the prediction and the target inside the (dynamic) preserve
    mask, so the warp gets no gradient from person regions the garment should not cover (e.g. under a long top).

    The preserve mask is resized to the prediction (bilinear); it comes from the dataset's ``preserve_mask_loss``,
    which drops the lower body with probabilities that depend on the garment's person/clothes ratio.
    """
    mask = F.interpolate(preserve_mask, size=prediction.shape[-2:], mode="bilinear") if \
        preserve_mask.shape[-2:] != prediction.shape[-2:] else preserve_mask
    keep = 1 - mask
    return prediction * keep, target * keep


# ---------------------------------------------------------------------------------------------------------------
# Metric


def _gaussian_window(size: int, sigma: float, channels: int, like: torch.Tensor) -> torch.Tensor:
    coords = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    g = torch.exp(-coords.pow(2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()


def ssim(x: torch.Tensor, y: torch.Tensor, *, data_range: float = 2.0, window: int = 11, sigma: float = 1.5
         ) -> torch.Tensor:
    """Mean structural similarity (Wang et al. 2004; 11x11 Gaussian window, sigma 1.5, valid convolution) per
    sample, shape (B,). Images in [-1, 1] by default (``data_range=2``)."""
    if x.shape != y.shape or x.dim() != 4:
        raise ValueError(f"ssim needs two (B, C, H, W) tensors of one shape, got {tuple(x.shape)}, {tuple(y.shape)}")
    window = min(window, x.shape[-1], x.shape[-2])
    x, y = x.float(), y.float()
    kernel = _gaussian_window(window, sigma, x.shape[1], x)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, kernel, groups=x.shape[1])

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x.pow(2)
    var_y = blur(y * y) - mu_y.pow(2)
    cov = blur(x * y) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x.pow(2) + mu_y.pow(2) + c1) * (var_x + var_y + c2))
    return ssim_map.flatten(1).mean(1)
