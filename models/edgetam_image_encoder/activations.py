"""A GELU that XNNPACK delegates at fp16 as well as fp32.

Why: RepViT's MLPs use exact GELU (27 of them in RepViT-M1). ExecuTorch 1.5.1's XNNPACK
partitioner takes ``aten.gelu`` only in fp32 ("GELU does not support fp16"), so an fp16
export leaves every GELU outside the delegate and cuts the graph into ~28 XNNPACK
partitions with fp16 tensors crossing the boundary each time. The tanh form of GELU,
0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3))), is built from multiply, add and tanh,
all of which XNNPACK runs in fp16. It differs from the exact GELU by less than 1e-3,
below fp16's own resolution at unit scale.

The choice is made while tracing, from the tensor's dtype (static under torch.export),
so the package does not need to know which dtype the exporter will cast to: fp32 and
int8 exports keep the exact ``aten.gelu`` (delegated), fp16 exports get the tanh form.
For |x| large enough that x^3 overflows fp16, tanh saturates to +-1 and the result is
still x or 0, as GELU's limits are.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
CUBIC = 0.044715


class DelegableGelu(nn.Module):
    """Exact GELU except in fp16, where it uses the tanh form (see module docstring).

    The constants are buffers rather than Python floats: a float becomes an fp32 scalar
    tensor plus a non-delegated cast to fp16 in the edge graph; a buffer is cast once by
    ``model.half()`` and goes into the delegate as a constant.
    """

    def __init__(self) -> None:
        super().__init__()
        for name, value in (("cubic", CUBIC), ("sqrt_2_over_pi", SQRT_2_OVER_PI),
                            ("one_half", 0.5), ("one", 1.0)):
            self.register_buffer(name, torch.tensor(value), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != torch.float16:
            return F.gelu(x)
        inner = self.sqrt_2_over_pi * (x + self.cubic * x * x * x)
        return self.one_half * x * (self.one + torch.tanh(inner))


def replace_gelu(module: nn.Module) -> int:
    """Swap every ``nn.GELU`` below ``module`` for DelegableGelu; returns how many."""
    replaced = 0
    for name, child in list(module.named_children()):
        if isinstance(child, nn.GELU):
            setattr(module, name, DelegableGelu())
            replaced += 1
        else:
            replaced += replace_gelu(child)
    return replaced
