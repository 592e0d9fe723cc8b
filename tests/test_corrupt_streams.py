"""Corrupted streams decode or fail cleanly: never crash, hang or read out of bounds.

The sanitizer build of the stand-alone decoder (tools/hevc_decode.cpp, built here with
-DCNNFILTER_SANITIZE=ON) runs every variant; AddressSanitizer and UBSan abort on any memory
error or undefined behaviour, which this test reports with the variant saved for replay.
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, SANITIZE, cmake_build, ffmpeg_decode, md5, sanitizer_report, x265_encode

import cnnfilter
import cnnfilter.yuv

FULL_VARIANTS = 2000


@pytest.fixture(scope="session")
def asan_decoder(tmp_path_factory) -> Path:
    build = cmake_build("asan", SANITIZE, "hevc-decode")
    exe = build / "tools" / "hevc-decode"
    assert exe.exists()
    return exe


@pytest.fixture(scope="session")
def seed_streams(shared_data, x265, tmp_path_factory) -> list[bytes]:
    d = tmp_path_factory.mktemp("seeds")
    yuv = shared_data / "video" / "bigbuckbunny-crop_416x240_25.yuv"
    small = shared_data / "video" / "CiscoVT2people_320x192_12.yuv"
    if not yuv.exists() or not small.exists():
        pytest.skip("seed clips are missing from ../shared/data/video")
    configs = [
        (yuv, 416, 240, ["--qp", "30"]),
        (yuv, 416, 240, ["--ctu", "16", "--qp", "22", "--tskip"]),
        (yuv, 416, 240, ["--wpp", "--slices", "2", "--qp", "35"]),
        (small, 320, 192, ["--cu-lossless", "--qp", "27", "--scaling-list", "default"]),
        (small, 320, 192, ["--no-sao", "--aq-mode", "2", "--qp", "40", "--ctu", "32"]),
    ]
    out = []
    for i, (src, w, h, opts) in enumerate(configs):
        s = x265_encode(x265, src, w, h, d / f"s{i}.hevc", ["--keyint", "1", *opts], frames=2)
        out.append(s.read_bytes())
    conf = shared_data / "conformance" / "cros-64x64-I.bit"
    if conf.exists():
        out.append(conf.read_bytes())
    # Our own encoder's streams: plain, wavefronts, and with the in-loop CNN's slice header
    # extension and model-set SEI (the sanitizer decoder has no model set: such pictures must
    # fail cleanly, after their extension was parsed).
    cfg = ROOT / "cfg" / "encoder_intra_main.cfg"
    clip = d / "small.yuv"
    with cnnfilter.yuv.YuvWriter(clip) as wr:
        for y, u, v in cnnfilter.yuv.read_frames(small, 320, 192, count=2):
            wr.write((y[32:128, 64:192], u[16:64, 32:96], v[16:64, 32:96]))
    for i, (over, cnn) in enumerate([({}, None), ({"WaveFrontSynchro": 1}, None), ({}, "default")]):
        res = cnnfilter.encode(
            clip,
            d / f"ours{i}.hevc",
            cfg=cfg,
            width=128,
            height=96,
            qp=32,
            overrides=over,
            cnn=cnn,
            cnn_mode="ctu",
        )
        out.append(res.bitstream.read_bytes())
    return out


def mutate(rng: random.Random, src: bytes) -> bytes:
    d = bytearray(src)
    kind = rng.choice(["truncate", "flip", "insert", "scramble"])
    if kind == "truncate":
        return bytes(d[: rng.randrange(len(d))])
    if kind == "flip":
        for _ in range(rng.randint(1, 4)):
            p = rng.randrange(len(d))
            d[p] ^= 1 << rng.randrange(8)
    elif kind == "insert":
        p = rng.randrange(len(d))
        d[p:p] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    else:
        for _ in range(rng.randint(4, 40)):
            d[rng.randrange(len(d))] = rng.randrange(256)
    return bytes(d)


def run_variants(
    exe: Path, seeds: list[bytes], count: int, seed: int, workdir: Path, mutator=mutate
) -> None:
    rng = random.Random(seed)
    failures = []
    for i in range(count):
        data = mutator(rng, rng.choice(seeds))
        path = workdir / "variant.hevc"
        path.write_bytes(data)
        try:
            r = subprocess.run(
                [str(exe), "-q", "-b", str(path)],
                capture_output=True,
                timeout=60,
                env={**os.environ, "ASAN_OPTIONS": "detect_leaks=1"},
            )
        except subprocess.TimeoutExpired:
            keep = workdir / f"hang_{i}.hevc"
            keep.write_bytes(data)
            failures.append(f"variant {i} hung (saved to {keep})")
            continue
        err = r.stderr.decode(errors="replace")
        if r.returncode not in (0, 1, 2) or sanitizer_report(err):
            keep = workdir / f"crash_{i}.hevc"
            keep.write_bytes(data)
            failures.append(f"variant {i}: exit {r.returncode}, saved to {keep}: {err[:400]}")
        if r.returncode == 2:
            assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not failures, "\n".join(failures[:5])


@pytest.mark.fuzz_full
def test_2000_corrupted_variants_under_sanitizers(asan_decoder, seed_streams, tmp_path):
    run_variants(asan_decoder, seed_streams, FULL_VARIANTS, seed=20261122, workdir=tmp_path)


# Valid streams with parameters the seeds above lack: negative and extreme offsets, QP 0 and 51,
# lossless, QP deltas, scaling lists. Shifts of negative values and the like are undefined
# behaviour that only the sanitizer build reports (negative deblocking offsets once were).
RARE = [
    ("deblock-neg-tc", ["--deblock", "-6:6", "--qp", "30"]),
    ("deblock-neg-beta", ["--deblock", "6:-6", "--qp", "30"]),
    ("chroma-offsets", ["--cbqpoffs", "-12", "--crqpoffs", "12", "--qp", "30"]),
    ("qp0-neg-chroma", ["--qp", "0", "--cbqpoffs", "-12", "--crqpoffs", "-12"]),
    ("qp51", ["--qp", "51", "--cbqpoffs", "12", "--crqpoffs", "12"]),
    ("lossless", ["--lossless"]),
    ("dqp", ["--aq-mode", "3", "--qg-size", "16", "--opt-cu-delta-qp", "--qp", "10"]),
    ("scaling-tskip", ["--scaling-list", "default", "--tskip", "--qp", "30"]),
]


@pytest.mark.parametrize("name,opts", RARE, ids=[r[0] for r in RARE])
def test_rare_parameters_under_sanitizers(
    name, opts, asan_decoder, shared_data, x265, ffmpeg, tmp_path
):
    src = shared_data / "video" / "CiscoVT2people_320x192_12.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    stream = x265_encode(x265, src, 320, 192, tmp_path / f"{name}.hevc", ["--keyint", "1", *opts])
    out = tmp_path / "out.yuv"
    r = subprocess.run(
        [str(asan_decoder), "-q", "-b", str(stream), "-o", str(out)], capture_output=True
    )
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0 and not sanitizer_report(err), err[:800]
    assert md5(out.read_bytes()) == md5(ffmpeg_decode(ffmpeg, stream))


def test_corrupted_variants_in_process(seed_streams):
    """The Python API raises BitstreamError (or decodes) for corrupted input."""
    rng = random.Random(7)
    outcomes = {"decoded": 0, "error": 0}
    for _ in range(150):
        data = mutate(rng, rng.choice(seed_streams))
        try:
            cnnfilter.decode(data)
            outcomes["decoded"] += 1
        except cnnfilter.BitstreamError as e:
            assert str(e), "errors must carry a message"
            outcomes["error"] += 1
    assert outcomes["error"] > 0 and outcomes["decoded"] > 0


@pytest.mark.parametrize("size", [0, 1, 7, 100, 5000])
def test_random_bytes(size):
    rng = random.Random(size)
    data = bytes(rng.randrange(256) for _ in range(size))
    try:
        res = cnnfilter.decode(data)
        assert res.frames == []
    except cnnfilter.BitstreamError:
        pass


class _Bits:
    def __init__(self):
        self.bits = []

    def u(self, v, n):
        self.bits += [(v >> (n - 1 - i)) & 1 for i in range(n)]

    def ue(self, v):
        x = v + 1
        n = x.bit_length()
        self.u(0, n - 1)
        self.u(x, n)

    def nal(self, nal_type):
        self.u(1, 1)
        while len(self.bits) % 8:
            self.u(0, 1)
        body = bytes(
            int("".join(map(str, self.bits[i : i + 8])), 2) for i in range(0, len(self.bits), 8)
        )
        return b"\x00\x00\x00\x01" + bytes([nal_type << 1, 1]) + body


def _sps(width, height):
    b = _Bits()
    b.u(0, 4), b.u(0, 3), b.u(1, 1)
    b.u(1, 8), b.u(0x60000000, 32), b.u(0b1001, 4), b.u(0, 44), b.u(93, 8)
    b.ue(0), b.ue(1), b.ue(width), b.ue(height), b.u(0, 1), b.ue(0), b.ue(0), b.ue(4)
    b.u(1, 1), b.ue(0), b.ue(0), b.ue(0)
    b.ue(0), b.ue(3), b.ue(0), b.ue(3)
    for _ in range(40):
        b.u(0, 1)
    return b.nal(33)


def test_hostile_picture_size():
    """An SPS announcing a picture beyond level 6.2 is refused before anything is allocated."""
    with pytest.raises(cnnfilter.BitstreamError, match="exceeds the decoder limit"):
        cnnfilter.decode(_sps(16384, 16384))
    with pytest.raises(cnnfilter.BitstreamError, match="out of range"):
        cnnfilter.decode(_sps(40000, 64))
