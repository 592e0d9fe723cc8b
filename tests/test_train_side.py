"""`cnnfilter train --side` and its export: our network trained on side-information planes
from a `dataset build --side` dataset, widened from a run without them, exported with the planes
as named inputs that the model set's runtime feeds exactly as the training did."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the 'train' extra (torch)")
from models_support import blocky_coder, write_images  # noqa: E402

from cnnfilter.dataset import CodedFrame, PairDataset, build_dataset  # noqa: E402
from cnnfilter.errors import UserError  # noqa: E402
from cnnfilter.inference import InferenceSettings, ModelCard, OnnxFilter  # noqa: E402

torch.set_num_threads(1)
QPS = [32, 37]


def gridded_coder(frames, qp, fps, tmp, in_loop=False):
    """The blocky stand-in codec (8x8 blocks) with side planes that say so: every block's first
    and last rows and columns in `boundary` (bS 2 there in `bs`), intra `mode`, the QP in
    `qp_map`, the picture itself as its `pred` (so a residual of 0)."""
    out = []
    for c in blocky_coder(frames, qp, fps, tmp, in_loop):
        h, w = c.rec.shape
        edge = np.zeros((h, w), np.uint8)
        edge[np.arange(h) % 8 == 0] = edge[np.arange(h) % 8 == 7] = 1
        edge[:, np.arange(w) % 8 == 0] = edge[:, np.arange(w) % 8 == 7] = 1
        side = {
            "boundary": edge,
            "mode": np.zeros_like(edge),
            "qp_map": np.full_like(edge, qp),
            "bs": 2 * edge,
            "pred": c.rec,
            "resid": np.full_like(edge, 128),
        }
        out.append(CodedFrame(c.rec, c.slice_type, c.qp, side=side))
    return out


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("side")
    src = write_images(tmp / "src")
    build_dataset(src, tmp / "ds", codec="custom", qps=tuple(QPS), coder=gridded_coder,
                  progress=False, side=True)  # fmt: skip
    return tmp / "ds"


def _cfg(ds, out, **kw):
    from cnnfilter.train import TrainConfig

    base = dict(
        arch="ours", data=str(ds), out=str(out), qps=QPS, patch=16, batch=4, ckpt_every=2,
        val_limit=1, side=["boundary", "qp_map"],
    )  # fmt: skip
    base.update(kw)
    return TrainConfig(**base)


def test_a_side_run_trains_validates_resumes_and_exports(ds, tmp_path):
    from cnnfilter.export import export_checkpoint, torch_reference
    from cnnfilter.train import load_checkpoint_model, train

    res = train(_cfg(ds, tmp_path / "run", steps=3), progress=False)
    assert res.step == 3 and res.probe_loss_end != res.probe_loss_start
    assert set(res.validation["delta_psnr_db"]) == {"32", "37"}
    model, state = load_checkpoint_model(res.checkpoint)
    assert model.side == 2 and state["config"]["side"] == ["boundary", "qp_map"]
    assert model.head.k3.in_channels == 4 * 3 + 1  # the picture, two side planes, the QP
    # a resume must keep the planes
    with pytest.raises(ValueError, match="side differs"):
        train(_cfg(ds, tmp_path / "run", steps=4, side=["boundary"]), resume=True, progress=False)
    assert train(_cfg(ds, tmp_path / "run", steps=4), resume=True, progress=False).step == 4

    onnx, card_path = export_checkpoint(tmp_path / "run", tmp_path / "side.onnx")
    card = json.loads(card_path.read_text())
    assert card["inputs"] == {
        "x": {"scale": 255.0},
        "qp": {"scale": 51.0},
        "boundary": {"scale": 1.0},
        "qp_map": {"scale": 51.0},
    }
    assert card["export_check"]["max_abs_diff_unit"] <= 1e-4
    # The runtime, fed the codec's planes by name, gives the trained network's output; without
    # them it refuses, and other planes give another output.
    model, _ = load_checkpoint_model(tmp_path / "run")
    with torch.no_grad():
        for p in model.parameters():  # a freshly trained tail is near zero: make it matter
            p.add_(0.01 * torch.randn_like(p))
    onnx, card_path = _export(model, tmp_path / "big.onnx")
    flt = OnnxFilter(
        onnx, ModelCard.from_dict(json.loads(card_path.read_text())), InferenceSettings()
    )
    data = PairDataset(ds).split("val")
    rec, _ = data.pair(0, 37)
    side = data.side_planes(0, 37, ["boundary", "qp_map"])
    got = flt.run_float(rec, 37, side)
    ref = torch_reference(model, rec, 37, 2, side)
    assert np.max(np.abs(got - ref)) / 255.0 <= 1e-4
    other = dict(side, boundary=1 - side["boundary"])
    assert np.max(np.abs(flt.run_float(rec, 37, other) - got)) > 0.01
    with pytest.raises(UserError, match="takes side information"):
        flt.run_float(rec, 37)


def _export(model, out):
    from cnnfilter.export import export_model

    return export_model(
        model, "ours", out, qp_range=(0, 51), trained_qps=QPS, slice_types=["I"],
        side=["boundary", "qp_map"],
    )  # fmt: skip


def test_init_from_a_run_without_side_planes_starts_as_that_net(ds, tmp_path):
    from cnnfilter.train import _forward, load_checkpoint_model, train, validate

    train(_cfg(ds, tmp_path / "base", steps=2, side=[]), progress=False)
    base, _ = load_checkpoint_model(tmp_path / "base")
    with torch.no_grad():
        for p in base.parameters():
            p.add_(0.01 * torch.randn_like(p))
    torch.save(
        {
            **torch.load(tmp_path / "base" / "last.pt", weights_only=False),
            "model": base.state_dict(),
        },
        tmp_path / "base" / "last.pt",
    )
    cfg = _cfg(ds, tmp_path / "wide", steps=1, init=str(tmp_path / "base"), lr=1e-12, val_every=1)
    train(cfg, progress=False)
    wide, st = load_checkpoint_model(tmp_path / "wide")
    # The fine-tune's learning curve starts with the network it extends, validated.
    assert [v["step"] for v in st["val_history"]] == [0, 1]
    ref = validate(base, PairDataset(ds), QPS, 2, limit=1)["delta_psnr_db"]
    for q, d in st["val_history"][0]["delta_psnr_db"].items():
        assert abs(d - ref[q]) < 2e-3
    rng = np.random.default_rng(0)
    rec = rng.integers(0, 256, (2, 16, 16)).astype(np.uint8)
    side = rng.integers(0, 2, (2, 2, 16, 16)).astype(np.uint8)
    qp = np.array([32, 37])
    with torch.no_grad():
        a = _forward(torch, base, rec, qp)
        b = _forward(torch, wide, rec, qp, side, ["boundary", "qp_map"])
    assert torch.allclose(a, b, atol=1e-6)


def test_side_planes_are_refused_where_they_cannot_be_used(ds, tmp_path):
    from cnnfilter.train import train

    with pytest.raises(UserError, match="'vrcnn' takes no side-information planes"):
        train(_cfg(ds, tmp_path / "v", arch="vrcnn", qps=[37], steps=1), progress=False)
    with pytest.raises(UserError, match="at most once"):
        train(_cfg(ds, tmp_path / "d", side=["boundary", "boundary"], steps=1), progress=False)
    with pytest.raises(UserError, match="at most once"):
        train(_cfg(ds, tmp_path / "d", side=["prediction"], steps=1), progress=False)
    assert not (tmp_path / "v").exists() and not (tmp_path / "d").exists()
