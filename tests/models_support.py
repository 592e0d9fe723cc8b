"""Helpers for the model-zoo tests: synthetic datasets and small exported models."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnfilter.dataset import CodedFrame, build_dataset


def blocky_coder(frames, qp, fps, tmp, in_loop=False):
    """A stand-in codec with real blocking: 8x8 DCT-free 'coding' = block mean plus the detail
    quantised with a QP-dependent step (a deterministic, learnable artefact); ``in_loop`` adds a
    crude 'deblocking' (the samples either side of every block edge averaged)."""
    step = 2.0 ** ((qp - 4) / 6.0)
    out = []
    for y, _, _ in frames:
        h, w = y.shape
        a = y.astype(np.float64)
        blocks = a.reshape(h // 8, 8, w // 8, 8)
        mean = blocks.mean(axis=(1, 3), keepdims=True)
        detail = np.round((blocks - mean) / step) * step
        rec = np.clip(np.round(mean + detail), 0, 255).reshape(h, w)
        if in_loop:
            for e in range(8, w, 8):
                m = (rec[:, e - 1] + rec[:, e]) / 2
                rec[:, e - 1], rec[:, e] = m, m
        rec = np.clip(np.round(rec), 0, 255).astype(np.uint8)
        out.append(CodedFrame(rec, "I", qp))
    return out


def write_images(root: Path, n_train: int = 3, n_val: int = 2, size=(96, 128), seed: int = 0):
    """Synthetic picture-like PNGs: training ones under images/synthetic, validation ones under
    images/CSet14 (a validation collection)."""
    from PIL import Image

    from cnnfilter.export import synthetic_picture

    rng = np.random.default_rng(seed)
    for coll, n in (("synthetic", n_train), ("CSet14", n_val)):
        d = root / "images" / coll
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            g = synthetic_picture(size[0], size[1], seed=int(rng.integers(1 << 30)))
            rgb = np.stack([g, np.roll(g, 3, 1), g[::-1]], -1)
            Image.fromarray(rgb).save(d / f"img{i}.png")
    return root


def synthetic_dataset(tmp: Path, qps=(32, 37)) -> Path:
    src = write_images(tmp / "src")
    build_dataset(
        src, tmp / "ds", codec="custom", qps=tuple(qps), coder=blocky_coder, progress=False
    )
    return tmp / "ds"


def export_random(arch: str, out: Path, trained_qps=(37,), seed: int = 0, **kw) -> Path:
    import torch

    from cnnfilter.export import export_model
    from cnnfilter.models import build_model

    torch.manual_seed(seed)
    model = build_model(arch)
    q = list(trained_qps)
    qp_range = kw.pop("qp_range", (0, 51) if model.qp_input else (max(0, q[0] - 2), q[0] + 2))
    onnx_path, _ = export_model(
        model,
        arch,
        out,
        qp_range=qp_range,
        trained_qps=q,
        slice_types=kw.pop("slice_types", ["I"]),
        development_artefact=True,
        **kw,
    )
    return onnx_path
