"""ONNX export of every network: equality with PyTorch, folding, opset/IR, and determinism of
the pinned ONNX Runtime settings."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="export needs the 'train' extra (torch)")
onnx = pytest.importorskip("onnx", reason="export needs the 'train' extra (onnx)")
import onnxruntime as ort  # noqa: E402
from models_support import export_random  # noqa: E402

from cnnfilter.export import synthetic_picture, torch_reference  # noqa: E402
from cnnfilter.inference import InferenceSettings, ModelCard, OnnxFilter  # noqa: E402
from cnnfilter.models import ARCHS, build_model, get_arch  # noqa: E402
from cnnfilter.models.common import fold_for_export  # noqa: E402

torch.set_num_threads(1)


def md5(a: np.ndarray) -> str:
    return hashlib.md5(np.ascontiguousarray(a).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every network with seeded random weights, exported once."""
    d = tmp_path_factory.mktemp("onnx")
    return {name: export_random(name, d / f"{name}.onnx", seed=1) for name in ARCHS}


def _filter(path, **settings) -> OnnxFilter:
    card = ModelCard.from_dict(json.loads(path.with_suffix(".json").read_text()))
    return OnnxFilter(path, card, InferenceSettings(**settings))


@pytest.mark.parametrize("name", list(ARCHS))
def test_onnx_equals_pytorch_before_rounding(exported, name):
    path = exported[name]
    torch.manual_seed(1)
    model = fold_for_export(build_model(name))
    flt = _filter(path)
    pad = get_arch(name).pad_multiple
    # sizes that are not multiples of the pad multiple exercise the runtime's edge padding
    for h, w in ((40, 56), (37, 61)):
        pic = synthetic_picture(h, w, seed=h)
        ref = torch_reference(model, pic, 37, pad)
        got = flt.run_float(pic, 37)
        assert got.shape == (h, w)
        assert np.max(np.abs(got - ref)) / 255.0 <= 1e-4


@pytest.mark.parametrize("name", list(ARCHS))
def test_onnx_graph_contract(exported, name):
    m = onnx.load(str(exported[name]))
    ops = {n.op_type for n in m.graph.node}
    assert "BatchNormalization" not in ops  # folded
    opset = {o.domain: o.version for o in m.opset_import}[""]
    assert opset >= 17
    assert m.ir_version <= 10  # onnxruntime 1.31 refuses IR 14 (onnx 1.23's default)
    inputs = [i.name for i in m.graph.input]
    assert inputs == (["x", "qp"] if get_arch(name).qp_conditioned else ["x"])
    dims = m.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims] == ["n", "", "h", "w"]  # dynamic N, H, W
    card = json.loads(exported[name].with_suffix(".json").read_text())
    assert card["sha256"] == hashlib.sha256(exported[name].read_bytes()).hexdigest()
    assert card["export_check"]["max_abs_diff_unit"] <= 1e-4


def test_export_is_reproducible(tmp_path):
    a = export_random("vrcnn", tmp_path / "a.onnx", seed=3)
    b = export_random("vrcnn", tmp_path / "b.onnx", seed=3)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("name", ["vrcnn", "sefcnn", "mphff", "qpnet", "qpvrcnn"])
def test_two_runs_give_the_same_md5(exported, name):
    pic = synthetic_picture(240, 416, seed=5)
    flt = _filter(exported[name])
    a = flt.run_float(pic, 32)
    b = flt.run_float(pic, 32)
    assert md5(a) == md5(b)
    # and a second session on the same file
    assert md5(_filter(exported[name]).filter_plane(pic, 32)) == md5(flt.filter_plane(pic, 32))


@pytest.mark.parametrize("name", ["vrcnn", "sefcnn", "mphff", "qpnet", "qpvrcnn"])
def test_one_and_two_threads_give_the_same_md5(exported, name):
    """With the pinned optimisation level the intra-op thread count does not change a bit here
    (onnxruntime splits convolutions over output tiles, not over the reduction). The model sets
    still pin threads=1, as no such guarantee is given across versions and CPUs."""
    pic = synthetic_picture(240, 416, seed=6)
    one = _filter(exported[name], threads=1).run_float(pic, 37)
    two = _filter(exported[name], threads=2).run_float(pic, 37)
    assert md5(one) == md5(two)


