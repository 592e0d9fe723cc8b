"""`cnnfilter dataset build --side`: with every reconstruction, the side-information planes the
encoder hands the in-loop CNN (qp_map, mode, boundary, bs), stored, loaded, and sampled in step with
their patches."""

from __future__ import annotations

import numpy as np
import pytest
from cli_errors_support import check_bad_input
from models_support import blocky_coder, write_images

from cnnfilter.dataset import (
    SIDE_PLANES,
    CodedFrame,
    PairDataset,
    PatchSampler,
    build_dataset,
    iter_val_pairs,
    iter_val_side,
)
from cnnfilter.errors import UserError

QPS = (27, 37)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The same synthetic pictures coded by our encoder with and without --side."""
    tmp = tmp_path_factory.mktemp("side")
    src = write_images(tmp / "src", n_train=2, n_val=1)
    for name, side in (("plain", False), ("side", True)):
        build_dataset(
            src, tmp / name, codec="ours", qps=QPS, progress=False, baseline=False, side=side
        )
    return {name: PairDataset(tmp / name) for name in ("plain", "side")}


def test_the_side_planes_are_in_the_manifest_and_change_no_picture(built):
    side, plain = built["side"], built["plain"]
    assert "side_planes" in side.manifest and "side_planes" not in plain.manifest
    for split in ("train", "val"):
        s, p = side.split(split), plain.split(split)
        assert sorted(s.side) == sorted(SIDE_PLANES) and not p.side
        assert sorted(s.side["boundary"]) == list(QPS)
        for i in range(len(s.frames)):
            for q in QPS:
                assert np.array_equal(s.pair(i, q)[0], p.pair(i, q)[0])
    # The pictures are the same, so the content digest is too.
    assert side.content_digest() == plain.content_digest()


def test_the_planes_say_what_the_all_intra_coding_was(built):
    data = built["side"].split("train")
    for i, f in enumerate(data.frames):
        for q in QPS:
            sp = data.side_planes(i, q, list(SIDE_PLANES))
            assert all(v.shape == (f.height, f.width) for v in sp.values())
            assert (sp["mode"] == 0).all()  # every block is intra
            assert (sp["qp_map"] == f.qp_info[str(q)]["slice_qp"]).all()  # no cu_qp_delta
            b = sp["boundary"]
            assert set(np.unique(b)) == {0, 1}
            # The first and last rows and columns of the picture are transform block edges;
            # the two middle samples of any 4-sample run inside a block are not.
            assert b[0].all() and b[-1].all() and b[:, 0].all() and b[:, -1].all()
            ys, xs = np.arange(f.height) % 4, np.arange(f.width) % 4
            inner = np.outer((ys == 1) | (ys == 2), (xs == 1) | (xs == 2))
            assert not b[inner].any()
            # No transform block crosses a CTU (64x64) boundary: both sides are edges.
            for e in range(64, f.height, 64):
                assert b[e - 1].all() and b[e].all()
            for e in range(64, f.width, 64):
                assert b[:, e - 1].all() and b[:, e].all()


def mirror_coder(frames, qp, fps, tmp, in_loop=False):
    """The blocky stand-in codec, with every side plane a copy of its reconstruction plus k: a
    side patch then shows exactly where and how its picture patch was cut."""
    out = []
    for c in blocky_coder(frames, qp, fps, tmp, in_loop):
        side = {n: (c.rec.astype(np.int32) + k) % 256 for k, n in enumerate(SIDE_PLANES)}
        out.append(
            CodedFrame(
                c.rec, c.slice_type, c.qp, side={n: v.astype(np.uint8) for n, v in side.items()}
            )
        )
    return out


def test_side_patches_are_cut_and_turned_with_their_pictures(tmp_path):
    src = write_images(tmp_path / "src")
    build_dataset(
        src, tmp_path / "ds", codec="custom", qps=(32, 37), coder=mirror_coder, progress=False,
        side=True,
    )  # fmt: skip
    data = PairDataset(tmp_path / "ds").split("train")
    names = ["boundary", "qp_map"]
    sampler = PatchSampler(data, [32, 37], 32, seed=3, side=names)
    rec, _, _ = sampler.sample(24)
    assert sampler.side_batch.shape == (24, 2, 32, 32)
    for j, n in enumerate(names):
        k = list(SIDE_PLANES).index(n)
        expect = ((rec.astype(np.int32) + k) % 256).astype(np.uint8)
        assert np.array_equal(sampler.side_batch[:, j], expect)
    # Sampling with side planes draws the same patches as without.
    again, _, _ = PatchSampler(data, [32, 37], 32, seed=3).sample(24)
    assert np.array_equal(again, rec)
    # Validation pictures: the side planes of iter_val_pairs' pictures, with its crop.
    val = PairDataset(tmp_path / "ds").split("val")
    pairs = list(iter_val_pairs(val, 37, crop=40))
    sides = list(iter_val_side(val, 37, ["mode"], crop=40))
    assert len(pairs) == len(sides) == 2
    k = list(SIDE_PLANES).index("mode")
    for (r, _, _), s in zip(pairs, sides, strict=True):
        assert np.array_equal(s["mode"], ((r.astype(np.int32) + k) % 256).astype(np.uint8))


def test_a_dataset_without_side_planes_says_how_to_get_them(built):
    data = built["plain"].split("train")
    with pytest.raises(UserError, match="dataset build --side"):
        data.side_planes(0, 37, ["boundary"])
    with pytest.raises(UserError, match="dataset build --side"):
        PatchSampler(data, [37], 32, seed=0, side=["boundary"])


def test_a_custom_coder_that_returns_no_side_planes_is_refused(tmp_path):
    src = write_images(tmp_path / "src", n_train=1, n_val=0)
    with pytest.raises(RuntimeError, match="no 'qp_map' side plane"):
        build_dataset(
            src, tmp_path / "ds", codec="custom", qps=(37,), coder=blocky_coder, progress=False,
            side=True,
        )  # fmt: skip


def test_side_planes_need_our_encoder(tmp_path, capsys):
    src = write_images(tmp_path / "src", n_train=1, n_val=0)
    argv = ["dataset", "build", "-o", str(tmp_path / "ds"), "--source", str(src)]
    check_bad_input(
        [*argv, "--codec", "x265", "--side"], 2, "--side needs --codec ours", capsys,
        watch=tmp_path,
    )  # fmt: skip
    assert not (tmp_path / "ds").exists()
