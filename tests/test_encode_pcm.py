"""PCM from our encoder (HM's PCMEnabledFlag, PCMLog2MinSize/MaxSize, PCMFilterDisableFlag):
chosen by rate-distortion where coding the residual costs more than raw samples, decoded by
ffmpeg and our decoder to the encoder's reconstruction. They are also the decoder's only PCM
streams (no peer here writes PCM)."""

from __future__ import annotations

import numpy as np
import pytest
from cli_errors_support import check_bad_input
from conftest import ROOT, ffmpeg_decode, planes_bytes

import cnnfilter

W, H, N = 128, 64, 3


@pytest.fixture(scope="module")
def noise(tmp_path_factory):
    """Binary luma noise on the left half, flat grey on the right, random chroma: residual
    coding of the noise costs more than 8 bits a sample, so PCM should win there."""
    rng = np.random.default_rng(1)
    path = tmp_path_factory.mktemp("pcm") / "noise.yuv"
    with open(path, "wb") as f:
        for _ in range(N):
            y = np.full((H, W), 128, np.uint8)
            y[:, : W // 2] = rng.integers(0, 2, (H, W // 2), dtype=np.uint8) * 255
            f.write(y.tobytes())
            f.write(rng.integers(0, 256, W * H // 2, dtype=np.uint8).tobytes())
    return path


def _luma(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, np.uint8).reshape(N, -1)[:, : W * H].reshape(N, H, W)


@pytest.mark.parametrize("cfg", ["encoder_intra_main.cfg", "encoder_lowdelay_P_main.cfg"])
@pytest.mark.parametrize("qp,filter_off", [(4, False), (10, True)])
def test_pcm_codes_the_noise_losslessly(cfg, qp, filter_off, noise, ffmpeg, tmp_path):
    sizes = {}
    for pcm in (False, True):
        out, rec = tmp_path / f"{pcm}.hevc", tmp_path / f"{pcm}.yuv"
        ov = {"PCMEnabledFlag": pcm, "PCMLog2MinSize": 3, "PCMLog2MaxSize": 5}
        ov["PCMFilterDisableFlag"] = filter_off
        cnnfilter.encode(
            noise,
            out,
            rec,
            cfg=str(ROOT / "cfg" / cfg),
            width=W,
            height=H,
            frames=N,
            qp=qp,
            overrides=ov,
        )
        sizes[pcm] = out.stat().st_size
        ref = ffmpeg_decode(ffmpeg, out)
        res = cnnfilter.decode(out)
        ours = b"".join(planes_bytes((q.y, q.u, q.v)) for q in res.pictures)
        assert res.hash_ok and ours == ref == rec.read_bytes()
        src = _luma(noise.read_bytes())[:, :, : W // 2]
        got = _luma(ours)[:, :, : W // 2]
        if pcm:
            assert np.array_equal(got, src)  # every noise CU went PCM: lossless
        else:
            assert not np.array_equal(got, src)
    assert sizes[True] < sizes[False]


BAD = [
    (["--PCMEnabledFlag=1", "--PCMLog2MinSize=5", "--PCMLog2MaxSize=4"], "PCMLog2MinSize"),
    (
        ["--PCMEnabledFlag=1", "--MaxCUWidth=16", "--MaxCUHeight=16", "--MaxPartitionDepth=2"]
        + ["--QuadtreeTULog2MaxSize=4"],
        "PCMLog2MinSize",
    ),
    (["--PCMEnabledFlag=1", "--PCMLog2MaxSize=6"], "out of range"),
]


@pytest.mark.parametrize("args,fragment", BAD, ids=range(len(BAD)))
def test_bad_pcm_settings(args, fragment, noise, capsys, tmp_path):
    argv = ["encode", "-c", str(ROOT / "cfg" / "encoder_intra_main.cfg"), "-i", str(noise)]
    argv += ["-wdt", str(W), "-hgt", str(H), "-f", "1", "-o", str(tmp_path / "x.hevc"), *args]
    check_bad_input(argv, 2, fragment, capsys, tmp_path)
