"""`cnnfilter dataset build`: real content coded by x265 (deblocking and SAO off) and decoded by
our decoder; the split, the storage format and the codec checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import link_shared

from cnnfilter.dataset import (
    PairDataset,
    build_dataset,
    image_to_i420,
    split_of,
)


@pytest.fixture(scope="module")
def small_source(shared_data, tmp_path_factory):
    """One training image, one validation image, one held-out image and one held-out clip,
    linked from ../shared/data."""
    pick = [
        "images/CSet5/bird.png",
        "images/CSet14/comic.png",
        "images/skimage/coffee.png",
        "video/CiscoVT2people_320x192_12.yuv",
    ]
    return link_shared(shared_data, tmp_path_factory.mktemp("src"), pick)


@pytest.fixture(scope="module")
def x265_dataset(small_source, x265, tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "x265"
    build_dataset(small_source, out, codec="x265", qps=(27, 37), progress=False)
    return out


def test_split_rule():
    assert split_of("CBSD68/3096.png") == "val"
    assert split_of("CSet14/zebra.png") == "val"
    assert split_of("BSDS500_minusBSD68/100007.jpg") == "train"
    assert split_of("CSet5/bird.png") == "train"
    # the CTC test content (built-in photographs, shared clips) is never trained or validated on
    assert split_of("skimage/astronaut.png") == "held-out"


def test_x265_dataset_manifest_and_pairs(x265_dataset):
    m = json.loads((x265_dataset / "dataset.json").read_text())
    assert m["codec"] == "x265" and m["qps"] == [27, 37] and m["configuration"] == "AI"
    assert "--no-deblock" in m["args"] and "--no-sao" in m["args"]
    ds = PairDataset(x265_dataset)
    train, val = ds.split("train"), ds.split("val")
    assert [f.source for f in val.frames] == ["images/CSet14/comic.png"]
    # neither the scikit-image photograph nor the clip (CTC test content) is in the dataset
    assert [f.source for f in train.frames] == ["images/CSet5/bird.png"]
    assert "held out" in m["split_rule"] and "video" in m["split_rule"]
    comic = val.frames[0]
    assert (comic.width, comic.height) == (248, 360)  # 250x361 cropped to multiples of 8
    for split in (train, val):
        for i, f in enumerate(split.frames):
            assert f.slice_type == "I"
            for q in (27, 37):
                assert f.qp_info[str(q)]["slice_qp"] == q
                rec, org = split.pair(i, q)
                assert rec.shape == org.shape == (f.height, f.width)
                p = 10 * np.log10(255**2 / np.mean((rec.astype(float) - org) ** 2))
                assert p == pytest.approx(f.qp_info[str(q)]["psnr"], abs=1e-3)
            assert f.qp_info["27"]["psnr"] > f.qp_info["37"]["psnr"] + 2


def test_validation_pictures_also_coded_with_deblocking_and_sao(x265_dataset):
    m = json.loads((x265_dataset / "dataset.json").read_text())
    assert set(m["splits"]["val"]["rec_lf"]) == {"27", "37"}
    assert "rec_lf" not in m["splits"]["train"]  # only validation needs the baseline
    val = PairDataset(x265_dataset).split("val")
    for q in (27, 37):
        rec, org = val.pair(0, q)
        lf = np.asarray(val.rec_lf[q]).reshape(rec.shape)
        assert not np.array_equal(lf, rec)  # the filters changed samples
        info = val.frames[0].qp_info[str(q)]
        p = 10 * np.log10(255**2 / np.mean((lf.astype(float) - org) ** 2))
        assert p == pytest.approx(info["psnr_lf"], abs=1e-3)
        assert abs(info["psnr_lf"] - info["psnr"]) < 1.5


def test_original_luma_matches_the_source_image(x265_dataset, small_source):
    ds = PairDataset(x265_dataset)
    y, _, _ = image_to_i420(small_source / "images/CSet14/comic.png")
    _, org = ds.split("val").pair(0, 37)
    assert np.array_equal(org, y)


def test_reconstruction_is_what_x265_decodes_to(x265_dataset, small_source, x265, ffmpeg, tmp_path):
    """Cross-check one reconstruction against ffmpeg's decode of the same x265 command."""
    import subprocess

    from cnnfilter.dataset import X265_ARGS

    y, u, v = image_to_i420(small_source / "images/CSet14/comic.png")
    src = tmp_path / "c.yuv"
    src.write_bytes(y.tobytes() + u.tobytes() + v.tobytes())
    bs = tmp_path / "c.hevc"
    subprocess.run(
        [
            x265,
            "--input",
            str(src),
            "--input-res",
            "248x360",
            "--fps",
            "25",
            "--frames",
            "1",
            "--qp",
            "37",
            *X265_ARGS,
            "-o",
            str(bs),
        ],
        check=True,
        capture_output=True,
    )
    dec = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(bs), "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
        check=True,
        capture_output=True,
    ).stdout
    ref = np.frombuffer(dec, np.uint8)[: 248 * 360].reshape(360, 248)
    rec, _ = PairDataset(x265_dataset).split("val").pair(0, 37)
    assert np.array_equal(rec, ref)


def test_build_refuses_to_overwrite(x265_dataset, small_source):
    with pytest.raises(ValueError, match="already holds a dataset"):
        build_dataset(small_source, x265_dataset, codec="x265", progress=False)


