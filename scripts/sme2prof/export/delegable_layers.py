"""Export-friendly layers that model packages share, and the swap that puts them in.

Why here: the same rewrite keeps an operator inside XNNPACK in several models (EdgeTAM's
RepViT MLPs and vit_tiny's blocks both need a GELU the partitioner takes in fp16), and a
model package copied from ``models/`` is loaded by this kit, so it can import them from
the kit instead of carrying its own copy. Each model's readme says what its edit measured.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
CUBIC = 0.044715


class DelegableGelu(nn.Module):
    """Exact GELU except in fp16, where it is 0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3))).

    ExecuTorch 1.5.1's XNNPACK partitioner takes ``aten.gelu`` in fp32 only; the tanh form
    is multiply, add and tanh, which it runs in fp16, and differs from the exact GELU by
    less than 1e-3, below fp16's resolution at unit scale. The choice is made while
    tracing, from the tensor's dtype (static under torch.export), so fp32 and int8 keep
    the exact GELU. The constants are buffers rather than Python floats: a float becomes
    an fp32 scalar tensor plus a non-delegated cast to fp16 in the edge graph; a buffer is
    cast once by ``model.half()`` and goes into the delegate as a constant.
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


def replace_modules(module: nn.Module, kind: type[nn.Module], make: Callable[[], nn.Module]) -> int:
    """Swap every ``kind`` below ``module`` for ``make()``; returns how many were swapped."""
    replaced = 0
    for name, child in list(module.named_children()):
        if isinstance(child, kind):
            setattr(module, name, make())
            replaced += 1
        else:
            replaced += replace_modules(child, kind, make)
    return replaced
