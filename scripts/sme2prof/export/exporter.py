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
partition_split_ops ({operator: count} of the outside operators that sit between two
XNNPACK partitions; empty with one partition), warnings (sentences for the user, e.g.
the fragmentation warning; empty when there is nothing to say),
file_sizes {pte, etrecord} in bytes, sha256 {pte, etrecord} (what a run checks its
copies against), pte and etrecord (file names relative to the JSON's folder),
torch_version, executorch_version, executorch_git_commit, export_seconds,
stage_seconds, exported_at, inputs (what it was made from: the model package's hash,
options, torch and ExecuTorch versions; ``freshness.py`` decides from them whether the
export is stale), host.

Nothing is written until the whole export succeeded, and the three files are staged
under temporary names and renamed into place together (``_write_export``), so a failed
export (a full disk included) never damages a previous good one nor leaves a temporary
file. A model package that calls ``sys.exit``, returns non-tensors from
``example_inputs()`` or ``forward()`` is reported by name before the lowering starts.
"""
from __future__ import annotations

import inspect
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from sme2prof.export.artifacts import artifact_stem, default_out_dir, etrecord_path_for, export_json_path_for
from sme2prof.export.delegation import DelegationSummary, fragmentation_warning, summarize_delegation
from sme2prof.export.freshness import export_inputs
from sme2prof.errors import UserError
from sme2prof.fileio import ensure_writable_dir, sha256_file, write_json_atomic
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
        program = _to_executorch(spec, edge, dtype)
    pte_path = out_dir / f"{stem}.pte"
    etrecord_path = etrecord_path_for(pte_path)
    json_path = export_json_path_for(pte_path)

    def record_for(staged_pte: Path, staged_etrecord: Path) -> dict[str, Any]:
        stages["save"] = round(time.perf_counter() - save_started, 3)
        record = _export_record(spec, dtype, int8_mode, inputs, model_args, delegation, staged_pte,
                                staged_etrecord, round(time.perf_counter() - started, 3), stages)
        return {**record, "pte": pte_path.name, "etrecord": etrecord_path.name}

    save_started = time.perf_counter()
    record = _write_export(program, pte_path, etrecord_path, json_path, record_for)
    return ExportResult(spec.name, dtype, pte_path, etrecord_path, json_path, record)


def _check_dtype(spec: ModelSpec, dtype: str) -> None:
    if dtype not in spec.dtypes:
        raise UserError(f"model '{spec.name}' does not support dtype {dtype} "
                        f"(it supports {', '.join(spec.dtypes)})",
                        f"use --dtype {spec.dtypes[0]}, or add '{dtype}' to DTYPES in "
                        f"{spec.path / '__init__.py'} if the model can handle it")


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
    check_example_inputs(spec, inputs)
    return model.eval(), inputs


def check_example_inputs(spec: ModelSpec, inputs: tuple) -> None:
    """The runners feed tensors only (executor_runner fills each input tensor with ones), so a
    non-tensor example input would export into a program nothing can run."""
    for position, value in enumerate(inputs):
        if not isinstance(value, torch.Tensor):
            raise UserError(f"example_inputs() of '{spec.name}' returned {type(value).__name__} "
                            f"{_short_repr(value)} at position {position}, not a tensor",
                            f"return a tuple of tensors from example_inputs() in {spec.path / '__init__.py'} "
                            "(the runners feed tensors only)")


def check_outputs(spec: ModelSpec, exported) -> None:
    """Every output of forward() must be a tensor: a string or number output is a constant in
    the graph that the lowering cannot place in memory (it fails deep inside ExecuTorch)."""
    output_node = next(n for n in reversed(list(exported.graph.nodes)) if n.op == "output")
    flat = torch.utils._pytree.tree_leaves(output_node.args[0])
    for position, value in enumerate(flat):
        meta = getattr(value, "meta", {}).get("val") if hasattr(value, "meta") else value
        if not isinstance(meta, torch.Tensor):
            raise UserError(f"forward() of '{spec.name}' returns {type(meta).__name__} "
                            f"{_short_repr(meta)} as output {position}, not a tensor",
                            f"return tensors (or a tuple of tensors) from forward() in {spec.path}/")
    if not flat:
        raise UserError(f"forward() of '{spec.name}' returns no tensor",
                        f"return the model's output tensor(s) from forward() in {spec.path}/")


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


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
            exported = torch.export.export(model, inputs, dynamic_shapes=spec.dynamic_shapes)
    except (Exception, SystemExit) as exc:
        _reraise_as_user_error(spec, f"torch.export ({dtype})", exc)
    check_outputs(spec, exported)
    return exported


def _lower(spec: ModelSpec, exported, dtype: str):
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower
    try:
        return to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()],
                                           generate_etrecord=True)
    except Exception as exc:
        _reraise_as_user_error(spec, f"lowering to ExecuTorch/XNNPACK ({dtype})", exc)


def _to_executorch(spec: ModelSpec, edge, dtype: str):
    try:
        return edge.to_executorch()
    except Exception as exc:
        _reraise_as_user_error(spec, f"writing the ExecuTorch program ({dtype})", exc)


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
    except (Exception, SystemExit) as exc:   # sys.exit() in a package is its error, not ours to obey
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


def _exception_text(exc: BaseException) -> str:
    """``TypeError: first line of the message`` (capped: some torch errors are pages long)."""
    first_line = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__


def _reraise_as_user_error(spec: ModelSpec, stage: str, exc: BaseException):
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


def _write_export(program, pte_path: Path, etrecord_path: Path, json_path: Path,
                  record_for: Callable[[Path, Path], dict[str, Any]]) -> dict[str, Any]:
    """Write the three files of an export so that they change together or not at all.

    Each goes to a temporary name in the output folder first; only when all three are
    written (a full disk fails one of them) are they renamed into place. A failure leaves
    the previous export as it was and no temporary file behind.
    """
    finals = (etrecord_path, pte_path, json_path)
    staged = [path.with_name(f".{path.name}.{os.getpid()}.tmp") for path in finals]
    try:
        program.get_etrecord().save(str(staged[0]))     # ETRecord.save wants a path
        with open(staged[1], "wb") as handle:
            handle.write(program.buffer)
        record = record_for(staged[1], staged[0])
        write_json_atomic(staged[2], record)
        for tmp, final in zip(staged, finals):
            os.replace(tmp, final)
    except BaseException as exc:
        for tmp in staged:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not exc.filename:
            raise OSError(exc.errno, exc.strerror, str(pte_path.parent)) from exc
        raise
    return record


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
        "partition_split_ops": delegation.split_ops,
        "warnings": [w for w in (fragmentation_warning(delegation.partitions,
                                                       delegation.split_ops),) if w],
        "file_sizes": {"pte": pte_path.stat().st_size, "etrecord": etrecord_path.stat().st_size},
        "sha256": {"pte": sha256_file(pte_path), "etrecord": sha256_file(etrecord_path)},
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
