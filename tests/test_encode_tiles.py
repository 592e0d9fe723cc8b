"""Tiles from our encoder (HM's NumTileColumnsMinus1, NumTileRowsMinus1, TileUniformSpacing,
TileColumnWidthArray, TileRowHeightArray, LFCrossTileBoundaryFlag): ffmpeg and our decoder give
the encoder's reconstruction, with every MD5 SEI checked. They are also the decoder's only
tiled streams (no peer here writes tiles)."""

from __future__ import annotations

import pytest
from cli_errors_support import check_bad_input
from conftest import ROOT, ffmpeg_decode, planes_bytes, trace_headers

import cnnfilter

W, H = 640, 272
CFG = ROOT / "cfg"
CASES = [
    # (id, cfg file, overrides, entry points per slice)
    (
        "ai-uniform-2x2",
        "encoder_intra_main.cfg",
        {"NumTileColumnsMinus1": 1, "NumTileRowsMinus1": 1, "TileUniformSpacing": 1},
        3,
    ),
    (
        "ra-explicit-2x3-no-lf-across",
        "encoder_randomaccess_main.cfg",
        {
            "NumTileColumnsMinus1": 1,
            "NumTileRowsMinus1": 2,
            "TileColumnWidthArray": "4",
            "TileRowHeightArray": "1,2",
            "LFCrossTileBoundaryFlag": 0,
        },
        5,
    ),
    (
        "ldp-ctu32-2-columns",
        "encoder_lowdelay_P_main.cfg",
        {"NumTileColumnsMinus1": 1, "TileUniformSpacing": 1, "MaxCUWidth": 32}
        | {"MaxCUHeight": 32, "MaxPartitionDepth": 3},
        1,
    ),
]


def _values(ffmpeg: str, stream, name: str) -> set[int]:
    return {v for n, v in trace_headers(ffmpeg, stream.read_bytes()) if n == name}


@pytest.mark.parametrize("name,cfg,overrides,entries", CASES, ids=[c[0] for c in CASES])
def test_tiled_streams_decode_to_the_reconstruction(
    name, cfg, overrides, entries, bikes, ffmpeg, tmp_path
):
    out, rec = tmp_path / "t.hevc", tmp_path / "t.yuv"
    cnnfilter.encode(
        bikes, out, rec, cfg=str(CFG / cfg), width=W, height=H, frames=5, qp=32, overrides=overrides
    )
    assert _values(ffmpeg, out, "tiles_enabled_flag") == {1}
    assert _values(ffmpeg, out, "num_entry_point_offsets") == {entries}
    lf = overrides.get("LFCrossTileBoundaryFlag", 1)
    assert _values(ffmpeg, out, "loop_filter_across_tiles_enabled_flag") == {lf}
    ref = ffmpeg_decode(ffmpeg, out)
    res = cnnfilter.decode(out)
    ours = b"".join(planes_bytes((q.y, q.u, q.v)) for q in res.pictures)
    assert res.hash_ok and len(res.pictures) == 5
    assert ours == ref == rec.read_bytes()


def test_tiles_with_the_in_loop_cnn(bikes, tmp_path):
    out, rec = tmp_path / "t.hevc", tmp_path / "t.yuv"
    ov = {"NumTileColumnsMinus1": 1, "NumTileRowsMinus1": 1, "TileUniformSpacing": 1}
    enc = cnnfilter.encode(
        bikes,
        out,
        rec,
        cfg=str(CFG / "encoder_intra_main.cfg"),
        width=W,
        height=H,
        frames=2,
        qp=37,
        overrides=ov,
        cnn="default",
    )
    assert sum(f.cnn_ctus for f in enc.frames) > 0
    res = cnnfilter.decode(out)  # the model set named in the stream
    ours = b"".join(planes_bytes((q.y, q.u, q.v)) for q in res.pictures)
    assert res.hash_ok and ours == rec.read_bytes()


BAD = [
    (["--NumTileColumnsMinus1=1", "--TileUniformSpacing=1"], "narrower than the 256 luma"),
    (["--NumTileColumnsMinus1=1", "--WaveFrontSynchro=1"], "not allowed in the Main profile"),
    (["--NumTileRowsMinus1=1"], "needs that many CTU sizes in TileRowHeightArray"),
    (["--NumTileRowsMinus1=1", "--TileRowHeightArray=x"], "give CTU counts"),
    (["--NumTileRowsMinus1=1", "--TileRowHeightArray=0"], "at least 1 CTU"),
    (["--NumTileRowsMinus1=1", "--TileRowHeightArray=3"], "leave no CTU for the last tile"),
    (["--NumTileRowsMinus1=3", "--TileUniformSpacing=1"], "more tile columns or rows"),
    (["--NumTileColumnsMinus1=20"], "out of range"),
]


@pytest.mark.parametrize("args,fragment", BAD, ids=[b[1] for b in BAD])
def test_bad_tile_settings(args, fragment, shared_data, capsys, tmp_path):
    src = shared_data / "video" / "CiscoVT2people_320x192_12.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    argv = ["encode", "-c", str(CFG / "encoder_intra_main.cfg"), "-i", str(src), "-wdt", "320"]
    argv += ["-hgt", "192", "-f", "1", "-o", str(tmp_path / "x.hevc"), *args]
    check_bad_input(argv, 2, fragment, capsys, tmp_path)
