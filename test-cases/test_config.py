"""Config validation: every bad input a user can type gives one clear line and a fix.

Each case runs the real entry script (``mac_pipeline.py``) the way a user would and
checks: exit 2, an ``error:`` line that names the problem, a ``fix:`` line, no
traceback, and that an earlier run directory in the same output root is untouched.
"""
from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from kit_helpers import exported, run_script
from pipeline_helpers import experiment, snapshot, write_config
from sme2prof.pipeline.config import load_config, validate_config
from sme2prof.errors import UserError
from sme2prof.export.model_registry import is_model_package
from sme2prof.runners.registry import VARIANT_RE

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILES = sorted((REPO_ROOT / "configs").rglob("*.json"))


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    """A model file (a real toy_cnn export: the .pte is checked before a run starts) and an
    earlier run directory that no failed invocation may touch."""
    shutil.copyfile(exported("toy_cnn"), tmp_path / "m_fp32.pte")
    earlier = tmp_path / "runs" / "20260101-000000"
    earlier.mkdir(parents=True)
    (earlier / "manifest.json").write_text('{"schema": 1, "status": "complete"}\n')
    return tmp_path


def fails_cleanly(workspace: Path, config: Path, *expected: str, env: dict | None = None) -> str:
    before = snapshot(workspace / "runs")
    proc = run_script("mac_pipeline.py", "--config", str(config), "--no-analyze", env=env, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("error: ") and lines[1].startswith("  fix: "), proc.stderr
    assert len([line for line in lines if line.startswith("error:")]) == 1
    for text in expected:
        assert text in proc.stderr, proc.stderr
    assert snapshot(workspace / "runs") == before, "an earlier run directory was modified"
    assert sorted(p.name for p in (workspace / "runs").iterdir()) == ["20260101-000000"]
    return proc.stderr


def test_malformed_json_reports_line_and_column(workspace: Path) -> None:
    config = workspace / "bad.json"
    config.write_text('{\n  "model": "m_fp32.pte",\n  "experiments": [,]\n}\n')
    fails_cleanly(workspace, config, "invalid JSON at line 3, column 19")


@pytest.mark.parametrize("where, key, nearest", [("top", "experiment", "experiments"),
                                                 ("experiment", "thread", "threads"),
                                                 ("experiment", "warm_up", "warmup")])
def test_unknown_key_names_the_nearest_valid_key(workspace: Path, where: str, key: str, nearest: str) -> None:
    exp = experiment()
    extra = {}
    if where == "top":
        extra[key] = []
    else:
        exp[key] = 1
    config = write_config(workspace, workspace / "m_fp32.pte", [exp], **extra)
    fails_cleanly(workspace, config, f"unknown key '{key}'", f"did you mean '{nearest}'?")


def test_missing_model_file_says_how_to_export(workspace: Path) -> None:
    config = write_config(workspace, workspace / "toy_cnn_fp16.pte", [experiment()])
    fails_cleanly(workspace, config, "model file not found",
                  "export_model.py --model toy_cnn --dtype fp16")


@pytest.mark.parametrize("override, message", [
    ({"runs": 0}, "runs must be an integer > 0"),
    ({"runs": "5"}, "runs must be an integer > 0"),
    ({"warmup": -1}, "warmup must be an integer >= 0"),
    ({"threads": [0]}, "threads must be a non-empty list of integers > 0"),
    ({"threads": []}, "threads must be a non-empty list of integers > 0"),
    ({"threads": 4}, "threads must be a non-empty list of integers > 0"),
    ({"mode": "timeing"}, "mode must be one of timing, xnntrace"),
    ({"sme2": True}, "sme2 must be one of on, off, any"),
    ({"name": "a b"}, "name must be letters, digits"),
])
def test_wrong_type_or_range_is_refused(workspace: Path, override: dict, message: str) -> None:
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment(**override)])
    fails_cleanly(workspace, config, message)


def test_empty_experiments_is_refused(workspace: Path) -> None:
    config = write_config(workspace, workspace / "m_fp32.pte", [])
    fails_cleanly(workspace, config, "experiments must be a non-empty list")


def test_duplicate_experiment_names_are_refused(workspace: Path) -> None:
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment("a"), experiment("a")])
    fails_cleanly(workspace, config, "duplicate experiment name 'a'")


def test_compare_pair_must_name_experiments(workspace: Path) -> None:
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment("sme2_on")],
                          analysis={"compare_pairs": [["sme2_on", "sme2_of"]]})
    fails_cleanly(workspace, config, "unknown experiment 'sme2_of'")


