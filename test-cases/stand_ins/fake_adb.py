#!/usr/bin/env python3
"""Stand-in for ``adb`` with a phone attached, for testing android_pipeline.py without a phone.

What it emulates, and nothing more: ``/data/local/tmp`` on the "device" is the local
folder ``$FAKE_ADB_ROOT/data/local/tmp``; ``push``/``pull`` copy files there;
``shell CMD`` runs CMD on this host with those paths rewritten (so the pushed runner,
a host binary in the tests, really runs); ``shell getprop`` and ``shell cat
/proc/cpuinfo`` print a recorded SME2 phone's answers; reads of ``/sys`` see the phone
layout of ``phone_sys_sm8650.py``; ``taskset MASK`` is recorded in ``taskset.log`` and
the command runs unpinned; ``logcat`` is empty.

Failure modes the pipeline must handle:
  FAKE_ADB_NO_DEVICE=1             every command fails with "error: no devices/emulators found"
  FAKE_ADB_DISCONNECT_AFTER=N      the N+1-th runner invocation and every later command fail
                                   with "error: device not found" (unset it to "reconnect")
  FAKE_ADB_BAD_BYTES=1             getprop and /proc/cpuinfo answers hold bytes that are not UTF-8
                                   (as some vendors' property values do)
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import phone_sys_sm8650 as phone_sys  # noqa: E402

TASKSET_RE = re.compile(r"\btaskset ([0-9a-fA-F]+) ")

DEVICE_TMP = "/data/local/tmp"
GETPROP = """[ro.product.manufacturer]: [FakeVendor]
[ro.product.model]: [SME2 Test Phone]
[ro.product.device]: [fakephone]
[ro.build.version.release]: [15]
[ro.build.version.sdk]: [35]
[ro.product.cpu.abi]: [arm64-v8a]
[ro.soc.model]: [FAKE-SOC-9]
[ro.hardware]: [fake]
"""
CPUINFO = "".join(f"""processor\t: {i}
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp sve i8mm bf16 sve2 sme sme2
CPU implementer\t: 0x41
CPU part\t: 0xd85

""" for i in range(8))


def local(path: str, root: Path) -> str:
    return path.replace(DEVICE_TMP, str(root / DEVICE_TMP.lstrip("/")))


def gone(message: str = "error: device not found") -> int:
    print(message, file=sys.stderr)
    return 1


def shell(args: list[str], root: Path) -> int:
    command = " ".join(args)
    bad = b"[ro.vendor.name]: [\xff\xfe\xc3(vendor\x80]\n" if os.environ.get("FAKE_ADB_BAD_BYTES") else b""
    if command.strip() == "getprop":
        sys.stdout.buffer.write(GETPROP.encode() + bad)
        return 0
    if command.strip() == "cat /proc/cpuinfo":
        sys.stdout.buffer.write(CPUINFO.encode() + bad.replace(b"[ro.vendor.name]: ", b"Hardware\t: "))
        return 0
    if "--model_path" in command:  # a runner invocation: count it for FAKE_ADB_DISCONNECT_AFTER
        counter = root / "runner-invocations"
        count = int(counter.read_text()) if counter.exists() else 0
        limit = os.environ.get("FAKE_ADB_DISCONNECT_AFTER")
        if limit is not None and count >= int(limit):
            (root / "disconnected").write_text("the cable was pulled here\n")
            return gone()
        counter.write_text(str(count + 1))
        mask = TASKSET_RE.search(command)
        with open(root / "taskset.log", "a") as log:
            log.write(f"{mask.group(1) if mask else '-'}\n")
        command = TASKSET_RE.sub("", command)
        code = subprocess.run(["sh", "-c", local(command, root)]).returncode
        phone_sys.runner_ran(root)
        return code
    if "/sys/" in command:           # the phone's /sys, answered with the phone's paths
        phone_sys.write_sys(root)
        proc = subprocess.run(["sh", "-c", command.replace("/sys/", f"{root}/sys/")], capture_output=True,
                              text=True)
        sys.stdout.write(proc.stdout.replace(f"{root}/sys/", "/sys/"))
        return proc.returncode
    return subprocess.run(["sh", "-c", local(command, root)]).returncode


def main(argv: list[str]) -> int:
    root = Path(os.environ["FAKE_ADB_ROOT"])
    (root / DEVICE_TMP.lstrip("/")).mkdir(parents=True, exist_ok=True)
    if argv[:1] == ["-s"]:
        argv = argv[2:]
    if os.environ.get("FAKE_ADB_NO_DEVICE"):
        return gone("error: no devices/emulators found")
    if os.environ.get("FAKE_ADB_DISCONNECT_AFTER") is not None and (root / "disconnected").exists():
        return gone()
    verb, rest = (argv[0], argv[1:]) if argv else ("", [])
    if verb == "shell":
        return shell(rest, root)
    if verb == "push":
        dst = Path(local(rest[1], root))
        dst = dst / Path(rest[0]).name if rest[1].endswith("/") else dst
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(rest[0], dst)
        print(f"{rest[0]}: 1 file pushed.")
        return 0
    if verb == "pull":
        src = Path(local(rest[0], root))
        if not src.is_file():
            print(f"adb: error: failed to stat remote object '{rest[0]}': No such file or directory",
                  file=sys.stderr)
            return 1
        shutil.copy2(src, rest[1])
        print(f"{rest[0]}: 1 file pulled.")
        return 0
    if verb == "logcat":
        return 0
    if verb == "devices":
        print("List of devices attached\nFAKE0001\tdevice")
        return 0
    print(f"fake_adb: unsupported command {argv}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
