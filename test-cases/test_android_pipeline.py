"""android_pipeline.py through a stand-in adb (``stand_ins/fake_adb.py``): the real code path.

No phone exists here, so ``fake_adb.py`` maps the phone's /data/local/tmp to a local
folder and runs what is pushed on this host. The "android-arm64" runner in these tests
is the real wheel runner built for this host, copied into an ``android-arm64-sme2-off``
runner folder, so push, ``adb shell`` with executor_runner flags, pull, getprop parsing,
and a phone that disconnects mid-run are all exercised with real ETDumps.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kit_helpers import run_script
from pipeline_helpers import experiment, toy_cnn_pte, wheel_runner, write_config
from sme2prof.pipeline.android import describe_device, parse_getprop

STAND_INS = Path(__file__).resolve().parent / "stand_ins"
RUNNER = "android-arm64-sme2-off"


@pytest.fixture()
def phone(tmp_path: Path) -> dict:
    """A fake adb on disk (named adb), its device folder, and an out/ with an android runner."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "adb"
    shim.write_text(f'#!/bin/sh\nexec "{shutil.which("python3") or "python3"}" "{STAND_INS / "fake_adb.py"}" "$@"\n')
    shim.chmod(0o755)
    runner_dir = tmp_path / "out" / "runners" / RUNNER
    runner_dir.mkdir(parents=True)
    shutil.copy2(wheel_runner(), runner_dir / "executor_runner")
    (runner_dir / "libc++_shared.so").write_text("stand-in: pushed like the NDK's, unused on this host\n")
    (runner_dir / "build_info.json").write_text(json.dumps(
        {"runner": RUNNER, "kind": "executor_runner", "platform": "android-arm64", "variant": "sme2-off",
         "sme": False, "sme2": False, "xnntrace": False, "xnnpack_log_level": 0, "event_tracer": True}))
    env = {"FAKE_ADB_ROOT": str(tmp_path / "device"), "SME2PROF_OUT_DIR": str(tmp_path / "out")}
    return {"adb": str(shim), "env": env, "tmp": tmp_path, "device": tmp_path / "device"}


def android(phone: dict, *args: str, **env: str):
    return run_script("android_pipeline.py", "--adb", phone["adb"], *args, "--no-analyze",
                      env={**phone["env"], **env}, timeout=300)


