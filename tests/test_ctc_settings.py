"""Codec settings: names, arguments, identities, and how our encoder's settings call
``cnnfilter.encode`` (checked with a stand-in that encodes with x265, until the real one lands).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ctc_util import entry, photo_clip, write_list

import cnnfilter
from cnnfilter.ctc import runner, settings
from cnnfilter.ctc.sequences import load_sequences


@pytest.mark.parametrize(
    "spec,match",
    [
        ("nosuch", "unknown codec setting 'nosuch'"),
        ("anchor:x", "takes no ':ARG'"),
        ("cnn", "needs an argument"),
        ("cnn:set:bogus", "MODE in"),
        ("x265:--preset slow", "bad option"),
        ("x265:no sao", "bad option"),
    ],
)
def test_bad_setting_names(spec, match):
    with pytest.raises(settings.SettingError, match=match):
        settings.resolve(spec)


def test_x265_identity(x265):
    ident = settings.resolve("x265:no-sao,preset=slow").identity("AI")
    assert ident["version"] == settings.x265_version(x265)
    assert ident["args"][-3:] == ["--no-sao", "--preset", "slow"]
    assert ident["config_args"] == ["--keyint", "1"]
    # Different options, different identity: their jobs never share rows.
    assert ident != settings.resolve("x265:no-sao").identity("AI")
    assert settings.resolve("x265").identity("RA")["config_args"][0] == "--keyint"


def test_identities_of_our_settings_differ():
    ids = {
        s: settings.resolve(s).identity("AI")
        for s in ("anchor", "nolf", "cnn:a", "cnn:a:picture", "cnn:b")
    }
    assert len({repr(v) for v in ids.values()}) == len(ids)
    assert ids["nolf"]["overrides"] == {
        "SEIDecodedPictureHash": 1,
        "SAO": 0,
        "LoopFilterDisable": 1,
    }
    assert ids["cnn:a"]["cnn_mode"] == "ctu" and ids["cnn:a"]["model_set"] == "a"


@pytest.fixture
def fake_encode(monkeypatch, tmp_path, x265):
    """Stands in for cnnfilter.encode: records the call, encodes with x265."""
    calls = []

    def encode(input, bitstream, recon=None, *, cfg=None, width=None, height=None, fps=None,
               frames=None, frame_skip=0, qp=None, overrides=None, cnn="not passed",
               cnn_mode="not passed", on_frame=None):  # fmt: skip
        calls.append(dict(input=input, cfg=cfg, width=width, height=height, fps=fps,
                          frames=frames, frame_skip=frame_skip, qp=qp, overrides=overrides,
                          cnn=cnn, cnn_mode=cnn_mode))  # fmt: skip
        subprocess.run(
            [x265, "--input", input, "--input-res", f"{width}x{height}", "--fps", f"{fps:g}",
             "--frames", str(frames), "--qp", str(qp), "--keyint", "1", "--hash", "1",
             "--no-info", "-o", bitstream],
            check=True, capture_output=True,
        )  # fmt: skip

    cfg_dir = tmp_path / "cfg"
    cfg_dir.mkdir()
    for name in settings.CFG_FILES.values():
        (cfg_dir / name).write_text("# stand-in\n")
    monkeypatch.setattr(cnnfilter, "encode", encode, raising=False)
    monkeypatch.setattr(settings, "_cfg_file", lambda c: cfg_dir / settings.CFG_FILES[c])
    settings.resolve.cache_clear()
    yield calls
    settings.resolve.cache_clear()


def test_our_settings_call_encode_as_documented(tmp_path, fake_encode):
    clip = photo_clip(tmp_path / "a.yuv")
    seqs = load_sequences(write_list(tmp_path / "l.yaml", [entry("a", clip, 128, 96, 2)]))
    jobs = runner.prepare(["AI"], [22, 27, 32, 37], seqs, "anchor", ["cnn:m1:picture"], 2, "l")
    meta = {"anchor": "anchor", "tests": ["cnn:m1:picture"], "configs": ["AI"],
            "qps": [22, 27, 32, 37], "sequences": [s.to_dict() for s in seqs]}  # fmt: skip
    res = runner.run(jobs, tmp_path / "out", meta, jobs_n=1, progress=False)
    assert (res.ran, res.failed, res.mismatched) == (8, [], [])
    anchor = next(c for c in fake_encode if c["cnn"] == "not passed" and c["qp"] == 27)
    assert Path(anchor["cfg"]).name == "encoder_intra_main.cfg"
    # The anchor passes no CNN arguments (an encode() without the CNN must accept the call).
    assert anchor["overrides"] == {"SEIDecodedPictureHash": 1}
    assert anchor["cnn_mode"] == "not passed"
    assert (anchor["width"], anchor["height"], anchor["fps"], anchor["frames"]) == (128, 96, 25, 2)
    test = next(c for c in fake_encode if c["cnn"] == "m1" and c["qp"] == 37)
    assert test["cnn_mode"] == "picture"
