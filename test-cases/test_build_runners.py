"""build_runners.sh: the dry-run plan for every platform x variant, exactly.

The plan decides what a runner *is* (SME/SME2 kernels compiled in or not, XNNPACK
logging, ETDump support), so these tests pin the exact cmake cache variables, the
output paths and the build_info.json that a build would write, and check that the
pipeline's guard refuses a runner whose build info does not fit the experiment mode.
The expected values are written out here, not derived from the code under test.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sme2prof.runners import cli as build_cli
from sme2prof.runners import resolve as runners
from sme2prof.errors import UserError
from sme2prof.host_info import host_platform
from sme2prof.pipeline.config import Experiment
from sme2prof.runners.registry import PLATFORMS, VARIANTS
from sme2prof.runners.source_build import find_clang

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "scripts" / "build_runners.sh"

# The cache every runner gets, as a user reads it in the printed cmake line.
COMMON = dict(item.split("=", 1) for item in (
    "CMAKE_BUILD_TYPE=Release EXECUTORCH_BUILD_EXECUTOR_RUNNER=ON EXECUTORCH_BUILD_XNNPACK=ON "
    "EXECUTORCH_BUILD_DEVTOOLS=ON EXECUTORCH_ENABLE_EVENT_TRACER=ON "
    "EXECUTORCH_BUILD_EXTENSION_EVALUE_UTIL=ON EXECUTORCH_BUILD_EXTENSION_RUNNER_UTIL=ON "
    "EXECUTORCH_ENABLE_LOGGING=ON EXECUTORCH_LOG_LEVEL=Info").split())
VARIANT_CACHE = {
    "sme2-on": {"EXECUTORCH_XNNPACK_LOG_LEVEL": "0", "XNNPACK_ENABLE_ARM_SME": "ON",
                "XNNPACK_ENABLE_ARM_SME2": "ON"},
    "sme2-off": {"EXECUTORCH_XNNPACK_LOG_LEVEL": "0", "XNNPACK_ENABLE_ARM_SME": "OFF",
                 "XNNPACK_ENABLE_ARM_SME2": "OFF"},
    "sme2-on-xnntrace": {"EXECUTORCH_XNNPACK_LOG_LEVEL": "5", "XNNPACK_ENABLE_ARM_SME": "ON",
                         "XNNPACK_ENABLE_ARM_SME2": "ON"},
    "sme2-off-xnntrace": {"EXECUTORCH_XNNPACK_LOG_LEVEL": "5", "XNNPACK_ENABLE_ARM_SME": "OFF",
                          "XNNPACK_ENABLE_ARM_SME2": "OFF"},
}
# Which host each platform is planned from in these tests (linux-aarch64: cross from x86_64).
PLANNED_FROM = {"macos-arm64": "macos-arm64", "android-arm64": "linux-x86_64",
                "linux-aarch64": "linux-x86_64", "linux-x86_64": "linux-x86_64"}
ARM = {"macos-arm64", "android-arm64", "linux-aarch64"}
# A variant with SME kernels on a platform without SME would be a mislabelled sme2-off copy.
NO_SME = {(platform, variant) for platform in PLATFORMS for variant, cache in VARIANT_CACHE.items()
          if platform not in ARM and cache["XNNPACK_ENABLE_ARM_SME"] == "ON"}


def platform_cache(platform: str, ndk: Path, kleidiai: Path) -> dict[str, str]:
    if platform == "android-arm64":
        return {"CMAKE_TOOLCHAIN_FILE": str(ndk / "build/cmake/android.toolchain.cmake"),
                "ANDROID_ABI": "arm64-v8a", "ANDROID_PLATFORM": "android-26",
                "ANDROID_STL": "c++_shared", "EXECUTORCH_PAL_DEFAULT": "posix",
                "CMAKE_C_FLAGS": "-DXNN_LOG_TO_STDIO=1", "CMAKE_CXX_FLAGS": "-DXNN_LOG_TO_STDIO=1",
                "FLATC_EXECUTABLE": "/opt/host/flatc", "FLATCC_EXECUTABLE": "/opt/host/flatcc",
                "KLEIDIAI_SOURCE_DIR": str(kleidiai)}
    if platform == "linux-aarch64":
        cc, cxx = find_clang()   # clang, or the newest clang-NN (Debian names them so)
        return {"CMAKE_SYSTEM_NAME": "Linux", "CMAKE_SYSTEM_PROCESSOR": "aarch64",
                "CMAKE_C_COMPILER": cc, "CMAKE_CXX_COMPILER": cxx,
                "CMAKE_C_COMPILER_TARGET": "aarch64-linux-gnu",
                "CMAKE_CXX_COMPILER_TARGET": "aarch64-linux-gnu",
                "CMAKE_ASM_COMPILER_TARGET": "aarch64-linux-gnu",
                "CMAKE_EXE_LINKER_FLAGS": "-fuse-ld=lld",
                "FLATC_EXECUTABLE": "/opt/host/flatc", "FLATCC_EXECUTABLE": "/opt/host/flatcc",
                "KLEIDIAI_SOURCE_DIR": str(kleidiai)}
    if platform == "macos-arm64":
        return {"KLEIDIAI_SOURCE_DIR": str(kleidiai)}
    return {}


@pytest.fixture()
def fake_ndk(tmp_path: Path) -> Path:
    """A folder shaped like NDK r27 (source.properties + libc++_shared.so): no phone SDK here."""
    ndk = tmp_path / "android-ndk-r27c"
    lib = ndk / "toolchains/llvm/prebuilt/linux-x86_64/sysroot/usr/lib/aarch64-linux-android"
    lib.mkdir(parents=True)
    (lib / "libc++_shared.so").write_bytes(b"\x7fELF stand-in")
    (ndk / "source.properties").write_text("Pkg.Desc = Android NDK\nPkg.Revision = 27.2.12479018\n")
    return ndk


@pytest.fixture()
def kleidiai(tmp_path: Path) -> Path:
    path = tmp_path / "kleidiai"
    path.mkdir()
    (path / "CMakeLists.txt").write_text("# stand-in\n")
    return path


def dry_run_json(capsys, monkeypatch, host: str, *args: str, ccache: str = "off") -> dict:
    monkeypatch.setattr(build_cli, "buildable_host", lambda: host)
    assert build_cli.build_runners_main([*args, "--ccache", ccache, "--dry-run", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_dry_run_plan_is_exact(platform, variant, tmp_path, fake_ndk, kleidiai, capsys,
                               monkeypatch):
    runners_dir, build_root = tmp_path / "runners", tmp_path / "builds"
    et_dir = tmp_path / "executorch"
    et_dir.mkdir()                   # named with --executorch-dir, so it must exist (not be a checkout)
    args = ["--platform", platform, "--variants", variant, "--jobs", "3",
            "--executorch-dir", str(et_dir), "--out-dir", str(runners_dir),
            "--build-root", str(build_root), "--android-ndk", str(fake_ndk),
            "--kleidiai-dir", str(kleidiai), "--flatc", "/opt/host/flatc",
            "--flatcc", "/opt/host/flatcc"]
    if (platform, variant) in NO_SME:
        monkeypatch.setattr(build_cli, "buildable_host", lambda: "linux-x86_64")
        with pytest.raises(UserError, match="has no SME/SME2") as info:
            build_cli.build_runners_main([*args, "--dry-run"])
        assert "\n" not in info.value.message and "sme2-off" in info.value.fix
        return
    plan, = dry_run_json(capsys, monkeypatch, PLANNED_FROM[platform], *args)["plans"]
    name = f"{platform}-{variant}"
    expected_cache = {**COMMON, **VARIANT_CACHE[variant], "PYTHON_EXECUTABLE": sys.executable,
                      **platform_cache(platform, fake_ndk, kleidiai)}
    assert plan["cache"] == expected_cache
    build_dir = build_root / name
    assert plan["configure"] == ["cmake", "-S", str(et_dir), "-B", str(build_dir), "-G", "Ninja",
                                 *[f"-D{k}={v}" for k, v in expected_cache.items()]]
    assert plan["build"] == ["cmake", "--build", str(build_dir), "--target", "executor_runner",
                             "-j", "3"]
    assert plan["runner_dir"] == str(runners_dir / name)
    assert plan["binary"] == str(runners_dir / name / "executor_runner")
    assert plan["build_info"]["runner"] == name
    info = plan["build_info"]
    on, trace = variant.startswith("sme2-on"), variant.endswith("xnntrace")
    assert {k: info[k] for k in ("runner", "kind", "platform", "variant", "binary", "sme", "sme2",
                                  "xnntrace", "xnnpack_log_level", "event_tracer", "build_type",
                                  "executorch_logging")} == {
        "runner": name, "kind": "executor_runner", "platform": platform, "variant": variant,
        "binary": "executor_runner", "sme": on, "sme2": on, "xnntrace": trace,
        "xnnpack_log_level": 5 if trace else 0, "event_tracer": True, "build_type": "Release",
        "executorch_logging": True}
    assert info["cmake_cache"] == expected_cache
    if platform == "android-arm64":
        assert info["extra_files"] == ["libc++_shared.so"]
        assert plan["extra_files"] == [str(fake_ndk / "toolchains/llvm/prebuilt/linux-x86_64/sysroot/"
                                           "usr/lib/aarch64-linux-android/libc++_shared.so")]
    else:
        assert info["extra_files"] == [] and plan["extra_files"] == []
    assert not runners_dir.exists() and not build_root.exists(), "a dry run must not write"


def test_script_dry_run_prints_the_exact_commands(tmp_path):
    """What a user sees: two cmake lines per runner, shell-quoted, nothing built."""
    if host_platform() != "linux-x86_64":
        pytest.skip("plans linux-x86_64 runners, which build only on linux-x86_64")
    env_python = sys.executable
    (tmp_path / "executorch").mkdir()
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--platform", "linux-x86_64", "--variants", "sme2-off-xnntrace",
         "--jobs", "2", "--executorch-dir", str(tmp_path / "executorch"),
         "--out-dir", str(tmp_path / "runners"), "--build-root", str(tmp_path / "b"), "--dry-run",
         "--ccache", "off"],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "SME2PROF_PYTHON": env_python},
        cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    build_dir = tmp_path / "b" / "linux-x86_64-sme2-off-xnntrace"
    assert lines[1] == (
        f"cmake -S {tmp_path / 'executorch'} -B {build_dir} -G Ninja -DCMAKE_BUILD_TYPE=Release "
        "-DEXECUTORCH_BUILD_EXECUTOR_RUNNER=ON -DEXECUTORCH_BUILD_XNNPACK=ON "
        "-DEXECUTORCH_BUILD_DEVTOOLS=ON -DEXECUTORCH_ENABLE_EVENT_TRACER=ON "
        "-DEXECUTORCH_BUILD_EXTENSION_EVALUE_UTIL=ON -DEXECUTORCH_BUILD_EXTENSION_RUNNER_UTIL=ON "
        "-DEXECUTORCH_ENABLE_LOGGING=ON -DEXECUTORCH_LOG_LEVEL=Info -DEXECUTORCH_XNNPACK_LOG_LEVEL=5 "
        "-DXNNPACK_ENABLE_ARM_SME=OFF -DXNNPACK_ENABLE_ARM_SME2=OFF "
        f"-DPYTHON_EXECUTABLE={env_python}")
    assert lines[2] == f"cmake --build {build_dir} --target executor_runner -j 2"
    assert "# prerequisite MISSING ExecuTorch checkout" in proc.stdout
    assert "setup_repo.sh --with-executorch" in proc.stdout
    assert not (tmp_path / "runners").exists()


def test_script_refuses_sme_variant_on_x86_with_one_line(tmp_path):
    proc = subprocess.run(["bash", str(SCRIPT), "--platform", "linux-x86_64", "--variants",
                           "sme2-off,sme2-on", "--dry-run", "--out-dir", str(tmp_path / "r")],
                          capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "SME2PROF_PYTHON": sys.executable})
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == (
        "error: linux-x86_64 has no SME/SME2, so variant 'sme2-on' would be a mislabelled copy "
        "of sme2-off")
    assert proc.stderr.splitlines()[1].startswith("  fix: use --variants sme2-off,sme2-off-xnntrace")
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_script_help_has_an_example():
    proc = subprocess.run(["bash", str(SCRIPT), "--help"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "SME2PROF_PYTHON": sys.executable})
    assert proc.returncode == 0
    assert "--variants" in proc.stdout and "examples:" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["--platform", "windows-x86_64"], "unknown platform 'windows-x86_64'"),
    (["--platform", "linux-x86_64", "--variants", "sme3-on"], "unknown variant 'sme3-on'"),
    (["--variant", "linux-x86_64-fast"], "'linux-x86_64-fast' is not a runner name"),
    (["--variant", "linux-x86_64-sme2-off", "--variants", "sme2-off"], "cannot be combined"),
    (["--platform", "linux-x86_64", "--jobs", "0"], "--jobs must be 1 or more"),
    (["--platform", "android-arm64", "--android-ndk", ""], "ANDROID_NDK is not set"),
    (["--platform", "macos-arm64"], "macos-arm64 runners build on macos-arm64, not on"),
])
def test_bad_input_is_one_clear_error(args, message, monkeypatch, tmp_path):
    monkeypatch.setattr(build_cli, "buildable_host", lambda: "linux-x86_64")
    with pytest.raises(UserError) as info:
        build_cli.build_runners_main([*args, "--dry-run", "--out-dir", str(tmp_path / "r")])
    assert message in info.value.message and info.value.fix


def test_defaults_this_host_timing_variants_plus_android(fake_ndk, capsys, monkeypatch, tmp_path):
    """x86_64 has no SME, so its default is sme2-off alone; the NDK adds android's pair."""
    monkeypatch.setenv("ANDROID_NDK", str(fake_ndk))
    monkeypatch.setattr(build_cli, "buildable_host", lambda: "linux-x86_64")
    args = ["--out-dir", str(tmp_path / "r"), "--android-ndk", str(fake_ndk)]
    plans = dry_run_json(capsys, monkeypatch, "linux-x86_64", *args)["plans"]
    assert [p["runner"] for p in plans] == ["linux-x86_64-sme2-off", "android-arm64-sme2-on",
                                            "android-arm64-sme2-off"]
    monkeypatch.delenv("ANDROID_NDK")
    plans = dry_run_json(capsys, monkeypatch, "macos-arm64", "--out-dir", str(tmp_path / "r"))["plans"]
    assert [p["runner"] for p in plans] == ["macos-arm64-sme2-on", "macos-arm64-sme2-off"]


