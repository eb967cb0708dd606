"""Every input checked before work starts: damaged configs, models, run folders and model
packages give one ``error:``/``fix:`` pair (exit 2), no traceback, and nothing created or
changed; ok results whose files were damaged are measured again by ``--resume``.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from kit_helpers import run_script
from pipeline_helpers import experiment, snapshot, toy_cnn_pte, wheel_runner, write_config
from sme2prof.errors import UserError
from sme2prof.export.pte_check import check_pte, read_program


@pytest.fixture(scope="module", autouse=True)
def wheel() -> Path:
    return wheel_runner()


def refused(proc: subprocess.CompletedProcess, *expected: str) -> str:
    """Exit 2, exactly one error: line followed by a fix: line, no traceback."""
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2, text
    assert "Traceback" not in text, text
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == 1 and lines[errors[0] + 1].startswith("  fix: "), proc.stderr
    for text_part in expected:
        assert text_part in proc.stderr, proc.stderr
    return proc.stderr


def pipeline(*args: str) -> subprocess.CompletedProcess:
    return run_script("mac_pipeline.py", *args, "--no-analyze", timeout=600)


def good_config(folder: Path, **top) -> dict:
    return {"model": str(toy_cnn_pte()), "output_root": str(folder / "runs"),
            "experiments": [experiment("a", "wheel")], **top}


# ------------------------------------------------------------------------------ configs

@pytest.mark.parametrize("encode, expected", [
    (lambda text: text.encode("utf-16"), "is saved as UTF-16"),
    (lambda text: bytes(range(256)), "holds NUL bytes: it is a binary file"),
    (lambda text: b"[" * 100_000 + b"]" * 100_000, "nests lists or objects too deeply"),
    (lambda text: b'{"model": ' + b"{\"a\": " * 50_000 + b"1" + b"}" * 50_001, "nests lists or objects too deeply"),
    (lambda text: b'{"model": "\xff\xfe"}', "is not UTF-8 text (byte 0xff at offset 11)"),
], ids=["utf16", "binary", "nested-lists", "nested-objects", "latin1"])
def test_undecodable_config_is_refused(tmp_path: Path, encode, expected: str) -> None:
    config = tmp_path / "config.json"
    config.write_bytes(encode(json.dumps(good_config(tmp_path))))
    refused(pipeline("--config", str(config)), expected)
    assert not (tmp_path / "runs").exists()


def test_config_with_a_utf8_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Notepad's "UTF-8" starts with a BOM: that is still UTF-8, so it is accepted."""
    config = tmp_path / "config.json"
    config.write_bytes(json.dumps(good_config(tmp_path)).encode("utf-8-sig"))
    proc = pipeline("--config", str(config), "--dry-run")
    assert proc.returncode == 0 and "plan: 1 runner invocations" in proc.stdout, proc.stderr


@pytest.mark.parametrize("where", ["is-a-file", "under-a-file"])
def test_dry_run_checks_the_output_root(tmp_path: Path, where: str) -> None:
    (tmp_path / "afile").write_text("a file\n")
    root = tmp_path / "afile" if where == "is-a-file" else tmp_path / "afile" / "runs"
    config = tmp_path / "config.json"
    config.write_text(json.dumps(good_config(tmp_path, output_root=str(root))))
    refused(pipeline("--config", str(config), "--dry-run"), "output root is not writable",
            f"({tmp_path / 'afile'} is a file, not a folder)")
    assert (tmp_path / "afile").read_text() == "a file\n"


# ------------------------------------------------------------------------------ the .pte

@pytest.mark.parametrize("damage, expected", [
    (lambda data: data[:5000], "is truncated or damaged: it declares 27432 bytes"),
    (lambda data: data[:-1], "is truncated or damaged"),
    (lambda data: data[:1500], "is truncated or damaged: it declares a 1976-byte program"),
    (lambda data: b"", "is empty (0 bytes)"),
    (lambda data: b"this is not a model\n", "is not an ExecuTorch program (it is text: 'this is not a model'"),
    (lambda data: toy_cnn_pte().with_suffix(".etrecord").read_bytes(),
     "it is a zip archive: an ETRecord or a PyTorch checkpoint?"),
    (lambda data: data[:4] + b"ET99" + data[8:], "written by another ExecuTorch version"),
], ids=["segments-cut", "last-byte-cut", "program-cut", "empty", "text", "zip", "version"])
def test_damaged_model_is_refused_before_a_run_folder_exists(tmp_path: Path, damage, expected: str) -> None:
    data = toy_cnn_pte().read_bytes()
    if "27432" in expected or "1976" in expected:
        assert len(data) == 27432, "the toy export changed size: update the expected numbers"
    model = tmp_path / "m_fp32.pte"
    model.write_bytes(damage(data))
    config = write_config(tmp_path, model, [experiment("a", "pybind")])
    refused(pipeline("--config", str(config)), expected, "fix: ")
    assert not (tmp_path / "runs").exists(), "no run folder for a model no runner can load"


