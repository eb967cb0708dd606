"""Which phone cores a runner is pinned to (``taskset``), checked before anything runs.

Why pin: a phone's scheduler moves threads between a slow and a fast cluster as it
likes, so two runs of the same model can measure different cores. Published SME2
numbers are single-core, and a fair A/B runs both sides on the same cores. The default
is the fastest cluster (by ``cpuinfo_max_freq``), widened to the next-fastest when an
experiment asks for more threads than it has; one thread gets one core of it.
"""
from __future__ import annotations

from sme2prof.errors import UserError
from sme2prof.pipeline.config import Config, Experiment


def core_list(target: dict) -> list[int] | None:
    """The device's cores (from its cpufreq clusters, else its CPU count), or None when unknown."""
    cores = sorted(c for cluster in target.get("cpu_clusters") or [] for c in cluster["cores"])
    if cores:
        return cores
    return list(range(target["cpu_count"])) if target.get("cpu_count") else None


def describe_cores(target: dict) -> str:
    """``cpu0-3 (2.27 GHz), cpu4-6 (3.15 GHz), cpu7 (3.30 GHz)`` or ``cpu0-7``."""
    clusters = target.get("cpu_clusters") or []
    if clusters:
        return ", ".join(f"{_span(c['cores'])} ({c['max_khz'] / 1e6:.2f} GHz)"
                         for c in sorted(clusters, key=lambda c: min(c["cores"])))
    cores = core_list(target)
    return _span(cores) if cores else "unknown (no device contacted)"


def check_affinity(config: Config, target: dict) -> None:
    """Refuse a core the device does not have, or more threads than pinned cores (one error, the core list)."""
    cores = core_list(target)
    where = target.get("description") or "the device"
    for exp in config.experiments:
        if exp.cpu_affinity is None:
            continue
        missing = [c for c in exp.cpu_affinity if cores is not None and c not in cores]
        if missing:
            raise UserError(f"experiment {exp.name!r}: cpu_affinity names core {missing[0]}, which {where} does "
                            f"not have (its cores: {describe_cores(target)})",
                            f"pick cores from that list, e.g. \"cpu_affinity\": [{cores[-1]}], or remove "
                            "cpu_affinity to pin to the fastest cluster")
        most = max(exp.threads)
        if most > len(exp.cpu_affinity):
            raise UserError(f"experiment {exp.name!r} runs {most} threads but cpu_affinity pins only "
                            f"{len(exp.cpu_affinity)} core(s) {list(exp.cpu_affinity)} (the device's cores: "
                            f"{describe_cores(target)})",
                            f"pin at least {most} cores, or lower \"threads\" to {len(exp.cpu_affinity)}")


def job_affinity(experiment: Experiment, threads: int, target: dict) -> tuple[list[int] | None, str]:
    """The cores one invocation is pinned to, and why (kept in the manifest next to the result)."""
    if experiment.cpu_affinity is not None:
        return list(experiment.cpu_affinity), "config cpu_affinity"
    clusters = target.get("cpu_clusters") or []
    if not clusters:
        return None, "not pinned: the device reports no cpufreq clusters"
    fastest = clusters[0]
    if threads == 1:
        return [fastest["cores"][0]], f"default: one core of the fastest cluster ({fastest['max_khz'] / 1e6:.2f} GHz)"
    cores: list[int] = []
    for cluster in clusters:
        if len(cores) >= threads:
            break
        cores += cluster["cores"]
    how = "the fastest cluster" if len(cores) == len(fastest["cores"]) else "the fastest clusters"
    return sorted(cores), f"default: {how} for {threads} threads"


def taskset_mask(cores: list[int]) -> str:
    """Hexadecimal CPU mask as Android's toybox ``taskset`` takes it: [7] -> ``80``."""
    return format(sum(1 << c for c in cores), "x")


def _span(cores: list[int]) -> str:
    if not cores:
        return "none"
    runs, start = [], cores[0]
    for prev, cur in zip(cores, cores[1:] + [None]):
        if cur is None or cur != prev + 1:
            runs.append(f"cpu{start}" if start == prev else f"cpu{start}-{prev}")
            start = cur
    return ", ".join(runs)
