"""Structure of the model zoo: parameter counts against the facts sheet, cost, shapes, folding."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="the model zoo needs the 'train' extra (torch)")

from cnnfilter.models import ARCHS, build_model, count_params, get_arch, model_cost  # noqa: E402
from cnnfilter.models.common import fold_for_export, macs_per_pixel  # noqa: E402

torch.set_num_threads(1)

# Parameter counts given by ../shared/docs/seed_networks.md (with biases).
FACTS = {"vrcnn": 54_673, "sefcnn": 641_473, "sefcnn12": 370_497, "sefcnn16": 518_209}


@pytest.mark.parametrize("name", sorted(FACTS))
def test_parameter_count_matches_facts_sheet(name):
    torch.manual_seed(0)
    assert count_params(build_model(name)) == FACTS[name]


def test_edcnn_parameter_count_is_about_4_55_million():
    from cnnfilter.models.edcnn import EDCNN

    # The published 3-channel structure, derived in the facts sheet as ~4.55 M ...
    assert count_params(EDCNN(channels=3)) == 4_552_259
    # ... and our luma-only head/tail (3 -> 1 channel saves 2 x 1,152 weights + 2 biases).
    n = count_params(build_model("edcnn"))
    assert n == 4_552_259 - 2 * 1_152 - 2
    assert abs(n - 4.55e6) / 4.55e6 < 0.005


def test_weight_norm_only_inside_fif_branches():
    from cnnfilter.models.common import WNConv2d

    m = build_model("edcnn")
    wn = [mod for mod in m.modules() if isinstance(mod, WNConv2d)]
    assert len(wn) == 7 * 4  # 7 FIF blocks x 4 branches, the 3x3 conv of each
    assert {w.k for w in wn} == {3}


def test_kmac_per_pixel_is_computed_and_plausible():
    # a plain fully convolutional net costs about its weight count per pixel
    _, _, vr = model_cost("vrcnn")
    assert vr == pytest.approx(54.512, abs=1e-6)  # weights only: biases cost no MAC
    _, _, se = model_cost("sefcnn")
    assert 620 < se < 645  # the FEN's 1x1 convs on the pooled vector cost ~nothing per pixel
    _, _, ed = model_cost("edcnn")
    assert 4400 < ed < 4600
    # our efficient design meets its budget
    for ours in ("qpnet", "qpvrcnn"):
        assert model_cost(ours)[2] <= 100.0


def test_mac_counter_counts_resampled_branches_at_their_resolution():
    m = torch.nn.Sequential(torch.nn.MaxPool2d(2), torch.nn.Conv2d(1, 4, 3, padding=1))
    # 4 outputs x 9 MAC on a quarter of the pixels
    assert macs_per_pixel(m, (64, 64)) == pytest.approx(4 * 9 / 4)


@pytest.mark.parametrize("name", list(ARCHS))
def test_forward_keeps_the_picture_size(name):
    info = get_arch(name)
    torch.manual_seed(0)
    m = build_model(name).eval()
    h, w = 3 * 16, 5 * 16
    assert h % info.pad_multiple == 0 and w % info.pad_multiple == 0
    y = torch.rand(2, 1, h, w)
    with torch.no_grad():
        out = m(y, torch.full_like(y, 37 / 51)) if m.qp_input else m(y)
    assert out.shape == y.shape
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["vrcnn", "sefcnn12", "mphff", "qpnet", "qpvrcnn"])
def test_untrained_residual_nets_start_close_to_identity(name):
    torch.manual_seed(0)
    m = build_model(name).eval()
    y = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        out = m(y, torch.full_like(y, 0.5)) if m.qp_input else m(y)
    assert (out - y).abs().mean() < 0.1


@pytest.mark.parametrize("name", ["qpnet", "qpvrcnn"])
def test_qp_conditioned_output_depends_on_qp_once_trained_a_little(name):
    torch.manual_seed(0)
    m = build_model(name)
    with torch.no_grad():  # perturb the zero-initialised tail and gain MLP
        (m.tail if name == "qpnet" else m.conv4).weight.normal_(0, 0.01)
        m.gain2.weight.normal_(0, 0.5)
    y = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        a = m(y, torch.full_like(y, 22 / 51))
        b = m(y, torch.full_like(y, 37 / 51))
    assert (a - b).abs().max() > 1e-4


@pytest.mark.parametrize("name", ["edcnn", "glfusion"])
def test_folding_weight_norm_and_batch_norm_keeps_the_output(name):
    torch.manual_seed(0)
    m = build_model(name)
    if name == "glfusion":  # give BatchNorm non-trivial running statistics
        m.train()
        with torch.no_grad():
            for _ in range(3):
                m(torch.rand(2, 1, 32, 32))
    m.eval()
    folded = fold_for_export(m)
    kinds = {type(x).__name__ for x in folded.modules()}
    assert "BatchNorm2d" not in kinds and "WNConv2d" not in kinds and "ConvBN" not in kinds
    y = torch.rand(1, 1, 32, 48)
    with torch.no_grad():
        assert torch.allclose(m(y), folded(y), atol=1e-5)
    assert count_params(folded) < count_params(m)


def test_unknown_network_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown network 'nope'"):
        build_model("nope")


def test_models_cli_lists_every_network(capsys):
    from cnnfilter.cli import main

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ARCHS:
        assert name in out
    assert "54,673" in out and "641,473" in out


def test_cost_table_equals_the_built_networks():
    # `cnnfilter models` prints this table without building anything; it must not go stale.
    from cnnfilter.models import cost_table

    table = cost_table()
    assert sorted(table) == sorted(ARCHS), "run cnnfilter.models.write_cost_table()"
    for name in ARCHS:
        params, folded, kmac = model_cost(name)
        assert table[name] == {"params": params, "params_folded": folded, "kmac_per_pixel": kmac}


def test_models_cli_builds_no_network_and_lists_shipped_sets(capsys, monkeypatch):
    import cnnfilter.models as zoo
    from cnnfilter.cli import main

    def refuse(*a, **k):
        raise AssertionError("cnnfilter models built a network")

    monkeypatch.setattr(zoo, "build_model", refuse)
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "vrcnn-ai" in out and "54.5" in out and "641,473" in out
