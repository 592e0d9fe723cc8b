"""SEFCNN: Squeeze-and-Excitation Filtering CNN (Ding et al., TCSVT 2020), and the plain
12- and 16-layer FEX-only variants it deploys at QP 22 and QP 27."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .common import conv


def _fex(n_mid: int) -> nn.ModuleList:
    """conv 3x3 1->64 then ``n_mid`` convs 3x3 64->64, each followed by ReLU."""
    return nn.ModuleList([conv(1, 64, 3)] + [conv(64, 64, 3) for _ in range(n_mid)])


class SEFCNN(nn.Module):
    """The full SEFCNN (the QP 32/37 network), 641,473 parameters.

    FEX: conv 3x3 1->64 + 14 x conv 3x3 64->64, all ReLU, no normalisation (15 convs).
    FEN: trunk of 3 convs 3x3 64->64 (ReLU, ReLU, none); squeeze = global average pool over the
    whole picture; excitation = 1x1 64->64 ReLU then 1x1 64->64 sigmoid (ratio 1, no channel
    reduction, as in the code); projected shortcut = 1x1 64->64 from the FEN input; merge =
    ReLU(trunk * weights + shortcut). Recon: conv 3x3 64->1; output = input + recon.

    Choices ([plausible]): MSE loss, Adam 1e-4, batch 64 (35x35 patches are a code comment);
    the recon conv starts at 1/10 MSRA scale so the untrained net is close to identity. The
    squeeze pools over whatever the network is given: the whole frame, or one tile when the
    model set tiles (this is why tiling is part of a model set's definition).
    """

    qp_input = False

    def __init__(self, fex_mid: int = 14) -> None:
        super().__init__()
        self.fex = _fex(fex_mid)
        self.trunk = nn.ModuleList([conv(64, 64, 3) for _ in range(3)])
        self.exc1 = conv(64, 64, 1)
        self.exc2 = conv(64, 64, 1)
        self.skip = conv(64, 64, 1)
        self.recon = conv(64, 1, 3)
        with torch.no_grad():
            self.recon.weight.mul_(0.1)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        x = y
        for c in self.fex:
            x = F.relu(c(x))
        t = F.relu(self.trunk[0](x))
        t = F.relu(self.trunk[1](t))
        t = self.trunk[2](t)
        w = F.adaptive_avg_pool2d(t, 1)
        w = torch.sigmoid(self.exc2(F.relu(self.exc1(w))))
        x = F.relu(t * w + self.skip(x))
        return y + self.recon(x)


class _PlainVDSR(nn.Module):
    qp_input = False

    def __init__(self, n_mid: int) -> None:
        super().__init__()
        self.fex = _fex(n_mid)
        self.recon = conv(64, 1, 3)
        with torch.no_grad():
            self.recon.weight.mul_(0.1)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        x = y
        for c in self.fex:
            x = F.relu(c(x))
        return y + self.recon(x)


class PlainVDSR12(_PlainVDSR):
    """SEFCNN's QP 22 network ('VDSR12'): conv 1->64 + 10 x conv 64->64 (ReLU) + conv 64->1,
    all 3x3, output = input + last conv; 370,497 parameters. Training as for SEFCNN
    ([plausible]: MSE, Adam 1e-4, batch 64, 35x35 patches)."""

    def __init__(self) -> None:
        super().__init__(10)


class PlainVDSR16(_PlainVDSR):
    """SEFCNN's QP 27 network ('VDSR16'): conv 1->64 + 14 x conv 64->64 (ReLU) + conv 64->1,
    all 3x3, output = input + last conv; 518,209 parameters. Training as for SEFCNN
    ([plausible]: MSE, Adam 1e-4, batch 64, 35x35 patches)."""

    def __init__(self) -> None:
        super().__init__(14)
