"""Side information for filters that take it: the codec hands the encoder's and the decoder's
CNN the same QP, prediction-mode and transform-boundary planes, as named ONNX inputs that the
model card declares; a picture-only model still works, and a side-information model outside the
loop is a clear error."""

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
W, H = 64, 48


def _side_model(path: Path, gain: float) -> Path:
    """y = x + gain * boundary: the output depends on the side plane, sample for sample."""
    dyn = ["N", 1, "H", "W"]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, dyn)
    b = helper.make_tensor_value_info("boundary", TensorProto.FLOAT, dyn)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, dyn)
    g = helper.make_tensor("g", TensorProto.FLOAT, [], [gain])
    nodes = [
        helper.make_node("Mul", ["boundary", "g"], ["gb"]),
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
        "inputs": {"x": {"scale": 255.0}, "boundary": {"scale": 1.0}},
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
        assert set(planes) == {"qp_map", "mode", "boundary"}
        assert all(a.shape == (H, W) and a.dtype == np.uint8 for a in planes.values())
        assert (planes["qp_map"] == 32).all()  # one QP, no cu_qp_delta
        assert (planes["mode"] == 0).all()  # All-Intra
        b = planes["boundary"]
        assert b[:, 0].all() and b[0, :].all()  # every block's first row and column
        assert b[:, -1].all() and b[-1, :].all()  # and last, at the picture's edge too
        assert set(np.unique(b)) == {0, 1} and 0.05 < b.mean() < 1.0


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
