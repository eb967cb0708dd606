"""MobileNetV3 building blocks, named like torchvision's so its checkpoints load."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round channels to a multiple of 8 the way the paper (and torchvision) do."""
    new_value = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


@dataclass(frozen=True)
class BlockConfig:
    in_channels: int
    kernel: int
    expanded_channels: int
    out_channels: int
    use_se: bool
    activation: str          # "RE" (ReLU) or "HS" (hardswish)
    stride: int


class Conv2dNormActivation(nn.Sequential):
    """conv -> batch norm -> optional activation; children named 0, 1, 2 like torchvision."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1,
                 norm_layer: Callable[[int], nn.Module] = nn.BatchNorm2d,
                 activation: Callable[[], nn.Module] | None = nn.ReLU) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(in_ch, out_ch, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            norm_layer(out_ch)]
        if activation is not None:
            layers.append(activation())
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    """Channel attention: global pool -> 1x1 conv -> ReLU -> 1x1 conv -> hardsigmoid -> scale."""

    def __init__(self, channels: int, squeeze_channels: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.fc2(self.activation(self.fc1(self.avgpool(x))))
        return x * self.scale_activation(scale)


class InvertedResidual(nn.Module):
    """expand (1x1) -> depthwise (kxk) -> [squeeze-excite] -> project (1x1) [+ residual]."""

    def __init__(self, cfg: BlockConfig, norm_layer: Callable[[int], nn.Module]) -> None:
        super().__init__()
        activation = nn.Hardswish if cfg.activation == "HS" else nn.ReLU
        layers: list[nn.Module] = []
        if cfg.expanded_channels != cfg.in_channels:
            layers.append(Conv2dNormActivation(cfg.in_channels, cfg.expanded_channels, 1,
                                               norm_layer=norm_layer, activation=activation))
        layers.append(Conv2dNormActivation(cfg.expanded_channels, cfg.expanded_channels,
                                           cfg.kernel, stride=cfg.stride,
                                           groups=cfg.expanded_channels,
                                           norm_layer=norm_layer, activation=activation))
        if cfg.use_se:
            layers.append(SqueezeExcitation(cfg.expanded_channels,
                                            make_divisible(cfg.expanded_channels // 4)))
        layers.append(Conv2dNormActivation(cfg.expanded_channels, cfg.out_channels, 1,
                                           norm_layer=norm_layer, activation=None))
        self.block = nn.Sequential(*layers)
        self.use_res_connect = cfg.stride == 1 and cfg.in_channels == cfg.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return out + x if self.use_res_connect else out
