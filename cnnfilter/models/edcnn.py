"""EDCNN: Enhanced Deep CNN (Pan, Yi, Zhang, Jeon, Kwong; TIP 29, 2020)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .common import WNConv2d, conv

#: DIV2K RGB mean (0.4488, 0.4371, 0.4040) of the EDSR code base, converted to BT.601 luma.
LUMA_MEAN = 0.299 * 0.4488 + 0.587 * 0.4371 + 0.114 * 0.4040


class FIF(nn.Module):
    """Feature Information Fusion block on n channels: 4 parallel branches of [1x1 n->n/4 without
    bias, ReLU, weight-normalised 3x3 n/4->n/4 with bias, ReLU], concatenated back to n channels,
    plus the identity shortcut; no activation after the add."""

    def __init__(self, n: int) -> None:
        super().__init__()
        q = n // 4
        self.reduce = nn.ModuleList([conv(n, q, 1, bias=False) for _ in range(4)])
        self.spatial = nn.ModuleList([WNConv2d(q, q, 3, gain=0.1) for _ in range(4)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [F.relu(s(F.relu(r(x)))) for r, s in zip(self.reduce, self.spatial, strict=True)]
        return x + torch.cat(outs, 1)


class EDCNN(nn.Module):
    """EDCNN: head conv, 7 FIF blocks with widths 64-128-256-512-256-128-64 joined by plain 3x3
    convs (no activation), conv 64->64, long feature skip from the head, tail conv; no pooling, no
    input-to-output skip (the network outputs the image). About 4.55 M parameters, ~4.5 M MAC/px.

    Choices where the sources are silent or do not fit ([plausible]):

    - **one channel in and out** (Y) instead of the 3-channel EDSR head and tail: a 4:2:0
      picture cannot enter as RGB, and the facts sheet allows retraining a 1-channel head/tail
      (it saves ~3 k parameters, so the count stays ~4.55 M);
    - the fixed MeanShift keeps EDSR's DIV2K mean, converted to luma (0.437 in [0, 1] units);
    - weight normalisation only on the 3x3 convs inside the FIF branches, as in the code
      (the table and review say "each conv layer"); it folds away for export;
    - loss L = lam * MSE + (1 - lam) * MAE with lam = 0.5 by default (``--mae-weight`` exposes
      1 - lam); Adam 1e-4, batch 16, 48x48 patches (EDSR defaults);
    - initialisation: PyTorch's default for the plain convs (as the EDSR code base), MSRA for
      the FIF branches with the weight-norm gain g at 1/10 of the filter norm, so each block
      starts close to the identity and the untrained output stays in range.
    """

    qp_input = False

    def __init__(self, channels: int = 1) -> None:
        super().__init__()
        widths = [64, 128, 256, 512, 256, 128, 64]
        self.channels = channels  # 3 = the published RGB head/tail (structure check only)
        self.head = conv(channels, 64, 3, he_init=False)
        self.blocks = nn.ModuleList([FIF(n) for n in widths])
        # Conv2..Conv7 change the width between consecutive blocks.
        self.joins = nn.ModuleList(
            [conv(i, o, 3, he_init=False) for i, o in zip(widths[:-1], widths[1:], strict=True)]
        )
        self.body_end = conv(64, 64, 3, he_init=False)
        self.tail = conv(64, channels, 3, he_init=False)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        h = self.head(y - LUMA_MEAN)
        x = self.blocks[0](h)
        for join, block in zip(self.joins, self.blocks[1:], strict=True):
            x = block(join(x))
        return self.tail(self.body_end(x) + h) + LUMA_MEAN
