"""Latency statistics: the numbers a person needs to trust (or distrust) a timing.

Median and p10/p90 describe the typical run and its spread without being pulled by one
outlier; the coefficient of variation (std/mean) says whether two results can be
compared at all: above ``NOISY_CV`` the difference may be noise.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

NOISY_CV = 0.05


@dataclass(frozen=True)
class LatencyStats:
    """One result's end-to-end latency; all None (count 0) when nothing was timed."""

    count: int = 0
    median_ms: float | None = None
    p10_ms: float | None = None
    p90_ms: float | None = None
    mean_ms: float | None = None
    std_ms: float | None = None
    cv: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    noisy: bool | None = None


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def latency_stats(values_ms: Sequence[float]) -> LatencyStats:
    """Median, p10, p90, mean, std, cv, min, max, count, and the noisy flag."""
    values = [float(v) for v in values_ms]
    if not values:
        return LatencyStats()
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    cv = std / mean if mean > 0 else 0.0
    return LatencyStats(count=len(values), median_ms=statistics.median(values),
                        p10_ms=percentile(values, 10), p90_ms=percentile(values, 90),
                        mean_ms=mean, std_ms=std, cv=cv, min_ms=min(values),
                        max_ms=max(values), noisy=cv > NOISY_CV)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the divisor is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator
