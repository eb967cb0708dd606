"""The model registry: discovery by folder scan, the package contract, --model-arg parsing.

No export here (see test_models_and_export.py): these run in a second or two.
"""
from __future__ import annotations

import re
import shutil
import textwrap

import pytest

from sme2prof.errors import UserError
from sme2prof.export.model_registry import discover_models, get_model, parse_model_args, scan_models

SHIPPED = ["mobilenet_v3_small", "toy_cnn", "vit_tiny"]


def test_shipped_models_are_registered_and_template_is_not():
    models = discover_models()
    for name in SHIPPED:
        assert name in models, f"{name} missing from the registry"
        assert models[name].description, f"{name} has no one-line description"
        assert models[name].dtypes == ("fp32", "fp16", "int8")
        assert models[name].path.name == name
    assert "_template" not in models


def test_mobilenet_matches_torchvision_parameter_count_and_shapes():
    """2,542,856 parameters is torchvision's mobilenet_v3_small: same layers, same names."""
    spec = get_model("mobilenet_v3_small")
    model = spec.build_model()
    assert sum(p.numel() for p in model.parameters()) == 2_542_856
    assert "features.1.block.1.fc1.weight" in model.state_dict()
    assert model(*spec.example_inputs()).shape == (1, 1000)


def test_mobilenet_gate_is_hardsigmoid_written_for_xnnpack():
    """relu6(x + 3) / 6 from buffers (models/readme.md): same values as nn.Hardsigmoid."""
    import torch

    spec = get_model("mobilenet_v3_small")
    gates = [m for m in spec.build_model().modules() if type(m).__name__ == "DelegableHardsigmoid"]
    assert len(gates) == 9, "one per squeeze-excitation block"
    x = torch.linspace(-5, 5, 101)
    assert torch.allclose(gates[0](x), torch.nn.functional.hardsigmoid(x), atol=1e-6)
    original = spec.build_model(hardsigmoid="aten")
    assert sum(isinstance(m, torch.nn.Hardsigmoid) for m in original.modules()) == 9


def test_vit_tiny_has_attention_layer_norm_and_gelu():
    import torch

    spec = get_model("vit_tiny")
    model = spec.build_model(depth=2)
    kinds = {type(m).__name__ for m in model.modules()}
    # The default form computes layer norm and GELU with operators XNNPACK takes
    # (models/vit_tiny/delegable.py); delegable_ops=false keeps the torch modules.
    assert {"DelegableLayerNorm", "DelegableGelu", "Attention", "Linear"} <= kinds
    assert all(isinstance(m, torch.nn.LayerNorm) for m in model.modules()
               if type(m).__name__ == "DelegableLayerNorm"), "LayerNorm's parameter names are kept"
    textbook = {type(m).__name__ for m in spec.build_model(depth=2, delegable_ops=False).modules()}
    assert {"LayerNorm", "GELU", "Attention", "Linear"} <= textbook
    x = torch.randn(1, 5, 192)
    norm = next(m for m in model.modules() if type(m).__name__ == "DelegableLayerNorm")
    assert torch.allclose(norm(x), torch.nn.functional.layer_norm(x, (192,), norm.weight, norm.bias, 1e-6),
                          atol=1e-5)
    assert len(model.blocks) == 2
    inputs = spec.example_inputs(image_size=64)
    assert inputs[0].shape == (1, 3, 64, 64)
    assert spec.build_model(image_size=64)(*inputs).shape == (1, 1000)
    assert isinstance(spec.calibration_inputs(image_size=64)[0][0], torch.Tensor)


def test_unknown_model_suggests_closest_names():
    with pytest.raises(UserError) as caught:
        get_model("mobilenet_v3")
    assert "mobilenet_v3_small" in caught.value.fix
    assert "--list" in caught.value.fix


def test_models_dir_from_environment_is_scanned(monkeypatch, tmp_path, repo_root):
    shutil.copytree(repo_root / "models" / "_template", tmp_path / "my_mlp")
    monkeypatch.setenv("SME2PROF_MODELS_DIR", str(tmp_path))
    models = discover_models()
    assert "my_mlp" in models and "toy_cnn" in models
    assert models["my_mlp"].description.startswith("template:")
    monkeypatch.setenv("SME2PROF_MODELS_DIR", str(tmp_path / "missing"))
    with pytest.raises(UserError, match="does not exist"):
        discover_models()


def test_a_user_folder_can_shadow_a_shipped_model(tmp_path, repo_root):
    shutil.copytree(repo_root / "models" / "_template", tmp_path / "toy_cnn")
    assert discover_models([tmp_path])["toy_cnn"].path == tmp_path / "toy_cnn"


@pytest.mark.parametrize("source,expected", [
    pytest.param("raise RuntimeError('boom')\n", "fails to import: RuntimeError: boom",
                 id="import-fails"),
    pytest.param("def example_inputs():\n    return ()\n", "has no build_model() function",
                 id="no-build-model"),
    pytest.param("DTYPES = ('fp64',)\ndef build_model():\n    pass\n"
                 "def example_inputs():\n    pass\n", "unknown dtypes ['fp64']", id="bad-dtypes"),
])
def test_broken_packages_are_user_errors_only_when_asked_for(tmp_path, source, expected):
    (tmp_path / "bad_model").mkdir()
    (tmp_path / "bad_model" / "__init__.py").write_text(textwrap.dedent(source))
    scan = scan_models([tmp_path])
    assert "toy_cnn" in scan.models and "bad_model" not in scan.models
    assert expected in scan.broken["bad_model"].reason
    assert get_model("toy_cnn", [tmp_path]).name == "toy_cnn"
    with pytest.raises(UserError, match=re.escape(expected)):
        get_model("bad_model", [tmp_path])


def test_a_broken_user_copy_shadows_the_shipped_model(tmp_path):
    """The user meant their own toy_cnn: exporting it must report its error, not silently
    fall back to the shipped one."""
    (tmp_path / "toy_cnn").mkdir()
    (tmp_path / "toy_cnn" / "__init__.py").write_text("raise RuntimeError('half edited')\n")
    with pytest.raises(UserError, match="fails to import: RuntimeError: half edited"):
        get_model("toy_cnn", [tmp_path])


def test_models_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "a.txt").write_text("")
    with pytest.raises(UserError, match="is a file, not a folder"):
        discover_models([tmp_path / "a.txt"])


def test_model_args_are_typed():
    assert parse_model_args(["depth=4", "scale=0.5", "fuse=true", "ckpt=w.pt", "x=none"]) == {
        "depth": 4, "scale": 0.5, "fuse": True, "ckpt": "w.pt", "x": None}
    with pytest.raises(UserError, match="not key=value"):
        parse_model_args(["depth"])
