"""The CNN model zoo: registry of the networks, their published training set-up and their cost.

This module imports without torch; building a network (``build_model``) needs the ``train``
extra (``pip install 'cnnfilter[train]'``). Every network maps 8-bit luma normalised to [0, 1]
(and, for QP-conditioned networks, a constant QP plane QP/51) to the filtered luma in [0, 1].
"""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: The spatial size at which kMAC/pixel is measured (a multiple of every network's pad multiple).
MAC_REFERENCE_SIZE = (256, 256)


@dataclass(frozen=True)
class ArchInfo:
    """One network of the zoo and its published (or chosen, when marked) training set-up."""

    name: str
    module: str
    cls: str
    title: str
    qp_conditioned: bool  # takes the QP plane as a second input
    output: str  # "image" or "residual" as seen from outside (our exports always output the image)
    loss: str  # "mse" or "mse+mae"
    patch: int
    batch: int
    lr: float
    pad_multiple: int  # H and W must be a multiple of this (the runtime pads by edge replication)
    setup_source: str  # where patch/batch/lr come from

    def build(self, **kwargs: Any) -> torch.nn.Module:
        return build_model(self.name, **kwargs)


ARCHS: dict[str, ArchInfo] = {
    a.name: a
    for a in [
        ArchInfo(
            "vrcnn",
            "vrcnn",
            "VRCNN",
            "VRCNN (Dai, Liu, Wu, MMM 2017)",
            False,
            "image",
            "mse",
            35,
            64,
            1e-3,
            1,
            "[plausible] 35x35 patches, batch 64, Adam 1e-3 (Caffe/SGD originally)",
        ),
        ArchInfo(
            "sefcnn",
            "sefcnn",
            "SEFCNN",
            "SEFCNN, full FEX+FEN (Ding et al., TCSVT 2020)",
            False,
            "image",
            "mse",
            35,
            64,
            1e-4,
            1,
            "35x35 patches [code comment]; batch 64, Adam 1e-4 [plausible]",
        ),
        ArchInfo(
            "sefcnn12",
            "sefcnn",
            "PlainVDSR12",
            "SEFCNN plain 12-layer variant (QP 22)",
            False,
            "image",
            "mse",
            35,
            64,
            1e-4,
            1,
            "35x35 patches [code comment]; batch 64, Adam 1e-4 [plausible]",
        ),
        ArchInfo(
            "sefcnn16",
            "sefcnn",
            "PlainVDSR16",
            "SEFCNN plain 16-layer variant (QP 27)",
            False,
            "image",
            "mse",
            35,
            64,
            1e-4,
            1,
            "35x35 patches [code comment]; batch 64, Adam 1e-4 [plausible]",
        ),
        ArchInfo(
            "edcnn",
            "edcnn",
            "EDCNN",
            "EDCNN (Pan et al., TIP 2020)",
            False,
            "image",
            "mse+mae",
            48,
            16,
            1e-4,
            1,
            "[plausible] EDSR defaults: 48x48 patches, batch 16, Adam 1e-4",
        ),
        ArchInfo(
            "mphff",
            "mphff",
            "MPHFF",
            "MP-HFF (max-pooling + hierarchical feature fusion)",
            False,
            "image",
            "mse",
            64,
            64,
            1e-4,
            4,
            "[paper] 64x64 patches, batch 64, Adam 1e-4, MSE",
        ),
        ArchInfo(
            "glfusion",
            "glfusion",
            "GLFusion",
            "GL-Fusion (Yue, Gao, Li, Yuan, Dufaux)",
            False,
            "image",
            "mse",
            128,
            32,
            2e-3,
            16,
            "[paper] 128x128 patches, batch 32, Adam 2e-3, MSE",
        ),
        ArchInfo(
            "qpvrcnn",
            "qpvrcnn",
            "QPVRCNN",
            "QP-VRCNN: our QP-conditioned filter on VRCNN's topology",
            True,
            "image",
            "mse",
            35,
            64,
            1e-3,
            1,
            "ours: as VRCNN (35x35 patches, batch 64, Adam 1e-3)",
        ),
        ArchInfo(
            "qpnet",
            "qpnet",
            "QPNet",
            "QPNet: our QP-conditioned efficient filter",
            True,
            "image",
            "mse",
            64,
            32,
            5e-4,
            4,
            "ours: 64x64 patches, batch 32, Adam 5e-4, MSE",
        ),
        ArchInfo(
            "ours",
            "ours",
            "Ours",
            "Ours: pixel-unshuffled residual net, QP plane + QP gains, re-parameterised convs",
            True,
            "image",
            "mse",
            64,
            16,
            5e-4,
            2,
            "ours: 64x64 patches, batch 16, Adam 5e-4, QP-balanced MSE",
        ),
    ]
}


def require_torch() -> Any:
    """Imports torch or raises a clear error naming the extra that provides it."""
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise UserError(
            "this command needs PyTorch, which is an optional extra: "
            "pip install 'cnnfilter[train]' (on a CPU machine: pip install torch==2.13.0)"
        ) from e
    return torch


def get_arch(name: str) -> ArchInfo:
    if name not in ARCHS:
        raise UserError(f"unknown network '{name}'; known: {', '.join(ARCHS)}")
    return ARCHS[name]


def build_model(name: str, **kwargs: Any) -> torch.nn.Module:
    """Builds the named network with fresh (seeded by the caller) weights."""
    info = get_arch(name)
    require_torch()
    mod = importlib.import_module(f"{__name__}.{info.module}")
    return getattr(mod, info.cls)(**kwargs)


def takes_side(name: str) -> bool:
    """Whether the named network can take side-information planes (a ``side`` argument)."""
    info = get_arch(name)
    require_torch()
    cls = getattr(importlib.import_module(f"{__name__}.{info.module}"), info.cls)
    return "side" in inspect.signature(cls).parameters


def count_params(model: torch.nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def model_cost(name: str) -> tuple[int, int, float]:
    """(trainable parameters, parameters after folding for inference, kMAC/pixel) of a network."""
    from .common import fold_for_export, macs_per_pixel

    torch = require_torch()
    torch.manual_seed(0)
    model = build_model(name)
    folded = fold_for_export(model)
    return count_params(model), count_params(folded), macs_per_pixel(folded) / 1000.0


COST_TABLE = Path(__file__).with_name("costs.json")


def cost_table() -> dict[str, dict[str, float]]:
    """Each network's cost as ``model_cost`` measured it, read from ``costs.json`` (no torch);
    tests/test_models.py checks the table against the built networks."""
    return json.loads(COST_TABLE.read_text())


def write_cost_table() -> Path:
    """Measures every network again and rewrites ``costs.json`` (run after changing a network)."""
    table = {}
    for name in ARCHS:
        params, folded, kmac = model_cost(name)
        table[name] = {"params": params, "params_folded": folded, "kmac_per_pixel": kmac}
    COST_TABLE.write_text(json.dumps(table, indent=1) + "\n")
    return COST_TABLE


__all__ = [
    "ARCHS",
    "cost_table",
    "write_cost_table",
    "ArchInfo",
    "MAC_REFERENCE_SIZE",
    "build_model",
    "count_params",
    "get_arch",
    "model_cost",
    "require_torch",
]