def test_runner_not_found(workspace: Path) -> None:
    config = write_config(workspace, workspace / "m_fp32.pte",
                          [experiment(runner=str(workspace / "no" / "executor_runner"))])
    fails_cleanly(workspace, config, "runner binary not found")


def test_wheel_runner_not_built(workspace: Path) -> None:
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment(runner="wheel")])
    fails_cleanly(workspace, config, "the wheel runner for", "is not built", "build_runners.sh --wheel",
                  env={"SME2PROF_OUT_DIR": str(workspace / "fresh-out")})


def test_unknown_runner_name(workspace: Path) -> None:
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment(runner="linux-x86_64-sme3-on")])
    fails_cleanly(workspace, config, "unknown runner 'linux-x86_64-sme3-on'")


def fake_built_runner(folder: Path, executable: bool = True, **build_info) -> Path:
    """A runner folder as build_runners.sh leaves it; the binary never runs (the guard refuses first)."""
    folder.mkdir(parents=True, exist_ok=True)
    binary = folder / "executor_runner"
    binary.write_text("#!/bin/sh\nexit 99\n")
    binary.chmod(0o755 if executable else 0o644)
    info = {"runner": folder.name, "kind": "executor_runner", "platform": "linux-x86_64",
            "sme": False, "sme2": False, "xnntrace": False, "xnnpack_log_level": 0, **build_info}
    (folder / "build_info.json").write_text(json.dumps(info))
    return binary


def test_runner_not_executable(workspace: Path) -> None:
    binary = fake_built_runner(workspace / "r", executable=False)
    assert not binary.stat().st_mode & stat.S_IXUSR
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment(runner=str(binary))])
    fails_cleanly(workspace, config, "runner is not executable", "chmod +x")


@pytest.mark.parametrize("runner_info, exp_keys, message", [
    ({"xnntrace": True, "xnnpack_log_level": 5}, {"mode": "timing"}, "logging distorts timings"),
    ({}, {"mode": "xnntrace"}, "mode xnntrace needs a runner built with XNNPACK kernel logging"),
    ({"sme": True, "sme2": True}, {"sme2": "off"}, "is built with SME2 on"),
    ({"sme2": False}, {"sme2": "on"}, "is built without SME2"),
    ({"platform": "android-arm64"}, {}, "android_pipeline.py"),
])
def test_runner_that_does_not_match_the_mode_is_refused(workspace: Path, runner_info: dict, exp_keys: dict,
                                                        message: str) -> None:
    binary = fake_built_runner(workspace / "r", **runner_info)
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment(runner=str(binary), **exp_keys)])
    fails_cleanly(workspace, config, message)


def test_pybind_cannot_trace_kernels(workspace: Path) -> None:
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment(mode="xnntrace")])
    fails_cleanly(workspace, config, "'pybind' (pybind) cannot name kernels")


def test_sme2_on_refused_where_the_cpu_has_no_sme2(workspace: Path) -> None:
    from sme2prof.host_info import describe_host
    if describe_host()["cpu_features"]["sme2"]:
        pytest.skip("this host has SME2: the refusal cannot happen here")  # never on the x86_64 CI
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment(sme2="on")])
    fails_cleanly(workspace, config, "has no SME2")


def test_output_root_not_writable(workspace: Path) -> None:
    blocker = workspace / "a-file"
    blocker.write_text("a file where the output folder should be")
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment()],
                          output_root=str(blocker / "runs"))
    fails_cleanly(workspace, config, "output root is not writable")


def test_config_file_missing(workspace: Path) -> None:
    fails_cleanly(workspace, workspace / "nope.json", "config file not found")


def test_defaults_are_filled() -> None:
    config = validate_config({"model": "m.pte", "experiments": [{"name": "a", "runner": "pybind"}]})
    exp = config.experiments[0]
    assert (exp.mode, exp.runs, exp.warmup, exp.threads, exp.sme2) == ("timing", 10, 2, (1,), "any")
    with pytest.raises(UserError, match="must be a JSON object"):
        validate_config([1, 2])


def test_typed_config_keeps_the_json_contract() -> None:
    """Every key and default as config.json and the manifest store them; resume reads that back."""
    config = validate_config({"model": "m.pte", "experiments": [{"name": "a", "runner": "pybind"}],
                              "analysis": {"compare_pairs": [["a", "a"]]}})
    assert config.to_json() == {
        "model": "m.pte", "output_root": None,
        "experiments": [{"name": "a", "runner": "pybind", "mode": "timing", "runs": 10, "warmup": 2,
                         "threads": [1], "sme2": "any", "cpu": None, "timeout_seconds": 900,
                         "cpu_affinity": None, "description": ""}],
        "analysis": {"compare_pairs": [["a", "a"]], "interleave_rounds": 0},
        "cooldown": {"max_seconds": None, "margin_c": 2.0}, "label": "", "description": ""}
    assert validate_config(config.to_json()) == config
    assert config.experiments[0].num_executions == 12


