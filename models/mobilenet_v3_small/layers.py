"""MobileNetV3 building blocks, named like torchvision's so its checkpoints load."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from sme2prof.export.delegable_layers import replace_modules


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


class DelegableHardsigmoid(nn.Module):
    """hardsigmoid(x) = relu6(x + 3) / 6, written so XNNPACK takes all of it, fp16 included.

    Why: ``nn.Hardsigmoid`` has no XNNPACK lowering in ExecuTorch 1.5.1, so the edge
    program uses torch's decomposition, ``clamp(clamp(x + 3, min=0), max=6) / 6``. Two
    things in it stay outside the delegate as ``dim_order_ops._to_dim_order_copy``:

    * the literals 3 and 6 become 0-dim constant tensors, each with a copy that converts
      them to the activation's dtype (XNNPACK takes copies that change the dim order,
      never the dtype): 2 per squeeze-excitation block, 18 in the network, fp32 included;
    * the decomposition computes in fp32 for fp16 inputs (``pw_cast_for_opmath``), so an
      fp16 export also casts fp16 -> fp32 before and fp32 -> fp16 after: 18 more copies,
      and each pair cuts the delegate, 9 blocks giving 19 XNNPACK partitions.

    Here the constants are buffers (``model.half()`` casts them once, and they go into the
    delegate as constants) and the arithmetic is add, hardtanh (relu6) and multiply, which
    XNNPACK runs in the input's dtype. fp32 results equal ``F.hardsigmoid`` to rounding;
    fp16 results differ by at most one fp16 step, because the reference rounds once from
    fp32 while this rounds after each operation. No parameters, so torchvision checkpoints
    still load.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("three", torch.tensor(3.0), persistent=False)
        self.register_buffer("one_sixth", torch.tensor(1.0 / 6.0), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.relu6(x + self.three) * self.one_sixth


def replace_hardsigmoid(module: nn.Module) -> int:
    """Swap every ``nn.Hardsigmoid`` below ``module`` for DelegableHardsigmoid; returns how many."""
    return replace_modules(module, nn.Hardsigmoid, DelegableHardsigmoid)


class SqueezeExcitation(nn.Module):
    """Channel attention: global pool -> 1x1 conv -> ReLU -> 1x1 conv -> hardsigmoid -> scale."""

    def __init__(self, channels: int, squeeze_channels: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()     # build_model() swaps it (see below)

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
