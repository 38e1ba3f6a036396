"""LPIPS (Zhang et al., "The Unreasonable Effectiveness of Deep Features as a Perceptual Metric", CVPR 2018),
version 0.1 "lin", with an AlexNet (default, as the ``lpips`` package) or VGG-16 backbone, without torchvision.

Distance: both images (in [-1, 1]) are shifted and scaled per channel, passed through the backbone; at five ReLU
outputs the features are unit-normalised over channels, their squared difference is weighted per channel by a
learned 1x1 convolution (``lin0``..``lin4``), averaged over space, and the five values are summed.

Two weight files, both key-for-key as published:

- the backbone: torchvision's ImageNet ``alexnet-owt-7be5be79.pth`` / ``vgg16-397923af.pth`` (only the
  ``features.*`` entries are used; the classifier's are ignored), looked for in torch's hub cache
  (``$TORCH_HOME/hub/checkpoints``) as torchvision keeps it;
- the linear layers: the ``lpips`` package's ``weights/v0.1/alex.pth`` / ``vgg.pth`` (``lin0.model.1.weight``...),
  looked for in an installed ``lpips`` package, else ``$VTON_ZOO_HOME/metrics/lpips/v0.1/``.

Missing files are downloaded there when online; offline a :class:`~vton_zoo.eval.inception.MetricWeightsError`
names the file, its URL and where to put it.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import torch
from torch import nn

from .inception import MetricWeightsError, read_state_dict

logger = logging.getLogger(__name__)

BACKBONES = {
    # net: (torchvision's ImageNet weight file, its URL)
    "alex": ("alexnet-owt-7be5be79.pth", "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"),
    "vgg": ("vgg16-397923af.pth", "https://download.pytorch.org/models/vgg16-397923af.pth"),
}
LIN_URL = "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/{net}.pth"
#: Per-channel shift and scale applied to [-1, 1] inputs (the ``lpips`` package's ScalingLayer).
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)


def _alexnet_features() -> tuple[nn.Sequential, tuple[int, ...], tuple[int, ...]]:
    """torchvision's ``alexnet().features`` (same indices), the taps (after relu1..relu5) and their widths."""
    layers = nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(),  # 0, 1
        nn.MaxPool2d(3, 2), nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(),  # 2, 3, 4
        nn.MaxPool2d(3, 2), nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),  # 5, 6, 7
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),  # 8, 9
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(),  # 10, 11
    )
    return layers, (1, 4, 7, 9, 11), (64, 192, 384, 256, 256)


def _vgg16_features() -> tuple[nn.Sequential, tuple[int, ...], tuple[int, ...]]:
    """torchvision's ``vgg16().features`` up to relu5_3 (same indices), the taps (relu1_2 .. relu5_3), widths."""
    layers: list[nn.Module] = []
    in_channels = 3
    for value in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512):
        if value == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_channels, value, 3, padding=1), nn.ReLU()]
            in_channels = value
    return nn.Sequential(*layers), (3, 8, 15, 22, 29), (64, 128, 256, 512, 512)


class _LinearLayer(nn.Module):
    """The learned per-channel weighting (dropout is inactive at evaluation; kept for the ``model.1`` key)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(channels, 1, 1, stride=1, padding=0, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class LPIPS(nn.Module):
    """LPIPS v0.1 distance network; :meth:`forward` takes two batches in [-1, 1] and returns ``(N,)`` distances.

    Args:
        net: ``"alex"`` or ``"vgg"``.
    """

    def __init__(self, net: str = "alex") -> None:
        super().__init__()
        if net not in BACKBONES:
            raise ValueError(f"LPIPS net must be one of {sorted(BACKBONES)}, got {net!r}")
        self.net = net
        features, self.taps, widths = _alexnet_features() if net == "alex" else _vgg16_features()
        self.features = features
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1), persistent=False)
        for index, width in enumerate(widths):
            setattr(self, f"lin{index}", _LinearLayer(width))
        for parameter in self.parameters():
            parameter.requires_grad_(False)

    def _taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for index, layer in enumerate(self.features[: self.taps[-1] + 1]):
            x = layer(x)
            if index in self.taps:
                outputs.append(x)
        return outputs

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        features_a = self._taps((first - self.shift) / self.scale)
        features_b = self._taps((second - self.shift) / self.scale)
        total = 0.0
        for index, (a, b) in enumerate(zip(features_a, features_b)):
            a = a / (a.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            b = b / (b.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            weighted = getattr(self, f"lin{index}")((a - b) ** 2)  # [N, 1, h, w]
            total = total + weighted.mean(dim=(2, 3))
        return total.flatten()

    def load_backbone(self, state: dict[str, torch.Tensor], source: str = "backbone") -> None:
        """Load torchvision's ImageNet weights (``features.*``; other keys are the unused classifier)."""
        wanted = {key: value for key, value in state.items() if key.startswith("features.")}
        try:
            missing, unexpected = self.features.load_state_dict(
                {key[len("features."):]: value for key, value in wanted.items()
                 if int(key.split(".")[1]) <= self.taps[-1]}, strict=False)
        except (RuntimeError, ValueError) as error:
            raise MetricWeightsError(f"{source} does not fit the LPIPS {self.net} backbone ({error})") from None
        if missing or unexpected:
            raise MetricWeightsError(f"{source} is not torchvision's {BACKBONES[self.net][0]}: missing {missing}, "
                                     f"unexpected {unexpected}")

    def load_linear(self, state: dict[str, torch.Tensor], source: str = "linear layers") -> None:
        """Load the ``lpips`` package's v0.1 linear layers (``lin0.model.1.weight``...)."""
        linear = {key: value for key, value in self.state_dict().items() if key.startswith("lin")}
        if set(state) != set(linear):
            raise MetricWeightsError(f"{source} does not hold the LPIPS {self.net} v0.1 linear layers (expected keys "
                                     f"{sorted(linear)}, got {sorted(state)[:6]})")
        try:
            self.load_state_dict(state, strict=False)
        except RuntimeError as error:
            raise MetricWeightsError(f"{source} does not fit the LPIPS {self.net} linear layers ({error})") from None


