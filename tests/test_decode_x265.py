"""x265 All-Intra streams from real content decode exactly as ffmpeg decodes them."""

from __future__ import annotations

import pytest
from conftest import ffmpeg_decode, image_to_yuv, md5, planes_bytes, x265_encode

import cnnfilter

# (id, x265 options); every stream is All-Intra (--keyint 1).
MATRIX = [
    ("ctu16", ["--ctu", "16", "--qp", "30"]),
    ("ctu32", ["--ctu", "32", "--qp", "30"]),
    ("ctu64", ["--ctu", "64", "--qp", "30"]),
    ("no-sao", ["--no-sao", "--qp", "27"]),
    ("no-deblock", ["--no-deblock", "--qp", "27"]),
    ("no-sao-no-deblock", ["--no-sao", "--no-deblock", "--qp", "37"]),
    ("tskip", ["--tskip", "--qp", "22"]),
    ("rdoq0", ["--rdoq-level", "0", "--qp", "32"]),
    ("rdoq2", ["--rdoq-level", "2", "--qp", "32"]),
    ("no-signhide", ["--no-signhide", "--qp", "27"]),
    ("signhide", ["--signhide", "--qp", "27"]),
    ("wpp", ["--wpp", "--qp", "27"]),
    ("no-wpp", ["--no-wpp", "--qp", "27"]),
    ("cu-lossless", ["--cu-lossless", "--qp", "30"]),
    ("lossless", ["--lossless"]),
    ("qp0", ["--qp", "0"]),
    ("qp51", ["--qp", "51"]),
    ("slices", ["--slices", "3", "--qp", "30"]),
    ("chroma-offsets", ["--cbqpoffs", "4", "--crqpoffs", "-3", "--qp", "30"]),
    ("aq-dqp", ["--aq-mode", "2", "--qp", "30"]),
    ("no-strong-smoothing", ["--no-strong-intra-smoothing", "--qp", "30"]),
    ("constrained-intra", ["--constrained-intra", "--qp", "30"]),
    ("scaling-lists", ["--scaling-list", "default", "--qp", "30"]),
    ("small-tu", ["--ctu", "16", "--min-cu-size", "8", "--max-tu-size", "8", "--qp", "30"]),
    ("deblock-offsets", ["--deblock", "-3:2", "--qp", "30"]),
    ("veryslow", ["--preset", "veryslow", "--tune", "psnr", "--qp", "27"]),
]


def _check(ffmpeg, stream):
    ref = ffmpeg_decode(ffmpeg, stream)
    res = cnnfilter.decode(stream)
    ours = b"".join(planes_bytes((p.y, p.u, p.v)) for p in res.pictures)
    assert len(ours) == len(ref) and md5(ours) == md5(ref)
    assert res.hash_ok, [f.hash for f in res.frames]


@pytest.fixture(scope="module")
def clip(shared_data, tmp_path_factory):
    path = shared_data / "video" / "bigbuckbunny-crop_416x240_25.yuv"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return path, 416, 240


@pytest.mark.parametrize("name,opts", MATRIX, ids=[m[0] for m in MATRIX])
def test_video_matrix(name, opts, clip, ffmpeg, x265, tmp_path):
    yuv, w, h = clip
    stream = x265_encode(x265, yuv, w, h, tmp_path / f"{name}.hevc", ["--keyint", "1", *opts])
    _check(ffmpeg, stream)


IMAGES = [
    # (file, crop width, crop height): sizes that need a conformance window
    ("CBSD68/101085.png", 320, 480),
    ("CSet14/comic.png", 250, 360),
    ("skimage/coffee.png", 598, 398),
    ("CUrban100_subset/img_004.png", 1022, 678),
]


@pytest.mark.parametrize("image,w,h", IMAGES, ids=[i[0].split("/")[-1] for i in IMAGES])
@pytest.mark.parametrize("qp", [22, 37])
def test_images_conformance_window(image, w, h, qp, shared_data, ffmpeg, x265, tmp_path):
    src = shared_data / "images" / image
    if not src.exists():
        pytest.skip(f"{src} is missing")
    yuv = image_to_yuv(ffmpeg, src, tmp_path / "img.yuv", w, h)
    stream = x265_encode(
        x265, yuv, w, h, tmp_path / "img.hevc", ["--keyint", "1", "--qp", str(qp)], frames=1
    )
    _check(ffmpeg, stream)
    res = cnnfilter.decode(stream)
    assert res.pictures[0].y.shape == (h, w)


def test_other_clips(shared_data, ffmpeg, x265, tmp_path):
    for name, w, h in [
        ("CiscoVT2people_320x192_12.yuv", 320, 192),
        ("bikes_640x272_25.yuv", 640, 272),
    ]:
        yuv = shared_data / "video" / name
        if not yuv.exists():
            pytest.skip(f"{yuv} is missing")
        stream = x265_encode(
            x265, yuv, w, h, tmp_path / f"{name}.hevc", ["--keyint", "1", "--qp", "32"], frames=3
        )
        _check(ffmpeg, stream)
