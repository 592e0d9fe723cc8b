"""Model sets: manifests, per-QP and QP-conditioned mapping, hash verification, clear errors,
and `cnnfilter filter` end to end."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("torch", reason="making test models needs the 'train' extra (torch)")
pytest.importorskip("onnx", reason="making test models needs the 'train' extra (onnx)")
from models_support import export_random  # noqa: E402

from cnnfilter.cli import main  # noqa: E402
from cnnfilter.export import synthetic_picture  # noqa: E402
from cnnfilter.inference import InferenceSettings  # noqa: E402
from cnnfilter.modelset import load_model_set, make_model_set  # noqa: E402


@pytest.fixture(scope="module")
def per_qp_models(tmp_path_factory):
    d = tmp_path_factory.mktemp("perqp")
    return [export_random("vrcnn", d / f"vrcnn_qp{q}.onnx", (q,), seed=q) for q in (22, 27, 32, 37)]


@pytest.fixture(scope="module")
def qpnet_model(tmp_path_factory):
    return export_random("qpnet", tmp_path_factory.mktemp("qpnet") / "qpnet.onnx", (22, 27, 32, 37))


@pytest.fixture
def per_qp_set(per_qp_models, tmp_path):
    make_model_set(tmp_path / "vr", "vr", per_qp_models, description="test")
    return tmp_path / "vr"


def test_per_qp_set_maps_qp_ranges_to_models(per_qp_set):
    ms = load_model_set(per_qp_set)
    expect = {0: 22, 24: 22, 25: 27, 29: 27, 30: 32, 34: 32, 35: 37, 51: 37}
    for qp, model_qp in expect.items():
        assert ms.model_for(0, qp, "I").card.name == f"vrcnn_qp{model_qp}"
    with pytest.raises(ValueError, match="no luma model for a P slice"):
        ms.filter_luma(synthetic_picture(16, 16), 37, "P")
    assert not ms.has_chroma
    with pytest.raises(ValueError, match="no chroma model"):
        ms.filter_chroma(synthetic_picture(8, 8), 1, 37, "I")


def test_identity_and_inference_mode(per_qp_set):
    a, b = load_model_set(per_qp_set), load_model_set(per_qp_set)
    assert isinstance(a.identity, bytes) and len(a.identity) == 16
    assert a.identity == b.identity
    assert a.inference_mode.startswith("cpu;ort=")
    assert a.inference_mode.endswith(";threads=1;opt=disable_all;tile=0")
    manifest = json.loads((per_qp_set / "modelset.json").read_text())
    assert manifest["inference"]["graph_optimization"] == "disable_all"
    assert manifest["inference"]["threads"] == 1
    # the identity covers the manifest: a changed pinned setting is another set
    manifest["inference"]["tile"] = 64
    manifest["inference"]["tile_overlap"] = 8
    (per_qp_set / "modelset.json").write_text(json.dumps(manifest))
    c = load_model_set(per_qp_set)
    assert c.identity != a.identity and c.inference_mode.endswith("tile=64+8")


def test_filter_luma_contract(per_qp_set):
    ms = load_model_set(per_qp_set)
    y = synthetic_picture(72, 88)
    out = ms.filter_luma(y, 37, "I")
    assert out.dtype == np.uint8 and out.shape == y.shape
    assert np.array_equal(out, ms.filter_luma(y, 37, "I"))
    assert not np.array_equal(out, ms.filter_luma(y, 22, "I"))  # another model
    with pytest.raises(ValueError, match="uint8"):
        ms.filter_luma(y.astype(np.float32), 37, "I")


def test_single_qp_conditioned_model_serves_every_qp_and_slice_type(qpnet_model, tmp_path):
    ms = load_model_set(qpnet_model)  # a bare .onnx with its card
    assert ms.luma_rules[0].qp_min == 0 and ms.luma_rules[0].qp_max == 51
    y = synthetic_picture(40, 48)
    assert ms.filter_luma(y, 22, "I").shape == y.shape
    make_model_set(tmp_path / "q", "q", [qpnet_model], slice_types=["I", "P", "B"])
    ms2 = load_model_set(tmp_path / "q")
    for st in "IPB":
        assert ms2.model_for(0, 51, st) is ms2.model_for(0, 0, "I")


def test_tampered_onnx_is_refused(per_qp_set):
    f = per_qp_set / "vrcnn_qp32.onnx"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 1
    f.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="vrcnn_qp32.onnx fails its sha256 check"):
        load_model_set(per_qp_set)


def test_tampered_card_is_refused(per_qp_set):
    f = per_qp_set / "vrcnn_qp22.json"
    card = json.loads(f.read_text())
    card["output"] = "residual"
    f.write_text(json.dumps(card))
    with pytest.raises(ValueError, match="card vrcnn_qp22.json fails its sha256 check"):
        load_model_set(per_qp_set)


def test_missing_files_are_clear_errors(per_qp_set, per_qp_models, tmp_path):
    (per_qp_set / "vrcnn_qp27.onnx").unlink()
    with pytest.raises(FileNotFoundError, match="file missing: .*vrcnn_qp27.onnx"):
        load_model_set(per_qp_set)
    lone = tmp_path / "lone.onnx"
    shutil.copyfile(per_qp_models[0], lone)
    with pytest.raises(FileNotFoundError, match="needs its card lone.json"):
        load_model_set(lone)
    with pytest.raises(FileNotFoundError, match="no model set named 'nope'"):
        load_model_set("nope", tmp_path)


def test_named_sets_and_default(per_qp_set, tmp_path):
    (tmp_path / "index.json").write_text(json.dumps({"default": "vr"}))
    assert load_model_set("default", tmp_path).name == "vr"
    assert load_model_set("vr", tmp_path).name == "vr"


def test_settings_override_is_recorded(per_qp_set):
    ms = load_model_set(per_qp_set, settings=InferenceSettings(threads=2))
    assert ";threads=2;" in ms.inference_mode


def _write_clip(path, w, h, n, seed=0):
    rng = np.random.default_rng(seed)
    frames = []
    with open(path, "wb") as f:
        for i in range(n):
            y = synthetic_picture(h, w, seed=seed + i)
            u = rng.integers(0, 256, (h // 2, w // 2), dtype=np.uint8)
            v = rng.integers(0, 256, (h // 2, w // 2), dtype=np.uint8)
            f.write(y.tobytes() + u.tobytes() + v.tobytes())
            frames.append((y, u, v))
    return frames


def test_filter_cli_end_to_end(per_qp_set, tmp_path, capsys):
    w, h = 64, 48
    src, dst = tmp_path / "in.yuv", tmp_path / "out.yuv"
    frames = _write_clip(src, w, h, 3)
    args = [
        "filter",
        "-m",
        str(per_qp_set),
        "-q",
        "32",
        "-i",
        str(src),
        "-wdt",
        str(w),
        "-hgt",
        str(h),
        "-o",
        str(dst),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "3 frame(s) of 64x48 filtered" in out and "opt=disable_all" in out
    data = np.frombuffer(dst.read_bytes(), np.uint8)
    fs = w * h * 3 // 2
    assert data.size == 3 * fs
    ms = load_model_set(per_qp_set)
    for i, (y, u, v) in enumerate(frames):
        fr = data[i * fs : (i + 1) * fs]
        assert np.array_equal(fr[: w * h].reshape(h, w), ms.filter_luma(y, 32, "I"))
        assert fr[w * h :].tobytes() == u.tobytes() + v.tobytes()  # chroma copied
    # a bare model works in the same command
    bare = tmp_path / "bare.yuv"
    model = per_qp_set / "vrcnn_qp32.onnx"
    args_bare = [
        "filter",
        "-m",
        str(model),
        "-q",
        "32",
        "-i",
        str(src),
        "-wdt",
        str(w),
        "-hgt",
        str(h),
        "-o",
        str(bare),
    ]
    assert main(args_bare) == 0
    assert bare.read_bytes() == dst.read_bytes()


def test_filter_cli_errors_are_one_line_exit_2(per_qp_set, tmp_path, capsys):
    src, dst = tmp_path / "in.yuv", tmp_path / "out.yuv"
    _write_clip(src, 32, 32, 1)
    base = [
        "filter",
        "-m",
        str(per_qp_set),
        "-i",
        str(src),
        "-wdt",
        "32",
        "-hgt",
        "32",
        "-o",
        str(dst),
    ]
    assert main([*base, "-q", "60"]) == 2
    assert "QP must be within 0..51" in capsys.readouterr().err
    assert main([*base, "-q", "37", "--slice-type", "B"]) == 2
    assert "no luma model for a B slice" in capsys.readouterr().err
    assert not dst.exists()
    assert (
        main(
            [
                "filter",
                "-m",
                "nosuch",
                "-q",
                "37",
                "-i",
                str(src),
                "-wdt",
                "32",
                "-hgt",
                "32",
                "-o",
                str(dst),
                "--models-dir",
                str(tmp_path),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no model set named 'nosuch'" in err


def test_modelset_cli(per_qp_models, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["modelset", "create", *map(str, per_qp_models), "-o", str(out)]) == 0
    assert "QP 35..51 -> vrcnn_qp37" in capsys.readouterr().out
    assert main(["modelset", "verify", str(out)]) == 0
    assert "OK" in capsys.readouterr().out
