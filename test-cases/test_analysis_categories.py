"""Operator categories are defined once: one table entry gives a category its name, its
chart colour, the word sentences use and its matching rules.

The end-to-end test adds a category to the table and analyses a real ETDump (x86-64
runner from source, fixtures) with nothing else changed: the category must be classified,
tabled, charted in its colour, reported and named in the findings, with no KeyError.
"""
from __future__ import annotations

import csv
import re
from dataclasses import replace
from pathlib import Path

import pytest

from sme2prof.analysis import categories
from sme2prof.analysis.categories import Category, Rule, classify

LAYOUT = Category("Layout", "#17becf", mention_from=0.05, rules=(Rule(r"transpose|permute", "transpose"),))


def _rgb(colour: str) -> tuple[float, ...]:
    return tuple(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))


def _has_colour(png: Path, colour: str) -> bool:
    import matplotlib.image
    import numpy as np

    pixels = matplotlib.image.imread(str(png))[..., :3]
    return bool((np.abs(pixels - np.array(_rgb(colour))).max(axis=-1) < 0.01).any())


def test_every_category_has_its_own_colour_and_a_word():
    names = [c.name for c in categories.CATEGORIES]
    assert names == ["CONV", "GEMM", "Data Movement", "Elementwise", "Other", "Non-delegated"]
    colours = [c.colour for c in categories.CATEGORIES]
    assert len(set(colours)) == len(colours) and all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours)
    assert all(c.word for c in categories.CATEGORIES)
    assert categories.by_name("Data Movement").word == "data movement"     # default: the name, lower case
    assert [c.name for c in categories.matmul_categories()] == ["CONV", "GEMM"]


def test_broad_patterns_are_tried_after_every_other_category(monkeypatch):
    """'Mean Squared' holds 'square' (an Elementwise pattern) but is a reduction."""
    kind = classify("Mean Squared (ND)")
    assert (kind.category, kind.subcategory) == ("Other", "reduction")
    assert classify("Square (NC, F32)").category == "Elementwise"
    early = replace(categories.by_name("Elementwise"), rules_last=False)
    monkeypatch.setattr(categories, "CATEGORIES",
                        tuple(early if c.name == "Elementwise" else c for c in categories.CATEGORIES))
    assert classify("Mean Squared (ND)").category == "Elementwise"    # plain table order otherwise


def test_a_new_category_needs_only_its_table_entry(real_runs_dir, tmp_path, monkeypatch):
    from sme2prof.analysis import analyze_runs

    table = list(categories.CATEGORIES)
    table.insert(table.index(categories.by_name("Data Movement")), LAYOUT)
    monkeypatch.setattr(categories, "CATEGORIES", tuple(table))
    assert classify("Transpose (ND, X32) #2").category == "Layout"
    a, b = (real_runs_dir / folder / "cnn-linear-fp32.etdump" for folder in ("x86-64", "aarch64-qemu-cpu-max-sme"))
    result = analyze_runs([a, b], compare=[("aarch64-qemu-cpu-max-sme/cnn-linear-fp32", "x86-64/cnn-linear-fp32")],
                          out_dir=tmp_path / "analysis")
    out = result.out_dir
    res = next(r for r in result.summary["results"] if r["name"] == "x86-64/cnn-linear-fp32")
    layout = next(c for c in res["categories"] if c["category"] == "Layout")
    assert layout["share"] > 0.05 and layout["top_subcategory"] == "transpose"
    assert [c["category"] for c in res["categories"]] == [c.name for c in table]
    assert abs(sum(c["share"] for c in res["categories"]) - 1) < 1e-9
    with open(out / "categories.csv", newline="") as handle:
        assert any(row["category"] == "Layout" for row in csv.DictReader(handle))
    assert any(f.startswith("x86-64/cnn-linear-fp32: layout is ") for f in result.summary["findings"])
    assert "| Layout |" in (out / "report.md").read_text()
    assert any(c["category"] == "Layout" for c in result.summary["comparisons"][0]["categories"])
    assert _has_colour(out / "categories.png", LAYOUT.colour)
    assert _has_colour(out / "compare_1.png", LAYOUT.colour)


@pytest.mark.parametrize("name, category, subcategory", [
    ("Convolution (NHWC, F32) DWConv", "CONV", "depthwise convolution"),
    ("Fully Connected (NC, PF32) GEMM", "GEMM", "fully connected"),
    ("Transpose (ND, X32)", "Data Movement", "transpose"),
    ("Softmax (NC, F32)", "Other", "softmax"),
    ("Add (ND, F32)", "Elementwise", "binary"),
    ("Something New (NC, F32)", "Other", "other"),
])
def test_rules_from_the_table_classify_real_operator_names(name, category, subcategory):
    kind = classify(name)
    assert (kind.category, kind.subcategory) == (category, subcategory)
    portable = classify(name, delegated=False)
    assert (portable.category, portable.subcategory) == ("Non-delegated", f"{subcategory} (portable kernel)")
