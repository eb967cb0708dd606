"""The troubleshoot skill's table is the kit's own output: every row is triggered here.

Each trigger runs an entry point's real ``*_main`` through ``run_entry_point`` (the glue
every script uses) with one bad input, and checks that the ``error:``/``fix:`` lines (or
the ``warning:`` line) it prints match the row it names: the row's patterns, with
``<...>`` standing for any text (or none), must match the printed lines in full. A second test
checks that every row of the table has a trigger, so the table can neither drift from
the messages nor keep a row for a message the kit no longer prints.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import pytest

from kit_helpers import exported, run_script
from sme2prof.errors import run_entry_point
from sme2prof.host_info import describe_host, host_platform

REPO_ROOT = Path(__file__).resolve().parent.parent
SKILL = REPO_ROOT / "agentic-kits" / "skills" / "troubleshoot" / "skill.md"
_ROW = re.compile(r"^\| `(?P<seen>[^`]+)` \| (?:`(?P<fix>[^`]+)`|—) \|")


@dataclass(frozen=True)
class Row:
    seen: str           # the error:/warning: line, with <...> placeholders
    fix: str | None     # the fix: line, or None when the kit prints none


def table_rows() -> list[Row]:
    """The rows of the skill's table, in order."""
    rows = []
    for line in SKILL.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            rows.append(Row(match["seen"], match["fix"]))
    return rows


def _pattern(text: str) -> re.Pattern:
    parts = re.split(r"<[^<>]+>", text)
    return re.compile(".*".join(re.escape(part) for part in parts), re.DOTALL)


# ---------------------------------------------------------------- how each row is triggered

@dataclass
class Trigger:
    name: str
    seen: str                           # the row's first cell, exactly
    run: Callable[[Path, pytest.MonkeyPatch], tuple[Callable, list[str]]]
    only_if: Callable[[], bool] = field(default=lambda: True)
    script: str | None = None           # run as this entry script in a child process instead


def _export():
    from sme2prof.export.cli import export_main
    return export_main


def _profile():
    from sme2prof.workflow.cli import profile_main
    return profile_main


def _host():
    from sme2prof.pipeline.cli import host_main
    return host_main


def _android():
    from sme2prof.pipeline.cli import android_main
    return android_main


def _config(folder: Path, experiments: list[dict], model: Path | None = None, **top) -> str:
    path = folder / "config.json"
    path.write_text(json.dumps({"model": str(model or toy_pte()), "output_root": str(folder / "runs"),
                                "experiments": experiments, **top}))
    return str(path)


def _exp(name: str = "base", runner: str = "pybind", **keys) -> dict:
    return {"name": name, "runner": runner, "runs": 2, "warmup": 0, "threads": [1], **keys}


@lru_cache(maxsize=None)
def toy_pte() -> Path:
    return exported("toy_cnn", "fp32")


def _package(folder: Path, name: str, body: str) -> None:
    """A model package in a folder of the user's (SME2PROF_MODELS_DIR)."""
    package = folder / "my_models" / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("import torch\n" + body)


TINY_MODEL = ("def build_model():\n    return torch.nn.Linear(4, 2).eval()\n"
              "def example_inputs():\n    return (torch.ones(1, 4),)\n")


