"""CP-VTON: a TPS geometric matching module (GMM) and a U-Net try-on module (TOM), the classic two-stage baseline.

Paper: Wang, Zheng, Liang, Chen, Lin, Yang, "Toward Characteristic-Preserving Image-based Virtual Try-On Network",
ECCV 2018 (https://arxiv.org/abs/1807.07688). Upstream: sergeywong/cp-vton @ fbaf333ba63ddb9c9379e5689241b122f5cf621d
(``networks.py``: ``GMM``, ``UnetGenerator``; ``test.py``; ``cp_dataset.py``), a re-implementation by one of the
authors written for torch 0.4. Licence: MIT (``LICENSE``). Written for this project from architectures.md §7 and the
parity manifest; module and parameter names follow the official ``state_dict()`` so checkpoints saved by the
official ``train.py`` (``gmm_final.pth``, ``tom_final.pth``: plain state dicts) load strictly. **No official
checkpoint was ever released** (upstream issues #16 and #50): weights come from training.

Data flow (``test.py`` GMM stage, then TOM stage, chained in memory):

1. GMM: two BN CNNs embed the 22-channel person representation and the garment to (B, 512, H/16, W/16), each
   L2-normalised over channels; a *global* correlation (every garment position against every person position, one
   batched matrix product) gives (B, H/16*W/16, H/16, W/16); a conv + Linear regressor with tanh predicts
   ``theta`` = offsets of a 5x5 grid of TPS control points (25 x offsets, then 25 y offsets); the TPS grid generator
   turns them into a dense (B, H, W, 2) sampling grid.
2. The garment (border padding) and its mask (zero padding) are warped with that grid.
3. TOM: ``UnetGenerator(25, 4, 6, ngf=64, InstanceNorm2d)`` on [person representation, warped garment] gives 3
   rendering channels and 1 composition-mask logit; ``tryon = warped * m + tanh(render) * (1 - m)``.

Official quirks kept, and deviations from upstream:

* ``grid_sample`` runs with ``align_corners=True``: the code was written for torch 0.4.0/0.4.1, whose grid_sample
  behaved that way, and its TPS grid is built on ``linspace(-1, 1, size)`` pixel centres (parity manifest
  ``align_corners``). The U-Net's ``nn.Upsample(bilinear)`` keeps ``align_corners=False`` (its 0.4 default).
* The composition mask is ``sigmoid(logit)`` alone, NOT multiplied by the warped garment mask (unlike the PF-AFN
  family; an earlier upstream revision of ``test.py`` did multiply it, the pinned one does not).
* The TPS constants (control points, the inverse of the (N+3)x(N+3) TPS system ``L`` and the radial basis ``U`` of
  every output pixel) are computed once at construction, in float32 with ``torch.linalg.inv`` exactly as upstream
  computes them (a float64 solve differs by up to ~8e-4 in the warped images). They are non-persistent buffers
  (upstream keeps them as plain attributes, so they are not in its ``state_dict``) and move with ``.to()``.
  Upstream recomputes ``U`` on every call; it depends on nothing learned, so it is cached here.
* The GMM regressor ends in a Linear layer sized for the feature map, so one model instance only runs at the size it
  was built for (``fine_height`` x ``fine_width``, default 256x192 as upstream); other sizes raise ``ValueError``.
  Upstream hard-codes the 256x192 sizes (``input_nc=192``, ``Linear(64 * 4 * 3, ...)``); here they are derived
  from the configured size (identical at 256x192). H and W must be multiples of 64 (four stride-2 convs in the
  extractors plus two in the regressor; six U-Net levels).
* Upstream's U-Net applies an in-place LeakyReLU to a block's input before the skip concatenation, so the skip
  carries ``leaky_relu(x)``, not ``x`` (the pix2pix quirk). Written out explicitly here (no in-place op); same values.
* The outermost U-Net level ends in an InstanceNorm over the 4 output channels (upstream ``upnorm``), so the raw
  generator output is normalised per image and channel. Kept.
* ``FeatureCorrelation``'s output is made contiguous before the regressor (upstream relied on torch 0.4 convs
  returning contiguous tensors; values are unchanged). The ``.cuda()`` calls are dropped: it runs on CPU and GPU.
* The garment mask is not binarised here: ``cp_dataset.py`` already gives ``(mask >= 128)``; it only gets warped.
* The official TOM stage re-reads the GMM results from saved JPEGs; here they are passed on in float.

Parity (shared fixture, CPU): fed the fixture's own theta / grid / warped garment, the TPS generator equals a
line-by-line emulation of upstream bit for bit and the warp and TOM stages reproduce the fixture bit for bit. What
remains (theta ~2e-7, grid ~1e-5) is float32 BLAS/LAPACK noise: the float32 inverse of ``L`` and the GMM's GEMMs
change with the CPU code path (e.g. ``MKL_CBWR``), and the TPS grid amplifies it. All outputs are within tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .. import types
from ..ops.warp import grid_sample
from ..registry import ModelSpec, WeightSource, WeightsSpec, register_model
from ._base import TryOnModel

REPRESENTATION_CHANNELS = 22  # shape 1 + head RGB 3 + 18 pose maps (cp_dataset.py)
GARMENT_CHANNELS = 3


@dataclass
class CPVTONConfig:
    """Options of CP-VTON (the defaults are those of the official ``test.py``)."""

    fine_height: int = 256  # the size the GMM regressor is built for (a Linear layer depends on it)
    fine_width: int = 192
    grid_size: int = 5  # TPS control points per side
    align_corners: bool = True  # grid_sample convention (True: torch 0.4 behaviour CP-VTON was written for)


SPEC = ModelSpec(
    name="cp-vton",
    title="CP-VTON",
    paper="Toward Characteristic-Preserving Image-based Virtual Try-On Network (ECCV 2018)",
    paper_url="https://arxiv.org/abs/1807.07688",
    code_url="https://github.com/sergeywong/cp-vton",
    commit="fbaf333ba63ddb9c9379e5689241b122f5cf621d",
    license="MIT (LICENSE)",
    inputs={
        "person_representation": types.image(
            "CP-VTON cloth-agnostic person representation, 22 channels in [-1, 1] (cp_dataset.py): [0] body shape "
            "(person parse > 0, blurred by resizing to 1/16 and back), [1:4] head RGB (image * head - (1 - head), "
            "head = parse labels hair/face/...), [4:22] 18 COCO pose maps (white squares of radius 5 on -1)",
            REPRESENTATION_CHANNELS),
        "garment": types.image("in-shop garment photo, RGB in [-1, 1], not masked (warped as is, border padding)"),
        "garment_mask": types.mask("binary garment mask in {0, 1} (cp_dataset.py: mask >= 128); only warped, "
                                   "not seen by the networks"),
    },
    outputs={
        "tps_grid": types.raw("TPS sampling grid in grid_sample convention (last axis x, y), about [-1, 1]; "
                              "values outside sample the border", None, "(B, H, W, 2)"),
        "tps_theta": types.TensorSpec(None, types.RANGE_SIGNED,
                                      "GMM regression output, tanh-bounded offsets of the 5x5 TPS control points "
                                      "(25 x offsets, then 25 y offsets)", "(B, 2 * grid_size**2) = (B, 50)"),
        "warped_garment": types.image("garment warped with the TPS grid (border padding), [-1, 1]"),
        "warped_mask": types.mask("garment mask warped with the TPS grid (zero padding)"),
        "generator_out": types.raw("raw TOM output (instance-normalised): 3 rendering channels (pre-tanh) + 1 "
                                   "mask logit", 4),
        "rendered_person": types.image("tanh of the rendering channels: the person rendered by TOM, [-1, 1]"),
        "composite_mask": types.mask("sigmoid(mask logit), NOT multiplied by the warped mask: where the warped "
                                     "garment is kept"),
        "tryon": types.image("final try-on image, [-1, 1]"),
    },
    resolution=(256, 192),
    size_multiple=64,
    fixed_resolution=True,
    official_parts=("gmm", "tom"),
    official_param_counts={"gmm": 19_057_650, "tom": 21_349_252},
    weights=WeightsSpec(
        official_files=(),
        sources=(
            WeightSource("unavailable", "https://github.com/sergeywong/cp-vton/issues/16", license="MIT (LICENSE)",
                         note="the authors never released checkpoints (issues #16, #50); train it with training/"),
        ),
        notes="No official checkpoints were released (sergeywong/cp-vton issues #16 and #50; only unofficial "
              "third-party mirrors exist). Train with the official train.py (GMM stage, then TOM stage), which "
              "saves plain state dicts checkpoints/<name>/gmm_final.pth and tom_final.pth, then "
              "`python -m vton_zoo.convert cp-vton gmm_final.pth tom_final.pth --out DIR`.",
    ),
    description="Two-stage baseline: TPS warp (GMM) + U-Net rendering and composition (TOM) from a 22-channel "
                "person representation, a garment and its mask; 256x192 (VITON).",
)


# ---------------------------------------------------------------------------------------------------------------
# GMM: geometric matching module


class FeatureExtraction(nn.Module):
    """Conv-ReLU-BN CNN: four 4x4 stride-2 convs (64, 128, 256, 512), then two 3x3 convs; out (512, H/16, W/16)."""

    def __init__(self, in_channels: int, ngf: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ngf, 4, stride=2, padding=1), nn.ReLU(True),
                                   nn.BatchNorm2d(ngf)]
        for i in range(n_layers):
            in_ch = min(2**i * ngf, 512)
            out_ch = min(2 ** (i + 1) * ngf, 512)
            layers += [nn.Conv2d(in_ch, out_ch, 4, stride=2, padding=1), nn.ReLU(True), nn.BatchNorm2d(out_ch)]
        layers += [nn.Conv2d(512, 512, 3, padding=1), nn.ReLU(True), nn.BatchNorm2d(512),
                   nn.Conv2d(512, 512, 3, padding=1), nn.ReLU(True)]
        self.model = nn.Sequential(*layers)  # indices 0..16 name the official keys (model.0, model.2, ...)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class FeatureL2Norm(nn.Module):
    """Divide each feature vector by its L2 norm over channels (epsilon 1e-6 under the square root)."""

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        norm = torch.sqrt(torch.sum(feature * feature, 1, keepdim=True) + 1e-6)
        return feature / norm


class FeatureCorrelation(nn.Module):
    """Global correlation: the dot product of every person feature with every garment feature.

    Returns (B, h*w, h, w): spatial positions of the garment feature map, channels the person positions in
    column-major order (channel ``x * h + y``), as upstream.
    """

    def forward(self, person_feature: torch.Tensor, garment_feature: torch.Tensor) -> torch.Tensor:
        b, c, h, w = person_feature.shape
        person_cols = person_feature.transpose(2, 3).reshape(b, c, w * h)  # [B, C, w*h] column-major positions
        garment_rows = garment_feature.reshape(b, c, h * w).transpose(1, 2)  # [B, h*w, C]
        scores = torch.bmm(garment_rows, person_cols)  # [B, h*w (garment), w*h (person)]
        return scores.reshape(b, h, w, w * h).permute(0, 3, 1, 2).contiguous()  # [B, w*h, h, w]


class FeatureRegression(nn.Module):
    """Conv-BN-ReLU x4 (two stride 2) then Linear + tanh: the correlation volume to the TPS parameters ``theta``."""

    def __init__(self, in_channels: int, out_dim: int, feature_size: tuple[int, int]) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, 512, 4, stride=2, padding=1), nn.BatchNorm2d(512), nn.ReLU(True),
            nn.Conv2d(512, 256, 4, stride=2, padding=1), nn.BatchNorm2d(256), nn.ReLU(True),
            nn.Conv2d(256, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(True),
            nn.Conv2d(128, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(True),
        )
        height, width = feature_size  # after the two stride-2 convs: (4, 3) at 256x192
        self.linear = nn.Linear(64 * height * width, out_dim)
        self.tanh = nn.Tanh()

    def forward(self, correlation: torch.Tensor) -> torch.Tensor:
        x = self.conv(correlation)
        x = x.reshape(x.shape[0], -1)  # [B, 64*h*w] channel-major flatten
        return self.tanh(self.linear(x))


def _linspace_like_numpy(count: int) -> torch.Tensor:
    """``numpy.linspace(-1, 1, count)`` in float64 (arange * step + start, last value set to the end)."""
    values = torch.arange(count, dtype=torch.float64) * (2.0 / (count - 1)) - 1.0
    values[-1] = 1.0
    return values


def _radial_basis(dist_squared: torch.Tensor) -> torch.Tensor:
    """TPS kernel r^2 log r^2, with r^2 = 0 replaced by 1 (kernel 0) to avoid log(0), as upstream."""
    dist_squared = torch.where(dist_squared == 0, torch.ones_like(dist_squared), dist_squared)
    return dist_squared * torch.log(dist_squared)


class TpsGridGen(nn.Module):
    """Thin-plate-spline grid generator: control-point offsets ``theta`` to a dense (B, H, W, 2) sampling grid.

    The control points sit on a regular ``grid_size`` x ``grid_size`` grid over [-1, 1]^2; ``theta`` moves them, and
    the TPS interpolating those moves maps every output pixel (x, y) to a sampling position.
    """

    def __init__(self, out_h: int = 256, out_w: int = 192, grid_size: int = 5) -> None:
        super().__init__()
        self.out_h, self.out_w = out_h, out_w
        self.num_points = grid_size * grid_size
        # All constants in float32, built as upstream does (numpy float64 coordinates cast to float32).
        axis = _linspace_like_numpy(grid_size).float()
        points_x = axis.repeat_interleave(grid_size)  # [N] x of control point k = axis[k // grid_size]
        points_y = axis.repeat(grid_size)  # [N] y of control point k = axis[k % grid_size]
        grid_x = _linspace_like_numpy(out_w).float().expand(out_h, out_w)  # [H, W]
        grid_y = _linspace_like_numpy(out_h).float().unsqueeze(1).expand(out_h, out_w)  # [H, W]
        # U(|p - P_k|) of every output pixel p and control point P_k.
        dx = grid_x.unsqueeze(-1) - points_x  # [H, W, N]
        dy = grid_y.unsqueeze(-1) - points_y
        basis = _radial_basis(dx * dx + dy * dy)  # [H, W, N]
        self.register_buffer("points_x", points_x, persistent=False)
        self.register_buffer("points_y", points_y, persistent=False)
        self.register_buffer("grid_x", grid_x.contiguous(), persistent=False)
        self.register_buffer("grid_y", grid_y.contiguous(), persistent=False)
        self.register_buffer("basis", basis.contiguous(), persistent=False)
        self.register_buffer("L_inverse", self._l_inverse(points_x, points_y), persistent=False)

    @staticmethod
    def _l_inverse(points_x: torch.Tensor, points_y: torch.Tensor) -> torch.Tensor:
        """Inverse of the TPS system L = [[K, P], [P^T, 0]] (K_ij = U(|P_i - P_j|), P = [1, x, y]), in float32."""
        n = points_x.shape[0]
        dx = points_x.unsqueeze(1) - points_x.unsqueeze(0)
        dy = points_y.unsqueeze(1) - points_y.unsqueeze(0)
        kernel = _radial_basis(dx * dx + dy * dy)  # [N, N]
        affine = torch.stack([torch.ones(n), points_x, points_y], 1)  # [N, 3]
        system = torch.cat([torch.cat([kernel, affine], 1),
                            torch.cat([affine.t(), torch.zeros(3, 3)], 1)], 0)  # [N+3, N+3]
        return torch.linalg.inv(system)

    def forward(self, theta: torch.Tensor) -> torch.Tensor:
        batch = theta.shape[0]
        n = self.num_points
        # Target positions of the control points: regular grid + predicted offsets.
        target_x = (theta[:, :n] + self.points_x).unsqueeze(2)  # [B, N, 1]
        target_y = (theta[:, n:] + self.points_y).unsqueeze(2)
        # TPS coefficients; the right-hand side is [target; 0], so only the first N columns of L^-1 are used.
        li_kernel = self.L_inverse[:n, :n].expand(batch, n, n)
        li_affine = self.L_inverse[n:, :n].expand(batch, 3, n)
        radial_x = torch.bmm(li_kernel, target_x).reshape(batch, 1, 1, n)  # [B, 1, 1, N]
        radial_y = torch.bmm(li_kernel, target_y).reshape(batch, 1, 1, n)
        affine_x = torch.bmm(li_affine, target_x).reshape(batch, 3, 1, 1)  # [B, 3, 1, 1]
        affine_y = torch.bmm(li_affine, target_y).reshape(batch, 3, 1, 1)
        grid_x, grid_y = self.grid_x, self.grid_y
        warped_x = (affine_x[:, 0] + affine_x[:, 1] * grid_x + affine_x[:, 2] * grid_y
                    + torch.sum(radial_x * self.basis, 3))  # [B, H, W]
        warped_y = (affine_y[:, 0] + affine_y[:, 1] * grid_x + affine_y[:, 2] * grid_y
                    + torch.sum(radial_y * self.basis, 3))
        return torch.stack([warped_x, warped_y], 3)  # [B, H, W, 2] (x, y)


class GMM(nn.Module):
    """Geometric matching module: person representation + garment to a TPS sampling grid and its parameters."""

    def __init__(self, fine_height: int = 256, fine_width: int = 192, grid_size: int = 5) -> None:
        super().__init__()
        feature_h, feature_w = fine_height // 16, fine_width // 16
        self.extractionA = FeatureExtraction(REPRESENTATION_CHANNELS)  # official names: A = person, B = garment
        self.extractionB = FeatureExtraction(GARMENT_CHANNELS)
        self.l2norm = FeatureL2Norm()
        self.correlation = FeatureCorrelation()
        self.regression = FeatureRegression(feature_h * feature_w, 2 * grid_size**2, (feature_h // 4, feature_w // 4))
        self.gridGen = TpsGridGen(fine_height, fine_width, grid_size)  # buffers only: nothing in the state_dict

    def forward(self, person_representation: torch.Tensor, garment: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        person_feature = self.l2norm(self.extractionA(person_representation))
        garment_feature = self.l2norm(self.extractionB(garment))
        correlation = self.correlation(person_feature, garment_feature)
        theta = self.regression(correlation)
        grid = self.gridGen(theta)
        return grid, theta


# ---------------------------------------------------------------------------------------------------------------
# TOM: try-on module (pix2pix-style recursive U-Net)


class UnetSkipConnectionBlock(nn.Module):
    """One U-Net level: down (LeakyReLU, 4x4 s2 conv, IN) -> inner levels -> up (ReLU, bilinear x2, 3x3 conv, IN).

    Non-outermost levels return ``cat[leaky_relu(x), up(...)]`` (see the module docstring); the outermost takes the
    raw input (no LeakyReLU, no down norm) and returns ``up(...)`` alone. ``self.model`` keeps upstream's layer
    indices so the keys match: outermost [conv, sub, relu, up, conv, norm]; innermost [lrelu, conv, relu, up, conv,
    norm]; others [lrelu, conv, norm, sub, relu, up, conv, norm].
    """

    def __init__(self, outer_nc: int, inner_nc: int, input_nc: int | None = None,
                 submodule: nn.Module | None = None, outermost: bool = False, innermost: bool = False,
                 norm_layer: type[nn.Module] = nn.InstanceNorm2d) -> None:
        super().__init__()
        self.outermost = outermost
        use_bias = norm_layer is nn.InstanceNorm2d
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, 4, stride=2, padding=1, bias=use_bias)
        up_in = inner_nc if innermost else inner_nc * 2
        up = [nn.ReLU(), nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
              nn.Conv2d(up_in, outer_nc, 3, padding=1, bias=use_bias), norm_layer(outer_nc)]
        if outermost:
            layers = [downconv, submodule, *up]
        elif innermost:
            layers = [nn.LeakyReLU(0.2), downconv, *up]
        else:
            layers = [nn.LeakyReLU(0.2), downconv, norm_layer(inner_nc), submodule, *up]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        activated = self.model[0](x)  # upstream's in-place LeakyReLU also changes the skip tensor
        out = activated
        for layer in self.model[1:]:
            out = layer(out)
        return torch.cat([activated, out], 1)


class UnetGenerator(nn.Module):
    """``UnetGenerator(input_nc, output_nc, num_downs, ngf, norm_layer)``: recursive U-Net, ``num_downs`` levels."""

    def __init__(self, input_nc: int, output_nc: int, num_downs: int, ngf: int = 64,
                 norm_layer: type[nn.Module] = nn.InstanceNorm2d) -> None:
        super().__init__()
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, norm_layer=norm_layer, innermost=True)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, norm_layer=norm_layer)
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block, norm_layer=norm_layer)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, norm_layer=norm_layer)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block, norm_layer=norm_layer)
        self.model = UnetSkipConnectionBlock(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True,
                                             norm_layer=norm_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


# ---------------------------------------------------------------------------------------------------------------
# The model


class CPVTON(TryOnModel):
    """GMM warp + ``UnetGenerator(25, 4, 6, InstanceNorm2d)`` TOM, chained as the official ``test.py`` stages."""

    spec = SPEC

    def __init__(self, config: CPVTONConfig | None = None) -> None:
        config = config or CPVTONConfig()
        if config.fine_height <= 0 or config.fine_width <= 0 or config.fine_height % 64 or config.fine_width % 64:
            raise ValueError(f"cp-vton needs fine_height and fine_width that are positive multiples of 64, got "
                             f"{config.fine_height}x{config.fine_width}")
        if config.grid_size < 2:
            raise ValueError(f"cp-vton needs grid_size >= 2, got {config.grid_size}")
        super().__init__(config)
        self.gmm = GMM(config.fine_height, config.fine_width, config.grid_size)
        self.tom = UnetGenerator(REPRESENTATION_CHANNELS + GARMENT_CHANNELS, 4, 6, ngf=64,
                                 norm_layer=nn.InstanceNorm2d)

    def forward(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        _, height, width = self.check_inputs(inputs)
        config = self.config
        if (height, width) != (config.fine_height, config.fine_width):
            raise ValueError(f"cp-vton was built for {config.fine_height}x{config.fine_width} inputs (its GMM "
                             f"regressor has a Linear layer sized for that), got {height}x{width}. Resize the "
                             f"inputs, or build the model with fine_height={height}, fine_width={width} (new "
                             f"weights needed).")
        person_representation = inputs["person_representation"]
        garment = inputs["garment"]
        tps_grid, tps_theta = self.gmm(person_representation, garment)
        warped_garment = grid_sample(garment, tps_grid, mode="bilinear", padding_mode="border",
                                     align_corners=config.align_corners)
        warped_mask = grid_sample(inputs["garment_mask"], tps_grid, mode="bilinear", padding_mode="zeros",
                                  align_corners=config.align_corners)
        generator_out = self.tom(torch.cat([person_representation, warped_garment], 1))
        rendered_person = torch.tanh(generator_out[:, :3])
        composite_mask = torch.sigmoid(generator_out[:, 3:4])  # not multiplied by warped_mask (pinned test.py)
        tryon = warped_garment * composite_mask + rendered_person * (1 - composite_mask)
        return {
            "tps_grid": tps_grid,
            "tps_theta": tps_theta,
            "warped_garment": warped_garment,
            "warped_mask": warped_mask,
            "generator_out": generator_out,
            "rendered_person": rendered_person,
            "composite_mask": composite_mask,
            "tryon": tryon,
        }


@register_model(SPEC)
def cp_vton(**config) -> CPVTON:
    """CP-VTON (GMM + TOM) at 256x192 (options: ``fine_height``, ``fine_width``, ``grid_size``, ``align_corners``)."""
    return CPVTON(CPVTONConfig(**config))
