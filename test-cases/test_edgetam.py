"""The EdgeTAM image encoder package (models/edgetam_image_encoder/), the advanced onboarding example.

Two halves:
- What any interpreter can check (the kit's .venv has no timm): the registry lists the
  package, a missing timm gives one clear error naming the vision environment, bad
  options fail before any work, and the position encodings have the right layout.
- What needs timm (run in .venv-vision: `make test-edgetam`, or
  `.venv-vision/bin/python -m pytest test-cases/test_edgetam.py`): EdgeTAM-layout
  checkpoint loading, RepViT fusing that keeps the outputs, and the real export at a small
  image size whose .pte runs on the ExecuTorch runtime, matches eager and leaves no
  convolution outside XNNPACK. These tests are skipped, with that reason, elsewhere.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from kit_helpers import run_script
from sme2prof.errors import UserError
from sme2prof.export.model_registry import get_model

MODEL = "edgetam_image_encoder"
SMALL_SIZE = 256
HAS_TIMM = importlib.util.find_spec("timm") is not None
needs_timm = pytest.mark.skipif(
    not HAS_TIMM,
    reason="timm is not importable in this interpreter; EdgeTAM tests run in .venv-vision: "
           "`make test-edgetam` (after `bash scripts/setup_vision_env.sh`)")


@pytest.fixture(scope="module")
def package():
    return get_model(MODEL).module


# --- any interpreter -------------------------------------------------------------------

def test_registry_lists_edgetam_with_fp32_and_fp16() -> None:
    spec = get_model(MODEL)
    assert {"fp32", "fp16"} <= set(spec.dtypes)
    assert "random weights" in spec.description and "checkpoint" in spec.description


def test_missing_timm_names_the_vision_environment(package, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "timm", None)  # makes `import timm` fail here
    with pytest.raises(UserError) as caught:
        package.build_model(image_size=SMALL_SIZE)
    assert "timm" in caught.value.message
    assert "setup_vision_env.sh" in caught.value.fix and ".venv-vision" in caught.value.fix


@pytest.mark.parametrize("options, words", [
    ({"image_size": 500}, "multiple of 32"),
    ({"image_size": "big"}, "multiple of 32"),
    ({"upsample": "bicubic"}, "upsample"),
    ({"fuse": "maybe"}, "true/false"),
    ({"fp16_gelu": "erf"}, "fp16_gelu"),
    ({"scalp": 2}, "unknown model option"),
    ({"checkpoint": "/nonexistent/edgetam.pt"}, "checkpoint not found"),
])
def test_bad_options_fail_before_building(package, options, words) -> None:
    with pytest.raises(UserError, match=words):
        package.build_model(**options)


def test_bad_image_size_on_the_command_line_is_one_clear_error(tmp_path) -> None:
    result = run_script("export_model.py", "--model", MODEL, "--dtype", "fp32",
                        "--model-arg", "image_size=1000", "--out", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "error: image_size=1000 is not a positive multiple of 32" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


SETUP_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "setup_vision_env.sh"


def _setup_vision_env(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SETUP_SCRIPT), *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


def test_setup_vision_env_dry_run_changes_nothing(tmp_path) -> None:
    venv = tmp_path / "venv-vision"
    result = _setup_vision_env("--dry-run", SME2PROF_VISION_VENV=str(venv))
    assert result.returncode == 0, result.stderr
    assert "-m venv" in result.stdout and "pip install --isolated -r" in result.stdout
    assert not venv.exists()


@pytest.mark.parametrize("args, env, words", [
    (("--bogus",), {}, "error: unknown option '--bogus'"),
    ((), {"PYTHON": "/nonexistent/python3"}, "error: no '/nonexistent/python3' interpreter"),
])
def test_setup_vision_env_bad_input(tmp_path, args, env, words) -> None:
    result = _setup_vision_env(*args, SME2PROF_VISION_VENV=str(tmp_path / "v"), **env)
    assert result.returncode == 2
    assert words in result.stderr and "  fix: " in result.stderr
    assert not (tmp_path / "v").exists()


def test_example_inputs_follow_the_image_size(package) -> None:
    assert package.example_inputs(image_size=512)[0].shape == (1, 3, 512, 512)
    assert [batch[0].shape for batch in package.calibration_inputs(image_size=64)] == \
        [(1, 3, 64, 64)] * package.CALIBRATION_SAMPLES


def test_position_encoding_layout(package) -> None:
    encoding = package.sine_position_encoding(8, 12)
    assert encoding.shape == (1, 256, 8, 12)
    y_half, x_half = encoding[0, :128], encoding[0, 128:]
    assert torch.equal(y_half, y_half[:, :, :1].expand_as(y_half))  # varies along height only
    assert torch.equal(x_half, x_half[:, :1, :].expand_as(x_half))  # varies along width only
    # channel 0 is sin at frequency 1 of positions normalised to (0, 2*pi]: last row ~ sin(2*pi)
    assert abs(float(y_half[0, -1, 0])) < 1e-4
    assert float(y_half[1, -1, 0]) == pytest.approx(1.0, abs=1e-4)  # channel 1: cos(2*pi)


def test_deconv_upsampling_equals_nearest_interpolation(package) -> None:
    neck = importlib.import_module(package.__name__ + ".neck")
    x = torch.randn(1, 256, 5, 7)
    deconv = neck.NearestUpsample2x(256, "deconv")(x)
    assert torch.equal(deconv, neck.NearestUpsample2x(256, "interpolate")(x))
    assert torch.equal(deconv, torch.nn.functional.interpolate(x, scale_factor=2.0, mode="nearest"))


def _lowered_ops(module: torch.nn.Module, example: torch.Tensor) -> tuple[int, list[str]]:
    """(XNNPACK partitions, names of compute ops left outside them) after real lowering."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    exported = torch.export.export(module.eval(), (example,))
    graph = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()]) \
        .exported_program().graph_module.graph
    calls = [n for n in graph.nodes if n.op == "call_function"]
    delegates = [n for n in calls if "call_delegate" in str(n.target)]
    outside = [str(n.target) for n in calls
               if n not in delegates and "getitem" not in str(n.target)]
    return len(delegates), outside