def test_ccache_adds_only_the_compiler_launcher(capsys, monkeypatch, tmp_path):
    """With ccache the xnntrace variant reuses the timing variant's objects; the flags that
    define the variant are unchanged."""
    monkeypatch.setattr(build_cli.shutil, "which", lambda name: f"/opt/bin/{name}")
    args = ("--variant", "linux-x86_64-sme2-off", "--out-dir", str(tmp_path))
    plain = dry_run_json(capsys, monkeypatch, "linux-x86_64", *args)["plans"][0]["cache"]
    cached = dry_run_json(capsys, monkeypatch, "linux-x86_64", *args, ccache="on")["plans"][0]["cache"]
    assert cached == {**plain, "CMAKE_C_COMPILER_LAUNCHER": "/opt/bin/ccache",
                      "CMAKE_CXX_COMPILER_LAUNCHER": "/opt/bin/ccache"}
    monkeypatch.setattr(build_cli.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match="ccache is not installed"):
        build_cli.build_runners_main([*args, "--ccache", "on", "--dry-run"])


def test_variant_names_match_the_pipeline_hint(capsys, monkeypatch, tmp_path):
    """The pipeline's fix says `build_runners.sh --variant <runner name>`: that must work."""
    plans = dry_run_json(capsys, monkeypatch, "linux-x86_64", "--variant",
                         "linux-x86_64-sme2-off-xnntrace", "--out-dir", str(tmp_path))["plans"]
    assert [p["runner"] for p in plans] == ["linux-x86_64-sme2-off-xnntrace"]


