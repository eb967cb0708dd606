"""Transformer pieces written so ExecuTorch 1.5.1's XNNPACK partitioner takes all of them.

Why: with ``nn.LayerNorm``, ``nn.GELU`` and 4-D ``@`` attention, vit_tiny lowered into
32 XNNPACK partitions in fp32 and 38 in fp16, with 57 to 69 operators left to the portable
kernels between them (measured; models/readme.md has the table):

* ``aten.native_layer_norm``: XNNPACK 1.5.1 has no layer norm. DelegableLayerNorm
  computes it from mean, subtract, multiply, add and rsqrt; the means run on a
  (batch, tokens, dim, 1) view because XNNPACK's mean only averages a 4-D tensor over
  its last two dimensions (keepdim).
* ``aten.expand_copy`` / ``aten.squeeze_copy``: a 4-D ``q @ k^T`` is decomposed into
  expand + view + ``bmm`` and ``unbind`` into select + squeeze; none of the copies is
  delegated. The attention in ``__init__.py`` uses 3-D ``torch.bmm`` on
  (batch x heads, tokens, head_dim) and slices q, k and v off the qkv projection.
* ``aten.gelu`` in fp16: the partitioner takes GELU in fp32 only. DelegableGelu (shared
  with the EdgeTAM package, from the kit's ``sme2prof.export.delegable_layers``) uses the
  tanh form in fp16 and the exact GELU otherwise.
* Python floats (the attention scale, layer-norm epsilon) become fp32 0-dim constants
  with a cast outside the delegate in fp16; here they are buffers, cast by
  ``model.half()`` once.

Parameter names are those of ``nn.LayerNorm`` (weight, bias), so state dicts still load.
"""
from __future__ import annotations

import torch
from torch import nn

from sme2prof.export.delegable_layers import DelegableGelu

__all__ = ["DelegableGelu", "DelegableLayerNorm"]


class DelegableLayerNorm(nn.LayerNorm):
    """LayerNorm over the last dimension of a (batch, tokens, dim) tensor, from delegated ops."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register_buffer("eps_tensor", torch.tensor(self.eps), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x4 = x.reshape(shape[0], shape[1], shape[2], 1)
        centered = x4 - x4.mean(dim=(2, 3), keepdim=True)
        variance = (centered * centered).mean(dim=(2, 3), keepdim=True)
        normalized = centered * torch.rsqrt(variance + self.eps_tensor)
        return normalized.reshape(shape) * self.weight + self.bias
