"""Pictures coded in an order other than their output order (hevc/encoder/coding_order.h).

The caller hands each picture in coding order with its POC, NAL unit type, TemporalId and QP;
ffmpeg and our decoder check every picture's MD5 SEI and output the pictures in POC order,
each exactly as the encoder reconstructed it. A description that cannot follow the pictures
coded so far is refused, and codes nothing.
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

import cnnfilter
from cnnfilter import _hevc, yuv

W, H = 96, 64
IDR_W_RADL, CRA, RADL_R, TRAIL_R, TRAIL_N, TSA_N = 19, 21, 7, 1, 0, 2


@pytest.fixture(scope="module")
def frames(shared_data):
    src = shared_data / "video" / "bigbuckbunny-crop_416x240_25.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    out = []
    for y, u, v in yuv.read_frames(src, 416, 240, count=4):
        out.append(
            tuple(
                np.ascontiguousarray(p[y0 : y0 + h, x0 : x0 + w])
                for p, x0, y0, w, h in (
                    (y, 160, 96, W, H),
                    (u, 80, 48, W // 2, H // 2),
                    (v, 80, 48, W // 2, H // 2),
                )
            )
        )
    return out


def encoder(**over):
    return _hevc.Encoder({"width": W, "height": H, "qp": 32, **over})


def encode_all(enc, frames, pictures):
    """Encodes (poc, nal_type, temporal_id, qp) in the order given: the stream, and each
    picture's reconstruction in coding order."""
    stream, recon = b"", []
    for poc, nal_type, tid, qp in pictures:
        pic = frames[poc % len(frames)]
        r = enc.encode(*pic, poc=poc, nal_type=nal_type, temporal_id=tid, qp=qp)
        assert (r["poc"], r["nal_type"], r["temporal_id"], r["qp"]) == (poc, nal_type, tid, qp)
        stream += r["bytes"]
        recon.append(b"".join(p.tobytes() for p in enc.recon(W, H)))
    return stream, recon


def output_order(pictures, recon):
    """(POC, reconstruction) in output order: POC order within each coded video sequence."""
    out, seq = [], []
    for p, rec in zip(pictures, recon, strict=True):
        if p[1] == IDR_W_RADL and seq:
            out, seq = out + sorted(seq), []
        seq.append((p[0], rec))
    return out + sorted(seq)


ORDERS = {
    # Trailing pictures out of output order.
    "idr-trail": ([(0, IDR_W_RADL, 0, 32), (2, TRAIL_R, 0, 32), (1, TRAIL_N, 0, 35)], {}),
    # A CRA and its decodable leading picture.
    "idr-cra-radl": ([(0, IDR_W_RADL, 0, 32), (2, CRA, 0, 30), (1, RADL_R, 0, 34)], {}),
    # POCs as far apart as the POC LSBs (8 bits) allow from the last TemporalId 0 reference
    # picture, which a sub-layer non-reference picture (TRAIL_N) is not.
    "poc-range": (
        [(0, IDR_W_RADL, 0, 32), (128, TRAIL_R, 0, 32), (1, TRAIL_N, 0, 32)]
        + [(256, TRAIL_R, 0, 32)],
        {},
    ),
    # Two sub-layers, the reordered picture in the upper one; then a second IDR.
    "sub-layers": (
        [(0, IDR_W_RADL, 0, 32), (2, TRAIL_R, 0, 32), (1, TSA_N, 1, 36), (0, IDR_W_RADL, 0, 27)],
        {"max_temporal_layers": 2},
    ),
}


@pytest.mark.parametrize("name", list(ORDERS))
def test_out_of_order_pictures_decode_in_output_order(frames, ffmpeg, tmp_path, name):
    pictures, over = ORDERS[name]
    enc = encoder(num_reorder_pics=1, max_dec_pic_buffering=2, **over)
    stream, recon = encode_all(enc, frames, pictures)
    expected = output_order(pictures, recon)
    path = tmp_path / f"{name}.hevc"
    path.write_bytes(stream)

    dec = cnnfilter.decode(path)
    assert [f.poc for f in dec.frames] == [p[0] for p in pictures]
    assert [f.hash for f in dec.frames] == ["OK"] * len(pictures)
    assert [f.qp for f in dec.frames] == [p[3] for p in pictures]
    assert [(d.poc, b"".join(p.tobytes() for p in (d.y, d.u, d.v))) for d in dec.pictures] == (
        expected
    )

    r = subprocess.run(
        [ffmpeg, "-v", "debug", "-threads", "1", "-err_detect", "crccheck", "-i", str(path)]
        + ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
        capture_output=True,
        check=True,
    )
    log = r.stderr.decode(errors="replace")
    checked = re.findall(
        r"Verifying checksum for frame with POC (-?\d+): plane 0 - correct \w+; "
        r"plane 1 - correct \w+; plane 2 - correct \w+;",
        log,
    )
    assert "incorrect" not in log.lower()
    # (ffmpeg's probe decodes the first picture once more.)
    assert checked[-len(pictures) :] == [str(p[0]) for p in pictures]
    assert re.findall(r"Output frame with POC (-?\d+)", log) == [str(p) for p, _ in expected]
    assert r.stdout == b"".join(rec for _, rec in expected)


