"""Ours: the project's efficient QP-conditioned in-loop filter (one model for QP 22..37)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UserError
from .common import bias_lr_groups, conv

#: The QP range the model is trained on; QPs outside it are clamped to it.
QP_LO, QP_HI = 22, 37


class RepConv(nn.Module):
    """A 3x3 convolution trained as the sum of a 3x3 and a 1x1 branch (and, with
    ``identity``, the input itself). The branches are linear, so ``folded()`` merges them into
    one plain 3x3 convolution that computes the same function: the extra branches change how
    the net trains (RepVGG/ACNet-style over-parameterisation), not what it costs to run.

    ``scale`` multiplies the He-initialised weights of both branches (0 zero-initialises them)."""

    def __init__(self, cin: int, cout: int, identity: bool = False, scale: float = 1.0) -> None:
        super().__init__()
        if identity and cin != cout:
            raise UserError("an identity branch needs cin == cout")
        self.k3 = conv(cin, cout, 3)
        self.k1 = nn.Conv2d(cin, cout, 1, bias=False)
        nn.init.kaiming_normal_(self.k1.weight, mode="fan_in", nonlinearity="relu")
        with torch.no_grad():
            self.k3.weight.mul_(scale)
            self.k1.weight.mul_(scale)
        self.identity = identity
        self.in_channels, self.out_channels = cin, cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.k3(x) + self.k1(x)
        return y + x if self.identity else y

    @torch.no_grad()
    def folded(self) -> nn.Conv2d:
        c = nn.Conv2d(self.in_channels, self.out_channels, 3, padding=1)
        w = self.k3.weight.clone()
        w[:, :, 1, 1] += self.k1.weight[:, :, 0, 0]
        if self.identity:
            w[:, :, 1, 1] += torch.eye(self.out_channels, dtype=w.dtype)
        c.weight.copy_(w)
        c.bias.copy_(self.k3.bias)
        return c


class Ours(nn.Module):
    """A pixel-unshuffled residual filter conditioned on the QP; 63 kMAC/pixel.

    Inputs: y (N,1,H,W) in [0, 1] and the QP plane (N,1,H,W) = QP/51; output: the filtered
    picture in [0, 1] (y + a learned correction). H and W must be even.

    1. **Half-resolution trunk.** y - 1/2 is pixel-unshuffled by 2: its four 2x2 phases become
       4 channels, so every 3x3 convolution sees a 6x6 window and costs a quarter per output
       pixel; 48 channels then allow 18 convolutions within 100 kMAC/px. The shift by 1/2
       centres the input, so the first layer starts with a small bias-like component.
       6 blocks (63 kMAC/px, 291k trainable parameters, a 3.5 MB training checkpoint with
       Adam's state) leave room under the budget and the 5 MB checkpoint limit for side
       information and for a wider net later.
    2. **The QP** is clamped to 22..37 (the trained range; beyond it the filter acts as at the
       nearest end) and mapped to [-1, 1]. It enters as an input plane (the first layer can
       adapt locally) and as per-channel gains 1 + MLP(QP) on every residual branch (a 1->32->
       48·blocks MLP on the QP; its last layer starts at zero, so all gains start at 1).
    3. **Body**: head RepConv 5->48 + ReLU, then ``blocks`` residual blocks x + g * RepConv(
       ReLU(RepConv(x))), then a RepConv 48->4 tail that is pixel-shuffled back to full
       resolution and added to y. Each RepConv folds into one 3x3 convolution at export.
    4. **Side information** (later): ``side`` extra input planes (e.g. CU/TU boundaries, the
       prediction signal) are pixel-unshuffled and appended after the head's 5 input channels.
       Fine-tuning a ``side > 0`` net from a ``side = 0`` checkpoint (``cnnfilter train
       --init``) copies every tensor and starts the new input channels at zero weight, so it
       starts as exactly the trained net.

    5. **Residual scale** ``res_scale`` = 1/16: the tail's output is multiplied by it before
       it is added to y. The tail starts at zero and its inputs are O(1) features, while the
       correction it must learn is 1..8 grey levels (0.004..0.03); Adam moves every weight by
       about the learning rate per step whatever its natural scale, so without the factor the
       first steps change the output by ~13 grey levels rms and the net spends its first few
       hundred steps undoing that (docs/models.md, "Why QPNet learned slowly").

    Initialisation: the second conv of every residual branch at 0.1 of He scale, the tail at
    zero, so the untrained net is the identity and the branches start small (no normalisation
    layers, so nothing to fold but the branches).
    """

    qp_input = True

    def __init__(
        self, c: int = 48, blocks: int = 6, side: int = 0, res_scale: float = 1.0 / 16
    ) -> None:
        super().__init__()
        self.c, self.nblocks, self.side = c, blocks, side
        # Context radius in full-resolution samples (the card's receptive_field): the
        # 2 + 2 * blocks 3x3 convolutions at half resolution see as many half-resolution
        # samples on each side, and a sample's place in its 2x2 phase adds one.
        self.receptive_field = 2 * (2 + 2 * blocks) + 1
        # a buffer, so that a checkpoint carries the scale it was trained with
        self.register_buffer("res_scale", torch.tensor(float(res_scale)))
        self.head = RepConv(4 * (1 + side) + 1, c)
        self.body = nn.ModuleList(
            [nn.ModuleList([RepConv(c, c), RepConv(c, c, scale=0.1)]) for _ in range(blocks)]
        )
        self.gain1 = nn.Conv2d(1, 32, 1)
        self.gain2 = nn.Conv2d(32, c * blocks, 1)
        nn.init.zeros_(self.gain2.weight)
        nn.init.zeros_(self.gain2.bias)
        self.tail = RepConv(c, 4, scale=0.0)

    def qp_norm(self, qp: torch.Tensor) -> torch.Tensor:
        q = torch.clamp(qp * 51.0, QP_LO, QP_HI)
        return (q - 0.5 * (QP_LO + QP_HI)) / (0.5 * (QP_HI - QP_LO))

    def forward(self, y: torch.Tensor, qp: torch.Tensor, *side: torch.Tensor) -> torch.Tensor:
        if len(side) != self.side:
            raise UserError(f"expected {self.side} side-information planes, got {len(side)}")
        q2 = F.avg_pool2d(self.qp_norm(qp), 2)
        # side planes come last: --init widens a checkpoint's first layer by appending input
        # channels (at zero weight), so the trained channels keep their positions
        planes = [F.pixel_unshuffle(y - 0.5, 2), q2, *(F.pixel_unshuffle(s, 2) for s in side)]
        x = F.relu(self.head(torch.cat(planes, 1)))
        # The QP plane is constant: its first sample is its mean without a float sum whose
        # rounding depends on the picture size, so any region read with the receptive-field
        # halo gets the whole picture's output bit for bit (docs/models.md, "Inference units").
        gains = 1.0 + self.gain2(F.relu(self.gain1(q2[:, :, :1, :1])))
        for i, (c1, c2) in enumerate(self.body):
            x = x + c2(F.relu(c1(x))) * gains[:, i * self.c : (i + 1) * self.c]
        r = F.pixel_shuffle(self.tail(x), 2)
        return y + r * self.res_scale

    def optim_groups(self, lr: float) -> list[dict]:
        return bias_lr_groups(self, lr, bias_mult=1.0)
