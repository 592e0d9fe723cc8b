"""`cnnfilter dataset build --cfg LDP|RA --references filtered`: the moving sequences coded with
deblocking and SAO on, as in the loop, storing each frame's reconstruction before deblocking
(what the in-loop CNN receives), against today's build with the loop filters off."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from cli_errors_support import check_bad_input
from conftest import link_shared

from cnnfilter.dataset import PairDataset, PreFilterRecorder, build_dataset

QP = 37


@pytest.fixture(scope="module")
def source(shared_data, tmp_path_factory):
    """One training and one validation image, linked from ../shared/data."""
    pick = ["images/CSet5/bird.png", "images/CSet14/comic.png"]
    return link_shared(shared_data, tmp_path_factory.mktemp("src"), pick)


@pytest.fixture(scope="module")
def builds(source, tmp_path_factory):
    """The RA dataset with unfiltered (today's) and with filtered references."""
    out = tmp_path_factory.mktemp("ds")
    for refs in ("unfiltered", "filtered"):
        build_dataset(
            source, out / refs, codec="ours", qps=(QP,), progress=False, config="RA",
            references=refs,
        )  # fmt: skip
    return {refs: PairDataset(out / refs) for refs in ("unfiltered", "filtered")}


def test_filtered_references_are_recorded_in_the_manifest_and_the_card_summary(builds):
    m = builds["filtered"].manifest
    assert m["references"] == "filtered"
    assert m["overrides"] == {"SAO": 1, "LoopFilterDisable": 0}  # IntraPeriod: the RA cfg's
    assert builds["unfiltered"].manifest["references"] == "unfiltered"
    assert builds["unfiltered"].manifest["overrides"]["LoopFilterDisable"] == 1
    settings = builds["filtered"].summary()["codec_settings"]  # what a trained model's card keeps
    assert settings["references"] == "filtered"
    assert builds["filtered"].content_digest() != builds["unfiltered"].content_digest()


def test_the_intra_picture_is_the_same_the_b_pictures_are_not(builds):
    # The I picture has no reference and the encoder decides on the picture before the loop
    # filters, so with them on its reconstruction before deblocking is the loop-filters-off
    # reconstruction. The B pictures predict from deblocked + SAO references: they differ.
    for split in ("train", "val"):
        off, on = builds["unfiltered"].split(split), builds["filtered"].split(split)
        assert [f.slice_type for f in on.frames] == ["I"] + ["B"] * 8
        assert [f.qp_info[str(QP)]["slice_qp"] for f in on.frames] == [
            f.qp_info[str(QP)]["slice_qp"] for f in off.frames
        ]
        assert np.array_equal(on.pair(0, QP)[0], off.pair(0, QP)[0])
        assert np.array_equal(on.pair(0, QP)[1], off.pair(0, QP)[1])  # same originals
        for i in range(1, 9):
            assert not np.array_equal(on.pair(i, QP)[0], off.pair(i, QP)[0]), f"frame {i}"
            assert np.array_equal(on.pair(i, QP)[1], off.pair(i, QP)[1])


def test_the_baseline_is_the_same_encode_after_deblocking_and_sao(builds):
    # The unfiltered build codes its validation sequence a second time with the filters on;
    # the filtered build keeps that picture from its one encode (CNN called, every flag off):
    # the two are the same pictures, so the recorder left the anchor's coding unchanged.
    off, on = builds["unfiltered"].split("val"), builds["filtered"].split("val")
    assert "baseline" in builds["filtered"].manifest
    assert np.array_equal(on.rec_lf[QP], off.rec_lf[QP])
    assert [f.qp_info[str(QP)]["psnr_lf"] for f in on.frames] == [
        f.qp_info[str(QP)]["psnr_lf"] for f in off.frames
    ]
    # before deblocking is not after it
    assert not np.array_equal(on.rec[QP], on.rec_lf[QP])


def test_the_recorder_keeps_one_picture_per_coded_frame_keyed_by_poc(source, tmp_path):
    from PIL import Image

    from cnnfilter.ctc.settings import cfg_file
    from cnnfilter.dataset import _write_i420
    from cnnfilter.encoding import encode
    from cnnfilter.moving import moving_frames, window
    from cnnfilter.yuv import read_frames

    img = source / "images/CSet5/bird.png"
    with Image.open(img) as im:
        w, h = window(*im.size)
    frames = moving_frames(img, "images/CSet5/bird.png", w, h)
    _write_i420(tmp_path / "in.yuv", frames)
    rec = PreFilterRecorder()
    res = encode(
        str(tmp_path / "in.yuv"), str(tmp_path / "s.hevc"), str(tmp_path / "r.yuv"),
        width=w, height=h, fps=25, frames=9, qp=QP, cfg=str(cfg_file("RA")),
        overrides={"SAO": 1, "LoopFilterDisable": 0}, cnn=rec, cnn_mode="off",
    )  # fmt: skip
    assert len(rec.calls) == len(res.frames) == 9
    assert all(f.cnn_ctus == 0 and f.cnn_mode == "off" for f in res.frames)
    pre = rec.by_poc(res.frames)
    assert sorted(pre) == list(range(9))
    assert [f.poc for f in res.frames] != list(range(9))  # RA codes out of order
    out = [y for y, _, _ in read_frames(tmp_path / "r.yuv", w, h)]
    assert all(pre[p].shape == out[p].shape for p in pre)
    # deblocking + SAO changed the I picture and B pictures (not all: at QP 37 a B picture of
    # skipped blocks may have no edge to filter and no SAO)
    changed = [p for p in pre if not np.array_equal(pre[p], out[p])]
    assert 0 in changed and len(changed) > 1
    # a call that does not match the coded pictures is refused
    with pytest.raises(RuntimeError, match="called the CNN 9 times for 8"):
        rec.by_poc(res.frames[:8])
    bad = [SimpleNamespace(poc=f.poc, qp=f.qp + 1, slice_type=f.slice_type) for f in res.frames]
    with pytest.raises(RuntimeError, match="does not match"):
        rec.by_poc(bad)


@pytest.mark.parametrize("cfg", [[], ["--cfg", "AI"]], ids=["default", "AI"])
def test_filtered_references_in_all_intra_is_an_error(cfg, source, tmp_path, capsys):
    argv = ["dataset", "build", "-o", str(tmp_path / "ds"), "--source", str(source)]
    check_bad_input(
        [*argv, *cfg, "--references", "filtered"], 2, "--references filtered changes nothing",
        capsys, watch=tmp_path,
    )  # fmt: skip
    assert not (tmp_path / "ds").exists()


def test_filtered_references_need_the_built_in_coder(source, tmp_path):
    with pytest.raises(ValueError, match="needs the built-in coder"):
        build_dataset(
            source, tmp_path / "x", codec="custom", coder=lambda *a, **k: [], config="RA",
            references="filtered", progress=False,
        )  # fmt: skip