def _fetch(url: str, path: Path, what: str, option: str) -> Path:
    from .. import hub

    try:
        logger.info("downloading %s to %s", what, path)
        return hub.download_url(url, path)
    except (hub.DownloadError, OSError) as error:
        raise MetricWeightsError(f"{what} {path.name} is not installed and could not be downloaded ({error}). "
                                 f"Download {url} on a machine with internet access and put it at {path}, or pass "
                                 f"{option} PATH (or --skip-lpips).") from None


def default_linear_path(net: str = "alex") -> Path:
    """Where the linear-layer file is looked for: an installed ``lpips`` package's copy, else the zoo's folder."""
    spec = importlib.util.find_spec("lpips")
    if spec is not None and spec.origin:
        packaged = Path(spec.origin).parent / "weights" / "v0.1" / f"{net}.pth"
        if packaged.is_file():
            return packaged
    from ..weights import home

    return home() / "metrics" / "lpips" / "v0.1" / f"{net}.pth"


def default_backbone_path(net: str = "alex") -> Path:
    """torchvision's hub-cache location of the ImageNet backbone."""
    return Path(torch.hub.get_dir()) / "checkpoints" / BACKBONES[net][0]


def load_lpips(net: str = "alex", weights: str | Path | None = None, backbone: str | Path | None = None, *,
               device: str | torch.device = "cpu") -> LPIPS:
    """The LPIPS network with its weights.

    Args:
        net: ``"alex"`` (default, the ``lpips`` package's default) or ``"vgg"``.
        weights: the v0.1 linear-layer file (``alex.pth`` / ``vgg.pth``); default :func:`default_linear_path`.
        backbone: torchvision's ImageNet file; default :func:`default_backbone_path`.
        device: where to put it.

    Raises:
        MetricWeightsError: a file is missing (a given path never triggers a download) or does not fit.
    """
    model = LPIPS(net)
    if weights is not None:
        linear_path = Path(weights).expanduser()
        if not linear_path.is_file():
            raise MetricWeightsError(f"LPIPS linear-layer weights not found at {linear_path} (expected the lpips "
                                     f"package's v0.1 {net}.pth, from {LIN_URL.format(net=net)}); or skip LPIPS "
                                     "(--skip-lpips)")
    else:
        linear_path = default_linear_path(net)
        if not linear_path.is_file():
            linear_path = _fetch(LIN_URL.format(net=net), linear_path, "LPIPS linear-layer weights", "--lpips-weights")
    if backbone is not None:
        backbone_path = Path(backbone).expanduser()
        if not backbone_path.is_file():
            raise MetricWeightsError(f"LPIPS backbone weights not found at {backbone_path} (expected torchvision's "
                                     f"{BACKBONES[net][0]}, from {BACKBONES[net][1]}); or skip LPIPS (--skip-lpips)")
    else:
        backbone_path = default_backbone_path(net)
        if not backbone_path.is_file():
            backbone_path = _fetch(BACKBONES[net][1], backbone_path, "LPIPS backbone weights", "--lpips-backbone")
    model.load_backbone(read_state_dict(backbone_path, "LPIPS backbone"), str(backbone_path))
    model.load_linear(read_state_dict(linear_path, "LPIPS linear-layer weights"), str(linear_path))
    model.weights_files = (str(linear_path), str(backbone_path))
    return model.eval().to(device)
