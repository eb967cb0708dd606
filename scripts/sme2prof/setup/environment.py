"""The kit's two pinned Python environments, and the one set-up that makes either.

``.venv`` (``scripts/requirements.txt``) runs the whole kit. ``.venv-vision``
(``scripts/requirements-vision.txt``) adds timm and torchvision for models such as the
EdgeTAM image encoder; it stays apart because torchvision must be the build made
against the exact torch it loads, so that environment installs PyPI's builds with
``pip install --isolated`` (a local pip configuration, say a folder of CPU-only torch
wheels, would otherwise slip in a torch that PyPI's torchvision cannot load against).

Both go through the same steps: create the venv (or recreate a broken one), install
the pins, check that the main packages import, write a stamp. The stamp holds a hash
of the requirements file and the interpreter; when it matches and every pin is
installed at its version (read from package metadata, no ``import torch``), a re-run
takes about a second instead of asking pip.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from sme2prof.fileio import write_text_atomic
from sme2prof.paths import REPO_ROOT, SCRIPTS_DIR, display_path
from sme2prof.setup.commands import CommandRunner, NotReady

STAMP_NAME = ".sme2prof-setup.stamp"
SUPPORTED_PYTHON = ((3, 10), (3, 13))
MIN_FREE_GB_VARIABLE = "SME2PROF_MIN_FREE_GB"
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")
_GIT_COMMIT = re.compile(r"^git_version[^=\n]*=\s*['\"]([0-9a-f]+)", re.M)


@dataclass(frozen=True)
class EnvironmentSpec:
    """What differs between the kit's environments; everything else is shared."""

    name: str
    command: str                # how a user runs its set-up
    summary: str                # what it is for, in --help
    requirements: Path
    default_venv: Path
    venv_variable: str          # environment variable that puts the venv elsewhere
    min_free_gb: int            # to create it, wheels unpacked
    pip_options: tuple[str, ...]
    extra_index_variable: str   # "" when the environment takes no extra index
    import_check: str           # what must import after an install
    runner_tools: bool          # also prepares runner builds: git, cmake, ninja, c++
    next_step: str              # {venv} is the venv as the user named it


KIT = EnvironmentSpec(
    name="kit", command="bash scripts/setup_repo.sh",
    summary="Creates .venv with the pinned dependencies of scripts/requirements.txt (torch, "
            "executorch, torchao, numpy, pandas, matplotlib, pytest, hugo) and prints their "
            "versions. Needs Python 3.10-3.13, git and {gb} GB of free disk; cmake >= 3.24, ninja "
            "and a C++ compiler are reported, needed only to build runners from source.",
    requirements=SCRIPTS_DIR / "requirements.txt", default_venv=REPO_ROOT / ".venv",
    venv_variable="SME2PROF_VENV", min_free_gb=4, pip_options=(),
    extra_index_variable="SME2PROF_TORCH_INDEX",
    import_check="import numpy, pandas, matplotlib, torchao, yaml, PIL; "
                 "from executorch.runtime import Runtime",
    runner_tools=True,
    next_step="make quickstart   (or: {venv}/bin/python scripts/export_model.py --list)")

VISION = EnvironmentSpec(
    name="vision", command="bash scripts/setup_vision_env.sh",
    summary="Creates .venv-vision, the environment for models that need timm + torchvision "
            "(models/edgetam_image_encoder), and installs scripts/requirements-vision.txt into "
            "it from PyPI: torch, the matching torchvision, timm, executorch, numpy, pandas, "
            "pytest. pip runs with --isolated so that a local pip configuration (for example a "
            "wheel folder holding a CPU-only torch build that PyPI's torchvision cannot load "
            "against) does not change what is installed. On Linux x86_64, PyPI's torch pulls "
            "CUDA libraries: expect a few GB and a few minutes the first time ({gb} GB free "
            "needed).",
    requirements=SCRIPTS_DIR / "requirements-vision.txt", default_venv=REPO_ROOT / ".venv-vision",
    venv_variable="SME2PROF_VISION_VENV", min_free_gb=8, pip_options=("--isolated",),
    extra_index_variable="",
    import_check="import torch, torchvision, timm; from executorch.runtime import Runtime",
    runner_tools=False,
    next_step="make edgetam   (or: {venv}/bin/python scripts/export_model.py "
              "--model edgetam_image_encoder --dtype fp32)")

