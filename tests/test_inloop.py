"""The in-loop CNN: the decoder reproduces the encoder, an unused CNN costs nothing, other decoders
still parse the streams, and failures are clear."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from cnn_stream_support import assert_anchor_apart_from_cnn
from cnnfilter._hevc import nal_units
from conftest import ROOT, ffmpeg_decode, md5
from test_encoder import crop_clip

import cnnfilter

CFG = ROOT / "cfg" / "encoder_intra_main.cfg"
MODELS = ROOT / "models"


@pytest.fixture(scope="module")
def clip(shared_data, tmp_path_factory):
    src = shared_data / "video" / "bigbuckbunny-crop_416x240_25.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    d = tmp_path_factory.mktemp("inloop")
    return crop_clip(src, 416, 240, d / "c.yuv", 192, 128, 2, 96, 64), 192, 128


def encode(clip, out, qp, **kw):
    path, w, h = clip
    return cnnfilter.encode(
        path, out / "s.hevc", out / "r.yuv", cfg=CFG, width=w, height=h, qp=qp, **kw
    )


def pictures_bytes(res) -> bytes:
    return b"".join(
        np.ascontiguousarray(p).tobytes() for pic in res.pictures for p in (pic.y, pic.u, pic.v)
    )


@pytest.mark.parametrize("qp", [22, 27, 32, 37])
def test_decoder_reproduces_encoder(clip, tmp_path, qp):
    res = encode(clip, tmp_path, qp, cnn="default", cnn_mode="ctu")
    assert all(f.cnn_mode in ("off", "all", "ctu") for f in res.frames)
    dec = cnnfilter.decode(res.bitstream, models=MODELS)
    assert dec.hash_ok, [f.hash for f in dec.frames]
    assert md5(pictures_bytes(dec)) == md5(res.recon.read_bytes())
    assert [f.cnn_ctus for f in dec.frames] == [f.cnn_ctus for f in res.frames]
    if qp == 37:  # the shipped set beats deblocking + SAO there, so the switch must use it
        assert sum(f.cnn_ctus for f in res.frames) > 0


@pytest.mark.parametrize("mode", ["all", "picture"])
def test_other_modes_reproduce(clip, tmp_path, mode):
    res = encode(clip, tmp_path, 37, cnn="default", cnn_mode=mode)
    if mode == "all":
        assert all(f.cnn_ctus == f.ctus for f in res.frames)
    dec = cnnfilter.decode(res.bitstream, models=MODELS)
    assert dec.hash_ok and md5(pictures_bytes(dec)) == md5(res.recon.read_bytes())


def test_unused_cnn_costs_nothing(clip, tmp_path):
    """CNN enabled but every flag forced off: the anchor's pictures and slice data."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    anchor = encode(clip, tmp_path / "a", 32)
    off = encode(clip, tmp_path / "b", 32, cnn="default", overrides={"CnnForceOff": 1})
    assert anchor.recon.read_bytes() == off.recon.read_bytes()
    assert_anchor_apart_from_cnn(anchor.bitstream, off.bitstream, header_bytes=16)
    # The only extra bits: the model set SEI once (~90 bytes), a 1-bit PPS flag and 2-3 bytes of
    # extension per slice.
    assert sum(f.bits for f in off.frames) - sum(f.bits for f in anchor.frames) < 1000


def test_ffmpeg_parses_and_matches_ignore_cnn(clip, tmp_path, ffmpeg):
    res = encode(clip, tmp_path, 37, cnn="default", cnn_mode="all")
    ours = cnnfilter.decode(res.bitstream, ignore_cnn=True)
    assert all(f.cnn_ignored and f.hash == "MISMATCH" for f in ours.frames)
    r = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(res.bitstream), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and r.stderr == ""
    assert md5(ffmpeg_decode(ffmpeg, res.bitstream)) == md5(pictures_bytes(ours))


