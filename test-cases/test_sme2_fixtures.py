"""Real SME2 evidence: source-built linux-aarch64 runners under QEMU 11.1 -cpu max (SME2 visible).

test-cases/fixtures/real-runs/sme2-emulated/ holds four pipeline runs (readme.md there says
how they were made): the sme2-on, sme2-off, sme2-on-xnntrace and sme2-off-xnntrace variants on
toy_cnn fp32 and int8, mobilenet_v3_small fp32 and fp16, and vit_tiny fp32, all on a CPU with SME2.
The analysis must name the `__neonsme2` microkernels matched to their operators, show the path
changes between sme2-on and sme2-off (F32 -> PF32, F16 -> PF16, QS8 -> PQS8), and list the kernel change per
operator in kernel_diff.csv; the sme2-off runners must stay on NEON although the CPU has SME2.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sme2prof.fileio import read_json

MODELS = {"toy-cnn-fp32": ("F32", "PF32", ["Convolution IGEMM", "Fully Connected GEMM"]),
          "mobilenet-v3-small-fp32": ("F32", "PF32", ["Convolution IGEMM", "Fully Connected GEMM"]),
          "mobilenet-v3-small-fp16": ("F16", "PF16", ["Convolution IGEMM"]),
          "vit-tiny-fp32": ("F32", "PF32", ["Batch Matrix Multiply GEMM", "Convolution IGEMM",
                                            "Fully Connected GEMM"]),
          "toy-cnn-int8": ("QS8", "PQS8", ["Fully Connected GEMM"])}


def dtypes(operator: str) -> list[str]:
    """'Fully Connected (NC, PQS8, QC8W) GEMM' -> ['NC', 'PQS8', 'QC8W']."""
    return operator.split("(", 1)[1].split(")", 1)[0].split(", ")


@pytest.fixture(scope="module")
def fixtures(real_runs_dir: Path) -> Path:
    return real_runs_dir / "sme2-emulated"


@pytest.fixture(scope="module")
def analyses(fixtures: Path, tmp_path_factory) -> dict:
    """Each run analysed as a user would (its config's compare_pairs), into a scratch folder."""
    from sme2prof.analysis import analyze_runs

    out = {}
    for model in MODELS:
        folder = tmp_path_factory.mktemp(model)
        result = analyze_runs([fixtures / model], out_dir=folder, charts_enabled=False)
        with open(folder / "kernel_diff.csv", newline="", encoding="utf-8") as handle:
            out[model] = (result.summary, list(csv.DictReader(handle)), result.report_path.read_text())
    return out


@pytest.mark.parametrize("model", MODELS)
def test_every_run_had_sme2_visible_at_512_bits_and_the_variants_it_names(fixtures: Path, model: str) -> None:
    manifest = read_json(fixtures / model / "manifest.json")
    assert manifest["status"] == "complete"
    for experiment in manifest["experiments"]:
        target = experiment["target"]
        assert experiment["emulated"] is True and target["cpu"] == "max"
        assert target["qemu_version"] == "11.1.3" and target["sme_vector_length_bits"] == 512
        assert target["cpu_features"]["sme"] and target["cpu_features"]["sme2"]
        info = experiment["build_info"]
        assert info["platform"] == "linux-aarch64" and info["executorch_commit"].startswith("e4576d0")
        assert info["sme2"] is experiment["runner"].startswith("linux-aarch64-sme2-on")


@pytest.mark.parametrize("model", MODELS)
def test_report_names_neonsme2_microkernels_matched_to_operators(analyses: dict, model: str) -> None:
    summary, _, report = analyses[model]
    packed = MODELS[model][1]
    trace_on = next(r for r in summary["results"] if r["name"] == "trace_on")
    assert trace_on["sme"]["verdict"] == "SME2 kernels (__neonsme2) in the kernel trace"
    sme2 = [k for k in trace_on["kernels"]["kernels"] if k["isa_class"] == "__neonsme2"]
    assert sme2 and all(k["dtype"].startswith(packed.lower()) for k in sme2)
    assert any(packed in dtypes(op) for k in sme2 for op in k["operators"])
    assert "__neonsme2" in report and f"xnn_{packed.lower()}_" in report
    trace_off = next(r for r in summary["results"] if r["name"] == "trace_off")
    assert "__neonsme2" not in trace_off["sme"]["kernel_isa_classes"]
    assert "__neonsme" not in trace_off["sme"]["kernel_isa_classes"]


@pytest.mark.parametrize("model", MODELS)
def test_sme2_on_against_off_shows_the_path_changes(analyses: dict, model: str) -> None:
    summary, _, report = analyses[model]
    plain, packed, operators = MODELS[model]
    cmp = next(c for c in summary["comparisons"] if (c["a"], c["b"]) == ("sme2_on", "sme2_off"))
    assert cmp["emulated"] is True
    changes = {c["operator"]: c for c in cmp["path_changes"]}
    for operator in operators:
        assert any(plain in dtypes(name) for name in changes[operator]["baseline"]), changes[operator]
        assert not any(packed in dtypes(name) for name in changes[operator]["baseline"]), changes[operator]
        assert any(packed in dtypes(name) for name in changes[operator]["now"]), changes[operator]
    sme2_off = next(r for r in summary["results"] if r["name"] == "sme2_off")
    assert sme2_off["sme"]["sme_path"] is False     # NEON although the CPU has SME2
    assert "emulated — not a performance result" in report


@pytest.mark.parametrize("model", MODELS)
def test_kernel_diff_lists_neon_against_neonsme2_per_operator(analyses: dict, model: str) -> None:
    _, rows, report = analyses[model]
    operators = MODELS[model][2]
    traced = {r["operator"]: r for r in rows if r["comparison"] == "trace_on vs trace_off"}
    for operator in operators:
        row = traced[operator]
        assert row["status"] == "kernel changed"
        assert "__neonsme2" in row["a_isa"] and row["b_isa"] == "NEON"
        assert "__neonsme2" in row["a_kernels"] and "__neonsme" not in row["b_kernels"]
    timing = [r for r in rows if r["comparison"] == "sme2_on vs sme2_off"]
    assert timing and {r["status"] for r in timing} == {"neither side has a kernel trace"}
    assert "trace_on vs trace_off:" in report and "run another microkernel" in report


def test_int8_convolution_names_its_qc8_kernels_on_both_sides(analyses: dict) -> None:
    """'Convolution (NHWC, QC8) IGEMM' runs qs8_qc8w kernels: the diff names them, NEON i8mm against SME2."""
    _, rows, _ = analyses["toy-cnn-int8"]
    conv = next(r for r in rows if r["comparison"] == "trace_on vs trace_off" and r["operator"] == "Convolution IGEMM")
    assert conv["b_operators"] == "Convolution (NHWC, QC8) IGEMM" and conv["b_isa"] == "NEON"
    assert all(k.startswith("xnn_qs8_qc8w_igemm_") for k in conv["b_kernels"].split(" + "))
    assert "xnn_pqs8_qc8w_igemm_minmax_fp32_ukernel_32x32c4__neonsme2" in conv["a_kernels"].split(" + ")