ENVIRONMENTS = {spec.name: spec for spec in (KIT, VISION)}


def min_free_gb(spec: EnvironmentSpec) -> int:
    return int(os.environ.get(MIN_FREE_GB_VARIABLE) or spec.min_free_gb)


# ---------------------------------------------------------------- the venv on disk

@dataclass(frozen=True)
class Venv:
    """Where an environment lives: ``named`` as the user gave it, ``path`` to work in.

    A linked venv (a second checkout sharing one environment) is used through its real
    path, so the scripts pip writes into it never name the link's checkout, which may go.
    """

    named: Path
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def stamp(self) -> Path:
        return self.path / STAMP_NAME

    @property
    def is_running(self) -> bool:
        """This program runs inside this venv."""
        return Path(sys.prefix).resolve() == self.path.resolve()

    def shown(self) -> str:
        """As the user named it: relative to the repository when inside it, links kept."""
        return str(self.named.relative_to(REPO_ROOT) if self.named.is_relative_to(REPO_ROOT)
                   else self.named)


def locate_venv(spec: EnvironmentSpec) -> Venv:
    named = Path(os.environ.get(spec.venv_variable) or spec.default_venv).expanduser().absolute()
    return Venv(named, named.resolve() if named.is_symlink() else named)


def supported(version: tuple[int, int] | None) -> bool:
    low, high = SUPPORTED_PYTHON
    return version is not None and low <= version <= high


