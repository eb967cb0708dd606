"""Per operator, which microkernel ran on each side of a comparison (``kernel_diff.csv``).

Why: a comparison's operator rows say that 'Fully Connected GEMM' went from '(NC, F32)' to
'(NC, PF32)', which tells a packed path from an unpacked one but not SME2 from SME or which
NEON kernel was the baseline. Only XNNPACK's log names the microkernel, so when both sides of a
pair have a kernel trace this lists, for every operator of the comparison, the kernels matched
to it on each side (``kernel_trace.match_operators``) and whether they changed. When a side has
no kernel trace the row says which side lacks one, instead of leaving an empty cell that reads
as "no kernel ran".
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sme2prof.analysis.kernel_trace import KernelTrace
from sme2prof.analysis.result_analysis import ResultAnalysis
from sme2prof.analysis.rows import Comparison
from sme2prof.analysis.tables import records_csv
from sme2prof.fileio import write_text_atomic

FILE_NAME = "kernel_diff.csv"
CHANGED = "kernel changed"
SAME = "same kernel"
NO_TRACE_A = "A has no kernel trace"
NO_TRACE_B = "B has no kernel trace"
NO_TRACE = "neither side has a kernel trace"
NOT_NAMED = "no microkernel named for this operator"


@dataclass
class KernelDiffLine:
    """A row of kernel_diff.csv: one operator of one comparison, its kernels on each side."""

    comparison: str           # "A vs B"
    operator: str             # the comparison's operator key ('Fully Connected GEMM')
    a_operators: str          # ETDump names on side A ('Fully Connected (NC, PF32) GEMM')
    b_operators: str
    a_kernels: str            # microkernels matched on side A, ' + '-joined
    b_kernels: str
    a_isa: str                # their ISA classes (__neonsme2, __neonsme, NEON, x86, scalar)
    b_isa: str
    status: str               # kernel changed | same kernel | <side> has no kernel trace | ...


def _kernels_for(trace: KernelTrace | None, names: list[str]) -> tuple[list[str], list[str]]:
    if trace is None or not names:
        return [], []
    wanted = set(names)
    matched = [k for k in trace.kernels if wanted & set(k.operators)]
    return [k.name for k in matched], sorted({k.isa_class for k in matched})


def _status(a_trace: KernelTrace | None, b_trace: KernelTrace | None,
            a_kernels: list[str], b_kernels: list[str]) -> str:
    if a_trace is None and b_trace is None:
        return NO_TRACE
    if a_trace is None:
        return NO_TRACE_A
    if b_trace is None:
        return NO_TRACE_B
    if not a_kernels and not b_kernels:
        return NOT_NAMED
    return SAME if sorted(a_kernels) == sorted(b_kernels) else CHANGED


def kernel_diff(cmp: Comparison, a: ResultAnalysis, b: ResultAnalysis) -> list[KernelDiffLine]:
    """One line per operator row of ``cmp`` (A = ``a``, the baseline B = ``b``)."""
    lines = []
    for op in cmp.operators:
        a_kernels, a_isa = _kernels_for(a.kernels, op.a_names)
        b_kernels, b_isa = _kernels_for(b.kernels, op.b_names)
        lines.append(KernelDiffLine(
            comparison=f"{cmp.a} vs {cmp.b}", operator=op.operator,
            a_operators=" + ".join(op.a_names), b_operators=" + ".join(op.b_names),
            a_kernels=" + ".join(a_kernels), b_kernels=" + ".join(b_kernels),
            a_isa=" ".join(a_isa), b_isa=" ".join(b_isa),
            status=_status(a.kernels, b.kernels, a_kernels, b_kernels)))
    return lines


def write_kernel_diff(lines: list[KernelDiffLine], out_dir: Path) -> Path | None:
    """kernel_diff.csv in ``out_dir`` (None when there is no comparison)."""
    if not lines:
        return None
    return write_text_atomic(out_dir / FILE_NAME, records_csv(KernelDiffLine, lines))


def report_section(lines: list[KernelDiffLine]) -> list[str]:
    """A few lines per comparison for report.md: the kernel changes, or which side lacks a trace."""
    if not lines:
        return []
    out = [f"## Kernel diff ({FILE_NAME})", ""]
    for comparison in dict.fromkeys(line.comparison for line in lines):
        rows = [line for line in lines if line.comparison == comparison]
        missing = {line.status for line in rows} & {NO_TRACE_A, NO_TRACE_B, NO_TRACE}
        if missing:
            out.append(f"- {comparison}: {sorted(missing)[0]}; microkernels per operator need a "
                       "-xnntrace runner on both sides")
            continue
        changed = [line for line in rows if line.status == CHANGED]
        out.append(f"- {comparison}: {len(changed)} of {len(rows)} operators run another microkernel")
        for line in changed:
            out.append(f"  - {line.operator}: {line.b_kernels or '(none named)'} → "
                       f"{line.a_kernels or '(none named)'}")
    return out + [""]
