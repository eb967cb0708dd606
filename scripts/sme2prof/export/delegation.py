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
    split_ops: dict[str, int] = field(default_factory=dict)   # outside ops between two delegates

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


def _is_delegate_call(node) -> bool:
    return node.op == "call_function" and op_name(node.target) == "executorch_call_delegate"


def _ops_between_delegates(graph_module) -> Counter:
    """Outside operators that take a delegate's output and feed another delegate.

    Why these: they are what cut the graph in two. Each one ends a partition (its input
    has to leave the delegate) and starts another, which costs a delegate call and a copy
    of the tensor across the boundary at every inference. Outside operators at the edges
    of the program (an input cast, an output reshape) split nothing and are not counted.
    """
    nodes = [n for n in graph_module.graph.nodes if n.op == "call_function"]
    after_delegate: set = set()          # reached from a delegate's output
    for node in nodes:                   # graph order is topological
        if any(_is_delegate_call(i) or i in after_delegate for i in node.all_input_nodes):
            after_delegate.add(node)
    before_delegate: set = set()         # reaches a delegate's input
    for node in reversed(nodes):
        if any(_is_delegate_call(u) or u in before_delegate for u in node.users):
            before_delegate.add(node)
    counts: Counter = Counter()
    for node in nodes:
        name = op_name(node.target)
        if name not in _NOT_COMPUTE and node in after_delegate and node in before_delegate:
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
    split: Counter = Counter()
    for method in edge_program.methods:
        graph_module = edge_program.exported_program(method).graph_module
        outside += _count_compute_ops(graph_module)
        split += _ops_between_delegates(graph_module)
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
    summary.split_ops = dict(sorted(split.items())) if summary.partitions > 1 else {}
    return summary


def fragmentation_warning(partitions: int, split_ops: dict[str, int]) -> str | None:
    """One sentence when the program has more than one XNNPACK partition, else None.

    Shared by the export summary and the export record, so both say the same thing.
    """
    if partitions <= 1:
        return None
    named = ", ".join(f"{op} x{n}" for op, n in split_ops.items()) or "operators outside XNNPACK"
    return (f"the program is split into {partitions} XNNPACK partitions by {named}: each "
            f"boundary is a delegate call and a tensor copy at every inference; rewrite those "
            f"operators in the model package (see models/readme.md)")
