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
from functools import lru_cache

CONV = "CONV"
GEMM = "GEMM"
DATA_MOVEMENT = "Data Movement"
ELEMENTWISE = "Elementwise"
OTHER = "Other"              # also where a name no rule matches goes
NON_DELEGATED = "Non-delegated"  # every operator that runs outside XNNPACK, whatever its name

# Packed data types: XNNPACK names an operator with these only when it runs the
# KleidiAI/SME-family packed kernels (SME or SME2; only a kernel trace tells which).
PACKED_DTYPES = ("PF32", "PF16", "PQS8", "QP8")

_INSTANCE_SUFFIX = re.compile(r"\s*#\d+\s*$")
_NATIVE_PREFIX = "native_call_"
_PARENS = re.compile(r"\(([^)]*)\)")
# What XNNPACK's profiler appends to an operator name when the operator's microkernel type
# is not "Default" (src/xnnpack/microkernel-type-defs.inc): "Convolution (NHWC, F32) IGEMM".
# The category comes from the name before it, so a suffix never moves an operator
# ("Mean (ND) Transpose" is still a reduction); it may refine the sub-category (DWConv).
MICROKERNEL_SUFFIXES = ("Average Pooling", "Conv2D HWC2CHW", "DWConv", "GEMM", "IGEMM", "Reduce",
                        "Reduce2", "Pixelwise Average Pooling", "SPMM", "Subconv2D", "Transpose",
                        "VMulCAddC")
_SUFFIXED = re.compile(r"^(.*?\S)\s+(" + "|".join(re.escape(s) for s in sorted(MICROKERNEL_SUFFIXES, key=len, reverse=True))
                       + r")$")


@dataclass(frozen=True)
class Rule:
    """Operator names matching ``pattern`` (regex on the lower-cased name) get ``subcategory``."""

    pattern: str
    subcategory: str


@dataclass(frozen=True)
class Category:
    """Everything the kit says about one category: the table below is the only list of them.

    Charts take ``colour``, sentences take ``word``, classification takes ``rules``; adding
    a category is one more entry in ``CATEGORIES`` (and its test), nothing else.
    """

    name: str                        # as in summary.json, the CSV tables, the report and legends
    colour: str                      # its colour in every chart
    rules: tuple[Rule, ...] = ()
    word: str = ""                   # how a sentence names it (default: the name in lower case)
    matmul: bool = False             # matrix multiplication: what the packed (SME) share is taken of
    mention_from: float | None = None  # findings name it from this share of operator time on,
                                       # even when another category is larger
    rules_last: bool = False         # its patterns are short words found inside other names
                                     # ("add", "abs", "exp"): tried after every other category's

    def __post_init__(self) -> None:
        if not self.word:
            object.__setattr__(self, "word", self.name.lower())


# Report order. Rules are tried in this order (categories with rules_last after all the
# others), the first match wins, so specific patterns come before general ones
# ("depthwise" before "convolution").
CATEGORIES: tuple[Category, ...] = (
    # "\bconv" and "\blinear\b", not "conv" and "linear": "Convert (NC, F32, QD8)" is a
    # quantisation conversion and "Resize Bilinear (NHWC)" a resize, both data movement.
    Category(CONV, "#1f77b4", word="convolution", matmul=True, rules=(
        Rule(r"dwconv|depthwise", "depthwise convolution"),
        Rule(r"deconvolution|conv_transpose|convolution_backward", "deconvolution"),
        Rule(r"convolution|^conv(\d?d)?\b", "convolution"),
    )),
    Category(GEMM, "#ff7f0e", word="matrix multiplication", matmul=True, rules=(
        Rule(r"batch matrix multiply|\bbmm\b|matmul", "batch matrix multiply"),
        Rule(r"dynamic fully connected", "dynamic fully connected"),
        Rule(r"fully connected|\blinear\b|addmm|\bmm\b", "fully connected"),
    )),
    Category(DATA_MOVEMENT, "#d62728", mention_from=0.10, rules=(
        Rule(r"transpose|permute", "transpose"),
        Rule(r"pack lh|pack_lh|packlh", "pack LH"),
        Rule(r"reshape|view|squeeze|unsqueeze|expand dims|fuse dims|split dims", "reshape"),
        Rule(r"concatenate|\bcat\b", "concatenate"),
        Rule(r"slice|split|select|index", "slice"),
        Rule(r"convert|to_copy|_to_dim_order|quantize", "convert"),
        Rule(r"expand|broadcast|repeat", "expand"),
        Rule(r"copy(?! ?sign)|clone|pad", "copy"),
        Rule(r"resize|upsample|depth to space|space to depth|unpooling", "resize"),
    )),
    Category(ELEMENTWISE, "#2ca02c", rules_last=True, rules=(
        Rule(r"squared difference|copy ?sign|prelu|modulus|atan2|bitwise (and|or|xor)|shift|"
             r"binary elementwise", "binary"),
        Rule(r"gelu|sigmoid|hardswish|hard.?swish|tanh|relu|elu|swish|silu|exp\b|log\b|"
             r"sqrt|rsqrt|square|abs|negate|clamp|floor|ceil|round|leaky|reciprocal|cube root|"
             r"cosine|sine|\bsign\b|count leading zeros|population count|bitwise not|"
             r"unary elementwise", "activation"),
        Rule(r"rope\b|rotary", "rotary embedding"),
        Rule(r"add|subtract|\bsub\b|multiply|\bmul\b|divide|\bdiv\b|maximum|minimum|"
             r"power|\bpow\b", "binary"),
    )),
    Category(OTHER, "#9467bd", rules=(
        Rule(r"softmax", "softmax"),
        Rule(r"layer.?norm|batch.?norm|rms.?norm|group.?norm|normali", "normalisation"),
        Rule(r"max pooling|average pooling|avg.?pool|max.?pool|argmax pooling|global", "pooling"),
        Rule(r"mean|sum|reduce|max \(|min \(|\bamax\b|\bamin\b", "reduction"),
    )),
    Category(NON_DELEGATED, "#7f7f7f"),
)


