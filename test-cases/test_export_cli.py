"""scripts/export_model.py as a user runs it: listing, onboarding a model, and bad input.

Every bad input must give one ``error:`` line plus a ``fix:`` line, exit 2, print no
traceback, and leave earlier exports untouched.
"""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from kit_helpers import run_script

BROKEN_MODEL = textwrap.dedent('''
    """A model torch.export cannot trace when asked to (data-dependent control flow)."""
    import torch

    DESCRIPTION = "test model that breaks torch.export on request"
    DTYPES = ("fp32",)


    class Branchy(torch.nn.Module):
        def __init__(self, data_dependent: bool) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(4, 4)
            self.data_dependent = data_dependent

        def forward(self, x):
            y = self.linear(x)
            if self.data_dependent and y.sum() > 0:    # torch.export cannot trace this
                return y * 2
            return y


    def build_model(data_dependent: bool = False):
        torch.manual_seed(0)
        return Branchy(data_dependent).eval()


    def example_inputs():
        return (torch.ones(1, 4),)
''')


@pytest.fixture(scope="module")
def user_models(tmp_path_factory, repo_root) -> Path:
    """A user's own models folder: the template copied as-is, a breakable model, and two
    broken packages (a half-edited template copy, a syntax error) that must only break
    themselves."""
    root = tmp_path_factory.mktemp("user_models")
    shutil.copytree(repo_root / "models" / "_template", root / "my_mlp")
    (root / "branchy").mkdir()
    (root / "branchy" / "__init__.py").write_text(BROKEN_MODEL)
    shutil.copytree(repo_root / "models" / "_template", root / "half_edited")
    template = (root / "half_edited" / "__init__.py").read_text()
    (root / "half_edited" / "__init__.py").write_text(
        template.replace("def build_model(", "def build_model_todo("))
    (root / "typo_model").mkdir()
    (root / "typo_model" / "__init__.py").write_text("def build_model(:\n    pass\n")
    return root


def _assert_user_error(result, *expected: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(("error:", "  fix:"))]
    assert len(lines) == 2 and lines[0].startswith("error:"), result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


def test_list_shows_every_model_with_a_description(user_models):
    result = run_script("export_model.py", "--list", "--models-dir", str(user_models))
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    for name in ("toy_cnn", "mobilenet_v3_small", "vit_tiny", "my_mlp", "branchy"):
        assert name in lines, result.stdout
    assert "ViT" in lines["vit_tiny"] and "[fp32]" in lines["branchy"]
    assert "_template" not in result.stdout.split("\n\n")[0]


def test_list_marks_broken_packages_and_still_lists_the_others(user_models):
    """Exit 0: the listing worked and the good models are usable; stderr repeats each problem."""
    result = run_script("export_model.py", "--list", "--models-dir", str(user_models))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "[broken]" in lines["half_edited"] and "has no build_model() function" in lines[
        "half_edited"]
    assert "[broken]" in lines["typo_model"] and "SyntaxError" in lines["typo_model"]
    assert "[broken]" not in lines["toy_cnn"]
    assert "warning: model package 'half_edited' is broken" in result.stderr
    assert "fix: add build_model() to" in result.stderr


def test_list_json_reports_broken_packages(user_models):
    import json

    result = run_script("export_model.py", "--list", "--json", "--models-dir", str(user_models))
    assert result.returncode == 0, result.stderr
    models = {entry["name"]: entry for entry in json.loads(result.stdout)["models"]}
    assert models["toy_cnn"]["broken"] is None
    assert "fails to import: SyntaxError" in models["typo_model"]["broken"]["error"]
    assert models["typo_model"]["broken"]["fix"]


@pytest.mark.parametrize("name,expected", [
    ("half_edited", "model package 'half_edited' has no build_model() function"),
    ("typo_model", "model package 'typo_model'"),
])
def test_exporting_a_broken_package_is_refused_with_its_reason(user_models, name, expected):
    result = run_script("export_model.py", "--models-dir", str(user_models), "--model", name)
    _assert_user_error(result, expected, str(user_models / name / "__init__.py"))


def test_list_json_is_machine_readable():
    import json

    result = run_script("export_model.py", "--list", "--json")
    assert result.returncode == 0, result.stderr
    models = {entry["name"]: entry for entry in json.loads(result.stdout)["models"]}
    assert models["toy_cnn"]["dtypes"] == ["fp32", "fp16", "int8"]
    assert models["vit_tiny"]["description"]


def test_template_copy_exports_from_a_user_folder(user_models, tmp_path):
    """The folder also holds two broken packages: they must not block this export."""
    result = run_script("export_model.py", "--models-dir", str(user_models), "--model", "my_mlp",
                        "--dtype", "fp32", "--model-arg", "width=8", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "exported my_mlp (fp32)" in result.stdout
    assert "1 partition(s)" in result.stdout and "coverage 100%" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "my_mlp_fp32.etrecord", "my_mlp_fp32.export.json", "my_mlp_fp32.pte"]

    assert "warning:" not in result.stdout, "one partition: nothing to warn about"


SPLIT_MODEL = textwrap.dedent('''
    """Two linear layers with a cumsum between them: XNNPACK takes the linears, not the cumsum."""
    import torch


    class Split(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.first, self.second = torch.nn.Linear(4, 4), torch.nn.Linear(4, 4)

        def forward(self, x):
            return self.second(torch.cumsum(self.first(x), dim=1))


    def build_model():
        torch.manual_seed(0)
        return Split().eval()


    def example_inputs():
        return (torch.ones(2, 4),)
''')


