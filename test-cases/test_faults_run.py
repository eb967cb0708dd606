"""Runs that cannot lie: signals, a second process, a killed pipeline, a closed pipe, a model
replaced mid-run, a full disk, all on real pipeline processes with real runners.

Each test asserts what a user would notice: the exit code, one clear message, no
traceback, no runner process left behind, a manifest that says what happened, nothing
finished lost or overwritten, and that ``--resume`` then completes the run.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kit_helpers import SCRIPTS_DIR, exported, run_script
from pipeline_helpers import experiment, snapshot, toy_cnn_pte, wheel_runner, write_config
from sme2prof.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED
from sme2prof.fileio import sha256_file


@pytest.fixture(scope="module", autouse=True)
def wheel() -> Path:
    return wheel_runner()


def _default_sigint() -> None:
    """As from a terminal: a test run in the background would hand SIGINT down ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPTS_DIR / "mac_pipeline.py"), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_default_sigint)


def read_until(proc: subprocess.Popen, marker: str, timeout: float = 300) -> str:
    seen = []
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        seen.append(line)
        if marker in line or time.monotonic() > deadline:
            break
    text = "".join(seen)
    assert marker in text, text
    return text


def finish(proc: subprocess.Popen, seen: str = "") -> str:
    out, _ = proc.communicate(timeout=600)
    return seen + out


def run_dir_in(folder: Path) -> Path:
    (run,) = [p for p in (folder / "runs").iterdir() if p.is_dir()]
    return run


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


def processes_of(run_dir: Path) -> list[str]:
    """Live processes whose command line names the run directory (runners write their ETDump there)."""
    ps = subprocess.run(["ps", "-A", "-ww", "-o", "pid=,args="], capture_output=True, text=True).stdout
    return [line.strip() for line in ps.splitlines() if str(run_dir) in line and "pid=,args=" not in line]