def category_names() -> tuple[str, ...]:
    """Category names in report order."""
    return tuple(c.name for c in CATEGORIES)


def by_name(name: str) -> Category:
    """The table entry of a category name (every name the analysis writes comes from the table)."""
    return {c.name: c for c in CATEGORIES}[name]


def matmul_categories() -> tuple[Category, ...]:
    return tuple(c for c in CATEGORIES if c.matmul)


@lru_cache(maxsize=8)
def _compiled(table: tuple[Category, ...]) -> tuple[tuple[re.Pattern[str], str, str], ...]:
    """(pattern, category name, sub-category) in the order ``classify`` tries them."""
    ordered = [c for c in table if not c.rules_last] + [c for c in table if c.rules_last]
    return tuple((re.compile(rule.pattern), c.name, rule.subcategory) for c in ordered for rule in c.rules)


@dataclass(frozen=True)
class OperatorKind:
    """Everything the analysis derives from one operator name."""

    name: str             # without the "#k" suffix
    category: str         # the name of one of CATEGORIES
    subcategory: str
    dtypes: tuple[str, ...]
    delegated: bool
    known: bool = True    # False: no rule matched, so "Other" is a guess the report lists

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


def _match(lowered: str) -> tuple[str, str] | None:
    for pattern, cat, sub in _compiled(CATEGORIES):
        if pattern.search(lowered):
            return cat, sub
    return None


def classify(name: str, delegated: bool = True) -> OperatorKind:
    """Category and sub-category of an operator name (with or without '#k').

    A name no rule matches is "Other" with ``known`` False, so the report can list it
    and a user can report it (XNNPACK may add operator types the table does not know).
    """
    base = strip_instance(name)
    suffixed = _SUFFIXED.match(base)
    head = suffixed.group(1) if suffixed else base
    found = _match(head.lower())
    category, subcategory = found or (OTHER, "other")
    if suffixed and found:      # the suffix may say more within the same category
        refined = next((sub for pattern, cat, sub in _compiled(CATEGORIES)
                        if cat == category and pattern.search(base.lower())), None)
        subcategory = refined or subcategory
    if not delegated:
        # Reported next to the five so nobody mistakes runtime-portable kernels for XNNPACK.
        return OperatorKind(base, NON_DELEGATED, f"{subcategory} (portable kernel)", (), False)
    return OperatorKind(base, category, subcategory, operator_dtypes(base), True, known=found is not None)


def path_key(name: str) -> str:
    """The operator with its data types removed, to follow one op across two runs.

    'Fully Connected (NC, F32) GEMM' and 'Fully Connected (NC, PF32) GEMM' share the key
    'Fully Connected GEMM', so a comparison can say that the path changed.
    """
    base = strip_instance(name)
    return re.sub(r"\s+", " ", _PARENS.sub("", base)).strip()
