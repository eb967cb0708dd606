"""The host pipeline, for real: toy_cnn exported with the kit, run by both runners.

Covers the acceptance criteria of the pipeline: ETDumps from the pybind and wheel
runners that the ExecuTorch Inspector parses into per-operator XNNPACK rows, a complete
manifest, a crashing runner that fails only its own experiment, Ctrl-C that keeps
finished results and ``--resume`` that completes the rest, and ``--dry-run``.
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kit_helpers import SCRIPTS_DIR
from pipeline_helpers import experiment, snapshot, toy_cnn_pte, wheel_runner, write_config
from sme2prof.pipeline import manifest as mf
from sme2prof.fileio import sha256_file
from sme2prof.errors import EXIT_INTERRUPTED
from sme2prof.host_info import describe_host

STAND_INS = Path(__file__).resolve().parent / "stand_ins"


@pytest.fixture(scope="module")
def model() -> Path:
    return toy_cnn_pte()


@pytest.fixture(scope="module")
def wheel() -> Path:
    return wheel_runner()


def start_pipeline(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPTS_DIR / "mac_pipeline.py"), *args, "--no-analyze"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_pipeline(*args: str) -> tuple[int, str]:
    proc = start_pipeline(*args)
    out, _ = proc.communicate(timeout=600)
    return proc.returncode, out


def only_run_dir(root: Path) -> Path:
    runs = [p for p in root.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def inspector_rows(run_dir: Path, result: dict, etrecord: str):
    from executorch.devtools import Inspector
    frame = Inspector(etdump_path=str(run_dir / result["etdump"]), etrecord=etrecord).to_dataframe()
    return frame[(frame.event_block_name == "Execute") & frame.is_delegated_op]


def test_real_run_with_both_runners(tmp_path: Path, model: Path, wheel: Path) -> None:
    config = write_config(tmp_path, model, [experiment("py", "pybind", threads=[2], runs=4, warmup=1),
                                            experiment("cpp", "wheel", threads=[1, 2], runs=4, warmup=1)],
                          analysis={"compare_pairs": [["py", "cpp"]]})
    code, out = run_pipeline("--config", str(config))
    assert code == 0, out
    assert "[1/3] py t2: ok, median" in out and "[3/3] cpp t2: ok, median" in out
    run_dir = only_run_dir(tmp_path / "runs")
    assert f"run directory: {run_dir}" in out
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["finished_at"]
    assert manifest["model"]["sha256"] == sha256_file(model) == sha256_file(run_dir / manifest["model"]["pte"])
    assert manifest["model"]["path"] == str(model) and manifest["model"]["pte"] == f"model/{model.name}"
    assert manifest["model"]["export"]["model"] == "toy_cnn"
    assert manifest["executorch"]["version"].startswith("1.5.1")
    assert manifest["host"]["cpu_features"] == describe_host()["cpu_features"]
    assert json.loads((run_dir / "config.json").read_text())["experiments"][1]["name"] == "cpp"
    py, cpp = manifest["experiments"]
    assert (py["runner_kind"], cpp["runner_kind"]) == ("pybind", "wheel")
    assert cpp["build_info"]["kind"] == "wheel" and cpp["runner_path"] == str(wheel)
    assert "threadpool has 2 threads" in (run_dir / py["results"][0]["log"]).read_text()
    for exp in (py, cpp):
        assert exp["status"] == "ok"
        for result in exp["results"]:
            assert result["status"] == "ok" and result["returncode"] == 0 and result["error"] is None
            assert len(result["iterations_ms"]) == 5 and all(ms > 0 for ms in result["iterations_ms"])
            assert result["wall_seconds"] > 0 and result["started_at"] <= result["finished_at"]
            rows = inspector_rows(run_dir, result, str(run_dir / manifest["model"]["etrecord"]))
            names = set(rows.event_name)
            assert any(name.startswith("Convolution (NHWC, F32)") for name in names), names
            assert all(len(raw) == 5 for raw in rows.raw), "one event per execution, warm-up included"


def test_crashing_runner_fails_only_its_experiment(tmp_path: Path, model: Path, wheel: Path) -> None:
    config = write_config(tmp_path, model, [experiment("crash", str(STAND_INS / "crashing_runner.py")),
                                            experiment("cpp", "wheel")])
    code, out = run_pipeline("--config", str(config))
    assert code == 1, out
    assert "[1/2] crash t1: FAILED (runner exited with code -11); log " in out and "[2/2] cpp t1: ok" in out
    assert "    | crashing_runner: simulating a segmentation fault in iteration 2" in out, out
    assert "Traceback" not in out
    manifest = json.loads((only_run_dir(tmp_path / "runs") / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    crash, cpp = manifest["experiments"]
    assert crash["status"] == "failed" and cpp["status"] == "ok"
    assert "simulating a segmentation fault" in crash["results"][0]["error"]
    assert crash["results"][0]["iterations_ms"] == [0.5] and crash["results"][0]["returncode"] == -11


def test_ctrl_c_keeps_finished_results_and_resume_completes(tmp_path: Path, model: Path, wheel: Path) -> None:
    config = write_config(tmp_path, model, [experiment("cpp", "wheel"), experiment("py", "pybind")])
    proc = start_pipeline("--config", str(config))
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("[2/2] py t1: pybind"):
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INTERRUPTED, "".join(seen) + out
    assert "--resume" in out and "Traceback" not in out
    run_dir = only_run_dir(tmp_path / "runs")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    cpp, py = manifest["experiments"]
    assert cpp["results"][0]["status"] == "ok" and py["results"][0]["status"] == "interrupted"
    finished = snapshot(run_dir / "cpp")

    code, out = run_pipeline("--resume", str(run_dir))
    assert code == 0, out
    assert "1 of 2 results to run" in out
    assert only_run_dir(tmp_path / "runs") == run_dir, "resume must not create another run"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["resumed_at"]) == 1
    assert [e["status"] for e in manifest["experiments"]] == ["ok", "ok"]
    assert snapshot(run_dir / "cpp") == finished, "finished results must stay untouched"
    assert (run_dir / "py" / "t1" / "attempt-1" / "runner.log").is_file(), "the interrupted attempt is kept"

    code, out = run_pipeline("--resume", str(run_dir))
    assert code == 0 and "nothing to resume" in out


def test_dry_run_prints_commands_and_writes_nothing(tmp_path: Path, model: Path, wheel: Path) -> None:
    config = write_config(tmp_path, model, [experiment("py", "pybind", threads=[1, 2]),
                                            experiment("cpp", "wheel")])
    code, out = run_pipeline("--config", str(config), "--dry-run")
    assert code == 0, out
    assert out.count("--etdump_path") == 3 and "-m sme2prof.runners.pybind_worker" in out and str(wheel) in out
    assert "--num_executions 4 --cpu_threads 2" in out
    assert not (tmp_path / "runs").exists()


def test_run_ids_are_unique_within_one_second(tmp_path: Path) -> None:
    ids = [mf.create_run_dir(tmp_path, "x")[0] for _ in range(3)]
    assert len(set(ids)) == 3 and all(i.split("-")[2] == "x" for i in ids)


def test_resume_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    code, out = run_pipeline("--resume", str(tmp_path))
    assert code == 2 and "not a run directory" in out and "Traceback" not in out


def test_json_gives_agents_one_summary_on_stdout(tmp_path: Path, model: Path) -> None:
    """--json: progress on stderr, and stdout parses as one object naming the run and its results."""
    config = write_config(tmp_path, model, [experiment("py", "pybind", threads=[1], runs=3, warmup=1)])
    proc = subprocess.run([sys.executable, str(SCRIPTS_DIR / "mac_pipeline.py"), "--config", str(config),
                           "--no-analyze", "--json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    run_dir = only_run_dir(tmp_path / "runs")
    assert summary["run_dir"] == str(run_dir) and summary["status"] == "complete"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    timed = manifest["experiments"][0]["results"][0]["iterations_ms"][1:]
    assert summary["results"] == [{"experiment": "py", "threads": 1, "status": "ok", "error": None,
                                   "latency_ms": None,        # "the" latency comes from the analysis
                                   "median_ms_runner_clock": sorted(timed)[1]}]
    assert "[1/1] py t1: ok" in proc.stderr

    dry = subprocess.run([sys.executable, str(SCRIPTS_DIR / "mac_pipeline.py"), "--config", str(config),
                          "--dry-run", "--json"], capture_output=True, text=True, timeout=600)
    plan = json.loads(dry.stdout)
    assert plan["dry_run"] is True and plan["plan"][0]["command"][-2:] == ["--cpu_threads", "1"]
    assert "--num_executions" in plan["plan"][0]["command"]


def test_runner_that_prints_nothing_says_so(tmp_path: Path) -> None:
    """Not "FAILED (... last log lines:)" followed by nothing."""
    config = write_config(tmp_path, toy_cnn_pte(), [experiment("silent", shutil.which("false"))])
    code, out = run_pipeline("--config", str(config))
    assert code == 1 and "Traceback" not in out, out
    assert "[1/1] silent t1: FAILED (runner exited with code 1 (the runner printed nothing)); log " in out
    assert "last log lines" not in out
    assert "silent                   t1   failed      runner exited with code 1 (the runner printed nothing)" in out
    manifest = json.loads((only_run_dir(tmp_path / "runs") / "manifest.json").read_text())
    assert manifest["experiments"][0]["results"][0]["error"] == "runner exited with code 1 (the runner printed nothing)"


def test_pybind_worker_starts_without_the_export_stack(tmp_path: Path, model: Path) -> None:
    """Each pybind experiment starts a worker: it loads the runtime with torch only, not
    executorch.exir (torch._dynamo and the exporter: ~6 s of CPU per start on 2 cores),
    and still writes an ETDump with every execution."""
    code = ("import sys; from sme2prof.runners import pybind_worker as w; "
            f"rc = w.main(['--model_path', {str(model)!r}, '--etdump_path', {str(tmp_path / 'e.etdp')!r}, "
            "'--num_executions', '3', '--cpu_threads', '1']); "
            "print('EXIR_LOADED' if 'executorch.exir' in sys.modules else 'EXIR_NOT_LOADED'); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=str(SCRIPTS_DIR))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "EXIR_NOT_LOADED" in proc.stdout
    assert proc.stdout.count("Iteration ") == 3 and (tmp_path / "e.etdp").stat().st_size > 0
