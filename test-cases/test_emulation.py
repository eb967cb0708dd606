"""The emulated Armv9 check: the aarch64 wheel runner under qemu-aarch64.

With `-cpu max` (SME visible) XNNPACK must pick its packed SME paths (PF32 / PF16 in
the ETDump operator names); with `-cpu max,sme=off` it must not. The CPU features in
the manifest must come from inside the emulator. Runs the real flow end to end:
export, cross-built runner, `scripts/mac_pipeline.py`, Inspector on the ETDumps.
Needs qemu-user and the aarch64 cross toolchain: `bash scripts/install_emulation_tools.sh`.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kit_helpers import REPO_ROOT, exported, run_script
from test_wheel_runner import build_runners, execute_events

from sme2prof.runners import emulation
from sme2prof.runners import qemu as qemu_tools
from sme2prof.runners import wheel_build as wrb
from sme2prof.errors import UserError
from sme2prof.fileio import read_json
from sme2prof.host_info import host_platform

INSTALL = REPO_ROOT / "scripts" / "install_emulation_tools.sh"
needs_linux_x86 = pytest.mark.skipif(host_platform() != "linux-x86_64",
                                     reason="user-mode qemu-aarch64 emulation is set up for Linux x86_64 hosts")
PACKED = ("PF32", "PF16", "PQS8", "QP8")


@pytest.fixture(scope="session")
def aarch64_runner() -> Path:
    missing = [tool for tool in ("aarch64-linux-gnu-g++",) if shutil.which(tool) is None]
    if not qemu_tools.KIT_QEMU.is_file() and shutil.which("qemu-aarch64") is None:
        missing.append("qemu-aarch64")
    if missing:
        pytest.fail(f"missing {', '.join(missing)}; fix: bash scripts/install_emulation_tools.sh")
    result = build_runners("--wheel", "--platform", "linux-aarch64")
    assert result.returncode == 0, result.stdout + result.stderr
    return wrb.find_wheel_runner("linux-aarch64")


@pytest.fixture(scope="session")
def models() -> dict[str, Path]:
    """toy_cnn (fp32, fp16) and the transformer-style vit_tiny cut to one encoder block (the
    same layers; one emulated inference then takes seconds instead of about 20 s)."""
    return {"toy_cnn_fp32": exported("toy_cnn", "fp32"), "toy_cnn_fp16": exported("toy_cnn", "fp16"),
            "vit_tiny_fp32": exported("vit_tiny", "fp32", depth=1)}


def emulated_pair_config(model: Path, output_root: Path, runs: int = 2, warmup: int = 1) -> dict:
    """The shipped example config, pointed at a test model and folder."""
    config = read_json(REPO_ROOT / "configs" / "examples" / "emulated_sme_toy_cnn.json")
    config["model"] = str(model)
    config["output_root"] = str(output_root)
    for experiment in config["experiments"]:
        experiment.update(runs=runs, warmup=warmup)
    return config


def run_pipeline(config: dict, tmp_path: Path, *extra: str) -> Path:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    result = run_script("mac_pipeline.py", "--config", str(config_path), *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    (run_dir,) = [p.parent for p in Path(config["output_root"]).glob("*/manifest.json")]
    return run_dir


def operator_names(etdump: Path) -> set[str]:
    """XNNPACK operator names without their ``#k`` suffix."""
    return {name.split(" #")[0] for name in execute_events(etdump) if "(" in name}


def packed(names: set[str]) -> set[str]:
    """Operator names with a packed (SME-family) data type, e.g. ``Convolution (NHWC, PF32) IGEMM``."""
    return {n for n in names if any(f", {p})" in n for p in PACKED)}


def check_emulated_pair(run_dir: Path, packed_type: str, unpacked_type: str) -> dict[str, set[str]]:
    manifest = read_json(run_dir / "manifest.json")
    assert manifest["status"] == "complete"
    experiments = {e["name"]: e for e in manifest["experiments"]}
    names = {}
    for name, sme in (("sme", True), ("sme_off", False)):
        experiment = experiments[name]
        assert experiment["emulated"] is True and experiment["runner_kind"] == "wheel-aarch64-emulated"
        target = experiment["target"]
        assert target["cpu_features"]["sme"] is sme  # probed inside the emulator
        assert target["cpu_features"]["sme2"] is sme  # the kit's QEMU (11.1+) exposes SME2 under -cpu max
        assert target["sme_vector_length_bits"] == (512 if sme else 0)   # the kit's default SVL
        assert "inside qemu-aarch64" in target["cpu_features_source"]
        (result,) = experiment["results"]
        assert result["status"] == "ok"
        names[name] = operator_names(run_dir / result["etdump"])
    assert any(f", {packed_type})" in n for n in names["sme"]), names["sme"]
    assert not packed(names["sme_off"]), names["sme_off"]
    assert any(f", {unpacked_type})" in n for n in names["sme_off"]), names["sme_off"]
    return names


@needs_linux_x86
def test_toy_cnn_fp32_sme_uses_packed_paths_and_sme_off_does_not(aarch64_runner, models, tmp_path) -> None:
    run_dir = run_pipeline(emulated_pair_config(models["toy_cnn_fp32"], tmp_path / "runs"), tmp_path)
    names = check_emulated_pair(run_dir, "PF32", "F32")
    assert "Convolution (NHWC, PF32) IGEMM" in names["sme"]
    assert "Convolution (NHWC, F32) IGEMM" in names["sme_off"]
    assert "Fully Connected (NC, PF32) GEMM" in names["sme"]
    report = (run_dir / "analysis" / "report.md").read_text()
    assert "not a performance result" in report
    assert "Convolution (NHWC, PF32) IGEMM" in report and "Convolution (NHWC, F32) IGEMM" in report