def test_model_path_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "m_fp32.pte").mkdir()
    config = write_config(tmp_path, tmp_path / "m_fp32.pte", [experiment("a", "wheel")])
    refused(pipeline("--config", str(config)), "is a folder, not a .pte file")


def test_program_metadata_is_read_without_the_runtime() -> None:
    started = time.perf_counter()
    program = check_pte(toy_cnn_pte())
    assert time.perf_counter() - started < 0.5
    (method,) = program.methods
    assert method.name == "forward" and method.outputs == 1
    assert [(i.dtype, i.sizes) for i in method.inputs] == [("float32", [1, 3, 32, 32])]


def test_every_cut_of_a_program_is_refused() -> None:
    """Whatever byte a copy stops at, the check says truncated (never a crash, never ok)."""
    data = toy_cnn_pte().read_bytes()
    for cut in range(0, len(data), 97):
        with pytest.raises((UserError, ValueError)):
            read_program(data[:cut])


# ------------------------------------------------------------------------------ run folders

@pytest.fixture()
def finished_run(tmp_path: Path) -> Path:
    config = write_config(tmp_path, toy_cnn_pte(), [experiment("a", "wheel"), experiment("b", "wheel")])
    proc = pipeline("--config", str(config))
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    return run_dir


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _unfinish(manifest: dict) -> None:
    manifest["status"] = "interrupted"
    manifest["experiments"][1]["results"][0]["status"] = "interrupted"


@pytest.mark.parametrize("damage, expected", [
    (lambda run: (run / "config.json").unlink(), "has no config.json"),
    (lambda run: (run / "config.json").write_bytes(b"\xff\xfe\x00garbage"), "config.json: "),
    (lambda run: (run / "manifest.json").write_text("[]"), "the manifest must be a JSON object, it is a list"),
    (lambda run: _edit(run / "manifest.json", lambda m: m["experiments"][1].pop("results")),
     "experiments[1] (b).results must be a non-empty list"),
    (lambda run: _edit(run / "config.json", lambda c: c["experiments"].append(experiment("c", "wheel"))),
     "and the manifest of the run disagree (3 experiments in config.json, 2 in the manifest)"),
    (lambda run: _edit(run / "config.json", lambda c: c["experiments"][0].update(runs=99)),
     "and the manifest of the run disagree ('a')"),
], ids=["no-config", "garbage-config", "manifest-list", "no-results", "extra-experiment", "other-runs"])
def test_resume_of_a_damaged_run_is_refused(finished_run: Path, damage, expected: str) -> None:
    _edit(finished_run / "manifest.json", _unfinish)
    damage(finished_run)
    before = snapshot(finished_run)
    refused(pipeline("--resume", str(finished_run)), expected)
    assert snapshot(finished_run) == before, "a refused resume changes nothing"


@pytest.mark.parametrize("damage, note", [
    (lambda etdump: etdump.unlink(), "ETDump not found"),
    (lambda etdump: etdump.write_bytes(etdump.read_bytes()[:300]), "holds 300 of its"),
], ids=["deleted", "truncated"])
def test_resume_measures_again_an_ok_result_whose_etdump_is_damaged(finished_run: Path, damage, note: str) -> None:
    etdump = finished_run / "b" / "t1" / "etdump.etdp"
    damage(etdump)
    proc = pipeline("--resume", str(finished_run))
    assert proc.returncode == 0, proc.stderr
    assert f"note: b t1 was ok, but" in proc.stdout and note in proc.stdout
    assert "1 of 2 results to run" in proc.stdout
    assert etdump.stat().st_size > 300 and (finished_run / "b" / "t1" / "attempt-1" / "runner.log").is_file()


@pytest.mark.parametrize("damage, field", [
    (lambda m: m["experiments"][0].update(warmup="abc"), "experiments[0] (a).warmup must be an integer >= 0, got 'abc'"),
    (lambda m: m["experiments"][1]["results"][0].update(iterations_ms="fast"),
     "experiments[1] (b).results[0].iterations_ms must be a list of numbers"),
    (lambda m: m["experiments"][0]["results"][0].update(status=5), "results[0].status must be one of"),
], ids=["warmup", "iterations", "status"])
def test_damaged_manifest_is_named_by_analysis_and_validation(finished_run: Path, damage, field: str) -> None:
    _edit(finished_run / "manifest.json", damage)
    refused(run_script("analyze_results.py", str(finished_run), "--no-charts"), field)
    checked = run_script("validate_results.py", str(finished_run))
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert f"MISSING manifest: " in checked.stdout and field in checked.stdout


