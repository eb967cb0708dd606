"""Operator taxonomy: which of the five published categories an operator belongs to.

Why these five (CONV, GEMM, Data Movement, Elementwise, Other): the published SME2 case
studies group operator time this way, so a reader can put our numbers next to theirs.
Each operator also gets a finer sub-category (what a person would call it: "transpose",
"fully connected"), and the data types in its name tell whether XNNPACK picked a packed,
SME-family path (PF32, PF16, PQS8, QP8).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

CONV = "CONV"
GEMM = "GEMM"
DATA_MOVEMENT = "Data Movement"
ELEMENTWISE = "Elementwise"
OTHER = "Other"
NON_DELEGATED = "Non-delegated"
CATEGORIES = (CONV, GEMM, DATA_MOVEMENT, ELEMENTWISE, OTHER, NON_DELEGATED)

# Packed data types: XNNPACK names an operator with these only when it runs the
# KleidiAI/SME-family packed kernels (SME or SME2; only a kernel trace tells which).
PACKED_DTYPES = ("PF32", "PF16", "PQS8", "QP8")

_INSTANCE_SUFFIX = re.compile(r"\s*#\d+\s*$")
_NATIVE_PREFIX = "native_call_"
_PARENS = re.compile(r"\(([^)]*)\)")

# (regex on the lower-cased operator name, category, sub-category); first match wins, so
# specific patterns come before general ones ("depthwise" before "convolution").
_RULES: tuple[tuple[str, str, str], ...] = (
    (r"dwconv|depthwise", CONV, "depthwise convolution"),
    (r"deconvolution|conv_transpose|convolution_backward", CONV, "deconvolution"),
    (r"convolution|^conv", CONV, "convolution"),
    (r"batch matrix multiply|\bbmm\b|matmul", GEMM, "batch matrix multiply"),
    (r"dynamic fully connected", GEMM, "dynamic fully connected"),
    (r"fully connected|linear|addmm|\bmm\b", GEMM, "fully connected"),
    (r"transpose|permute", DATA_MOVEMENT, "transpose"),
    (r"pack lh|pack_lh|packlh", DATA_MOVEMENT, "pack LH"),
    (r"reshape|view|squeeze|unsqueeze", DATA_MOVEMENT, "reshape"),
    (r"concatenate|\bcat\b", DATA_MOVEMENT, "concatenate"),
    (r"slice|split|select|index", DATA_MOVEMENT, "slice"),
    (r"convert|to_copy|_to_dim_order", DATA_MOVEMENT, "convert"),
    (r"expand|broadcast|repeat", DATA_MOVEMENT, "expand"),
    (r"copy|clone|pad", DATA_MOVEMENT, "copy"),
    (r"resize|upsample|depth to space|space to depth", DATA_MOVEMENT, "resize"),
    (r"softmax", OTHER, "softmax"),
    (r"layer.?norm|batch.?norm|rms.?norm|group.?norm|normali", OTHER, "normalisation"),
    (r"max pooling|average pooling|avg.?pool|max.?pool|argmax pooling|global",
     OTHER, "pooling"),
    (r"mean|sum|reduce|max \(|min \(|\bamax\b|\bamin\b", OTHER, "reduction"),
    (r"gelu|sigmoid|hardswish|hard.?swish|tanh|relu|elu|swish|silu|exp\b|log\b|"
     r"sqrt|rsqrt|square|abs|negate|clamp|floor|ceil|round|leaky", ELEMENTWISE, "activation"),
    (r"add|subtract|\bsub\b|multiply|\bmul\b|divide|\bdiv\b|maximum|minimum|"
     r"squared difference|prelu|power|copysign", ELEMENTWISE, "binary"),
)
_COMPILED = tuple((re.compile(p), c, s) for p, c, s in _RULES)


@dataclass(frozen=True)
class OperatorKind:
    """Everything the analysis derives from one operator name."""

    name: str             # without the "#k" suffix
    category: str         # one of CATEGORIES
    subcategory: str
    dtypes: tuple[str, ...]
    delegated: bool

    @property
    def packed(self) -> bool:
        return any(d in PACKED_DTYPES for d in self.dtypes)


def strip_instance(name: str) -> str:
    """'Convolution (NHWC, F32) IGEMM #3' -> 'Convolution (NHWC, F32) IGEMM'."""
    return _INSTANCE_SUFFIX.sub("", name)


def native_op_name(event_name: str) -> str:
    """'native_call_native_layer_norm.out' -> 'native_layer_norm.out'."""
    return event_name[len(_NATIVE_PREFIX):] if event_name.startswith(_NATIVE_PREFIX) else event_name


def is_native_call(event_name: str) -> bool:
    return event_name.startswith(_NATIVE_PREFIX)


def operator_dtypes(name: str) -> tuple[str, ...]:
    """Data-type tokens from the parenthesised part: '(NC, QD8, F32, QC8W)' -> ('QD8', ...).

    The first token is the layout (NC, NHWC, ND) and is skipped.
    """
    match = _PARENS.search(name)
    if not match:
        return ()
    tokens = [t.strip().upper() for t in match.group(1).split(",")]
    return tuple(t for t in tokens[1:] if t)


def classify(name: str, delegated: bool = True) -> OperatorKind:
    """Category and sub-category of an operator name (with or without '#k')."""
    base = strip_instance(name)
    lowered = base.lower()
    category, subcategory = OTHER, "other"
    for pattern, cat, sub in _COMPILED:
        if pattern.search(lowered):
            category, subcategory = cat, sub
            break
    if not delegated:
        # Reported next to the five so nobody mistakes runtime-portable kernels for XNNPACK.
        return OperatorKind(base, NON_DELEGATED, f"{subcategory} (portable kernel)", (), False)
    return OperatorKind(base, category, subcategory, operator_dtypes(base), True)


def path_key(name: str) -> str:
    """The operator with its data types removed, to follow one op across two runs.

    'Fully Connected (NC, F32) GEMM' and 'Fully Connected (NC, PF32) GEMM' share the key
    'Fully Connected GEMM', so a comparison can say that the path changed.
    """
    base = strip_instance(name)
    return re.sub(r"\s+", " ", _PARENS.sub("", base)).strip()