# --- the pipeline's guard, fed with the build_info.json a plan writes -------------------

def _runner_folder(tmp_path: Path, build_info: dict) -> Path:
    """A runner folder with the planned build_info.json; the binary is a stand-in script
    (the guard reads only build_info, and a real build takes minutes)."""
    folder = tmp_path / build_info["runner"]
    folder.mkdir(parents=True)
    binary = folder / "executor_runner"
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    (folder / "build_info.json").write_text(json.dumps(build_info))
    return binary


@pytest.mark.parametrize("variant, mode, refused", [
    ("sme2-off", "timing", None),
    ("sme2-off-xnntrace", "xnntrace", None),
    ("sme2-off-xnntrace", "timing", "logging distorts timings"),
    ("sme2-off", "xnntrace", "needs a runner built with XNNPACK kernel logging"),
])
def test_guard_refuses_mismatched_runner_and_mode(variant, mode, refused, capsys, monkeypatch,
                                                  tmp_path):
    info = dry_run_json(capsys, monkeypatch, "linux-x86_64", "--platform", "linux-x86_64",
                        "--variants", variant, "--out-dir", str(tmp_path / "r"))["plans"][0]["build_info"]
    binary = _runner_folder(tmp_path / "runners", info)
    experiment = Experiment(name="e", runner=str(binary), mode=mode, sme2="any")
    runner = runners.resolve_runner(experiment, {"platform": "linux-x86_64"})
    assert runner.logs_kernels is variant.endswith("xnntrace")
    if refused is None:
        runners.guard_runner_mode(experiment, runner, {"sme2": False})
    else:
        with pytest.raises(UserError, match=refused):
            runners.guard_runner_mode(experiment, runner, {"sme2": False})


