"""Small CNN streams from generated content, for the decoder's safety tests (no ../shared).

A 64x64 clip of smooth gradients and texture, encoded All-Intra by our encoder with the in-loop
CNN forced on every CTU (``cnn_mode="all"``), so that decoding a picture with the wrong model
set changes it and its MD5 SEI says so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import ROOT

import cnnfilter
from cnnfilter.yuv import YuvWriter

CFG = ROOT / "cfg" / "encoder_intra_main.cfg"
MODELS = ROOT / "models"
W, H = 64, 64


def make_clip(path: Path, frames: int = 3, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    with YuvWriter(path) as w:
        for t in range(frames):
            base = 128 + 60 * np.sin((xx + 3 * t) / 7.0) * np.cos((yy - 2 * t) / 11.0)
            y = np.clip(base + rng.normal(0, 12, (H, W)), 0, 255).astype(np.uint8)
            u = np.clip(128 + 30 * np.sin(xx[::2, ::2] / 5.0 + t), 0, 255).astype(np.uint8)
            v = np.clip(128 + 30 * np.cos(yy[::2, ::2] / 6.0 - t), 0, 255).astype(np.uint8)
            w.write((y, u, v))
    return path


def cnn_stream(
    folder: Path,
    name: str,
    cnn: str | None,
    *,
    frames: int = 3,
    seed: int = 0,
    qp: int = 37,
    mode: str = "all",
) -> Path:
    clip = make_clip(folder / f"{name}.yuv", frames, seed)
    res = cnnfilter.encode(
        clip, folder / f"{name}.hevc", cfg=CFG, width=W, height=H, qp=qp, cnn=cnn, cnn_mode=mode
    )
    return res.bitstream


def access_units(data: bytes) -> list[bytes]:
    """The stream split into access units (Annex B, 4-byte start codes): a new unit starts at a
    VPS, AUD, prefix SEI or parameter set after a picture's slices, or at a first slice."""
    units: list[list[bytes]] = []
    seen_slice = False
    for nal_type, nal in cnnfilter._hevc.nal_units(data):
        first_slice = nal_type < 32 and len(nal) > 2 and nal[2] & 0x80
        starts_au = (nal_type in (32, 33, 34, 35, 39) and seen_slice) or (
            first_slice and seen_slice
        )
        if not units or starts_au:
            units.append([])
            seen_slice = False
        units[-1].append(b"\x00\x00\x00\x01" + nal)
        seen_slice |= nal_type < 32
    return [b"".join(u) for u in units]


def planes_bytes(res) -> bytes:
    return b"".join(
        np.ascontiguousarray(p).tobytes() for pic in res.pictures for p in (pic.y, pic.u, pic.v)
    )