@needs_linux_x86
def test_toy_cnn_fp16_sme_uses_pf16(aarch64_runner, models, tmp_path) -> None:
    config = emulated_pair_config(models["toy_cnn_fp16"], tmp_path / "runs", runs=1, warmup=0)
    names = check_emulated_pair(run_pipeline(config, tmp_path, "--no-analyze"), "PF16", "F16")
    assert "Fully Connected (NC, PF16) GEMM" in names["sme"]
    assert "Fully Connected (NC, F16) GEMM" in names["sme_off"]


@needs_linux_x86
def test_transformer_sme_uses_packed_gemms(aarch64_runner, models, tmp_path) -> None:
    config = emulated_pair_config(models["vit_tiny_fp32"], tmp_path / "runs", runs=1, warmup=0)
    names = check_emulated_pair(run_pipeline(config, tmp_path, "--no-analyze"), "PF32", "F32")
    assert "Batch Matrix Multiply (NC, PF32) GEMM" in names["sme"]
    assert "Batch Matrix Multiply (NC, F32) GEMM" in names["sme_off"]


@needs_linux_x86
def test_probe_reads_features_inside_the_emulator(aarch64_runner) -> None:
    on, off = emulation.probe_emulated_cpu("max"), emulation.probe_emulated_cpu("max,sme=off")
    assert on["cpu_features"]["sme"] is True and off["cpu_features"]["sme"] is False
    assert on["cpu_features"]["sve"] is True  # -cpu max is an Armv9 CPU
    # whatever this QEMU says about SME2 is what is recorded, not an assumption
    assert on["cpu_features"]["sme2"] == bool(int(on["hwcap2"], 16) >> 37 & 1)
    assert on["cpu_features"]["sme2"] == on["runner_cpu_features"]["sme2"]
    assert on["qemu_version"][0].isdigit() and on["cpu"] == "max"


def test_a_qemu_that_exposes_sme2_is_detected() -> None:
    """A newer QEMU sets HWCAP2_SME2 (bit 37): the same parsing reports it, no code change."""
    qemu10_max_hwcap2 = 0x18007fc77fff  # what QEMU 10.0 -cpu max reports (SME, no SME2)
    text = ("wheel_runner: executorch 1.5.1 (x) platform linux-aarch64\n"
            f"hwcaps: hwcap=0xeffffffb hwcap2={hex(qemu10_max_hwcap2 | 1 << 37)}\n"
            "cpu_features: arch=aarch64 source=getauxval sme=1 sme2=1\n")
    hwcap, hwcap2, line = emulation.parse_probe_output(text)
    from sme2prof.host_info import features_from_hwcaps
    features = features_from_hwcaps(hwcap, hwcap2)
    assert features["sme"] and features["sme2"] and line["sme2"] is True
    assert emulation.parse_probe_output("no probe lines here\n") is None


@needs_linux_x86
@pytest.mark.parametrize("cpu, message", [("bogus-cpu", "could not run the runner with -cpu"),
                                          ("max; rm -rf /", "invalid emulated cpu")])
def test_bad_cpu_strings_are_user_errors(aarch64_runner, cpu: str, message: str) -> None:
    with pytest.raises(UserError) as err:
        emulation.resolve_emulated_runner({"name": "x", "runner": "wheel-aarch64-emulated", "cpu": cpu})
    assert message in err.value.message and "max,sme=off" in err.value.fix


def test_missing_qemu_names_the_install_script(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv(qemu_tools.QEMU_VARIABLE, raising=False)
    monkeypatch.setattr(qemu_tools, "KIT_QEMU", tmp_path / "qemu-aarch64")
    monkeypatch.setattr(qemu_tools.shutil, "which", lambda _name: None)
    with pytest.raises(UserError) as err:
        emulation.probe_emulated_cpu("max")
    assert "qemu-aarch64 is not installed" in err.value.message
    assert err.value.fix == "bash scripts/install_emulation_tools.sh"


@needs_linux_x86
def test_missing_aarch64_runner_names_the_build_command(aarch64_runner, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(wrb, "RUNNERS_DIR", tmp_path)
    with pytest.raises(UserError) as err:
        emulation.resolve_emulated_runner({"name": "x", "runner": "wheel-aarch64-emulated", "cpu": "max"})
    assert err.value.fix == "bash scripts/build_runners.sh --wheel --platform linux-aarch64"


@needs_linux_x86
def test_pipeline_rejects_a_bad_cpu_before_running(aarch64_runner, models, tmp_path) -> None:
    config = emulated_pair_config(models["toy_cnn_fp32"], tmp_path / "runs")
    config["experiments"][1]["cpu"] = "max,sme=maybe"
    config_path = tmp_path / "bad.json"
    config_path.write_text(json.dumps(config))
    result = run_script("mac_pipeline.py", "--config", str(config_path))
    assert result.returncode == 2
    assert "error: " in result.stderr and "Traceback" not in result.stderr
    assert not list((tmp_path / "runs").glob("*/etdump.etdp"))


def test_install_script_help_and_bad_option() -> None:
    help_run = subprocess.run(["bash", str(INSTALL), "--help"], capture_output=True, text=True)
    assert help_run.returncode == 0 and "--dry-run" in help_run.stdout and "example" in help_run.stdout
    bad = subprocess.run(["bash", str(INSTALL), "--frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown option" in bad.stderr


@needs_linux_x86
def test_install_script_is_quick_when_tools_are_present(aarch64_runner) -> None:
    result = subprocess.run(["bash", str(INSTALL), "--dry-run"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "emulator present" in result.stdout and "sme2=1" in result.stdout
