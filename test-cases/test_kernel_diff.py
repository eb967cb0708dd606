"""kernel_diff.csv: per operator of a comparison, the microkernel on each side.

Run on the real fixtures (ETDumps and XNNPACK logs from source-built runners): under
`-cpu max` the GEMMs run `__neonsme` kernels, under `sme=off` NEON ones; an ETDump without
a kernel log must be named as the side that lacks one, not shown as "no kernel ran".
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

SME = "aarch64-qemu-cpu-max-sme"
SME_OFF = "aarch64-qemu-cpu-max-sme-off"
MODEL = "cnn-linear-fp32"


def _rows(out: Path) -> list[dict]:
    with open(out / "kernel_diff.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def diff(real_runs_dir: Path, tmp_path_factory):
    from sme2prof.analysis import analyze_runs

    bare = tmp_path_factory.mktemp("bare") / "no-trace"
    bare.mkdir()
    shutil.copy(real_runs_dir / SME_OFF / f"{MODEL}.etdump", bare / f"{MODEL}.etdump")   # no .xnntrace.log
    paths = [real_runs_dir / SME / f"{MODEL}.etdump", real_runs_dir / SME_OFF / f"{MODEL}.etdump",
             bare / f"{MODEL}.etdump"]
    out = tmp_path_factory.mktemp("kernel-diff")
    pairs = [(f"{SME}/{MODEL}", f"{SME_OFF}/{MODEL}"), (f"{SME}/{MODEL}", f"no-trace/{MODEL}")]
    analysis = analyze_runs(paths, compare=pairs, out_dir=out, warmup=1)
    return analysis, _rows(out)


def test_both_traced_lists_the_kernel_on_each_side(diff) -> None:
    analysis, rows = diff
    both = {r["operator"]: r for r in rows if r["comparison"] == f"{SME}/{MODEL} vs {SME_OFF}/{MODEL}"}
    fc = both["Fully Connected GEMM"]
    assert fc["status"] == "kernel changed"
    assert fc["a_operators"] == "Fully Connected (NC, PF32) GEMM" and fc["b_operators"] == "Fully Connected (NC, F32) GEMM"
    assert "xnn_pf32_gemm_minmax_ukernel_32x32__neonsme" in fc["a_kernels"].split(" + ")
    assert all(k.startswith("xnn_f32_gemm_") for k in fc["b_kernels"].split(" + "))
    assert (fc["a_isa"], fc["b_isa"]) == ("__neonsme", "NEON")
    assert both["Convolution IGEMM"]["status"] == "kernel changed"
    assert both["Max Pooling"]["status"] == "same kernel"
    assert "kernel_diff.csv" in analysis.summary["files"]["tables"]
    report = analysis.report_path.read_text()
    assert "## Kernel diff (kernel_diff.csv)" in report
    assert "2 of 6 operators run another microkernel" in report


def test_a_side_without_kernel_trace_is_named(diff) -> None:
    analysis, rows = diff
    missing = [r for r in rows if r["comparison"] == f"{SME}/{MODEL} vs no-trace/{MODEL}"]
    assert missing and {r["status"] for r in missing} == {"B has no kernel trace"}
    assert all(r["b_kernels"] == "" and r["a_kernels"] for r in missing if r["operator"] != "Static Reshape")
    assert "B has no kernel trace" in analysis.report_path.read_text()