def python_version_of(python: Path) -> tuple[int, int] | None:
    """(major, minor) of an interpreter that starts, else None (gone, broken, not Python)."""
    try:
        out = subprocess.run([str(python), "-c", "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=60).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return None


def usable_venv_python(venv: Venv) -> Path | None:
    """The venv's interpreter when it works and is 3.10-3.13 (so the set-up can run in it)."""
    if venv.is_running:
        return venv.python
    if not venv.python.exists() or not supported(python_version_of(venv.python)):
        return None
    return venv.python


# ---------------------------------------------------------------- pins and stamp

def pinned(requirements: Path) -> dict[str, str]:
    """``{name: version}`` of every ``name==version`` line, first one per name, in file
    order. Read without ``packaging``: a fresh venv does not have it yet."""
    pins: dict[str, str] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            pins.setdefault(match.group(1).lower(), match.group(2))
    return pins


def fingerprint(requirements: Path, python_version: str, extra_index: str) -> str:
    """What an installed venv depends on: the pins, the interpreter, the extra index."""
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"{python_version}|{platform.machine()}|{extra_index}".encode())
    return digest.hexdigest()


def extra_index(spec: EnvironmentSpec) -> str:
    return os.environ.get(spec.extra_index_variable, "") if spec.extra_index_variable else ""


def current_fingerprint(spec: EnvironmentSpec) -> str:
    """For the interpreter running this program, which is the venv's (or the one it was
    just created from: the same build)."""
    return fingerprint(spec.requirements, sys.version, extra_index(spec))


def reinstall_reason(spec: EnvironmentSpec, venv: Venv) -> str | None:
    """Why the venv this program runs in needs pip, or None when it is up to date."""
    if not venv.stamp.is_file():
        return "no set-up stamp yet"
    if venv.stamp.read_text(encoding="utf-8").strip() != current_fingerprint(spec):
        return f"{display_path(spec.requirements)} or the interpreter changed since the last set-up"
    problems = pin_problems(spec.requirements)
    return "; ".join(problems) if problems else None


def pin_problems(requirements: Path) -> list[str]:
    """Pins this interpreter does not have at their version (package metadata only)."""
    if importlib.util.find_spec("packaging") is None:   # every full install brings it (pytest)
        return ["packaging is not installed"]
    from sme2prof.setup.pins import pin_states, read_pins
    return [state.describe() for state in pin_states(read_pins(requirements)) if not state.ok]


# ---------------------------------------------------------------- create and install

def prepare_venv(spec: EnvironmentSpec, venv: Venv, runner: CommandRunner) -> None:
    """Create the venv with this interpreter, replacing one whose Python is gone."""
    if venv.path.exists():
        if not (venv.path / "pyvenv.cfg").is_file():
            raise NotReady(f"{venv.path} exists but is not a virtual environment",
                           f"move it away or set {spec.venv_variable} to another path")
        runner.remove_tree(venv.path)      # a broken venv (e.g. its Python was removed)
    if not runner.run([sys.executable, "-m", "venv", venv.path]):
        raise NotReady(f"{sys.executable} -m venv {venv.path} failed (the lines above say why)",
                       "install Python's venv module (Debian/Ubuntu: sudo apt-get install "
                       "python3-venv) or pass --python another interpreter")


def pip_install_command(spec: EnvironmentSpec, venv: Venv) -> list[str]:
    index = extra_index(spec)
    return [str(venv.python), "-m", "pip", "install", *spec.pip_options, "-r", str(spec.requirements),
            "--disable-pip-version-check", *(["--extra-index-url", index] if index else [])]


def install(spec: EnvironmentSpec, venv: Venv, runner: CommandRunner) -> None:
    """pip install the pins (pip shows its own progress), check the imports, stamp."""
    started = time.monotonic()
    if not runner.dry_run:
        print(f"  installing {len(pinned(spec.requirements))} pinned packages into {venv.path} "
              "(the first time: a few GB and a few minutes)", flush=True)
    if not runner.run(pip_install_command(spec, venv)):
        raise NotReady(f"pip could not install {display_path(spec.requirements)} into {venv.path} "
                       "(the lines above say why)",
                       "fix what pip reports (network, disk space, a wheel missing for this "
                       "platform), then rerun")
    if runner.dry_run:
        print(f"[dry-run] write {venv.stamp}")
        return
    check = subprocess.run([str(venv.python), "-c", spec.import_check], capture_output=True, text=True)
    if check.returncode != 0:
        last = (check.stderr.strip().splitlines() or [f"exit code {check.returncode}"])[-1]
        raise NotReady(f"the install finished but the packages do not load in {venv.path}: {last}",
                       f"rerun with --force; if it persists, delete {venv.path} and rerun")
    write_text_atomic(venv.stamp, current_fingerprint(spec) + "\n")
    print(f"  installed in {time.monotonic() - started:.0f} s")


# ---------------------------------------------------------------- what is installed

def installed_versions(spec: EnvironmentSpec, venv: Venv) -> dict[str, str]:
    """The version of each pinned package in the venv, ExecuTorch's with its commit."""
    versions = {}
    for name in pinned(spec.requirements):
        dist = find_distribution(name, venv)
        versions[name] = dist.version if dist else "not installed"
        commit = executorch_commit(venv) if dist and name == "executorch" else None
        versions[name] += f" (commit {commit})" if commit else ""
    return versions


def find_distribution(name: str, venv: Venv) -> metadata.Distribution | None:
    """An installed distribution of the venv, whichever interpreter runs this program."""
    where = sys.path if venv.is_running else [str(_site_packages(venv))]
    return next(iter(metadata.distributions(name=name, path=where)), None)


def executorch_commit(venv: Venv) -> str | None:
    """The commit the venv's ExecuTorch wheel was built from (read, not imported: fast)."""
    dist = find_distribution("executorch", venv)
    version_file = Path(str(dist.locate_file("executorch/version.py"))) if dist else None
    text = version_file.read_text(encoding="utf-8") if version_file and version_file.is_file() else ""
    match = _GIT_COMMIT.search(text)
    return match.group(1) if match else None


def _site_packages(venv: Venv) -> Path:
    """The venv's site-packages; it was made by (or is) this interpreter, same version."""
    return venv.path / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def print_versions(spec: EnvironmentSpec, venv: Venv) -> None:
    print(f"  {'python':<11} {platform.python_version()} ({venv.python})")
    for name, version in installed_versions(spec, venv).items():
        print(f"  {name:<11} {version}")
