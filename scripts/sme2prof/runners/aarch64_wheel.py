"""The ExecuTorch C++ package for another platform, taken from that platform's pip wheel.

Why: cross-compiling the wheel runner for linux-aarch64 on an x86_64 machine needs the
aarch64 build of the same ExecuTorch release (headers, ``lib/*.so``, the CMake package
config, and ``version.py`` for the commit), and the aarch64 pip wheel carries exactly
that. Only those parts are unpacked; the Python version of the wheel does not matter, and aarch64 torch is not
needed because the runner links no Python. The wheel's libraries need glibc 2.27 and
GLIBCXX 3.4.22 at most, which Debian 12's cross sysroot (glibc 2.36, GCC 12) provides.

Layout: ``out/wheels/<platform>/executorch-<version>/executorch/{include,lib,share}``
plus ``wheel.json`` (which wheel, its sha256). Unpacked into a temporary folder and
renamed into place, so an interrupted download never leaves half a package.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from sme2prof.errors import UserError
from sme2prof.fileio import read_json, sha256_file, write_json_atomic
from sme2prof.paths import OUT_DIR, display_path

WHEELS_DIR = OUT_DIR / "wheels"
DEFAULT_VERSION = "1.5.1"
# pip platform tag of each platform's wheel, and one Python tag for which the release
# publishes a wheel (the C++ parts are the same in every Python flavour).
PIP_PLATFORM_TAGS = {"linux-aarch64": "manylinux_2_28_aarch64"}
PIP_PYTHON_VERSION = "3.11"
CPP_PARTS = ("executorch/include/", "executorch/lib/", "executorch/share/", "executorch/version.py")
CONFIG_FILE = Path("share") / "cmake" / "executorch-config.cmake"
WHEEL_RECORD = "wheel.json"


def release_version(version: str | None) -> str:
    """``1.5.1+cpu`` -> ``1.5.1``: the local label names the x86 build, not the release."""
    return (version or DEFAULT_VERSION).split("+", 1)[0]


def package_dir(platform: str, version: str) -> Path:
    """Where the unpacked ``executorch`` package (the CMake prefix) for a platform lives."""
    return WHEELS_DIR / platform / f"executorch-{version}" / "executorch"


def download_command(platform: str, version: str, dest: Path) -> list[str]:
    return [sys.executable, "-m", "pip", "download", f"executorch=={version}",
            "--platform", PIP_PLATFORM_TAGS[platform], "--python-version", PIP_PYTHON_VERSION,
            "--implementation", "cp", "--only-binary=:all:", "--no-deps", "--quiet",
            "--disable-pip-version-check", "-d", str(dest)]


def ensure_platform_package(platform: str, version: str | None, dry_run: bool = False,
                            progress: Callable[[str], None] = print) -> Path:
    """Return the unpacked C++ package for ``platform``, downloading the wheel if needed."""
    if platform not in PIP_PLATFORM_TAGS:
        raise UserError(f"no pip wheel is known for platform {platform!r}",
                        f"use one of: {', '.join(PIP_PLATFORM_TAGS)}")
    version = release_version(version)
    target = package_dir(platform, version)
    if (target / CONFIG_FILE).is_file() and (target / "version.py").is_file():
        return target
    command = download_command(platform, version, Path("<temp>"))
    if dry_run:
        progress(f"would download: {' '.join(command)}")
        progress(f"would unpack include/ lib/ share/ into {display_path(target)}")
        return target
    progress(f"downloading the executorch {version} wheel for {platform} (about 18 MB) ...")
    target.parent.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=target.parent.parent) as tmp:
        tmp_path = Path(tmp)
        result = subprocess.run(download_command(platform, version, tmp_path / "wheel"),
                                capture_output=True, text=True)
        wheels = sorted((tmp_path / "wheel").glob("executorch-*.whl"))
        if result.returncode != 0 or not wheels:
            last = (result.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise UserError(f"pip could not download the executorch {version} wheel for {platform}: {last}",
                            "check the network access to PyPI, then rerun; "
                            f"the command was: {' '.join(download_command(platform, version, Path('DIR')))}")
        wheel = wheels[0]
        staged = tmp_path / "package"
        _unpack_cpp_parts(wheel, staged)
        write_json_atomic(staged / WHEEL_RECORD, {"wheel": wheel.name, "sha256": sha256_file(wheel),
                                                  "version": version, "platform": platform,
                                                  "pip_platform_tag": PIP_PLATFORM_TAGS[platform]})
        if target.parent.exists():
            shutil.rmtree(target.parent)  # an incomplete earlier unpack (no config file)
        staged.rename(target.parent)
    progress(f"unpacked {wheels[0].name} -> {display_path(target)}")
    return target


def package_identity(package: Path) -> dict:
    """``{"version", "git_commit"}`` of an ExecuTorch package folder, read from its version.py.

    Read as text, not imported: the folder may hold another platform's package, and the
    commit of the libraries being linked is what a build must record.
    """
    try:
        text = (Path(package) / "version.py").read_text(encoding="utf-8")
    except OSError:
        return {"version": None, "git_commit": None}
    version = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
    commit = re.search(r"^git_version\s*(?::[^=]*)?=\s*['\"]([0-9a-fA-F]+)['\"]", text, re.M)
    return {"version": version.group(1) if version else None,
            "git_commit": commit.group(1) if commit else None}


def wheel_record(package: Path) -> dict | None:
    """What :func:`ensure_platform_package` recorded about the wheel, or None."""
    path = Path(package).parent / WHEEL_RECORD
    return read_json(path) if path.is_file() else None


def _unpack_cpp_parts(wheel: Path, dest: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.infolist() if m.filename.startswith(CPP_PARTS)]
        if not any(m.filename.endswith("executorch-config.cmake") for m in members):
            raise UserError(f"{wheel.name} carries no CMake package (share/cmake/executorch-config.cmake)",
                            "use an executorch release whose wheel ships the C++ package (1.5.1 does)")
        for member in members:
            archive.extract(member, dest)
    # zipfile drops the executable bits; shared libraries only need to be readable.