def test_key_tables_come_from_the_typed_config() -> None:
    from dataclasses import fields

    from sme2prof.pipeline.config import (ANALYSIS_KEYS, EXPERIMENT_KEYS, TOP_LEVEL_KEYS, AnalysisOptions,
                                          Config, Experiment)
    for table, cls in ((TOP_LEVEL_KEYS, Config), (EXPERIMENT_KEYS, Experiment), (ANALYSIS_KEYS, AnalysisOptions)):
        assert list(table) == [f.name for f in fields(cls)]
    assert [k for k, (required, _, _) in TOP_LEVEL_KEYS.items() if required] == ["model", "experiments"]
    assert [k for k, (required, _, _) in EXPERIMENT_KEYS.items() if required] == ["name", "runner"]
    assert TOP_LEVEL_KEYS["analysis"][1] == {} and EXPERIMENT_KEYS["threads"][1] == [1]


@pytest.mark.parametrize("path", CONFIG_FILES, ids=[p.name for p in CONFIG_FILES])
def test_every_shipped_config_is_valid(path: Path) -> None:
    """Templates and examples are valid by construction and name models and runners that exist."""
    config = load_config(path)
    assert len(path.read_text().splitlines()) <= 25, "keep configs readable in one screen"
    model = Path(config.model)
    assert model.parts[:2] == ("out", "artifacts"), "ship configs that use the export's default location"
    assert is_model_package(REPO_ROOT / "models" / model.parent.name), f"no models/{model.parent.name}/"
    assert model.stem.startswith(model.parent.name + "_")
    for exp in config.experiments:
        assert exp.runner in ("pybind", "wheel", "wheel-aarch64-emulated") or VARIANT_RE.match(exp.runner)
        if "android" in path.name:
            assert exp.runner.startswith("android-arm64-")


def test_readme_documents_every_key_and_file() -> None:
    from sme2prof.pipeline.config import ANALYSIS_KEYS, COOLDOWN_KEYS, EXPERIMENT_KEYS, TOP_LEVEL_KEYS
    readme = (REPO_ROOT / "configs" / "readme.md").read_text()
    for key in [*TOP_LEVEL_KEYS, *EXPERIMENT_KEYS, *ANALYSIS_KEYS, *COOLDOWN_KEYS]:
        assert f"`{key}`" in readme, key
    for path in CONFIG_FILES:
        assert f"`{path.parent.name}/{path.name}`" in readme, path.name


def test_config_path_that_is_a_folder(workspace: Path) -> None:
    (workspace / "configs").mkdir()
    (workspace / "configs" / "mine.json").write_text("{}")
    stderr = fails_cleanly(workspace, workspace / "configs", "is a folder, not a config file")
    assert "config file not found" not in stderr and "mine.json" in stderr


@pytest.mark.parametrize("runner", ["pybind", "wheel"])
def test_cpu_on_a_runner_that_is_not_emulated_is_refused(workspace: Path, runner: str) -> None:
    """configs/readme.md: "cpu" is only for emulated runners; elsewhere it would be silently ignored."""
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment("fast", runner, cpu="max")])
    fails_cleanly(workspace, config, "experiment 'fast' sets \"cpu\"",
                  "only applies to runner wheel-aarch64-emulated or a linux-aarch64 runner",
                  "fix: remove \"cpu\" from experiment 'fast', or use \"runner\": \"wheel-aarch64-emulated\"")


def test_an_x86_64_runner_given_as_emulated_is_one_clear_line(workspace: Path) -> None:
    """A built runner for the wrong architecture with "cpu" (run emulated): refused before anything runs."""
    config = write_config(workspace, workspace / "m_fp32.pte",
                          [experiment("on", "linux-x86_64-sme2-off", cpu="max")])
    fails_cleanly(workspace, config, "'linux-x86_64-sme2-off' is a linux-x86_64 runner; only aarch64 runners "
                  "run under qemu-aarch64", "fix: use linux-aarch64-sme2-off")


def _other_platform_variant() -> tuple[str, str]:
    from sme2prof.host_info import host_platform
    here = host_platform()
    return ("linux-aarch64", here) if here != "linux-aarch64" else ("macos-arm64", here)


