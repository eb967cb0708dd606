"""Run aarch64 runners under ``qemu-aarch64`` to watch XNNPACK switch to SME/SME2 kernels.

Why: most readers have no SME2 hardware. QEMU's user-mode emulator runs the aarch64
wheel runner on any Linux x86_64 machine, and its ``-cpu`` option decides which
features the program sees: ``-cpu max`` includes SME (and SME2 once a QEMU release
emulates it), ``-cpu max,sme=off`` hides SME. XNNPACK picks its kernels from those
features at start, so the operator names in the ETDump change
(``Convolution (NHWC, PF32) IGEMM`` against ``Convolution (NHWC, F32) IGEMM``). That
dispatch evidence is real; the timings are not (emulation is tens of times slower and
not proportional to hardware), so every result is marked ``emulated``.

Two kinds run emulated: the wheel runner (``wheel-aarch64-emulated``) and any source-built
``linux-aarch64-*`` runner (or aarch64 binary path) whose experiment sets ``"cpu"``. The
emulated CPU gets a 512-bit streaming vector length unless the ``cpu`` string sets
``sme-default-vector-length`` itself (see ``qemu.effective_cpu``).

The features recorded for an experiment are probed *inside* the emulator: the kit's probe
(and the wheel runner started with ``--cpu_features``) prints the hwcaps the emulated kernel
ABI hands it (``getauxval``), the same source XNNPACK's cpuinfo reads, and the streaming
vector length. Nothing is assumed from the CPU string or the QEMU version.
"""
from __future__ import annotations

import copy
import functools
import re
from pathlib import Path

from sme2prof.errors import UserError
from sme2prof.fileio import read_json
from sme2prof.runners import qemu as qemu_tools
from sme2prof.runners.registry import DEFAULT_EMULATED, EMULATED_RUNNERS
from sme2prof.runners.spec import BUILD_INFO_NAME, ResolvedRunner
from sme2prof.runners.wheel_build import INSTALL_FIX, find_wheel_runner

EMULATED_KIND = DEFAULT_EMULATED
EMULATED_PLATFORM = EMULATED_RUNNERS[DEFAULT_EMULATED].platform
DEFAULT_CPU = "max"
QEMU = qemu_tools.QEMU
# Where Debian/Ubuntu's cross packages put the aarch64 loader, libc and libstdc++.
SYSROOT_CANDIDATES = (Path("/usr/aarch64-linux-gnu"),)
_CPU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.,=+-]*$")
ELF_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64", 0x28: "arm", 0x03: "x86"}


def resolve_emulated_runner(experiment: dict) -> ResolvedRunner:
    """The aarch64 wheel runner behind ``qemu-aarch64 -cpu <experiment["cpu"]>``."""
    cpu = str(experiment.get("cpu") or DEFAULT_CPU)
    prefix, build_info = _command_prefix(cpu)
    target = probe_emulated_cpu(cpu, prefix)
    binary = Path(prefix[-1])
    return ResolvedRunner(name=str(experiment.get("runner", EMULATED_KIND)), kind=EMULATED_KIND,
                          command_prefix=prefix, build_info=build_info, binary=binary,
                          logs_kernels=False, target=target, emulated=True)


def emulate_binary_runner(runner: ResolvedRunner, cpu: str | None) -> ResolvedRunner:
    """A source-built (or given) aarch64 runner, now started under ``qemu-aarch64 -cpu cpu``."""
    cpu = cpu or DEFAULT_CPU
    _check_cpu(cpu)
    assert runner.binary is not None
    machine = elf_machine(runner.binary)
    if machine != "aarch64":
        raise UserError(f"runner {runner.name!r} is built for {machine or 'no known architecture (not ELF)'}, "
                        f"so it cannot run under {QEMU} ({runner.binary})",
                        "give an aarch64 runner (bash scripts/build_runners.sh --platform linux-aarch64), "
                        "or remove \"cpu\" to run it natively")
    qemu = qemu_tools.find_qemu()
    qemu_cpu = qemu_tools.effective_cpu(cpu)
    runner.command_prefix = [qemu, "-cpu", qemu_cpu, "-L", str(_sysroot()), str(runner.binary)]
    runner.target = emulated_target(qemu, cpu)
    runner.emulated = True
    return runner


