"""XNNPACK log parsing on real log lines: kernel names, ISA class, data type, op, and the
operators that ran. The fixtures are real logs of source-built executor_runner builds."""
from __future__ import annotations

from pathlib import Path

import pytest

from sme2prof.analysis.kernel_trace import (classify_isa, kernel_matches_operator, parse_file,
                                            parse_lines, split_kernel_name)

SME = "aarch64-qemu-cpu-max-sme"
SME_OFF = "aarch64-qemu-cpu-max-sme-off"


def _trace(real_runs_dir: Path, folder: str, model: str):
    return parse_file(real_runs_dir / folder / f"{model}.xnntrace.log")


def test_sme_log_names_neonsme_pf32_gemm_kernels(real_runs_dir):
    trace = _trace(real_runs_dir, SME, "cnn-linear-fp32")
    by_name = {k.name: k for k in trace.kernels}
    k = by_name["xnn_pf32_gemm_minmax_ukernel_32x32__neonsme"]
    assert (k.kind, k.dtype, k.op, k.isa, k.isa_class) == ("gemm", "pf32", "gemm", "neonsme", "__neonsme")
    assert by_name["xnn_pf32_igemm_minmax_ukernel_32x32__neonsme"].op == "igemm"
    assert "__neonsme2" not in trace.isa_classes


def test_sme_off_log_uses_neon_asm_kernels(real_runs_dir):
    trace = _trace(real_runs_dir, SME_OFF, "cnn-linear-fp32")
    gemm = [k for k in trace.kernels if k.op in ("gemm", "igemm")]
    assert gemm and all(k.isa_class == "NEON" and k.dtype == "f32" for k in gemm)
    assert any("asm_aarch64_neonfma" in k.isa for k in gemm)
    assert not any(k.isa_class.startswith("__neonsme") for k in trace.kernels)


def test_operators_run_from_level5_lines(real_runs_dir):
    trace = _trace(real_runs_dir, SME, "transformer-block-fp32")
    # 5 executions x 6 fully connected operators; static reshapes that are skipped are not counted
    assert trace.operators_run["Fully Connected (NC, PF32) GEMM"] == 30
    assert trace.operators_run["Transpose (ND, X32)"] == 25
    assert trace.operators_run["Softmax (NC, F32)"] == 5


def test_x86_log(real_runs_dir):
    trace = _trace(real_runs_dir, "x86-64", "cnn-linear-fp32")
    assert {k.isa_class for k in trace.kernels if k.op == "gemm"} == {"x86"}
    assert "xnn_f32_gemm_minmax_ukernel_7x32__avx512f_broadcast" in {k.name for k in trace.kernels}


def test_every_microkernel_line_in_the_fixtures_is_parsed(real_runs_dir):
    logs = sorted(real_runs_dir.glob("*/*.xnntrace.log"))
    assert logs, f"no *.xnntrace.log under {real_runs_dir}"   # else this test checks nothing
    for log in logs:
        lines = log.read_text().splitlines()
        named = {line.split("'")[1] for line in lines if "microkernel '" in line}
        assert named == {k.name for k in parse_lines(lines).kernels}, log


@pytest.mark.parametrize("line, isa_class, dtype, op", [
    # the form XNNPACK prints at log level 4+, with and without the source location
    ("Note (XNNPACK): Using gemm microkernel 'xnn_pf32_gemm_minmax_ukernel_32x32__neonsme2'. "
     "(init_pf32_gemm_config, /src/XNNPACK/src/configs/gemm-config.c:514)", "__neonsme2", "pf32", "gemm"),
    # Android logcat prefix
    ("11-21 16:35:12.345  4242  4242 I XNNPACK : Using igemm microkernel "
     "'xnn_pqs8_qc8w_igemm_minmax_fp32_ukernel_32x32c4__neonsme2'.", "__neonsme2", "pqs8_qc8w", "igemm"),
    ("Note (XNNPACK): Using gemm microkernel 'xnn_qp8_f32_qc4w_gemm_minmax_ukernel_16x64c4__neonsme2'.",
     "__neonsme2", "qp8_f32_qc4w", "gemm"),
    ("Note (XNNPACK): Using gemm microkernel 'xnn_qd8_f32_qc8w_gemm_minmax_ukernel_4x16c4__neondotfp16arith'.",
     "NEON", "qd8_f32_qc8w", "gemm"),
    ("Note (XNNPACK): Using gemm microkernel 'xnn_f16_gemm_minmax_ukernel_6x16__neonfp16arith_ld64'.",
     "NEON", "f16", "gemm"),
    ("Note (XNNPACK): Using binary microkernel 'xnn_f32_vadd_ukernel__scalar_u8'.", "scalar", "f32", "vadd"),
    ("Note (XNNPACK): Using dwconv microkernel 'xnn_f32_dwconv_minmax_ukernel_9p16c__avx512f'.", "x86", "f32", "dwconv"),
])
def test_kernel_line_forms(line, isa_class, dtype, op):
    (kernel,) = parse_lines([line, "I 00:00:00.029 executorch:runner.cpp:1] unrelated"]).kernels
    assert (kernel.isa_class, kernel.dtype, kernel.op) == (isa_class, dtype, op)


def test_isa_classes():
    assert classify_isa("neonsme2") == "__neonsme2"
    assert classify_isa("neonsme") == "__neonsme"
    assert classify_isa("asm_aarch64_neonfma_ld128") == "NEON"
    assert classify_isa("neoni8mm") == "NEON"
    assert classify_isa("avx512vnni") == "x86"
    assert classify_isa("scalar_memcpy") == "scalar"
    assert split_kernel_name("xnn_x32_transposec_ukernel__4x4_sse") == ("x32", "transposec", "4x4_sse")


def test_kernel_to_operator_matching():
    (gemm,) = parse_lines(["Using gemm microkernel 'xnn_pf32_gemm_minmax_ukernel_1x32__neonsme'"]).kernels
    assert kernel_matches_operator(gemm, "Fully Connected (NC, PF32) GEMM")
    assert not kernel_matches_operator(gemm, "Fully Connected (NC, F32) GEMM")
    assert not kernel_matches_operator(gemm, "Convolution (NHWC, PF32) IGEMM")
    (dw,) = parse_lines(["Using dwconv microkernel 'xnn_f32_dwconv_minmax_ukernel_9p8c__neonfma'"]).kernels
    assert kernel_matches_operator(dw, "Convolution (NHWC, F32) DWConv")
    assert not kernel_matches_operator(dw, "Convolution (NHWC, F32) IGEMM")


def test_log_without_kernel_lines():
    trace = parse_lines(["I 00:00:00.031580 executorch:executor_runner.cpp:476] Model file m.pte is loaded."])
    assert trace.kernels == [] and trace.operators_run == {}
