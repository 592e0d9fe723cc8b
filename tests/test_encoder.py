"""The encoder: every stream decodes, in ffmpeg and in ours, to exactly our reconstruction."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from conftest import DATA, ROOT, ffmpeg_decode, md5

import cnnfilter
from cnnfilter import yuv

CFG = ROOT / "cfg" / "encoder_intra_main.cfg"


def crop_clip(src, w, h, out, cw, ch, frames, x0=0, y0=0):
    with yuv.YuvWriter(out) as wr:
        for y, u, v in yuv.read_frames(src, w, h, count=frames):
            wr.write(
                (
                    y[y0 : y0 + ch, x0 : x0 + cw],
                    u[y0 // 2 : (y0 + ch) // 2, x0 // 2 : (x0 + cw) // 2],
                    v[y0 // 2 : (y0 + ch) // 2, x0 // 2 : (x0 + cw) // 2],
                )
            )
    return out


@pytest.fixture(scope="module")
def small(shared_data, tmp_path_factory):
    src = shared_data / "video" / "bigbuckbunny-crop_416x240_25.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    d = tmp_path_factory.mktemp("enc")
    return crop_clip(src, 416, 240, d / "small.yuv", 96, 64, 2, 160, 96), 96, 64


def check_roundtrip(ffmpeg, res, w, h):
    rec = res.recon.read_bytes()
    assert md5(ffmpeg_decode(ffmpeg, res.bitstream)) == md5(rec)
    dec = cnnfilter.decode(res.bitstream)
    assert dec.hash_ok
    ours = b"".join(
        np.ascontiguousarray(p).tobytes() for pic in dec.pictures for p in (pic.y, pic.u, pic.v)
    )
    assert md5(ours) == md5(rec)
    assert all(pic.y.shape == (h, w) for pic in dec.pictures)


def test_all_qps_decode_exactly(small, ffmpeg, tmp_path):
    path, w, h = small
    for qp in range(52):
        res = cnnfilter.encode(
            path,
            tmp_path / "s.hevc",
            tmp_path / "r.yuv",
            cfg=CFG,
            width=w,
            height=h,
            frames=1,
            qp=qp,
        )
        check_roundtrip(ffmpeg, res, w, h)
        assert res.frames[0].qp == qp


TOOLS = [
    (
        "ctu16",
        {"MaxCUWidth": 16, "MaxCUHeight": 16, "MaxPartitionDepth": 2, "QuadtreeTULog2MaxSize": 4},
    ),
    ("ctu32", {"MaxCUWidth": 32, "MaxCUHeight": 32, "MaxPartitionDepth": 3}),
    ("no-sao", {"SAO": 0}),
    ("no-deblock", {"LoopFilterDisable": 1}),
    ("no-loop-filters", {"SAO": 0, "LoopFilterDisable": 1}),
    ("no-rdoq", {"RDOQ": 0}),
    ("no-tskip", {"TransformSkip": 0}),
    ("tskip-full", {"TransformSkipFast": 0}),
    ("no-signhide", {"SignHideFlag": 0}),
    ("no-strong-smoothing", {"StrongIntraSmoothing": 0}),
    ("wpp", {"WaveFrontSynchro": 1}),
    ("tu16-depth1", {"QuadtreeTULog2MaxSize": 4, "QuadtreeTUMaxDepthIntra": 1}),
    ("chroma-offsets", {"CbQpOffset": 3, "CrQpOffset": -4}),
    ("deblock-offsets", {"LoopFilterBetaOffset_div2": 3, "LoopFilterTcOffset_div2": -2}),
    ("crc", {"SEIDecodedPictureHash": 2}),
    ("checksum", {"SEIDecodedPictureHash": 3}),
    (
        "hm-decisions",
        {
            "IntraTriedCULog2MaxSize": 6,
            "IntraFastRMD": 0,
            "IntraRDCandidates4x4": 8,
            "IntraRDCandidates8x8": 8,
        },
    ),
]


@pytest.mark.parametrize("name,over", TOOLS, ids=[t[0] for t in TOOLS])
def test_tools_decode_exactly(name, over, shared_data, ffmpeg, tmp_path):
    src = shared_data / "video" / "CiscoVT2people_320x192_12.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    clip = crop_clip(src, 320, 192, tmp_path / "c.yuv", 192, 128, 2, 64, 32)
    res = cnnfilter.encode(
        clip,
        tmp_path / "s.hevc",
        tmp_path / "r.yuv",
        cfg=CFG,
        width=192,
        height=128,
        qp=30,
        overrides=over,
    )
    check_roundtrip(ffmpeg, res, 192, 128)


def streams_on_off(path, w, h, frames, qp, over, key, tmp_path) -> tuple[bytes, bytes]:
    """The streams with the test option `key` on and off (the other keys as in `over`)."""
    streams = []
    for on in (1, 0):
        res = cnnfilter.encode(
            path,
            tmp_path / f"s{on}.hevc",
            cfg=CFG,
            width=w,
            height=h,
            frames=frames,
            qp=qp,
            overrides={**over, key: on},
        )
        streams.append(res.bitstream.read_bytes())
    return streams[0], streams[1]


@pytest.mark.parametrize(
    "over",
    [{}, {"TransformSkip": 0}, {"TransformSkipFinalOnly": 0}, {"IntraTriedCULog2MaxSize": 6}],
    ids=["default", "no-tskip", "tskip-every-candidate", "cu64"],
)
def test_trial_reuse_changes_no_bit(shared_data, tmp_path, over):
    """Reusing the winning full-RD trial is an exact speed-up: the stream is the same without."""
    path, w, h = shared_data / "video" / "bigbuckbunny-crop_416x240_25.yuv", 416, 240
    if not path.exists():
        pytest.skip(f"{path} is missing")
    for qp in (22, 37):
        on, off = streams_on_off(path, w, h, 1, qp, over, "ReuseTrials", tmp_path)
        assert on == off, f"QP {qp} {over}"


def flat_and_textured_clip(path, w=192, h=128):
    """Flat areas (every reference sample equal), gradients, edges and noise, in both frames."""
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:h, 0:w]
    with yuv.YuvWriter(path) as wr:
        for f in range(2):
            luma = np.where(xx < 64, 90.0, 128 + 50 * np.sin((xx + 2 * yy + 5 * f) / 6.0))
            luma = np.where((yy >= 64) & (xx >= 128), 40 + xx / 4 + rng.normal(0, 9, (h, w)), luma)
            cb = np.where(xx[::2, ::2] < 48, 100.0, 128 + 20 * np.cos(yy[::2, ::2] / 5.0))
            cr = np.where(yy[::2, ::2] < 32, 150.0, 128 + rng.normal(0, 6, (h // 2, w // 2)))
            wr.write(tuple(np.clip(p, 0, 255).astype(np.uint8) for p in (luma, cb, cr)))


@pytest.mark.parametrize(
    "over",
    [
        {},
        {"IntraTriedCULog2MaxSize": 6, "IntraFastRMD": 0},
        {"TransformSkipFinalOnly": 0, "SignHideFlag": 0},
        {"EarlySkipSplit": 1, "EarlySkipTUSplit": 1, "EarlySkipNxN": 1},
    ],
    ids=["default", "hm-decisions", "tskip-every-candidate", "early-skips"],
)
def test_exact_shortcuts_change_no_bit(tmp_path, over):
    """The search's exact shortcuts (docs/encoder.md) change no decision: same stream without.

    They stop trials that provably cannot win and take the costs of trials provably equal to
    one already made; --ExactShortcuts=0 (a test option) tries everything in full.
    """
    clips = [(tmp_path / "flat.yuv", 192, 128, 2)]
    flat_and_textured_clip(clips[0][0])
    # Real content too when ../shared is there (the generated clip runs either way).
    for name, w, h in (("bikes_640x272_25", 640, 272), ("bigbuckbunny-crop_416x240_25", 416, 240)):
        if (DATA / "video" / f"{name}.yuv").exists():
            clips.append((DATA / "video" / f"{name}.yuv", w, h, 1))
    for path, w, h, frames in clips:
        for qp in (22, 37):
            on, off = streams_on_off(path, w, h, frames, qp, over, "ExactShortcuts", tmp_path)
            assert on == off, f"{path.name} QP {qp} {over}"


def test_64x64_cus_only_when_tried(ffmpeg, tmp_path):
    """A smooth 128x128 picture codes cheaper as 64x64 CUs; they are used only when tried."""
    yy, xx = np.mgrid[0:128, 0:128]
    luma = (96 + xx // 4 + yy // 8).astype(np.uint8)
    chroma = np.full((64, 64), 128, np.uint8)
    src = tmp_path / "smooth.yuv"
    with yuv.YuvWriter(src) as wr:
        wr.write((luma, chroma, chroma))
    bits = {}
    for log2 in (5, 6):
        res = cnnfilter.encode(
            src,
            tmp_path / f"s{log2}.hevc",
            tmp_path / f"r{log2}.yuv",
            cfg=CFG,
            width=128,
            height=128,
            qp=37,
            overrides={"IntraTriedCULog2MaxSize": log2},
        )
        check_roundtrip(ffmpeg, res, 128, 128)
        bits[log2] = res.frames[0].bits
    assert bits[6] < bits[5]


def test_conformance_window_sizes(shared_data, ffmpeg, tmp_path):
    """Sizes that are not a multiple of 8 are padded and cropped by a conformance window."""
    src = shared_data / "video" / "CiscoVT2people_320x192_12.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    for cw, ch in [(98, 66), (202, 118), (70, 130)]:
        clip = crop_clip(src, 320, 192, tmp_path / "c.yuv", cw, ch, 1, 10, 20)
        res = cnnfilter.encode(
            clip, tmp_path / "s.hevc", tmp_path / "r.yuv", cfg=CFG, width=cw, height=ch, qp=27
        )
        check_roundtrip(ffmpeg, res, cw, ch)


def test_crc_and_checksum_verified_by_dec265(small, dec265, tmp_path):
    path, w, h = small
    for hash_type in (1, 2, 3):
        res = cnnfilter.encode(
            path,
            tmp_path / "s.hevc",
            None,
            cfg=CFG,
            width=w,
            height=h,
            qp=32,
            overrides={"SEIDecodedPictureHash": hash_type},
        )
        r = subprocess.run([dec265, "-c", "-q", str(res.bitstream)], capture_output=True, text=True)
        assert "mismatch" not in (r.stdout + r.stderr).lower(), r.stdout + r.stderr
        assert cnnfilter.decode(res.bitstream).hash_ok


def test_y4m_input_and_result_object(small, tmp_path):
    path, w, h = small
    y4m = tmp_path / "in.y4m"
    with y4m.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F30:1 Ip A1:1 C420jpeg\n".encode())
        for planes in yuv.read_frames(path, w, h):
            f.write(b"FRAME\n" + b"".join(p.tobytes() for p in planes))
    res = cnnfilter.encode(y4m, tmp_path / "s.hevc", tmp_path / "r.yuv", cfg=CFG, qp=27)
    assert len(res.frames) == 2 and res.frame_rate == 30
    assert all(f.slice_type == "I" and 25 < f.psnr_y < 60 for f in res.frames)
    assert res.kbps == pytest.approx(res.bytes * 8 * 30 / 2 / 1000)
    same = cnnfilter.encode(path, tmp_path / "t.hevc", None, cfg=CFG, width=w, height=h, qp=27)
    assert same.bitstream.read_bytes() == res.bitstream.read_bytes()


def test_frame_skip_and_count(shared_data, tmp_path):
    src = shared_data / "video" / "CiscoVT2people_320x192_12.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    a = cnnfilter.encode(
        src,
        tmp_path / "a.hevc",
        tmp_path / "a.yuv",
        cfg=CFG,
        width=320,
        height=192,
        qp=37,
        frames=1,
        frame_skip=2,
    )
    clip = tmp_path / "third.yuv"
    with yuv.YuvWriter(clip) as wr:
        wr.write(next(yuv.read_frames(src, 320, 192, skip=2, count=1)))
    b = cnnfilter.encode(clip, tmp_path / "b.hevc", None, cfg=CFG, width=320, height=192, qp=37)
    assert a.bitstream.read_bytes() == b.bitstream.read_bytes()


def test_lambda_modifier(small, ffmpeg, tmp_path):
    # HM's LambdaModifier0 scales lambda: 1 is the default encoder bit for bit, a larger lambda
    # trades distortion for fewer bits, and the stream still decodes to the reconstruction.
    path, w, h = small

    def run(name, m=None):
        over = {} if m is None else {"LambdaModifier0": m}
        return cnnfilter.encode(
            path,
            tmp_path / f"{name}.hevc",
            tmp_path / f"{name}.yuv",
            cfg=CFG,
            width=w,
            height=h,
            qp=32,
            overrides=over,
        )

    base, one, big = run("base"), run("one", 1.0), run("big", 2.0)
    assert one.bitstream.read_bytes() == base.bitstream.read_bytes()
    assert big.bytes < base.bytes and big.psnr_y < base.psnr_y
    check_roundtrip(ffmpeg, big, w, h)
