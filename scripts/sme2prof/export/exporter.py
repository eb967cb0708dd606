"""Turn a registered model into an ExecuTorch program lowered to XNNPACK.

Output, in ``out/artifacts/<model>/`` unless told otherwise::

    <model>_<dtype>.pte            the program the runners execute
    <model>_<dtype>.etrecord       what the Inspector needs to map ETDump events to the graph
    <model>_<dtype>.export.json    how it was made (schema below)

(int8 with dynamic activation quantization uses ``<model>_int8_dynamic`` as the stem so it
never overwrites the static int8 export.) Several dtypes share a model's folder, hence the
stem in the JSON's name; ``export_json_path_for(pte)`` (in ``artifacts.py``, re-exported
here) finds it from the .pte path without importing torch.

export.json (schema 1): schema, model, dtype, quantization (null | {mode, granularity,
weights, activations}), input_shapes, input_dtypes, model_args, delegated_ops and
non_delegated_ops ({operator: count}), delegation_coverage (fraction of compute
operators inside XNNPACK delegates), xnnpack_partitions, other_backend_partitions,
file_sizes {pte, etrecord} in bytes, pte and etrecord (file names relative to the
JSON's folder), torch_version, executorch_version, executorch_git_commit,
export_seconds, stage_seconds, exported_at, inputs (what it was made from: the model
package's hash, options, torch and ExecuTorch versions; ``freshness.py`` decides from them
whether the export is stale), host.

Nothing is written until the whole export succeeded, and each file is written
atomically, so a failed export never damages a previous good one.
"""
from __future__ import annotations

import inspect
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from sme2prof.export.artifacts import artifact_stem, default_out_dir, etrecord_path_for, export_json_path_for
from sme2prof.export.delegation import DelegationSummary, summarize_delegation
from sme2prof.export.freshness import export_inputs
from sme2prof.errors import UserError
from sme2prof.fileio import write_bytes_atomic, write_json_atomic
from sme2prof.host_info import executorch_version
from sme2prof.export.model_registry import ModelSpec, get_model
from sme2prof.paths import ARTIFACTS_DIR
from sme2prof.export.quantize import check_int8_mode, quantization_record, quantize_int8
from sme2prof.fileio import utc_now_iso

EXPORT_SCHEMA_VERSION = 1
DEBUG_ENV = "SME2PROF_DEBUG"


@dataclass
class ExportResult:
    model: str
    dtype: str
    pte_path: Path
    etrecord_path: Path
    export_json_path: Path
    record: dict

    @property
    def delegation_coverage(self) -> float:
        return self.record["delegation_coverage"]


def executorch_versions() -> dict[str, str]:
    """Installed torch / ExecuTorch versions and the commit the ExecuTorch wheel was built from."""
    installed = executorch_version()
    return {"torch_version": torch.__version__,
            "executorch_version": installed["version"] or "unknown",
            "executorch_git_commit": installed["git_commit"] or "unknown"}


def export_model(model_name: str, dtype: str, out_dir: Path | None = None,
                 model_args: dict | None = None, int8_mode: str | None = None,
                 extra_model_dirs: list[Path] | None = None,
                 progress: Callable[[str], None] = print) -> ExportResult:
    """Export one model at one dtype; raise UserError for anything the user can fix.

    ``int8_mode`` (static when omitted) is only meaningful with int8: passing it with
    another dtype is refused rather than silently ignored.
    """
    check_int8_mode(dtype, int8_mode)
    int8_mode = int8_mode or "static"
    spec = get_model(model_name, extra_model_dirs)
    _check_dtype(spec, dtype)
    model_args = dict(model_args or {})
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(spec.name, ARTIFACTS_DIR)
    ensure_writable_dir(out_dir)
    stem = artifact_stem(spec.name, dtype, int8_mode)

    stages: dict[str, float] = {}
    started = time.perf_counter()
    with _timed(stages, "build_model"):
        progress(f"[1/4] building {spec.name} ({_format_args(model_args)})")
        model, inputs = _build(spec, model_args)
    with _timed(stages, "prepare_dtype"):
        model, inputs = _prepare_dtype(spec, model, inputs, dtype, int8_mode, model_args,
                                       progress)
    with _timed(stages, "torch_export"):
        progress(f"[2/4] torch.export ({dtype})")
        exported = _torch_export(spec, model, inputs, dtype)
    with _timed(stages, "lower_to_xnnpack"):
        progress("[3/4] lowering to XNNPACK")
        edge = _lower(spec, exported, dtype)
        delegation = summarize_delegation(edge)
    with _timed(stages, "to_executorch"):
        progress("[4/4] writing the ExecuTorch program")
        program = edge.to_executorch()
    pte_path = out_dir / f"{stem}.pte"
    etrecord_path = etrecord_path_for(pte_path)
    with _timed(stages, "save"):
        _save_etrecord(program, etrecord_path)
        write_bytes_atomic(pte_path, program.buffer)
    export_seconds = round(time.perf_counter() - started, 3)
    record = _export_record(spec, dtype, int8_mode, inputs, model_args, delegation,
                            pte_path, etrecord_path, export_seconds, stages)
    json_path = write_json_atomic(export_json_path_for(pte_path), record)
    return ExportResult(spec.name, dtype, pte_path, etrecord_path, json_path, record)


