"""EdgeTAM image encoder (RepViT-M1 trunk + FPN neck): the advanced onboarding example.

EdgeTAM (facebookresearch/EdgeTAM, Apache-2.0) is an on-device SAM2 variant; this
package exports only its image encoder, the part that runs once per frame and costs
the most. The trunk is timm's ``repvit_m1`` (features of all four stages: 48/96/192/384
channels at strides 4/8/16/32); the neck is EdgeTAM's FPN (see neck.py); EdgeTAM's
``scalp: 1`` drops the stride-32 output. Needs timm + torchvision, which live in the
separate ``.venv-vision`` (``bash scripts/setup_vision_env.sh``); importing this package
needs only torch, so the model registry can list it from any environment.

Weights: random unless ``--model-arg checkpoint=/path/edgetam.pt`` names EdgeTAM's
released checkpoint (a local file; nothing is downloaded). Profiling cost does not
depend on the weight values, only on shapes and ops.

Model-specific edits, each a ``--model-arg`` so the effect can be measured (numbers in
readme.md beside this file; ExecuTorch 1.5.1 + XNNPACK, fp32 at 256x256 unless stated):

1. Output normalisation (encoder.py): a flat tuple of distinct tensors instead of
   SAM2's dict of lists that repeats ``vision_features`` inside ``backbone_fpn``.
2. ``fuse=true``: RepViT re-parameterisation (conv+BN folding, RepVGG branch merging)
   before export: 542 -> 261 delegated ops, same coverage, ~40% faster lowering.
3. ``upsample=deconv``: the FPN's nearest 2x upsampling as an exact depthwise
   transposed conv, which XNNPACK delegates (``upsample=interpolate`` is the original).
4. ``position_encoding=false``: the sine encodings are input-independent, so they are
   dropped from the graph (90 non-delegated ops, 4 delegate partitions -> 0 and 1) and
   computed once by the application with ``sine_position_encoding`` (``true`` keeps
   them in the graph as the original does).
5. ``fp16_gelu=tanh``: XNNPACK takes GELU only in fp32; in fp16 exports the 27 GELUs use
   the tanh form (mul/add/tanh, delegated): 28 partitions -> 1 (activations.py).
6. ``image_size``: fixed square input, 1024 as in EdgeTAM, or a smaller multiple of 32
   (for example 512 or 256) for a faster profile.

With all defaults every compute op is delegated at fp32, fp16 and int8.
"""
from __future__ import annotations

import torch

from .options import EDGETAM_IMAGE_SIZE, parse_options
from .position_encoding import sine_position_encoding

DESCRIPTION = ("EdgeTAM image encoder (RepViT-M1 + FPN, 1024x1024; random weights unless "
               "--model-arg checkpoint=edgetam.pt; needs .venv-vision)")
DTYPES = ("fp32", "fp16", "int8")
CALIBRATION_SAMPLES = 4

# example_inputs() must describe the model build_model() returned; an exporter that
# passes model options only to build_model still gets the matching image size.
_last_image_size = EDGETAM_IMAGE_SIZE

__all__ = ["DESCRIPTION", "DTYPES", "build_model", "example_inputs", "calibration_inputs",
           "sine_position_encoding"]


def build_model(**model_args: object) -> torch.nn.Module:
    """The exportable encoder in eval mode. Options: image_size, checkpoint, fuse,
    upsample (deconv|interpolate), position_encoding (true|false), fp16_gelu (tanh|exact)."""
    global _last_image_size
    options = parse_options(**model_args)
    from .encoder import build_encoder  # imports timm: keep it out of package import

    model = build_encoder(options)
    _last_image_size = options.image_size
    return model


def _image_size(model_args: dict[str, object]) -> int:
    if model_args.get("image_size") is None:
        return _last_image_size
    return parse_options(image_size=model_args["image_size"]).image_size


def example_inputs(**model_args: object) -> tuple[torch.Tensor]:
    """One normalised image, (1, 3, S, S); S = image_size option or the last build."""
    size = _image_size(model_args)
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(1, 3, size, size, generator=generator),)


def calibration_inputs(**model_args: object) -> list[tuple[torch.Tensor]]:
    """A few random normalised images for int8 calibration (statistics only, no accuracy claim)."""
    size = _image_size(model_args)
    generator = torch.Generator().manual_seed(1)
    return [(torch.randn(1, 3, size, size, generator=generator),) for _ in range(CALIBRATION_SAMPLES)]
