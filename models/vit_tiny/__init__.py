"""A small Vision Transformer (ViT-Tiny layout) written with explicit attention matmuls.

Patch embedding (a strided convolution), a class token, learned position embeddings,
pre-norm encoder blocks (layer norm, multi-head self-attention as ``q @ k^T`` /
softmax / ``@ v``, GELU MLP) and a linear head. Attention is spelled out instead of
calling ``scaled_dot_product_attention`` so the exported graph shows the batch
matmuls, transposes and reshapes that make transformer profiles GEMM- and
data-movement-heavy. Weights are seeded-random (truncated normal, like timm).
"""
from __future__ import annotations

import torch
from torch import nn

DESCRIPTION = ("ViT-Tiny layout, 1x3x224x224, 192-dim, 3 heads, 6 blocks (attention, layer norm, "
               "GELU, matmuls; GEMM- and data-movement-heavy)")
DTYPES = ("fp32", "fp16", "int8")
IMAGE_SIZE = 224


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, dim = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.heads, dim // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)         # each: B, heads, T, head_dim
        weights = torch.softmax((q * self.scale) @ k.transpose(-2, -1), dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(batch, tokens, dim)
        return self.proj(out)


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: int = 4) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(),
                                 nn.Linear(mlp_ratio * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    def __init__(self, image_size: int, patch: int, dim: int, depth: int, heads: int,
                 num_classes: int) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, stride=patch)
        tokens = (image_size // patch) ** 2 + 1
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
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
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def build_model(depth: int = 6, dim: int = 192, heads: int = 3, patch: int = 16,
                image_size: int = IMAGE_SIZE, num_classes: int = 1000) -> nn.Module:
    """ViT-Tiny has 12 blocks; 6 by default keeps export and int8 calibration quick.

    ``--model-arg depth=12`` gives the full ViT-Tiny depth; ``image_size`` (a multiple of
    ``patch``) also reaches ``example_inputs``, so the traced shapes follow it.
    """
    if dim % heads:
        raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
    torch.manual_seed(0)
    return VisionTransformer(image_size, patch, dim, depth, heads, num_classes).eval()


def example_inputs(image_size: int = IMAGE_SIZE) -> tuple:
    """One image; ``image_size`` follows ``--model-arg image_size=...`` (the kit passes it)."""
    generator = torch.Generator().manual_seed(1)
    return (torch.randn(1, 3, image_size, image_size, generator=generator),)


def calibration_inputs(image_size: int = IMAGE_SIZE) -> list[tuple]:
    generator = torch.Generator().manual_seed(2)
    return [(torch.randn(1, 3, image_size, image_size, generator=generator),) for _ in range(2)]