def wait_gone(run_dir: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while processes_of(run_dir) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not processes_of(run_dir)


def resume(run_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_script("mac_pipeline.py", "--resume", str(run_dir), *extra)


def own_export(folder: Path, source: Path) -> Path:
    """A private copy of an export (pte + etrecord + export.json): the session's must stay intact."""
    dest = folder / "export"
    dest.mkdir(exist_ok=True)
    for path in source.parent.glob(source.stem + ".*"):
        shutil.copy2(path, dest / path.name)
    return dest / source.name


def replace_export(model: Path, other: Path) -> None:
    """What export_model.py does to an earlier export: write each file anew, rename it over the old."""
    for path in other.parent.glob(other.stem + ".*"):
        staged = model.parent / f".{path.name}.new"
        shutil.copy2(path, staged)
        os.replace(staged, model.parent / path.name.replace(other.stem, model.stem))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_signal_stops_the_runner_and_resume_completes(tmp_path: Path, sig: signal.Signals) -> None:
    config = write_config(tmp_path, toy_cnn_pte(), [experiment("first", "wheel"), experiment("slow", "pybind")])
    proc = start("--config", str(config), "--no-analyze")
    seen = read_until(proc, "[2/2] slow t1: pybind")
    run_dir = run_dir_in(tmp_path)
    time.sleep(0.5)                                 # the pybind worker is starting up
    assert processes_of(run_dir), "the runner must be running when the signal comes"
    proc.send_signal(sig)
    out = finish(proc, seen)
    assert proc.returncode == EXIT_INTERRUPTED, out
    assert "Traceback" not in out and f"interrupted ({sig.name})" in out
    assert f"--resume {run_dir}" in out
    assert not processes_of(run_dir), "no runner may outlive the pipeline"
    saved = manifest(run_dir)
    first, slow = (e["results"][0] for e in saved["experiments"])
    assert saved["status"] == "interrupted" and first["status"] == "ok"
    assert slow["status"] == "interrupted" and slow["error"] == f"interrupted by {sig.name}"
    assert f"stopped by the pipeline: interrupted ({sig.name})" in (run_dir / slow["log"]).read_text()
    assert not (run_dir / ".lock").exists()
    finished = snapshot(run_dir / "first")

    done = resume(run_dir, "--no-analyze")
    assert done.returncode == 0, done.stdout + done.stderr
    assert manifest(run_dir)["status"] == "complete"
    assert snapshot(run_dir / "first") == finished


def test_second_process_on_a_run_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, toy_cnn_pte(), [experiment("first", "wheel"),
                                                    experiment("slow", "pybind", runs=20000)])
    assert run_script("mac_pipeline.py", "--config", str(config), "--no-analyze").returncode == 0
    run_dir = run_dir_in(tmp_path)
    saved = manifest(run_dir)
    saved["status"] = saved["experiments"][1]["results"][0]["status"] = "interrupted"
    (run_dir / "manifest.json").write_text(json.dumps(saved))
    (run_dir / "slow" / "t1" / "etdump.etdp").unlink()

    owner = start("--resume", str(run_dir), "--no-analyze")
    seen = read_until(owner, "[1/1] slow t1: pybind")
    second = resume(run_dir, "--no-analyze")
    out = finish(owner, seen)
    assert second.returncode == 2 and "Traceback" not in second.stderr
    assert f"is in use by another process (pid {owner.pid} on" in second.stderr
    assert "fix: wait for it to finish" in second.stderr
    assert owner.returncode == 0, out
    log = (run_dir / "slow" / "t1" / "runner.log").read_text()
    assert log.count("$ ") == 1, "only the owner ran the job"
    assert manifest(run_dir)["status"] == "complete"


def test_runner_of_a_killed_pipeline_keeps_the_run_locked(tmp_path: Path) -> None:
    """kill -9 cannot be caught: the runner lives on, and it still holds the run, so a --resume
    neither runs beside it nor has its result overwritten by it later."""
    config = write_config(tmp_path, toy_cnn_pte(), [experiment("slow", "pybind", runs=20000)])
    proc = start("--config", str(config), "--no-analyze")
    read_until(proc, "[1/1] slow t1: pybind")
    run_dir = run_dir_in(tmp_path)
    time.sleep(0.5)
    proc.kill()
    proc.wait()
    orphans = processes_of(run_dir)
    assert orphans, "the runner outlives a SIGKILLed pipeline"
    refused = resume(run_dir, "--no-analyze")
    if processes_of(run_dir):             # the orphan may end while the resume starts up
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        assert "is still in use by a runner (pid" in refused.stderr and "kill " in refused.stderr
    wait_gone(run_dir)
    done = resume(run_dir, "--no-analyze")
    assert done.returncode == 0 and "took over the lock" in done.stderr, done.stdout + done.stderr
    assert manifest(run_dir)["status"] == "complete"
    kept = list((run_dir / "slow" / "t1").glob("attempt-*/runner.log"))
    assert kept, "the killed attempt's files are kept, not overwritten"


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    config = write_config(tmp_path, toy_cnn_pte(), [experiment("a", "wheel")])
    assert run_script("mac_pipeline.py", "--config", str(config), "--no-analyze").returncode == 0
    run_dir = run_dir_in(tmp_path)
    (run_dir / ".lock").write_text(json.dumps({"pid": 2 ** 22 + 1, "host": os.uname().nodename,
                                                "purpose": "run", "started_at": "2026-01-01T00:00:00+00:00"}))
    (run_dir / "a" / "t1" / "etdump.etdp").unlink()
    done = resume(run_dir, "--no-analyze")
    assert done.returncode == 0, done.stderr
    assert f"took over the lock of pid {2 ** 22 + 1}" in done.stderr
    assert "a t1 was ok, but ETDump not found" in done.stdout, "a deleted ETDump is measured again"
    assert not (run_dir / ".lock").exists()

    from sme2prof.pipeline.lock import RunLock
    with RunLock(run_dir, "test"):       # a live owner: the analysis may not write <run>/analysis/
        busy = run_script("analyze_results.py", str(run_dir), "--no-charts")
    assert busy.returncode == 2 and f"is in use by another process (pid {os.getpid()} on" in busy.stderr
    assert not (run_dir / "analysis").exists()


def test_closed_stdout_interrupts_the_run(tmp_path: Path) -> None:
    """head exits after two lines; the pipeline's next line finds the pipe closed and stops the run."""
    config = write_config(tmp_path, toy_cnn_pte(), [experiment("first", "wheel"), experiment("second", "wheel")])
    command = f'"{sys.executable}" "{SCRIPTS_DIR / "mac_pipeline.py"}" --config "{config}" --no-analyze | head -2'
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=600)
    assert proc.returncode == EXIT_BROKEN_PIPE, proc.stderr
    assert "Traceback" not in proc.stderr and "stdout was closed" in proc.stderr
    run_dir = run_dir_in(tmp_path)
    assert manifest(run_dir)["status"] == "interrupted"
    assert not processes_of(run_dir)
    assert resume(run_dir, "--no-analyze").returncode == 0
    assert manifest(run_dir)["status"] == "complete"


