"""The decoded-picture hashes (hevc/picture_hash.cpp) against the definitions of H.265 D.3.19,
written here in plain Python, on random pictures of sizes whose plane rows are not whole MD5
blocks. tools/hevc-hash-bench prints our values, and fails if planes with a wider stride hash
differently (the decoder's planes are unpadded, so no stream reaches that path)."""

from __future__ import annotations

import hashlib
import random
import subprocess
from pathlib import Path

import pytest
from conftest import cmake_build
from test_dsp import PORTABLE


@pytest.fixture(scope="module")
def tool() -> Path:
    return cmake_build("generic", PORTABLE, "hevc-hash-bench") / "tools" / "hevc-hash-bench"


def planes_of(w: int, h: int, rng: random.Random) -> list[tuple[bytes, int, int]]:
    sizes = [(w, h), (w // 2, h // 2), (w // 2, h // 2)]
    return [(rng.randbytes(pw * ph), pw, ph) for pw, ph in sizes]


def crc(data: bytes) -> str:
    value = 0xFFFF
    for bit_idx in range((len(data) + 2) * 8):
        byte = data[bit_idx >> 3] if bit_idx >> 3 < len(data) else 0
        msb = (value >> 15) & 1
        bit = (byte >> (7 - (bit_idx & 7))) & 1
        value = (((value << 1) + bit) & 0xFFFF) ^ (msb * 0x1021)
    return f"{value:04x}"


def checksum(data: bytes, w: int, h: int) -> str:
    total = 0
    for y in range(h):
        for x in range(w):
            mask = (x & 0xFF) ^ (y & 0xFF) ^ (x >> 8) ^ (y >> 8)
            total = (total + (data[y * w + x] ^ mask)) & 0xFFFFFFFF
    return f"{total:08x}"


@pytest.mark.parametrize("w,h", [(416, 240), (18, 6), (64, 4), (2, 2), (600, 2)])
def test_md5_crc_and_checksum_follow_the_standard(tool, w, h, tmp_path):
    rng = random.Random(w * 1000 + h)
    planes = planes_of(w, h, rng)
    pic = tmp_path / "p.yuv"
    pic.write_bytes(b"".join(p for p, _, _ in planes))
    r = subprocess.run(
        [str(tool), "-i", str(pic), "-w", str(w), "-h", str(h), "-n", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    ours = {line.split()[0]: line.split()[1] for line in r.stdout.splitlines()}
    assert ours["md5"] == ",".join(hashlib.md5(p).hexdigest() for p, _, _ in planes)
    if w * h <= 4096:  # the bitwise CRC in Python is slow
        assert ours["crc"] == ",".join(crc(p) for p, _, _ in planes)
    assert ours["checksum"] == ",".join(checksum(p, pw, ph) for p, pw, ph in planes)
