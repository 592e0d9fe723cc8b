"""VRCNN: Variable-filter-size Residue-learning CNN (Dai, Liu, Wu, MMM 2017)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .common import bias_lr_groups, conv


class VRCNN(nn.Module):
    """VRCNN, layer by layer as in the facts sheet (Caffe prototxt of the IVC repository).

    conv1 5x5 1->64, ReLU; conv2 = concat(5x5 64->16, 3x3 64->32), ReLU; conv3 = concat(3x3
    48->16, 1x1 48->32), ReLU; conv4 3x3 48->1, linear; output = input + conv4 (global skip).
    54,673 parameters with biases. No normalisation, MSRA initialisation.

    Choices where the sources are silent ([plausible]):

    - the bias learning-rate multiplier 0.1 of the Caffe model is kept (``optim_groups``);
    - Adam at 1e-3 replaces Caffe's SGD, 35x35 patches, batch 64 (VRCNN's training details are
      not verified in the facts sheet);
    - the conv4 weights start at 1/10 of MSRA scale so the untrained net is close to identity.
    """

    qp_input = False

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = conv(1, 64, 5)
        self.conv2a = conv(64, 16, 5)
        self.conv2b = conv(64, 32, 3)
        self.conv3a = conv(48, 16, 3)
        self.conv3b = conv(48, 32, 1)
        self.conv4 = conv(48, 1, 3)
        with torch.no_grad():
            self.conv4.weight.mul_(0.1)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(y))
        x = F.relu(torch.cat([self.conv2a(x), self.conv2b(x)], 1))
        x = F.relu(torch.cat([self.conv3a(x), self.conv3b(x)], 1))
        return y + self.conv4(x)

    def optim_groups(self, lr: float) -> list[dict]:
        return bias_lr_groups(self, lr)
