"""Parse XNNPACK log output: which microkernels the runtime picked, and for which ops.

Why: an ETDump names operators ('Fully Connected (NC, PF32) GEMM'), not the code that ran.
Only XNNPACK's own log (level 4+: "Using gemm microkernel 'xnn_pf32_gemm_...__neonsme'")
names the microkernel, and the suffix after "__" tells SME2 from SME from plain NEON.

Real log lines look like (the trailing "(function, file:line)" is optional)::

    Note (XNNPACK): Using gemm microkernel 'xnn_pf32_gemm_minmax_ukernel_32x32__neonsme'. (init_pf32_gemm_config, .../gemm-config.c:514)
    Note (XNNPACK): Using binary microkernel 'xnn_f32_vaddc_ukernel__neon_u8'. (...)
    Debug (XNNPACK): running operator 7:0 (Fully Connected (NC, F32) GEMM) (...)

On Android the same text arrives through logcat with a prefix; the patterns only look for
the quoted kernel name, so prefixes do not matter.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ISA_SME2 = "__neonsme2"
ISA_SME = "__neonsme"
ISA_NEON = "NEON"
ISA_X86 = "x86"
ISA_SCALAR = "scalar"
ISA_OTHER = "other"

_USING = re.compile(r"Using\s+([A-Za-z0-9_]+)\s+microkernel\s+'([^']+)'")
_UKERNEL_ANY = re.compile(r"'(xnn_[a-z0-9_]+?_ukernel[a-z0-9_]*)'")
_RUNNING = re.compile(r"(?<!skip )running operator \d+:\d+ \((.+)\)\s*$")
_LOCATION = re.compile(r"\s*\([A-Za-z_0-9]+, [^()]*:\d+\)\s*$")
# The log adds the ukernel type; the ETDump name leaves out these two.
_OP_TRAILING_KIND = re.compile(r"\s+(?:Default|Transpose)$")

# Microkernel op (the part before "_ukernel", after the data type) -> operator name
# prefixes in the ETDump that run it. Used to match kernels to the operator table.
_OP_TO_OPERATORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"^igemm", ("Convolution", "Deconvolution")),
    (r"^gemm", ("Fully Connected", "Batch Matrix Multiply", "Dynamic Fully Connected",
                "Convolution", "Deconvolution")),
    (r"^dwconv", ("Convolution",)),
    (r"^transpose", ("Transpose",)),
    (r"^vaddc?$|^vadd", ("Add",)),
    (r"^vmulcaddc", ("Convolution", "Batch Normalization")),
    (r"^vmulc?$|^vmul", ("Multiply",)),
    (r"^vsubc?|^vrsubc", ("Subtract",)),
    (r"^vdivc?|^vrdivc", ("Divide",)),
    (r"^vmaxc?$|^vmax", ("Maximum",)),
    (r"^vminc?$|^vmin", ("Minimum",)),
    (r"^vgelu", ("GELU",)),
    (r"^vsigmoid", ("Sigmoid",)),
    (r"^vhswish", ("HardSwish",)),
    (r"^vtanh", ("Tanh",)),
    (r"^vclamp|^vrelu", ("Clamp", "ReLU")),
    (r"^vlrelu", ("Leaky ReLU",)),
    (r"^vsqrt|^vrsqrt", ("Square Root", "Reciprocal Square Root")),
    (r"^raddstoreexpminusmax|^rmax|^raddextexp|^vscaleexpminusmax", ("Softmax",)),
    (r"^maxpool", ("Max Pooling",)),
    (r"^avgpool|^pavgpool", ("Average Pooling",)),
    (r"^rd?sum|^rdmax|^rd?min", ("Mean", "Sum", "Max", "Min")),
    (r"^copy", ("Copy", "Static Reshape", "Constant Pad", "Concatenate", "Slice")),
    (r"^vcvt|^qd8|^f32_qd8|^f16_qd8", ("Convert",)),
    (r"^pack_lh|^packlh|^x32_pack|^pack", ("Pack LH",)),
)
_OP_TO_OPERATORS_RE = tuple((re.compile(p), ops) for p, ops in _OP_TO_OPERATORS)

# Kernel data-type prefix -> operator data-type token as written in the ETDump name.
_DTYPE_TOKEN = {"f32": "F32", "f16": "F16", "bf16": "BF16", "pf32": "PF32", "pf16": "PF16",
                "qs8": "QS8", "qu8": "QU8", "qc8": "QC8", "qd8": "QD8", "qp8": "QP8",
                "pqs8": "PQS8", "x32": "X32", "x16": "X16", "x8": "X8", "x64": "X64",
                "x24": "X24", "qc4w": "QC4W"}
_DTYPE_PREFIXES = ("pqs8", "pf32", "pf16", "bf16", "qp8", "qd8", "qs8", "qu8", "qc8", "qc4w",
                   "f32", "f16", "x64", "x32", "x24", "x16", "x8", "xx", "s8", "u8", "s32")


@dataclass
class Microkernel:
    """One microkernel XNNPACK reported choosing (a row of kernels.csv, in column order)."""

    name: str                 # xnn_pf32_gemm_minmax_ukernel_32x32__neonsme
    isa_class: str            # __neonsme2 | __neonsme | NEON | x86 | scalar | other
    dtype: str                # pf32, f32, qd8_f32_qc8w, x32, xx
    op: str                   # gemm, igemm, dwconv, vaddc, transposec, ...
    kind: str                 # the word in the log line: gemm, igemm, binary, unary, ...
    isa: str                  # text after "__": neonsme, asm_aarch64_neonfma_ld128, avx512f
    count: int = 1            # how many times the log named it
    operators: list[str] = field(default_factory=list)   # matched ETDump operator names


@dataclass
class KernelTrace:
    """What one XNNPACK log says (the ``kernels`` block of a result in summary.json)."""

    path: str
    lines: int
    isa_classes: list[str] = field(init=False)   # every kernel's isa_class, once, sorted
    kernels: list[Microkernel]
    operators_run: dict[str, int]     # 'Fully Connected (NC, PF32) GEMM' -> times run

    def __post_init__(self) -> None:
        self.isa_classes = sorted({k.isa_class for k in self.kernels})


def classify_isa(isa: str) -> str:
    """'neonsme2' -> __neonsme2, 'asm_aarch64_neonfma_ld128' -> NEON, 'avx512f' -> x86."""
    lowered = isa.lower()
    if "neonsme2" in lowered or re.search(r"(^|_)sme2", lowered):
        return ISA_SME2
    if "neonsme" in lowered or re.search(r"(^|_)sme(_|$)", lowered):
        return ISA_SME
    if re.search(r"neon|aarch64|aarch32|armsimd|arm_", lowered):
        return ISA_NEON
    if re.search(r"avx|sse|f16c|fma3|amd64|x86", lowered):
        return ISA_X86
    if lowered.startswith("scalar") or "_scalar" in lowered or lowered == "":
        return ISA_SCALAR
    return ISA_OTHER


def split_kernel_name(name: str) -> tuple[str, str, str]:
    """'xnn_qd8_f32_qc8w_gemm_minmax_ukernel_1x8__neon' -> ('qd8_f32_qc8w', 'gemm', 'neon')."""
    body, _, isa = name.partition("__")
    body = body.removeprefix("xnn_")
    head = body.split("_ukernel")[0]
    parts = head.split("_")
    dtype_parts: list[str] = []
    while parts and (parts[0] in _DTYPE_PREFIXES or re.fullmatch(r"q[cbd]?\d+w?|[fx]\d+", parts[0])):
        dtype_parts.append(parts.pop(0))
    op = parts[0] if parts else head
    return "_".join(dtype_parts) or "none", op, isa


def parse_lines(lines: list[str], path: str = "") -> KernelTrace:
    """Parse XNNPACK log lines (any other output mixed in is ignored)."""
    order: dict[str, Microkernel] = {}
    running: Counter[str] = Counter()
    for line in lines:
        match = _USING.search(line)
        if match:
            kind, name = match.group(1), match.group(2)
            _add_kernel(order, name, kind)
            continue
        if "microkernel" in line or "ukernel" in line:
            for name in _UKERNEL_ANY.findall(line):
                _add_kernel(order, name, "")
            continue
        run = _RUNNING.search(_LOCATION.sub("", line))
        if run:
            running[_OP_TRAILING_KIND.sub("", run.group(1)).strip()] += 1
    return KernelTrace(path=path, kernels=list(order.values()), operators_run=dict(running),
                       lines=len(lines))


def _add_kernel(order: dict[str, Microkernel], name: str, kind: str) -> None:
    if name in order:
        order[name].count += 1
        return
    dtype, op, isa = split_kernel_name(name)
    order[name] = Microkernel(name=name, kind=kind or op, dtype=dtype, op=op, isa=isa,
                              isa_class=classify_isa(isa))


def parse_file(path: Path) -> KernelTrace:
    """Read a log file (bytes that are not UTF-8 are replaced, logs mix many writers)."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return parse_lines(text.splitlines(), str(path))


