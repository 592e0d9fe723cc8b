"""Corrupted streams with P and B pictures: 2,000 variants (truncations, bit flips, insertions,
and flips aimed at slice headers, reference picture sets and parameter sets) decode or fail
cleanly under the AddressSanitizer + UBSan build: exit code 0, 1 or 2, no signal, no hang."""

from __future__ import annotations

import random

import numpy as np
import pytest
from conftest import x265_encode
from test_corrupt_streams import asan_decoder, mutate, run_variants  # noqa: F401

VARIANTS = 2000


def _crop(src, w, h, cw, ch, frames, out):
    fs = w * h * 3 // 2
    a = np.fromfile(src, np.uint8)[: frames * fs].reshape(frames, fs)
    y = a[:, : w * h].reshape(frames, h, w)[:, :ch, :cw]
    u = a[:, w * h : w * h + w * h // 4].reshape(frames, h // 2, w // 2)[:, : ch // 2, : cw // 2]
    v = a[:, w * h + w * h // 4 :].reshape(frames, h // 2, w // 2)[:, : ch // 2, : cw // 2]
    parts = [np.concatenate([y[i].ravel(), u[i].ravel(), v[i].ravel()]) for i in range(frames)]
    np.concatenate(parts).tofile(out)
    return out


@pytest.fixture(scope="module")
def inter_seeds(shared_data, x265, tmp_path_factory) -> list[bytes]:
    d = tmp_path_factory.mktemp("inter-seeds")
    src = shared_data / "video" / "bigbuckbunny-crop_416x240_25.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    clip = _crop(src, 416, 240, 128, 96, 8, d / "small.yuv")
    configs = [
        ["--bframes", "0", "--ref", "3", "--weightp", "--qp", "30"],
        ["--bframes", "3", "--b-pyramid", "--keyint", "4", "--open-gop", "--weightb", "--qp", "32"],
        ["--bframes", "2", "--amp", "--rect", "--max-merge", "2", "--ctu", "16", "--qp", "27"],
        ["--bframes", "3", "--slices", "2", "--wpp", "--tu-inter-depth", "3", "--qp", "35"],
    ]
    seeds = []
    for i, opts in enumerate(configs):
        seeds.append(
            x265_encode(x265, clip, 128, 96, d / f"s{i}.hevc", opts, frames=8).read_bytes()
        )
    # the header features no encoder here writes (tests/test_header_edits.py)
    from cnnfilter import _hevc

    seeds.append(_hevc.edit_headers(seeds[0], "long-term"))
    seeds.append(_hevc.edit_headers(seeds[1], "list-modification"))
    seeds.append(_hevc.edit_headers(seeds[1], "pic-output"))
    hm = shared_data / "conformance" / "hm16.9" / "hm-cisco-ldp-qp37.bit"
    if hm.exists():
        seeds.append(hm.read_bytes())
    return seeds


def _slice_header_offsets(data: bytes) -> list[tuple[int, int]]:
    """(start, nal type) of every NAL unit's payload (after the two-byte header)."""
    out = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        start = i + 3
        if start + 2 < len(data):
            out.append((start + 2, (data[start] >> 1) & 0x3F))
        i = data.find(b"\x00\x00\x01", start)
    return out


def aimed(rng: random.Random, src: bytes) -> bytes:
    """Bit flips in the first bytes of slice headers (RPS, reference counts, weights) and of
    the SPS/PPS (short-term RPS sets, list defaults)."""
    d = bytearray(src)
    nals = _slice_header_offsets(src)
    slices = [o for o, t in nals if t <= 21]
    params = [o for o, t in nals if t in (33, 34)]
    pool = slices if rng.random() < 0.8 or not params else params
    for _ in range(rng.randint(1, 3)):
        p = rng.choice(pool) + rng.randrange(12)
        if p < len(d):
            d[p] ^= 1 << rng.randrange(8)
    return bytes(d)


def aimed_or_random(rng: random.Random, src: bytes) -> bytes:
    return aimed(rng, src) if rng.random() < 0.5 else mutate(rng, src)


def test_2000_corrupted_inter_variants_under_sanitizers(asan_decoder, inter_seeds, tmp_path):  # noqa: F811
    run_variants(
        asan_decoder,
        inter_seeds,
        VARIANTS,
        seed=20261205,
        workdir=tmp_path,
        mutator=aimed_or_random,
    )