def test_runner_for_another_platform_is_refused_before_asking_to_build_it(workspace: Path) -> None:
    """Not "build it with build_runners.sh --variant ..." (a build that refuses here too)."""
    platform, here = _other_platform_variant()
    config = write_config(workspace, workspace / "no_such_fp16.pte", [experiment("on", f"{platform}-sme2-on")])
    stderr = fails_cleanly(workspace, config, f"runner '{platform}-sme2-on' is for {platform}, this host is {here}",
                           "or use runner pybind, wheel or wheel-aarch64-emulated here")
    assert "build_runners.sh --variant" not in stderr and "export it first" not in stderr


def test_shipped_mac_config_on_another_host_says_where_it_runs(workspace: Path) -> None:
    from sme2prof.host_info import host_platform
    if host_platform() == "macos-arm64":
        pytest.skip("on a Mac this config is meant to run")
    fails_cleanly(workspace, REPO_ROOT / "configs/examples/mac_mobilenet_fp16.json",
                  "runner 'macos-arm64-sme2-on' is for macos-arm64", "run this config on a Mac")


def test_android_config_on_the_host_pipeline_points_to_android_pipeline(workspace: Path) -> None:
    stderr = fails_cleanly(workspace, REPO_ROOT / "configs/templates/android_template.json",
                           "runner 'android-arm64-sme2-on' is for android-arm64",
                           "fix: profile on the phone: python scripts/android_pipeline.py --config")
    assert "build_runners.sh" not in stderr


def test_more_threads_than_cpus_is_accepted_with_a_warning(workspace: Path) -> None:
    import os
    threads = max(64, (os.cpu_count() or 1) + 1)
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment("many", threads=[1, threads])])
    proc = run_script("mac_pipeline.py", "--config", str(config), "--dry-run", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"warning: experiment 'many' asks for {threads} threads; this host has {os.cpu_count()} CPUs" in proc.stdout
    assert f"--cpu_threads {threads}" in proc.stdout


@pytest.mark.parametrize("analysis, cooldown, expected", [
    ({"compare_pairs": [["a", "b"]], "interleave_round": 3}, None,
     ["unknown key 'interleave_round' in analysis (did you mean 'interleave_rounds'?)", "interleave_rounds"]),
    ({"interleave_rounds": 3}, None, ["analysis.interleave_rounds needs analysis.compare_pairs"]),
    ({"compare_pairs": [["a", "b"]], "interleave_rounds": "3"}, None,
     ["analysis.interleave_rounds must be an integer >= 0 (got '3')"]),
    ({"compare_pairs": [["a", "b"]], "interleave_rounds": 5}, None,
     ["interleave_rounds is 5 but experiment 'a' has only 3 runs", 'set "runs" to 5 or more']),
    ({}, {"max_second": 10}, ["unknown key 'max_second' in cooldown (did you mean 'max_seconds'?)"]),
    ({}, {"margin_c": -1}, ["cooldown.margin_c must be a number >= 0 (got -1)"]),
])
def test_interleave_and_cooldown_keys_are_checked(workspace: Path, analysis: dict, cooldown: dict | None,
                                                  expected: list[str]) -> None:
    top = {"analysis": analysis, **({"cooldown": cooldown} if cooldown is not None else {})}
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment("a"), experiment("b")], **top)
    fails_cleanly(workspace, config, *expected)


def test_interleaved_pair_needs_the_same_thread_counts(workspace: Path) -> None:
    config = write_config(workspace, workspace / "m_fp32.pte",
                          [experiment("a", threads=[1, 2]), experiment("b", threads=[1])],
                          analysis={"compare_pairs": [["a", "b"]], "interleave_rounds": 2})
    fails_cleanly(workspace, config, "'a' runs threads [1, 2] and 'b' runs [1]", 'same "threads" list, or one thread count each')


@pytest.mark.parametrize("affinity, expected", [([], "must be a non-empty list of core numbers"),
                                                ([7, 7], "lists a core twice"),
                                                (["7"], "must be a non-empty list of core numbers")])
def test_bad_cpu_affinity_values(workspace: Path, affinity: list, expected: str) -> None:
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment("a", cpu_affinity=affinity)])
    fails_cleanly(workspace, config, "experiments[0] (a).cpu_affinity", expected)


def test_cpu_affinity_is_for_phones(workspace: Path) -> None:
    """The host pipeline does not pin: a config asking for it is refused instead of ignored."""
    config = write_config(workspace, workspace / "m_fp32.pte", [experiment("a", cpu_affinity=[0])])
    fails_cleanly(workspace, config, "experiment 'a' sets \"cpu_affinity\", which pins a phone's cores",
                  "scripts/android_pipeline.py")
