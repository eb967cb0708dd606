"""Load the released EdgeTAM checkpoint (``edgetam.pt``) into EdgeTamImageEncoder.

The file is a torch pickle whose ``"model"`` entry is the state dict of the whole
SAM2Base model. Only the ``image_encoder.*`` keys belong to this module:

    image_encoder.trunk.body.<timm key>     -> trunk.<timm key>   (timm features-only names)
    image_encoder.neck.convs.<k>.conv.<p>   -> neck.lateral.<k>.<p>
    (no keys for the position encoding: it has no weights)

Loading is strict: any missing or unexpected key is an error that names them, so a
checkpoint of another SAM2 variant (Hiera trunk) fails loudly instead of leaving a
half-random encoder. Loading happens before re-parameterisation, on the unfused names.
Nothing is downloaded: get the file yourself (EdgeTAM's repository ships it under
``checkpoints/``) and pass ``--model-arg checkpoint=/path/edgetam.pt``.
"""
from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path

import torch
from torch import nn

from .errors import user_error
from .options import require_checkpoint_file

PREFIX = "image_encoder."
NECK_KEY = re.compile(r"^neck\.convs\.(\d+)\.conv\.(weight|bias)$")
SHOWN_KEYS = 5


def encoder_key(checkpoint_key: str) -> str:
    """Map one key of EdgeTAM's image_encoder (prefix removed) to our module's name."""
    if checkpoint_key.startswith("trunk.body."):
        return "trunk." + checkpoint_key[len("trunk.body."):]
    neck = NECK_KEY.match(checkpoint_key)
    if neck:
        return f"neck.lateral.{neck.group(1)}.{neck.group(2)}"
    return checkpoint_key  # unknown: kept so strict loading reports it as unexpected


def _read_model_state(path: Path) -> dict[str, torch.Tensor]:
    require_checkpoint_file(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError) as exc:
        raise user_error(f"{path} is not a readable PyTorch checkpoint ({type(exc).__name__})",
                         "pass the edgetam.pt file from EdgeTAM's checkpoints/ folder") from exc
    state = payload.get("model") if isinstance(payload, dict) else None
    if not isinstance(state, dict):
        raise user_error(f"{path} has no 'model' state dict",
                         "pass the edgetam.pt file released with EdgeTAM (it holds {'model': ...})")
    return state


def _describe(keys: list[str]) -> str:
    shown = ", ".join(sorted(keys)[:SHOWN_KEYS])
    more = f" and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else ""
    return f"{len(keys)} ({shown}{more})"


def load_edgetam_checkpoint(encoder: nn.Module, path: Path) -> None:
    """Copy the checkpoint's image-encoder weights into ``encoder`` (strict), or raise."""
    state = _read_model_state(path)
    mapped = {encoder_key(k[len(PREFIX):]): v for k, v in state.items() if k.startswith(PREFIX)}
    if not mapped:
        raise user_error(f"{path} has no '{PREFIX}*' weights: not a SAM2/EdgeTAM checkpoint",
                         "pass the edgetam.pt file released with EdgeTAM")
    expected = encoder.state_dict()
    missing = [k for k in expected if k not in mapped]
    unexpected = [k for k in mapped if k not in expected]
    wrong_shape = [k for k in expected if k in mapped and mapped[k].shape != expected[k].shape]
    problems = []
    if missing:
        problems.append(f"missing keys: {_describe(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_describe(unexpected)}")
    if wrong_shape:
        problems.append(f"shape mismatches: {_describe(wrong_shape)}")
    if problems:
        raise user_error(f"{path} does not match the EdgeTAM image encoder: " + "; ".join(problems),
                         "use the EdgeTAM checkpoint (RepViT-M1 trunk); SAM2/SAM2.1 Hiera "
                         "checkpoints have a different image encoder")
    encoder.load_state_dict(mapped, strict=True)