def _check_dtype(spec: ModelSpec, dtype: str) -> None:
    if dtype not in spec.dtypes:
        raise UserError(f"model '{spec.name}' does not support dtype {dtype} "
                        f"(it supports {', '.join(spec.dtypes)})",
                        f"use --dtype {spec.dtypes[0]}, or add '{dtype}' to DTYPES in "
                        f"{spec.path / '__init__.py'} if the model can handle it")


def ensure_writable_dir(out_dir: Path) -> None:
    """Fail before the slow export, not after it, when the output folder is unusable."""
    file_in_the_way = next((p for p in (out_dir, *out_dir.parents) if p.is_file()), None)
    if file_in_the_way == out_dir:
        raise UserError(f"output path {out_dir} is a file, not a folder",
                        "--out needs a folder (it is created if missing): pass e.g. "
                        f"{out_dir.parent / (out_dir.stem + '_artifacts')}")
    if file_in_the_way is not None:
        raise UserError(f"cannot write to output directory {out_dir}: {file_in_the_way} is a "
                        "file, not a folder",
                        "pass a folder path under an existing folder with --out")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise UserError(f"cannot write to output directory {out_dir} ({exc.strerror or exc})",
                        "pass a folder you can write to with --out, or fix its permissions")


def _build(spec: ModelSpec, model_args: dict) -> tuple[torch.nn.Module, tuple]:
    accepted = inspect.signature(spec.module.build_model).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    unknown = [key for key in model_args if key not in accepted and not takes_any]
    if unknown:
        options = ", ".join(accepted) or "none"
        raise UserError(f"model '{spec.name}' has no option {', '.join(unknown)} "
                        f"(build_model accepts: {options})",
                        "fix the --model-arg name, or add the option to build_model()")
    call = ", ".join(f"{key}={value!r}" for key, value in model_args.items())
    model = _call_model_code(spec, f"build_model({call})", spec.build_model, accepted, model_args)
    inputs = _call_model_code(spec, "example_inputs()", spec.example_inputs, accepted, model_args)
    if not isinstance(model, torch.nn.Module):
        raise UserError(f"build_model() of '{spec.name}' returned {type(model).__name__}, "
                        "not a torch.nn.Module", f"return the module from {spec.path}/__init__.py")
    return model.eval(), inputs


def _prepare_dtype(spec: ModelSpec, model: torch.nn.Module, inputs: tuple, dtype: str,
                   int8_mode: str, model_args: dict, progress: Callable[[str], None]):
    if dtype == "fp16":
        progress("  casting weights and inputs to float16")
        return model.half(), cast_inputs(inputs, torch.float16)
    if dtype == "int8":
        progress(f"  quantizing to int8 ({int8_mode}, per-channel weights)")
        try:
            calibration = spec.calibration_inputs(**model_args)
            quantized = quantize_int8(model, inputs, calibration, int8_mode,
                                      spec.dynamic_shapes, progress)
        except Exception as exc:
            _reraise_as_user_error(spec, "int8 quantization (torch.export + prepare/convert_pt2e)",
                                   exc)
        return quantized, inputs
    return model, inputs


def cast_inputs(inputs: tuple, dtype: torch.dtype) -> tuple:
    """Cast floating-point tensors only: integer inputs (token ids, masks) keep their type."""
    return tuple(t.to(dtype) if isinstance(t, torch.Tensor) and t.is_floating_point() else t
                 for t in inputs)


def _torch_export(spec: ModelSpec, model: torch.nn.Module, inputs: tuple, dtype: str):
    try:
        with torch.no_grad():
            return torch.export.export(model, inputs, dynamic_shapes=spec.dynamic_shapes)
    except Exception as exc:
        _reraise_as_user_error(spec, f"torch.export ({dtype})", exc)


def _lower(spec: ModelSpec, exported, dtype: str):
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower
    try:
        return to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()],
                                           generate_etrecord=True)
    except Exception as exc:
        _reraise_as_user_error(spec, f"lowering to ExecuTorch/XNNPACK ({dtype})", exc)


