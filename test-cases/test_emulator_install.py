"""The emulator step of install_emulation_tools.sh: a qemu-aarch64 whose -cpu max has SME2.

The kit's copy comes out of Debian's qemu-user package (checked against a pinned sha256) into
out/tools/qemu/. A failed download or a checksum mismatch must leave nothing behind; a dry
run names what it would fetch and changes nothing. The installed emulator is probed the way
XNNPACK sees the CPU: getauxval inside it.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from kit_helpers import REPO_ROOT, run_script

from sme2prof.fileio import read_json
from sme2prof.host_info import host_platform
from sme2prof.runners import qemu as qemu_tools
from sme2prof.setup import qemu_package

needs_linux_x86 = pytest.mark.skipif(host_platform() != "linux-x86_64",
                                     reason="the kit's qemu-aarch64 is an x86_64 Linux binary")


def _install(tmp_path: Path, *args: str, **env: str):
    return run_script("install_emulator.py", "--from-package", *args,
                      env={"SME2PROF_OUT_DIR": str(tmp_path / "out"), **env}, timeout=300)


def _left_behind(tmp_path: Path) -> list[str]:
    tools = tmp_path / "out" / "tools"
    return sorted(p.name for p in tools.iterdir() if p.name != "probe") if tools.is_dir() else []


@needs_linux_x86
def test_dry_run_names_the_package_and_changes_nothing(tmp_path: Path) -> None:
    result = _install(tmp_path, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"fetch  {qemu_package.DEB_URL}" in result.stdout
    assert f"sha256 {qemu_package.DEB_SHA256}" in result.stdout
    assert "dry run: nothing changed" in result.stdout
    assert not (tmp_path / "out").exists()


@needs_linux_x86
def test_checksum_mismatch_installs_nothing(tmp_path: Path) -> None:
    not_the_package = (REPO_ROOT / "LICENSE").resolve().as_uri()   # a real file, the wrong bytes
    result = _install(tmp_path, SME2PROF_QEMU_DEB_URL=not_the_package)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("error: the QEMU package's sha256 is ") and "expected " + qemu_package.DEB_SHA256 in lines[0]
    assert lines[1].startswith("  fix: nothing was installed")
    assert "Traceback" not in result.stderr
    assert _left_behind(tmp_path) == []


@needs_linux_x86
def test_failed_download_installs_nothing(tmp_path: Path) -> None:
    result = _install(tmp_path, SME2PROF_QEMU_DEB_URL=(tmp_path / "missing.deb").as_uri())
    assert result.returncode == 2
    assert result.stderr.startswith("error: could not download the QEMU package ")
    assert "SME2PROF_QEMU_DEB_URL" in result.stderr and "Traceback" not in result.stderr
    assert _left_behind(tmp_path) == []


@needs_linux_x86
def test_the_kits_emulator_exposes_sme2_and_records_its_package() -> None:
    """make test's install step put it there (bash scripts/install_emulation_tools.sh)."""
    qemu = qemu_tools.find_qemu()
    on = qemu_tools.probe_cpu(qemu, qemu_tools.effective_cpu("max"))
    off = qemu_tools.probe_cpu(qemu, qemu_tools.effective_cpu("max,sme=off"))
    assert on["cpu_features"]["sme"] and on["cpu_features"]["sme2"]
    assert on["sme_vector_length_bits"] == 512          # the kit's default, as on Apple M4
    assert not off["cpu_features"]["sme"] and not off["cpu_features"]["sme2"]
    assert off["sme_vector_length_bits"] == 0
    wider = qemu_tools.probe_cpu(qemu, qemu_tools.effective_cpu("max,sme-default-vector-length=32"))
    assert wider["sme_vector_length_bits"] == 256       # configurable per experiment
    record = qemu_tools.emulator_record(qemu)
    assert int(record["qemu_version"].split(".")[0]) >= 11
    if Path(qemu) == qemu_tools.KIT_QEMU:
        assert record["package"]["sha256"] == read_json(qemu_tools.KIT_QEMU_RECORD)["sha256"]
        assert record["package"]["version"] == qemu_package.DEB_VERSION
