"""Slices and dependent slice segments from our encoder (HM's SliceMode/SliceArgument,
SliceSegmentMode/SliceSegmentArgument, LFCrossSliceBoundaryFlag), alone and with WPP, tiles and
the in-loop CNN: ffmpeg (where the stream has no CNN) and our decoder give the encoder's
reconstruction, with every MD5 SEI checked. No peer here writes dependent slice segments, so
these are the decoder's tests of them too."""

from __future__ import annotations

import pytest
from cli_errors_support import check_bad_input
from conftest import ROOT, ffmpeg_decode, planes_bytes

import cnnfilter

W, H, FRAMES = 640, 272, 4  # 10 x 5 CTUs of 64
CFG = ROOT / "cfg"
AI, LDP, RA = (
    "encoder_intra_main.cfg",
    "encoder_lowdelay_P_main.cfg",
    "encoder_randomaccess_main.cfg",
)
SLICES = {"SliceMode": 1}
SEGMENTS = {"SliceSegmentMode": 1}
CASES = [
    # (id, cfg, overrides, CNN, slice segments a picture)
    ("ai-slices-13", AI, SLICES | {"SliceArgument": 13}, None, 4),
    (
        "ai-segments-no-lf-across",
        AI,
        SLICES
        | SEGMENTS
        | {"SliceArgument": 20, "SliceSegmentArgument": 7}
        | {"LFCrossSliceBoundaryFlag": 0},
        None,
        8,
    ),
    (
        "ra-segments",
        RA,
        SLICES | SEGMENTS | {"SliceArgument": 17, "SliceSegmentArgument": 5},
        None,
        12,
    ),
    (
        "ldp-segments-wpp",
        LDP,
        SEGMENTS | {"SliceSegmentArgument": 6, "WaveFrontSynchro": 1},
        None,
        9,
    ),
    (
        "ldp-row-slices-wpp",
        LDP,
        SLICES
        | SEGMENTS
        | {"SliceArgument": 10, "SliceSegmentArgument": 3}
        | {"WaveFrontSynchro": 1},
        None,
        20,
    ),
    (
        "ra-tiles-slices",
        RA,
        SLICES
        | SEGMENTS
        | {"SliceArgument": 25, "SliceSegmentArgument": 5}
        | {"NumTileColumnsMinus1": 1, "TileUniformSpacing": 1},
        None,
        10,
    ),
    (
        "ai-cnn",
        AI,
        SLICES | SEGMENTS | {"SliceArgument": 12, "SliceSegmentArgument": 5},
        "default",
        13,
    ),
    (
        "ra-cnn",
        RA,
        SLICES | SEGMENTS | {"SliceArgument": 12, "SliceSegmentArgument": 5},
        "default",
        13,
    ),
]


@pytest.mark.parametrize("name,cfg,overrides,cnn,segments", CASES, ids=[c[0] for c in CASES])
def test_sliced_streams_decode_to_the_reconstruction(
    name, cfg, overrides, cnn, segments, bikes, ffmpeg, tmp_path
):
    out, rec = tmp_path / "s.hevc", tmp_path / "s.yuv"
    enc = cnnfilter.encode(
        bikes,
        out,
        rec,
        cfg=str(CFG / cfg),
        width=W,
        height=H,
        frames=FRAMES,
        qp=32,
        overrides=overrides,
        cnn=cnn,
    )
    data = out.read_bytes()
    vcl = [t for t, _ in cnnfilter._hevc.nal_units(data) if t < 32]
    assert len(vcl) == segments * FRAMES
    res = cnnfilter.decode(out)
    ours = b"".join(planes_bytes((q.y, q.u, q.v)) for q in res.pictures)
    assert res.hash_ok and ours == rec.read_bytes()
    if cnn:
        assert sum(f.cnn_ctus for f in enc.frames) > 0
        return
    ref = ffmpeg_decode(ffmpeg, out)
    assert ours == ref


BAD = [
    (["--SliceMode=2"], "not supported"),
    (["--SliceMode=1", "--SliceArgument=0"], "out of range"),
    (
        ["--SliceMode=1", "--SliceArgument=7", "--WaveFrontSynchro=1"],
        "first or second CTU of a row",
    ),
    (
        [
            "--SliceMode=1",
            "--SliceArgument=3",
            "--NumTileColumnsMinus1=1",
            "--TileUniformSpacing=1",
        ],
        "span part of a tile",
    ),
]


@pytest.mark.parametrize("args,fragment", BAD, ids=range(len(BAD)))
def test_bad_slice_settings(args, fragment, bikes, capsys, tmp_path):
    argv = ["encode", "-c", str(CFG / AI), "-i", str(bikes), "-wdt", str(W), "-hgt", str(H)]
    argv += ["-f", "1", "-o", str(tmp_path / "x.hevc"), *args]
    check_bad_input(argv, 2, fragment, capsys, tmp_path)