def test_defaults_are_all_intra(frames):
    implicit, explicit = encoder(), encoder()
    for i in range(3):
        a = implicit.encode(*frames[i])
        nal_type = IDR_W_RADL if i == 0 else TRAIL_R
        b = explicit.encode(
            *frames[i], poc=i, slice_type="I", qp=32, nal_type=nal_type, temporal_id=0
        )
        assert (a["poc"], a["nal_type"], a["temporal_id"], a["qp"]) == (i, nal_type, 0, 32)
        assert a["bytes"] == b["bytes"]


# (pictures coded first, the refused one, encoder settings, the reason given)
REFUSED = [
    ([], (0, TRAIL_R, 0, 32), {}, "the first picture must be an IDR or a CRA"),
    ([], (3, IDR_W_RADL, 0, 32), {}, "an IDR picture's POC is 0"),
    ([], (0, IDR_W_RADL, 0, 52), {}, "QP must be in 0..51"),
    ([], (0, 22, 0, 32), {}, "NAL unit type 22 is not one the encoder codes"),
    ([], (0, IDR_W_RADL, 1, 32), {}, r"TemporalId must be in 0..0"),
    ([], (0, IDR_W_RADL, 1, 32), {"max_temporal_layers": 2}, "an IRAP picture has TemporalId 0"),
    ([(0, IDR_W_RADL)], (1, TSA_N, 0, 32), {}, "a TSA or STSA picture has a TemporalId above 0"),
    ([(0, IDR_W_RADL), (2, TRAIL_R)], (1, TRAIL_R, 0, 32), {}, "num_reorder_pics is 0"),
    ([(0, IDR_W_RADL), (1, TRAIL_R)], (1, TRAIL_R, 0, 32), {}, "coded already"),
    ([(0, IDR_W_RADL)], (129, TRAIL_R, 0, 32), {}, "too far from POC 0"),
    (
        [(0, IDR_W_RADL), (100, TRAIL_R), (200, TRAIL_R)],
        (72, TRAIL_N, 0, 32),
        {"num_reorder_pics": 2, "max_dec_pic_buffering": 3},
        "too far from POC 200",
    ),
    ([(0, IDR_W_RADL), (3, TRAIL_R)], (2, CRA, 0, 32), {}, "an IRAP picture follows"),
    ([(0, IDR_W_RADL), (2, CRA)], (3, RADL_R, 0, 32), {}, "precedes its IRAP"),
    ([(0, IDR_W_RADL), (4, CRA)], (3, TRAIL_R, 0, 32), {}, "a trailing picture follows its IRAP"),
    (
        [(0, IDR_W_RADL), (2, CRA), (3, TRAIL_R)],
        (1, RADL_R, 0, 32),
        {},
        "a leading picture is coded before every trailing picture",
    ),
    ([(1, CRA)], (0, 8, 0, 32), {}, "the RASL pictures of a CRA that starts the stream"),
    ([(0, IDR_W_RADL)], (-1, 8, 0, 32), {}, "RASL pictures follow a CRA only"),
]


@pytest.mark.parametrize("done, bad, over, reason", REFUSED)
def test_pictures_that_cannot_follow_are_refused(frames, done, bad, over, reason):
    enc = encoder(**over)
    for poc, nal_type in done:
        enc.encode(*frames[0], poc=poc, nal_type=nal_type)
    poc, nal_type, tid, qp = bad
    with pytest.raises(ValueError, match=reason):
        enc.encode(*frames[0], poc=poc, nal_type=nal_type, temporal_id=tid, qp=qp)


def test_a_refused_picture_codes_nothing(frames):
    enc = encoder()
    stream = enc.encode(*frames[0])["bytes"] + enc.encode(*frames[2], poc=2)["bytes"]
    with pytest.raises(ValueError, match="num_reorder_pics is 0"):
        enc.encode(*frames[1], poc=1)
    stream += enc.encode(*frames[3])["bytes"]  # the default: one past the greatest POC
    dec = cnnfilter.decode(stream)
    assert [(f.poc, f.hash) for f in dec.frames] == [(0, "OK"), (2, "OK"), (3, "OK")]


def test_bad_arguments_and_settings(frames):
    with pytest.raises(ValueError, match="slice_type must be 'I', 'P' or 'B'"):
        encoder().encode(*frames[0], slice_type="X")
    with pytest.raises(ValueError, match="an IRAP picture is an I picture"):
        encoder().encode(*frames[0], slice_type="P")
    enc = encoder(max_dec_pic_buffering=2)
    enc.encode(*frames[0])
    with pytest.raises(ValueError, match="not in the DPB|not held|reference"):
        enc.encode(*frames[1], poc=1, slice_type="P", nal_type=TRAIL_R, refs=[-2])
    with pytest.raises(ValueError, match="nal_type must be in 0..63"):
        encoder().encode(*frames[0], nal_type=64)
    with pytest.raises(ValueError, match="num_reorder_pics must be in"):
        encoder(num_reorder_pics=2, max_dec_pic_buffering=2)
    with pytest.raises(ValueError, match="max_dec_pic_buffering must be in 1..16"):
        encoder(max_dec_pic_buffering=17)
    with pytest.raises(ValueError, match="max_temporal_layers must be in 1..7"):
        encoder(max_temporal_layers=8)
