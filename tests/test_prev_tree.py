"""CU sizes guided by the previous picture's coding tree (the PrevTree* keys, docs/encoder.md).

The search tries only CU sizes near those the previous picture chose over the same area. These
tests check the rule on the trees the encoder returns, that a refreshed picture and an area whose
source changed too much get the full search, and that the streams decode as reconstructed.
"""

from __future__ import annotations

import subprocess
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, ffmpeg_decode, md5
from test_portable_build import build_encoder, textured_clip

import cnnfilter
from cnnfilter.config import ConfigError

W, H = 200, 120  # 25 x 15 units of 8x8
CFG = ROOT / "cfg" / "encoder_intra_main.cfg"
FRAMES = 4


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("prevtree") / "clip.yuv"
    textured_clip(path, W, H, frames=FRAMES)
    return path


def run(clip: Path, out: Path, keys: dict, recon: Path | None = None, frames: int = FRAMES):
    return cnnfilter.encode(
        clip, out, recon, cfg=CFG, width=W, height=H, frames=frames, qp=27, overrides=keys
    )


@pytest.fixture(scope="module")
def full(clip, tmp_path_factory):
    return run(clip, tmp_path_factory.mktemp("full") / "a.hevc", {})


def cus(tree: np.ndarray):
    """(x8, y8, log2) of each CU, from the per-8x8-unit tree."""
    out = []
    for y8, x8 in np.ndindex(tree.shape):
        log2 = int(tree[y8, x8]) & 15
        n = 1 << (log2 - 3)
        if x8 % n == 0 and y8 % n == 0:
            out.append((x8, y8, log2))
    return out


def area(tree: np.ndarray, x8: int, y8: int, log2: int) -> np.ndarray | None:
    """The previous tree's sizes over an aligned square, None if it leaves the picture."""
    n = 1 << (log2 - 3)
    x8, y8 = x8 // n * n, y8 // n * n
    if x8 + n > tree.shape[1] or y8 + n > tree.shape[0]:
        return None
    return tree[y8 : y8 + n, x8 : x8 + n] & 15


@pytest.mark.parametrize("up,down", [(1, 0), (0, 1), (1, 1)])
def test_sizes_stay_near_the_previous_pictures(clip, full, tmp_path, ffmpeg, up, down):
    res = run(
        clip, tmp_path / "h.hevc", {"PrevTreeUp": up, "PrevTreeDown": down}, tmp_path / "h.yuv"
    )
    assert np.array_equal(res.cu_trees[0], full.cu_trees[0]), "the first picture is searched"
    for prev, cur in pairwise(res.cu_trees):
        for x8, y8, log2 in cus(cur):
            # A CU that could have been split was tried whole: at most `up` above the largest.
            mine = area(prev, x8, y8, log2)
            if log2 > 3 and mine is not None:
                assert log2 <= mine.max() + up, (x8, y8, log2)
            # Its parent (32x32 at most: 64x64 CUs are never tried whole) was split: the
            # previous picture had a CU of at most log2 + down there.
            parent = area(prev, x8, y8, log2 + 1) if log2 < 5 else None
            if parent is not None:
                assert parent.min() <= log2 + down, (x8, y8, log2)
    assert any(
        not np.array_equal(a, b) for a, b in zip(res.cu_trees, full.cu_trees, strict=True)
    ), "the guide changed nothing: the test shows nothing"
    assert res.kbps != full.kbps
    assert md5(ffmpeg_decode(ffmpeg, tmp_path / "h.hevc")) == md5((tmp_path / "h.yuv").read_bytes())


def test_nxn_counts_as_a_level_below_8x8(clip, full, tmp_path):
    # With PrevTreeNxN and PrevTreeDown=0, an 8x8 CU is split into four PUs only where the
    # previous picture did so.
    assert any((t >> 4).any() for t in full.cu_trees[1:]), "no NxN to restrict"
    res = run(clip, tmp_path / "n.hevc", {"PrevTreeDown": 0, "PrevTreeNxN": 1})
    for prev, cur in pairwise(res.cu_trees):
        assert ((prev >> 4) > 0)[(cur >> 4) > 0].all()
    assert any((t >> 4).any() for t in res.cu_trees[1:]), "NxN where it was before is still tried"
    assert any(not np.array_equal(a, b) for a, b in zip(res.cu_trees, full.cu_trees, strict=True))


def test_a_refreshed_picture_gets_the_full_search(clip, full, tmp_path):
    res = run(clip, tmp_path / "r.hevc", {"PrevTreeDown": 0, "PrevTreeRefresh": 2})
    assert np.array_equal(res.cu_trees[2], full.cu_trees[2])
    assert not np.array_equal(res.cu_trees[1], full.cu_trees[1])


