"""Side information for filters that take it: the codec hands the encoder's and the decoder's
CNN the same QP, prediction-mode, transform-boundary, boundary-strength, prediction and residual
planes, as named ONNX inputs that the model card declares; a picture-only model still works,
and a side-information model outside the loop is a clear error."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the test models are built with onnx (test extra)")
from conftest import ROOT, md5  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

import cnnfilter  # noqa: E402
from cnnfilter.modelset import make_model_set  # noqa: E402

CFG = ROOT / "cfg" / "encoder_intra_main.cfg"
LDP_CFG = ROOT / "cfg" / "encoder_lowdelay_P_main.cfg"
RA_CFG = ROOT / "cfg" / "encoder_randomaccess_main.cfg"
W, H = 64, 48


def _side_model(path: Path, gain: float, plane: str = "boundary", scale: float = 1.0) -> Path:
    """y = x + gain * plane / scale: the output depends on the side plane, sample for sample."""
    dyn = ["N", 1, "H", "W"]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, dyn)
    b = helper.make_tensor_value_info(plane, TensorProto.FLOAT, dyn)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, dyn)
    g = helper.make_tensor("g", TensorProto.FLOAT, [], [gain])
    nodes = [
        helper.make_node("Mul", [plane, "g"], ["gb"]),
        helper.make_node("Add", ["x", "gb"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "side", [x, b], [y], initializer=[g])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    card = {
        "format": "cnnfilter-modelcard/1",
        "name": path.stem,
        "onnx": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "inputs": {"x": {"scale": 255.0}, plane: {"scale": scale}},
        "output": "image",
        "qp_range": [0, 51],
        "slice_types": ["I", "P", "B"],
    }
    path.with_suffix(".json").write_text(json.dumps(card))
    return path


@pytest.fixture(scope="module")
def side_set(tmp_path_factory):
    d = tmp_path_factory.mktemp("side")
    onnx_path = _side_model(d / "edge_lift.onnx", 3.0 / 255.0)
    make_model_set(d / "sets" / "edge-lift", "edge-lift", [onnx_path])
    return d / "sets"


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:H, 0:W]
    frames = []
    for i in range(2):
        y = 96 + 50 * np.sin((xx + 3 * i) / 5.0) + 30 * np.cos(yy / 4.0) + rng.normal(0, 8, (H, W))
        c = np.full((H // 2, W // 2), 128.0)
        frames += [y, c + 10 * np.sin(xx[::2, ::2] / 3.0), c - 5]
    path = tmp_path_factory.mktemp("side-clip") / "clip.yuv"
    np.concatenate([np.clip(np.round(f), 0, 255).astype(np.uint8).ravel() for f in frames]).tofile(
        path
    )
    return path


def test_encoder_and_decoder_hand_the_same_side_planes(clip, side_set, tmp_path):
    res = cnnfilter.encode(
        clip,
        tmp_path / "s.bin",
        tmp_path / "r.yuv",
        cfg=CFG,
        width=W,
        height=H,
        qp=37,
        cnn=side_set / "edge-lift",
        cnn_mode="all",
    )
    assert all(f.cnn_ctus == f.ctus for f in res.frames)
    dec = cnnfilter.decode(res.bitstream, models=side_set)
    assert dec.hash_ok, [f.hash for f in dec.frames]
    ours = b"".join(
        np.ascontiguousarray(p).tobytes() for pic in dec.pictures for p in (pic.y, pic.u, pic.v)
    )
    assert md5(ours) == md5(res.recon.read_bytes())
    # the lift reached the pictures: without side information the same pictures differ
    plain = cnnfilter.encode(clip, tmp_path / "p.bin", cfg=CFG, width=W, height=H, qp=37)
    assert plain.bitstream.read_bytes() != res.bitstream.read_bytes()


def test_side_planes_describe_the_coding(clip, side_set, tmp_path, monkeypatch):
    from cnnfilter.modelset import ModelSet

    seen = []
    real = ModelSet.filter_luma

    def spy(self, y, qp, slice_type, side=None, need=None):
        seen.append({k: np.array(a) for k, a in side.items()})
        return real(self, y, qp, slice_type, side, need)

    monkeypatch.setattr(ModelSet, "filter_luma", spy)
    res = cnnfilter.encode(
        clip, tmp_path / "s.bin", cfg=CFG, width=W, height=H, qp=32, cnn=side_set / "edge-lift"
    )
    assert len(seen) == len(res.frames) == 2
    for planes in seen:
        assert set(planes) == {"qp_map", "mode", "boundary", "bs", "pred", "resid"}
        assert all(a.shape == (H, W) and a.dtype == np.uint8 for a in planes.values())
        assert (planes["qp_map"] == 32).all()  # one QP, no cu_qp_delta
        assert (planes["mode"] == 0).all()  # All-Intra
        b = planes["boundary"]
        assert b[:, 0].all() and b[0, :].all()  # every block's first row and column
        assert b[:, -1].all() and b[-1, :].all()  # and last, at the picture's edge too
        assert set(np.unique(b)) == {0, 1} and 0.05 < b.mean() < 1.0
        # Intra: bS 2 on the transform edges of the 8x8 grid, over the three samples either
        # side that the luma filter may change; 0 elsewhere (the picture's edges included).
        bs = planes["bs"]
        assert set(np.unique(bs)) <= {0, 2} and bs.any()
        assert not bs[:5, :5].any()  # no edge at x = 0 or y = 0 reaches the corner
        xs, ys = np.nonzero(bs.T)  # (column, row) pairs of marked samples
        assert (((xs + 3) % 8 < 6) | ((ys + 3) % 8 < 6)).all()  # within 3 of a grid edge


def test_a_side_model_outside_the_loop_is_a_clear_error(clip, side_set, tmp_path, capsys):
    from cnnfilter.cli import main

    code = main(
        [
            "filter",
            "-m",
            str(side_set / "edge-lift"),
            "-q",
            "32",
            "-i",
            str(clip),
            "-wdt",
            str(W),
            "-hgt",
            str(H),
            "-o",
            str(tmp_path / "o.yuv"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "takes side information (boundary)" in err
    assert not (tmp_path / "o.yuv").exists()


def test_boundary_strengths_of_p_pictures_reach_both_ends_alike(tmp_path, monkeypatch):
    """In P pictures the bs plane depends on motion and coefficients (bS 1): a model that adds
    it must still give the decoder exactly the encoder's reconstruction."""
    from cnnfilter.modelset import ModelSet

    d = tmp_path / "m"
    d.mkdir()
    make_model_set(d / "sets" / "bs-lift", "bs-lift", [_side_model(d / "bs.onnx", 2 / 255, "bs")])
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:H, 0:W]
    frames = []
    for i in range(4):  # a pattern moving by 3 samples a picture, and noise: mixed motion
        y = 110 + 60 * np.sin((xx + 3 * i) / 6.0) * np.cos(yy / 7.0) + rng.normal(0, 6, (H, W))
        frames += [y, np.full((H // 2, W // 2), 128.0), np.full((H // 2, W // 2), 120.0)]
    clip = tmp_path / "moving.yuv"
    planes = [np.clip(np.round(f), 0, 255).astype(np.uint8).ravel() for f in frames]
    np.concatenate(planes).tofile(clip)
    seen = []
    real = ModelSet.filter_luma

    def spy(self, y, qp, slice_type, side=None, need=None):
        seen.append((slice_type, np.array(side["bs"])))
        return real(self, y, qp, slice_type, side, need)

    monkeypatch.setattr(ModelSet, "filter_luma", spy)
    res = cnnfilter.encode(
        clip, tmp_path / "s.bin", tmp_path / "r.yuv", cfg=LDP_CFG, width=W, height=H, qp=32,
        frames=4, cnn=d / "sets" / "bs-lift", cnn_mode="all",
    )  # fmt: skip
    p_planes = [bs for t, bs in seen if t == "P"]
    assert len(p_planes) == 3 and any((bs == 1).any() for bs in p_planes)
    monkeypatch.setattr(ModelSet, "filter_luma", real)
    dec = cnnfilter.decode(res.bitstream, models=d / "sets")
    ours = b"".join(
        np.ascontiguousarray(p).tobytes() for pic in dec.pictures for p in (pic.y, pic.u, pic.v)
    )
    assert md5(ours) == md5(res.recon.read_bytes())


def _moving_clip(path: Path, n: int) -> Path:
    """A pattern moving by 3 samples a picture, and noise: mixed motion, some of it skipped."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:H, 0:W]
    frames = []
    for i in range(n):
        y = 110 + 60 * np.sin((xx + 3 * i) / 6.0) * np.cos(yy / 7.0) + rng.normal(0, 6, (H, W))
        frames += [y, np.full((H // 2, W // 2), 128.0), np.full((H // 2, W // 2), 120.0)]
    planes = [np.clip(np.round(f), 0, 255).astype(np.uint8).ravel() for f in frames]
    np.concatenate(planes).tofile(path)
    return path


@pytest.fixture(scope="module")
def pred_set(tmp_path_factory):
    d = tmp_path_factory.mktemp("pred")
    make_model_set(
        d / "sets" / "pred-mix", "pred-mix", [_side_model(d / "p.onnx", 0.02, "pred", 255.0)]
    )
    return d / "sets"


def _spy_pred(monkeypatch, kept: list | None = None) -> list:
    """Records (slice type, input picture, pred plane, mode plane) of every luma call."""
    from cnnfilter.modelset import ModelSet

    seen = []
    real = ModelSet.filter_luma

    def spy(self, y, qp, slice_type, side=None, need=None):
        seen.append((slice_type, np.array(y), np.array(side["pred"]), np.array(side["mode"])))
        # the residual plane is the picture minus the prediction, offset by 128
        want = np.clip(y.astype(np.int16) - seen[-1][2] + 128, 0, 255)
        assert np.array_equal(side["resid"], want)
        if kept is not None:
            kept.append((side, side["pred"], seen[-1][2]))  # the mapping, a view, a copy
        return real(self, y, qp, slice_type, side, need)

    monkeypatch.setattr(ModelSet, "filter_luma", spy)
    return seen


def _exact_blocks(a: np.ndarray, b: np.ndarray) -> float:
    """The share of 4x4 blocks where the two planes are equal."""
    return float((a == b).reshape(H // 4, 4, W // 4, 4).all(axis=(1, 3)).mean())


def test_prediction_plane_is_what_each_block_was_predicted_from(pred_set, tmp_path, monkeypatch):
    """Where a block has no residual, its reconstruction is its prediction: the plane must equal
    the picture there, sample for sample (a wrong intra mode, reference or vector would not)."""
    # Intra: stripes along each picture's columns (then rows), which the vertical (horizontal)
    # mode predicts exactly below (right of) the first blocks, so many blocks code no residual.
    rng = np.random.default_rng(3)
    frames = []
    for kind in range(2):
        v = rng.integers(40, 220, W).astype(float)
        y = np.tile(v, (H, 1)) if kind == 0 else np.tile(v[:H, None], (1, W))
        frames += [y, np.full((H // 2, W // 2), 128.0), np.full((H // 2, W // 2), 120.0)]
    stripes = tmp_path / "stripes.yuv"
    np.concatenate([f.astype(np.uint8).ravel() for f in frames]).tofile(stripes)
    kept: list = []
    seen = _spy_pred(monkeypatch, kept)
    cnnfilter.encode(stripes, tmp_path / "i.bin", cfg=CFG, width=W, height=H, qp=32,
                     cnn=pred_set / "pred-mix")  # fmt: skip
    assert [t for t, *_ in seen] == ["I", "I"]
    for _, y, pred, _ in seen:
        assert pred.shape == (H, W) and pred.dtype == np.uint8
        assert _exact_blocks(y, pred) >= 0.3
        assert not (pred == y).all()  # the first blocks are predicted from nothing: a residual
    # The mapping computes planes during the call only; reading it afterwards is an error. A
    # view taken during the call owns its plane and still holds it.
    for mapping, view, copy in kept:
        with pytest.raises(RuntimeError, match="during the filter call only"):
            mapping["pred"]
        assert np.array_equal(view, copy)

    # Inter: skipped blocks have no residual; at QP 45 hardly any block of a P picture has one.
    seen.clear()
    clip = _moving_clip(tmp_path / "moving.yuv", 4)
    cnnfilter.encode(clip, tmp_path / "p.bin", cfg=LDP_CFG, width=W, height=H, qp=45, frames=4,
                     cnn=pred_set / "pred-mix")  # fmt: skip
    p_calls = [(y, pred, mode) for t, y, pred, mode in seen if t == "P"]
    assert len(p_calls) == 3
    for y, pred, mode in p_calls:
        skip = mode == 2
        assert np.array_equal(y[skip], pred[skip])
    assert sum(int((mode == 2).sum()) for _, _, mode in p_calls) > 0
    assert min(_exact_blocks(y, pred) for y, pred, _ in p_calls) >= 0.6


@pytest.mark.parametrize("cfg", [LDP_CFG, RA_CFG], ids=["LDP", "RA"])
def test_prediction_plane_reaches_both_ends_alike(cfg, pred_set, tmp_path, monkeypatch):
    """The encoder recomputes each block's prediction from its decisions, the decoder from the
    stream: a model that mixes the plane in must give the decoder the encoder's pictures."""
    seen = _spy_pred(monkeypatch)
    clip = _moving_clip(tmp_path / "moving.yuv", 5)
    res = cnnfilter.encode(clip, tmp_path / "s.bin", tmp_path / "r.yuv", cfg=cfg, width=W,
                           height=H, qp=32, frames=5, cnn=pred_set / "pred-mix",
                           cnn_mode="all")  # fmt: skip
    assert {t for t, *_ in seen} == ({"I", "P"} if cfg == LDP_CFG else {"I", "B"})
    dec = cnnfilter.decode(res.bitstream, models=pred_set)
    assert dec.hash_ok
    ours = b"".join(
        np.ascontiguousarray(p).tobytes() for pic in dec.pictures for p in (pic.y, pic.u, pic.v)
    )
    assert md5(ours) == md5(res.recon.read_bytes())
    # the plane is not the picture itself: inter blocks with a residual differ from it
    assert any(not np.array_equal(y, pred) for t, y, pred, _ in seen if t != "I")