def test_dec265_parses(clip, tmp_path, dec265):
    res = encode(clip, tmp_path, 37, cnn="default", cnn_mode="all")
    r = subprocess.run([dec265, "-q", str(res.bitstream)], capture_output=True, text=True)
    assert r.returncode == 0 and "error" not in (r.stdout + r.stderr).lower()


def test_missing_model_set(clip, tmp_path):
    res = encode(clip, tmp_path, 37, cnn="default", cnn_mode="all")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no model set in .* has that identity"):
        cnnfilter.decode(res.bitstream, models=empty)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "cnnfilter",
            "decode",
            "-b",
            str(res.bitstream),
            "--models",
            str(empty),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "has that identity" in r.stderr


def test_tampered_onnx(clip, tmp_path):
    res = encode(clip, tmp_path, 37, cnn="default", cnn_mode="all")
    models = tmp_path / "models"
    shutil.copytree(MODELS, models)
    shipped = json.loads((MODELS / "index.json").read_text())["default"]
    onnx = sorted((models / shipped).glob("*.onnx"))[-1]  # one model of the set the stream names
    data = bytearray(onnx.read_bytes())
    data[len(data) // 2] ^= 0x55
    onnx.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="fails its sha256 check"):
        cnnfilter.decode(res.bitstream, models=models)


def _unescape(b: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for x in b:
        if zeros >= 2 and x == 3:
            zeros = 0
            continue
        out.append(x)
        zeros = zeros + 1 if x == 0 else 0
    return bytes(out)


def _escape(b: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for x in b:
        if zeros >= 2 and x <= 3:
            out.append(3)
            zeros = 0
        out.append(x)
        zeros = zeros + 1 if x == 0 else 0
    return bytes(out)


def test_corrupt_extension(clip, tmp_path):
    res = encode(clip, tmp_path, 37, cnn="default", cnn_mode="all")
    stream = res.bitstream.read_bytes()
    t, nal = next((t, n) for t, n in nal_units(stream) if t < 32)
    rbsp = _unescape(nal[2:])
    bits = "".join(f"{x:08b}" for x in rbsp)
    # The extension (tag 0xC7, version 1, mode 1 = all) sits in the header at any bit position.
    pos = bits.find("11000111" + "0001" + "01", 0, 256)
    assert pos > 0, "extension not found"
    bits = bits[: pos + 12] + "11" + bits[pos + 14 :]  # mode 3 is reserved
    bad_rbsp = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    bad = tmp_path / "bad.hevc"
    bad.write_bytes(stream.replace(nal, nal[:2] + _escape(bad_rbsp), 1))
    with pytest.raises(cnnfilter.BitstreamError, match="corrupt CNN slice header extension"):
        cnnfilter.decode(bad, models=MODELS)


def test_post_processing(clip, tmp_path):
    res = encode(clip, tmp_path, 37)
    plain = cnnfilter.decode(res.bitstream)
    shipped = json.loads((MODELS / "index.json").read_text())["default"]
    post = cnnfilter.decode(res.bitstream, post=MODELS / shipped)
    assert post.hash_ok and all(f.post_seconds > 0 for f in post.frames)
    assert pictures_bytes(post) != pictures_bytes(plain)
    assert np.array_equal(post.pictures[0].u, plain.pictures[0].u)  # luma-only model


def test_cli_cnn_lines(clip, tmp_path):
    path, w, h = clip
    bs = tmp_path / "s.hevc"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "cnnfilter",
            "encode",
            "-c",
            str(CFG),
            "-i",
            str(path),
            "-wdt",
            str(w),
            "-hgt",
            str(h),
            "-q",
            "37",
            "-b",
            str(bs),
            "--cnn",
            "default",
            "--cnn-mode",
            "all",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "[CNN all: 100.0% of CTUs" in r.stdout and "s CNN /" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "cnnfilter", "decode", "-b", str(bs), "--ignore-cnn"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 1 and "in-loop CNN ignored" in r.stdout
