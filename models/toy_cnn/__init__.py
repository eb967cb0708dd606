"""A tiny CNN + linear classifier: exports in seconds, for smoke tests and the quickstart.

Three convolutions (one depthwise), batch norm, ReLU, global average pooling and a
linear head: enough to see CONV, GEMM and Elementwise events in a profile, small enough
to run anywhere in a fraction of a second.
"""
from __future__ import annotations

import torch
from torch import nn

DESCRIPTION = "tiny CNN + linear head on 1x3x32x32 (exports in seconds; smoke tests)"
DTYPES = ("fp32", "fp16", "int8")
INPUT_SHAPE = (1, 3, 32, 32)


def _conv_bn_relu(in_ch: int, out_ch: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, groups=groups, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(),
    )


class ToyCnn(nn.Module):
    def __init__(self, num_classes: int = 10, width: int = 16) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _conv_bn_relu(3, width, stride=2),
            _conv_bn_relu(width, width, groups=width),        # depthwise
            _conv_bn_relu(width, 2 * width, stride=2),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(2 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.pool(self.features(x)), 1))


def build_model(num_classes: int = 10, width: int = 16) -> nn.Module:
    """Seeded random weights (there is nothing to learn from for a smoke test)."""
    torch.manual_seed(0)
    return ToyCnn(num_classes=num_classes, width=width).eval()


def example_inputs() -> tuple:
    return (torch.randn(*INPUT_SHAPE, generator=torch.Generator().manual_seed(1)),)


def calibration_inputs() -> list[tuple]:
    generator = torch.Generator().manual_seed(2)
    return [(torch.randn(*INPUT_SHAPE, generator=generator),) for _ in range(8)]
