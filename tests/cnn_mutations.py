"""Targeted mutations of cnnfilter's CNN signalling (docs/bitstream.md): the slice segment
header extension and the model set identification SEI, for the decoder's fuzz check.

The extension sits at a bit position in the slice header (after fields of variable length), so
it is found by its content: ``ue(length)``, the tag 0xC7 and version 1, ``length`` bytes, then
``byte_alignment()`` and the slice data. A slice NAL unit is rebuilt from those parts, so the
extension can be replaced by any bytes (and any announced length) with the slice data intact.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cnn_stream_support import cnn_sei_nal, escape_emulation, sei_payload

import cnnfilter

TAG_V1 = "11000111" + "0001"  # cnn_tag 0xC7, cnn_version 1


def _bits(data: bytes) -> str:
    return "".join(f"{b:08b}" for b in data)


def _bytes(bits: str) -> bytes:
    assert len(bits) % 8 == 0
    return bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))


def _ue(v: int) -> str:
    x = bin(v + 1)[2:]
    return "0" * (len(x) - 1) + x


def _unescape(nal: bytes) -> bytes:
    out = bytearray()
    zeros = 0
    for b in nal:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


@dataclass
class SliceExt:
    """A slice NAL unit (RBSP, header included) cut around its CNN extension."""

    head: str  # slice header bits before slice_segment_header_extension_length
    ext: bytes
    data: bytes  # slice data, from the byte after byte_alignment()
    ctus: int

    def build(self, ext: bytes | None = None, length: int | None = None) -> bytes:
        """The NAL unit (with start code) carrying ``ext`` and announcing ``length`` bytes."""
        ext = self.ext if ext is None else ext
        bits = self.head + _ue(len(ext) if length is None else length) + _bits(ext) + "1"
        bits += "0" * (-len(bits) % 8)
        return b"\x00\x00\x00\x01" + escape_emulation(_bytes(bits) + self.data)


def find_ext(nal: bytes, ctus: int) -> SliceExt:
    """The extension of a slice NAL unit (without start code) written by our encoder."""
    rbsp = _unescape(nal)
    bits = _bits(rbsp)
    for t in range(16, min(len(bits), 600)):
        if bits[t : t + 12] != TAG_V1:
            continue
        for k in range(9):
            s = t - (2 * k + 1)
            if s < 16 or bits[s : s + k] != "0" * k or bits[s + k] != "1":
                continue
            length = int(bits[s + k : t], 2) - 1
            end = t + 8 * length
            if length < 2 or end >= len(bits) or bits[end] != "1":
                continue
            aligned = end + 1 + (-(end + 1) % 8)
            if bits[end + 1 : aligned] != "0" * (aligned - end - 1):
                continue
            return SliceExt(bits[:s], _bytes(bits[t:end]), rbsp[aligned // 8 :], ctus)
    raise ValueError("no CNN slice header extension found")


class BitWriter:
    def __init__(self) -> None:
        self.bits = ""

    def u(self, v: int, n: int) -> None:
        self.bits += format(v & ((1 << n) - 1), f"0{n}b") if n else ""

    def ue(self, v: int) -> None:
        self.bits += _ue(v)

    def take(self) -> bytes:
        return _bytes(self.bits + "0" * (-len(self.bits) % 8))


def crafted_ext(rng: random.Random, n: int) -> bytes:
    """An extension with plausible structure but wrong counts: flag bitmaps one short or long,
    runs summing past the CTU count or huge, mode 3, the chroma flag without a chroma model."""
    w = BitWriter()
    w.u(0xC7, 8)
    w.u(rng.choice([1, 1, 1, 1, 0, 2, 15]), 4)
    mode = rng.choice([0, 1, 2, 2, 2, 2, 3])
    w.u(mode, 2)
    w.u(rng.random() < 0.3, 1)
    if mode == 2:
        for _ in range(rng.choice([1, 2])):
            rle = rng.random() < 0.5
            w.u(rle, 1)
            if not rle:
                count = rng.choice([n - 1, n, n + 1, n + 8, 0, rng.randrange(64)])
                for _ in range(max(count, 0)):
                    w.u(rng.randrange(2), 1)
            else:
                w.u(rng.randrange(2), 1)
                left = n + rng.choice([-1, 0, 1, 5])
                while left > 0 and len(w.bits) < 2000:
                    run = rng.choice([1, 2, left, left + 1, 1 << rng.randrange(1, 31)])
                    w.ue(run - 1)
                    left -= run
    data = w.take()
    if rng.random() < 0.1:
        data += bytes(rng.randrange(256) for _ in range(rng.choice([1, 250, 300])))
    return data


def mutate_ext(rng: random.Random, ext: SliceExt) -> bytes:
    """One slice NAL unit with its extension mutated."""
    e = bytearray(ext.ext)
    kind = rng.choice(["flip", "flip", "truncate", "insert", "length", "crafted", "crafted"])
    if kind == "flip":
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(e) * 8)
            e[i // 8] ^= 0x80 >> (i % 8)
        return ext.build(bytes(e))
    if kind == "truncate":
        return ext.build(bytes(e[: rng.randrange(len(e))]))
    if kind == "insert":
        i = rng.randrange(len(e) + 1)
        e[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        return ext.build(bytes(e))
    if kind == "length":  # the announced length disagrees with the bytes that follow
        return ext.build(bytes(e), max(0, len(e) + rng.choice([-2, -1, 1, 2, 100, 300, 5000])))
    return ext.build(crafted_ext(rng, ext.ctus))


def mutate_sei(rng: random.Random, payload: bytes) -> bytes | None:
    """A mutated model-set SEI NAL unit (with start code); None drops the SEI."""
    p = bytearray(payload)
    kind = rng.choice(
        ["flip", "flip", "truncate", "insert", "length", "mode", "identity", "version", "raw"]
    )
    if kind == "flip":
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(p) * 8)
            p[i // 8] ^= 0x80 >> (i % 8)
    elif kind == "truncate":
        del p[rng.randrange(len(p)) :]
    elif kind == "insert":
        i = rng.randrange(len(p) + 1)
        p[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    elif kind == "length":
        p[17] = rng.randrange(256)
    elif kind == "mode":
        mode = rng.choice(
            [b"\xff\xfe", b"\x1b[2J\x1b]0;x\x07", b"cpu\x00", "caf\u00e9".encode(), b"", b"x" * 255]
        )
        p[17:] = bytes([len(mode)]) + mode
    elif kind == "identity":
        p[1:17] = bytes(rng.randrange(256) for _ in range(16))
    elif kind == "version":
        p[0] = rng.choice([0, 2, 255])
    else:  # bytes of the NAL unit itself: payload type and size, UUID, trailing bits
        if rng.random() < 0.1:
            return None
        nal = bytearray(cnn_sei_nal(bytes(p)))
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(6, len(nal))
            nal[i] ^= 1 << rng.randrange(8)
        return bytes(nal)
    return cnn_sei_nal(bytes(p))


def variants(rng: random.Random, seed: bytes, count: int, target: str) -> list[bytes]:
    """``count`` mutations of ``seed``'s extensions (``target`` "ext") or SEIs ("sei")."""
    nals = cnnfilter._hevc.nal_units(seed)
    sei_nal, payload = sei_payload(seed)
    out = []
    for _ in range(count):
        parts = []
        exts = [i for i, (t, _) in enumerate(nals) if t < 32]
        hit = set(rng.sample(exts, rng.randint(1, len(exts))))
        for i, (_, nal) in enumerate(nals):
            whole = b"\x00\x00\x00\x01" + nal
            if target == "ext" and i in hit:
                parts.append(mutate_ext(rng, find_ext(nal, ctus_of(seed))))
            elif target == "sei" and whole == sei_nal:
                parts.append(mutate_sei(rng, payload) or b"")
            else:
                parts.append(whole)
        out.append(b"".join(parts))
    return out


_CTUS: dict[bytes, int] = {}


def ctus_of(stream: bytes) -> int:
    if stream not in _CTUS:
        _CTUS[stream] = cnnfilter.decode(stream, ignore_cnn=True).frames[0].ctus
    return _CTUS[stream]
