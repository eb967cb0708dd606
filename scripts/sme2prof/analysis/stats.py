"""Latency statistics: the numbers a person needs to trust (or distrust) a timing.

Median and p10/p90 describe the typical run and its spread without being pulled by one
outlier; p95/p99 show the tail a user feels; the trimmed mean (10 % cut at each end) is
a mean that a few outliers cannot move; the outlier count uses the IQR rule (outside
Q1 − 1.5·IQR .. Q3 + 1.5·IQR). The coefficient of variation (std/mean) says whether two
results can be compared at all: above ``NOISY_CV`` the difference may be noise.

Comparisons get a confidence interval from ``speedup_interval``: a percentile bootstrap
of the ratio of medians over iterations (see its docstring for why).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

NOISY_CV = 0.05
TRIM = 0.10                    # trimmed mean: this fraction cut at each end
IQR_FENCE = 1.5                # Tukey's outlier fences
COLD_FIRST_IQRS = 3.0          # a first execution this many IQRs above the median is cold

# XNNPACK times each operator call in whole microseconds (its profiler's clock), so an
# operator figure below this is below what the timer can tell apart from zero.
OPERATOR_RESOLUTION_MS = 0.001
RESOLUTION_US = f"{OPERATOR_RESOLUTION_MS * 1000:g} µs"      # how pages and reports say it

CONFIDENCE = 0.95              # each comparison's family of intervals holds at this level
# The smallest difference a comparison reports. Why not 0: two identical runs on one
# computer differ by several percent as a whole process (memory placement, clock
# frequency, other programs), and an interval over one process's iterations cannot see
# that; A/A runs of mobilenet_v3_small on a busy 2-core machine showed single operators
# 10–13 % apart with intervals that excluded 1. So a speedup is claimed only when its
# whole interval is beyond 1 ± MIN_EFFECT.
MIN_EFFECT = 0.10
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20251         # fixed: the same data gives the same interval, every time


@dataclass(frozen=True)
class LatencyStats:
    """One result's end-to-end latency; all None (count 0) when nothing was timed."""

    count: int = 0
    median_ms: float | None = None
    p10_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    mean_ms: float | None = None
    trimmed_mean_ms: float | None = None
    std_ms: float | None = None
    cv: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    outliers: int | None = None
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


def iqr(values: Sequence[float]) -> float:
    return percentile(values, 75) - percentile(values, 25)


def trimmed_mean(values: Sequence[float], trim: float = TRIM) -> float:
    """Mean of the values left after cutting ``trim`` of them at each end."""
    ordered = sorted(values)
    cut = int(len(ordered) * trim)
    kept = ordered[cut:len(ordered) - cut] or ordered
    return statistics.fmean(kept)


def outlier_count(values: Sequence[float]) -> int:
    """Values outside Q1 − 1.5·IQR .. Q3 + 1.5·IQR (Tukey's rule)."""
    q1, q3 = percentile(values, 25), percentile(values, 75)
    low, high = q1 - IQR_FENCE * (q3 - q1), q3 + IQR_FENCE * (q3 - q1)
    return sum(1 for v in values if v < low or v > high)


def latency_stats(values_ms: Sequence[float]) -> LatencyStats:
    """Every statistic of the latency table, and the noisy flag."""
    values = [float(v) for v in values_ms]
    if not values:
        return LatencyStats()
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    cv = std / mean if mean > 0 else 0.0
    return LatencyStats(count=len(values), median_ms=statistics.median(values),
                        p10_ms=percentile(values, 10), p90_ms=percentile(values, 90),
                        p95_ms=percentile(values, 95), p99_ms=percentile(values, 99),
                        mean_ms=mean, trimmed_mean_ms=trimmed_mean(values), std_ms=std, cv=cv,
                        min_ms=min(values), max_ms=max(values), outliers=outlier_count(values),
                        noisy=cv > NOISY_CV)


def cold_first(values_ms: Sequence[float]) -> bool:
    """Is the first execution cold: above the others' median + 3·IQR?

    Why this rule: a cold first execution (caches, page faults, XNNPACK's lazy packing)
    is typically several times the others, far outside their spread; 3·IQR is Tukey's
    "far out" fence, so ordinary variation does not trigger it. Needs 4+ executions.
    """
    if len(values_ms) < 4:
        return False
    rest = list(values_ms[1:])
    return values_ms[0] > statistics.median(rest) + COLD_FIRST_IQRS * iqr(rest)


def calls_resolved(calls_ms: Sequence[float]) -> bool:
    """Is the median of these operator calls at least the timer resolution (else the figure
    is mostly 0s and 1s)? The rule of operators.csv's ``resolved`` column and of comparisons.

    (A tolerance of 1 ns absorbs float sums: 0.001 + 0.001 is not exactly 0.002.)
    """
    return bool(calls_ms) and statistics.median(calls_ms) >= OPERATOR_RESOLUTION_MS - 1e-9


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the divisor is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


MEDIAN = "median"
INTERQUARTILE_MEAN = "interquartile mean"     # the mean of the middle half (25 % cut at each end)
_TRIMS = {INTERQUARTILE_MEAN: 0.25}


def _centres(samples, statistic: str):
    """The statistic of each bootstrap sample (one per row)."""
    import numpy as np

    if statistic == MEDIAN:
        return np.median(samples, axis=1)
    ordered = np.sort(samples, axis=1)
    cut = int(samples.shape[1] * _TRIMS[statistic])
    return ordered[:, cut:samples.shape[1] - cut].mean(axis=1)


def centre(values: Sequence[float], statistic: str) -> float:
    """The statistic a speedup is a ratio of: the median, or the interquartile mean."""
    return statistics.median(values) if statistic == MEDIAN else trimmed_mean(values, _TRIMS[statistic])


def speedup_interval(a_values: Sequence[float], b_values: Sequence[float],
                     confidence: float = CONFIDENCE, statistic: str = MEDIAN) -> tuple[float, float] | None:
    """Interval for speedup = centre(B) / centre(A): percentile bootstrap over iterations.

    Why this one: the centre is what the report quotes (the median end to end, the
    interquartile mean for operators, see compare.py), both robust to slow iterations;
    latencies are skewed, so no normal approximation; the percentile bootstrap needs no
    model of the distribution and works for a ratio. Each side's iterations are
    resampled independently (A and B are separate runs), ``BOOTSTRAP_RESAMPLES`` times,
    with a fixed seed so the same data always prints the same interval. What it does not
    cover: a change of conditions between the two runs (another load on the machine
    while only one ran); that is what ``MIN_EFFECT`` and an A/A comparison are for.
    None when a side has fewer than 3 iterations or a centre is 0.
    """
    import numpy as np

    a = np.asarray(a_values, dtype=float)
    b = np.asarray(b_values, dtype=float)
    if len(a) < 3 or len(b) < 3:
        return None
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    a_c = _centres(a[rng.integers(0, len(a), (BOOTSTRAP_RESAMPLES, len(a)))], statistic)
    b_c = _centres(b[rng.integers(0, len(b), (BOOTSTRAP_RESAMPLES, len(b)))], statistic)
    if (a_c <= 0).any():
        return None
    ratios = b_c / a_c
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return float(low), float(high)
