"""int8 quantization for XNNPACK with the PT2E flow (torchao), static or dynamic.

Static (default): weights per-channel int8, activations int8 with scales fixed by running
calibration inputs through the observed model; every quantized operator then runs an
int8 kernel (the ``QS8``/``QP8`` paths in XNNPACK's operator names).
Dynamic: weights per-channel int8, activation scales computed at run time per batch;
needs no calibration but only linear/conv-like operators are quantized.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

if TYPE_CHECKING:        # torch is imported lazily so `--help` stays instant
    import torch

from sme2prof.errors import UserError

INT8_MODES = ("static", "dynamic")


def check_int8_mode(dtype: str, int8_mode: str | None) -> None:
    """An int8 mode given with another dtype is refused: silently exporting fp32 when the
    user asked for dynamic quantization would make every later comparison wrong."""
    if int8_mode is None:
        return
    if int8_mode not in INT8_MODES:
        raise UserError(f"unknown int8 mode '{int8_mode}'", f"use one of {', '.join(INT8_MODES)}")
    if dtype != "int8":
        raise UserError(f"--int8-mode applies only to --dtype int8 (got --dtype {dtype})",
                        "add --dtype int8, or drop --int8-mode")


def quantization_record(mode: str) -> dict:
    """What export.json says about how the model was quantized."""
    return {"mode": mode, "granularity": "per_channel", "weights": "int8",
            "activations": "int8 (scales from calibration)" if mode == "static"
            else "int8 (scales computed at run time)"}


def quantize_int8(model: "torch.nn.Module", example_inputs: tuple,
                  calibration_inputs: Sequence[tuple], mode: str = "static",
                  dynamic_shapes=None, progress: Callable[[str], None] = print) -> "torch.nn.Module":
    """Return the converted (quantized) module, ready for ``torch.export.export``."""
    import torch
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer, get_symmetric_quantization_config)
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    if mode not in INT8_MODES:
        raise ValueError(f"int8 mode must be one of {INT8_MODES}, not {mode!r}")
    quantizer = XNNPACKQuantizer()
    quantizer.set_global(get_symmetric_quantization_config(
        is_per_channel=True, is_dynamic=(mode == "dynamic")))
    captured = torch.export.export(model, example_inputs, dynamic_shapes=dynamic_shapes).module()
    prepared = prepare_pt2e(captured, quantizer)
    batches = list(calibration_inputs) if mode == "static" else [example_inputs]
    progress(f"  calibrating on {len(batches)} input batch(es)")
    with torch.no_grad():
        for batch in batches:
            prepared(*batch)
    return convert_pt2e(prepared)
