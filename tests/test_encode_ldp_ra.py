"""LDP and RA encodes end to end: the schedule drives the encoder, ffmpeg and our decoder decode
the stream to exactly the reconstruction (written in output order), and the per-picture log
holds the lists the decoder finds."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, md5
from test_encoder import check_roundtrip, crop_clip

import cnnfilter
from cnnfilter.gop import CRA_NUT, IDR_W_RADL, RADL_R, RASL_R

LDP = str(ROOT / "cfg" / "encoder_lowdelay_P_main.cfg")
RA = str(ROOT / "cfg" / "encoder_randomaccess_main.cfg")


@pytest.fixture(scope="module")
def cisco(shared_data):
    src = shared_data / "video" / "CiscoVT2people_320x192_12.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    return src


@pytest.fixture(scope="module")
def tiny(shared_data, tmp_path_factory):
    """17 frames of 128x64 from bigbuckbunny-crop (moving content, quick to code)."""
    src = shared_data / "video" / "bigbuckbunny-crop_416x240_25.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    out = tmp_path_factory.mktemp("ldpra") / "tiny.yuv"
    return crop_clip(src, 416, 240, out, 128, 64, 16, 96, 64)


@pytest.mark.parametrize("cfg", [LDP, RA], ids=["LDP", "RA"])
def test_nine_cisco_frames_decode_to_the_reconstruction(cfg, cisco, ffmpeg, tmp_path):
    res = cnnfilter.encode(
        cisco, tmp_path / "s.bin", tmp_path / "r.yuv", cfg=cfg, width=320, height=192, frames=9
    )
    check_roundtrip(ffmpeg, res, 320, 192)
    dec = cnnfilter.decode(res.bitstream)
    assert [(f.poc, f.slice_type, f.qp, f.refs) for f in res.frames] == [
        (f.poc, f.slice_type, f.qp, f.refs) for f in dec.frames
    ]
    types = "".join(f.slice_type for f in res.frames)
    assert types == ("IPPPPPPPP" if cfg == LDP else "IBBBBBBBB")
    assert [f.poc for f in res.frames] == (
        list(range(9)) if cfg == LDP else [0, 8, 4, 2, 1, 3, 6, 5, 7]
    )


SPEED_KEYS = [
    {"ESD": 0},
    {"ESD": 1, "ECU": 1, "CFM": 1},
    {"FEN": 0, "FDM": 0},
    {"FastSearch": 0, "SearchRange": 8, "HadamardME": 0},
    {"AMP": 0, "TMVPMode": 0, "MaxNumMergeCand": 1},
    {"QuadtreeTUMaxDepthInter": 1},
    {"QuadtreeTUMaxDepthInter": 4, "QuadtreeTULog2MinSize": 2},
]


def _key_id(over: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in over.items())


@pytest.mark.parametrize("over", SPEED_KEYS, ids=_key_id)
@pytest.mark.parametrize("cfg", [LDP, RA], ids=["LDP", "RA"])
def test_speed_keys_decode_to_the_reconstruction(cfg, over, tiny, ffmpeg, tmp_path):
    """Each speed key on and off: still a stream that ffmpeg decodes to the reconstruction."""
    res = cnnfilter.encode(
        tiny, tmp_path / "s.bin", tmp_path / "r.yuv", cfg=cfg, width=128, height=64,
        frames=9, qp=27, overrides=over,
    )  # fmt: skip
    check_roundtrip(ffmpeg, res, 128, 64)
    assert any(f.slice_type in "PB" for f in res.frames)


@pytest.mark.parametrize(
    "cfg,over,irap,leading",
    [
        (RA, {"IntraPeriod": 8, "DecodingRefreshType": 1}, CRA_NUT, RASL_R),
        (RA, {"IntraPeriod": 8, "DecodingRefreshType": 2}, IDR_W_RADL, RADL_R),
        (RA, {"IntraPeriod": 8, "DecodingRefreshType": 0}, None, None),
        (LDP, {"IntraPeriod": 4, "DecodingRefreshType": 1}, CRA_NUT, None),
    ],
    ids=["RA-CRA", "RA-IDR", "RA-trailing-I", "LDP-CRA"],
)
def test_intra_periods_decode_to_the_reconstruction(
    cfg, over, irap, leading, tiny, ffmpeg, tmp_path
):
    res = cnnfilter.encode(
        tiny, tmp_path / "s.bin", tmp_path / "r.yuv", cfg=cfg, width=128, height=64,
        frames=16, qp=32, overrides=over,
    )  # fmt: skip
    check_roundtrip(ffmpeg, res, 128, 64)
    assert sum(f.slice_type == "I" for f in res.frames) == (2 if cfg == RA else 4)
    nal = _nal_types(res.bitstream.read_bytes())
    if irap is not None:
        assert nal.count(irap) == (3 if cfg == LDP else 1 + (irap == IDR_W_RADL))
    assert (leading in nal) if leading else not {RASL_R, RADL_R} & set(nal)


def _nal_types(data: bytes) -> list[int]:
    """The NAL unit types of the VCL NAL units of an Annex B stream, in order."""
    types, i = [], data.find(b"\0\0\1")
    while i >= 0:
        t = (data[i + 3] >> 1) & 63
        if t < 32:
            types.append(t)
        i = data.find(b"\0\0\1", i + 3)
    return types


def test_cli_prints_the_lists_and_the_slice_type_summary(tiny, tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "cnnfilter", "encode", "-c", RA, "-i", str(tiny),
         "-wdt", "128", "-hgt", "64", "-f", "9", "-q", "37", "-b", str(tmp_path / "s.bin"),
         "-o", str(tmp_path / "r.yuv")],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[1].startswith("POC    8 ( B-SLICE, QP 38 )")
    assert lines[1].endswith("[L0 0] [L1 0]")
    assert lines[2].endswith("[L0 0 8] [L1 8 0]")
    assert any(line.startswith("B Slices") for line in lines)
    dec = cnnfilter.decode(tmp_path / "s.bin")
    assert md5((tmp_path / "r.yuv").read_bytes()) == md5(
        b"".join(p.tobytes() for pic in dec.pictures for p in (pic.y, pic.u, pic.v))
    )


def test_ctc_runner_runs_ldp_and_ra(tiny, tmp_path):
    from cnnfilter.ctc import runner
    from cnnfilter.ctc.sequences import Sequence
    from cnnfilter.ctc.store import Store

    seq = Sequence("tiny", str(tiny), 128, 64, 25.0, 16, "T", intra_period=8)
    jobs = runner.prepare(["LDP", "RA"], [37], [seq], "anchor", ["nolf"], 9, "test")
    assert [j.key for j in jobs] == [
        "LDP/anchor/tiny/QP37",
        "LDP/nolf/tiny/QP37",
        "RA/anchor/tiny/QP37",
        "RA/nolf/tiny/QP37",
    ]
    summary = runner.run(jobs, tmp_path / "out", {"anchor": "anchor"}, progress=False)
    assert summary.failed == [] and summary.mismatched == []
    rows = [Store(tmp_path / "out").done(j) for j in jobs]
    assert all(r["frames"] == 9 for r in rows)
    # RA honours the sequence's intra period: frame 8 is a CRA.
    ra = tmp_path / "ra.bin"
    cnnfilter.encode(tiny, ra, cfg=RA, width=128, height=64, frames=9, qp=37,
                     overrides={"IntraPeriod": 8})  # fmt: skip
    assert CRA_NUT in _nal_types(ra.read_bytes())
    assert rows[2]["bitstream_md5"] == md5(ra.read_bytes())
