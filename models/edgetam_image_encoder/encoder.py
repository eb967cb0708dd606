"""The exportable EdgeTAM image encoder: timm RepViT-M1 trunk + FPN neck, tuple output.

Why a wrapper of our own rather than SAM2's ``ImageEncoder``: the original returns a
dict holding lists (``vision_features``, ``vision_pos_enc``, ``backbone_fpn``) with the
same tensor in two places. Here the output is a flat tuple in a documented order, so the
.pte has one output per distinct tensor and a runner or test can address them by index:

    (backbone_fpn[0]  stride 4,  (1, 256, S/4,  S/4),
     backbone_fpn[1]  stride 8,  (1, 256, S/8,  S/8),
     vision_features  stride 16, (1, 256, S/16, S/16))      # == backbone_fpn[2]

EdgeTAM uses ``scalp: 1``: the stride-32 level only feeds the top-down path and is not
an output. With ``position_encoding=True`` the sine encodings of the three kept levels
follow as three more outputs, computed inside the graph like the original (for the
before/after measurement only; see position_encoding.py).
"""
from __future__ import annotations

import torch
from torch import nn

from .activations import replace_gelu
from .errors import SETUP_HINT, user_error
from .neck import FpnNeck
from .options import EncoderOptions
from .position_encoding import sine_position_encoding

TIMM_TRUNK = "repvit_m1"  # EdgeTAM's trunk is repvit_m1.dist_in1k; weights come from its checkpoint
TRUNK_STAGES = (0, 1, 2, 3)
SCALP = 1


def _create_trunk() -> nn.Module:
    """timm's RepViT-M1 as a feature extractor, random init, never downloading."""
    try:
        import timm
    except ImportError as exc:
        raise user_error(f"cannot import timm ({exc})", SETUP_HINT) from exc
    return timm.create_model(TIMM_TRUNK, pretrained=False, features_only=True,
                             out_indices=TRUNK_STAGES)


@torch.no_grad()
def reparameterize(module: nn.Module) -> int:
    """Replace every child that offers ``fuse()`` by its fused form; returns how many.

    Why: RepViT is a re-parameterisable network. For inference timm can fold each
    conv+BatchNorm pair into one conv and the three branches of a RepVGG depthwise
    block (3x3 conv, 1x1 conv, identity) into a single 3x3 depthwise conv. The
    features-only wrapper timm returns has no ``fuse`` of its own, so we walk it.
    """
    fused = 0
    for name, child in list(module.named_children()):
        if callable(getattr(child, "fuse", None)):
            replacement = child.fuse()
            setattr(module, name, replacement)
            fused += 1 + reparameterize(replacement)
        else:
            fused += reparameterize(child)
    return fused


class EdgeTamImageEncoder(nn.Module):
    """Image (1, 3, S, S), ImageNet-normalised as SAM2 does -> tuple of FPN maps."""

    def __init__(self, upsample: str = "deconv", position_encoding: bool = False) -> None:
        super().__init__()
        self.trunk = _create_trunk()
        self.neck = FpnNeck(upsample=upsample)
        self.position_encoding = position_encoding

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        levels = self.neck(list(self.trunk(image)))
        kept = tuple(levels[: len(levels) - SCALP])
        if not self.position_encoding:
            return kept
        encodings = tuple(
            sine_position_encoding(x.shape[-2], x.shape[-1], x.shape[1], x.dtype).to(x.device)
            for x in kept)
        return kept + encodings


def build_encoder(options: EncoderOptions) -> EdgeTamImageEncoder:
    """Build, load weights if a checkpoint is given, then fuse; eval mode."""
    from .checkpoint import load_edgetam_checkpoint

    encoder = EdgeTamImageEncoder(upsample=options.upsample,
                                  position_encoding=options.position_encoding)
    if options.fp16_gelu == "tanh":
        replace_gelu(encoder.trunk)  # no weights involved: safe before loading
    if options.checkpoint is not None:
        load_edgetam_checkpoint(encoder, options.checkpoint)
    encoder.eval()
    if options.fuse:
        reparameterize(encoder.trunk)
    return encoder
