"""The Android transport: the same pipeline, with adb between this machine and the phone.

Why only a transport: what makes a profile trustworthy (validation, runner guards,
warm-up + timed iterations in one process, manifest, Ctrl-C, resume) must not differ
between host and phone, so ``pipeline.py`` does all of it and this module only moves
files and commands (it is a ``Transport``, see ``transport.py``): push the .pte, the ``android-arm64-*`` runner and its
``libc++_shared.so`` to ``/data/local/tmp/sme2prof/``, run the runner with
``adb shell`` and executor_runner's flags (pinned with ``taskset`` to the job's cores),
pull the ETDump back, describe the device from ``getprop``, ``/proc/cpuinfo`` and its
cpufreq clusters, and read its governor, clocks and temperatures (``conditions.py``). A phone that disconnects mid-run fails
the result that was running and stops the run (earlier results stay; ``--resume``).
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from sme2prof.pipeline import conditions, rounds, run_layout
from sme2prof.pipeline.affinity import taskset_mask
from sme2prof.errors import UserError
from sme2prof.host_info import parse_proc_cpuinfo
from sme2prof.pipeline.config import Experiment
from sme2prof.pipeline.run import PIPELINE_SCRIPTS, log_tail, run_logged
from sme2prof.pipeline.transport import Job, TransportLost
from sme2prof.runners.spec import ResolvedRunner, runner_flags
from sme2prof.runners.registry import EMULATED_RUNNERS, PYBIND, WHEEL
from sme2prof.runners.resolve import check_target

DEVICE_ROOT = "/data/local/tmp/sme2prof"
ANDROID_PLATFORM = "android-arm64"
LIBCXX = "libc++_shared.so"
ADB_TIMEOUT_S = 120
_GETPROP_RE = re.compile(r"^\[(?P<key>[^\]]+)\]: \[(?P<value>.*)\]$")
_LOST_MARKERS = ("device not found", "no devices/emulators found", "device offline", "device unauthorized",
                 "error: closed", "device still authorizing")
_DEVICE_PROPS = {"manufacturer": "ro.product.manufacturer", "model": "ro.product.model",
                 "device": "ro.product.device", "android_release": "ro.build.version.release",
                 "sdk": "ro.build.version.sdk", "abi": "ro.product.cpu.abi", "soc_model": "ro.soc.model",
                 "soc_manufacturer": "ro.soc.manufacturer", "hardware": "ro.hardware",
                 "board_platform": "ro.board.platform", "build_fingerprint": "ro.build.fingerprint"}


def find_adb(option: str | None, required: bool = True) -> str | None:
    """adb from --adb, then $ADB, then PATH; None when absent and not ``required`` (a dry run)."""
    candidate = option or os.environ.get("ADB") or shutil.which("adb")
    if not candidate and not required:
        return None
    if not candidate:
        raise UserError("adb not found (no --adb, no $ADB, not on PATH)",
                        "install Android platform-tools and put adb on PATH, or pass --adb /path/to/adb")
    path = shutil.which(candidate) or candidate
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise UserError(f"adb is not an executable file: {candidate}", "pass --adb /path/to/platform-tools/adb")
    return path


def parse_getprop(text: str) -> dict[str, str]:
    """``adb shell getprop`` lines ``[ro.product.model]: [Pixel 9]`` -> dict."""
    props = {}
    for line in text.splitlines():
        match = _GETPROP_RE.match(line.strip())
        if match:
            props[match.group("key")] = match.group("value")
    return props


def describe_device(props: dict[str, str], cpuinfo: str, serial: str | None) -> dict:
    """The manifest's ``host`` block for a phone (same keys as a host description, plus device ones)."""
    model, features = parse_proc_cpuinfo(cpuinfo, "aarch64")
    device = {name: props.get(key) for name, key in _DEVICE_PROPS.items()}
    abi = device["abi"] or ""
    cpu_count = sum(1 for line in cpuinfo.splitlines() if line.lower().startswith("processor"))
    label = " ".join(p for p in (device["manufacturer"], device["model"]) if p) or "Android device"
    return {"os": "Android", "os_version": device["android_release"], "machine": abi,
            "platform": ANDROID_PLATFORM if abi.startswith("arm64") else f"android-{abi or 'unknown'}",
            "cpu_model": device["soc_model"] or device["board_platform"] or device["hardware"] or model,
            "cpu_count": cpu_count, "cpu_features": features,
            "cpu_features_source": "adb shell cat /proc/cpuinfo", "serial": serial, "device": device,
            "description": f"{label} (Android {device['android_release']}, {abi})"}


