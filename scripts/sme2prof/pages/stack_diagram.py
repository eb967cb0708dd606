"""Draw the stack diagram the overview page shows (images/stack-diagram.png).

Why code and not a drawing tool: the picture stays editable in review and
reproducible (`python scripts/site_tools.py diagram`), and it is the only picture
on the pages that is not made by a run of the kit.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

LAYERS = (
    ("PyTorch model", "models/<name>/: build_model(), example_inputs()",
     "export.json: delegated vs. not delegated ops", "#e8eef3"),
    ("ExecuTorch runtime", ".pte program, runner (pybind, wheel, executor_runner)",
     "ETDump: one event per operator", "#d6e7f0"),
    ("XNNPACK backend", "operators: Convolution (NHWC, PF32) IGEMM, Transpose ...",
     "operator names, CONV / GEMM / Data Movement", "#bfe0ee"),
    ("KleidiAI + XNNPACK microkernels", "xnn_pf32_gemm_minmax_ukernel_32x32__neonsme2",
     "kernel trace (XNNPACK log level 4+)", "#9fd2e6"),
    ("Arm CPU: NEON, SME, SME2", "SME2 on or off is a property of the build and the CPU",
     "manifest.json: CPU features, runner build info", "#7cc3dd"),
)


def draw(path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(10, 4.4), dpi=120)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.axis("off")
    ax.text(1, 96, "Layer", fontsize=10, color="#5f6b73", weight="bold")
    ax.text(64, 96, "What the kit records there", fontsize=10, color="#5f6b73", weight="bold")
    height, gap = 15.5, 2.5
    for i, (name, example, evidence, colour) in enumerate(LAYERS):
        y = 90 - (i + 1) * height - i * gap + gap
        ax.add_patch(FancyBboxPatch((1, y), 58, height, boxstyle="round,pad=0,rounding_size=1.2",
                                    facecolor=colour, edgecolor="#0b5e7c", linewidth=1))
        ax.text(3, y + height * 0.62, name, fontsize=12, weight="bold", color="#11171c")
        ax.text(3, y + height * 0.22, example, fontsize=8.6, color="#24323a", family="monospace")
        ax.annotate("", xy=(63, y + height / 2), xytext=(59.5, y + height / 2),
                    arrowprops={"arrowstyle": "->", "color": "#0b5e7c"})
        ax.text(64, y + height / 2, evidence, fontsize=9.8, va="center", color="#11171c")
        if i:
            ax.annotate("", xy=(30, y + height), xytext=(30, y + height + gap),
                        arrowprops={"arrowstyle": "-|>", "color": "#0b5e7c", "lw": 1.2})
    fig.savefig(path, bbox_inches="tight", pad_inches=0.08, facecolor="white")
    plt.close(fig)
    return path
