"""Read one ETDump with ExecuTorch's Inspector into plain per-event time series.

Why one module: the Inspector is the slow, noisy part (it shells out to ``flatc``), so it
is built exactly once per ETDump, its console noise is captured, and every failure mode a
user can cause (empty or truncated file, an ETRecord from another model) becomes a clear
message instead of a traceback. Everything downstream works on ``EtdumpData``.
"""
from __future__ import annotations

import contextlib
import logging
import os
import statistics
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from sme2prof.errors import UserError
from sme2prof.analysis.categories import is_native_call, native_op_name, strip_instance
from sme2prof.analysis.stats import COLD_FIRST_IQRS, cold_first

EXECUTE_EVENT = "Method::execute"
DELEGATE_CALL = "DELEGATE_CALL"
OPERATOR_CALL = "OPERATOR_CALL"
NO_ETRECORD_NOTE = "no ETRecord: operator-to-model-layer mapping unavailable"


@dataclass
class OperatorEvent:
    """One operator instance as it appears in every execution (after warm-up)."""

    event_name: str            # as in the ETDump: 'Convolution (NHWC, F32) IGEMM #3'
    name: str                  # without '#k'; non-delegated: 'native_layer_norm.out'
    delegated: bool
    partition: int             # instruction id: which DELEGATE_CALL/OPERATOR_CALL it sits in
    times_ms: list[float]
    starts: list[float] = field(default_factory=list)   # start of each execution, ETDump ticks (ns)


@dataclass
class Partition:
    """A DELEGATE_CALL or OPERATOR_CALL instruction and what the ETRecord says it holds."""

    instruction_id: int
    kind: str                  # DELEGATE_CALL | OPERATOR_CALL
    times_ms: list[float]
    starts: list[float] = field(default_factory=list)
    aten_ops: list[str] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)


@dataclass
class EtdumpData:
    path: str
    executions: int                    # recorded in the ETDump
    warmup_dropped: int
    operators: list[OperatorEvent]
    partitions: list[Partition]
    execute_ms: list[float]            # Method::execute per kept execution
    etrecord: str | None               # path actually used
    notes: list[str] = field(default_factory=list)   # things the reader should know
    execute_starts: list[float] = field(default_factory=list)
    warmup_note: str | None = None     # set when no warm-up was given and a cold first execution was dropped

    @property
    def kept(self) -> int:
        return len(self.execute_ms) if self.execute_ms else (
            len(self.operators[0].times_ms) if self.operators else 0)


@contextlib.contextmanager
def _captured_output() -> Iterator[list[str]]:
    """Send fd 1/2 (the Inspector's flatc subprocess writes there) to a buffer.

    Why file descriptors and not sys.stdout: flatc is a child process and inherits the
    real descriptors; its usage text on a bad file would otherwise bury our message.
    """
    captured: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield captured
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", errors="replace"))


