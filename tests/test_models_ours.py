"""Our network: re-parameterisation is exact, the exported ONNX equals the training model, the
QP is clamped to 22..37, side-information inputs can be added later from a checkpoint, and a run
killed between checkpoints resumes exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the 'train' extra (torch)")
from models_support import synthetic_dataset  # noqa: E402

from cnnfilter.models import build_model, cost_table, model_cost  # noqa: E402
from cnnfilter.models.common import fold_for_export  # noqa: E402
from cnnfilter.models.ours import Ours, RepConv  # noqa: E402

torch.set_num_threads(1)


def _randomised(seed: int = 0, **kw) -> Ours:
    """An Ours whose every parameter is random (the zero-initialised tail and gains too), so
    that the checks see every branch."""
    torch.manual_seed(seed)
    m = Ours(**kw)
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.05)
    return m.eval()


@pytest.mark.parametrize("identity", [False, True])
def test_repconv_folds_into_one_conv_with_the_same_output(identity):
    torch.manual_seed(1)
    rc = RepConv(6, 6, identity=identity)
    with torch.no_grad():
        rc.k3.bias.normal_()
    conv = rc.folded()
    assert isinstance(conv, torch.nn.Conv2d) and conv.kernel_size == (3, 3)
    x = torch.randn(2, 6, 17, 23)
    with torch.no_grad():
        assert torch.allclose(rc(x), conv(x), atol=1e-5)
        # and the fold is not trivially right: dropping the 1x1 branch changes the output
        assert not torch.allclose(rc(x), rc.k3(x) + (x if identity else 0), atol=1e-3)


def test_folded_network_has_only_plain_convs_and_the_same_output():
    m = _randomised()
    f = fold_for_export(m)
    assert not any(isinstance(x, RepConv) for x in f.modules())
    y = torch.rand(1, 1, 40, 56)
    q = torch.full_like(y, 32 / 51)
    with torch.no_grad():
        a, b = m(y, q), f(y, q)
    assert (a - y).abs().max() > 1e-3  # the randomised net filters
    assert torch.allclose(a, b, atol=1e-5)


def test_exported_onnx_equals_the_training_model(tmp_path):
    import onnx

    from cnnfilter.export import export_model, synthetic_picture, torch_reference
    from cnnfilter.inference import InferenceSettings, ModelCard, OnnxFilter

    m = _randomised(3)
    onnx_path, card_path = export_model(
        m, "ours", tmp_path / "ours.onnx", qp_range=(0, 51), trained_qps=[22, 27, 32, 37],
        slice_types=["I"], development_artefact=True,
    )  # fmt: skip
    proto = onnx.load(str(onnx_path))
    convs = [n for n in proto.graph.node if n.op_type == "Conv"]
    # head + 2 per block + tail + the 2 layers of the gain MLP: every RepConv is one Conv
    assert len(convs) == 1 + 2 * m.nblocks + 1 + 2
    card = json.loads(card_path.read_text())
    assert set(card["inputs"]) == {"x", "qp"} and card["pad_multiple"] == 2
    flt = OnnxFilter(onnx_path, ModelCard.from_dict(card), InferenceSettings())
    plane = synthetic_picture(64, 96, seed=5)
    for qp in (22, 30, 37):
        ref = torch_reference(m, plane, qp, 2)  # the unfolded training model
        got = flt.run_float(plane, qp)
        assert np.abs(got - ref).max() < 255 * 1e-4
        assert np.abs(ref - plane).max() > 0.5  # not the identity


def test_qp_is_clamped_to_the_trained_range():
    m = _randomised(4)
    y = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        out = {q: m(y, torch.full_like(y, q / 51)) for q in (10, 22, 30, 37, 45)}
    assert torch.equal(out[10], out[22]) and torch.equal(out[45], out[37])
    assert (out[22] - out[30]).abs().max() > 1e-4


def test_cost_is_within_budget_and_in_the_cost_table():
    params, folded, kmac = model_cost("ours")
    assert kmac <= 100.0
    assert folded < params  # the 1x1 branches disappear at export
    assert cost_table()["ours"] == {
        "params": params,
        "params_folded": folded,
        "kmac_per_pixel": pytest.approx(kmac),
    }


def test_untrained_net_is_the_identity():
    torch.manual_seed(0)
    m = build_model("ours").eval()
    y = torch.rand(1, 1, 32, 48)
    with torch.no_grad():
        assert torch.equal(m(y, torch.full_like(y, 0.6)), y)


def test_side_information_planes_start_from_the_checkpoint_at_zero_weight():
    from cnnfilter.train import widen_state

    base = _randomised(5)
    wide = Ours(side=2)
    wide.load_state_dict(widen_state(base.state_dict(), wide, "test"))
    wide.eval()
    assert wide.head.k3.weight.shape[1] == 5 + 8
    y = torch.rand(1, 1, 32, 48)
    q = torch.full_like(y, 27 / 51)
    s1, s2 = torch.rand_like(y), torch.rand_like(y)
    with torch.no_grad():
        assert torch.equal(wide(y, q, s1, s2), base(y, q))
    with pytest.raises(ValueError, match="side-information"):
        wide(y, q)


# ----------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return synthetic_dataset(tmp_path_factory.mktemp("ours"))


def _cfg(ds, out, **kw):
    from cnnfilter.train import TrainConfig

    base = dict(
        arch="ours", data=str(ds), out=str(out), qps=[32, 37], patch=16, batch=4,
        ckpt_every=3, val_every=3, val_limit=1,
    )  # fmt: skip
    base.update(kw)
    return TrainConfig(**base)


def test_a_run_killed_between_checkpoints_resumes_exactly(ds, tmp_path, monkeypatch):
    from cnnfilter import train as tr

    straight = tr.train(_cfg(ds, tmp_path / "a", steps=8), progress=False)

    # the second run dies abruptly while drawing the batch of step 8 (after the step-6
    # checkpoint): nothing after the checkpoint may matter
    real = tr.PatchSampler.sample
    calls = {"n": 0}

    def dying(self, n):
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt("killed")
        return real(self, n)

    monkeypatch.setattr(tr.PatchSampler, "sample", dying)
    with pytest.raises(KeyboardInterrupt):
        tr.train(_cfg(ds, tmp_path / "b", steps=8), progress=False)
    monkeypatch.setattr(tr.PatchSampler, "sample", real)
    _, st = tr.load_checkpoint_model(tmp_path / "b")
    assert st["step"] == 6 and not (tmp_path / "b" / "last.tmp").exists()
    resumed = tr.train(_cfg(ds, tmp_path / "b", steps=8), resume=True, progress=False)

    _, sa = tr.load_checkpoint_model(straight.checkpoint)
    _, sb = tr.load_checkpoint_model(resumed.checkpoint)
    assert sa["step"] == sb["step"] == 8
    for k, v in sa["model"].items():
        assert torch.equal(v, sb["model"][k]), k
    for k, v in sa["optimizer"]["state"].items():
        for name in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(v[name], sb["optimizer"]["state"][k][name]), (k, name)
    assert sa["sampler_rng"] == sb["sampler_rng"]
    assert torch.equal(sa["torch_rng"], sb["torch_rng"])
    # the learning curve: the validations at steps 3 and 6 survived, 8 was redone
    steps = [v["step"] for v in sb["val_history"]]
    assert steps == [3, 6, 8] == [v["step"] for v in sa["val_history"]]
    assert sb["val_history"][-1]["delta_psnr_db"] == sa["val_history"][-1]["delta_psnr_db"]
    metrics = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert [v["step"] for v in metrics["validations"]] == [3, 6, 8]
    assert all(v["train_cpu_seconds"] > 0 for v in metrics["validations"])


def test_resume_on_other_data_is_recorded(ds, tmp_path):
    from cnnfilter import train as tr

    tr.train(_cfg(ds, tmp_path / "c", steps=3), progress=False)
    path = tmp_path / "c" / "last.pt"
    st = torch.load(path, weights_only=False)
    st["config"]["dataset_summary"]["content_sha256_16"] = "0" * 16
    torch.save(st, path)
    res = tr.train(_cfg(ds, tmp_path / "c", steps=4), resume=True, progress=False)
    _, st = tr.load_checkpoint_model(res.checkpoint)
    now = st["config"]["dataset_summary"]["content_sha256_16"]
    assert st["data_changes"] == [[3, now]] and now != "0" * 16


def test_dataset_built_with_parallel_jobs_is_identical(tmp_path):
    from models_support import blocky_coder, write_images

    from cnnfilter.dataset import build_dataset

    src = write_images(tmp_path / "src", n_train=4, n_val=2)
    for j in (1, 3):
        build_dataset(
            src, tmp_path / f"j{j}", codec="custom", qps=(32, 37), coder=blocky_coder,
            progress=False, jobs=j,
        )  # fmt: skip
    files = sorted(p.relative_to(tmp_path / "j1") for p in (tmp_path / "j1").rglob("*.*"))
    assert len(files) >= 8
    for f in files:
        assert (tmp_path / "j1" / f).read_bytes() == (tmp_path / "j3" / f).read_bytes(), f


def test_qp_balance_power_and_resume_keeps_it(ds, tmp_path):
    from cnnfilter.dataset import PairDataset
    from cnnfilter.train import qp_weights, train

    data = PairDataset(ds)
    full, half = qp_weights(data, [32, 37], 1.0), qp_weights(data, [32, 37], 0.5)
    assert full[32] > half[32] > 1.0 > half[37] > full[37]
    assert half[32] / half[37] == pytest.approx((full[32] / full[37]) ** 0.5)
    assert qp_weights(data, [32, 37], 0.0) == {32: 1.0, 37: 1.0}
    train(_cfg(ds, tmp_path / "p", steps=2, qp_balance=0.5), progress=False)
    with pytest.raises(ValueError, match="qp_balance differs"):
        train(_cfg(ds, tmp_path / "p", steps=3), resume=True, progress=False)
    train(_cfg(ds, tmp_path / "p", steps=3, qp_balance=0.5), resume=True, progress=False)


def test_checkpoint_carries_the_residual_scale():
    m = _randomised(6, res_scale=0.25)
    fresh = Ours()
    assert float(fresh.res_scale) == 1.0 / 16
    fresh.load_state_dict(m.state_dict())
    y = torch.rand(1, 1, 16, 16)
    q = torch.full_like(y, 0.6)
    with torch.no_grad():
        assert torch.equal(fresh.eval()(y, q), m(y, q))
