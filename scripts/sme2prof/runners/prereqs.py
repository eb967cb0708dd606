"""Prerequisite checks for runner builds, each with the fix a user needs.

A runner build takes minutes; failing after five of them on a missing ``ninja`` or on
a compiler that silently drops SME2 (XNNPACK turns SME off without an error for
clang < 18) wastes a user's time and, worse, yields a runner whose name lies. So every
requirement is checked up front. The parsers are pure functions of a tool's version
output so they can be tested with any version string.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sme2prof.errors import UserError

MIN_CMAKE = (3, 24)
MIN_CLANG_FOR_SME = 18
MIN_GCC_FOR_AARCH64 = 13
MIN_NDK = 27
SUBMODULE_MARKERS = (
    "backends/xnnpack/third-party/XNNPACK/CMakeLists.txt",
    "backends/xnnpack/third-party/cpuinfo/CMakeLists.txt",
    "backends/xnnpack/third-party/pthreadpool/CMakeLists.txt",
    "backends/xnnpack/third-party/FXdiv/CMakeLists.txt",
    "backends/xnnpack/third-party/FP16/CMakeLists.txt",
    "third-party/flatbuffers/CMakeLists.txt",
    "third-party/flatcc/CMakeLists.txt",
    "third-party/gflags/CMakeLists.txt",
    "third-party/json/CMakeLists.txt",
)


@dataclass(frozen=True)
class CompilerId:
    """A compiler as identified from its ``--version`` banner."""

    family: str          # "AppleClang", "Clang" or "GNU"
    version: tuple[int, ...]

    @property
    def text(self) -> str:
        return f"{self.family} {'.'.join(map(str, self.version))}"


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def parse_cmake_version(output: str) -> tuple[int, ...]:
    match = re.search(r"cmake version (\d+(?:\.\d+)+)", output)
    if not match:
        raise UserError("could not read the cmake version", "install cmake 3.24 or newer")
    return _version_tuple(match.group(1))


def check_cmake_version(output: str) -> tuple[int, ...]:
    version = parse_cmake_version(output)
    if version[:2] < MIN_CMAKE:
        raise UserError(f"cmake {'.'.join(map(str, version))} is too old; ExecuTorch needs 3.24+",
                        "pip install 'cmake>=3.24' into .venv (or: brew install cmake / "
                        "apt-get install cmake from a newer release)")
    return version


def parse_compiler_version(output: str) -> CompilerId:
    """AppleClang, clang (any vendor build) or GCC, from ``cc --version`` output."""
    first = output.strip().splitlines()[0] if output.strip() else ""
    apple = re.search(r"Apple (?:LLVM|clang) version (\d+(?:\.\d+)*)", first)
    if apple:
        return CompilerId("AppleClang", _version_tuple(apple.group(1)))
    clang = re.search(r"clang version (\d+(?:\.\d+)*)", first)
    if clang:
        return CompilerId("Clang", _version_tuple(clang.group(1)))
    gcc = re.search(r"(?:gcc|g\+\+|c\+\+|cc)[^\n]*?\s(\d+\.\d+(?:\.\d+)?)(?:\s|$)", first)
    if gcc and ("GCC" in output or "Free Software Foundation" in output):
        return CompilerId("GNU", _version_tuple(gcc.group(1)))
    raise UserError(f"unrecognised compiler: {first or 'no output'}",
                    "install clang 18+ (or use Xcode's AppleClang on macOS)")


def check_compiler(output: str, platform: str, needs_sme: bool) -> CompilerId:
    """Refuse a compiler that cannot build what the variant name promises.

    SME/SME2 kernels need clang 18+ or AppleClang: XNNPACK silently switches SME off
    for older clang, so the runner would be called sme2-on and contain no SME code.
    GCC 12 crashes (internal compiler error) on a KleidiAI NEON file for aarch64.
    """
    compiler = parse_compiler_version(output)
    major = compiler.version[0]
    if needs_sme:
        if compiler.family == "GNU" or (compiler.family == "Clang" and major < MIN_CLANG_FOR_SME):
            raise UserError(f"{compiler.text} cannot build the SME2 kernels this variant promises",
                            "install clang 18 or newer (apt-get install clang-18, then "
                            "export CC=clang-18 CXX=clang++-18; on macOS use Xcode 16+)")
    if (platform in ("linux-aarch64", "android-arm64") and compiler.family == "GNU"
            and major < MIN_GCC_FOR_AARCH64):
        raise UserError(f"{compiler.text} crashes on a KleidiAI source file for aarch64",
                        "use clang instead: apt-get install clang, export CC=clang CXX=clang++")
    return compiler


def parse_ndk_revision(source_properties: str) -> tuple[int, ...]:
    match = re.search(r"^\s*Pkg\.Revision\s*=\s*(\d+(?:\.\d+)*)", source_properties, re.M)
    if not match:
        raise UserError("could not read Pkg.Revision from the NDK's source.properties",
                        "point ANDROID_NDK at an NDK root folder (it holds source.properties)")
    return _version_tuple(match.group(1))


def check_ndk(ndk: Path) -> str:
    """The NDK's revision string when it is r27 or newer (clang 18, needed for SME2)."""
    props = ndk / "source.properties"
    if not props.is_file():
        raise UserError(f"{ndk} is not an Android NDK (no source.properties)",
                        "export ANDROID_NDK=/path/to/android-ndk-r27c (the folder with "
                        "source.properties)")
    revision = parse_ndk_revision(props.read_text(encoding="utf-8", errors="replace"))
    if revision[0] < MIN_NDK:
        raise UserError(f"NDK r{revision[0]} is too old: SME2 kernels need NDK r27+ (clang 18)",
                        "install NDK r27 or newer (sdkmanager 'ndk;27.2.12479018') and "
                        "export ANDROID_NDK to it")
    return ".".join(map(str, revision))


