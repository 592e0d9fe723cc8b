"""The decoder runs the CNN only around the CTUs that take its output (docs/models.md,
"Inference units"): the regions must cover every flagged CTU, give those CTUs the whole
picture's samples bit for bit, and the decoded stream must not change."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import ROOT, md5
from test_encoder import crop_clip

import cnnfilter
from cnnfilter.inference import InferenceSettings, OnnxFilter, UnitNeed
from cnnfilter.modelset import load_model_set, make_model_set
from cnnfilter.units import WHOLE_PICTURE_SHARE, plan_regions

RA = ROOT / "cfg" / "encoder_randomaccess_main.cfg"


def _covered(regions, h, w):
    m = np.zeros((h, w), bool)
    for r in regions:
        m[r.y0 : r.y1, r.x0 : r.x1] = True
    return m


@pytest.mark.parametrize("seed", range(6))
def test_regions_cover_every_flagged_ctu(seed):
    rng = np.random.default_rng(seed)
    h, w, ctu = 1080, 1920, 64
    flags = rng.random((17, 30)) < [0.02, 0.05, 0.1, 0.2, 0.3, 0.5][seed]
    regions = plan_regions(flags, ctu, h, w, 29, 2)
    if regions is None:  # only when the cover would read most of the picture
        assert flags.mean() > 0.2
        return
    cov = _covered(regions, h, w)
    for r, c in zip(*np.nonzero(flags), strict=True):
        assert cov[r * ctu : min(h, (r + 1) * ctu), c * ctu : min(w, (c + 1) * ctu)].all()
    read = sum(reg.cost(29, 2, h, w) for reg in regions)
    assert read < WHOLE_PICTURE_SHARE * h * w


def test_regions_whole_picture_when_cheaper_or_nothing_flagged():
    assert plan_regions(np.ones((4, 7), bool), 64, 240, 416, 29, 2) is None
    assert plan_regions(np.zeros((4, 7), bool), 64, 240, 416, 29, 2) is None
    one = np.zeros((17, 30), bool)
    one[8, 12] = True
    (r,) = plan_regions(one, 64, 1080, 1920, 29, 2)
    assert (r.y0, r.y1, r.x0, r.x1) == (512, 576, 768, 832)
    # the read starts on an even sample (the network's 2x2 phases) and includes the halo
    assert r.read(29, 2, 1080, 1920) == (482, 605, 738, 861)


def test_neighbouring_runs_merge():
    flags = np.zeros((3, 10), bool)
    flags[1, [2, 3, 5]] = True
    flags[2, [2, 3, 4, 5]] = True
    # halo 40: the one-CTU gap is narrower than two halos, so row 1 is one run, and the row
    # below has the same span: one rectangle
    (r,) = plan_regions(flags, 64, 192, 640, 40, 2)
    assert (r.y0, r.y1, r.x0, r.x1) == (64, 192, 128, 384)
    # halo 29: the gap is wider than two halos, so row 1 keeps two runs
    assert len(plan_regions(flags, 64, 192, 640, 29, 2)) == 2


@pytest.fixture(scope="module")
def ours():
    return load_model_set("default").filters["ours"]


def _picture():
    from skimage import data

    return np.ascontiguousarray(np.tile(data.camera(), (1, 2))[:360, :648])


@pytest.mark.parametrize("share", [0.05, 0.1, 0.15])
def test_flagged_ctus_get_the_whole_picture_samples(ours, share):
    pic = _picture()
    rng = np.random.default_rng(int(share * 100))
    flags = rng.random((6, 11)) < share
    flags[2, 4] = True
    whole = ours.filter_plane(pic, 37)
    before = ours.samples_read
    part = ours.filter_plane(pic, 37, need=UnitNeed(flags.astype(np.uint8), 64))
    read = ours.samples_read - before
    assert 0 < read < WHOLE_PICTURE_SHARE * pic.size  # it did skip
    for r, c in zip(*np.nonzero(flags), strict=True):
        sl = np.s_[r * 64 : (r + 1) * 64, c * 64 : (c + 1) * 64]
        assert np.array_equal(part[sl], whole[sl]), (r, c)
    assert not np.array_equal(part, whole)  # unflagged samples were not filtered


def test_understated_receptive_field_is_caught(ours):
    # With a halo smaller than the network's context, regions differ from the whole picture:
    # the check that guards region inference sees it (so it can also see a runtime that does).
    assert ours.regions_exact()
    card = dataclasses.replace(ours.card, receptive_field=ours.card.receptive_field - 9)
    small = OnnxFilter(ours.path, card, InferenceSettings())
    assert not small.regions_exact()


def test_bad_receptive_field_on_card_is_refused(tmp_path):
    from cnnfilter.errors import UserError
    from cnnfilter.inference import ModelCard

    raw = dict(load_model_set("default").cards["ours"].raw, receptive_field="wide")
    with pytest.raises(UserError, match="receptive_field must be an integer"):
        ModelCard.from_dict(raw, where="card")


@pytest.fixture(scope="module")
def ra_stream(shared_data, tmp_path_factory):
    src = shared_data / "video" / "bigbuckbunny-crop_416x240_25.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    d = tmp_path_factory.mktemp("regions")
    clip = crop_clip(src, 416, 240, d / "c.yuv", 416, 240, 9)
    sets = d / "sets"
    make_model_set(
        sets / "ipb",
        "ipb",
        [ROOT / "models" / "ours-ai" / "ours.onnx"],
        slice_types=["I", "P", "B"],
    )
    # At QP 22 the B pictures of layers 1 and 2 take the CNN in part of their CTUs (at QP 27
    # and above this encoder's B pictures hardly take it on this clip).
    res = cnnfilter.encode(
        clip, d / "s.hevc", d / "r.yuv", cfg=RA, width=416, height=240, qp=22, frames=9,
        cnn=sets / "ipb",
    )  # fmt: skip
    return res, sets, clip


def test_decoder_regions_match_the_encoder(ra_stream):
    res, sets, _ = ra_stream
    part = cnnfilter.decode(res.bitstream, models=sets)
    whole = cnnfilter.decode(res.bitstream, models=sets, cnn_regions=False)
    assert part.hash_ok and all(f.hash == "OK" for f in part.frames)
    pics = [md5(b"".join(np.ascontiguousarray(p).tobytes() for p in (x.y, x.u, x.v)))
            for x in part.pictures]  # fmt: skip
    assert pics == [
        md5(b"".join(np.ascontiguousarray(p).tobytes() for p in (x.y, x.u, x.v)))
        for x in whole.pictures
    ]
    shares = {f.poc: f.cnn_read_share for f in part.frames if f.cnn_ctus}
    assert any(0 < s < 1 for s in shares.values()), shares  # some picture was partly filtered
    assert all(f.cnn_read_share == 1.0 for f in whole.frames if f.cnn_ctus)
    assert all(f.cnn_read_share == 0.0 for f in part.frames if not f.cnn_ctus)


def test_tiled_set_skips_unflagged_tiles(ra_stream, tmp_path):
    # A set that tiles is cut the same way by the encoder and the decoder, so they agree even
    # with a halo (8) narrower than the network's context; the decoder runs only the tiles
    # that hold a flagged CTU.
    _, _, clip = ra_stream
    sets = tmp_path / "sets"
    make_model_set(
        sets / "tiled", "tiled", [ROOT / "models" / "ours-ai" / "ours.onnx"],
        slice_types=["I", "P", "B"], settings=InferenceSettings(tile=64, tile_overlap=8),
    )  # fmt: skip
    enc = cnnfilter.encode(
        clip, tmp_path / "t.hevc", tmp_path / "t.yuv", cfg=RA, width=416, height=240, qp=22,
        frames=9, cnn=sets / "tiled",
    )  # fmt: skip
    dec = cnnfilter.decode(enc.bitstream, models=sets)
    assert dec.hash_ok and all(f.hash == "OK" for f in dec.frames)
    assert md5(b"".join(np.ascontiguousarray(p).tobytes() for x in dec.pictures
                        for p in (x.y, x.u, x.v))) == md5(enc.recon.read_bytes())  # fmt: skip
    partial = [f for f in dec.frames if f.cnn_ctus and f.cnn_ctus < f.ctus]
    assert partial and any(f.cnn_read_share < 1 for f in partial), dec.frames


def test_runtime_without_exact_regions_filters_whole_pictures(ra_stream, monkeypatch):
    # A runtime whose regions differ from the whole picture must not be trusted: the decoder
    # filters whole pictures, says so once, and still reconstructs what the encoder did.
    res, sets, _ = ra_stream

    def differs(self):
        self.regions_checked = False
        return False

    monkeypatch.setattr(OnnxFilter, "regions_exact", differs)
    dec = cnnfilter.decode(res.bitstream, models=sets)
    assert dec.hash_ok and all(f.hash == "OK" for f in dec.frames)
    assert all(f.cnn_read_share == 1.0 for f in dec.frames if f.cnn_ctus)
    said = [n for n in dec.notes if "filters whole pictures" in n]
    assert len(said) == 1 and "'ipb'" in said[0]
