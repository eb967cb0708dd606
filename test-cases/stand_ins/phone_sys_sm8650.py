"""The /sys files the stand-in adb answers with: a Snapdragon 8 Gen 3 (SM8650) phone's layout.

Which phone: the CPU layout of a Snapdragon 8 Gen 3 phone (Galaxy S24 / OnePlus 12 class),
four cpufreq policies, fastest last:

    cpu0-1  Cortex-A520   cpuinfo_max_freq 2265600 kHz
    cpu2-4  Cortex-A720   cpuinfo_max_freq 3148800 kHz
    cpu5-6  Cortex-A720   cpuinfo_max_freq 2956800 kHz
    cpu7    Cortex-X4     cpuinfo_max_freq 3302400 kHz   (the prime core)

governor ``walt`` (Qualcomm's Android kernels), and thermal zones named the way those
kernels name them (``cpu-<cluster>-<core>-<sensor>``, ``cpuss-<n>``, ``gpuss-<n>``, board
sensors); the list is a subset, temperatures in millidegrees Celsius as the kernel gives
them. The clocks are the SoC's published maximums, not a dump from one unit.

A small thermal model makes the cool-down testable: every runner invocation heats the
CPU zones by ``FAKE_ADB_HEAT_C`` (default 0: a phone that stays cool), which decays at
``FAKE_ADB_COOL_C_PER_S`` (default 2); ``FAKE_ADB_THROTTLE=1`` caps the prime core and
the A720s (``scaling_max_freq`` below ``cpuinfo_max_freq``) once a runner has run.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

CLUSTERS = [((0, 1), 2265600, 1228800), ((2, 3, 4), 3148800, 1555200),
            ((5, 6), 2956800, 1555200), ((7,), 3302400, 1996800)]       # (cores, max kHz, current kHz)
THROTTLED_KHZ = {2: 2496000, 3: 2496000, 4: 2496000, 5: 2496000, 6: 2496000, 7: 2649600}
ZONES = ["aoss-0", "cpu-0-0-0", "cpu-0-1-0", "cpu-1-0-0", "cpu-1-1-0", "cpu-1-2-0", "cpu-1-3-0",
         "cpu-1-4-0", "cpu-1-5-0", "cpu-1-6-0", "cpuss-0", "gpuss-0", "xo-therm", "battery"]
AMBIENT_C = 31.0


def _state(root: Path) -> dict:
    path = root / "phone-state.json"
    return json.loads(path.read_text()) if path.exists() else {"heat_c": 0.0, "at": time.time(), "runs": 0}


def cpu_heat(root: Path) -> float:
    """Degrees above ambient now: what the runs added, minus what has cooled off since."""
    state = _state(root)
    cool = float(os.environ.get("FAKE_ADB_COOL_C_PER_S", "2"))
    return max(0.0, state["heat_c"] - cool * (time.time() - state["at"]))


def runner_ran(root: Path) -> None:
    state = {"heat_c": cpu_heat(root) + float(os.environ.get("FAKE_ADB_HEAT_C", "0")), "at": time.time(),
             "runs": _state(root)["runs"] + 1}
    (root / "phone-state.json").write_text(json.dumps(state))


def write_sys(root: Path) -> None:
    """(Re)write ``root/sys`` as the phone's /sys is right now."""
    heat = cpu_heat(root)
    throttled = os.environ.get("FAKE_ADB_THROTTLE") and _state(root)["runs"] > 0
    for cores, max_khz, cur_khz in CLUSTERS:
        for core in cores:
            folder = root / f"sys/devices/system/cpu/cpu{core}/cpufreq"
            folder.mkdir(parents=True, exist_ok=True)
            cap = THROTTLED_KHZ.get(core, max_khz) if throttled else max_khz
            for name, value in (("scaling_governor", "walt"), ("cpuinfo_max_freq", max_khz),
                                ("scaling_max_freq", cap), ("scaling_cur_freq", min(cur_khz, cap))):
                (folder / name).write_text(f"{value}\n")
    for index, name in enumerate(ZONES):
        folder = root / f"sys/class/thermal/thermal_zone{index}"
        folder.mkdir(parents=True, exist_ok=True)
        board = name in ("xo-therm", "battery")
        temp = AMBIENT_C + (heat * 0.2 if board else heat) + (0.0 if board else index * 0.1)
        (folder / "type").write_text(f"{name}\n")
        (folder / "temp").write_text(f"{round(temp * 1000)}\n")