def test_codec_ours_builds_the_same_layout(small_source, tmp_path):
    out = tmp_path / "ours"
    # a folder of the user's under the name the builder once used for its scratch: untouched
    (out / ".building").mkdir(parents=True)
    (out / ".building" / "mine.txt").write_text("the user's")
    build_dataset(small_source, out, codec="ours", qps=(37,), progress=False)
    assert (out / ".building" / "mine.txt").read_text() == "the user's"
    assert not [p for p in out.iterdir() if p.name.startswith(".building.")]
    m = json.loads((out / "dataset.json").read_text())
    assert m["codec"] == "ours" and m["overrides"]["LoopFilterDisable"] == 1
    val = PairDataset(out).split("val")
    info = val.frames[0].qp_info["37"]
    assert info["slice_qp"] == 37
    # the encoder's reconstruction equalled the decoded picture (checked by the builder), and
    # its deblocking + SAO help at QP 37
    assert info["psnr_lf"] > info["psnr"]


def test_grey_images_get_neutral_chroma(tmp_path):
    from PIL import Image

    a = (np.arange(16 * 24) % 256).astype(np.uint8).reshape(16, 24)
    Image.fromarray(a, "L").save(tmp_path / "g.png")
    y, u, v = image_to_i420(tmp_path / "g.png")
    assert y.shape == (16, 24) and u.shape == v.shape == (8, 12)
    assert (u == 128).all() and (v == 128).all()
    assert y.min() == 16 and y.max() == 235  # limited range


@pytest.mark.parametrize("config,inter", [("LDP", "P"), ("RA", "B")])
def test_inter_dataset_codes_moving_sequences(small_source, tmp_path, config, inter):
    # Each image becomes a 9-frame moving sequence coded with the configuration, loop filters
    # off: the pairs include P or B pictures, at their own slice QPs, and the validation
    # sequences are coded again with deblocking + SAO on.
    from cnnfilter.moving import moving_frames

    out = tmp_path / config
    build_dataset(small_source, out, codec="ours", qps=(37,), progress=False, config=config)
    m = json.loads((out / "dataset.json").read_text())
    assert m["configuration"] == config and m["slice_types"] == ["I", inter]
    assert "moving sequence" in m["motion"]
    ds = PairDataset(out)
    for split in ("train", "val"):
        frames = ds.split(split).frames
        assert len(frames) == 9 and (frames[0].width, frames[0].height) <= (256, 192)
        assert [f.slice_type for f in frames] == ["I"] + [inter] * 8
        assert min(f.qp_info["37"]["slice_qp"] for f in frames[1:]) > 37  # the GOP's QP offsets
    val = ds.split("val")
    item = m["splits"]["val"]["frames"][0]
    src = small_source / item["source"]
    first, last = moving_frames(src, item["source"], item["width"], item["height"])[::8]
    assert np.array_equal(val.pair(0, 37)[1], first[0])
    assert np.array_equal(val.pair(8, 37)[1], last[0]) and not np.array_equal(first[0], last[0])
    lf = [f.qp_info["37"]["psnr_lf"] for f in val.frames]
    assert all(np.isfinite(lf))


def test_inter_dataset_refuses_x265(small_source, tmp_path):
    with pytest.raises(ValueError, match="needs --codec ours"):
        build_dataset(small_source, tmp_path / "x", codec="x265", config="RA", progress=False)


def test_training_on_an_inter_dataset_uses_p_frames_at_their_slice_qp(small_source, tmp_path):
    pytest.importorskip("torch", reason="training needs the 'train' extra (torch)")
    from cnnfilter.dataset import PatchSampler
    from cnnfilter.train import TrainConfig, train

    ds = tmp_path / "ldp"
    build_dataset(small_source, ds, codec="ours", qps=(32, 37), progress=False, config="LDP")
    data = PairDataset(ds)
    sampler = PatchSampler(data.split("train"), [32, 37], 32, seed=0, slice_types=["P"])
    rec, org, qp = sampler.sample(16)
    assert all(data.split("train").frames[i].slice_type == "P" for i in sampler.idx)
    assert (qp > sampler.nominal).all() and set(sampler.nominal) <= {32, 37}
    cfg = TrainConfig(arch="ours", data=str(ds), out=str(tmp_path / "run"), qps=[32, 37],
                      steps=2, patch=32, batch=4, ckpt_every=0, slice_types=["P"])  # fmt: skip
    res = train(cfg, progress=False)
    assert res.validation["frames"] == 8  # the validation sequence's P pictures
    with pytest.raises(ValueError, match="the dataset's training frames are I,P"):
        train(TrainConfig(arch="ours", data=str(ds), out=str(tmp_path / "b"), qps=[37], steps=1,
                          slice_types=["B"]), progress=False)  # fmt: skip


def test_source_commit_names_only_the_package_own_checkout(tmp_path):
    # An installed copy inside another checkout (pyenv's site-packages, say) must not record
    # that checkout's commit as the encoder's.
    import subprocess

    from cnnfilter.dataset import source_commit

    def git(*a):
        return subprocess.run(
            ["git", "-C", str(tmp_path), *a], check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q")
    (tmp_path / "f").write_text("x")
    git("add", "f")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "m")
    inner = tmp_path / "lib" / "site-packages"
    inner.mkdir(parents=True)
    assert source_commit(tmp_path) == git("rev-parse", "HEAD")
    assert source_commit(inner) == ""
    (tmp_path / "f").write_text("y")
    assert source_commit(tmp_path).endswith("+dirty")
