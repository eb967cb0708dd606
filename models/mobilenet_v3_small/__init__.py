"""MobileNetV3-Small (Howard et al., 2019) in plain PyTorch, no torchvision needed.

The module tree and parameter names follow torchvision's ``mobilenet_v3_small`` so a
state dict saved from torchvision loads with ``--model-arg checkpoint=path.pt``. Without
a checkpoint the weights are seeded-random and the batch-norm statistics are estimated on
random images, which keeps activations in a realistic range: the layer mix, shapes and
therefore the profile are those of the real network; the predictions are not.
"""
from __future__ import annotations

from functools import partial

import torch
from torch import nn

from .layers import InvertedResidual, Conv2dNormActivation, BlockConfig, replace_hardsigmoid

DESCRIPTION = ("MobileNetV3-Small, 1x3x224x224, plain PyTorch "
               "(depthwise/pointwise convs, hardswish, squeeze-excitation; CONV-heavy)")
DTYPES = ("fp32", "fp16", "int8")
INPUT_SHAPE = (1, 3, 224, 224)

# (in, kernel, expanded, out, squeeze-excite, activation, stride): torchvision's table.
_SMALL_BLOCKS = [
    BlockConfig(16, 3, 16, 16, True, "RE", 2),
    BlockConfig(16, 3, 72, 24, False, "RE", 2),
    BlockConfig(24, 3, 88, 24, False, "RE", 1),
    BlockConfig(24, 5, 96, 40, True, "HS", 2),
    BlockConfig(40, 5, 240, 40, True, "HS", 1),
    BlockConfig(40, 5, 240, 40, True, "HS", 1),
    BlockConfig(40, 5, 120, 48, True, "HS", 1),
    BlockConfig(48, 5, 144, 48, True, "HS", 1),
    BlockConfig(48, 5, 288, 96, True, "HS", 2),
    BlockConfig(96, 5, 576, 96, True, "HS", 1),
    BlockConfig(96, 5, 576, 96, True, "HS", 1),
]


class MobileNetV3Small(nn.Module):
    def __init__(self, num_classes: int = 1000, last_channel: int = 1024,
                 dropout: float = 0.2) -> None:
        super().__init__()
        norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        layers: list[nn.Module] = [
            Conv2dNormActivation(3, 16, 3, stride=2, norm_layer=norm, activation=nn.Hardswish)]
        layers += [InvertedResidual(cfg, norm) for cfg in _SMALL_BLOCKS]
        last_in = _SMALL_BLOCKS[-1].out_channels
        layers.append(Conv2dNormActivation(last_in, 6 * last_in, 1, norm_layer=norm,
                                           activation=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(6 * last_in, last_channel), nn.Hardswish(), nn.Dropout(dropout),
            nn.Linear(last_channel, num_classes))
        self._init_weights()

    def _init_weights(self) -> None:
        """torchvision's initialisation, so an untrained network still behaves like one."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


HARDSIGMOID_FORMS = ("delegable", "aten")


def build_model(checkpoint: str | None = None, num_classes: int = 1000,
                hardsigmoid: str = "delegable") -> nn.Module:
    """The network in eval mode; ``checkpoint`` is a local torchvision-style state dict.

    ``hardsigmoid``: ``delegable`` (default) computes the squeeze-excitation gate as
    relu6(x + 3) / 6 from delegated ops; ``aten`` keeps ``nn.Hardsigmoid``, whose
    decomposition leaves dtype casts outside XNNPACK (19 partitions in fp16). The choice
    is here so the difference can be measured: see models/readme.md.
    """
    if hardsigmoid not in HARDSIGMOID_FORMS:
        raise ValueError(f"hardsigmoid must be one of {', '.join(HARDSIGMOID_FORMS)}, "
                         f"not {hardsigmoid!r}")
    torch.manual_seed(0)
    model = MobileNetV3Small(num_classes=num_classes)
    if checkpoint:
        model.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
    else:
        _estimate_batch_norm_statistics(model)
    if hardsigmoid == "delegable":
        replace_hardsigmoid(model)     # after the BN statistics: same values, only the ops change
    return model.eval()


def _estimate_batch_norm_statistics(model: nn.Module, batches: int = 2) -> None:
    """Run a few random batches in train mode so BN running stats match the activations.

    Why: with default statistics (mean 0, variance 1) activations of a random network
    drift by orders of magnitude across 50 layers, which would make fp16 and int8
    accuracy checks meaningless.
    """
    generator = torch.Generator().manual_seed(3)
    saved_momentum = {}
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            saved_momentum[module] = module.momentum
            module.momentum = None          # cumulative average over the batches
            module.reset_running_stats()
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(4, *INPUT_SHAPE[1:], generator=generator))
    for module, momentum in saved_momentum.items():
        module.momentum = momentum


def example_inputs() -> tuple:
    return (torch.randn(*INPUT_SHAPE, generator=torch.Generator().manual_seed(1)),)


def calibration_inputs() -> list[tuple]:
    generator = torch.Generator().manual_seed(2)
    return [(torch.randn(*INPUT_SHAPE, generator=generator),) for _ in range(2)]