def _models_dir(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SME2PROF_MODELS_DIR", str(tmp / "my_models"))


def _dtype_refused(tmp, monkeypatch):
    _package(tmp, "fp32_only", TINY_MODEL + "DTYPES = ('fp32',)\n")
    _models_dir(tmp, monkeypatch)
    return _export(), ["--model", "fp32_only", "--dtype", "int8"]


def _broken_package(tmp, monkeypatch):
    _package(tmp, "half_edited", TINY_MODEL + "this is not python\n")
    _models_dir(tmp, monkeypatch)
    return _export(), ["--model", "half_edited"]


def _untraceable(tmp, monkeypatch):
    body = ("class Branchy(torch.nn.Module):\n    def forward(self, x):\n"
            "        return x * 2 if x.sum() > 0 else x\n"
            "def build_model():\n    return Branchy().eval()\n"
            "def example_inputs():\n    return (torch.ones(1, 4),)\n")
    _package(tmp, "branchy", body)
    _models_dir(tmp, monkeypatch)
    return _export(), ["--model", "branchy", "--out", str(tmp / "out")]


def _other_platform() -> str:
    return "linux-aarch64" if host_platform() != "linux-aarch64" else "macos-arm64"


def _built_variant_here() -> str:
    return f"{host_platform()}-sme2-off"


def _no_timm() -> bool:
    return importlib.util.find_spec("timm") is None


def _no_sme2() -> bool:
    return not describe_host()["cpu_features"].get("sme2")


def _empty_out(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An out/ without runners, so 'not built' is what this checkout says."""
    import sme2prof.paths as paths
    import sme2prof.runners.resolve as resolve
    import sme2prof.runners.wheel_build as wheel_build
    empty = tmp / "out" / "runners"
    for module in (paths, resolve):
        monkeypatch.setattr(module, "RUNNERS_DIR", empty)
    monkeypatch.setattr(wheel_build, "runner_dir", lambda platform: empty / f"wheel-{platform}")


def _trace_runner(tmp: Path) -> Path:
    """A runner folder whose build_info says it logs kernels (a timing experiment must refuse it)."""
    folder = tmp / "trace_runner"
    folder.mkdir()
    binary = folder / "executor_runner"
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    (folder / "build_info.json").write_text(json.dumps({"platform": host_platform(), "xnntrace": True,
                                                        "xnnpack_log_level": 5, "sme2": False}))
    return binary


TRIGGERS = [
    Trigger("unknown model (export)", "error: unknown model '<name>'",
            lambda tmp, mp: (_export(), ["--model", "mobilenet_v3_smal"])),
    Trigger("unknown model (profile)", "error: unknown model '<name>'",
            lambda tmp, mp: (_profile(), ["--model", "mobilenet_v3_smal", "--dry-run"])),
    Trigger("dtype not supported", "error: model '<name>' does not support dtype <dtype> (it supports <dtypes>)",
            _dtype_refused),
    Trigger("broken model package", "error: model package '<name>' (<path>) fails to import: <exception>",
            _broken_package),
    # a child process: torch's logging, set up by an earlier in-process test, would write
    # into that test's closed capture stream
    Trigger("torch.export fails", "error: <stage> failed for model '<name>': <exception>", _untraceable,
            script="export_model.py"),
    Trigger("EdgeTAM outside .venv-vision", "error: cannot import timm (<reason>)",
            lambda tmp, mp: (_export(), ["--model", "edgetam_image_encoder"]), only_if=_no_timm),
    Trigger("config file missing", "error: config file not found: <path>",
            lambda tmp, mp: (_host(), ["--config", str(tmp / "nope.json"), "--dry-run"])),
    Trigger("unknown config key", "error: <config>: unknown key '<key>' in <where><hint>",
            lambda tmp, mp: (_host(), ["--config", _config(tmp, [{**_exp(), "thread": [1]}]), "--dry-run"])),
    Trigger("compare pair names no experiment",
            "error: <config>: analysis.compare_pairs[<i>] names unknown experiment '<name>'<hint>",
            lambda tmp, mp: (_host(), ["--config", _config(tmp, [_exp("sme2_on"), _exp("sme2_off")],
                                                           analysis={"compare_pairs": [["sme2_on", "sme2_of"]]}),
                                       "--dry-run"])),
    Trigger("model not exported", "error: model file not found: <path>",
            lambda tmp, mp: (_host(), ["--config", _config(tmp, [_exp()], model=tmp / "out/artifacts/mobilenet_v3_small/mobilenet_v3_small_fp16.pte"),
                                       "--dry-run"])),
    Trigger("runner for another platform", "error: experiment '<name>': runner '<runner>' is for <platform>, this host is <platform>",
            lambda tmp, mp: (_host(), ["--config", _config(tmp, [_exp("on", f"{_other_platform()}-sme2-on")]),
                                       "--dry-run"])),
    Trigger("phone runner on the host pipeline",
            "error: experiment '<name>': runner 'android-arm64-<variant>' is for android-arm64, this host is <platform>",
            lambda tmp, mp: (_host(), ["--config", _config(tmp, [_exp("on", "android-arm64-sme2-on")]), "--dry-run"])),
    Trigger("wheel runner not built", "error: the wheel runner for <platform> is not built (no <path>)",
            lambda tmp, mp: (_empty_out(tmp, mp), (_host(), ["--config", _config(tmp, [_exp("w", "wheel")]),
                                                              "--dry-run"]))[1]),
    Trigger("variant not built", "error: runner '<name>' is not built (no <path>)",
            lambda tmp, mp: (_empty_out(tmp, mp), (_host(), ["--config", _config(tmp, [_exp("off", _built_variant_here(), sme2="off")]),
                                                              "--dry-run"]))[1]),
    Trigger("sme2 on without SME2", 'error: experiment \'<name>\': sme2 "on" but <where> has no SME2, results would show no SME2',
            lambda tmp, mp: (_host(), ["--config", _config(tmp, [_exp("on", sme2="on")]), "--dry-run"]),
            only_if=_no_sme2),
    Trigger("timing on a kernel-trace runner",
            "error: experiment '<name>': mode timing on runner '<runner>', which logs XNNPACK kernels (log level <n>); logging distorts timings",
            lambda tmp, mp: (_host(), ["--config", _config(tmp, [_exp("t", str(_trace_runner(tmp)))]), "--dry-run"])),
    Trigger("kernel trace on pybind",
            "error: experiment '<name>': mode xnntrace needs a runner built with XNNPACK kernel logging; '<runner>' (<kind>) cannot name kernels",
            lambda tmp, mp: (_host(), ["--config", _config(tmp, [_exp("trace", mode="xnntrace")]), "--dry-run"])),
    Trigger("cpu on a runner that is not emulated",
            "error: <config>: experiment '<name>' sets \"cpu\", which only applies to runner "
            "wheel-aarch64-emulated or a linux-aarch64 runner (this experiment uses '<runner>', so it would be ignored)",
            lambda tmp, mp: (_host(), ["--config", _config(tmp, [_exp(cpu="max")]), "--dry-run"])),
    Trigger("more threads than CPUs",
            "warning: experiment '<name>' asks for <n> threads; this host has <n> CPUs (threads beyond the CPU count compete for cores and slow each other down)",
            lambda tmp, mp: (_host(), ["--config", _config(tmp, [_exp(threads=[1, 4096])]), "--dry-run"])),
    Trigger("adb missing", "error: adb not found (no --adb, no $ADB, not on PATH)",
            lambda tmp, mp: (mp.delenv("ADB", raising=False), mp.setenv("PATH", str(tmp)),
                             (_android(), ["--config", _config(tmp, [_exp("on", "android-arm64-sme2-on")])]))[2]),
    Trigger("not a run directory", "error: <path> does not exist",
            lambda tmp, mp: (_validate_results(), [str(tmp / "out/runs/20990101-000000")])),
    Trigger("unknown runner in --runners", "error: unknown runner '<name>' in --runners",
            lambda tmp, mp: (_profile(), ["--model", "toy_cnn", "--runners", "pybind,wheell", "--dry-run"])),
    Trigger("unknown option", "error: unknown option '<option>'",
            lambda tmp, mp: (_profile(), ["--model", "toy_cnn", "--thraeds", "2"])),
    Trigger("unknown validate_setup stage", "error: unknown stage '<stage>'",
            lambda tmp, mp: (_validate_setup(), ["--stage", "exprt"])),
    Trigger("unknown assistant", "error: unknown assistant '<name>'",
            lambda tmp, mp: (_installer(), ["--for", "vscode", "--dest", str(tmp)])),
]


def _validate_results():
    from sme2prof.analysis.cli import validate_main
    return validate_main


def _validate_setup():
    from sme2prof.setup.cli import validate_setup_main
    return validate_setup_main


def _installer():
    import sys
    spec = importlib.util.spec_from_file_location("sme2prof_install", REPO_ROOT / "agentic-kits" / "install.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module.install_skills_main


def printed_lines(out: str, err: str, seen: str) -> tuple[str, str | None]:
    """The line the row describes (error: or warning:) and the fix: line after it."""
    lead = seen.split(":", 1)[0] + ": "
    lines = (err + "\n" + out).splitlines()
    for index, line in enumerate(lines):
        if line.startswith(lead):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            return line, following.strip().removeprefix("fix: ") if following.strip().startswith("fix:") else None
    raise AssertionError(f"no '{lead}' line in the output:\n{err}\n{out}")


@pytest.mark.parametrize("trigger", TRIGGERS, ids=[t.name for t in TRIGGERS])
def test_the_kit_prints_what_the_table_says(trigger: Trigger, tmp_path: Path, monkeypatch, capsys):
    if not trigger.only_if():
        pytest.skip("this host cannot produce the message (see the trigger's condition)")
    monkeypatch.chdir(tmp_path)
    rows = [row for row in table_rows() if row.seen == trigger.seen]
    assert rows, f"the troubleshoot table has no row `{trigger.seen}`"
    main, argv = trigger.run(tmp_path, monkeypatch)
    if trigger.script:
        proc = run_script(trigger.script, *argv, env=dict(os.environ), cwd=tmp_path, timeout=600)
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    else:
        code = run_entry_point(main, argv)
        out, err = capsys.readouterr()
    assert "Traceback" not in err
    line, fix = printed_lines(out, err, trigger.seen)
    assert code == (0 if line.startswith("warning:") else 2), out + err
    assert _pattern(trigger.seen).fullmatch(line), f"the kit printed:\n  {line}\nthe table says:\n  {trigger.seen}"
    row = rows[0]
    if row.fix is None:
        assert fix is None, f"the kit prints a fix the table does not show: {fix}"
    else:
        assert fix is not None and _pattern(row.fix).fullmatch(fix), \
            f"the kit's fix:\n  {fix}\nthe table says:\n  {row.fix}"


def test_every_row_has_a_trigger_and_rows_are_unique():
    seen = [row.seen for row in table_rows()]
    assert len(seen) >= 15 and len(set(seen)) == len(seen)
    assert sorted(set(seen)) == sorted({t.seen for t in TRIGGERS}), \
        "every row needs a trigger in this file, and every trigger a row in the table"
