"""Forced coding trees (hevc/encoder/cu_tree.h, `hevc-encode --cu-tree-in/--cu-tree-out`).

The tree the full search chose, forced on a second encode, gives back the same bitstream: the
forced encode is what a perfect CU-size predictor would leave to do. Any other valid tree is
coded as given and decodes as the encoder reconstructed it; an invalid one is refused.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, ffmpeg_decode, md5
from test_portable_build import build_encoder, textured_clip

import cnnfilter

W, H = 200, 120  # 25 x 15 units of 8x8; 200 is no multiple of 16 or 32


@pytest.fixture(scope="module")
def encoder() -> Path:
    return build_encoder("native", True)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cutree") / "clip.yuv"
    textured_clip(path, W, H, frames=2)
    return path


def encode(encoder, clip, tmp, *args, qp=32):
    cmd = [str(encoder), "-i", str(clip), "-wdt", str(W), "-hgt", str(H), "-f", "2", "-q", str(qp)]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=tmp)


@pytest.mark.parametrize(
    "fields",
    [[], ["--max_cu_log2_tried=6", "--rmd_fast=0"], ["--skip_nxn_if_no_residual=1"], ["--wpp=1"]],
    ids=["default", "hm-decisions", "early-skip", "wpp"],
)
@pytest.mark.parametrize("qp", [22, 37])
def test_forcing_the_searched_tree_gives_back_the_stream(encoder, clip, tmp_path, fields, qp):
    full = encode(encoder, clip, tmp_path, "-b", "a.bin", "--cu-tree-out=a.tree", *fields, qp=qp)
    assert full.returncode == 0, full.stderr
    tree = (tmp_path / "a.tree").read_bytes()
    assert len(tree) == 2 * 25 * 15
    units = np.frombuffer(tree, np.uint8)
    assert len(set(units & 15)) > 1, "a clip coded with one CU size tests little"
    forced = encode(
        encoder,
        clip,
        tmp_path,
        "-b",
        "b.bin",
        "--cu-tree-in=a.tree",
        "--cu-tree-out=b.tree",
        *fields,
        qp=qp,
    )
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "b.bin").read_bytes() == (tmp_path / "a.bin").read_bytes()
    assert (tmp_path / "b.tree").read_bytes() == tree


@pytest.mark.parametrize(
    "unit,name", [(3, "8x8 2Nx2N"), (3 | 3 << 4, "8x8 NxN")], ids=["8x8", "nxn"]
)
def test_any_valid_tree_is_coded_as_given(encoder, clip, ffmpeg, tmp_path, unit, name):
    # 16x16 CUs where they fit (192 x 112), 8x8 units as `unit` says on the right and bottom.
    rows = [[4] * 24 + [unit]] * 14 + [[unit] * 25]
    (tmp_path / "t.tree").write_bytes(bytes(sum(rows, [])) * 2)
    r = encode(
        encoder,
        clip,
        tmp_path,
        "-b",
        "s.bin",
        "-o",
        "rec.yuv",
        "--cu-tree-in=t.tree",
        "--cu-tree-out=out.tree",
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out.tree").read_bytes() == (tmp_path / "t.tree").read_bytes(), name
    rec = (tmp_path / "rec.yuv").read_bytes()
    assert md5(rec) == md5(ffmpeg_decode(ffmpeg, tmp_path / "s.bin"))


def test_invalid_trees_are_refused(encoder, clip, tmp_path):
    def refused(units: list[int], expect: str) -> None:
        (tmp_path / "t.tree").write_bytes(bytes(units))
        r = encode(encoder, clip, tmp_path, "-b", "s.bin", "--cu-tree-in=t.tree")
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert r.stderr.startswith("error: ") and expect in r.stderr, r.stderr

    r = encode(encoder, clip, tmp_path, "-b", "s.bin", "--cu-tree-in=missing.tree")
    assert r.returncode == 2 and r.stderr == "error: cannot open missing.tree\n", r.stderr
    eights = [3] * (25 * 15)
    refused(eights[:-1], "has no CU tree for picture 0")
    refused([5] * (25 * 15), "crosses the picture's edge")  # 32x32 CUs on 200 columns
    refused([4 | 3 << 4] * (25 * 15), "PartMode 3 not allowed")  # NxN is for 8x8 CUs only
    refused([7] + eights[1:], "outside the SPS's range")  # 128x128
    refused([4] + eights[1:], "units of one CU disagree")


def test_python_api_round_trip_and_errors(clip, tmp_path):
    cfg = ROOT / "cfg" / "encoder_intra_main.cfg"

    def run(name, trees=None):
        return cnnfilter.encode(
            clip, tmp_path / name, cfg=cfg, width=W, height=H, qp=27, cu_trees=trees
        )

    a = run("a.hevc")
    assert len(a.cu_trees) == 2 and a.cu_trees[0].shape == (15, 25)
    b = run("b.hevc", a.cu_trees)
    assert b.bitstream.read_bytes() == a.bitstream.read_bytes()
    assert all(np.array_equal(x, y) for x, y in zip(a.cu_trees, b.cu_trees, strict=True))
    with pytest.raises(cnnfilter.ConfigError, match="1 CU trees given for 2 frames"):
        run("c.hevc", a.cu_trees[:1])
    nxn16 = np.full((15, 25), 4 | 3 << 4, np.uint8)
    with pytest.raises(cnnfilter.ConfigError, match="frame 0: .*PartMode 3 not allowed"):
        run("c.hevc", [nxn16, nxn16])
    with pytest.raises(cnnfilter.ConfigError, match="frame 0: a CU tree holds bytes"):
        run("c.hevc", [x.astype(np.int32) + 256 for x in a.cu_trees])
    assert not (tmp_path / "c.hevc").exists() and not (tmp_path / "c.hevc.part").exists()
