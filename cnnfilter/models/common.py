"""Building blocks shared by the networks: weight-normalised and batch-normalised convolutions
that fold into plain convolutions for export, and a MAC counter."""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn


def bias_lr_groups(model: nn.Module, lr: float, bias_mult: float = 0.1) -> list[dict]:
    """Adam parameter groups with the biases at ``bias_mult`` times the weights' rate (the
    Caffe models' ``lr_mult`` for biases)."""
    named = list(model.named_parameters())
    weights = [p for n, p in named if not n.endswith("bias")]
    biases = [p for n, p in named if n.endswith("bias")]
    return [{"params": weights, "lr": lr}, {"params": biases, "lr": lr * bias_mult}]


def conv(cin: int, cout: int, k: int, bias: bool = True, he_init: bool = True) -> nn.Conv2d:
    """A stride-1 'same' convolution with zero bias and He (MSRA) normal initialisation, or
    PyTorch's default initialisation when ``he_init`` is false."""
    c = nn.Conv2d(cin, cout, k, padding=k // 2, bias=bias)
    if not he_init:
        if c.bias is not None:
            nn.init.zeros_(c.bias)
        return c
    nn.init.kaiming_normal_(c.weight, mode="fan_in", nonlinearity="relu")
    if c.bias is not None:
        nn.init.zeros_(c.bias)
    return c


class WNConv2d(nn.Module):
    """Weight-normalised convolution (Salimans & Kingma 2016): W = g * v / ||v|| per output filter.

    ``folded()`` returns the equivalent plain ``nn.Conv2d`` for inference and export.
    """

    def __init__(self, cin: int, cout: int, k: int, bias: bool = True, gain: float = 1.0) -> None:
        super().__init__()
        v = torch.empty(cout, cin, k, k)
        nn.init.kaiming_normal_(v, mode="fan_in", nonlinearity="relu")
        self.v = nn.Parameter(v)
        self.g = nn.Parameter(v.flatten(1).norm(dim=1) * gain)
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.in_channels, self.out_channels, self.k = cin, cout, k

    def weight(self) -> torch.Tensor:
        norm = self.v.flatten(1).norm(dim=1).clamp_min(1e-12)
        return self.v * (self.g / norm).view(-1, 1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight(), self.bias, padding=self.k // 2)

    @torch.no_grad()
    def folded(self) -> nn.Conv2d:
        c = nn.Conv2d(
            self.in_channels,
            self.out_channels,
            self.k,
            padding=self.k // 2,
            bias=self.bias is not None,
        )
        c.weight.copy_(self.weight())
        if self.bias is not None:
            c.bias.copy_(self.bias)
        return c


class ConvBN(nn.Module):
    """conv (no bias) -> BatchNorm -> optional ReLU; ``folded()`` merges the BN into the conv."""

    def __init__(self, cin: int, cout: int, k: int = 3, relu: bool = True) -> None:
        super().__init__()
        self.conv = conv(cin, cout, k, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return F.relu(x) if self.relu else x

    @torch.no_grad()
    def folded(self) -> nn.Module:
        c = nn.Conv2d(
            self.conv.in_channels,
            self.conv.out_channels,
            self.conv.kernel_size,
            padding=self.conv.padding,
            bias=True,
        )
        scale = self.bn.weight / torch.sqrt(self.bn.running_var + self.bn.eps)
        c.weight.copy_(self.conv.weight * scale.view(-1, 1, 1, 1))
        c.bias.copy_(self.bn.bias - self.bn.running_mean * scale)
        return nn.Sequential(c, nn.ReLU()) if self.relu else c


def _fold_children(module: nn.Module) -> None:
    for name, child in list(module.named_children()):
        if hasattr(child, "folded"):
            setattr(module, name, child.folded())
        else:
            _fold_children(child)


def fold_for_export(model: nn.Module) -> nn.Module:
    """An eval-mode copy with every weight norm and batch norm folded into plain convolutions."""
    m = copy.deepcopy(model).eval()
    _fold_children(m)
    return m


def macs_per_pixel(model: nn.Module, size: tuple[int, int] | None = None) -> float:
    """Multiply-accumulates per output pixel of every convolution and linear layer, measured by
    running the model once on a ``size`` input (default ``MAC_REFERENCE_SIZE``)."""
    from . import MAC_REFERENCE_SIZE

    h, w = size or MAC_REFERENCE_SIZE
    total = 0

    def hook(mod: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(mod, nn.Conv2d):
            per_out = mod.in_channels // mod.groups * math.prod(mod.kernel_size)
            total += out[0].numel() * per_out
        elif isinstance(mod, WNConv2d):
            total += out[0].numel() * mod.in_channels * mod.k * mod.k
        elif isinstance(mod, nn.Linear):
            total += out[0].numel() * mod.in_features

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear, WNConv2d))
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            y = torch.full((1, 1, h, w), 0.5)
            side = [torch.zeros(1, 1, h, w) for _ in range(int(getattr(model, "side", 0)))]
            if getattr(model, "qp_input", False):
                model(y, torch.full((1, 1, h, w), 37 / 51), *side)
            else:
                model(y, *side)
    finally:
        for hd in handles:
            hd.remove()
        model.train(was_training)
    return total / (h * w)


def up2(x: torch.Tensor) -> torch.Tensor:
    """Bilinear x2 upsampling (half-pixel centres); exports as one ONNX Resize."""
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
