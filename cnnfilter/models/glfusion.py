"""GL-Fusion: global appearance and local coding distortion fusion (Yue, Gao, Li, Yuan, Dufaux).

No public code exists; the layer list follows the paper as summarised in the facts sheet
(section 5), with every gap filled as documented in ``GLFusion``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .common import ConvBN, conv, up2


class CSAF(nn.Module):
    """Channel + spatial attention (CBAM-like) with tanh.

    Channel: spatial max-pool and average-pool -> shared MLP (1x1 convs, ratio 16, ReLU) -> sum
    -> tanh. Spatial: channel-wise max and mean -> 7x7 conv -> tanh. [plausible] Each attention
    is applied as x * (1 + a): with a in (-1, 1) a feature can be suppressed (towards 0) or
    emphasised (up to x2), which is what the paper motivates tanh with.
    """

    def __init__(self, c: int, ratio: int = 16, k: int = 7) -> None:
        super().__init__()
        self.mlp1 = conv(c, c // ratio, 1)
        self.mlp2 = conv(c // ratio, c, 1)
        self.spatial = conv(2, 1, k)
        with torch.no_grad():  # start close to "no attention"
            self.mlp2.weight.mul_(0.1)
            self.spatial.weight.mul_(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mx = F.adaptive_max_pool2d(x, 1)
        av = F.adaptive_avg_pool2d(x, 1)
        ca = torch.tanh(self.mlp2(F.relu(self.mlp1(mx))) + self.mlp2(F.relu(self.mlp1(av))))
        x = x * (1 + ca)
        s = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], 1)
        return x * (1 + torch.tanh(self.spatial(s)))


class MSRM(nn.Module):
    """Mixed-scale residual module: trunk conv-BN-ReLU at full resolution and a shallow
    encoder-decoder branch (2x2 max-pool, conv-BN-ReLU, bilinear x2); concat, conv-BN-ReLU
    128->64, a plain 3x3 conv, plus the module input."""

    def __init__(self, c: int = 64) -> None:
        super().__init__()
        self.trunk = ConvBN(c, c)
        self.branch = ConvBN(c, c)
        self.fuse = ConvBN(2 * c, c)
        self.out = conv(c, c, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = up2(self.branch(F.max_pool2d(x, 2)))
        return x + self.out(self.fuse(torch.cat([self.trunk(x), b], 1)))


class UNet(nn.Module):
    """The HGF branch: 4 x (2x2 max-pool, 2 x conv-BN-ReLU) with widths 128, 256, 512, 1024, then
    4 x (bilinear x2, concat the skip of the same scale, 2 x conv-BN-ReLU) halving back to 64."""

    def __init__(self, c: int = 64, levels: int = 4) -> None:
        super().__init__()
        widths = [c * 2**i for i in range(levels + 1)]
        self.down = nn.ModuleList(
            [
                nn.Sequential(
                    ConvBN(widths[i], widths[i + 1]), ConvBN(widths[i + 1], widths[i + 1])
                )
                for i in range(levels)
            ]
        )
        self.up = nn.ModuleList(
            [
                nn.Sequential(
                    ConvBN(widths[i + 1] + widths[i], widths[i]), ConvBN(widths[i], widths[i])
                )
                for i in reversed(range(levels))
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [x]
        for d in self.down:
            x = d(F.max_pool2d(x, 2))
            skips.append(x)
        skips.pop()
        for u in self.up:
            x = u(torch.cat([up2(x), skips.pop()], 1))
        return x


class GLFusion(nn.Module):
    """GL-Fusion: shared stem, three branches (LLF, HGF, HLF), CSAF fusion, residual output.

    Facts (paper): stem conv+BN+ReLU shared by the branches; LLF = 6 x (conv, BN, ReLU) at full
    resolution; HGF = 4-level U-Net with 2x2 max-pooling, 2 x (3x3 conv, BN, ReLU) per level,
    widths 64 -> 1024 doubling and halving back; HLF = 5 mixed-scale residual modules; fusion 1 =
    concat(f_hg, f_ll) then conv-BN-ReLU; CSAF modules with tanh; Y = X + R. BatchNorm throughout
    (folded for export). Adam 2e-3, batch 32, 128x128 patches, MSE.

    Gaps filled ([plausible]):

    - the stem is 2 x (3x3 conv-BN-ReLU), 1->64->64; all branch convs are 3x3 with 64 channels;
    - U-Net upsampling is bilinear x2 followed by the level's convs (no transposed conv);
    - MSRM down-sampling is a 2x2 max-pool; its branch has one conv-BN-ReLU at 1/2 resolution;
    - CSAF: MLP ratio 16, 7x7 spatial conv, applied as x * (1 + tanh(.)) (see ``CSAF``); the
      three CSAF modules act on f'_hg (after fusion 1), on f_hl, and on the fused result of
      concat(f'_hg, f_hl) -> conv-BN-ReLU;
    - the last conv (64->1) is linear, without BN/ReLU: a ReLU on a residual would forbid
      negative corrections (eq. 8 is read as a notation slip); it starts at 1/10 MSRA scale
      instead of the paper's LSUV initialisation;
    - H and W must be multiples of 16 (the runtime pads by edge replication and crops).
    """

    qp_input = False

    def __init__(self, c: int = 64) -> None:
        super().__init__()
        self.stem = nn.Sequential(ConvBN(1, c), ConvBN(c, c))
        self.llf = nn.Sequential(*[ConvBN(c, c) for _ in range(6)])
        self.hgf = UNet(c, 4)
        self.hlf = nn.Sequential(*[MSRM(c) for _ in range(5)])
        self.fuse1 = ConvBN(2 * c, c)
        self.csaf_g = CSAF(c)
        self.csaf_l = CSAF(c)
        self.fuse2 = ConvBN(2 * c, c)
        self.csaf_f = CSAF(c)
        self.recon = conv(c, 1, 3)
        with torch.no_grad():
            self.recon.weight.mul_(0.1)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        s = self.stem(y)
        f_ll = self.llf(s)
        f_hg = self.hgf(s)
        f_hl = self.hlf(s)
        g = self.csaf_g(self.fuse1(torch.cat([f_hg, f_ll], 1)))
        fused = self.csaf_f(self.fuse2(torch.cat([g, self.csaf_l(f_hl)], 1)))
        return y + self.recon(fused)
