"""Every operator name XNNPACK can write into an ETDump gets the category a reader expects.

The table (fixtures/xnnpack/operator_types.tsv) is XNNPACK's own list of operator-type
names at the commit ExecuTorch 1.5.x pins, plus the per-subtype names its profiler
reports and the microkernel suffixes it appends; its header says where each came from.
A name no rule knows is "Other", and the report lists it so a user can report it.
"""
from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from sme2prof.analysis import categories
from sme2prof.analysis.categories import classify

TABLE = Path(__file__).resolve().parent / "fixtures" / "xnnpack" / "operator_types.tsv"


def _table() -> list[dict[str, str]]:
    lines = [line for line in TABLE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


OPERATORS = [(row["name"], row["category"]) for row in _table() if row["kind"] == "operator"]
SUFFIXES = [row["name"] for row in _table() if row["kind"] == "suffix"]


def test_the_table_holds_xnnpacks_whole_list():
    assert len(OPERATORS) > 150 and len(SUFFIXES) == 12
    names = [name for name, _ in OPERATORS]
    assert len(set(names)) == len(names)
    for name in ("Convert (NC, F32, QD8)", "Resize Bilinear (NHWC)", "Fully Connected (NC, PF32)",
                 "Static Reshape (NC)", "Add (ND)"):
        assert name in names
    assert {c for _, c in OPERATORS} <= set(categories.category_names())


@pytest.mark.parametrize("name, expected", OPERATORS)
def test_every_xnnpack_operator_name_gets_its_category(name, expected):
    assert classify(name).category == expected
    assert classify(f"{name} #3").category == expected             # the ETDump's instance number
    for suffix in SUFFIXES:                                         # a microkernel suffix never moves it
        assert classify(f"{name} {suffix} #1").category == expected, suffix


def test_the_names_the_old_rules_got_wrong():
    """'^conv' matched 'Convert', 'linear' matched 'Bilinear', 'copy' matched 'Copy Sign'."""
    assert (classify("Convert (NC, F32, QD8)").category, classify("Convert (NC, F32, QD8)").subcategory) == (
        "Data Movement", "convert")
    assert classify("Resize Bilinear (NHWC)").category == "Data Movement"
    assert classify("Copy Sign (ND)").category == "Elementwise"
    assert classify("Convolution (NHWC, F32) DWConv").subcategory == "depthwise convolution"
    assert classify("Mean (ND) Transpose").category == "Other"


def test_an_unknown_name_is_other_and_flagged():
    kind = classify("Frobnicate (NC, F32)")
    assert (kind.category, kind.known) == ("Other", False)
    assert classify("Softmax (NC, F32)").known


def test_the_report_lists_operator_names_no_rule_knows(real_runs_dir, tmp_path, monkeypatch):
    """Take the transpose rule away: the real transposes become unknown, and the report says so."""
    from sme2prof.analysis import analyze_runs

    table = tuple(replace(cat, rules=tuple(r for r in cat.rules if "transpose" not in r.pattern))
                  for cat in categories.CATEGORIES)
    monkeypatch.setattr(categories, "CATEGORIES", table)
    result = analyze_runs([real_runs_dir / "x86-64" / "cnn-linear-fp32.etdump"], out_dir=tmp_path / "a",
                          charts_enabled=False)
    (res,) = result.summary["results"]
    transpose = next(op for op in res["operators"] if op["name"] == "Transpose (ND, X32)")
    assert (transpose["category"], transpose["known"]) == ("Other", False)
    report = result.report_path.read_text()
    assert "## Unknown operator names" in report and "- `Transpose (ND, X32)`" in report
    assert any("no category rule knows Transpose (ND, X32)" in f for f in result.summary["findings"])
