"""Template model package: copy this folder to ``models/<your_model>/`` and edit it.

The folder name is the model name (lower-case letters, digits, underscores). This file
must not import anything from the kit: a model package is plain PyTorch, so the same
package works in a notebook, in a test, or in ``scripts/export_model.py``.

Only ``build_model`` and ``example_inputs`` are required; every other name below is
optional and shows its default behaviour.
"""
from __future__ import annotations

import torch
from torch import nn

# One line shown by `python scripts/export_model.py --list`.
DESCRIPTION = "template: a two-layer MLP; copy this package to onboard your own model"

# Which dtypes the model supports; remove one if its export or accuracy is not meaningful.
DTYPES = ("fp32", "fp16", "int8")

# Passed to torch.export.export(dynamic_shapes=...); None means every shape is static.
DYNAMIC_SHAPES = None


class TinyMlp(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(16, width)
        self.fc2 = nn.Linear(width, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


def build_model(width: int = 32, checkpoint: str | None = None) -> nn.Module:
    """Return the model in eval mode with its weights loaded.

    Keyword options arrive from ``--model-arg key=value`` (``--model-arg width=64``).
    Load real weights here, from a local file: the kit never downloads anything.
    """
    torch.manual_seed(0)
    model = TinyMlp(width)
    if checkpoint:
        model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    return model.eval()


def example_inputs() -> tuple:
    """The tensors torch.export traces with: their shapes become the .pte's input shapes."""
    return (torch.randn(1, 16, generator=torch.Generator().manual_seed(1)),)


def calibration_inputs() -> list[tuple]:
    """Representative inputs for int8 static quantization (a handful is enough here)."""
    generator = torch.Generator().manual_seed(2)
    return [(torch.randn(1, 16, generator=generator),) for _ in range(4)]