def emulated_target(qemu: str, cpu: str) -> dict:
    """Emulator, version, -cpu as given and as passed, features and vector length seen inside.

    Asked once per emulator and CPU in a process: several experiments on ``"cpu": "max"``
    would otherwise each start the emulator for ``--version`` and again for the probe.
    """
    return copy.deepcopy(_emulated_target(qemu, cpu))


@functools.lru_cache(maxsize=None)
def _emulated_target(qemu: str, cpu: str) -> dict:
    qemu_cpu = qemu_tools.effective_cpu(cpu)
    return {**qemu_tools.emulator_record(qemu), "cpu": cpu, "qemu_cpu": qemu_cpu,
            "platform": EMULATED_PLATFORM, **qemu_tools.probe_cpu(qemu, qemu_cpu)}


def elf_machine(binary: Path) -> str | None:
    """The architecture an ELF binary is built for (``aarch64``, ``x86_64`` ...), None if not ELF."""
    with open(binary, "rb") as handle:
        header = handle.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    order = "little" if header[5] == 1 else "big"
    code = int.from_bytes(header[18:20], order)
    return ELF_MACHINES.get(code, f"machine {code:#x}")


def probe_emulated_cpu(cpu: str, prefix: list[str] | None = None) -> dict:
    """Features of the emulated CPU ``cpu`` as a program inside the emulator sees them.

    Returns ``{"emulator", "qemu_version", "cpu", "qemu_cpu", "cpu_features": {sme, sme2, sve, ...},
    "cpu_features_source", "hwcap", "hwcap2", "sme_vector_length_bits", "runner_cpu_features"}``;
    the ``cpu_features`` keys are the manifest's host keys, so host and target compare.
    ``prefix`` is the already-built emulator command line of the wheel runner, whose own
    ``--cpu_features`` answer is kept as ``runner_cpu_features`` (it also proves the runner starts).
    """
    if prefix is None:
        prefix, _ = _command_prefix(cpu)
    parsed = parse_probe_output(qemu_tools.run_emulated(prefix + ["--cpu_features"], cpu, "the runner"))
    if parsed is None:
        raise UserError(f"the emulated runner printed no hwcaps line for -cpu {cpu!r}",
                        "rebuild it: bash scripts/build_runners.sh --wheel --platform linux-aarch64")
    _, _, line = parsed
    return {**emulated_target(prefix[0], cpu), "runner_cpu_features": line}


def parse_probe_output(text: str) -> tuple[int, int, dict[str, bool]] | None:
    """``(hwcap, hwcap2, {name: bool})`` from the runner's ``hwcaps:``/``cpu_features:`` lines."""
    caps = qemu_tools.parse_hwcaps(text)
    if caps is None:
        return None
    features: dict[str, bool] = {}
    line = re.search(r"^cpu_features:(.*)$", text, re.M)
    for pair in (line.group(1).split() if line else []):
        name, _, value = pair.partition("=")
        if value in ("0", "1"):
            features[name] = value == "1"
    return caps[0], caps[1], features


def qemu_version(qemu: str | None = None) -> str:
    return qemu_tools.qemu_version(qemu or qemu_tools.find_qemu())


def _check_cpu(cpu: str) -> None:
    if not _CPU_RE.match(cpu):
        raise UserError(f"invalid emulated cpu {cpu!r}",
                        "use a qemu-aarch64 CPU model with options, for example \"max\" or \"max,sme=off\"")


def _command_prefix(cpu: str) -> tuple[list[str], dict]:
    _check_cpu(cpu)
    qemu = qemu_tools.find_qemu()
    sysroot = _sysroot()
    binary = find_wheel_runner(EMULATED_PLATFORM)
    info_path = binary.parent / BUILD_INFO_NAME
    info = read_json(info_path) if info_path.is_file() else {}
    lib_dir = info.get("executorch_lib_dir")
    if not lib_dir or not Path(lib_dir).is_dir():
        raise UserError(f"the aarch64 ExecuTorch libraries the runner was built against are missing ({lib_dir})",
                        "bash scripts/build_runners.sh --wheel --platform linux-aarch64")
    prefix = [qemu, "-cpu", qemu_tools.effective_cpu(cpu), "-L", str(sysroot), "-E",
              f"LD_LIBRARY_PATH={lib_dir}", str(binary)]
    return prefix, info


def _sysroot() -> Path:
    for candidate in SYSROOT_CANDIDATES:
        if (candidate / "lib" / "ld-linux-aarch64.so.1").exists():
            return candidate
    raise UserError("no aarch64 sysroot found (/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1)",
                    INSTALL_FIX)
