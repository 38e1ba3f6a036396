"""The Inception-v3 of pytorch-fid (the FID network), and where its weights come from.

pytorch-fid (``mseitzer/pytorch-fid`` 0.3.0) builds torchvision's ``Inception3(num_classes=1008,
aux_logits=False)``, swaps in blocks that mimic the TensorFlow FID graph (average pools that ignore the padding;
max pooling in the last block) and loads ``pt_inception-2015-12-05-6726825d.pth``. Its features are the outputs of
four blocks (64, 192, 768 or 2048 channels, spatially averaged).

:func:`load_inception` uses pytorch-fid's own ``InceptionV3`` when pytorch-fid can be imported (it needs
torchvision). Otherwise it builds :class:`FIDInceptionV3`, a re-implementation of the same architecture whose
parameter names equal torchvision's, so the same weight file loads into it key for key (strictly) and gives the
same features. Weights: ``weights=None`` looks for the file in torch's hub cache (``$TORCH_HOME/hub/checkpoints``,
where pytorch-fid downloads it) and downloads it there when missing and online; a path uses that file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

logger = logging.getLogger(__name__)

FID_WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                   "pt_inception-2015-12-05-6726825d.pth")
FID_WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"
#: Feature size -> index of the block whose output is used (pytorch-fid's ``BLOCK_INDEX_BY_DIM``).
BLOCK_INDEX_BY_DIM = {64: 0, 192: 1, 768: 2, 2048: 3}

_PATCH_LOCK = threading.Lock()


class MetricWeightsError(RuntimeError):
    """A metric network's weights are missing (offline) or unreadable; the message says which file and where."""


# --- the architecture ------------------------------------------------------------------------------------------------