def test_profile_on_the_phone(phone: dict) -> None:
    model = toy_cnn_pte()
    config = write_config(phone["tmp"], model, [experiment("neon", RUNNER, threads=[1, 2], sme2="off")])
    proc = android(phone, "--config", str(config))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "pushing executor_runner" in proc.stdout and "pushing libc++_shared.so" in proc.stdout
    run_dir = next((phone["tmp"] / "runs").iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["pipeline"] == "android"
    device = manifest["host"]
    assert device["os"] == "Android" and device["platform"] == "android-arm64"
    assert device["device"]["model"] == "SME2 Test Phone" and device["cpu_model"] == "FAKE-SOC-9"
    assert device["cpu_features"]["sme2"] and device["cpu_count"] == 8
    remote = phone["device"] / "data/local/tmp/sme2prof"
    assert (remote / "runners" / RUNNER / "libc++_shared.so").is_file()
    assert (remote / manifest["run_id"] / model.name).is_file()
    from executorch.devtools import Inspector
    for result in manifest["experiments"][0]["results"]:
        assert result["status"] == "ok" and len(result["iterations_ms"]) == 4
        assert "--model_path /data/local/tmp/sme2prof/" in (run_dir / result["log"]).read_text()
        frame = Inspector(etdump_path=str(run_dir / result["etdump"]),
                          etrecord=str(run_dir / manifest["model"]["etrecord"])).to_dataframe()
        assert frame[frame.is_delegated_op].event_name.str.startswith("Convolution").any()


def test_phone_disconnects_mid_run(phone: dict) -> None:
    config = write_config(phone["tmp"], toy_cnn_pte(), [experiment("neon", RUNNER, threads=[1, 2, 3])])
    proc = android(phone, "--config", str(config), FAKE_ADB_DISCONNECT_AFTER="1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "error: the Android device disconnected (adb: device not found)" in proc.stdout
    assert "--resume" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    run_dir = next((phone["tmp"] / "runs").iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    first, second, third = manifest["experiments"][0]["results"]
    assert first["status"] == "ok" and (run_dir / first["etdump"]).is_file()
    assert second["status"] == "failed" and "disconnected" in second["error"]
    assert third["status"] == "failed" and third["error"].startswith("not run:")

    proc = run_script("mac_pipeline.py", "--resume", str(run_dir), env=phone["env"])
    assert proc.returncode == 2 and "made by the android pipeline" in proc.stderr

    proc = android(phone, "--resume", str(run_dir))  # reconnected: the counter no longer limits
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 of 3 results to run" in proc.stdout
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "complete"


def test_no_phone_connected(phone: dict) -> None:
    config = write_config(phone["tmp"], toy_cnn_pte(), [experiment("neon", RUNNER)])
    proc = android(phone, "--config", str(config), FAKE_ADB_NO_DEVICE="1")
    assert proc.returncode == 2 and "error: no Android device reachable over adb" in proc.stderr
    assert "Traceback" not in proc.stderr and not (phone["tmp"] / "runs").exists()


@pytest.mark.parametrize("runner", ["pybind", "wheel", "linux-x86_64-sme2-off"])
def test_host_runners_are_refused_on_the_phone(phone: dict, runner: str) -> None:
    config = write_config(phone["tmp"], toy_cnn_pte(), [experiment("x", runner)])
    proc = android(phone, "--config", str(config))
    assert proc.returncode == 2 and f"runner '{runner}' cannot run on an Android phone" in proc.stderr


def test_dry_run_shows_adb_commands_and_writes_nothing(phone: dict) -> None:
    config = write_config(phone["tmp"], toy_cnn_pte(), [experiment("neon", RUNNER, threads=[1, 4])])
    proc = android(phone, "--config", str(config), "--dry-run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(" push ") == 3 and proc.stdout.count(" shell ") == 2
    assert "LD_LIBRARY_PATH=/data/local/tmp/sme2prof/runners/android-arm64-sme2-off" in proc.stdout
    assert not (phone["tmp"] / "runs").exists() and not (phone["device"] / "data/local/tmp/sme2prof").exists()


def test_adb_found_through_the_environment(phone: dict) -> None:
    config = write_config(phone["tmp"], toy_cnn_pte(), [experiment("neon", RUNNER)])
    proc = run_script("android_pipeline.py", "--config", str(config), "--dry-run",
                      env={**phone["env"], "ADB": phone["adb"]})
    assert proc.returncode == 0 and "SME2 Test Phone" in proc.stdout


def test_getprop_and_cpuinfo_parsing() -> None:
    props = parse_getprop("[ro.product.model]: [Pixel 9 Pro]\n[ro.build.version.release]: [15]\n"
                          "[ro.product.cpu.abi]: [arm64-v8a]\n[ro.soc.model]: [Tensor G4]\nnoise\n")
    assert props["ro.product.model"] == "Pixel 9 Pro"
    device = describe_device(props, "processor\t: 0\nFeatures\t: fp asimd sve2 sme\n", "ABC")
    assert device["platform"] == "android-arm64" and device["cpu_model"] == "Tensor G4"
    assert device["cpu_features"]["sme"] and not device["cpu_features"]["sme2"]
    assert device["description"] == "Pixel 9 Pro (Android 15, arm64-v8a)"


def test_dry_run_works_without_adb_or_a_phone(phone: dict, tmp_path: Path) -> None:
    """The dry run is the check before a session: no adb on PATH, no $ADB, no --adb, no device."""
    empty_path = tmp_path / "no-adb-here"
    empty_path.mkdir()
    config = write_config(phone["tmp"], toy_cnn_pte(), [experiment("neon", RUNNER, threads=[1, 16], sme2="off")])
    proc = run_script("android_pipeline.py", "--config", str(config), "--dry-run",
                      env={**phone["env"], "PATH": str(empty_path), "ADB": ""})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "error:" not in proc.stderr
    assert "note: no device was contacted (adb not found" in proc.stdout
    assert "an Android device (unknown: not contacted)" in proc.stdout
    assert proc.stdout.count("adb push ") == 3 and proc.stdout.count("adb shell ") == 2
    assert "warning:" not in proc.stdout, "the device's CPU count is unknown: no thread warning"
    assert not (phone["tmp"] / "runs").exists()

    proc = android(phone, "--config", str(config), "--dry-run", FAKE_ADB_NO_DEVICE="1")
    assert proc.returncode == 0 and "note: no device was contacted (no Android device reachable" in proc.stdout


def test_sme2_on_dry_run_without_a_device_leaves_the_cpu_check_to_the_run(phone: dict, tmp_path: Path) -> None:
    config = write_config(phone["tmp"], toy_cnn_pte(), [experiment("neon", RUNNER, sme2="on")])
    proc = android(phone, "--config", str(config), "--dry-run", FAKE_ADB_NO_DEVICE="1")
    # the runner's own build info (sme2 false) still refuses "on"; the unknown CPU does not
    assert proc.returncode == 2 and "is built without SME2" in proc.stderr and "Traceback" not in proc.stderr


def test_threads_beyond_the_phones_cores_are_warned_about(phone: dict) -> None:
    config = write_config(phone["tmp"], toy_cnn_pte(), [experiment("neon", RUNNER, threads=[16])])
    proc = android(phone, "--config", str(config), "--dry-run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning: experiment 'neon' asks for 16 threads; this device has 8 CPUs" in proc.stdout


def test_adb_still_required_for_a_real_run(phone: dict, tmp_path: Path) -> None:
    config = write_config(phone["tmp"], toy_cnn_pte(), [experiment("neon", RUNNER)])
    proc = run_script("android_pipeline.py", "--config", str(config),
                      env={**phone["env"], "PATH": str(tmp_path), "ADB": ""})
    assert proc.returncode == 2 and "error: adb not found" in proc.stderr and "Traceback" not in proc.stderr


def test_phone_answers_that_are_not_utf8(phone: dict) -> None:
    """Vendor property values are not always UTF-8: they are read with replacement characters."""
    config = write_config(phone["tmp"], toy_cnn_pte(), [experiment("neon", RUNNER, sme2="off")])
    proc = android(phone, "--config", str(config), FAKE_ADB_BAD_BYTES="1")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    run_dir = next((phone["tmp"] / "runs").iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["host"]["device"]["model"] == "SME2 Test Phone"
