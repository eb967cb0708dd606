"""What the XNNPACK partitioner took and what it left behind, read from the lowered program.

Why from the graph and not from a runtime profile: delegation is decided at export time,
and an operator that stays outside the delegate runs on ExecuTorch's portable kernels,
usually far slower. Knowing that before profiling explains the "non-delegated" rows
the analysis shows later.

The lowered edge program's top-level graph holds ``executorch_call_delegate`` nodes,
each pointing at a ``LoweredBackendModule`` whose ``original_module`` is the sub-graph
handed to the backend; every other ``call_function`` node in the top-level graph runs
outside any delegate.
"""
from __future__ import annotations

import operator
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# Graph bookkeeping, not work: tuple unpacking and the delegate call itself.
_NOT_COMPUTE = {"getitem", "executorch_call_delegate"}
XNNPACK_BACKEND_ID = "XnnpackBackend"


@dataclass
class DelegationSummary:
    delegated_ops: dict[str, int] = field(default_factory=dict)
    non_delegated_ops: dict[str, int] = field(default_factory=dict)
    partitions: int = 0                      # XNNPACK delegate partitions (delegate calls)
    other_backend_partitions: int = 0

    @property
    def delegated_count(self) -> int:
        return sum(self.delegated_ops.values())

    @property
    def non_delegated_count(self) -> int:
        return sum(self.non_delegated_ops.values())

    @property
    def coverage(self) -> float:
        """Fraction of compute operators that run inside an XNNPACK delegate."""
        total = self.delegated_count + self.non_delegated_count
        return round(self.delegated_count / total, 4) if total else 0.0


def op_name(target: Any) -> str:
    """``aten.convolution.default`` style name for an FX node target."""
    if target is operator.getitem:
        return "getitem"
    op = getattr(target, "_op", target)          # EdgeOpOverload wraps an OpOverload
    if hasattr(op, "_schema") and hasattr(op, "namespace"):
        return str(op)
    return getattr(target, "__name__", str(target))


def _count_compute_ops(graph_module) -> Counter:
    counts: Counter = Counter()
    for node in graph_module.graph.nodes:
        if node.op == "call_function":
            name = op_name(node.target)
            if name not in _NOT_COMPUTE:
                counts[name] += 1
    return counts


def summarize_delegation(edge_program) -> DelegationSummary:
    """Count operators inside XNNPACK delegates versus outside, for every method.

    ``edge_program`` is what ``to_edge_transform_and_lower`` returns (an
    ``EdgeProgramManager``), before ``to_executorch``.
    """
    summary = DelegationSummary()
    delegated: Counter = Counter()
    outside: Counter = Counter()
    for method in edge_program.methods:
        graph_module = edge_program.exported_program(method).graph_module
        outside += _count_compute_ops(graph_module)
        for node in graph_module.graph.nodes:
            if node.op != "call_function" or op_name(node.target) != "executorch_call_delegate":
                continue
            lowered = getattr(graph_module, node.args[0].target)
            if lowered.backend_id == XNNPACK_BACKEND_ID:
                summary.partitions += 1
                delegated += _count_compute_ops(lowered.original_module.graph_module)
            else:
                summary.other_backend_partitions += 1
    summary.delegated_ops = dict(sorted(delegated.items()))
    summary.non_delegated_ops = dict(sorted(outside.items()))
    return summary
