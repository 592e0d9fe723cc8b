"""MP-HFF: video enhancement network based on max-pooling and hierarchical feature fusion.

Only a slide deck describes it (facts sheet section 4); most of the layer list is our reading.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .common import conv, up2


def _pair(cin: int, c: int) -> nn.Sequential:
    return nn.Sequential(conv(cin, c, 3), nn.ReLU(), conv(c, c, 3), nn.ReLU())


class MPHFF(nn.Module):
    """MP-HFF: multi-scale features by max-pooling, fused hierarchically, residual output.

    Facts (deck): Y only, feature extraction, two-stage hierarchical fusion of multi-scale
    features, MSE loss, Adam 1e-4, batch 64, 64x64 patches, whole frame at test.

    Our reading ([plausible], the figure is missing):

    - feature extraction at three scales, 64 channels each: F1 = 2 x (3x3 conv, ReLU) at full
      resolution; F2 = 2x2 max-pool of F1 then 2 x (conv, ReLU) at 1/2; F4 = max-pool of F2 then
      2 x (conv, ReLU) at 1/4;
    - stage 1 fuses the coarsest and the middle scale: bilinear x2 of F4, concat with F2,
      3x3 conv 128->64 + ReLU, 3x3 conv + ReLU; stage 2 fuses that with full resolution in the
      same way with F1;
    - reconstruction 3x3 conv 64->1 (starting at 1/10 MSRA scale), added to the input (residual,
      as in every baseline);
    - H and W must be multiples of 4 (the runtime pads by edge replication and crops).
    """

    qp_input = False

    def __init__(self, c: int = 64) -> None:
        super().__init__()
        self.f1 = _pair(1, c)
        self.f2 = _pair(c, c)
        self.f4 = _pair(c, c)
        self.stage1 = _pair(2 * c, c)
        self.stage2 = _pair(2 * c, c)
        self.recon = conv(c, 1, 3)
        with torch.no_grad():
            self.recon.weight.mul_(0.1)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        f1 = self.f1(y)
        f2 = self.f2(F.max_pool2d(f1, 2))
        f4 = self.f4(F.max_pool2d(f2, 2))
        h2 = self.stage1(torch.cat([up2(f4), f2], 1))
        h1 = self.stage2(torch.cat([up2(h2), f1], 1))
        return y + self.recon(h1)