class _LogCollector(logging.Handler):
    """Collects the Inspector's warnings (e.g. 'No delegate mapping found')."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


ETDUMP_IDENTIFIER = b"ED00"     # flatbuffer file identifier, after the 4-byte size prefix
NAMED_ETRECORD_FIX = ("pass the .etrecord written next to the .pte of the model that made this "
                      "ETDump (out/artifacts/<model>/), or leave --etrecord out")
TRUNCATED_FIX = "run that experiment again (an interrupted runner leaves a partial file)"


def etdump_problem(path: Path) -> UserError | None:
    """What makes ``path`` unusable as an ETDump, without loading the Inspector, or None.

    Why a header check: the runtime writes a size-prefixed flatbuffer ('ED00'), so a
    file cut short (an interrupted runner, a partial adb pull) declares more bytes than
    it holds. validate_results.py uses the same check, so both tools agree on 'usable'.
    """
    path = Path(path)
    if not path.is_file():
        return UserError(f"ETDump not found: {path}",
                         "run the pipeline again or pass the path of an existing .etdp/.etdump file")
    size = path.stat().st_size
    if size == 0:
        return UserError(f"ETDump is empty (0 bytes): {path}",
                         "the runner probably stopped before writing it; check runner.log "
                         "next to it and run that experiment again")
    with open(path, "rb") as handle:
        head = handle.read(12)
    declared = int.from_bytes(head[:4], "little") + 4 if len(head) >= 4 else None
    if len(head) < 12 or head[8:12] != ETDUMP_IDENTIFIER:
        return UserError(f"ETDump {path} has no ETDump header ('ED00'): the file is truncated "
                         f"or not an ETDump", TRUNCATED_FIX)
    if declared is not None and declared > size:
        return UserError(f"ETDump {path} holds {size} of its {declared} bytes: the file is "
                         f"truncated or not an ETDump", TRUNCATED_FIX)
    return None


def check_etdump_file(path: Path) -> None:
    """Fail early and clearly on a missing, empty or cut-short file (the Inspector would crash)."""
    problem = etdump_problem(path)
    if problem is not None:
        raise problem


_ETRECORD_CACHE: dict[tuple[str, int, int], object] = {}


def _load_etrecord(etrecord: Path, notes: list[str]):
    """Parse an ETRecord once per process: every experiment of a run shares the same one,
    and parsing it costs about as much as parsing an ETDump."""
    from executorch.devtools.etrecord import parse_etrecord
    stat = etrecord.stat()
    key = (str(etrecord.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _ETRECORD_CACHE:
        return _ETRECORD_CACHE[key]
    try:
        with _captured_output():
            parsed = parse_etrecord(etrecord_path=str(etrecord))
    except Exception as exc:  # any parse failure means: not a usable ETRecord
        notes.append(f"ETRecord {etrecord} could not be read ({type(exc).__name__}); "
                     f"{NO_ETRECORD_NOTE}")
        return None
    _ETRECORD_CACHE[key] = parsed
    return parsed


def _build_inspector(etdump: Path, etrecord_obj) -> tuple[object, list[str]]:
    from executorch.devtools import Inspector
    collector = _LogCollector()
    inspector_logger = logging.getLogger("executorch.devtools.inspector._inspector")
    root = logging.getLogger()
    for lg in (inspector_logger, root):
        lg.addHandler(collector)
    try:
        with _captured_output() as out:
            try:
                inspector = Inspector(etdump_path=str(etdump), etrecord=etrecord_obj)
            except Exception as exc:
                raise UserError(
                    f"ETDump {etdump} could not be parsed ({type(exc).__name__}): the file "
                    f"is truncated or not an ETDump", TRUNCATED_FIX) from None
    finally:
        for lg in (inspector_logger, root):
            lg.removeHandler(collector)
    del out
    return inspector, collector.messages


def _etrecord_mismatch(inspector, warnings_seen: list[str]) -> str | None:
    """Why this ETRecord does not describe this ETDump, or None when it fits.

    Two signals from real mismatches: the Inspector finds no delegate for a delegated
    event, or a portable kernel ('native_call_mean.out') is mapped to other aten ops.
    """
    if any("No delegate mapping found" in m for m in warnings_seen):
        return "its delegate map has no entry for a delegated operator in the ETDump"
    fits, misfits = 0, []
    for block in inspector.event_blocks:
        for event in block.events:
            if not is_native_call(event.name):
                continue
            op = native_op_name(event.name).split(".")[0].removeprefix("native_")
            types = event.op_types or []
            if any(op in t for t in types):
                fits += 1
            else:
                misfits.append(f"'{event.name}' maps to {types or 'nothing'}")
    # A few odd mappings happen in real exports (decompositions); most wrong means wrong file.
    if misfits and len(misfits) > fits:
        return f"ETDump kernel {misfits[0]} in the ETRecord"
    return None


class NamedFileUnusable(UserError):
    """A file the user named on the command line cannot be used.

    Why its own type: a problem in one result normally becomes a line under 'Problems'
    (partial analysis), but a file the user asked for by name must not be silently
    swapped for 'no ETRecord' — the whole analysis stops with exit 2 instead.
    """


def _unusable_etrecord(etrecord: Path, why: str) -> NamedFileUnusable:
    return NamedFileUnusable(f"--etrecord {etrecord} {why}", NAMED_ETRECORD_FIX)


def read_etdump(etdump: Path, etrecord: Path | None = None, warmup: int | None = 0,
                etrecord_named: bool = False) -> EtdumpData:
    """Parse ``etdump`` (optionally with ``etrecord``) and drop the first ``warmup`` runs.

    ``warmup`` None: drop the first execution only when it is cold (``stats.cold_first``).

    ``etrecord_named``: the user passed ``etrecord`` explicitly, so an unusable one is
    an error (NamedFileUnusable) rather than a note.
    """
    etdump = Path(etdump)
    check_etdump_file(etdump)
    notes: list[str] = []
    etrecord_obj = None
    used_etrecord: str | None = None
    if etrecord is not None and Path(etrecord).is_file():
        etrecord_obj = _load_etrecord(Path(etrecord), notes)
        if etrecord_obj is None and etrecord_named:
            raise _unusable_etrecord(Path(etrecord), "could not be read as an ETRecord")
    elif etrecord is not None:
        if etrecord_named:
            raise _unusable_etrecord(Path(etrecord), "does not exist")
        notes.append(f"ETRecord {etrecord} not found; {NO_ETRECORD_NOTE}")
    else:
        notes.append(NO_ETRECORD_NOTE)
    inspector, seen = _build_inspector(etdump, etrecord_obj)
    if etrecord_obj is not None:
        reason = _etrecord_mismatch(inspector, seen)
        if reason and etrecord_named:
            raise _unusable_etrecord(Path(etrecord), f"does not belong to this ETDump ({reason}): "
                                                     f"it is from a different model or export")
        if reason:
            notes.append(f"ETRecord {etrecord} does not belong to this ETDump ({reason}): "
                         f"it is from a different model or export; ignored, "
                         f"{NO_ETRECORD_NOTE}")
            inspector, _ = _build_inspector(etdump, None)
        else:
            used_etrecord = str(etrecord)
    return events_from_inspector(inspector, str(etdump), warmup, used_etrecord, notes)


def _raw(event) -> list[float]:
    perf = getattr(event, "perf_data", None)
    return [float(v) for v in perf.raw] if perf is not None and perf.raw is not None else []


def _starts(event) -> list[float]:
    starts = getattr(event, "start_time", None)
    return [float(v) for v in starts] if starts else []


def _layers(event) -> list[str]:
    """Model layers (module path and class) from the ETRecord's module hierarchy."""
    names: list[str] = []
    for hierarchy in (event.module_hierarchy or {}).values():
        if not hierarchy:
            continue
        path, cls = list(hierarchy.values())[-1]
        if not path:          # the root module says nothing about which layer it is
            continue
        label = f"{path} ({cls.rsplit('.', 1)[-1]})" if path else cls.rsplit(".", 1)[-1]
        if label not in names:
            names.append(label)
    return names