class BasicConv2d(nn.Module):
    """Convolution without bias, batch norm (eps 1e-3), ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _tf_avg_pool(x: torch.Tensor) -> torch.Tensor:
    """3x3 average pool, stride 1, that averages only over real pixels (TensorFlow's pool, FID patch)."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    """35x35 block: 1x1, 5x5, double 3x3 and pooled branches (FID variant of the pool)."""

    def __init__(self, in_channels: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(in_channels, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        wide = self.branch5x5_2(self.branch5x5_1(x))
        double = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        pooled = self.branch_pool(_tf_avg_pool(x))
        return torch.cat([self.branch1x1(x), wide, double, pooled], 1)


class InceptionB(nn.Module):
    """35x35 -> 17x17 reduction."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(in_channels, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        double = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), double, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionC(nn.Module):
    """17x17 block with factorised 7x7 convolutions (FID variant of the pool)."""

    def __init__(self, in_channels: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        single = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        double = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            double = layer(double)
        pooled = self.branch_pool(_tf_avg_pool(x))
        return torch.cat([self.branch1x1(x), single, double, pooled], 1)


class InceptionD(nn.Module):
    """17x17 -> 8x8 reduction."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        short = self.branch3x3_2(self.branch3x3_1(x))
        long = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            long = layer(long)
        return torch.cat([short, long, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionE(nn.Module):
    """8x8 block with split 1x3 / 3x1 convolutions. ``pool="avg"`` (Mixed_7b, padding-free average) or ``"max"``
    (Mixed_7c: the FID graph max-pools here, unlike the paper)."""

    def __init__(self, in_channels: int, pool: str) -> None:
        super().__init__()
        self.pool = pool
        self.branch1x1 = BasicConv2d(in_channels, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(in_channels, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        split = self.branch3x3_1(x)
        split = torch.cat([self.branch3x3_2a(split), self.branch3x3_2b(split)], 1)
        double = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        double = torch.cat([self.branch3x3dbl_3a(double), self.branch3x3dbl_3b(double)], 1)
        if self.pool == "max":
            pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            pooled = _tf_avg_pool(x)
        return torch.cat([self.branch1x1(x), split, double, self.branch_pool(pooled)], 1)


class FIDInceptionV3(nn.Module):
    """pytorch-fid's ``InceptionV3`` (``use_fid_inception=True``) without torchvision.

    Parameter names are torchvision's ``Inception3`` ones (``Conv2d_1a_3x3.conv.weight``, ``Mixed_5b.branch1x1...``,
    ``fc.weight``), so ``pt_inception-2015-12-05-6726825d.pth`` loads strictly. ``fc`` (1008 classes) is unused by
    FID; it is kept only so that the file loads without leftovers.

    Args:
        output_blocks: indices (0..3) of the blocks whose outputs :meth:`forward` returns, ascending.
        resize_input: resize the input bilinearly to 299x299 first (pytorch-fid's default).
        normalize_input: map inputs from [0, 1] to [-1, 1] first (pytorch-fid's default).
    """

    def __init__(self, output_blocks: tuple[int, ...] = (3,), *, resize_input: bool = True,
                 normalize_input: bool = True) -> None:
        super().__init__()
        if not output_blocks or not set(output_blocks) <= {0, 1, 2, 3}:
            raise ValueError(f"output_blocks must be indices 0..3, got {output_blocks}")
        self.output_blocks = sorted(output_blocks)
        self.last_block = max(output_blocks)
        self.resize_input = resize_input
        self.normalize_input = normalize_input
        # Block 0: stem up to the first max pool (64 channels).
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        # Block 1: up to the second max pool (192 channels).
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        # Block 2: up to the auxiliary classifier's input (768 channels).
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        # Block 3: up to the final average pool (2048 channels).
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, pool="avg")
        self.Mixed_7c = InceptionE(2048, pool="max")
        self.fc = nn.Linear(2048, 1008)  # in the weight file; not used for FID
        for parameter in self.parameters():
            parameter.requires_grad_(False)

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        """``images`` (N, 3, H, W) in [0, 1] -> the selected blocks' outputs (block 3: (N, 2048, 1, 1))."""
        x = images
        if self.resize_input:
            x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        if self.normalize_input:
            x = 2 * x - 1
        blocks = [
            [self.Conv2d_1a_3x3, self.Conv2d_2a_3x3, self.Conv2d_2b_3x3, lambda t: F.max_pool2d(t, 3, 2)],
            [self.Conv2d_3b_1x1, self.Conv2d_4a_3x3, lambda t: F.max_pool2d(t, 3, 2)],
            [self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c, self.Mixed_6d,
             self.Mixed_6e],
            [self.Mixed_7a, self.Mixed_7b, self.Mixed_7c, lambda t: F.adaptive_avg_pool2d(t, (1, 1))],
        ]
        outputs = []
        for index, layers in enumerate(blocks[: self.last_block + 1]):
            for layer in layers:
                x = layer(x)
            if index in self.output_blocks:
                outputs.append(x)
        return outputs


# --- weights ---------------------------------------------------------------------------------------------------------


def pytorch_fid_available() -> bool:
    """Whether pytorch-fid (and so torchvision) can be imported."""
    try:
        import pytorch_fid.fid_score  # noqa: F401
        import pytorch_fid.inception  # noqa: F401
    except ImportError:
        return False
    return True


def cache_path() -> Path:
    """Where pytorch-fid's download puts the weights: ``<torch hub dir>/checkpoints/<file name>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / FID_WEIGHTS_NAME


def inception_weights_file(weights: str | Path | None = None) -> Path:
    """The FID weight file to use: ``weights`` if given (it must exist), else the hub-cache copy, downloaded there
    first when missing (offline: :class:`MetricWeightsError` saying where to put the file)."""
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise MetricWeightsError(f"FID Inception weights not found at {path} (expected pytorch-fid's "
                                     f"{FID_WEIGHTS_NAME}, from {FID_WEIGHTS_URL})")
        return path
    path = cache_path()
    if path.is_file():
        return path
    from .. import hub

    try:
        logger.info("downloading the FID Inception weights to %s", path)
        return hub.download_url(FID_WEIGHTS_URL, path)
    except (hub.DownloadError, OSError) as error:
        raise MetricWeightsError(
            f"FID Inception weights {FID_WEIGHTS_NAME} are not installed and could not be downloaded ({error}). "
            f"Download {FID_WEIGHTS_URL} on a machine with internet access and put it at {path} (torch's hub "
            f"cache, where pytorch-fid looks; set TORCH_HOME to move it), or pass --inception-weights PATH.") from None


def read_state_dict(path: Path, what: str) -> dict[str, torch.Tensor]:
    """A tensor state dict from a ``.pth`` file, read with ``weights_only=True``."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle, zip and OS errors alike: say which file
        raise MetricWeightsError(f"{what} file {path} could not be read ({error})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise MetricWeightsError(f"{what} file {path} does not hold a state dict of tensors")
    return state


@contextmanager
def _pytorch_fid_loads(path: Path) -> Iterator[None]:
    """Make pytorch-fid's ``fid_inception_v3`` read ``path`` instead of downloading (it has no path argument)."""
    import pytorch_fid.inception as module

    with _PATCH_LOCK:
        original = module.load_state_dict_from_url
        module.load_state_dict_from_url = lambda *args, **kwargs: read_state_dict(path, "FID Inception weights")
        try:
            yield
        finally:
            module.load_state_dict_from_url = original


def load_inception(dims: int = 2048, weights: str | Path | None = None, *, device: str | torch.device = "cpu",
                   backend: str = "auto") -> nn.Module:
    """The FID Inception network returning ``[features]`` for images in [0, 1].

    Args:
        dims: feature size, one of 64, 192, 768, 2048 (pytorch-fid's ``--dims``; FIDs of different dims are not
            comparable).
        weights: path of ``pt_inception-2015-12-05-6726825d.pth`` (or of any state dict of this architecture);
            ``None``: torch's hub cache, downloaded when missing.
        device: where to put the network.
        backend: ``"pytorch-fid"`` (its ``InceptionV3``), ``"zoo"`` (:class:`FIDInceptionV3`) or ``"auto"``
            (pytorch-fid when importable).

    Raises:
        ValueError: bad ``dims`` or ``backend``.
        MetricWeightsError: the weights are missing (offline) or do not fit the architecture.
    """
    if dims not in BLOCK_INDEX_BY_DIM:
        raise ValueError(f"dims must be one of {sorted(BLOCK_INDEX_BY_DIM)}, got {dims}")
    if backend not in ("auto", "pytorch-fid", "zoo"):
        raise ValueError(f"backend must be 'auto', 'pytorch-fid' or 'zoo', got {backend!r}")
    if backend == "auto":
        backend = "pytorch-fid" if pytorch_fid_available() else "zoo"
    path = inception_weights_file(weights)
    block = BLOCK_INDEX_BY_DIM[dims]
    if backend == "pytorch-fid":
        from pytorch_fid.inception import InceptionV3

        try:
            with _pytorch_fid_loads(path):
                model = InceptionV3([block])
        except RuntimeError as error:
            if isinstance(error, MetricWeightsError):
                raise
            raise MetricWeightsError(f"{path} does not fit pytorch-fid's Inception ({error})") from None
    else:
        model = FIDInceptionV3((block,))
        state = read_state_dict(path, "FID Inception weights")
        try:
            missing, unexpected = model.load_state_dict(state, strict=False)
        except RuntimeError as error:  # shape mismatches
            raise MetricWeightsError(f"{path} does not fit the FID Inception ({error})") from None
        missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        if missing or unexpected:
            raise MetricWeightsError(f"{path} is not a pytorch-fid Inception state dict: missing keys "
                                     f"{missing[:5]}{'...' if len(missing) > 5 else ''}, unexpected keys "
                                     f"{unexpected[:5]}{'...' if len(unexpected) > 5 else ''}")
    model.backend = backend
    model.dims = dims
    model.weights_file = str(path)
    return model.eval().to(device)
