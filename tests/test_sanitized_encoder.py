"""The encoder under AddressSanitizer and UBSan: every setting that reaches a different code path
runs clean, and ffmpeg decodes the stream to exactly the encoder's reconstruction.

The sanitizer build (-DCNNFILTER_SANITIZE=ON) aborts on the first memory error or undefined
behaviour; the picture size needs a conformance window, so the padded edges are exercised too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import SANITIZE, cmake_build, ffmpeg_decode, md5, sanitizer_report

from cnnfilter import yuv

W, H = 204, 116  # not a multiple of 8: padded to the minimum CU size

# (id, QP, encoder fields as hevc-encode takes them)
SETTINGS = [
    ("qp0", 0, []),
    ("qp51", 51, []),
    ("qp22", 22, []),
    ("deblock-offsets", 30, ["--beta_offset_div2=-6", "--tc_offset_div2=6"]),
    ("deblock-offsets-rev", 30, ["--beta_offset_div2=6", "--tc_offset_div2=-6"]),
    ("chroma-offsets", 30, ["--cb_qp_offset=-12", "--cr_qp_offset=12"]),
    ("chroma-offsets-low", 5, ["--cb_qp_offset=-12", "--cr_qp_offset=-12"]),
    ("no-loop-filters", 30, ["--sao=0", "--loop_filter_disable=1"]),
    ("no-rdoq-no-sdh", 30, ["--rdoq=0", "--sign_hide=0"]),
    ("tskip-every-candidate", 30, ["--transform_skip_final_only=0", "--rdoq_ts=0"]),
    ("wpp", 30, ["--wpp=1"]),
    (
        "slices-segments",
        30,
        ["--slice_mode=1", "--slice_argument=3", "--slice_segment_mode=1"]
        + ["--slice_segment_argument=2", "--lf_across_slices=0"],
    ),
    ("wpp-row-slices", 30, ["--wpp=1", "--slice_mode=1", "--slice_argument=4"]),
    ("pcm", 0, ["--pcm=1", "--pcm_log2_min=3", "--pcm_log2_max=5", "--pcm_filter_disable=1"]),
    ("ctu16", 30, ["--max_cu_size=16", "--max_partition_depth=2", "--tu_log2_max=4"]),
    ("hm-decisions", 30, ["--max_cu_log2_tried=6", "--rmd_fast=0", "--rmd_candidates_small=8"]),
    ("early-skips", 30, ["--skip_split_if_no_residual=1", "--skip_nxn_if_no_residual=1"]),
    ("no-shortcuts", 30, ["--exact_shortcuts=0", "--reuse_trials=0"]),
    (
        "prev-tree",
        30,
        ["--prev_tree_down=1", "--prev_tree_up=1", "--prev_tree_nxn=1", "--prev_tree_max_diff=20"],
    ),
]


@pytest.fixture(scope="module")
def asan_tools() -> tuple[Path, Path]:
    cmake_build("asan", SANITIZE, "hevc-encode")
    build = cmake_build("asan", SANITIZE, "hevc-decode")
    return build / "tools" / "hevc-encode", build / "tools" / "hevc-decode"


@pytest.fixture(scope="module")
def clip(shared_data, tmp_path_factory) -> Path:
    src = shared_data / "video" / "CiscoVT2people_320x192_12.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    out = tmp_path_factory.mktemp("asan") / "clip.yuv"
    with yuv.YuvWriter(out) as wr:
        for y, u, v in yuv.read_frames(src, 320, 192, count=2):
            wr.write(
                (
                    y[40 : 40 + H, 60 : 60 + W],
                    u[20 : 20 + H // 2, 30 : 30 + W // 2],
                    v[20 : 20 + H // 2, 30 : 30 + W // 2],
                )
            )
    return out


def _clean(r: subprocess.CompletedProcess) -> None:
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, err[-800:]
    assert not sanitizer_report(err), err[-800:]


@pytest.mark.parametrize("name,qp,fields", SETTINGS, ids=[s[0] for s in SETTINGS])
def test_encoder_under_sanitizers(name, qp, fields, asan_tools, clip, ffmpeg, tmp_path):
    enc, dec = asan_tools
    bs, rec = tmp_path / "s.bin", tmp_path / "rec.yuv"
    cmd = [str(enc), "-i", str(clip), "-wdt", str(W), "-hgt", str(H), "-f", "2", "-q", str(qp)]
    _clean(subprocess.run([*cmd, "-b", str(bs), "-o", str(rec), *fields], capture_output=True))
    assert rec.stat().st_size == 2 * W * H * 3 // 2
    assert md5(rec.read_bytes()) == md5(ffmpeg_decode(ffmpeg, bs))
    out = tmp_path / "dec.yuv"
    _clean(subprocess.run([str(dec), "-q", "-b", str(bs), "-o", str(out)], capture_output=True))
    assert out.read_bytes() == rec.read_bytes()


def test_forced_tree_under_sanitizers(asan_tools, clip, tmp_path):
    enc, _ = asan_tools
    cmd = [str(enc), "-i", str(clip), "-wdt", str(W), "-hgt", str(H), "-f", "2", "-q", "27"]
    a, b, tree = tmp_path / "a.bin", tmp_path / "b.bin", tmp_path / "t.tree"
    _clean(subprocess.run([*cmd, "-b", str(a), f"--cu-tree-out={tree}"], capture_output=True))
    _clean(subprocess.run([*cmd, "-b", str(b), f"--cu-tree-in={tree}"], capture_output=True))
    assert a.read_bytes() == b.read_bytes()