def test_validation_fails_an_ok_result_with_the_wrong_number_of_iterations(finished_run: Path) -> None:
    _edit(finished_run / "manifest.json", lambda m: m["experiments"][0]["results"][0]["iterations_ms"].pop())
    checked = run_script("validate_results.py", str(finished_run))
    assert checked.returncode == 1
    assert "MISSING manifest fields: experiments[0] (a).results[0] is ok with 3 iterations, but warmup + runs is 4" \
        in checked.stdout


# ------------------------------------------------------------------------------ model packages

def _package(folder: Path, name: str, source: str) -> Path:
    package = folder / "models" / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(source)
    return folder / "models"


TINY = """import torch
from torch import nn

class Model(nn.Module):
    def forward(self, x):
        return {forward}

def build_model():
    return Model()

def example_inputs():
    return {inputs}
"""


@pytest.mark.parametrize("name, source, expected", [
    ("exits", "import sys\nsys.exit(3)\n", "calls sys.exit(3) when imported"),
    ("bad_dtypes", "DTYPES = 5\ndef build_model():\n    pass\ndef example_inputs():\n    pass\n",
     "sets DTYPES = 5; it must be a non-empty tuple of dtype names"),
    ("hangs", "import time\ntime.sleep(3600)\n", "did not finish importing within 12 s"),
])
def test_broken_package_is_listed_and_blocks_nothing(tmp_path: Path, name: str, source: str, expected: str) -> None:
    """The shipped packages load first (they pay torch's import), so 12 s is all the hang's."""
    models = _package(tmp_path, name, source)
    env = {"SME2PROF_MODEL_IMPORT_TIMEOUT": "12"}
    started = time.monotonic()
    listed = run_script("export_model.py", "--list", "--models-dir", str(models), env=env, timeout=120)
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert time.monotonic() - started < 90, "a hanging package is cut short"
    rows = {line.split()[0]: line for line in listed.stdout.splitlines() if line.strip()}
    assert "[broken]" not in rows["toy_cnn"] and "[broken]" in rows[name], listed.stdout
    assert f"warning: model package '{name}' is broken" in listed.stderr and expected in listed.stderr
    if name != "hangs":                  # by name: the same reason, as an error (the hang costs its timeout again)
        refused(run_script("export_model.py", "--models-dir", str(models), "--model", name, env=env,
                           timeout=120), expected)


@pytest.mark.parametrize("name, forward, inputs, expected", [
    ("returns_text", "'abc'", "(torch.ones(1, 4),)", "forward() of 'returns_text' returns str 'abc' as output 0"),
    ("text_inputs", "x * 2", "('abc',)", "example_inputs() of 'text_inputs' returned str 'abc' at position 0"),
    ("exits_later", "x", "__import__('sys').exit(4)", "example_inputs() of model 'exits_later' failed: SystemExit: 4"),
])
def test_package_code_that_misbehaves_is_named(tmp_path: Path, name: str, forward: str, inputs: str,
                                                expected: str) -> None:
    models = _package(tmp_path, name, TINY.format(forward=forward, inputs=inputs))
    proc = run_script("export_model.py", "--models-dir", str(models), "--model", name, "--out",
                      str(tmp_path / "out"), timeout=300)
    refused(proc, expected)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# ------------------------------------------------------------------------------ other commands

def test_quick_test_out_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("keep\n")
    refused(run_script("run_quick_test.py", "--out-dir", str(tmp_path / "f")),
            f"output path {tmp_path / 'f'} is a file, not a folder", "--out-dir needs a folder")
    assert (tmp_path / "f").read_text() == "keep\n"


@pytest.mark.parametrize("content, expected", [
    (bytes(range(256)), "holds NUL bytes"),
    ("torch==2.13.0\n".encode("utf-16"), "is saved as UTF-16"),
], ids=["binary", "utf16"])
def test_requirements_file_that_is_not_text(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "req.txt").write_bytes(content)
    refused(run_script("validate_setup.py", "--stage", "site", "--requirements", str(tmp_path / "req.txt")),
            "the requirements file", expected)


def test_unreadable_model_is_refused(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads any file: an unreadable model cannot be made here")
    model = tmp_path / "m_fp32.pte"
    shutil.copyfile(toy_cnn_pte(), model)
    model.chmod(0)
    with pytest.raises(UserError, match="cannot read the model file"):
        check_pte(model)