def test_a_fragmented_export_warns_and_names_what_splits_it(tmp_path):
    import json
    (tmp_path / "models" / "split_net").mkdir(parents=True)
    (tmp_path / "models" / "split_net" / "__init__.py").write_text(SPLIT_MODEL)
    result = run_script("export_model.py", "--models-dir", str(tmp_path / "models"), "--model",
                        "split_net", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert ("  warning: the program is split into 2 XNNPACK partitions by aten.cumsum.default x1"
            in result.stdout)
    record = json.loads((tmp_path / "out" / "split_net_fp32.export.json").read_text())
    assert record["xnnpack_partitions"] == 2
    assert record["partition_split_ops"] == {"aten.cumsum.default": 1}
    assert len(record["warnings"]) == 1 and "models/readme.md" in record["warnings"][0]
    assert "aten.cumsum.default x1" in record["warnings"][0]


def test_unknown_model_names_the_closest_ones():
    result = run_script("export_model.py", "--model", "mobilenet_v3", "--dtype", "fp32")
    _assert_user_error(result, "unknown model 'mobilenet_v3'", "mobilenet_v3_small")


def test_unsupported_dtype_is_refused(user_models):
    result = run_script("export_model.py", "--models-dir", str(user_models), "--model", "branchy",
                        "--dtype", "int8")
    _assert_user_error(result, "does not support dtype int8", "fp32")


def test_missing_models_dir_is_refused(tmp_path):
    result = run_script("export_model.py", "--models-dir", str(tmp_path / "nope"), "--list")
    _assert_user_error(result, "does not exist", str(tmp_path / "nope"))


def test_models_dir_that_is_a_file_is_named_as_such(tmp_path):
    a_file = tmp_path / "requirements.txt"
    a_file.write_text("torch\n")
    result = run_script("export_model.py", "--models-dir", str(a_file), "--list")
    _assert_user_error(result, f"{a_file} (from --models-dir) is a file, not a folder")
    assert "does not exist" not in result.stderr


def test_out_that_is_an_existing_file_is_refused_and_kept(tmp_path):
    a_file = tmp_path / "afile"
    a_file.write_text("keep me")
    result = run_script("export_model.py", "--model", "toy_cnn", "--out", str(a_file))
    _assert_user_error(result, f"output path {a_file} is a file, not a folder",
                       "--out needs a folder")
    assert "File exists" not in result.stderr
    assert a_file.read_text() == "keep me"


def test_int8_mode_without_int8_is_refused():
    result = run_script("export_model.py", "--model", "toy_cnn", "--int8-mode", "dynamic")
    _assert_user_error(result, "--int8-mode applies only to --dtype int8", "add --dtype int8")
    assert "exported" not in result.stdout


def test_dtype_is_case_insensitive(user_models):
    """FP16 reaches the model check (branchy is fp32-only) instead of an argparse error."""
    result = run_script("export_model.py", "--models-dir", str(user_models), "--model", "branchy",
                        "--dtype", "FP16")
    _assert_user_error(result, "does not support dtype fp16")


def test_model_arg_of_the_wrong_type_shows_the_call_and_the_exception():
    result = run_script("export_model.py", "--model", "toy_cnn", "--model-arg", "width=abc")
    _assert_user_error(result, "build_model(width='abc') of model 'toy_cnn' failed: TypeError: ",
                       "width: int = 16", "--model-arg")


def test_failing_torch_export_names_the_model_and_keeps_the_previous_export(user_models, tmp_path):
    good = run_script("export_model.py", "--models-dir", str(user_models), "--model", "branchy",
                      "--out", str(tmp_path))
    assert good.returncode == 0, good.stderr
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    bad = run_script("export_model.py", "--models-dir", str(user_models), "--model", "branchy",
                     "--model-arg", "data_dependent=true", "--out", str(tmp_path))
    _assert_user_error(bad, "torch.export (fp32) failed for model 'branchy'", "forward()",
                       str(user_models / "branchy"))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_unwritable_output_dir_is_refused_before_exporting(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_script("export_model.py", "--model", "toy_cnn", "--out", str(blocker / "sub"))
    _assert_user_error(result, "cannot write to output directory", "--out")
    assert "[2/4]" not in result.stdout


@pytest.mark.parametrize("arg,expected", [("depth", "not key=value"),
                                          ("colour=red", "has no option colour")])
def test_bad_model_args_are_refused(arg, expected):
    result = run_script("export_model.py", "--model", "toy_cnn", "--model-arg", arg)
    _assert_user_error(result, expected)


def test_help_has_an_example():
    result = run_script("export_model.py", "--help")
    assert result.returncode == 0
    assert "python scripts/export_model.py --model toy_cnn --dtype fp32" in result.stdout


def test_help_names_the_files_an_export_writes():
    from sme2prof.export.artifacts import artifact_stem

    result = run_script("export_model.py", "--help")
    for dtype, mode in (("int8", "static"), ("int8", "dynamic")):
        assert f"{artifact_stem('toy_cnn', dtype, mode)}.pte" in result.stdout
    assert "<model>_int8_dynamic" in result.stdout and ".export.json" in result.stdout
