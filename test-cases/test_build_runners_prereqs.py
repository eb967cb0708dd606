"""build_runners.sh: prerequisite checks and the build step's safety net.

Prerequisites are checked from version strings, so every refusal (old cmake, a clang
that would silently drop SME2, an old NDK, a checkout without submodules) is tested
with the exact text the tools print. The build step is exercised with stand-in
commands in place of cmake (a real build takes minutes): what is tested is our code
around it - the log, the error naming the runner and the log, the earlier good runner
left untouched, the build_info.json and the Android libc++_shared.so next to the binary.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sme2prof.runners import prereqs as prereqs
from sme2prof.runners import build_run
from sme2prof.errors import UserError
from sme2prof.runners.source_build import BuildEnvironment, plan_runner_build
from test_build_runners import fake_ndk  # noqa: F401 - the NDK-shaped folder fixture

CLANG_17 = "Debian clang version 17.0.6 (++20231208)\nTarget: aarch64-unknown-linux-gnu\n"
CLANG_18 = "Ubuntu clang version 18.1.3 (1ubuntu1)\nTarget: x86_64-pc-linux-gnu\n"
APPLE = "Apple clang version 16.0.0 (clang-1600.0.26.6)\nTarget: arm64-apple-darwin24.1.0\n"
NDK_CLANG = "Android (12470979, +pgo, +bolt, +lto, +mlgo, based on r522817c) clang version 18.0.3\n"
GCC_12 = ("c++ (Debian 12.2.0-14+deb12u1) 12.2.0\nCopyright (C) 2022 Free Software Foundation, "
          "Inc.\n")
GCC_13 = "aarch64-linux-gnu-g++ (GCC) 13.2.0\nCopyright (C) 2023 Free Software Foundation, Inc.\n"


def test_cmake_version_check():
    assert prereqs.check_cmake_version("cmake version 3.25.1\n\nCMake suite ...") == (3, 25, 1)
    assert prereqs.check_cmake_version("cmake version 3.24.0") == (3, 24, 0)
    with pytest.raises(UserError, match=r"cmake 3\.22\.1 is too old") as info:
        prereqs.check_cmake_version("cmake version 3.22.1")
    assert "cmake>=3.24" in info.value.fix


@pytest.mark.parametrize("output, family, version", [
    (CLANG_17, "Clang", (17, 0, 6)), (CLANG_18, "Clang", (18, 1, 3)),
    (APPLE, "AppleClang", (16, 0, 0)), (NDK_CLANG, "Clang", (18, 0, 3)),
    (GCC_12, "GNU", (12, 2, 0)), (GCC_13, "GNU", (13, 2, 0)),
])
def test_compiler_banners_are_recognised(output, family, version):
    compiler = prereqs.parse_compiler_version(output)
    assert (compiler.family, compiler.version) == (family, version)


def test_sme2_variants_need_clang_18_or_appleclang():
    with pytest.raises(UserError, match="Clang 17.0.6 cannot build the SME2 kernels") as info:
        prereqs.check_compiler(CLANG_17, "linux-aarch64", needs_sme=True)
    assert "clang 18" in info.value.fix
    with pytest.raises(UserError, match="GNU 13.2.0 cannot build the SME2 kernels"):
        prereqs.check_compiler(GCC_13, "linux-aarch64", needs_sme=True)
    assert prereqs.check_compiler(CLANG_18, "linux-aarch64", needs_sme=True).family == "Clang"
    assert prereqs.check_compiler(APPLE, "macos-arm64", needs_sme=True).family == "AppleClang"
    # without SME kernels an older clang is fine
    assert prereqs.check_compiler(CLANG_17, "linux-aarch64", needs_sme=False).version[0] == 17


def test_gcc_12_refused_for_aarch64_but_fine_for_x86():
    with pytest.raises(UserError, match="crashes on a KleidiAI source file"):
        prereqs.check_compiler(GCC_12, "linux-aarch64", needs_sme=False)
    assert prereqs.check_compiler(GCC_12, "linux-x86_64", needs_sme=False).family == "GNU"
    with pytest.raises(UserError, match="unrecognised compiler"):
        prereqs.check_compiler("tcc version 0.9.27", "linux-x86_64", needs_sme=False)


def test_ndk_r27_required(tmp_path):
    ndk = tmp_path / "ndk"
    ndk.mkdir()
    (ndk / "source.properties").write_text("Pkg.Desc = Android NDK\nPkg.Revision = 26.3.11579264\n")
    with pytest.raises(UserError, match="NDK r26 is too old") as info:
        prereqs.check_ndk(ndk)
    assert "r27" in info.value.fix
    (ndk / "source.properties").write_text("Pkg.Revision = 27.2.12479018\n")
    assert prereqs.check_ndk(ndk) == "27.2.12479018"
    with pytest.raises(UserError, match="not an Android NDK"):
        prereqs.check_ndk(tmp_path)


def _checkout(root: Path, name: str = "executorch", submodules: bool = True) -> Path:
    et = root / name
    et.mkdir(parents=True)
    (et / "CMakeLists.txt").write_text("")
    (et / "version.txt").write_text("1.5.0\n")
    if submodules:
        for marker in prereqs.SUBMODULE_MARKERS:
            (et / marker).parent.mkdir(parents=True, exist_ok=True)
            (et / marker).write_text("")
    return et


def test_executorch_checkout_checks(tmp_path):
    with pytest.raises(UserError, match="no ExecuTorch checkout") as info:
        prereqs.check_executorch_dir(tmp_path / "missing")
    assert "setup_repo.sh --with-executorch" in info.value.fix
    with pytest.raises(UserError, match="must be named 'executorch'"):
        prereqs.check_executorch_dir(_checkout(tmp_path / "a", name="et-src"))
    with pytest.raises(UserError, match="submodules missing: backends/xnnpack/third-party/XNNPACK"):
        prereqs.check_executorch_dir(_checkout(tmp_path / "b", submodules=False))
    assert prereqs.check_executorch_dir(_checkout(tmp_path / "c")).name == "executorch"


def test_missing_tool_names_the_fix():
    with pytest.raises(UserError, match="no-such-ninja-here not found"):
        prereqs.run_version(["no-such-ninja-here", "--version"])


# --- the build step, with stand-in commands for cmake --------------------------------

def _env(tmp_path: Path, ndk: Path | None = None) -> BuildEnvironment:
    return BuildEnvironment(host_platform="linux-x86_64", python=sys.executable,
                            runners_dir=tmp_path / "runners", build_root=tmp_path / "builds",
                            android_ndk=ndk, flatc="/opt/flatc", flatcc="/opt/flatcc")


def _stand_in(script: str) -> list[str]:
    return [sys.executable, "-c", script]


CONFIGURE_OK = ("import pathlib, sys; d = pathlib.Path(sys.argv[1]) / 'CMakeFiles' / '3.25.1';"
                "d.mkdir(parents=True, exist_ok=True);"
                "(d / 'CMakeCXXCompiler.cmake').write_text('set(CMAKE_CXX_COMPILER \"/usr/bin/c++\")\\n"
                "set(CMAKE_CXX_COMPILER_ID \"GNU\")\\nset(CMAKE_CXX_COMPILER_VERSION \"12.2.0\")\\n');"
                "print('-- Configuring done')")
BUILD_OK = ("import pathlib, sys; b = pathlib.Path(sys.argv[1]) / 'executor_runner';"
            "b.write_text('new'); b.chmod(0o755); print('[1/1] Linking CXX executable executor_runner')")
BUILD_FAILS = ("print('[1/9] Building CXX object a.o'); print('FAILED: b.o');"
               "print('b.cpp:3: error: boom'); raise SystemExit(1)")


def _plan(tmp_path: Path, platform: str, variant: str, build_script: str, ndk: Path | None = None):
    env = _env(tmp_path, ndk)
    plan = plan_runner_build(platform, variant, _checkout(tmp_path), env, jobs=2)
    plan.configure_cmd = [*_stand_in(CONFIGURE_OK), str(plan.build_dir)]
    plan.build_cmd = [*_stand_in(build_script), str(plan.build_dir)]
    return plan, env


def test_failed_build_names_runner_and_log_and_keeps_the_old_runner(tmp_path, capsys):
    plan, env = _plan(tmp_path, "linux-x86_64", "sme2-off", BUILD_FAILS)
    plan.runner_dir.mkdir(parents=True)
    (plan.runner_dir / "executor_runner").write_text("old good runner")
    with pytest.raises(UserError) as info:
        build_run.build_runner(plan, env)
    assert "[linux-x86_64-sme2-off] build failed" in info.value.message
    assert str(plan.log_path) in info.value.message
    assert "b.cpp:3: error: boom" in capsys.readouterr().err
    assert "FAILED: b.o" in plan.log_path.read_text()
    assert (plan.runner_dir / "executor_runner").read_text() == "old good runner"
    assert sorted(p.name for p in plan.runner_dir.parent.iterdir()) == ["linux-x86_64-sme2-off"]


def test_successful_build_swaps_in_binary_and_truthful_build_info(tmp_path, capsys):
    plan, env = _plan(tmp_path, "linux-x86_64", "sme2-off-xnntrace", BUILD_OK)
    plan.runner_dir.mkdir(parents=True)
    (plan.runner_dir / "stale.txt").write_text("from an older build")
    build_run.build_runner(plan, env)
    out = capsys.readouterr().out
    assert "[linux-x86_64-sme2-off-xnntrace] configure" in out and "done in" in out
    assert sorted(p.name for p in plan.runner_dir.iterdir()) == [
        "build.log", "build_info.json", "executor_runner"]
    assert (plan.runner_dir / "executor_runner").read_text() == "new"
    assert plan.runner_dir.stat().st_mode & 0o777 == 0o755
    info = json.loads((plan.runner_dir / "build_info.json").read_text())
    assert (info["sme"], info["sme2"], info["xnntrace"], info["xnnpack_log_level"]) == (
        False, False, True, 5)
    assert info["cmake_cache"]["EXECUTORCH_XNNPACK_LOG_LEVEL"] == "5"
    assert info["compiler"] == {"id": "GNU", "version": "12.2.0", "path": "/usr/bin/c++"}
    assert info["executorch_version"] == "1.5.0"
    assert info["executorch_commit"] is None
    assert info["executorch_commit_note"] == "source folder is not a git checkout"
    assert info["ndk"] is None and info["build_seconds"] >= 0 and info["built_at"]


def test_android_build_ships_libcxx_and_records_the_ndk(tmp_path, fake_ndk, capsys):
    ndk = fake_ndk
    plan, env = _plan(tmp_path, "android-arm64", "sme2-on-xnntrace", BUILD_OK, ndk=ndk)
    build_run.build_runner(plan, env)
    assert (plan.runner_dir / "libc++_shared.so").read_bytes() == b"\x7fELF stand-in"
    info = json.loads((plan.runner_dir / "build_info.json").read_text())
    assert info["ndk"] == {"path": str(ndk), "version": "27.2.12479018"}
    assert (info["sme"], info["sme2"], info["xnntrace"]) == (True, True, True)
    assert info["cmake_cache"]["ANDROID_STL"] == "c++_shared"
    assert info["cmake_cache"]["EXECUTORCH_PAL_DEFAULT"] == "posix"


def test_ccache_environment_lets_variants_share_objects(tmp_path, monkeypatch):
    monkeypatch.delenv("CCACHE_BASEDIR", raising=False)
    env = _env(tmp_path)
    env.compiler_launcher = "/usr/bin/ccache"
    plan = plan_runner_build("linux-x86_64", "sme2-off", _checkout(tmp_path), env, jobs=2)
    tool_env = build_run.launcher_environment(plan)
    assert tool_env["CCACHE_BASEDIR"] == str(tmp_path.resolve())
    assert tool_env["CCACHE_NOHASHDIR"] == "1"
    assert tool_env["CMAKE_CXX_COMPILER_LAUNCHER"] == "/usr/bin/ccache"
    env.compiler_launcher = None
    plain = plan_runner_build("linux-x86_64", "sme2-off", tmp_path / "executorch", env, jobs=2)
    assert "CCACHE_NOHASHDIR" not in build_run.launcher_environment(plain) or \
        "CCACHE_NOHASHDIR" in __import__("os").environ
