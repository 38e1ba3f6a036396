"""``ResUnetGenerator``: the U-Net with residual blocks used as the try-on generator by PF-AFN, GP-VTON and the
PF-AFN/FS-VTON teachers.

Upstream: geyuying/PF-AFN @ e2bb71e2 (``PF-AFN_test/models/networks.py``); identical structure in DM-VTON
(``models/generators/res_unet.py``) and GP-VTON (``models/networks.py``). Written for this project from
architectures.md §1.5. The recursive block nesting is kept because it is what the official keys encode
(``model.model.4.model.5.model.5...``).
"""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """conv-norm-ReLU-conv-norm plus the identity, then ReLU (convs without bias)."""

    def __init__(self, channels: int, norm: type[nn.Module] | None = nn.BatchNorm2d) -> None:
        super().__init__()
        if norm is None:
            layers = [nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.ReLU(inplace=True),
                      nn.Conv2d(channels, channels, 3, padding=1, bias=False)]
        else:
            layers = [nn.Conv2d(channels, channels, 3, padding=1, bias=False), norm(channels), nn.ReLU(inplace=True),
                      nn.Conv2d(channels, channels, 3, padding=1, bias=False), norm(channels)]
        self.block = nn.Sequential(*layers)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.block(x) + x)


class ResUnetSkipConnectionBlock(nn.Module):
    """One U-Net level: stride-2 conv down, 2 residual blocks, the inner levels, nearest x2 up, conv, 2 residual
    blocks; the input is concatenated to the output (except at the outermost level)."""

    def __init__(self, outer_nc: int, inner_nc: int, input_nc: int | None = None,
                 submodule: nn.Module | None = None, outermost: bool = False, innermost: bool = False,
                 norm: type[nn.Module] | None = nn.BatchNorm2d) -> None:
        super().__init__()
        self.outermost = outermost
        use_bias = norm is nn.InstanceNorm2d
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=3, stride=2, padding=1, bias=use_bias)
        res_down = [ResidualBlock(inner_nc, norm), ResidualBlock(inner_nc, norm)]
        res_up = [ResidualBlock(outer_nc, norm), ResidualBlock(outer_nc, norm)]
        upsample = nn.Upsample(scale_factor=2, mode="nearest")
        if outermost:
            upconv = nn.Conv2d(inner_nc * 2, outer_nc, kernel_size=3, padding=1, bias=use_bias)
            layers = [downconv, nn.ReLU(inplace=True), *res_down, submodule, upsample, upconv]
        elif innermost:
            upconv = nn.Conv2d(inner_nc, outer_nc, kernel_size=3, padding=1, bias=use_bias)
            up_norm = [] if norm is None else [norm(outer_nc)]
            layers = [downconv, nn.ReLU(inplace=True), *res_down, upsample, upconv, *up_norm, nn.ReLU(inplace=True),
                      *res_up]
        else:
            upconv = nn.Conv2d(inner_nc * 2, outer_nc, kernel_size=3, padding=1, bias=use_bias)
            down_norm = [] if norm is None else [norm(inner_nc)]
            up_norm = [] if norm is None else [norm(outer_nc)]
            layers = [downconv, *down_norm, nn.ReLU(inplace=True), *res_down, submodule, upsample, upconv, *up_norm,
                      nn.ReLU(inplace=True), *res_up]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class ResUnetGenerator(nn.Module):
    """``ResUnetGenerator(input_nc, output_nc, num_downs=5, ngf=64)``: levels ngf, 2ngf, 4ngf, 8ngf, 8ngf."""

    def __init__(self, input_nc: int, output_nc: int = 4, num_downs: int = 5, ngf: int = 64,
                 norm: type[nn.Module] | None = nn.BatchNorm2d) -> None:
        super().__init__()
        block = ResUnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(num_downs - 5):
            block = ResUnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, norm=norm)
        block = ResUnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block, norm=norm)
        block = ResUnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, norm=norm)
        block = ResUnetSkipConnectionBlock(ngf, ngf * 2, submodule=block, norm=norm)
        self.model = ResUnetSkipConnectionBlock(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True,
                                                norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
