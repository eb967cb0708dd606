"""Host example configs: one for Linux and one for macOS per shipped model, each valid, and
each one either runs on this host or is refused with the reason (another platform)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit_helpers import exported, run_script
from sme2prof.export.model_registry import is_model_package
from sme2prof.host_info import host_platform
from sme2prof.pipeline.config import load_config

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "configs" / "examples"
MODELS = sorted(p.name for p in (REPO_ROOT / "models").iterdir() if is_model_package(p))
HOSTS = ("linux", "mac")


def examples_for(host: str) -> dict[str, list[Path]]:
    """model name -> the host's examples for it (from each file's "model" path)."""
    found: dict[str, list[Path]] = {}
    for path in sorted(EXAMPLES.glob(f"{host}_*.json")):
        found.setdefault(Path(load_config(path).model).parent.name, []).append(path)
    return found


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_every_shipped_model_has_an_example_for_each_host(host: str) -> None:
    assert sorted(examples_for(host)) == MODELS
    readme = (REPO_ROOT / "configs/readme.md").read_text()
    for model, paths in examples_for(host).items():
        rows = "\n".join(line for line in readme.splitlines() if line.startswith(f"| `{model}` |"))
        for path in paths:
            assert f"`examples/{path.name}`" in rows, f"configs/readme.md: no {model} row names {path.name}"


def _with_real_model(path: Path, folder: Path) -> Path:
    """The example with its model replaced by a real export (the dry run checks the file)."""
    config = json.loads(path.read_text())
    config["model"] = str(exported("toy_cnn", "fp32"))
    config["output_root"] = str(folder / "runs")
    copy = folder / path.name
    copy.write_text(json.dumps(config))
    return copy


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("linux_*.json")), ids=lambda p: p.name)
def test_linux_examples_need_nothing_built(path: Path, tmp_path: Path) -> None:
    """pybind only: they run on any Linux (or macOS) host right after make setup."""
    proc = run_script("mac_pipeline.py", "--config", str(_with_real_model(path, tmp_path)), "--dry-run",
                      "--json", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    plan = json.loads(proc.stdout)["plan"]
    assert {step["threads"] for step in plan} == {1, 2}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("mac_*.json")), ids=lambda p: p.name)
def test_mac_examples_run_on_a_mac_and_say_so_elsewhere(path: Path, tmp_path: Path) -> None:
    config = load_config(path)
    assert [e.runner for e in config.experiments] == [
        "macos-arm64-sme2-on", "macos-arm64-sme2-off", "macos-arm64-sme2-on-xnntrace"]
    assert config.analysis.compare_pairs == (("sme2_on", "sme2_off"),)
    if host_platform() == "macos-arm64":
        pytest.skip("on a Mac the runners decide: see test_config")
    proc = run_script("mac_pipeline.py", "--config", str(_with_real_model(path, tmp_path)), "--dry-run",
                      timeout=300)
    assert proc.returncode == 2 and "is for macos-arm64" in proc.stderr and "run this config on a Mac" in proc.stderr