def test_interrupted_analysis_is_redone_by_resume(tmp_path: Path) -> None:
    config = write_config(tmp_path, toy_cnn_pte(), [experiment("a", "wheel"), experiment("b", "wheel")])
    proc = start("--config", str(config))
    seen = read_until(proc, "analysing the run")
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out = finish(proc, seen)
    assert proc.returncode == EXIT_INTERRUPTED and "Traceback" not in out, out
    run_dir = run_dir_in(tmp_path)
    saved = manifest(run_dir)
    assert saved["status"] == "interrupted" and saved["analysis"]["status"] == "interrupted"
    assert [e["status"] for e in saved["experiments"]] == ["ok", "ok"]
    done = resume(run_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the analysis is missing or out of date: redoing it" in done.stdout
    saved = manifest(run_dir)
    assert saved["status"] == "complete" and saved["analysis"]["status"] == "complete"
    assert (run_dir / "analysis" / "summary.json").is_file()


def _model_paths_used(run_dir: Path) -> set[str]:
    paths = set()
    for log in run_dir.glob("*/t1/runner.log"):
        for line in log.read_text().splitlines():
            if line.startswith("$ ") and "--model_path" in line:
                paths.add(line.split("--model_path ")[1].split()[0])
    return paths


def test_model_replaced_during_the_run_is_not_measured(tmp_path: Path) -> None:
    """A re-export mid-run (new file renamed over the old): every job still runs the run's copy."""
    model = own_export(tmp_path, toy_cnn_pte())
    original = sha256_file(model)
    config = write_config(tmp_path, model, [experiment("a", "wheel"), experiment("b", "pybind"),
                                            experiment("c", "wheel")])
    proc = start("--config", str(config), "--no-analyze")
    seen = read_until(proc, "[2/3] b t1: pybind")
    replace_export(model, exported("toy_cnn", width=32))
    out = finish(proc, seen)
    assert proc.returncode == 0, out
    assert sha256_file(model) != original, "the export was replaced"
    run_dir = run_dir_in(tmp_path)
    assert _model_paths_used(run_dir) == {str(run_dir / "model" / model.name)}
    assert manifest(run_dir)["model"]["sha256"] == original == sha256_file(run_dir / "model" / model.name)


def test_model_overwritten_in_place_stops_the_run(tmp_path: Path) -> None:
    """cp over the same file changes the run's hard link too: the hash check stops the run."""
    model = own_export(tmp_path, toy_cnn_pte())
    config = write_config(tmp_path, model, [experiment("a", "wheel"), experiment("b", "pybind"),
                                            experiment("c", "wheel")])
    proc = start("--config", str(config), "--no-analyze")
    seen = read_until(proc, "[2/3] b t1: pybind")
    shutil.copyfile(exported("toy_cnn", width=32), model)
    out = finish(proc, seen)
    assert proc.returncode == 2 and "Traceback" not in out, out
    assert "changed while the run was going" in out and "fix: the results measured before the change" in out
    run_dir = run_dir_in(tmp_path)
    a, b, c = (e["results"][0] for e in manifest(run_dir)["experiments"])
    assert a["status"] == "ok" and b["status"] == "ok", "results measured before the change are kept"
    assert c["status"] == "interrupted" and c["error"] == "not run: the model file changed"
    assert manifest(run_dir)["status"] == "failed"


def test_resume_uses_the_runs_own_model_when_the_export_is_gone(tmp_path: Path) -> None:
    model = own_export(tmp_path, toy_cnn_pte())
    config = write_config(tmp_path, model, [experiment("a", "wheel"), experiment("b", "wheel")])
    assert run_script("mac_pipeline.py", "--config", str(config), "--no-analyze").returncode == 0
    run_dir = run_dir_in(tmp_path)
    shutil.rmtree(model.parent)
    (run_dir / "b" / "t1" / "etdump.etdp").unlink()
    done = resume(run_dir, "--no-analyze")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _model_paths_used(run_dir) == {str(run_dir / "model" / model.name)}


def test_analysis_of_an_old_run_uses_its_own_etrecord(tmp_path: Path) -> None:
    model = own_export(tmp_path, toy_cnn_pte())
    config = write_config(tmp_path, model, [experiment("a", "wheel")])
    assert run_script("mac_pipeline.py", "--config", str(config), "--no-analyze").returncode == 0
    run_dir = run_dir_in(tmp_path)
    replace_export(model, exported("toy_cnn", width=32))
    proc = run_script("analyze_results.py", str(run_dir), "--no-charts", "--json")
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)["results"]
    assert Path(result["etrecord"]).resolve() == (run_dir / "model" / "toy_cnn_fp32.etrecord").resolve()
    assert (run_dir / "model" / "toy_cnn_fp32.etrecord").stat().st_nlink == 1, \
        "the re-export replaced the export's file; the run kept the old one"