def test_fp16_gelu_rewrite_is_delegated_and_close_to_exact(package) -> None:
    activations = importlib.import_module(package.__name__ + ".activations")
    mlp = torch.nn.Sequential(torch.nn.Conv2d(16, 32, 1), torch.nn.GELU(), torch.nn.Conv2d(32, 16, 1))
    example = torch.randn(1, 16, 8, 8, dtype=torch.float16)
    partitions, outside = _lowered_ops(mlp.half(), example)
    assert any("gelu" in op for op in outside)  # the reason for the rewrite (ExecuTorch 1.5.1)
    assert activations.replace_gelu(mlp) == 1
    partitions, outside = _lowered_ops(mlp.half(), example)  # cast after the swap, as exporters do
    assert (partitions, outside) == (1, [])
    x = torch.linspace(-8, 8, 4001)
    tanh_form = activations.DelegableGelu()(x.half()).float()
    assert float((tanh_form - torch.nn.functional.gelu(x)).abs().max()) < 1e-2
    assert torch.equal(activations.DelegableGelu()(x), torch.nn.functional.gelu(x))  # fp32: exact


# --- needs timm (.venv-vision) ---------------------------------------------------------

def _randomize_(module: torch.nn.Module) -> None:
    """Random weights AND BatchNorm statistics, so fusing and loading are really exercised.

    timm initialises RepViT's BatchNorms to identity (some with weight 0), under which a
    wrong fusion or a wrong key mapping could still give matching outputs.
    """
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.is_floating_point():
                continue
            noise = torch.rand(tensor.shape, generator=generator)
            if name.endswith("running_var"):
                tensor.copy_(0.5 + noise)
            elif name.endswith(("weight", "running_mean", "bias")) and tensor.dim() <= 1:
                tensor.copy_(0.5 + noise if name.endswith("weight") else noise - 0.5)
            else:
                fan_in = max(1, tensor[0].numel())
                tensor.copy_((noise - 0.5) * (6.0 / fan_in) ** 0.5)


