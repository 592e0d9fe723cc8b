"""The in-loop CNN in P and B pictures: what it writes is what later pictures predict from, so
the decoder must reproduce the encoder over whole LDP and RA GOPs (no drift), other decoders must
still parse the streams, and decoding that starts at a CRA must give the same pictures."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from cnn_stream_support import assert_anchor_apart_from_cnn
from conftest import ROOT, md5, nal_starts
from test_encoder import crop_clip

import cnnfilter
from cnnfilter.modelset import make_model_set

LDP = ROOT / "cfg" / "encoder_lowdelay_P_main.cfg"
RA = ROOT / "cfg" / "encoder_randomaccess_main.cfg"
W, H = 192, 128


@pytest.fixture(scope="module")
def clip(shared_data, tmp_path_factory):
    src = shared_data / "video" / "bigbuckbunny-crop_416x240_25.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    d = tmp_path_factory.mktemp("inloop-inter")
    return crop_clip(src, 416, 240, d / "c.yuv", W, H, 16, 96, 64)


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """A folder with one model set: the shipped All-Intra network applied to I, P and B."""
    d = tmp_path_factory.mktemp("sets")
    make_model_set(
        d / "ipb", "ipb", [ROOT / "models" / "ours-ai" / "ours.onnx"], slice_types=["I", "P", "B"]
    )
    return d


def _encode(clip, out, cfg, qp, frames, sets, **kw):
    return cnnfilter.encode(
        clip, out / "s.hevc", out / "r.yuv", cfg=cfg, width=W, height=H, qp=qp, frames=frames,
        cnn=sets / "ipb", **kw,
    )  # fmt: skip


def _bytes(pictures) -> bytes:
    return b"".join(
        np.ascontiguousarray(p).tobytes() for pic in pictures for p in (pic.y, pic.u, pic.v)
    )


def _check_no_drift(res, sets):
    dec = cnnfilter.decode(res.bitstream, models=sets)
    assert dec.hash_ok and all(f.hash == "OK" for f in dec.frames), [f.hash for f in dec.frames]
    assert md5(_bytes(dec.pictures)) == md5(res.recon.read_bytes())
    assert [(f.poc, f.cnn_ctus) for f in dec.frames] == [(f.poc, f.cnn_ctus) for f in res.frames]
    return dec


@pytest.mark.parametrize("cfg", [LDP, RA], ids=["LDP", "RA"])
def test_cnn_in_every_picture_does_not_drift(cfg, clip, sets, ffmpeg, tmp_path):
    # Every CTU of every picture takes the CNN, so every reference is a CNN output.
    res = _encode(clip, tmp_path, cfg, 32, 9, sets, cnn_mode="all")
    assert {f.slice_type for f in res.frames} >= {"I", "P" if cfg == LDP else "B"}
    assert all(f.cnn_ctus == f.ctus > 0 for f in res.frames)
    _check_no_drift(res, sets)
    r = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(res.bitstream), "-f", "rawvideo", "-"],
        capture_output=True,
    )
    assert r.returncode == 0 and r.stderr == b"" and len(r.stdout) == 9 * W * H * 3 // 2


@pytest.mark.parametrize("cfg", [LDP, RA], ids=["LDP", "RA"])
def test_ctu_switch_in_inter_pictures(cfg, clip, sets, tmp_path):
    res = _encode(clip, tmp_path, cfg, 37, 9, sets, cnn_mode="ctu")
    _check_no_drift(res, sets)
    inter = [f for f in res.frames if f.slice_type != "I"]
    assert sum(f.cnn_ctus for f in inter) > 0, "the switch must choose the CNN in some P/B CTU"


def test_decoding_from_a_cra_gives_the_same_pictures(clip, sets, tmp_path):
    res = _encode(clip, tmp_path, RA, 32, 16, sets, cnn_mode="all", overrides={"IntraPeriod": 8})
    data = res.bitstream.read_bytes()
    full = {p.poc: p for p in _check_no_drift(res, sets).pictures}
    # Cut at the CRA after the IDR: parameter sets and the model-set SEI must be repeated there.
    nals = [(t, pos) for pos, t in nal_starts(data)]
    cras = [k for k, (t, _) in enumerate(nals) if t == 21]
    assert len(cras) == 1  # the first IRAP is the IDR
    k = cras[0]
    while nals[k - 1][0] in (32, 33, 34, 35, 39):  # the access unit's VPS/SPS/PPS/AUD/prefix SEI
        k -= 1
    assert nals[k][0] == 32 and 39 in [t for t, _ in nals[k : cras[0]]]
    start = nals[k][1]
    cut = tmp_path / "cut.hevc"
    cut.write_bytes(data[start:])
    dec = cnnfilter.decode(cut, models=sets)
    assert dec.hash_ok and all(f.hash == "OK" for f in dec.frames)
    assert [p.poc for p in dec.pictures] == list(range(8, 16))  # the RASL pictures 1..7 skipped
    assert md5(_bytes(dec.pictures)) == md5(_bytes(full[p] for p in range(8, 16)))


@pytest.mark.parametrize("cfg", [LDP, RA], ids=["LDP", "RA"])
def test_every_flag_off_gives_the_anchor(cfg, clip, sets, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    anchor = cnnfilter.encode(
        clip, tmp_path / "a" / "s.hevc", tmp_path / "a" / "r.yuv", cfg=cfg, width=W, height=H,
        qp=32, frames=9,
    )  # fmt: skip
    off = _encode(clip, tmp_path / "b", cfg, 32, 9, sets, overrides={"CnnForceOff": 1})
    assert anchor.recon.read_bytes() == off.recon.read_bytes()
    assert_anchor_apart_from_cnn(anchor.bitstream, off.bitstream, header_bytes=24)
