"""A small Vision Transformer (ViT-Tiny layout) written with explicit attention matmuls.

Patch embedding (a strided convolution), a class token, learned position embeddings,
pre-norm encoder blocks (layer norm, multi-head self-attention as ``q @ k^T`` /
softmax / ``@ v``, GELU MLP) and a linear head. Attention is spelled out instead of
calling ``scaled_dot_product_attention`` so the exported graph shows the batch
matmuls, transposes and reshapes that make transformer profiles GEMM- and
data-movement-heavy. Weights are seeded-random (truncated normal, like timm).

``delegable_ops`` (default true) writes layer norm, GELU (fp16) and attention with the
operators XNNPACK takes (``delegable.py``), so every dtype lowers to one partition;
``--model-arg delegable_ops=false`` keeps the textbook modules, to measure the difference.
"""
from __future__ import annotations

import torch
from torch import nn

from .delegable import DelegableGelu, DelegableLayerNorm

DESCRIPTION = ("ViT-Tiny layout, 1x3x224x224, 192-dim, 3 heads, 6 blocks (attention, layer norm, "
               "GELU, matmuls; GEMM- and data-movement-heavy)")
DTYPES = ("fp32", "fp16", "int8")
IMAGE_SIZE = 224


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, delegable: bool = True) -> None:
        super().__init__()
        self.heads = heads
        self.delegable = delegable
        # A buffer, not a float: a float is an fp32 constant plus a cast outside XNNPACK in fp16.
        self.register_buffer("scale", torch.tensor((dim // heads) ** -0.5), persistent=False)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._delegable(x) if self.delegable else self._textbook(x)

    def _delegable(self, x: torch.Tensor) -> torch.Tensor:
        """3-D bmm over (batch x heads, tokens, head_dim); q, k, v sliced off the projection."""
        batch, tokens, dim = x.shape
        head_dim = dim // self.heads
        qkv = self.qkv(x)

        def split_heads(part: torch.Tensor) -> torch.Tensor:
            return (part.reshape(batch, tokens, self.heads, head_dim).permute(0, 2, 1, 3)
                    .reshape(batch * self.heads, tokens, head_dim))

        q, k, v = (split_heads(qkv[:, :, i * dim:(i + 1) * dim]) for i in range(3))
        weights = torch.softmax(torch.bmm(q * self.scale, k.transpose(1, 2)), dim=-1)
        out = torch.bmm(weights, v).reshape(batch, self.heads, tokens, head_dim)
        return self.proj(out.permute(0, 2, 1, 3).reshape(batch, tokens, dim))

    def _textbook(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, dim = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.heads, dim // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)         # each: B, heads, T, head_dim
        weights = torch.softmax((q * self.scale) @ k.transpose(-2, -1), dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(batch, tokens, dim)
        return self.proj(out)


def _layer_norm(dim: int, delegable: bool) -> nn.LayerNorm:
    return DelegableLayerNorm(dim, eps=1e-6) if delegable else nn.LayerNorm(dim, eps=1e-6)


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: int = 4, delegable: bool = True) -> None:
        super().__init__()
        self.norm1 = _layer_norm(dim, delegable)
        self.attn = Attention(dim, heads, delegable)
        self.norm2 = _layer_norm(dim, delegable)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim),
                                 DelegableGelu() if delegable else nn.GELU(),
                                 nn.Linear(mlp_ratio * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    def __init__(self, image_size: int, patch: int, dim: int, depth: int, heads: int,
                 num_classes: int, delegable: bool = True) -> None:
        super().__init__()
        self.delegable = delegable
        self.patch_embed = nn.Conv2d(3, dim, patch, stride=patch)
        tokens = (image_size // patch) ** 2 + 1
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, delegable=delegable) for _ in range(depth)])
        self.norm = _layer_norm(dim, delegable)
        self.head = nn.Linear(dim, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2)       # B, patches, dim
        batch = x.shape[0]
        # expand and select leave copies outside XNNPACK; at batch 1 the class token needs
        # no expand, and a slice plus reshape picks it where x[:, 0] would be a select_copy.
        cls = self.cls_token if self.delegable and batch == 1 else self.cls_token.expand(batch, -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, :1].reshape(batch, -1) if self.delegable else x[:, 0])


def build_model(depth: int = 6, dim: int = 192, heads: int = 3, patch: int = 16,
                image_size: int = IMAGE_SIZE, num_classes: int = 1000,
                delegable_ops: bool = True) -> nn.Module:
    """ViT-Tiny has 12 blocks; 6 by default keeps export and int8 calibration quick.

    ``delegable_ops``: see the module docstring (``false`` for the textbook modules).

    ``--model-arg depth=12`` gives the full ViT-Tiny depth; ``image_size`` (a multiple of
    ``patch``) also reaches ``example_inputs``, so the traced shapes follow it.
    """
    if dim % heads:
        raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
    torch.manual_seed(0)
    return VisionTransformer(image_size, patch, dim, depth, heads, num_classes,
                             delegable=bool(delegable_ops)).eval()


def example_inputs(image_size: int = IMAGE_SIZE) -> tuple:
    """One image; ``image_size`` follows ``--model-arg image_size=...`` (the kit passes it)."""
    generator = torch.Generator().manual_seed(1)
    return (torch.randn(1, 3, image_size, image_size, generator=generator),)


def calibration_inputs(image_size: int = IMAGE_SIZE) -> list[tuple]:
    generator = torch.Generator().manual_seed(2)
    return [(torch.randn(1, 3, image_size, image_size, generator=generator),) for _ in range(2)]
