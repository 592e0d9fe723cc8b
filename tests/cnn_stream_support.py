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
    overrides: dict | None = None,
) -> Path:
    clip = make_clip(folder / f"{name}.yuv", frames, seed)
    res = cnnfilter.encode(
        clip,
        folder / f"{name}.hevc",
        cfg=CFG,
        width=W,
        height=H,
        qp=qp,
        cnn=cnn,
        cnn_mode=mode,
        overrides=overrides,
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


CNN_UUID = bytes.fromhex("26f95e15728c4e9eb75e70e7140bb422")


def escape_emulation(rbsp: bytes) -> bytes:
    """RBSP to NAL payload: 0x03 after two zero bytes that precede a byte <= 3."""
    out = bytearray()
    zeros = 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def cnn_sei_nal(payload: bytes) -> bytes:
    """A prefix SEI NAL unit (with start code) holding one user data unregistered message with
    cnnfilter's UUID and ``payload`` (version, identity, mode length, mode; docs/bitstream.md)."""
    body = CNN_UUID + payload
    size = len(body)
    rbsp = bytes([5]) + b"\xff" * (size // 255) + bytes([size % 255]) + body + b"\x80"
    return b"\x00\x00\x00\x01" + bytes([39 << 1, 1]) + escape_emulation(rbsp)


def sei_payload(stream: bytes) -> tuple[bytes, bytes]:
    """The first model-set SEI NAL unit of ``stream`` (with start code) and its payload."""
    for nal_type, nal in cnnfilter._hevc.nal_units(stream):
        if nal_type == 39:
            rbsp = nal[2:].replace(b"\x00\x00\x03", b"\x00\x00")
            size = rbsp[1]
            return b"\x00\x00\x00\x01" + nal, rbsp[2 + 16 : 2 + size]
    raise ValueError("no model-set SEI in the stream")


def with_sei(stream: bytes, payload: bytes) -> bytes:
    """``stream`` with every model-set SEI replaced by one carrying ``payload``."""
    old, _ = sei_payload(stream)
    return stream.replace(old, cnn_sei_nal(payload))


def assert_anchor_apart_from_cnn(anchor: Path, off: Path, header_bytes: int) -> None:
    """The stream of a CNN encode with every flag off against the anchor's: the same NAL units
    once our SEI is dropped, VPS/SPS/hash SEI identical, and each slice the same slice data
    (all but its first ``header_bytes`` bytes) with a header grown by 1..4 bytes of extension."""
    from cnnfilter._hevc import nal_units

    a_nals = nal_units(anchor.read_bytes())
    b_nals = [n for n in nal_units(off.read_bytes()) if n[0] != 39]  # drop our SEI
    assert [t for t, _ in a_nals] == [t for t, _ in b_nals]
    for (t, a), (_, b) in zip(a_nals, b_nals, strict=True):
        if t in (32, 33, 40):  # VPS, SPS, hash SEI: identical
            assert a == b
        elif t < 32:  # slices: identical slice data; only the header grew by the extension
            same = next(n for n in range(len(a) + 1) if n == len(a) or a[-1 - n] != b[-1 - n])
            assert len(a) - same <= header_bytes and 0 < len(b) - len(a) <= 4, (t, len(a), same)