def check_executorch_dir(path: Path) -> Path:
    """An ExecuTorch source tree with the submodules the runner build needs."""
    if not (path / "CMakeLists.txt").is_file() or not (path / "version.txt").is_file():
        raise UserError(f"no ExecuTorch checkout at {path}",
                        "bash scripts/setup_repo.sh --with-executorch (clones into executorch/), "
                        "or pass --executorch-dir PATH")
    if path.resolve().name != "executorch":
        raise UserError(f"the ExecuTorch source folder must be named 'executorch', not "
                        f"'{path.resolve().name}' (its CMake files rely on the name)",
                        f"rename or symlink it: ln -s {path.resolve()} "
                        f"{path.resolve().parent / 'executorch'}")
    missing = [m.split("/CMakeLists.txt")[0] for m in SUBMODULE_MARKERS if not (path / m).is_file()]
    if missing:
        raise UserError(f"ExecuTorch submodules missing: {', '.join(missing)}",
                        f"git -C {path} submodule update --init --recursive")
    return path


def run_version(cmd: list[str]) -> str:
    """stdout+stderr of a version command, or a UserError naming the missing tool."""
    if shutil.which(cmd[0]) is None and not Path(cmd[0]).is_file():
        raise UserError(f"{cmd[0]} not found", _INSTALL_HINTS.get(Path(cmd[0]).name,
                                                                 f"install {cmd[0]}"))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return proc.stdout + proc.stderr


_INSTALL_HINTS = {
    "cmake": "pip install 'cmake>=3.24' into .venv (or brew/apt-get install cmake)",
    "ninja": "pip install ninja into .venv (or brew install ninja / apt-get install ninja-build)",
    "clang": "apt-get install clang (18+ for SME2 runners); on macOS install Xcode",
    "clang++": "apt-get install clang (18+ for SME2 runners); on macOS install Xcode",
    "c++": "install a C++ compiler (apt-get install clang, or Xcode on macOS)",
}


def check_codegen_python(python: str) -> None:
    """ExecuTorch's kernel registration codegen imports yaml and torchgen (from torch)."""
    proc = subprocess.run([python, "-c", "import yaml, torchgen"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise UserError(f"{python} cannot import yaml and torchgen, which ExecuTorch's codegen "
                        "needs", "run build_runners.sh with the kit's .venv "
                        "(bash scripts/setup_repo.sh creates it; it has torch and pyyaml)")


def check_cross_sysroot(sysroot: Path = Path("/usr/aarch64-linux-gnu")) -> str:
    """clang --target=aarch64-linux-gnu links against the GNU cross sysroot."""
    if not (sysroot / "lib").is_dir():
        raise UserError(f"no aarch64 cross sysroot at {sysroot}",
                        "apt-get install clang lld gcc-aarch64-linux-gnu g++-aarch64-linux-gnu")
    return str(sysroot)


def check_ninja() -> str:
    return run_version(["ninja", "--version"]).strip()


def check_cmake() -> tuple[int, ...]:
    return check_cmake_version(run_version(["cmake", "--version"]))
