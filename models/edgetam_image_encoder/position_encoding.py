"""Sine position encodings of the EdgeTAM FPN levels, computed outside the graph.

Why outside: the encodings depend only on a feature map's height and width, never on
the image. Computing them inside the exported graph adds a chain of arange, divide,
sin/cos, stack and concatenate ops per level that XNNPACK does not take, so they run
as non-delegated ExecuTorch kernels on every frame for a result that never changes. An
application computes them once per image size with ``sine_position_encoding`` (or
caches them) and feeds them to the memory attention itself.

Layout (matches SAM2's ``PositionEmbeddingSine`` with normalize=True, scale=2*pi,
temperature=10000): channels are [y-half, x-half]; inside a half, channel c uses the
frequency temperature**(2*floor(c/2)/half) and is sin for even c, cos for odd c;
positions run 1..n and are normalised to (0, 2*pi].
"""
from __future__ import annotations

import math

import torch

TEMPERATURE = 10000.0
EPS = 1e-6


def _axis_table(length: int, half: int, dtype: torch.dtype) -> torch.Tensor:
    """(half, length) table of sin/cos features along one axis."""
    positions = torch.arange(1, length + 1, dtype=torch.float32)
    positions = positions / (positions[-1] + EPS) * (2 * math.pi)
    channel = torch.arange(half, dtype=torch.float32)
    frequency = TEMPERATURE ** (2 * torch.div(channel, 2, rounding_mode="floor") / half)
    phase = positions[None, :] / frequency[:, None]
    is_even = (channel % 2 == 0)[:, None]
    return torch.where(is_even, phase.sin(), phase.cos()).to(dtype)


def sine_position_encoding(height: int, width: int, channels: int = 256,
                           dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(1, channels, height, width) encoding for one FPN level."""
    if channels % 2:
        raise ValueError(f"channels must be even, got {channels}")
    half = channels // 2
    y_part = _axis_table(height, half, dtype)[:, :, None].expand(half, height, width)
    x_part = _axis_table(width, half, dtype)[:, None, :].expand(half, height, width)
    return torch.cat((y_part, x_part), dim=0)[None]