def test_the_optimisation_level_is_pinned_in_the_session(exported):
    """ORT_ENABLE_ALL fuses Conv+ReLU, which rounds differently from the unfused graph (seen
    here: up to 1.4e-4 sample units, 1-2 changed samples per 416x240 frame after rounding), so
    the level is part of the model set; this checks that the pinned level is what runs."""
    flt = _filter(exported["vrcnn"])
    assert flt.settings.graph_optimization == "disable_all"
    assert "opt=disable_all" in flt.settings.mode_string()
    assert "threads=1" in flt.settings.mode_string()
    pic = synthetic_picture(240, 416, seed=7)
    pinned = flt.run_float(pic, 37)
    fused = _filter(exported["vrcnn"], graph_optimization="all").run_float(pic, 37)
    # both are correct to float precision; whether they differ in the last bits depends on the
    # CPU and ORT build, which is exactly why the level is pinned
    assert np.max(np.abs(pinned - fused)) < 1e-2


def test_output_is_rounded_and_clipped_to_8_bits(exported):
    flt = _filter(exported["vrcnn"])
    pic = synthetic_picture(64, 64)
    out = flt.filter_plane(pic, 37)
    assert out.dtype == np.uint8 and out.shape == pic.shape
    f = flt.run_float(pic, 37)
    assert np.array_equal(out, np.clip(np.floor(f + 0.5), 0, 255).astype(np.uint8))


def test_tiling_is_deterministic_and_close_to_whole_frame(exported):
    # VRCNN's receptive field radius is 2+2+1+1 = 6 < overlap 8: tiles see all the context
    pic = synthetic_picture(100, 150, seed=9)
    whole = _filter(exported["vrcnn"]).run_float(pic, 37)
    tiled = _filter(exported["vrcnn"], tile=32, tile_overlap=8)
    a, b = tiled.run_float(pic, 37), tiled.run_float(pic, 37)
    assert md5(a) == md5(b)
    assert np.max(np.abs(a - whole)) < 1e-3
    # without overlap the tile borders see zero padding instead of picture: a real difference
    no_overlap = _filter(exported["vrcnn"], tile=32, tile_overlap=0).run_float(pic, 37)
    assert np.max(np.abs(no_overlap - whole)) > 1e-3


def test_cuda_provider_is_refused_clearly_without_a_gpu(exported):
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has the CUDA provider")
    with pytest.raises(ValueError, match="CUDAExecutionProvider"):
        _filter(exported["vrcnn"], provider="cuda")
    # 'auto' picks the CPU when there is no GPU
    assert _filter(exported["vrcnn"], provider="auto").settings.resolved_provider() == "cpu"


def test_an_export_that_fails_its_check_leaves_the_files_as_they_were(tmp_path, monkeypatch):
    # The model and its card appear under their final names only after the ONNX Runtime check;
    # a user's earlier files of those names stay, and nothing is left beside them.
    import cnnfilter.export as export_mod
    from cnnfilter.errors import UserError

    (tmp_path / "m.onnx").write_bytes(b"the user's model")
    (tmp_path / "m.json").write_text("the user's card")
    real = export_mod.torch_reference
    monkeypatch.setattr(export_mod, "torch_reference", lambda *a: real(*a) + 1.0)
    with pytest.raises(UserError, match="export check failed"):
        export_random("vrcnn", tmp_path / "m.onnx", seed=3)
    assert (tmp_path / "m.onnx").read_bytes() == b"the user's model"
    assert (tmp_path / "m.json").read_text() == "the user's card"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.onnx"]
    monkeypatch.undo()
    export_random("vrcnn", tmp_path / "m.onnx", seed=3)
    card = json.loads((tmp_path / "m.json").read_text())
    assert card["onnx"] == "m.onnx" and card["name"] == "m"
    assert card["sha256"] == hashlib.sha256((tmp_path / "m.onnx").read_bytes()).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.onnx"]