def _edgetam_layout(encoder_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our encoder's state dict written back under EdgeTAM's SAM2Base names."""
    renamed = {}
    for key, value in encoder_state.items():
        if key.startswith("trunk."):
            renamed["image_encoder.trunk.body." + key[len("trunk."):]] = value
        else:  # neck.lateral.<k>.<param>
            _, _, index, param = key.split(".")
            renamed[f"image_encoder.neck.convs.{index}.conv.{param}"] = value
    renamed["sam_mask_decoder.conv_s0.weight"] = torch.zeros(32, 256, 1, 1)  # not ours: ignored
    return renamed


@pytest.fixture(scope="module")
def edgetam_checkpoint(package, tmp_path_factory):
    reference = package.build_model(image_size=SMALL_SIZE, fuse=False)
    _randomize_(reference)
    path = tmp_path_factory.mktemp("ckpt") / "edgetam.pt"
    torch.save({"model": _edgetam_layout(reference.state_dict())}, path)
    return path


@needs_timm
def test_checkpoint_loads_and_fusing_keeps_the_outputs(package, edgetam_checkpoint) -> None:
    unfused = package.build_model(image_size=SMALL_SIZE, checkpoint=str(edgetam_checkpoint),
                                  fuse=False)
    fused = package.build_model(image_size=SMALL_SIZE, checkpoint=str(edgetam_checkpoint))
    saved = torch.load(edgetam_checkpoint, weights_only=True)["model"]
    assert torch.equal(unfused.state_dict()["neck.lateral.3.weight"],
                       saved["image_encoder.neck.convs.3.conv.weight"])
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in unfused.modules()) > 50
    image = package.example_inputs(image_size=SMALL_SIZE)
    with torch.no_grad():
        for a, b in zip(unfused(*image), fused(*image), strict=True):
            assert torch.allclose(a, b, rtol=1e-3, atol=1e-3 * float(a.abs().max()))


@needs_timm
def test_position_encodings_in_the_graph_are_the_precomputed_ones(package) -> None:
    size = 64
    with torch.no_grad():
        outputs = package.build_model(image_size=size, position_encoding=True)(
            *package.example_inputs(image_size=size))
    assert len(outputs) == 6
    for features, encoding in zip(outputs[:3], outputs[3:], strict=True):
        height, width = features.shape[-2:]
        assert torch.equal(encoding, package.sine_position_encoding(height, width))


@needs_timm
def test_checkpoint_with_a_missing_key_is_rejected(package, edgetam_checkpoint, tmp_path) -> None:
    state = torch.load(edgetam_checkpoint, weights_only=True)["model"]
    del state["image_encoder.neck.convs.0.conv.bias"]
    broken = tmp_path / "broken.pt"
    torch.save({"model": state}, broken)
    with pytest.raises(UserError, match=r"missing keys: 1 \(neck\.lateral\.0\.bias\)"):
        package.build_model(image_size=SMALL_SIZE, checkpoint=str(broken))


@needs_timm
def test_a_file_that_is_no_checkpoint_is_rejected(package, tmp_path) -> None:
    junk = tmp_path / "edgetam.pt"
    junk.write_text("not a checkpoint")
    with pytest.raises(UserError, match="not a readable PyTorch checkpoint"):
        package.build_model(image_size=SMALL_SIZE, checkpoint=str(junk))


@needs_timm
def test_export_runs_on_executorch_and_matches_eager(package, edgetam_checkpoint, tmp_path) -> None:
    from executorch.runtime import Runtime
    from sme2prof.export.exporter import export_model

    options = {"image_size": SMALL_SIZE, "checkpoint": str(edgetam_checkpoint)}
    result = export_model(MODEL, "fp32", out_dir=tmp_path, model_args=options,
                          progress=lambda line: None)
    record = result.record
    assert record["input_shapes"] == [[1, 3, SMALL_SIZE, SMALL_SIZE]]
    assert not [op for op in record["non_delegated_ops"] if "convolution" in op], record
    assert record["delegation_coverage"] >= 0.99, record["non_delegated_ops"]

    method = Runtime.get().load_program(result.pte_path).load_method("forward")
    image = package.example_inputs(image_size=SMALL_SIZE)
    outputs = method.execute(list(image))
    with torch.no_grad():
        expected = package.build_model(**options)(*image)
    strides = (4, 8, 16)
    assert [tuple(o.shape) for o in outputs] == [(1, 256, SMALL_SIZE // s, SMALL_SIZE // s)
                                                 for s in strides]
    for got, want in zip(outputs, expected, strict=True):
        scale = float(want.abs().max())
        assert scale > 0
        assert float((got - want).abs().max()) <= 1e-3 * scale