class Tmpfs:
    """A small real file system that can fill up (mount needs root; the test says when it cannot)."""

    def __init__(self, path: Path, size: str) -> None:
        self.path, self.size = path, size

    def __enter__(self) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs", str(self.path)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"a full disk needs a small tmpfs, and mounting one failed here (root only): "
                        f"{proc.stderr.strip()}")
        return self.path

    def __exit__(self, *exc_info) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


def fill(folder: Path) -> None:
    """Write until the file system holding ``folder`` has no byte left."""
    for name, block in (("filler.bin", 1 << 16), ("filler-tail.bin", 1)):
        try:
            with open(folder / name, "wb") as handle:
                while True:
                    handle.write(b"\0" * block)
                    handle.flush()
        except OSError:                  # ENOSPC, on a write or already on creating the file
            pass


def temporary_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


@pytest.mark.skipif(sys.platform != "linux", reason="tmpfs mounts are a Linux feature")
def test_disk_full_during_a_run(tmp_path: Path) -> None:
    with Tmpfs(tmp_path / "small", "4m") as small:
        config = write_config(tmp_path, toy_cnn_pte(), [experiment("a", "wheel"), experiment("b", "pybind"),
                                                        experiment("c", "wheel")], output_root=str(small / "runs"))
        proc = start("--config", str(config), "--no-analyze")
        seen = read_until(proc, "[2/3] b t1: pybind")
        fill(small)
        out = finish(proc, seen)
        assert proc.returncode == 2 and "Traceback" not in out, out
        assert "error: no space left on the device" in out and "--resume" in out
        run_dir = next(p for p in (small / "runs").iterdir() if p.is_dir())
        assert manifest(run_dir)["experiments"][0]["results"][0]["status"] == "ok", "a finished result stays recorded"
        assert not temporary_files(small), "nothing half-written is left"
        for filler in small.glob("filler*.bin"):
            filler.unlink()
        done = resume(run_dir, "--no-analyze")
        assert done.returncode == 0, done.stdout + done.stderr
        assert manifest(run_dir)["status"] == "complete"


@pytest.mark.skipif(sys.platform != "linux", reason="tmpfs mounts are a Linux feature")
def test_disk_full_during_an_export_keeps_the_earlier_one(tmp_path: Path) -> None:
    with Tmpfs(tmp_path / "small", "300k") as small:
        earlier = {path.name: path.read_bytes() for path in toy_cnn_pte().parent.glob("toy_cnn_fp32.*")}
        for name, data in earlier.items():
            (small / name).write_bytes(data)
        fill(small)
        (small / "filler-tail.bin").unlink(missing_ok=True)    # room for the write test, not for an export
        proc = run_script("export_model.py", "--model", "toy_cnn", "--model-arg", "width=32", "--out", str(small))
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "error: no space left on the device" in proc.stderr and "fix: free space there" in proc.stderr
        assert not temporary_files(small), "no .etrecord.tmp (or any staged file) is left"
        assert {name: (small / name).read_bytes() for name in earlier} == earlier
