"""Wait, before a runner invocation, until the CPU is back near the run's first temperature.

Why: the second experiment on a phone otherwise starts where the first left it, hot
and possibly throttled, and the comparison measures the heat. The wait is bounded
(``cooldown.max_seconds``) and its outcome is kept in the manifest, so a result that
started hot is visible rather than silently slower.
"""
from __future__ import annotations

import time
from typing import Callable

from sme2prof.pipeline.config import DEFAULT_PHONE_COOLDOWN_S, Cooldown

POLL_SECONDS = 1.0


def max_wait(cooldown: Cooldown, kind: str) -> int:
    """The configured bound, or the default: phones wait, hosts (fans, servers) only record."""
    if cooldown.max_seconds is not None:
        return cooldown.max_seconds
    return DEFAULT_PHONE_COOLDOWN_S if kind == "android" else 0


def wait_until_cool(read_temp: Callable[[], float | None], baseline_c: float | None, margin_c: float,
                    limit_s: float, sleep: Callable[[float], None] = time.sleep) -> dict:
    """Poll the CPU temperature until it is within ``margin_c`` of ``baseline_c`` or ``limit_s`` passed.

    Returns what happened, for the manifest: ``{"waited_s", "from_c", "to_c", "target_c", "reached"}``
    (``reached`` None when there is no temperature to wait for).
    """
    first = read_temp()
    start = time.monotonic()                       # the wait, not the reading that decides it
    if first is None or baseline_c is None:
        return {"waited_s": 0.0, "from_c": first, "to_c": first, "target_c": None, "reached": None,
                "note": "no CPU temperature on this device: no cool-down"}
    target = round(baseline_c + margin_c, 1)
    current = first
    while current is not None and current > target and time.monotonic() - start < limit_s:
        sleep(min(POLL_SECONDS, max(0.0, limit_s - (time.monotonic() - start))))
        current = read_temp()
    return {"waited_s": round(time.monotonic() - start, 2), "from_c": first, "to_c": current,
            "target_c": target, "reached": current is not None and current <= target}