def events_from_inspector(inspector, path: str, warmup: int | None, etrecord: str | None,
                          notes: list[str]) -> EtdumpData:
    """Turn the Inspector's event blocks into per-execution series without warm-up."""
    operators: list[OperatorEvent] = []
    partitions: list[Partition] = []
    execute_raw: list[float] = []
    execute_starts: list[float] = []
    executions = 0
    for block in inspector.event_blocks:
        for event in block.events:
            raw = _raw(event)
            if event.name in ("Method::init", "Program::load_method"):
                continue
            executions = max(executions, len(raw))
            if event.name == EXECUTE_EVENT:
                execute_raw.extend(raw)
                execute_starts.extend(_starts(event))
            elif event.name in (DELEGATE_CALL, OPERATOR_CALL):
                partitions.append(Partition(int(event._instruction_id or 0), event.name, raw, _starts(event),
                                            list(event.op_types or []), _layers(event)))
            elif event.is_delegated_op:
                operators.append(OperatorEvent(event.name, strip_instance(event.name), True,
                                               int(event._instruction_id or 0), raw, _starts(event)))
            elif is_native_call(event.name):
                operators.append(OperatorEvent(event.name, native_op_name(event.name), False,
                                               int(event._instruction_id or 0), raw, _starts(event)))
            else:
                notes.append(f"event '{event.name}' is neither an operator nor a framework "
                             f"event; left out of operator time")
    warmup_note = None
    if warmup is None:
        first = execute_raw or [sum(t) for t in zip(*(op.times_ms for op in operators))]
        warmup = 1 if cold_first(first) else 0
        if warmup:
            rest = first[1:]
            warmup_note = (f"warm-up: dropped execution 1 of {executions} ({first[0]:.3f} ms; the others' "
                           f"median {statistics.median(rest):.3f} ms): a cold first execution (above the "
                           f"others' median + {COLD_FIRST_IQRS:g}×IQR); pass --warmup N to choose")
            notes.append(warmup_note)
    drop = warmup
    if executions and warmup >= executions:
        notes.append(f"the ETDump holds {executions} executions but warm-up is {warmup}; "
                     f"no warm-up dropped")
        drop = 0
    for item in (*operators, *partitions):
        item.times_ms, item.starts = item.times_ms[drop:], item.starts[drop:]
    return EtdumpData(path=path, executions=executions, warmup_dropped=drop,
                      operators=operators, partitions=partitions,
                      execute_ms=execute_raw[drop:], etrecord=etrecord, notes=notes,
                      execute_starts=execute_starts[drop:],
                      warmup_note=warmup_note if drop else None)
