"""The EdgeTAM FPN neck: 1x1 lateral projections to 256 channels plus a top-down path.

EdgeTAM (edgetam.yaml) configures SAM2's FPN neck with d_model 256, trunk channels
[384, 192, 96, 48] (deepest first), nearest 2x upsampling, sum fusion and top-down
features only on levels 2 and 3: level 3 (stride 32) is its own lateral projection,
level 2 (stride 16) is its lateral plus the upsampled level 3, and levels 1 and 0
(strides 8 and 4) are lateral projections only. This module reproduces that structure;
it is written for this kit, not copied.

Model-specific edits for ExecuTorch + XNNPACK (see the package readme for numbers):
- ``upsample="deconv"`` (default) expresses the nearest 2x upsampling as a depthwise
  transposed convolution with a fixed 2x2 kernel of ones, which produces exactly the
  same values and which the XNNPACK partitioner delegates; the original
  ``F.interpolate(mode="nearest")`` stays outside the delegate.
- The original casts the top-down features to float32 before interpolating, which in
  an fp16 export promotes the sum to float32 and adds dtype conversions. Both modes
  here keep the input dtype; ``upsample="interpolate"`` keeps the original op only.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

TRUNK_CHANNELS_DEEPEST_FIRST = (384, 192, 96, 48)
D_MODEL = 256
TOP_DOWN_LEVELS = (2, 3)


class NearestUpsample2x(nn.Module):
    """Nearest-neighbour 2x upsampling, as a delegable op or as the original interpolate."""

    def __init__(self, channels: int, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.channels = channels
        # Not persistent: it is a constant of the rewrite, not a weight of EdgeTAM, so
        # strict checkpoint loading must not expect it.
        self.register_buffer("ones_kernel", torch.ones(channels, 1, 2, 2), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "deconv":
            return F.conv_transpose2d(x, self.ones_kernel, stride=2, groups=self.channels)
        return F.interpolate(x, scale_factor=2.0, mode="nearest")


class FpnNeck(nn.Module):
    """Takes trunk features shallow-first [s4, s8, s16, s32]; returns 256-ch maps, same order."""

    def __init__(self, upsample: str = "deconv") -> None:
        super().__init__()
        # lateral[k] projects the k-th deepest level, the order EdgeTAM's checkpoint uses.
        self.lateral = nn.ModuleList(
            nn.Conv2d(channels, D_MODEL, kernel_size=1) for channels in TRUNK_CHANNELS_DEEPEST_FIRST)
        self.upsample = NearestUpsample2x(D_MODEL, upsample)

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        deepest = len(self.lateral) - 1
        outputs: list[torch.Tensor] = [features[0]] * len(features)
        coarser: torch.Tensor | None = None
        for level in range(deepest, -1, -1):
            projected = self.lateral[deepest - level](features[level])
            if level in TOP_DOWN_LEVELS and coarser is not None:
                projected = projected + self.upsample(coarser)
            outputs[level] = projected
            coarser = projected
        return outputs
