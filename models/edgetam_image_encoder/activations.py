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

from torch import nn

from sme2prof.export.delegable_layers import DelegableGelu, replace_modules

__all__ = ["DelegableGelu", "replace_gelu"]


def replace_gelu(module: nn.Module) -> int:
    """Swap every ``nn.GELU`` below ``module`` for DelegableGelu; returns how many."""
    return replace_modules(module, nn.GELU, DelegableGelu)
