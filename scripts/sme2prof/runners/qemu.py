"""Which ``qemu-aarch64`` the kit uses, and what an emulated CPU really exposes.

Why a probe and not the version string: whether ``-cpu max`` includes SME2 depends on the
QEMU release (11.1 has it, 10.0 stops at SME) and on how it was built, and XNNPACK decides
from the hwcaps the emulated kernel ABI reports. So the kit compiles a ten-line static
aarch64 program (``qemu_probe.c``) once, runs it under the emulator and reads the same
``getauxval(AT_HWCAP2)`` bits, plus the streaming vector length (``prctl(PR_SME_GET_VL)``).

Which emulator: ``$SME2PROF_QEMU`` when set (a path), else the one ``install_emulation_tools.sh``
put in ``out/tools/qemu/`` (taken out of Debian's qemu-user package) when present, otherwise
``qemu-aarch64`` on PATH.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from sme2prof.errors import UserError
from sme2prof.fileio import read_json
from sme2prof.host_info import features_from_hwcaps
from sme2prof.paths import OUT_DIR, display_path

QEMU = "qemu-aarch64"
QEMU_VARIABLE = "SME2PROF_QEMU"
KIT_QEMU_DIR = OUT_DIR / "tools" / "qemu"
KIT_QEMU = KIT_QEMU_DIR / QEMU
KIT_QEMU_RECORD = KIT_QEMU_DIR / "qemu-aarch64.json"
PROBE_SOURCE = Path(__file__).with_name("qemu_probe.c")
PROBE_DIR = OUT_DIR / "tools" / "probe"
CROSS_CC = "aarch64-linux-gnu-gcc"
PROBE_TIMEOUT_S = 60
INSTALL_FIX = "bash scripts/install_emulation_tools.sh"
# Streaming vector length the kit gives an emulated CPU unless the config says otherwise:
# 512 bits, what Apple M4 reports, so KleidiAI's tile sizes match a real SME2 machine.
DEFAULT_SVL_BYTES = 64
_SVL_OPTION = "sme-default-vector-length"


def find_qemu() -> str:
    """$SME2PROF_QEMU, else the kit's own QEMU when installed, else the one on PATH."""
    chosen = os.environ.get(QEMU_VARIABLE)
    if chosen:
        if not (Path(chosen).is_file() and os.access(chosen, os.X_OK)):
            raise UserError(f"{QEMU_VARIABLE}={chosen} is not an executable file", f"unset {QEMU_VARIABLE}, or "
                            "point it at a qemu-aarch64 binary")
        return chosen
    if KIT_QEMU.is_file():
        return str(KIT_QEMU)
    found = shutil.which(QEMU)
    if found is None:
        raise UserError(f"{QEMU} is not installed (needed for emulated aarch64 runners)", INSTALL_FIX)
    return found


def qemu_version(qemu: str) -> str:
    out = subprocess.run([qemu, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"version (\S+)", out)
    return match.group(1) if match else out.strip()


def emulator_record(qemu: str) -> dict:
    """Emulator path and version, plus the Debian package it came from when the kit installed it."""
    record = {"emulator": QEMU, "path": qemu, "qemu_version": qemu_version(qemu)}
    if Path(qemu) == KIT_QEMU and KIT_QEMU_RECORD.is_file():
        package = read_json(KIT_QEMU_RECORD)
        record["package"] = {k: package.get(k) for k in ("package", "version", "url", "sha256")}
    return record


def effective_cpu(cpu: str) -> str:
    """``cpu`` with the kit's default streaming vector length unless SME is off or it sets one."""
    options = cpu.split(",")[1:]
    if any(o.startswith(_SVL_OPTION + "=") for o in options) or "sme=off" in options:
        return cpu
    return f"{cpu},{_SVL_OPTION}={DEFAULT_SVL_BYTES}"


def probe_binary(probe_dir: Path = PROBE_DIR) -> Path:
    """The static aarch64 probe, compiled once per source version into ``probe_dir``."""
    digest = hashlib.sha256(PROBE_SOURCE.read_bytes()).hexdigest()[:12]
    binary = probe_dir / f"qemu-probe-{digest}"
    if binary.is_file():
        return binary
    compiler = shutil.which(CROSS_CC)
    if compiler is None:
        raise UserError(f"{CROSS_CC} is not installed (it builds the probe that asks the emulator "
                        "which CPU features it exposes)", INSTALL_FIX)
    probe_dir.mkdir(parents=True, exist_ok=True)
    partial = binary.with_suffix(".partial")
    result = subprocess.run([compiler, "-static", "-O2", "-o", str(partial), str(PROBE_SOURCE)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"building the aarch64 probe failed: {detail}",
                        "install the aarch64 cross toolchain with its static libc: " + INSTALL_FIX)
    partial.rename(binary)
    return binary


def parse_hwcaps(text: str) -> tuple[int, int] | None:
    """``(hwcap, hwcap2)`` from a ``hwcaps: hwcap=0x.. hwcap2=0x..`` line (the probe's and the
    wheel runner's ``--cpu_features`` print the same line), or None."""
    caps = re.search(r"^hwcaps: hwcap=0x([0-9a-fA-F]+) hwcap2=0x([0-9a-fA-F]+)\s*$", text, re.M)
    return (int(caps.group(1), 16), int(caps.group(2), 16)) if caps else None


def parse_probe(text: str) -> tuple[int, int, int] | None:
    """``(hwcap, hwcap2, sme_vector_length_bytes)`` from the probe's output, or None."""
    caps = parse_hwcaps(text)
    if caps is None:
        return None
    vl = re.search(r"^sme_vector_length_bytes: (\d+)", text, re.M)
    return caps[0], caps[1], int(vl.group(1)) if vl else 0


def run_emulated(command: list[str], cpu: str, what: str) -> str:
    """The standard output of ``command`` (an emulator command line running ``what`` with
    ``-cpu cpu``); an emulator that hangs, or refuses the CPU model, is one error with its fix."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise UserError(f"{command[0]} -cpu {cpu} did not answer within {PROBE_TIMEOUT_S} s",
                        f"check that the emulator runs: {command[0]} --version") from None
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"{command[0]} could not run {what} with -cpu {cpu!r}: {detail}",
                        "use a CPU model qemu-aarch64 knows, for example \"max\" or \"max,sme=off\" "
                        "(list them: qemu-aarch64 -cpu help)")
    return result.stdout


def probe_cpu(qemu: str, cpu: str, probe_dir: Path = PROBE_DIR) -> dict:
    """What a program under ``qemu -cpu cpu`` sees: features, hwcaps and streaming vector length."""
    parsed = parse_probe(run_emulated([qemu, "-cpu", cpu, str(probe_binary(probe_dir))], cpu, "the probe"))
    if parsed is None:
        raise UserError(f"the probe printed no hwcaps line under {qemu} -cpu {cpu!r}",
                        f"rebuild it: rm -rf {display_path(probe_dir)}, then run this again")
    hwcap, hwcap2, vl_bytes = parsed
    return {"cpu_features": features_from_hwcaps(hwcap, hwcap2), "hwcap": hex(hwcap), "hwcap2": hex(hwcap2),
            "sme_vector_length_bits": vl_bytes * 8,
            "cpu_features_source": f"getauxval(AT_HWCAP, AT_HWCAP2) inside {QEMU} -cpu {cpu}"}


def has_sme2(qemu: str, probe_dir: Path = PROBE_DIR) -> bool:
    """Whether ``-cpu max`` of this emulator exposes SME2 to programs."""
    return bool(probe_cpu(qemu, "max", probe_dir)["cpu_features"].get("sme2"))
