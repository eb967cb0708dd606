"""Typed, validated model options from ``--model-arg key=value`` strings.

Why: ``export_model.py`` hands every ``--model-arg`` over as a string, and a typo such
as ``image_size=5l2`` must fail with one clear line before minutes of export, not as a
shape error deep inside torch.export.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import user_error

EDGETAM_IMAGE_SIZE = 1024
# The trunk halves the resolution five times (stem /4, then three /2 stages) and the FPN
# upsamples by exactly 2, so the side must be a multiple of the deepest stride.
DEEPEST_STRIDE = 32
UPSAMPLE_MODES = ("deconv", "interpolate")
FP16_GELU_MODES = ("tanh", "exact")
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class EncoderOptions:
    """Everything build_model / example_inputs accept; defaults are the tuned export."""

    image_size: int = EDGETAM_IMAGE_SIZE
    checkpoint: Path | None = None
    fuse: bool = True
    upsample: str = "deconv"
    position_encoding: bool = False
    fp16_gelu: str = "tanh"


def _as_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise user_error(f"model option {name}={value!r} is not true/false",
                     f"pass --model-arg {name}=true or --model-arg {name}=false")


def _as_choice(name: str, value: object, allowed: tuple[str, ...], why: str) -> str:
    word = str(value).strip().lower()
    if word not in allowed:
        raise user_error(f"{name}={value!r} is not one of {', '.join(allowed)}",
                         f"pass --model-arg {name}={allowed[0]} ({why})")
    return word


def _as_image_size(value: object) -> int:
    try:
        size = int(str(value).strip())
    except ValueError:
        size = -1
    if size < DEEPEST_STRIDE or size % DEEPEST_STRIDE:
        raise user_error(
            f"image_size={value!r} is not a positive multiple of {DEEPEST_STRIDE}",
            f"use the EdgeTAM size {EDGETAM_IMAGE_SIZE}, or a smaller multiple of "
            f"{DEEPEST_STRIDE} such as 512 or 256 for a faster profile")
    return size


def require_checkpoint_file(path: Path) -> Path:
    """Fail before any model building when the checkpoint path is wrong."""
    if not path.is_file():
        raise user_error(f"EdgeTAM checkpoint not found: {path}",
                         "pass --model-arg checkpoint=/path/to/edgetam.pt (a local file; "
                         "nothing is downloaded), or leave it out for random weights")
    return path


def parse_options(**model_args: object) -> EncoderOptions:
    """Turn keyword options (strings or typed values) into EncoderOptions, or raise."""
    known = set(EncoderOptions.__dataclass_fields__)
    unknown = sorted(set(model_args) - known)
    if unknown:
        raise user_error(f"unknown model option(s) for edgetam_image_encoder: {', '.join(unknown)}",
                         f"valid options: {', '.join(sorted(known))}")
    opts: dict[str, object] = {}
    if model_args.get("image_size") is not None:
        opts["image_size"] = _as_image_size(model_args["image_size"])
    if model_args.get("checkpoint") not in (None, ""):
        opts["checkpoint"] = require_checkpoint_file(Path(str(model_args["checkpoint"])).expanduser())
    for flag in ("fuse", "position_encoding"):
        if model_args.get(flag) is not None:
            opts[flag] = _as_bool(flag, model_args[flag])
    choices = {"upsample": (UPSAMPLE_MODES, "deconv is delegated, interpolate is the original"),
               "fp16_gelu": (FP16_GELU_MODES, "tanh is delegated in fp16, exact is the original")}
    for name, (allowed, why) in choices.items():
        if model_args.get(name) is not None:
            opts[name] = _as_choice(name, model_args[name], allowed, why)
    return EncoderOptions(**opts)