def test_a_changed_area_gets_the_full_search(clip, full, tmp_path):
    # The clip's pictures differ everywhere (moving pattern, noise): no area is unchanged.
    keys = {"PrevTreeUp": 0, "PrevTreeDown": 0}
    gated = run(clip, tmp_path / "g.hevc", {**keys, "PrevTreeMaxDiff": 0})
    assert (tmp_path / "g.hevc").read_bytes() == Path(full.bitstream).read_bytes()
    open_ = run(clip, tmp_path / "o.hevc", {**keys, "PrevTreeMaxDiff": 255})
    assert open_.kbps != gated.kbps


def test_an_unchanged_picture_keeps_its_tree(tmp_path):
    # Two identical pictures: the guided search still contains the full search's choice.
    path = tmp_path / "still.yuv"
    textured_clip(path, W, H, frames=1)
    path.write_bytes(path.read_bytes() * 2)

    def still(name: str, keys: dict):
        res = run(path, tmp_path / name, keys, frames=2)
        return res, (tmp_path / name).read_bytes()

    res, guided = still("s.hevc", {"PrevTreeUp": 0, "PrevTreeDown": 0, "PrevTreeMaxDiff": 0})
    assert np.array_equal(res.cu_trees[0], res.cu_trees[1])
    assert guided == still("f.hevc", {})[1]


def two_pictures(tmp_path: Path, first: str, keys: dict) -> list[np.ndarray]:
    """Trees of a flat and a textured picture in the order given, 32x32 areas inside only."""
    tex = tmp_path / "tex.yuv"
    textured_clip(tex, W, H, frames=1)
    pics = {"textured": tex.read_bytes(), "flat": bytes([128]) * tex.stat().st_size}
    path = tmp_path / "two.yuv"
    second = "flat" if first == "textured" else "textured"
    path.write_bytes(pics[first] + pics[second])
    res = run(path, tmp_path / "t.hevc", keys, frames=2)
    return [t[: H // 32 * 4, : W // 32 * 4] & 15 for t in res.cu_trees]


def test_a_flat_picture_after_a_textured_one_keeps_the_largest_sizes_allowed(tmp_path):
    # A flat picture is coded best with the largest CUs it is allowed: PrevTreeUp=0 allows none
    # larger than the previous picture's, so it copies that tree.
    full = two_pictures(tmp_path, "textured", {})
    assert set(np.unique(full[0])) == {3, 4, 5} and set(np.unique(full[1])) == {5}
    guided = two_pictures(tmp_path, "textured", {"PrevTreeUp": 0})
    assert np.array_equal(guided[1], guided[0])


def test_a_textured_picture_after_a_flat_one_splits_one_level(tmp_path):
    # After 32x32 CUs everywhere, PrevTreeDown=1 allows 16x16 but no 8x8 CUs.
    full = two_pictures(tmp_path, "flat", {})
    assert set(np.unique(full[0])) == {5} and 3 in full[1]
    guided = two_pictures(tmp_path, "flat", {"PrevTreeDown": 1})
    assert guided[1].min() == 4
    # A change of scene (mean absolute change above PrevTreeMaxDiff) gets the full search.
    cut = two_pictures(tmp_path, "flat", {"PrevTreeDown": 1, "PrevTreeMaxDiff": 10})
    assert np.array_equal(cut[1], full[1])


@pytest.mark.parametrize("key,value", [("PrevTreeDown", 4), ("PrevTreeUp", -2)])
def test_out_of_range_is_an_error(clip, tmp_path, key, value):
    with pytest.raises(ConfigError, match=key):
        run(clip, tmp_path / "e.hevc", {key: value})
    assert not (tmp_path / "e.hevc").exists()


@pytest.mark.parametrize(
    "field,expect",
    [
        ("--prev_tree_up=-2", "PrevTreeUp/PrevTreeDown must be in -1..3"),
        ("--prev_tree_max_diff=256", "PrevTreeMaxDiff must be in -1..255"),
        ("--prev_tree_refresh=-1", "PrevTreeRefresh must be 0 or more"),
        ("--rmd_candidates_4x4=0", "the number of RD mode candidates must be in 1..35"),
        ("--rmd_candidates_4x4=36", "the number of RD mode candidates must be in 1..35"),
    ],
)
def test_the_tool_refuses_out_of_range_values(clip, tmp_path, field, expect):
    cmd = [
        str(build_encoder("native", True)),
        "-i",
        str(clip),
        "-wdt",
        str(W),
        "-hgt",
        str(H),
        "-f",
        "2",
        "-b",
        "s.bin",
    ]
    r = subprocess.run([*cmd, field], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr == f"error: {expect}\n", r.stderr
    assert not (tmp_path / "s.bin").exists()
