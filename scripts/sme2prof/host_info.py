"""Describe the machine a profile ran on, including the CPU features SME2 depends on.

Why: a timing means nothing without knowing whether the CPU could run SME2 kernels at
all. XNNPACK picks kernels from what the CPU reports, so we record what the CPU
reports, from the same sources the OS offers: ``/proc/cpuinfo`` (or ``getauxval``
hwcaps) on Linux and Android, ``sysctl hw.optional.arm`` on macOS. The parsers are pure
functions over text so they are tested on sample output from machines we do not have.
"""
from __future__ import annotations

import ctypes
import os
import platform
import subprocess
from pathlib import Path

# The features the pages talk about; every description carries all of them (True/False).
ARM_FEATURES = ("sme", "sme2", "sve", "sve2", "i8mm", "bf16", "dotprod", "fp16")
X86_FEATURES = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")

# /proc/cpuinfo "Features" flag -> our feature name (arm64 kernel names).
_LINUX_ARM_FLAGS = {"sme": "sme", "sme2": "sme2", "sve": "sve", "sve2": "sve2",
                    "i8mm": "i8mm", "bf16": "bf16", "asimddp": "dotprod", "asimdhp": "fp16"}

# sysctl hw.optional.arm.<name> -> our feature name (macOS on Apple silicon).
_MACOS_ARM_KEYS = {"FEAT_SME": "sme", "FEAT_SME2": "sme2", "FEAT_I8MM": "i8mm",
                   "FEAT_BF16": "bf16", "FEAT_DotProd": "dotprod", "FEAT_FP16": "fp16",
                   "FEAT_SVE": "sve", "FEAT_SVE2": "sve2"}

# arm64 hwcap bits (linux arch/arm64/include/uapi/asm/hwcap.h).
_AT_HWCAP, _AT_HWCAP2 = 16, 26
_HWCAP_BITS = {"fp16": (_AT_HWCAP, 10), "dotprod": (_AT_HWCAP, 20), "sve": (_AT_HWCAP, 22),
               "sve2": (_AT_HWCAP2, 1), "i8mm": (_AT_HWCAP2, 13), "bf16": (_AT_HWCAP2, 14),
               "sme": (_AT_HWCAP2, 23), "sme2": (_AT_HWCAP2, 37)}


def empty_features(machine: str) -> dict[str, bool]:
    names = ARM_FEATURES + (X86_FEATURES if _is_x86(machine) else ())
    return {name: False for name in names}


def parse_proc_cpuinfo(text: str, machine: str = "aarch64") -> tuple[str, dict[str, bool]]:
    """CPU model and feature flags from ``/proc/cpuinfo`` text (arm64 or x86_64 layout)."""
    features = empty_features(machine)
    model = ""
    flags: set[str] = set()
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        value = value.strip()
        if key in ("features", "flags") and not flags:
            flags = set(value.split())
        elif key in ("model name", "hardware", "cpu model") and not model:
            model = value
    for flag, name in _LINUX_ARM_FLAGS.items():
        if flag in flags:
            features[name] = True
    for name in X86_FEATURES:
        if name in flags:
            features[name] = True
    if not model:
        model = _arm_part_name(text)
    return model, features


def _arm_part_name(text: str) -> str:
    """arm64 /proc/cpuinfo has no model name: fall back to implementer/part ids."""
    ids = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("CPU implementer", "CPU part") and key.strip() not in ids:
            ids[key.strip()] = value.strip()
    if not ids:
        return ""
    return f"implementer {ids.get('CPU implementer', '?')} part {ids.get('CPU part', '?')}"


def parse_sysctl_arm(text: str) -> dict[str, bool]:
    """Features from ``sysctl hw.optional.arm`` output (lines ``hw.optional.arm.FEAT_SME2: 1``)."""
    features = empty_features("arm64")
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        name = key.strip().rsplit(".", 1)[-1]
        if name in _MACOS_ARM_KEYS and value.strip() == "1":
            features[_MACOS_ARM_KEYS[name]] = True
    return features


def features_from_hwcaps(hwcap: int, hwcap2: int) -> dict[str, bool]:
    """arm64 features from the two auxiliary-vector words the kernel hands every process."""
    words = {_AT_HWCAP: hwcap, _AT_HWCAP2: hwcap2}
    features = empty_features("aarch64")
    for name, (word, bit) in _HWCAP_BITS.items():
        features[name] = bool(words[word] >> bit & 1)
    return features


def _read_hwcaps() -> tuple[int, int] | None:
    try:
        libc = ctypes.CDLL(None)
        getauxval = libc.getauxval
    except (OSError, AttributeError):
        return None
    getauxval.restype = ctypes.c_ulong
    getauxval.argtypes = [ctypes.c_ulong]
    return int(getauxval(_AT_HWCAP)), int(getauxval(_AT_HWCAP2))


def _is_x86(machine: str) -> bool:
    return machine.lower() in ("x86_64", "amd64", "i686", "i386")


def _run(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _describe_linux(machine: str) -> tuple[str, dict[str, bool], str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    model, features = parse_proc_cpuinfo(text, machine)
    source = "/proc/cpuinfo"
    if not _is_x86(machine):
        caps = _read_hwcaps()
        if caps and any(caps):
            hw = features_from_hwcaps(*caps)
            features = {k: features.get(k, False) or hw.get(k, False) for k in features}
            source = "/proc/cpuinfo + getauxval(AT_HWCAP, AT_HWCAP2)"
    return model, features, source


def _describe_macos(machine: str) -> tuple[str, dict[str, bool], str]:
    model = _run(["sysctl", "-n", "machdep.cpu.brand_string"]).strip()
    if _is_x86(machine):
        return model, empty_features(machine), "sysctl (x86_64: no Arm features)"
    return model, parse_sysctl_arm(_run(["sysctl", "hw.optional.arm"])), "sysctl hw.optional.arm"


def host_platform() -> str:
    """This machine as a runner platform name: ``linux-x86_64``, ``macos-arm64``, ..."""
    system = platform.system().lower()
    machine = platform.machine().lower()
    os_name = "macos" if system == "darwin" else system
    arch = {"amd64": "x86_64", "arm64": "arm64" if os_name == "macos" else "aarch64",
            "aarch64": "aarch64" if os_name != "macos" else "arm64"}.get(machine, machine)
    return f"{os_name}-{arch}"


def describe_host() -> dict:
    """The manifest's ``host`` block for this machine."""
    system = platform.system()
    machine = platform.machine()
    if system == "Darwin":
        model, features, source = _describe_macos(machine)
        os_version = platform.mac_ver()[0]
    else:
        model, features, source = _describe_linux(machine)
        os_version = platform.release()
    return {"os": system, "os_version": os_version, "machine": machine,
            "platform": host_platform(), "cpu_model": model or platform.processor(),
            "cpu_count": os.cpu_count() or 1, "cpu_features": features,
            "cpu_features_source": source}


def executorch_version() -> dict:
    """ExecuTorch version and commit of the installed wheel (``None`` when unknown)."""
    try:
        from executorch import version  # type: ignore[import-not-found]
    except ImportError:
        return {"version": None, "git_commit": None}
    return {"version": getattr(version, "__version__", None),
            "git_commit": getattr(version, "git_version", None)}
