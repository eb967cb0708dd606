"""Per-event exports for analysis elsewhere: timeline.csv and trace.json.

Why: the report aggregates (medians, shares); a person chasing one slow iteration or an
odd operator needs every event. ``timeline.csv`` has one line per event per kept
iteration, for a spreadsheet or pandas; ``trace.json`` is the Chrome trace-event format
that Perfetto (ui.perfetto.dev) and chrome://tracing open, with one process per
experiment and one track per thread count, operator spans inside their Method::execute.

Times: the ETDump's own start stamps (nanoseconds on the kit's runners), shifted so each
result starts at 0. XNNPACK stamps its operators one after the other from the operator
durations, so operator spans are exact in length and order, approximate in position.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from sme2prof.fileio import write_text_atomic
from sme2prof.analysis.categories import classify
from sme2prof.analysis.etdump_reader import EXECUTE_EVENT
from sme2prof.analysis.result_analysis import ResultAnalysis

TIMELINE_NAME = "timeline.csv"
TRACE_NAME = "trace.json"
TICKS_PER_US = 1000.0          # ETDump start stamps are nanoseconds


@dataclass
class Span:
    """One event of one kept iteration."""

    result: str
    experiment: str
    threads: int | None
    iteration: int             # 1 = the first iteration after warm-up
    kind: str                  # execute | DELEGATE_CALL | OPERATOR_CALL | operator
    name: str
    category: str
    start_us: float
    duration_us: float


def spans(res: ResultAnalysis) -> list[Span]:
    """Every event of every kept iteration of one result, in time order per iteration."""
    data = res.data
    if data is None:
        return []
    stamps = [s for s in (*data.execute_starts, *(p for o in data.operators for p in o.starts[:1])) if s]
    origin = min(stamps) if stamps else 0.0
    src = res.source
    events = [("execute", EXECUTE_EVENT, "", data.execute_ms, data.execute_starts)]
    events += [(p.kind, p.kind, "", p.times_ms, p.starts) for p in data.partitions]
    events += [("operator", o.event_name, classify(o.name, o.delegated).category, o.times_ms, o.starts)
               for o in data.operators]
    out: list[Span] = []
    iterations = max((len(times) for *_, times, _ in events), default=0)
    cursor = 0.0               # where an event without a start stamp is placed
    for i in range(iterations):
        for kind, name, category, times, starts in events:
            if i < len(times):
                start = (starts[i] - origin) / TICKS_PER_US if i < len(starts) else cursor
                out.append(Span(src.name, src.experiment, src.threads, i + 1, kind, name, category,
                                start, times[i] * 1000.0))
        if out:
            cursor = max(cursor, out[-1].start_us + out[-1].duration_us)
    return out


def timeline_csv(all_spans: list[Span]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["result", "experiment", "threads", "iteration", "kind", "event", "category",
                     "start_us", "duration_us"])
    for s in all_spans:
        writer.writerow([s.result, s.experiment, s.threads, s.iteration, s.kind, s.name, s.category,
                         f"{s.start_us:.3f}", f"{s.duration_us:.3f}"])
    return buf.getvalue()


def chrome_trace(all_spans: list[Span]) -> dict:
    """Trace-event JSON: process = experiment, track (tid) = thread count, "X" = complete span."""
    pids = {name: n for n, name in enumerate(dict.fromkeys(s.experiment for s in all_spans), 1)}
    events: list[dict] = []
    for experiment, pid in pids.items():
        events.append({"ph": "M", "name": "process_name", "pid": pid, "args": {"name": experiment}})
    for (experiment, threads) in dict.fromkeys((s.experiment, s.threads) for s in all_spans):
        label = f"{threads} thread{'s' if threads != 1 else ''}" if threads else "ETDump"
        events.append({"ph": "M", "name": "thread_name", "pid": pids[experiment], "tid": threads or 0,
                       "args": {"name": label}})
    for s in all_spans:
        events.append({"ph": "X", "name": s.name, "cat": s.category or s.kind, "pid": pids[s.experiment],
                       "tid": s.threads or 0, "ts": round(s.start_us, 3), "dur": round(s.duration_us, 3),
                       "args": {"iteration": s.iteration}})
    return {"traceEvents": events, "displayTimeUnit": "ms"}


def write_exports(analyses: list[ResultAnalysis], out_dir: Path) -> list[Path]:
    """timeline.csv and trace.json, or nothing when no result has ETDump events."""
    all_spans = [s for a in analyses for s in spans(a)]
    if not all_spans:
        return []
    return [write_text_atomic(out_dir / TIMELINE_NAME, timeline_csv(all_spans)),
            write_text_atomic(out_dir / TRACE_NAME, json.dumps(chrome_trace(all_spans), separators=(",", ":")))]
