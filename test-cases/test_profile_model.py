"""``profile_model.py``: one command from a model name to a validated report.

The end-to-end cases run the real command on a copy of toy_cnn in a models folder of
the test's own (``SME2PROF_MODELS_DIR``), writing under a temporary ``SME2PROF_OUT_DIR``,
so editing the package is safe and nothing lands in the repository's out/.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from kit_helpers import run_script
from sme2prof.export.freshness import export_inputs, package_sha256, stale_reason
from sme2prof.setup.checks import MISSING, OK, WARN, Check
from sme2prof.workflow import runner_choice

REPO_ROOT = Path(__file__).resolve().parent.parent
SKILL = REPO_ROOT / "agentic-kits/skills/profile-model/skill.md"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> dict:
    """A models folder with one package (a copy of toy_cnn named my_cnn) and an empty out/."""
    root = tmp_path_factory.mktemp("profile")
    shutil.copytree(REPO_ROOT / "models" / "toy_cnn", root / "models" / "my_cnn",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return {"root": root, "env": {"SME2PROF_MODELS_DIR": str(root / "models"),
                                  "SME2PROF_OUT_DIR": str(root / "out")}}


def profile(workspace: dict, *args: str) -> tuple[int, dict, str]:
    proc = run_script("profile_model.py", "--model", "my_cnn", *args, "--json",
                      env=workspace["env"], timeout=900)
    return proc.returncode, json.loads(proc.stdout), proc.stderr


@pytest.fixture(scope="module")
def profiled(workspace: dict) -> tuple[int, dict, str]:
    """The first profile of my_cnn: it exports, runs, analyses and validates."""
    return profile(workspace, "--runners", "pybind", "--threads", "1", "--runs", "3")


def test_profile_exports_runs_analyses_and_validates(workspace: dict, profiled) -> None:
    code, result, stderr = profiled
    assert code == 0, stderr
    assert result["exit_code"] == 0 and result["status"] == "complete"
    assert result["export"]["exported"] is True and result["export"]["reason"].startswith("no export yet")
    assert [(r["experiment"], r["threads"], r["status"]) for r in result["results"]] == [("pybind", 1, "ok")]
    assert result["validation"] == {"ok": True, "passed": result["validation"]["checks"],
                                    "checks": result["validation"]["checks"], "failed": []}
    run_dir = Path(result["run_dir"])
    assert run_dir.parent == workspace["root"] / "out" / "runs" and "my_cnn-fp32" in run_dir.name
    assert Path(result["report"]) == run_dir / "analysis" / "report.md" and Path(result["report"]).is_file()
    assert stderr.rstrip().endswith(f"report: {result['report']}") or "report: " in stderr
    # the config it ran is in the run, and it is an ordinary pipeline config a user can re-run
    assert Path(result["config"]) == run_dir / "config.json"
    again = run_script("mac_pipeline.py", "--config", result["config"], "--dry-run", "--json",
                       env=workspace["env"], timeout=300)
    assert again.returncode == 0 and json.loads(again.stdout)["plan"][0]["experiment"] == "pybind"
    documented = set(re.findall(r"`([a-z_]+)`", SKILL.read_text().split("## The JSON it prints")[1]
                                .split("\n## ")[0]))
    assert set(result) - {"error", "fix"} <= documented, "the skill lists every key the JSON has"
    # each stage timed where it ran: the run and its analysis apart, inside the total
    assert set(result["seconds"]) == {"export", "run", "analysis", "validate", "total"} <= documented
    assert sum(v for k, v in result["seconds"].items() if k != "total") <= result["seconds"]["total"] + 0.5
    assert result["seconds"]["analysis"] > 0 and result["seconds"]["run"] > 0
    # both skills that parse per-result entries name exactly the keys they have
    for skill in (SKILL, REPO_ROOT / "agentic-kits/skills/run-and-compare/skill.md"):
        listed = re.search(r"`results` \(one per experiment and thread\s+count:\s+([^)]*)\)", skill.read_text())
        assert listed, f"{skill.parent.name}: no results (...) list"
        assert set(re.findall(r"`([a-z_]+)`", listed[1])) == set(result["results"][0]), skill.parent.name


def test_a_fresh_export_is_reused_and_an_edit_makes_it_stale(workspace: dict, profiled) -> None:
    assert profiled[0] == 0, profiled[2]
    code, result, _ = profile(workspace, "--dry-run")
    assert code == 0 and result["export"] == {"pte": result["export"]["pte"], "exported": False,
                                              "reason": "up to date"}
    _, with_option, _ = profile(workspace, "--dry-run", "--model-arg", "width=8")
    assert with_option["export"]["reason"].startswith("the model options differ")
    package = workspace["root"] / "models/my_cnn/__init__.py"
    package.write_text(package.read_text() + "\n# an edit\n")
    _, edited, _ = profile(workspace, "--dry-run")
    assert edited["export"]["reason"] == "the model package changed since the export"


def test_a_misspelt_model_is_one_json_error_naming_the_nearest(workspace: dict) -> None:
    proc = run_script("profile_model.py", "--model", "my_cnm", "--json", env=workspace["env"], timeout=300)
    assert proc.returncode == 2
    result = json.loads(proc.stdout)
    assert result["exit_code"] == 2 and result["error"] == "unknown model 'my_cnm'"
    assert result["fix"].startswith("did you mean my_cnn")
    assert "error: unknown model 'my_cnm'" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--runners", "pybind,wheell"], "unknown runner 'wheell' in --runners"),
    (["--runners", "auto,pybind"], "--runners auto cannot be combined with runner names"),
    (["--threads", "0"], "'0' is not a whole number above 0"),
    (["--dtype", "int4"], "argument --dtype: invalid choice: 'int4'"),
    (["--thraeds", "2"], "unknown option '--thraeds'"),
])
def test_bad_options_are_one_json_error(args: list[str], message: str) -> None:
    proc = run_script("profile_model.py", "--model", "toy_cnn", *args, "--dry-run", "--json", timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert message in result["error"] and result["fix"] and result["exit_code"] == 2


# ---------------------------------------------------------------- which runners "auto" takes

def _host(platform: str = "linux-x86_64", sme2: bool = False, cpus: int = 2) -> dict:
    return {"platform": platform, "cpu_count": cpus, "cpu_features": {"sme": sme2, "sme2": sme2}}


def _runner(name: str, status: str = OK, fix: str = "") -> Check:
    return Check(f"runner {name}", status, f"{name} detail", fix)


def _auto(host: dict, checks: list[Check]) -> runner_choice.RunnerChoice:
    return runner_choice.choose_auto(host, checks, runs=20, warmup=3, threads=[1, 2])


def test_auto_on_a_fresh_linux_host_is_pybind_and_says_what_is_missing() -> None:
    checks = [_runner("pybind"), _runner("wheel-linux-x86_64", WARN, "bash scripts/build_runners.sh --wheel"),
              Check("qemu-aarch64", OK, "version 10.0.2"), Check("aarch64 sysroot", OK, "/usr/aarch64-linux-gnu"),
              _runner("wheel-linux-aarch64", WARN, "bash scripts/build_runners.sh --wheel --platform linux-aarch64")]
    choice = _auto(_host(), checks)
    assert choice.names == ["pybind"] and choice.compare_pairs == []
    assert [(s["runner"], s["fix"]) for s in choice.skipped] == [
        ("wheel", "bash scripts/build_runners.sh --wheel"),
        ("wheel-aarch64-emulated", "bash scripts/build_runners.sh --wheel --platform linux-aarch64")]


def test_auto_with_everything_built_on_linux_adds_wheel_sme2_off_and_the_emulated_pair() -> None:
    checks = [_runner("pybind"), _runner("wheel-linux-x86_64"), _runner("linux-x86_64-sme2-off"),
              _runner("linux-x86_64-sme2-off-xnntrace"), Check("qemu-aarch64", OK, "10.0.2"),
              Check("aarch64 sysroot", OK, "/usr/aarch64-linux-gnu"), _runner("wheel-linux-aarch64")]
    choice = _auto(_host(), checks)
    assert choice.names == ["pybind", "wheel", "sme2_off", "sme2_off_xnntrace", "emulated_sme", "emulated_sme_off"]
    by_name = {e["name"]: e for e in choice.experiments}
    assert by_name["sme2_off"]["sme2"] == "off" and by_name["sme2_off"]["threads"] == [1, 2]
    assert by_name["sme2_off_xnntrace"]["mode"] == "xnntrace" and by_name["sme2_off_xnntrace"]["threads"] == [1]
    assert by_name["emulated_sme_off"]["cpu"] == "max,sme=off" and by_name["emulated_sme"]["runs"] <= 5
    assert choice.compare_pairs == [["emulated_sme", "emulated_sme_off"]]


def test_auto_on_an_sme2_mac_compares_sme2_on_with_off() -> None:
    checks = [_runner("pybind"), _runner("macos-arm64-sme2-on"), _runner("macos-arm64-sme2-off"),
              _runner("macos-arm64-sme2-on-xnntrace"), _runner("android-arm64-sme2-on")]
    choice = _auto(_host("macos-arm64", sme2=True, cpus=10), checks)
    assert choice.names == ["pybind", "sme2_on", "sme2_off", "sme2_on_xnntrace"]
    assert choice.compare_pairs == [["sme2_on", "sme2_off"]]
    assert {e["name"]: e["sme2"] for e in choice.experiments}["sme2_on"] == "on"


def test_auto_leaves_sme2_on_out_where_the_cpu_has_no_sme2() -> None:
    checks = [_runner("pybind"), _runner("linux-aarch64-sme2-on"), _runner("linux-aarch64-sme2-off")]
    choice = _auto(_host("linux-aarch64", sme2=False), checks)
    assert choice.names == ["pybind", "sme2_off"]
    assert choice.skipped[0]["runner"] == "linux-aarch64-sme2-on" and "no SME2" in choice.skipped[0]["reason"]


def test_auto_reads_the_real_setup_checks_of_this_host() -> None:
    """The same checks validate_setup.py reports: pybind is always among them."""
    from sme2prof.host_info import describe_host
    host = describe_host()
    choice = _auto(host, runner_choice.runner_checks(host))
    assert choice.names[0] == "pybind"
    assert all(s["reason"] and s["runner"] for s in choice.skipped)


@pytest.mark.parametrize("cpus, threads", [(1, [1]), (2, [1, 2]), (4, [1, 4]), (10, [1, 4])])
def test_default_threads_stay_within_the_cpus(cpus: int, threads: list[int]) -> None:
    assert runner_choice.default_threads(cpus) == threads


# ---------------------------------------------------------------- staleness by the export record

def test_the_package_hash_follows_content_not_caches(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text("x = 1\n")
    first = package_sha256(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"cache")
    assert package_sha256(tmp_path) == first
    (tmp_path / "weights.txt").write_text("1 2 3\n")
    assert package_sha256(tmp_path) != first


def test_stale_reasons(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("x = 1\n")
    pte = tmp_path / "m_fp32.pte"
    wanted = export_inputs(package, "fp32", None, {})
    assert stale_reason(pte, wanted).startswith("no export yet")
    pte.write_bytes(b"pte")
    pte.with_name("m_fp32.etrecord").write_bytes(b"etrecord")
    record = pte.with_name("m_fp32.export.json")
    record.write_text(json.dumps({"model": "m"}))
    assert "exported by an earlier kit" in stale_reason(pte, wanted)
    record.write_text(json.dumps({"inputs": {**wanted, "executorch_version": "1.4.0"}}))
    assert stale_reason(pte, wanted).startswith("ExecuTorch was upgraded or downgraded")
    record.write_text(json.dumps({"inputs": wanted}))
    assert stale_reason(pte, wanted) is None
    # .venv-vision's torch is the CUDA build of the same release: its exports stay fresh in .venv
    record.write_text(json.dumps({"inputs": {**wanted, "torch_version": "2.13.0"}}))
    assert stale_reason(pte, {**wanted, "torch_version": "2.13.0+cpu"}) is None


def test_json_mode_prints_one_object_whatever_happens(capsys) -> None:
    """Progress printed by the command goes to stderr; a UserError or Ctrl-C still ends in
    one JSON object on stdout with exit_code, error and fix (through run_entry_point, the
    glue every entry script runs in)."""
    from sme2prof.errors import UserError, run_entry_point
    from sme2prof.workflow.cli import with_json_output

    def fails(_args, outcome):
        print("progress line")
        outcome["model"] = "m"
        raise UserError("something is wrong", "do this")

    def interrupted(_args, outcome):
        outcome["run_dir"] = "out/runs/r"
        raise KeyboardInterrupt

    assert run_entry_point(lambda argv: with_json_output(argv, fails), ["--json"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out) == {"exit_code": 2, "model": "m", "error": "something is wrong", "fix": "do this"}
    assert "progress line" in err and "error: something is wrong" in err
    assert run_entry_point(lambda argv: with_json_output(argv, interrupted), ["--json"]) == 130
    result = json.loads(capsys.readouterr().out)
    assert result["exit_code"] == 130 and result["fix"] == "python scripts/mac_pipeline.py --resume out/runs/r"
