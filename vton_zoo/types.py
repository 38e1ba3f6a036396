"""Named model inputs and outputs: shapes and value ranges documented once.

Every zoo model takes a ``dict[str, Tensor]`` keyed by the canonical names below and returns one.
The parity fixtures map the official variable names onto these (``manifest["canonical_names"]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch

# Value ranges used throughout the zoo.
RANGE_SIGNED = (-1.0, 1.0)  # ToTensor then Normalize(0.5, 0.5): RGB images, pose maps
RANGE_UNIT = (0.0, 1.0)  # ToTensor: masks, labels scaled to [0, 1]
RANGE_ANY = (float("-inf"), float("inf"))  # raw network outputs (logits, unbounded renderings)


@dataclass(frozen=True)
class TensorSpec:
    """One named tensor of a model's interface.

    Attributes:
        channels: C of the (B, C, H, W) tensor; ``None`` for outputs that are not NCHW images.
        value_range: the range the official code feeds or produces (inclusive).
        description: what it is and how the official code builds it.
        shape: a human-readable shape, e.g. ``"(B, 3, H, W)"``.
    """

    channels: int | None
    value_range: tuple[float, float]
    description: str
    shape: str = ""

    def shape_text(self) -> str:
        if self.shape:
            return self.shape
        return f"(B, {self.channels}, H, W)" if self.channels is not None else "see description"


def image(description: str, channels: int = 3) -> TensorSpec:
    """An RGB (or multi-channel) image in [-1, 1]."""
    return TensorSpec(channels, RANGE_SIGNED, description)


def mask(description: str, channels: int = 1) -> TensorSpec:
    """A mask or label map in [0, 1]."""
    return TensorSpec(channels, RANGE_UNIT, description)


def raw(description: str, channels: int | None, shape: str = "") -> TensorSpec:
    """An unbounded tensor (logits, raw generator output, flows)."""
    return TensorSpec(channels, RANGE_ANY, description, shape)


# Descriptions shared by the PF-AFN family (PF-AFN, DM-VTON, RMGN): person + garment + garment mask in.
PERSON = image("person photo, RGB in [-1, 1]")
GARMENT = image("in-shop garment photo, RGB in [-1, 1], not masked (the model multiplies it by the binarised mask)")
GARMENT_MASK = mask("garment mask in [0, 1]; binarised inside the model at > 0.5 as the official test loop does")

FLOW_OUTPUTS = {
    "warped_garment": image("garment warped onto the person, [-1, 1]"),
    "flow": raw("appearance flow as a normalised sampling grid (channel 0 = x, 1 = y) in about [-1, 1]", 2),
    "warped_mask": mask("garment mask warped with the same flow"),
    "generator_out": raw("raw generator output: 3 rendering channels (pre-tanh) + 1 mask logit", 4),
    "composite_mask": mask("sigmoid(mask logit) * warped_mask: where the warped garment is kept"),
    "tryon": image("final try-on image, [-1, 1]"),
}


def random_inputs(inputs: dict[str, TensorSpec], batch: int, size: tuple[int, int], seed: int = 0,
                  device: str | torch.device = "cpu", dtype: torch.dtype | None = None) -> dict[str, torch.Tensor]:
    """Random tensors that satisfy an input spec (binary 1-channel masks, uniform images): for tests and benchmarks."""
    import torch

    height, width = size
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, tspec in inputs.items():
        shape = (batch, tspec.channels, height, width)
        if tspec.value_range == RANGE_UNIT and tspec.channels == 1:
            value = (torch.rand(shape, generator=g) > 0.5).float()
        else:
            lo, hi = max(tspec.value_range[0], -1.0), min(tspec.value_range[1], 1.0)
            value = lo + (hi - lo) * torch.rand(shape, generator=g)
        out[name] = value.to(device=device, dtype=dtype or torch.float32)
    return out
