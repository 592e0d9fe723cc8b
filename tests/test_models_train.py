"""Training: a smoke run lowers the loss, resume continues exactly, validation reports dPSNR."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training needs the 'train' extra (torch)")
from models_support import synthetic_dataset  # noqa: E402

from cnnfilter.dataset import PairDataset, PatchSampler  # noqa: E402
from cnnfilter.models import build_model  # noqa: E402
from cnnfilter.train import TrainConfig, load_checkpoint_model, train  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return synthetic_dataset(tmp_path_factory.mktemp("train"))


def _cfg(ds, out, **kw):
    base = dict(
        arch="vrcnn",
        data=str(ds),
        out=str(out),
        qps=[37],
        patch=32,
        batch=8,
        lr=1e-3,
        ckpt_every=0,
        val_limit=2,
    )
    base.update(kw)
    return TrainConfig(**base)


def test_a_few_steps_lower_the_loss(ds, tmp_path):
    res = train(_cfg(ds, tmp_path / "run", steps=40), progress=False)
    assert res.step == 40
    assert res.probe_loss_end < 0.8 * res.probe_loss_start
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["step"] == 40
    v = res.validation
    assert set(v["delta_psnr_db"]) == {"37"} and v["frames"] == 2
    assert v["delta_psnr_db"]["37"] == pytest.approx(
        v["psnr_filtered_db"]["37"] - v["psnr_rec_db"]["37"], abs=2e-4
    )
    # the dataset has the deblocked ('in-loop filtered') validation pictures: a second baseline
    assert v["delta_psnr_vs_dbf_sao_db"]["37"] == pytest.approx(
        v["psnr_filtered_db"]["37"] - v["psnr_dbf_sao_db"]["37"], abs=2e-4
    )
    assert v["psnr_dbf_sao_db"]["37"] != v["psnr_rec_db"]["37"]


def test_qp_conditioned_training_samples_every_qp(ds, tmp_path):
    res = train(_cfg(ds, tmp_path / "q", arch="qpnet", qps=[32, 37], steps=3), progress=False)
    assert set(res.validation["delta_psnr_db"]) == {"32", "37"}
    _, state = load_checkpoint_model(res.checkpoint)
    assert state["config"]["qp_conditioned"] is True


def test_edcnn_uses_its_mixed_loss(ds, tmp_path):
    cfg = _cfg(ds, tmp_path / "e", arch="edcnn", steps=1, batch=2, patch=16, val_crop=32)
    res = train(cfg, progress=False)
    _, state = load_checkpoint_model(res.checkpoint)
    assert state["config"]["loss"] == "mse+mae" and state["config"]["mae_weight"] == 0.5


def test_resume_continues_exactly_where_it_stopped(ds, tmp_path):
    straight = train(_cfg(ds, tmp_path / "a", steps=12), progress=False)
    train(_cfg(ds, tmp_path / "b", steps=5), progress=False)
    resumed = train(_cfg(ds, tmp_path / "b", steps=12), resume=True, progress=False)
    assert resumed.step == 12
    ma, _ = load_checkpoint_model(straight.checkpoint)
    mb, _ = load_checkpoint_model(resumed.checkpoint)
    for (ka, va), (kb, vb) in zip(ma.state_dict().items(), mb.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb), ka


def test_lr_given_on_resume_replaces_the_checkpoints_rate(ds, tmp_path):
    train(_cfg(ds, tmp_path / "r", steps=2), progress=False)
    kept = train(_cfg(ds, tmp_path / "r", steps=3), resume=True, progress=False)
    _, st = load_checkpoint_model(kept.checkpoint)
    assert st["config"]["lr"] == 1e-3 and st["lr_changes"] == []
    lowered = train(_cfg(ds, tmp_path / "r", steps=4, lr=1e-4), resume=True, progress=False)
    _, st = load_checkpoint_model(lowered.checkpoint)
    assert st["config"]["lr"] == 1e-4 and st["lr_changes"] == [[3, 1e-4]]
    # VRCNN's biases learn at a tenth of the weights' rate; the ratio survives the change
    assert [g["lr"] for g in st["optimizer"]["param_groups"]] == pytest.approx([1e-4, 1e-5])


def test_budget_counts_training_steps_not_validation(ds, tmp_path):
    r = train(_cfg(ds, tmp_path / "m", steps=6, val_every=2, val_limit=4), progress=False)
    _, st = load_checkpoint_model(r.checkpoint)
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert 0 < st["train_cpu_seconds"] < st["cpu_seconds"] == pytest.approx(r.cpu_seconds, abs=0.1)
    assert summary["train_cpu_seconds"] == pytest.approx(st["train_cpu_seconds"], abs=0.1)
    # a checkpoint from before the split resumes with its whole CPU time counted as training
    del st["train_cpu_seconds"]
    torch.save(st, r.checkpoint)
    again = train(_cfg(ds, tmp_path / "m", steps=7), resume=True, progress=False)
    _, st2 = load_checkpoint_model(again.checkpoint)
    assert st2["train_cpu_seconds"] >= st["cpu_seconds"]


def test_same_seed_same_weights_other_seed_other_weights(ds, tmp_path):
    a = train(_cfg(ds, tmp_path / "s1", steps=3, seed=4), progress=False)
    b = train(_cfg(ds, tmp_path / "s2", steps=3, seed=4), progress=False)
    c = train(_cfg(ds, tmp_path / "s3", steps=3, seed=5), progress=False)
    wa, wb, wc = (load_checkpoint_model(r.checkpoint)[0].conv1.weight for r in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)


def test_init_starts_from_another_runs_weights(ds, tmp_path):
    first = train(_cfg(ds, tmp_path / "i1", steps=6), progress=False)
    # a per-QP model fine-tuned at another QP of the same dataset, from the first run's weights
    second = train(
        _cfg(ds, tmp_path / "i2", steps=1, qps=[32], init=str(tmp_path / "i1")), progress=False
    )
    m1, _ = load_checkpoint_model(first.checkpoint)
    fresh = train(_cfg(ds, tmp_path / "i3", steps=1, qps=[32]), progress=False)
    m2, s2 = load_checkpoint_model(second.checkpoint)
    m3, _ = load_checkpoint_model(fresh.checkpoint)
    d_init = (m2.conv1.weight - m1.conv1.weight).abs().max()
    d_fresh = (m3.conv1.weight - m1.conv1.weight).abs().max()
    assert d_init <= 1e-3 + 1e-6 < d_fresh  # one Adam step of lr 1e-3 away from the first run
    assert s2["config"]["init"] == str(tmp_path / "i1")
    with pytest.raises(ValueError, match="is a 'vrcnn' run, not 'qpnet'"):
        train(
            _cfg(ds, tmp_path / "i4", arch="qpnet", steps=1, init=str(tmp_path / "i1")),
            progress=False,
        )
    with pytest.raises(FileNotFoundError, match="--init: checkpoint not found"):
        train(_cfg(ds, tmp_path / "i5", steps=1, init=str(tmp_path / "nothing")), progress=False)


def test_init_extends_vrcnn_to_qpvrcnn(ds, tmp_path):
    import torch

    from cnnfilter.train import _init_weights

    train(_cfg(ds, tmp_path / "v", steps=2, qps=[37]), progress=False)
    src, _ = load_checkpoint_model(tmp_path / "v")
    torch.manual_seed(1)
    m = build_model("qpvrcnn")
    m.load_state_dict(_init_weights(tmp_path / "v", m, "qpvrcnn"))
    m.eval()
    y = torch.rand(1, 1, 24, 40)
    with torch.no_grad():  # the QP input starts at zero weight and the gains at 1
        for q in (22, 37):
            assert torch.allclose(m(y, torch.full_like(y, q / 51)), src(y), atol=1e-6)
    with pytest.raises(ValueError, match="weights do not fit"):
        _init_weights(tmp_path / "v", build_model("sefcnn12"), "sefcnn12")


def test_cpu_minutes_budget_stops_the_run(ds, tmp_path):
    res = train(_cfg(ds, tmp_path / "m", minutes=0.002), progress=False)  # 0.12 s
    assert 1 <= res.step < 1000


def test_clear_errors(ds, tmp_path):
    with pytest.raises(ValueError, match="per-QP network"):
        train(_cfg(ds, tmp_path / "x", qps=[32, 37], steps=1), progress=False)
    with pytest.raises(ValueError, match="takes no QP plane"):
        train(_cfg(ds, tmp_path / "x", qp_conditioned=True, steps=1), progress=False)
    with pytest.raises(ValueError, match="--steps and/or --minutes"):
        train(_cfg(ds, tmp_path / "x"), progress=False)
    with pytest.raises(ValueError, match="not in the dataset"):
        train(_cfg(ds, tmp_path / "x", qps=[22], steps=1), progress=False)
    train(_cfg(ds, tmp_path / "y", steps=1), progress=False)
    with pytest.raises(ValueError, match="--resume"):
        train(_cfg(ds, tmp_path / "y", steps=2), progress=False)


def test_patch_sampler_is_aligned_and_seeded(ds):
    data = PairDataset(ds).split("train")
    a = PatchSampler(data, [32, 37], 24, seed=1, augment=False).sample(6)
    b = PatchSampler(data, [32, 37], 24, seed=1, augment=False).sample(6)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    rec, org, qp = a
    assert rec.shape == org.shape == (6, 24, 24) and set(qp) <= {32, 37}
    # reconstruction and original are the same place: the coding error is small
    assert np.mean(np.abs(rec.astype(int) - org.astype(int))) < 20
    # every patch sits on the 8x8 coding grid of some frame
    frames = [data.pair(i, 37)[1] for i in range(len(data.frames))]
    for patch in org:
        assert any(
            np.array_equal(f[y : y + 24, x : x + 24], patch)
            for f in frames
            for y in range(0, f.shape[0] - 23, 8)
            for x in range(0, f.shape[1] - 23, 8)
        )


def test_train_cli(ds, tmp_path, capsys):
    from cnnfilter.cli import main

    out = tmp_path / "cli"
    args = [
        "train",
        "--arch",
        "vrcnn",
        "--data",
        str(ds),
        "-o",
        str(out),
        "--qp",
        "37",
        "--steps",
        "2",
        "--patch",
        "24",
        "--batch",
        "4",
        "--val-limit",
        "1",
    ]
    assert main(args) == 0
    assert "validation" in capsys.readouterr().out
    assert (
        main(["train", "--arch", "vrcnn", "--data", str(ds), "-o", str(out), "--steps", "1"]) == 2
    )
    assert "give --qp N" in capsys.readouterr().err


def test_export_cli_writes_a_card_with_training_facts(ds, tmp_path, capsys):
    from cnnfilter.cli import main
    from cnnfilter.modelset import load_model_set, sha256_file

    res = train(_cfg(ds, tmp_path / "r", steps=3), progress=False)
    onnx_path = tmp_path / "m" / "vrcnn_qp37.onnx"
    args = ["export", "-c", str(res.checkpoint.parent), "-o", str(onnx_path), "--dev"]
    assert main(args) == 0
    card = json.loads(onnx_path.with_suffix(".json").read_text())
    assert card["sha256"] == sha256_file(onnx_path)
    assert card["architecture"] == "vrcnn" and card["trained_qps"] == [37]
    assert card["qp_range"] == [35, 39] and card["slice_types"] == ["I"]
    assert card["training"]["steps"] == 3 and card["training"]["loss"] == "mse"
    assert card["training"]["dataset"]["codec"] == "custom"
    assert card["validation"]["delta_psnr_db"] == res.validation["delta_psnr_db"]
    assert card["development_artefact"] is True and card["params"] == 54_673
    # the exported model is what the checkpoint computes
    ms = load_model_set(onnx_path)
    model, _ = load_checkpoint_model(res.checkpoint)
    rec, _ = PairDataset(ds).split("val").pair(0, 37)
    from cnnfilter.train import filter_plane_torch

    a = ms.filter_luma(np.asarray(rec), 37, "I").astype(int)
    b = filter_plane_torch(model, rec, 37, 1).astype(int)
    # equal up to float-level differences that may flip a rounding at exactly .5
    assert np.abs(a - b).max() <= 1 and np.mean(a != b) < 1e-3


def test_export_validate_measures_the_whole_validation_split(ds, tmp_path, tmp_path_factory):
    from cnnfilter.cli import main
    from cnnfilter.train import validate

    res = train(_cfg(ds, tmp_path / "r", steps=2, val_limit=1), progress=False)
    onnx_path = tmp_path / "m" / "v.onnx"
    args = ["export", "-c", str(res.checkpoint.parent), "-o", str(onnx_path), "--dev"]
    assert main([*args, "--validate", str(ds)]) == 0
    card = json.loads(onnx_path.with_suffix(".json").read_text())
    model, _ = load_checkpoint_model(res.checkpoint)
    full = validate(model, PairDataset(ds), [37], 1)
    n_val = len(PairDataset(ds).split("val").frames)
    assert card["validation"]["frames"] == full["frames"] == n_val > res.validation["frames"]
    assert card["validation"]["delta_psnr_db"] == full["delta_psnr_db"]
    # another dataset than the one trained on is refused
    other = synthetic_dataset(tmp_path_factory.mktemp("other"), qps=(27, 37))
    assert main([*args, "--validate", str(other)]) == 2