def kernel_matches_operator(kernel: Microkernel, operator_name: str) -> bool:
    """Could this kernel have run this ETDump operator? (op family and data type agree)."""
    families: tuple[str, ...] = ()
    for pattern, ops in _OP_TO_OPERATORS_RE:
        if pattern.search(kernel.op):
            families = ops
            break
    if operator_name.split(" (")[0].strip() not in families:
        return False
    variant = operator_name.rsplit(")", 1)[-1].strip()    # 'GEMM', 'IGEMM', 'DWConv', ''
    if operator_name.startswith(("Convolution", "Deconvolution")):
        wanted = {"gemm": "GEMM", "igemm": "IGEMM", "dwconv": "DWConv"}.get(kernel.op)
        if wanted is not None and variant != wanted:
            return False
    return _dtype_agrees(kernel.dtype, operator_name)


def _dtype_agrees(kernel_dtype: str, operator_name: str) -> bool:
    from sme2prof.analysis.categories import operator_dtypes  # local: keeps this module importable alone
    op_tokens = operator_dtypes(operator_name)
    if not op_tokens or kernel_dtype in ("none", "xx"):
        return True
    first = kernel_dtype.split("_")[0]
    token = _DTYPE_TOKEN.get(first)
    if token is None:
        return True
    if token in op_tokens:
        return True
    # XNNPACK names a signed 8-bit convolution with per-channel weights 'QC8' in the operator
    # ('Convolution (NHWC, QC8) IGEMM') and runs qs8_qc8w kernels for it.
    if token == "QS8" and "QC8" in op_tokens and "qc8w" in kernel_dtype.split("_"):
        return True
    # Transpose/copy kernels are named by element width (x32), the operator by X32 too;
    # a 4-byte float op can also use x32 kernels.
    return token == "X32" and "F32" in op_tokens


def match_operators(trace: KernelTrace, operator_names: list[str]) -> None:
    """Fill each kernel's ``operators`` with the ETDump operator names it fits."""
    for kernel in trace.kernels:
        kernel.operators = [n for n in operator_names if kernel_matches_operator(kernel, n)]