def test_guard_refuses_sme2_off_experiment_on_sme2_on_runner(capsys, monkeypatch, tmp_path):
    info = dry_run_json(capsys, monkeypatch, "macos-arm64", "--platform", "macos-arm64",
                        "--variants", "sme2-on", "--out-dir", str(tmp_path / "r"))["plans"][0]["build_info"]
    binary = _runner_folder(tmp_path / "runners", info)
    experiment = Experiment(name="e", runner=str(binary), mode="timing", sme2="off")
    runner = runners.resolve_runner(experiment, {"platform": "macos-arm64"})
    with pytest.raises(UserError, match="built with SME2 on"):
        runners.guard_runner_mode(experiment, runner, {"sme2": True})


def test_wheel_flag_dispatches_to_the_wheel_runner_builder(tmp_path):
    """--wheel hands over to sme2prof.runners.wheel_build (dry run: prints its plan)."""
    proc = subprocess.run(["bash", str(SCRIPT), "--wheel", "--dry-run"], capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "SME2PROF_PYTHON": sys.executable})
    assert proc.returncode == 0, proc.stderr
    assert "would run:" in proc.stdout
    assert Path(proc.stdout.splitlines()[-1]).parent.name == "runners"


def test_cross_compiler_choice_is_an_option_and_gcc_cannot_build_sme2(tmp_path, kleidiai, capsys, monkeypatch):
    """--cross-compiler: clang by default (with lld and the GNU aarch64 sysroot); gcc names the
    GNU cross compiler, and the prerequisite check says why it cannot build an sme2-on runner."""
    et_dir = tmp_path / "executorch"
    et_dir.mkdir()
    args = ["--platform", "linux-aarch64", "--variants", "sme2-on", "--executorch-dir", str(et_dir),
            "--kleidiai-dir", str(kleidiai), "--out-dir", str(tmp_path / "r"), "--build-root", str(tmp_path / "b")]
    clang_plan = dry_run_json(capsys, monkeypatch, "linux-x86_64", *args)["plans"][0]
    assert clang_plan["cache"]["CMAKE_C_COMPILER"] == find_clang()[0]
    assert clang_plan["cache"]["CMAKE_ASM_COMPILER_TARGET"] == "aarch64-linux-gnu"
    assert "cross compiler: clang" in " ".join(clang_plan["notes"])
    result = dry_run_json(capsys, monkeypatch, "linux-x86_64", *args, "--cross-compiler", "gcc")
    cache = result["plans"][0]["cache"]
    assert cache["CMAKE_CXX_COMPILER"] == "aarch64-linux-gnu-g++" and "CMAKE_CXX_COMPILER_TARGET" not in cache
    if subprocess.run(["sh", "-c", "command -v aarch64-linux-gnu-g++"], capture_output=True).returncode == 0:
        check = next(c for c in result["prerequisites"] if c["check"].startswith("compiler for linux-aarch64"))
        assert not check["ok"] and "cannot build the SME2 kernels" in check["detail"]
    help_text = subprocess.run([sys.executable, str(Path(build_cli.__file__).parents[2] / "build_runners.py"),
                                "--help"], capture_output=True, text=True).stdout
    help_text = " ".join(help_text.split())
    assert "--cross-compiler {clang,gcc}" in help_text and "internal compiler error" in help_text
