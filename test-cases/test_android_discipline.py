"""Phone runs with discipline, through the stand-in adb and its Snapdragon 8 Gen 3 /sys layout.

What a user would notice: the runner is pinned with ``taskset`` (by default to the
fastest cluster, one core for one thread), the manifest holds the governor, clocks and
temperatures before and after every runner invocation, a hot phone is waited for (and
the wait is bounded and reported), the report warns about a throttled or hot result,
and a ``cpu_affinity`` the phone cannot honour is refused before anything runs.
"""
from __future__ import annotations

import json
from pathlib import Path

from kit_helpers import run_script
from pipeline_helpers import experiment, toy_cnn_pte, write_config
from test_android_pipeline import RUNNER, android, phone  # noqa: F401  (phone is a fixture)

CORES = "cpu0-1 (2.27 GHz), cpu2-4 (3.15 GHz), cpu5-6 (2.96 GHz), cpu7 (3.30 GHz)"


def _run_dir(phone: dict) -> Path:
    return next((phone["tmp"] / "runs").iterdir())


def _masks(phone: dict) -> list[str]:
    return (phone["device"] / "taskset.log").read_text().split()


def test_default_pinning_and_recorded_conditions(phone: dict) -> None:
    config = write_config(phone["tmp"], toy_cnn_pte(), [experiment("neon", RUNNER, threads=[1, 2], sme2="off")])
    proc = android(phone, "--config", str(config))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # one thread: the prime core (cpu7); two: cpu7 is a cluster of one, so the next-fastest joins
    assert _masks(phone) == ["80", "9c"]
    assert "cores [7]" in proc.stdout and "cores [2, 3, 4, 7]" in proc.stdout
    manifest = json.loads((_run_dir(phone) / "manifest.json").read_text())
    assert manifest["host"]["cpu_clusters"][0] == {"cores": [7], "max_khz": 3302400}
    assert manifest["schedule"]["kind"] == "blocked"
    assert manifest["cooldown"] == {"max_seconds": 120, "margin_c": 2.0}
    first, second = manifest["invocations"]
    for record in (first, second):
        for reading in (record["before"], record["after"]):
            assert reading["available"] and reading["cpus"]["7"]["governor"] == "walt"
            assert reading["cpus"]["7"]["cpuinfo_max_khz"] == 3302400
            assert {z["type"] for z in reading["thermal"].values()} >= {"cpu-1-6-0", "cpuss-0", "battery"}
            assert 30 < reading["cpu_temp_c"] < 40
    assert first["cpu_affinity"] == [7] and "fastest cluster" in first["affinity_source"]
    result = manifest["experiments"][0]["results"][0]
    assert result["conditions"]["cpu_affinity"] == [7] and result["conditions"]["throttled_cores"] == []
    assert result["conditions"]["before"].startswith("governor walt, 2.00 GHz, ")


def test_explicit_affinity_is_applied(phone: dict) -> None:
    config = write_config(phone["tmp"], toy_cnn_pte(),
                          [experiment("neon", RUNNER, threads=[2], sme2="off", cpu_affinity=[4, 5])])
    proc = android(phone, "--config", str(config), "--dry-run")
    assert proc.returncode == 0 and "taskset 30 ./executor_runner" in proc.stdout, proc.stdout + proc.stderr
    proc = android(phone, "--config", str(config))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _masks(phone) == ["30"]


def _refused(phone: dict, proc, *expected: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("error: ") and lines[1].startswith("  fix: ") and len(lines) == 2, proc.stderr
    for text in expected:
        assert text in proc.stderr, proc.stderr
    assert not (phone["tmp"] / "runs").exists(), "nothing may be written"
    assert not (phone["device"] / "data/local/tmp/sme2prof").exists(), "nothing may be pushed"


def test_a_core_the_phone_does_not_have_is_refused(phone: dict) -> None:
    config = write_config(phone["tmp"], toy_cnn_pte(), [experiment("neon", RUNNER, sme2="off", cpu_affinity=[9])])
    _refused(phone, android(phone, "--config", str(config)),
             f"cpu_affinity names core 9, which FakeVendor SME2 Test Phone (Android 15, arm64-v8a) does not have "
             f"(its cores: {CORES})", '"cpu_affinity": [7]')


def test_more_threads_than_pinned_cores_is_refused(phone: dict) -> None:
    config = write_config(phone["tmp"], toy_cnn_pte(),
                          [experiment("neon", RUNNER, threads=[1, 4], sme2="off", cpu_affinity=[7])])
    _refused(phone, android(phone, "--config", str(config)),
             f"experiment 'neon' runs 4 threads but cpu_affinity pins only 1 core(s) [7] (the device's cores: "
             f"{CORES})", "pin at least 4 cores")


def test_cool_down_waits_for_a_hot_phone(phone: dict) -> None:
    """Each run heats the phone 10 °C; it cools 2 °C/s; the second invocation waits a few seconds."""
    config = write_config(phone["tmp"], toy_cnn_pte(),
                          [experiment("a", RUNNER, sme2="off"), experiment("b", RUNNER, sme2="off")],
                          cooldown={"max_seconds": 30, "margin_c": 2})
    proc = android(phone, "--config", str(config), FAKE_ADB_HEAT_C="10", FAKE_ADB_COOL_C_PER_S="2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads((_run_dir(phone) / "manifest.json").read_text())
    first, second = manifest["invocations"]
    assert first["cooldown"] is None, "nothing to wait for before the first invocation"
    wait = second["cooldown"]
    assert wait["reached"] and 1 <= wait["waited_s"] < 10 and wait["from_c"] > wait["target_c"] >= wait["to_c"]
    assert "cool-down:" in proc.stdout and "cooled" in proc.stdout
    assert second["before"]["cpu_temp_c"] == wait["to_c"], "the wait's last reading is the invocation's 'before'"


def test_report_warns_about_a_throttled_and_hot_result(phone: dict) -> None:
    """The wait is bounded (1 s, far too short for 20 °C): b starts hot; the phone caps cpu7 once a has
    run, so the reading after a and both of b's show the cap."""
    config = write_config(phone["tmp"], toy_cnn_pte(),
                          [experiment("a", RUNNER, sme2="off"), experiment("b", RUNNER, sme2="off")],
                          cooldown={"max_seconds": 1, "margin_c": 2},
                          analysis={"compare_pairs": [["b", "a"]]})
    proc = android(phone, "--config", str(config), FAKE_ADB_HEAT_C="20", FAKE_ADB_COOL_C_PER_S="0.5",
                   FAKE_ADB_THROTTLE="1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir = _run_dir(phone)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    wait = manifest["invocations"][1]["cooldown"]
    assert wait["reached"] is False and 0.9 <= wait["waited_s"] < 5
    proc = run_script("analyze_results.py", str(run_dir), env=phone["env"], timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = (run_dir / "analysis" / "report.md").read_text()
    section = report.split("## Run conditions", 1)[1].split("\n## ", 1)[0]
    assert "How the comparisons ran: **blocked**" in section
    assert "| a t1 | [7] | governor walt, 2.00 GHz" in section
    assert "**b t1 ran throttled**: core(s) [7]" in section
    assert "**b t1 started" in section and "hotter than the run's first reading" in section
    assert "**a t1 started" not in section, "the first result sets the baseline"
