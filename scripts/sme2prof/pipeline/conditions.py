"""The CPU's conditions around a runner invocation: governor, frequencies, temperatures.

Why: a phone that heats up lowers its clocks, and a result measured throttled or hot is
not comparable with one measured cool. So before and after every invocation the
pipeline reads the same Linux ``/sys`` files on the phone (over one ``adb shell``) or on
this host (Linux), keeps the reading in the manifest, and the report warns about
results that ran throttled or hotter than the run's first reading. Where a file is
missing (macOS, containers, VMs) the reading says ``unavailable``, never fails a run.

A snapshot is JSON data::

    {"available": bool, "cpus": {"7": {"governor", "cur_khz", "max_khz", "cpuinfo_max_khz"}},
     "thermal": {"thermal_zone0": {"type", "temp_c"}}, "cpu_temp_c": hottest CPU zone (or any zone)}
"""
from __future__ import annotations

import glob
import re
from pathlib import Path

CPUFREQ_FILES = {"scaling_governor": "governor", "scaling_cur_freq": "cur_khz",
                 "scaling_max_freq": "max_khz", "cpuinfo_max_freq": "cpuinfo_max_khz"}
CPU_GLOB = "/sys/devices/system/cpu/cpu[0-9]*/cpufreq/"
THERMAL_GLOB = "/sys/class/thermal/thermal_zone*/"
# one shell line that prints "path=value" for every file above (run with adb shell on a phone)
SNAPSHOT_SCRIPT = (f"for f in {' '.join(CPU_GLOB + n for n in CPUFREQ_FILES)} {THERMAL_GLOB}type "
                   f"{THERMAL_GLOB}temp; do [ -r $f ] && echo \"$f=$(cat $f 2>/dev/null)\"; done; true")
_LINE_RE = re.compile(r"^/sys/(?:devices/system/cpu/cpu(?P<cpu>\d+)/cpufreq/(?P<cfile>\w+)"
                      r"|class/thermal/(?P<zone>thermal_zone\d+)/(?P<tfile>type|temp))=(?P<value>.*)$")
# thermal zone types that measure the CPU (Qualcomm cpu-1-0-0, cpuss-0; Tensor BIG/MID/LITTLE; x86 pkg)
_CPU_ZONE_RE = re.compile(r"cpu|^(big|mid|little)$|x86_pkg|soc", re.IGNORECASE)


def unavailable(reason: str) -> dict:
    return {"available": False, "reason": reason, "cpus": {}, "thermal": {}, "cpu_temp_c": None}


def parse_snapshot(text: str) -> dict:
    """``path=value`` lines (``SNAPSHOT_SCRIPT``'s output) -> a snapshot."""
    cpus: dict[str, dict] = {}
    zones: dict[str, dict] = {}
    for line in text.splitlines():
        match = _LINE_RE.match(line.strip())
        if not match:
            continue
        value = match.group("value").strip()
        if match.group("cpu") is not None and match.group("cfile") in CPUFREQ_FILES:
            key = CPUFREQ_FILES[match.group("cfile")]
            cpus.setdefault(match.group("cpu"), {})[key] = value if key == "governor" else _int(value)
        elif match.group("zone"):
            zone = zones.setdefault(match.group("zone"), {})
            if match.group("tfile") == "type":
                zone["type"] = value
            else:
                milli = _int(value)
                zone["temp_c"] = None if milli is None else round(milli / 1000 if abs(milli) > 500 else milli, 1)
    cpus = dict(sorted(cpus.items(), key=lambda kv: int(kv[0])))
    zones = dict(sorted(zones.items(), key=lambda kv: int(kv[0].removeprefix("thermal_zone"))))
    if not cpus and not zones:
        return unavailable("no cpufreq or thermal_zone files in /sys")
    return {"available": True, "cpus": cpus, "thermal": zones, "cpu_temp_c": cpu_temperature(zones)}


def read_local_snapshot() -> dict:
    """The same reading on this host (Linux ``/sys``); macOS has none: unavailable."""
    lines = []
    for pattern in [CPU_GLOB + name for name in CPUFREQ_FILES] + [THERMAL_GLOB + "type", THERMAL_GLOB + "temp"]:
        for path in glob.glob(pattern):
            try:
                lines.append(f"{path}={Path(path).read_text(errors='replace').strip()}")
            except OSError:
                continue
    return parse_snapshot("\n".join(lines))


def cpu_temperature(zones: dict[str, dict]) -> float | None:
    """The hottest CPU thermal zone (by its type), or the hottest zone when none names the CPU."""
    temps = [z["temp_c"] for z in zones.values() if z.get("temp_c") is not None]
    cpu = [z["temp_c"] for z in zones.values()
           if z.get("temp_c") is not None and _CPU_ZONE_RE.search(z.get("type") or "")]
    return max(cpu or temps) if (cpu or temps) else None


def clusters(snapshot: dict) -> list[dict]:
    """CPU clusters by maximum frequency, fastest first: ``[{"cores": [7], "max_khz": 3302400}, ...]``."""
    by_freq: dict[int, list[int]] = {}
    for core, info in (snapshot.get("cpus") or {}).items():
        if info.get("cpuinfo_max_khz"):
            by_freq.setdefault(info["cpuinfo_max_khz"], []).append(int(core))
    return [{"cores": sorted(cores), "max_khz": khz} for khz, cores in sorted(by_freq.items(), reverse=True)]


def throttled_cores(snapshot: dict | None, cores: list[int] | None) -> list[int]:
    """Cores (of ``cores``, or all) whose allowed maximum is below their hardware maximum."""
    cpus = (snapshot or {}).get("cpus") or {}
    wanted = [str(c) for c in cores] if cores else list(cpus)
    return [int(c) for c in wanted if c in cpus and cpus[c].get("max_khz") and cpus[c].get("cpuinfo_max_khz")
            and cpus[c]["max_khz"] < cpus[c]["cpuinfo_max_khz"]]


def brief(snapshot: dict | None, cores: list[int] | None = None) -> str:
    """One line for progress and the report: governor, clocks of the cores used, CPU temperature."""
    if not snapshot or not snapshot.get("available"):
        return "conditions unavailable" + (f" ({snapshot['reason']})" if snapshot and snapshot.get("reason") else "")
    cpus = snapshot["cpus"]
    used = [str(c) for c in cores if str(c) in cpus] if cores else list(cpus)
    parts = []
    governors = sorted({cpus[c].get("governor") for c in used if cpus[c].get("governor")})
    if governors:
        parts.append("governor " + "/".join(governors))
    clocks = [cpus[c]["cur_khz"] for c in used if cpus[c].get("cur_khz")]
    if clocks:
        parts.append(f"{max(clocks) / 1e6:.2f} GHz")
    if snapshot.get("cpu_temp_c") is not None:
        parts.append(f"{snapshot['cpu_temp_c']:.1f} °C")
    return ", ".join(parts) or "no cpufreq or temperature readings"


def _int(text: str) -> int | None:
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        return None
