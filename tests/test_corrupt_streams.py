"""Corrupted streams decode or fail cleanly: never crash, hang or read out of bounds.

The sanitizer build of the stand-alone decoder (tools/hevc_decode.cpp, built here with
-DCNNFILTER_SANITIZE=ON) runs every variant; AddressSanitizer and UBSan abort on any memory
error or undefined behaviour, which this test reports with the variant saved for replay.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cnn_mutations import ctus_of, find_ext, variants
from cnn_stream_support import cnn_stream, planes_bytes
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


# hevc-decode's own contract (tools/hevc_decode.cpp): exit codes as `cnnfilter decode`, output
# only under its final name and only when complete, a user's file never touched.


@pytest.fixture(scope="module")
def plain_stream(tmp_path_factory) -> bytes:
    return cnn_stream(tmp_path_factory.mktemp("tool"), "plain", None).read_bytes()


def run_tool(exe: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe), "-q", *args], capture_output=True, text=True, timeout=120)


def test_tool_writes_complete_output_only(asan_decoder, plain_stream, tmp_path):
    src, out = tmp_path / "s.hevc", tmp_path / "o.yuv"
    src.write_bytes(plain_stream)
    (tmp_path / "o.yuv.part").write_bytes(b"the user's")
    r = run_tool(asan_decoder, "-b", str(src), "-o", str(out))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert out.read_bytes() == planes_bytes(cnnfilter.decode(plain_stream))
    assert (tmp_path / "o.yuv.part").read_bytes() == b"the user's"
    # A corrupt stream: exit 2, one error line naming the file; the previous output stays.
    bad = tmp_path / "bad.hevc"
    bad.write_bytes(plain_stream[: len(plain_stream) - 60])
    r = run_tool(asan_decoder, "-b", str(bad), "-o", str(out))
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert out.read_bytes() == planes_bytes(cnnfilter.decode(plain_stream))
    assert r.stderr.startswith(f"error: {bad}: ")
    fresh = tmp_path / "fresh.yuv"
    assert run_tool(asan_decoder, "-b", str(bad), "-o", str(fresh)).returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.hevc",
        "o.yuv",
        "o.yuv.part",
        "s.hevc",
    ]


def test_tool_exit_codes(asan_decoder, plain_stream, tmp_path):
    empty = tmp_path / "empty.hevc"
    empty.write_bytes(b"")
    r = run_tool(asan_decoder, "-b", str(empty), "-o", str(tmp_path / "o.yuv"))
    assert r.returncode == 2 and "no HEVC NAL unit found" in r.stderr
    r = run_tool(asan_decoder, "-b", str(tmp_path), "-o", str(tmp_path / "o.yuv"))
    assert r.returncode == 2 and "is a folder" in r.stderr
    src = tmp_path / "s.hevc"
    src.write_bytes(plain_stream)
    r = run_tool(asan_decoder, "-b", str(src), "-o", str(tmp_path))
    assert r.returncode == 2 and r.stderr == f"error: {tmp_path}: is a folder\n"
    r = run_tool(asan_decoder, "-b", str(src), "-o", str(tmp_path / "nope" / "o.yuv"))
    assert r.returncode == 2 and "cannot create a file there" in r.stderr
    # One byte of the first MD5 SEI changed: every picture decodes, one mismatches: exit 1.
    nal = next(n for t, n in cnnfilter._hevc.nal_units(plain_stream) if t == 40)
    bad = bytearray(nal)
    bad[12] ^= 0x10
    mismatch = tmp_path / "m.hevc"
    mismatch.write_bytes(plain_stream.replace(nal, bytes(bad), 1))
    assert [f.hash for f in cnnfilter.decode(mismatch).frames] == ["MISMATCH", "OK", "OK"]
    assert run_tool(asan_decoder, "-b", str(mismatch)).returncode == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.hevc", "m.hevc", "s.hevc"]


# The CNN signalling, mutated where it lives: slice header extensions (bit flips, truncation,
# inserted bytes, a wrong announced length, flag bitmaps and runs that miss or overrun the CTU
# count, mode 3, another version, chroma flags without a chroma model) and the model-set SEI
# (bit flips, truncation, inserted bytes, wrong mode length, non-ASCII and escape codes, unknown
# identity, other versions, corrupt NAL bytes, no SEI). Each variant runs through the Python
# command (`cnnfilter decode`, model sets and all) in a child process, which must exit 0, 1 or 2
# with one error: line, never by a signal or a traceback, each variant in bounded time.

CNN_VARIANTS = {"ext": 110, "sei": 70}  # per seed: 3 seeds, 540 variants, about 10 s

DRIVER = """
import contextlib, io, json, sys, time
from cnnfilter.cli import main
for i, path in enumerate(sys.argv[1:]):
    print(json.dumps({"start": i}), flush=True)
    out, err = io.StringIO(), io.StringIO()
    t = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["decode", "-q", "-b", path])
    e = err.getvalue()
    print(json.dumps({"i": i, "code": code, "s": time.perf_counter() - t, "err": e}), flush=True)