def unknown_device(serial: str | None) -> dict:
    """The target of a dry run that contacted no device: platform assumed, CPU unknown.

    ``cpu_features`` and ``cpu_count`` are None so the SME2 and thread checks that need
    the real CPU are left to the real run instead of failing or passing on a guess.
    """
    return {"os": "Android", "os_version": None, "machine": None, "platform": ANDROID_PLATFORM,
            "cpu_model": None, "cpu_count": None, "cpu_features": None, "cpu_features_source": None,
            "serial": serial, "device": None, "cpu_clusters": None,
            "description": "an Android device (unknown: not contacted)"}


class AndroidTransport:
    """Moves files and commands over adb; the pipeline does everything else."""

    kind = "android"
    script = PIPELINE_SCRIPTS[kind]
    pins_cores = True

    def __init__(self, adb: str | None, serial: str | None = None, dry_run: bool = False) -> None:
        self.adb = adb or "adb"
        self.serial = serial
        self.dry_run = dry_run
        # why a dry run did not talk to a device (shown with the plan); None once one answered
        self.offline_reason: str | None = None if adb else "adb not found: no --adb, no $ADB, not on PATH"
        self.run_id = "<run-id>"
        self._remote_binaries: dict[str, str] = {}
        self._logcat: dict[str, str] = {}

    # adb plumbing -----------------------------------------------------------------
    def _argv(self, *args: str) -> list[str]:
        return [self.adb, *(["-s", self.serial] if self.serial else []), *args]

    def _adb(self, *args: str, timeout: float = ADB_TIMEOUT_S) -> str:
        """Run one adb command; a vanished device raises TransportLost, anything else UserError."""
        try:
            proc = subprocess.run(self._argv(*args), capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TransportLost(f"adb {args[0]} did not answer within {timeout} s") from None
        # a phone's getprop or cpuinfo may hold bytes that are not UTF-8 (vendor strings)
        stdout = proc.stdout.decode("utf-8", errors="replace")
        output = stdout + proc.stderr.decode("utf-8", errors="replace")
        if proc.returncode != 0:
            lost = _lost_message(output)
            if lost:
                raise TransportLost(lost)
            last = (output.strip().splitlines() or ["no output"])[-1]
            raise UserError(f"adb {' '.join(args[:2])} failed: {last}", "check the phone and adb devices")
        return stdout

    # Transport interface ------------------------------------------------------------
    def describe(self) -> dict:
        if self.offline_reason:
            return unknown_device(self.serial)
        try:
            return self._describe_connected()
        except UserError as exc:
            if not self.dry_run:
                raise
            self.offline_reason = exc.message
            return unknown_device(self.serial)

    def _describe_connected(self) -> dict:
        try:
            props = parse_getprop(self._adb("shell", "getprop"))
            cpuinfo = self._adb("shell", "cat", "/proc/cpuinfo")
        except TransportLost as exc:
            raise UserError(f"no Android device reachable over adb ({exc})",
                            "connect the phone with USB debugging on (adb devices must list it), "
                            "or pass --serial when several are connected") from None
        except UserError as exc:
            if "more than one device" in exc.message:
                raise UserError("more than one Android device is connected",
                                "pick one with --serial (see adb devices)") from None
            raise
        device = describe_device(props, cpuinfo, self.serial)
        device["cpu_clusters"] = conditions.clusters(self.read_conditions())
        return device

    def read_conditions(self) -> dict:
        """One ``adb shell`` that prints the cpufreq and thermal files; unreadable ones are left out."""
        if self.offline_reason:
            return conditions.unavailable(self.offline_reason)
        try:
            return conditions.parse_snapshot(self._adb("shell", conditions.SNAPSHOT_SCRIPT))
        except UserError as exc:
            return conditions.unavailable(exc.message)

    def check_runner_name(self, experiment: Experiment) -> None:
        name = experiment.runner
        if name in (PYBIND, WHEEL, *EMULATED_RUNNERS) or (
                "/" not in name and not name.startswith(ANDROID_PLATFORM + "-")):
            raise UserError(f"experiment {experiment.name!r}: runner {name!r} cannot run on an Android phone",
                            f"use {ANDROID_PLATFORM}-sme2-on / -sme2-off (bash scripts/build_runners.sh "
                            f"--platform {ANDROID_PLATFORM}), or profile on this host with scripts/mac_pipeline.py")

    def check_runner(self, runner: ResolvedRunner, target: dict) -> None:
        check_target(runner, target, target_platform=ANDROID_PLATFORM)

    def _remote_runner_dir(self, runner: ResolvedRunner) -> str:
        return f"{DEVICE_ROOT}/runners/{runner.binary.parent.name}"

    def _remote_model(self, model: Path) -> str:
        return f"{DEVICE_ROOT}/{self.run_id}/{model.name}"

    def plan_lines(self, runners: list[ResolvedRunner], model: Path) -> list[str]:
        notes = [f"note: no device was contacted ({self.offline_reason}); the device is unknown, so its "
                 "SME2 support and CPU count are checked when the run starts"] if self.offline_reason else []
        lines = notes + [shlex.join(self._argv("push", str(model), self._remote_model(model)))]
        for runner in _unique(runners):
            for local in _runner_files(runner):
                lines.append(shlex.join(self._argv("push", str(local), f"{self._remote_runner_dir(runner)}/")))
        return lines

    def prepare(self, runners: list[ResolvedRunner], model: Path, run_id: str) -> None:
        self.run_id = run_id
        remote_model = self._remote_model(model)
        dirs = [f"{DEVICE_ROOT}/{run_id}"] + [self._remote_runner_dir(r) for r in _unique(runners)]
        self._adb("shell", "mkdir", "-p", *dirs)
        print(f"pushing {model.name} to {remote_model}", flush=True)
        self._adb("push", str(model), remote_model, timeout=600)
        for runner in _unique(runners):
            remote_dir = self._remote_runner_dir(runner)
            for local in _runner_files(runner):
                print(f"pushing {local.name} to {remote_dir}/", flush=True)
                self._adb("push", str(local), f"{remote_dir}/{local.name}", timeout=600)
            self._adb("shell", "chmod", "755", f"{remote_dir}/{runner.binary.name}")

    def _remote_result_dir(self, job: Job) -> str:
        folder = f"{DEVICE_ROOT}/{self.run_id}/{job.experiment.name}/t{job.threads}"
        return f"{folder}/{rounds.round_subdir(job)}".rstrip("/")

    def command(self, job: Job, model: Path, result_dir: Path) -> list[str]:
        remote_dir = self._remote_runner_dir(job.runner)
        flags = runner_flags(self._remote_model(model), f"{self._remote_result_dir(job)}/{run_layout.ETDUMP_NAME}",
                             job.num_executions, job.threads)
        pin = f"taskset {taskset_mask(job.cpu_affinity)} " if job.cpu_affinity else ""
        script = (f"mkdir -p {self._remote_result_dir(job)} && cd {remote_dir} && "
                  f"LD_LIBRARY_PATH={remote_dir} {pin}./{job.runner.binary.name} {shlex.join(flags)}")
        return self._argv("shell", script)

    def execute(self, job: Job, model: Path, result_dir: Path, log_file: Path) -> int:
        tracing = job.experiment.mode == "xnntrace"
        if tracing:
            self._adb("logcat", "-c")
        returncode = run_logged(self.command(job, model, result_dir), log_file, None,
                                job.experiment.timeout_seconds)
        lost = _lost_message(log_tail(log_file, 3)) if returncode != 0 else None
        if lost:
            raise TransportLost(lost)
        if tracing:
            self._logcat[job.label] = self._adb("logcat", "-d", "-s", "XNNPACK:V")
        remote_etdump = f"{self._remote_result_dir(job)}/{run_layout.ETDUMP_NAME}"
        try:
            self._adb("pull", remote_etdump, str(result_dir / run_layout.ETDUMP_NAME), timeout=600)
        except UserError as exc:  # no ETDump on the phone: the pipeline reports the runner's log
            with open(log_file, "a", encoding="utf-8") as log:
                log.write(f"\n(pipeline) could not pull {remote_etdump}: {exc.message}\n")
        return returncode

    def kernel_trace_extra(self, job: Job) -> str:
        return self._logcat.get(job.label, "")


def _lost_message(output: str) -> str | None:
    for marker in _LOST_MARKERS:
        if marker in output:
            return f"the Android device disconnected (adb: {marker})"
    return None


def _unique(runners: list[ResolvedRunner]) -> list[ResolvedRunner]:
    seen: dict[str, ResolvedRunner] = {}
    for runner in runners:
        seen.setdefault(str(runner.binary), runner)
    return list(seen.values())


def _runner_files(runner: ResolvedRunner) -> list[Path]:
    files = [runner.binary]
    libcxx = runner.binary.parent / LIBCXX
    if libcxx.is_file():
        files.append(libcxx)
    return files
