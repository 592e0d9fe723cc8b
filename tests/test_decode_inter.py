"""x265 streams with P and B pictures from real content decode exactly as ffmpeg decodes them,
picture by picture in output order, with every MD5 SEI checked."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from conftest import ffmpeg_decode, md5, nal_starts, planes_bytes, x265_encode

import cnnfilter

LDP = ["--bframes", "0"]
RA = ["--bframes", "3", "--b-pyramid", "--keyint", "32", "--open-gop"]
# (id, x265 options): Low-Delay-P-like and Random-Access-like settings and the tools they use.
MATRIX = [
    ("ldp-ref1", [*LDP, "--ref", "1", "--qp", "30"]),
    ("ldp-ref3", [*LDP, "--ref", "3", "--qp", "27"]),
    ("ldp-ref5", [*LDP, "--ref", "5", "--qp", "32"]),
    ("ra-b3", [*RA, "--qp", "30"]),
    ("ra-b8", ["--bframes", "8", "--b-pyramid", "--keyint", "32", "--qp", "32"]),
    ("ra-cra", ["--bframes", "3", "--keyint", "4", "--open-gop", "--qp", "32"]),
    ("ra-amp", [*RA, "--amp", "--rect", "--qp", "27"]),
    ("ra-no-amp", [*RA, "--no-amp", "--rect", "--qp", "27"]),
    ("ra-no-rect", [*RA, "--no-rect", "--qp", "27"]),
    ("merge1", [*RA, "--max-merge", "1", "--qp", "30"]),
    ("merge2", [*RA, "--max-merge", "2", "--qp", "30"]),
    ("merge3", [*LDP, "--max-merge", "3", "--qp", "30"]),
    ("merge5", [*RA, "--max-merge", "5", "--qp", "30"]),
    ("tu-inter1", [*RA, "--tu-inter-depth", "1", "--qp", "27"]),
    ("tu-inter2", [*RA, "--tu-inter-depth", "2", "--qp", "27"]),
    ("tu-inter4", [*RA, "--tu-inter-depth", "4", "--qp", "27"]),
    ("ctu16", [*RA, "--ctu", "16", "--qp", "30"]),
    ("ctu32", [*LDP, "--ctu", "32", "--qp", "30"]),
    ("ctu64", [*RA, "--ctu", "64", "--qp", "30"]),
    ("no-sao", [*RA, "--no-sao", "--qp", "32"]),
    ("no-deblock", [*LDP, "--no-deblock", "--qp", "32"]),
    ("wpp", [*RA, "--wpp", "--qp", "30"]),
    ("slices4", [*RA, "--slices", "4", "--qp", "30"]),
    ("no-tmvp", [*RA, "--no-temporal-mvp", "--qp", "30"]),
    ("lossless", [*RA, "--lossless"]),
    ("cu-lossless", [*LDP, "--cu-lossless", "--qp", "30"]),
    ("constrained-intra", [*RA, "--constrained-intra", "--qp", "30"]),
    ("max-tu4", [*RA, "--max-tu-size", "4", "--qp", "30"]),
    ("qp0", [*RA, "--qp", "0"]),
    ("qp12", [*LDP, "--qp", "12"]),
    ("qp44", [*RA, "--qp", "44"]),
    ("qp51", [*RA, "--qp", "51"]),
    ("veryslow", [*RA, "--preset", "veryslow", "--tune", "psnr", "--qp", "30"]),
]


def _check(ffmpeg, stream):
    ref = ffmpeg_decode(ffmpeg, stream)
    res = cnnfilter.decode(stream)
    ours = b"".join(planes_bytes((p.y, p.u, p.v)) for p in res.pictures)
    assert len(ours) == len(ref) and md5(ours) == md5(ref)
    assert res.hash_ok, [f.hash for f in res.frames]
    return res


@pytest.fixture(scope="module")
def clip(shared_data):
    path = shared_data / "video" / "bigbuckbunny-crop_416x240_25.yuv"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return path


@pytest.mark.parametrize("name,opts", MATRIX, ids=[m[0] for m in MATRIX])
def test_inter_matrix(name, opts, clip, ffmpeg, x265, tmp_path):
    stream = x265_encode(x265, clip, 416, 240, tmp_path / f"{name}.hevc", opts, frames=9)
    res = _check(ffmpeg, stream)
    types = {f.slice_type for f in res.frames}
    assert types & {"P", "B"}, "the stream must hold inter pictures"


def _fade(src, tmp_path, n=9):
    """A brightness and colour fade: x265 then codes weighted prediction."""
    w, h = 416, 240
    fs = w * h * 3 // 2
    a = np.fromfile(src, np.uint8)[: n * fs].reshape(n, fs).astype(np.float64)
    for i in range(n):
        a[i, : w * h] = a[i, : w * h] * (1 - 0.06 * i) + 4 * i
        a[i, w * h :] = (a[i, w * h :] - 128) * (1 - 0.05 * i) + 128 + 2 * i
    out = tmp_path / "fade.yuv"
    np.clip(np.round(a), 0, 255).astype(np.uint8).tofile(out)
    return out


@pytest.mark.parametrize("opts", [["--bframes", "0", "--ref", "3"], RA], ids=["P", "B"])
def test_weighted_prediction(opts, clip, ffmpeg, x265, tmp_path):
    fade = _fade(clip, tmp_path)
    stream = x265_encode(
        x265,
        fade,
        416,
        240,
        tmp_path / "wp.hevc",
        [*opts, "--weightp", "--weightb", "--qp", "27"],
        frames=9,
    )
    _check(ffmpeg, stream)
    # the stream really carries weights: explicit weighted prediction is on in its PPS
    cmd = [ffmpeg, "-v", "trace", "-i", str(stream), "-c", "copy", "-bsf:v", "trace_headers"]
    trace = subprocess.run([*cmd, "-f", "null", "-"], capture_output=True, text=True).stderr
    assert "luma_weight_l0_flag[0]                                      1" in trace


@pytest.mark.parametrize(
    "name,w,h", [("CiscoVT2people_320x192_12.yuv", 320, 192), ("bikes_640x272_25.yuv", 640, 272)]
)
def test_other_clips(name, w, h, shared_data, ffmpeg, x265, tmp_path):
    yuv = shared_data / "video" / name
    if not yuv.exists():
        pytest.skip(f"{yuv} is missing")
    stream = x265_encode(x265, yuv, w, h, tmp_path / "s.hevc", [*RA, "--qp", "32"], frames=9)
    _check(ffmpeg, stream)


def test_output_order_and_picture_info(clip, x265, tmp_path):
    stream = x265_encode(x265, clip, 416, 240, tmp_path / "ra.hevc", [*RA, "--qp", "32"], frames=9)
    res = cnnfilter.decode(stream)
    assert [p.poc for p in res.pictures] == sorted(p.poc for p in res.pictures)
    decode_order = [f.poc for f in res.frames]
    assert decode_order != sorted(decode_order)  # B pictures come after their references
    assert {f.slice_type for f in res.frames} >= {"I", "B"}


def test_per_picture_log_names_the_references(shared_data):
    from cnnfilter.cli import main

    stream = shared_data / "conformance" / "hm16.9" / "hm-cisco-ra-qp22.bit"
    if not stream.exists():
        pytest.skip(f"{stream} is missing")
    res = cnnfilter.decode(stream)
    by_poc = {f.poc: f for f in res.frames}
    assert by_poc[0].refs == ((), ())
    # a hierarchical-B picture predicts from both sides
    assert by_poc[4].refs[0] and by_poc[4].refs[1]
    assert min(by_poc[4].refs[0]) < 4 < max(by_poc[4].refs[1])
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["decode", "-b", str(stream)]) == 0
    line = next(ln for ln in out.getvalue().splitlines() if ln.startswith("POC    4"))
    assert "B-SLICE" in line and "[L0 " in line and "[L1 " in line and "[hash: OK]" in line


def test_stream_cut_at_a_cra_skips_its_rasl_pictures(clip, ffmpeg, x265, tmp_path):
    """A stream that starts at a CRA: its RASL pictures cannot be decoded and are skipped, and
    their hash SEI must not be checked against the CRA (it was, and reported a mismatch)."""
    opts = ["--bframes", "3", "--keyint", "4", "--open-gop", "--qp", "32"]
    full = x265_encode(x265, clip, 416, 240, tmp_path / "full.hevc", opts, frames=13).read_bytes()
    nals = nal_starts(full)
    params = b"".join(
        full[s : (nals[k + 1][0] if k + 1 < len(nals) else len(full))]
        for k, (s, t) in enumerate(nals)
        if t in (32, 33, 34)
    )
    cras = [s for s, t in nals if t == 21]
    assert len(cras) >= 2, "x265 must code a second CRA"
    cut = tmp_path / "cut.hevc"
    cut.write_bytes(params + full[cras[1] :])
    kinds = [t for _, t in nal_starts(cut.read_bytes())]
    assert 8 in kinds or 9 in kinds, "the cut stream must hold RASL pictures after its CRA"
    res = _check(ffmpeg, cut)
    assert res.frames[0].poc == min(p.poc for p in res.pictures)
    assert all(f.hash == "OK" for f in res.frames), [f.hash for f in res.frames]