def _call_model_code(spec: ModelSpec, stage: str, function: Callable,
                     accepted: Mapping[str, inspect.Parameter], model_args: dict) -> Any:
    """Run a package's build_model/example_inputs with the user's options.

    Building fails mostly on a --model-arg of the wrong type (``width=abc``): the error
    shows the call as made, the exception text, and the signature the values must fit.
    """
    try:
        return function(**model_args)
    except UserError:
        raise
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        error = exc
    signature = ", ".join(_describe_parameter(p) for p in accepted.values())
    hint = (f"check the --model-arg values against build_model({signature}) in "
            f"{spec.path / '__init__.py'}" if model_args
            else f"look at build_model() and example_inputs() in {spec.path / '__init__.py'}")
    raise UserError(f"{stage} of model '{spec.name}' failed: {_exception_text(error)}",
                    f"{hint}; rerun with {DEBUG_ENV}=1 for the full traceback") from error


def _describe_parameter(parameter: inspect.Parameter) -> str:
    """``width: int = 16``; annotations are plain strings under ``from __future__ import
    annotations``, so they are shown as written rather than as ``'int'``."""
    text = parameter.name
    annotation = parameter.annotation
    if annotation is not inspect.Parameter.empty:
        text += f": {getattr(annotation, '__name__', annotation)}"
    if parameter.default is not inspect.Parameter.empty:
        text += f" = {parameter.default!r}"
    return text


def _exception_text(exc: Exception) -> str:
    """``TypeError: first line of the message`` (capped: some torch errors are pages long)."""
    first_line = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__


def _reraise_as_user_error(spec: ModelSpec, stage: str, exc: Exception):
    """A failing export is almost always model code torch.export cannot trace: say where to look.

    Set SME2PROF_DEBUG=1 to get the original traceback instead.
    """
    if os.environ.get(DEBUG_ENV):
        raise exc
    raise UserError(
        f"{stage} failed for model '{spec.name}': {_exception_text(exc)}",
        f"look at forward() and build_model() in {spec.path}/ (data-dependent control flow, "
        f"unsupported ops, non-tensor inputs); rerun with {DEBUG_ENV}=1 for the full traceback"
    ) from exc


def _save_etrecord(program, etrecord_path: Path) -> None:
    """ETRecord.save wants a path; write to a temp name first so the swap is atomic."""
    tmp = etrecord_path.with_name(f".{etrecord_path.name}.tmp")
    program.get_etrecord().save(str(tmp))
    os.replace(tmp, etrecord_path)


def _export_record(spec: ModelSpec, dtype: str, int8_mode: str, inputs: tuple, model_args: dict,
                   delegation: DelegationSummary, pte_path: Path, etrecord_path: Path,
                   export_seconds: float, stages: dict[str, float]) -> dict[str, Any]:
    tensors = [t for t in inputs if isinstance(t, torch.Tensor)]
    return {
        "schema": EXPORT_SCHEMA_VERSION,
        "model": spec.name,
        "dtype": dtype,
        "quantization": quantization_record(int8_mode) if dtype == "int8" else None,
        "input_shapes": [list(t.shape) for t in tensors],
        "input_dtypes": [str(t.dtype).replace("torch.", "") for t in tensors],
        "model_args": model_args,
        "backend": "XNNPACK",
        "delegated_ops": delegation.delegated_ops,
        "non_delegated_ops": delegation.non_delegated_ops,
        "delegated_op_count": delegation.delegated_count,
        "non_delegated_op_count": delegation.non_delegated_count,
        "delegation_coverage": delegation.coverage,
        "xnnpack_partitions": delegation.partitions,
        "other_backend_partitions": delegation.other_backend_partitions,
        "file_sizes": {"pte": pte_path.stat().st_size, "etrecord": etrecord_path.stat().st_size},
        "pte": pte_path.name,
        "etrecord": etrecord_path.name,
        **executorch_versions(),
        "export_seconds": export_seconds,
        "stage_seconds": stages,
        "exported_at": utc_now_iso(),
        "inputs": export_inputs(spec.path, dtype, int8_mode, model_args),
        "host": {"os": platform.system(), "machine": platform.machine(),
                 "python": platform.python_version()},
    }


class _timed:
    """``with _timed(stages, "name"):`` records the block's wall time in seconds."""

    def __init__(self, stages: dict[str, float], name: str) -> None:
        self.stages, self.name = stages, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc_info) -> None:
        self.stages[self.name] = round(time.perf_counter() - self.start, 3)


def _format_args(model_args: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in model_args.items()) or "default options"
