"""The report's "Run conditions" section: how each comparison ran and what the CPU was doing.

Why in the report: a speedup means something only if both sides ran alike. The
pipeline keeps, per result, the cores it was pinned to, the governor, clocks and
temperatures before and after, and any cool-down wait (``pipeline/discipline.py``);
this section puts them next to each result and warns when one ran throttled (a core's
allowed maximum below its hardware maximum) or started hotter than the run's first
reading. It reads the manifests the analysis already loaded, so runs made before these
were recorded get no section.
"""
from __future__ import annotations

from sme2prof.analysis.rows import RunEntry


def run_conditions_lines(runs: list[RunEntry], manifests: dict[str, dict]) -> list[str]:
    """``manifests``: str(run dir) -> its manifest, as ``sources.collect_inputs`` keeps them."""
    lines: list[str] = []
    for run in runs:
        manifest = manifests.get(run.run_dir)
        if manifest is None or "schedule" not in manifest:
            continue
        lines += _run_lines(run.run_id, manifest, several=len(runs) > 1)
    return (["## Run conditions", ""] + lines) if lines else []


def _run_lines(run_id: str, manifest: dict, several: bool) -> list[str]:
    schedule = manifest.get("schedule") or {}
    cooldown = manifest.get("cooldown") or {}
    lines = [f"Run `{run_id}`:", ""] if several else []
    if schedule.get("pairs"):
        lines.append(f"- How the comparisons ran: **{schedule.get('kind')}**: {schedule.get('how')}.")
    if cooldown:
        lines.append("- Cool-down before each invocation: " + (
            f"wait up to {cooldown['max_seconds']} s for the CPU to return within {cooldown['margin_c']:g} °C "
            "of the run's first reading." if cooldown.get("max_seconds") else "none (readings recorded only)."))
    baseline = manifest.get("conditions_baseline") or {}
    results = [r for e in manifest.get("experiments") or [] for r in e.get("results") or []]
    if not any((r.get("conditions") or {}).get("available") or (r.get("conditions") or {}).get("cpu_affinity")
               for r in results):
        reason = baseline.get("reason") or "not recorded"
        return lines + [f"- CPU governor, frequencies and temperatures: unavailable here ({reason}).", ""]
    rows, warnings = [], []
    for exp in manifest.get("experiments") or []:
        for result in exp.get("results") or []:
            cond = result.get("conditions")
            if not cond:
                continue
            name = f"{exp.get('name')} t{result.get('threads')}"
            cores = cond.get("cpu_affinity")
            waits = cond.get("cooldown_waits_s") or []
            flags = []
            if cond.get("throttled_cores"):
                flags.append("throttled")
                warnings.append(f"**{name} ran throttled**: core(s) {cond['throttled_cores']} had their allowed "
                                "maximum frequency below the hardware maximum (scaling_max_freq < "
                                "cpuinfo_max_freq); its times are slower than the CPU can run")
            if cond.get("hotter_than_baseline_c") is not None:
                flags.append("hot")
                warnings.append(f"**{name} started {cond['hotter_than_baseline_c']:g} °C hotter than the run's "
                                f"first reading** ({cond.get('baseline_temp_c')} °C): the cool-down ran out; "
                                "compare it with care or raise cooldown.max_seconds")
            rows.append([name, f"{cores}" if cores is not None else "not pinned",
                         cond.get("before") or "—", cond.get("after") or "—",
                         f"{sum(waits):.0f} s" if waits else "—", ", ".join(flags) or "ok"])
    if rows:
        lines += ["", "| result | cores | before | after | cool-down | conditions |",
                  "|---|---|---|---|---|---|"] + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    lines += [""] + [f"- Warning: {w}." for w in warnings] + ([""] if warnings else [])
    return lines
