"""Every registered model exports for real and the .pte computes what eager PyTorch computes.

Each (model, dtype) is exported once per module into a temporary folder (the exports are
the slow part) and then checked three ways: the ExecuTorch Python runtime's outputs
against eager PyTorch, the XNNPACK delegation (a silent fall-back to portable kernels
fails), and export.json against the files and the installed versions.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sme2prof.errors import UserError
from sme2prof.export.exporter import ExportResult, cast_inputs, export_json_path_for, export_model
from sme2prof.fileio import read_json
from sme2prof.export.model_registry import discover_models, get_model

REGISTERED = sorted(discover_models())
# (model, dtype) pairs the issue requires beyond fp32 for every model.
REDUCED_PRECISION = [("toy_cnn", "fp16"), ("toy_cnn", "int8"),
                     ("mobilenet_v3_small", "fp16"), ("mobilenet_v3_small", "int8")]
# Lower bounds on the fraction of compute ops inside XNNPACK delegates, measured with
# ExecuTorch 1.5.1: every shipped model is 100 % in every dtype since mobilenet_v3_small's
# hardsigmoid and vit_tiny's layer norm / attention were rewritten (models/readme.md).
MIN_COVERAGE = {"toy_cnn": 0.99, "mobilenet_v3_small": 0.99, "vit_tiny": 0.99}


def _compare(output: torch.Tensor, reference: torch.Tensor, dtype: str) -> tuple[float, float]:
    """(max error relative to the output's range, cosine similarity)."""
    output, reference = output.float().flatten(), reference.float().flatten()
    scale = reference.abs().max().item() or 1.0
    relative = (output - reference).abs().max().item() / scale
    cosine = torch.nn.functional.cosine_similarity(output, reference, dim=0).item()
    return relative, cosine


# Tolerances that fit each dtype: fp32 is the same arithmetic in another order; fp16 has
# an 11-bit mantissa; int8 keeps the direction of the output vector, not its digits.
TOLERANCE = {"fp32": (1e-3, 0.99999), "fp16": (5e-2, 0.999), "int8": (0.3, 0.98)}


class ExportCache:
    """Export each (model, dtype) once per test module; export errors surface in each test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.results: dict[tuple[str, str], ExportResult] = {}

    def get(self, model: str, dtype: str) -> ExportResult:
        key = (model, dtype)
        if key not in self.results:
            self.results[key] = export_model(model, dtype, out_dir=self.root / model,
                                             progress=lambda _msg: None)
        return self.results[key]


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> ExportCache:
    return ExportCache(tmp_path_factory.mktemp("exports"))


def _run_pte(pte_path: Path, inputs: tuple) -> torch.Tensor:
    from executorch.extension.pybindings.portable_lib import _load_for_executorch
    program = _load_for_executorch(str(pte_path))
    return program.forward(list(inputs))[0]


def _eager_reference(model_name: str) -> tuple[tuple, torch.Tensor]:
    spec = get_model(model_name)
    inputs = spec.example_inputs()
    with torch.no_grad():
        return inputs, spec.build_model()(*inputs)


def _export_or_skip_missing_dependency(exports: ExportCache, model: str, dtype: str):
    """A package whose optional dependency lives in another venv is skipped, visibly."""
    try:
        return exports.get(model, dtype)
    except UserError as exc:
        if isinstance(exc.__cause__, ImportError):
            pytest.skip(f"{model}: {exc.message} (its dependency is not installed here)")
        raise


@pytest.mark.parametrize("model", REGISTERED)
def test_fp32_export_runs_in_executorch_like_eager(exports, model):
    result = _export_or_skip_missing_dependency(exports, model, "fp32")
    _check_export(result, model, "fp32")


@pytest.mark.parametrize("model,dtype", REDUCED_PRECISION)
def test_reduced_precision_export_runs_like_eager(exports, model, dtype):
    _check_export(exports.get(model, dtype), model, dtype)


def _check_export(result: ExportResult, model: str, dtype: str) -> None:
    record = result.record
    # Delegation: a silent fall-back to portable kernels must fail here.
    assert record["xnnpack_partitions"] >= 1, f"{model} {dtype}: nothing delegated to XNNPACK"
    assert record["delegated_op_count"] > 0
    assert b"XnnpackBackend" in result.pte_path.read_bytes(), "the .pte holds no XNNPACK delegate"
    assert record["delegation_coverage"] >= MIN_COVERAGE.get(model, 0.5), record["non_delegated_ops"]
    # Numerics: the .pte on the real ExecuTorch runtime against eager PyTorch (fp32 eager
    # is the reference for every dtype: that is what the user's model computes).
    inputs, reference = _eager_reference(model)
    runtime_inputs = cast_inputs(inputs, torch.float16) if dtype == "fp16" else inputs
    output = _run_pte(result.pte_path, runtime_inputs)
    assert output.shape == reference.shape
    max_relative, min_cosine = TOLERANCE[dtype]
    relative, cosine = _compare(output, reference, dtype)
    assert relative <= max_relative and cosine >= min_cosine, (
        f"{model} {dtype}: max error {relative:.2e} of output range, cosine {cosine:.5f}")


def test_export_json_describes_the_files_and_the_toolchain(exports):
    from executorch import version as et_version

    result = exports.get("toy_cnn", "int8")
    assert result.export_json_path == export_json_path_for(result.pte_path)
    assert result.export_json_path.name == "toy_cnn_int8.export.json"
    record = read_json(result.export_json_path)
    assert record["model"] == "toy_cnn" and record["dtype"] == "int8"
    assert record["quantization"]["mode"] == "static"
    assert record["quantization"]["granularity"] == "per_channel"
    assert record["input_shapes"] == [[1, 3, 32, 32]]
    assert record["file_sizes"] == {"pte": result.pte_path.stat().st_size,
                                    "etrecord": result.etrecord_path.stat().st_size}
    assert (result.export_json_path.parent / record["pte"]) == result.pte_path
    assert (result.export_json_path.parent / record["etrecord"]) == result.etrecord_path
    assert record["torch_version"] == torch.__version__
    assert record["executorch_version"] == et_version.__version__
    assert record["executorch_git_commit"] == et_version.git_version
    assert sum(record["delegated_ops"].values()) == record["delegated_op_count"]
    # int8 static: quantize/dequantize and convolutions were taken by XNNPACK.
    assert "aten.convolution.default" in record["delegated_ops"]
    assert any("quantize_per" in op for op in record["delegated_ops"])
    assert record["export_seconds"] > 0 and record["exported_at"]


def test_fp32_export_json_has_no_quantization_and_counts_what_stays_outside(exports):
    record = exports.get("vit_tiny", "fp32").record
    assert record["quantization"] is None
    assert "aten.linear.default" in record["delegated_ops"]
    # vit_tiny's default form is written with operators XNNPACK takes: nothing outside.
    assert record["non_delegated_ops"] == {} and record["delegation_coverage"] == 1.0


def test_etrecord_loads_for_the_inspector(exports):
    from executorch.devtools.etrecord import parse_etrecord

    etrecord = parse_etrecord(str(exports.get("toy_cnn", "fp32").etrecord_path))
    assert etrecord.edge_dialect_program is not None


def test_dynamic_int8_is_recorded_and_kept_apart_from_static(tmp_path):
    result = export_model("toy_cnn", "int8", out_dir=tmp_path, int8_mode="dynamic",
                          progress=lambda _msg: None)
    assert result.pte_path.name == "toy_cnn_int8_dynamic.pte"
    assert result.record["quantization"]["mode"] == "dynamic"
    assert result.record["xnnpack_partitions"] >= 1
    inputs, reference = _eager_reference("toy_cnn")
    relative, cosine = _compare(_run_pte(result.pte_path, inputs), reference, "int8")
    assert cosine >= TOLERANCE["int8"][1]


def test_model_args_reach_build_model_and_example_inputs(tmp_path):
    """delegable_ops=false keeps nn.LayerNorm, which XNNPACK in 1.5.1 does not take: the
    record counts it outside, and the fragmentation it causes is named."""
    result = export_model("vit_tiny", "fp32", out_dir=tmp_path,
                          model_args={"depth": 1, "image_size": 64, "delegable_ops": False},
                          progress=lambda _msg: None)
    record = result.record
    assert record["model_args"] == {"depth": 1, "image_size": 64, "delegable_ops": False}
    assert record["input_shapes"] == [[1, 3, 64, 64]]
    assert record["non_delegated_ops"]["aten.native_layer_norm.default"] == 3   # 1 block: 2 + final
    assert record["xnnpack_partitions"] > 1
    assert "aten.native_layer_norm.default" in record["partition_split_ops"]


def test_default_output_folder_is_out_artifacts_model(monkeypatch, tmp_path):
    import sme2prof.export.exporter as exporter

    monkeypatch.setattr(exporter, "ARTIFACTS_DIR", tmp_path / "artifacts")
    result = exporter.export_model("toy_cnn", "fp16", progress=lambda _msg: None)
    assert result.pte_path == tmp_path / "artifacts" / "toy_cnn" / "toy_cnn_fp16.pte"
    assert sorted(p.name for p in result.pte_path.parent.iterdir()) == [
        "toy_cnn_fp16.etrecord", "toy_cnn_fp16.export.json", "toy_cnn_fp16.pte"]


NOTHING_TO_DELEGATE = '''
import torch

DESCRIPTION = "cumulative sum only: XNNPACK has no such operator"


class CumSum(torch.nn.Module):
    def forward(self, x):
        return torch.cumsum(x, dim=1)


def build_model():
    return CumSum().eval()


def example_inputs():
    return (torch.arange(12, dtype=torch.float32).reshape(3, 4),)
'''


def test_export_without_delegation_is_counted_and_flagged(tmp_path, capsys):
    """The record and the summary must make a portable-only program impossible to miss."""
    from sme2prof.export.cli import print_summary

    (tmp_path / "models" / "cumsum_only").mkdir(parents=True)
    (tmp_path / "models" / "cumsum_only" / "__init__.py").write_text(NOTHING_TO_DELEGATE)
    result = export_model("cumsum_only", "fp32", out_dir=tmp_path / "out",
                          extra_model_dirs=[tmp_path / "models"], progress=lambda _msg: None)
    assert result.record["xnnpack_partitions"] == 0
    assert result.record["delegated_ops"] == {}
    assert result.record["non_delegated_ops"] == {"aten.cumsum.default": 1}
    assert result.record["delegation_coverage"] == 0.0
    assert b"XnnpackBackend" not in result.pte_path.read_bytes()
    print_summary(result)
    assert "warning: nothing was delegated to XNNPACK" in capsys.readouterr().out
    output = _run_pte(result.pte_path, (torch.arange(12, dtype=torch.float32).reshape(3, 4),))
    assert torch.equal(output, torch.arange(12, dtype=torch.float32).reshape(3, 4).cumsum(1))


@pytest.mark.parametrize("model,dtype", [("toy_cnn", "fp32"), ("toy_cnn", "fp16"),
                                         ("mobilenet_v3_small", "fp32"),
                                         ("mobilenet_v3_small", "fp16"), ("vit_tiny", "fp32")])
def test_one_partition_and_no_dim_order_copy_outside(exports, model, dtype):
    """mobilenet_v3_small's squeeze-excitation gate once left 18 (fp32) or 36 (fp16)
    dim-order copies outside XNNPACK and cut fp16 into 19 partitions (models/readme.md)."""
    record = exports.get(model, dtype).record
    assert record["xnnpack_partitions"] == 1, record["partition_split_ops"]
    assert not any("_to_dim_order_copy" in op for op in record["non_delegated_ops"]), \
        record["non_delegated_ops"]
    assert record["warnings"] == [] and record["partition_split_ops"] == {}