"""


@pytest.fixture(scope="module")
def cnn_seeds(tmp_path_factory) -> list[bytes]:
    d = tmp_path_factory.mktemp("cnn-seeds")
    small = {"MaxCUWidth": 16, "MaxCUHeight": 16, "MaxPartitionDepth": 1}
    seeds = [
        cnn_stream(d, "all64", "default", frames=2),
        cnn_stream(
            d,
            "ctu16",
            "default",
            frames=2,
            qp=27,  # the default set switches per CTU here (at QP 32 it filters every CTU)
            mode="ctu",
            overrides=small | {"QuadtreeTULog2MaxSize": 4},
        ),
        cnn_stream(
            d,
            "wpp32",
            "qpvrcnn-ai",
            frames=2,
            seed=3,
            overrides={
                "MaxCUWidth": 32,
                "MaxCUHeight": 32,
                "MaxPartitionDepth": 2,
                "WaveFrontSynchro": 1,
            },
        ),
    ]
    out = [s.read_bytes() for s in seeds]
    for s in out:
        assert cnnfilter.decode(s).hash_ok
        for t, nal in cnnfilter._hevc.nal_units(s):
            if t < 32:  # the extension is found, and rebuilding it gives the same NAL unit
                assert find_ext(nal, ctus_of(s)).build() == b"\x00\x00\x00\x01" + nal
    # One seed switches the CNN per CTU (cnn_mode 2), so its flags are mutated too.
    exts = [find_ext(n, 16).ext for t, n in cnnfilter._hevc.nal_units(out[1]) if t < 32]
    assert any((e[1] >> 2) & 3 == 2 for e in exts), [e.hex() for e in exts]
    return out


def test_cnn_signalling_mutations_through_the_python_decoder(cnn_seeds, tmp_path):
    rng = random.Random(20261205)
    paths, kinds = [], []
    for k, seed in enumerate(cnn_seeds):
        for target, count in CNN_VARIANTS.items():
            for j, data in enumerate(variants(rng, seed, count, target)):
                path = tmp_path / f"{target}{k}_{j}.hevc"
                path.write_bytes(data)
                paths.append(str(path))
                kinds.append(target)
    assert len(paths) >= 500
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-c", DRIVER, *paths],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # outside the source tree, so the installed package (with its extension) runs
    )
    records = [json.loads(ln) for ln in r.stdout.splitlines()]
    done = [x for x in records if "code" in x]
    if r.returncode != 0:
        last = records[-1]["start"] if records else 0
        pytest.fail(f"the decoder died (exit {r.returncode}) on {paths[last]}: {r.stderr[-800:]}")
    assert len(done) == len(paths)
    failures = []
    outcomes: dict[tuple[str, int], int] = {}
    for x in done:
        path, err = paths[x["i"]], x["err"]
        errors = [ln for ln in err.splitlines() if "error:" in ln]
        outcomes[kinds[x["i"]], x["code"]] = outcomes.get((kinds[x["i"]], x["code"]), 0) + 1
        if x["code"] not in (0, 1, 2) or "Traceback" in err:
            failures.append(f"{path}: exit {x['code']}: {err[-600:]}")
        elif "\x1b" in err or "\x07" in err:
            failures.append(f"{path}: raw control characters printed: {err[-600:]!r}")
        elif x["code"] == 2 and len(errors) != 1:
            failures.append(f"{path}: exit 2 with {len(errors)} error lines: {err[-600:]}")
        elif x["s"] > 10:
            failures.append(f"{path}: {x['s']:.1f} s")
    assert not failures, "\n".join(failures[:5])
    # The mutations reach the decoder's checks and also leave decodable streams.
    for target in CNN_VARIANTS:
        assert outcomes.get((target, 2), 0) > 50 and outcomes.get((target, 0), 0) > 0, outcomes
    assert time.perf_counter() - t0 < 120
    print(f"{len(done)} variants in {time.perf_counter() - t0:.1f} s: {sorted(outcomes.items())}")


def test_tool_interrupted_leaves_nothing(asan_decoder, plain_stream, tmp_path):
    src, out = tmp_path / "long.hevc", tmp_path / "o.yuv"
    src.write_bytes(plain_stream * 3000)  # 9000 pictures: seconds of decoding
    proc = subprocess.Popen([str(asan_decoder), "-q", "-b", str(src), "-o", str(out)])
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".o.yuv.*.part")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob(".o.yuv.*.part")), "the decoder never created its temporary"
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == -signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.hevc"]


def test_cnn_signalling_mutations_under_sanitizers(asan_decoder, cnn_seeds, tmp_path):
    """The same kind of variants through the sanitizer build: it has no model set, so a picture
    that uses the CNN fails cleanly, but only after its extension and the SEI were parsed."""
    rng = random.Random(5)
    seeds = [s for s in cnn_seeds for _ in (0, 1)]
    data = [v for i, s in enumerate(seeds) for v in variants(rng, s, 35, ("ext", "sei")[i % 2])]
    run_variants_as_is(asan_decoder, data, tmp_path)


def run_variants_as_is(exe: Path, data: list[bytes], workdir: Path) -> None:
    failures = []
    for i, variant in enumerate(data):
        path = workdir / "variant.hevc"
        path.write_bytes(variant)
        r = subprocess.run(
            [str(exe), "-q", "-b", str(path)], capture_output=True, timeout=60, text=True
        )
        if r.returncode not in (0, 1, 2) or sanitizer_report(r.stderr):
            keep = workdir / f"crash_{i}.hevc"
            keep.write_bytes(variant)
            failures.append(f"variant {i}: exit {r.returncode}, saved to {keep}: {r.stderr[:400]}")
        elif r.returncode == 2 and not (
            r.stderr.startswith("error: ") and r.stderr.count("\n") == 1
        ):
            failures.append(f"variant {i}: {r.stderr[:400]}")
    assert not failures, "\n".join(failures[:5])
