"""Codec settings: names, arguments, identities, and our encoder's settings run end to end."""

from __future__ import annotations

import json

import pytest
from ctc_util import entry, photo_clip, write_list

import cnnfilter
import cnnfilter.modelset
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


def test_identities_of_our_settings_differ(tmp_path):
    import json
    import shutil

    from conftest import ROOT

    # A copy of the shipped set with a retrained (here: altered) model gets another identity.
    other = tmp_path / "other"
    shipped = json.loads((ROOT / "models" / "index.json").read_text())["default"]
    shutil.copytree(ROOT / "models" / shipped, other)
    manifest = other / "modelset.json"
    manifest.write_text(manifest.read_text().replace('"name": "', '"name": "other-'))
    specs = ("anchor", "nolf", "cnn:default", "cnn:default:picture", f"cnn:{other}")
    ids = {s: settings.resolve(s).identity("AI") for s in specs}
    assert len({repr(v) for v in ids.values()}) == len(ids)
    assert ids["nolf"]["overrides"] == {
        "SEIDecodedPictureHash": 1,
        "SAO": 0,
        "LoopFilterDisable": 1,
    }
    from cnnfilter.modelset import load_model_set

    assert ids["cnn:default"]["cnn_mode"] == "ctu"
    assert ids["cnn:default"]["identity"] == load_model_set("default").identity.hex()
    assert ids[f"cnn:{other}"]["identity"] != ids["cnn:default"]["identity"]
    assert settings.resolve(f"cnn:{other}").models_dir == str(tmp_path)


def test_relative_model_set_paths_are_made_absolute(tmp_path, monkeypatch):
    # Jobs run in workers (Dask ones on other hosts) whose working folder is not the runner's.
    (tmp_path / "sets" / "mine").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    where = tmp_path.resolve() / "sets" / "mine"
    assert settings.absolute_setting("cnn:sets/mine") == f"cnn:{where}"
    assert settings.absolute_setting("cnn:sets/mine:all") == f"cnn:{where}:all"
    assert settings.absolute_setting("post:./sets/mine") == f"post:{where}"
    for same in ("cnn:default", "cnn:default:picture", "anchor", "x265:no-sao", "cnn:nosuch"):
        assert settings.absolute_setting(same) == same


def test_unknown_model_set_refused():
    with pytest.raises(settings.SettingError, match="no model set named 'nosuch'"):
        settings.resolve("cnn:nosuch").check("AI")


def test_our_settings_run_end_to_end(tmp_path):
    clip = photo_clip(tmp_path / "a.yuv")
    seqs = load_sequences(write_list(tmp_path / "l.yaml", [entry("a", clip, 128, 96, 2)]))
    tests = ["cnn:default:all", "post:default"]
    jobs = runner.prepare(["AI"], [27, 37], seqs, "anchor", tests, 1, "l")
    meta = {
        "anchor": "anchor",
        "tests": tests,
        "configs": ["AI"],
        "qps": [27, 37],
        "sequences": [s.to_dict() for s in seqs],
    }
    res = runner.run(jobs, tmp_path / "out", meta, jobs_n=1, progress=False)
    assert (res.ran, res.failed, res.mismatched) == (6, [], [])
    rows = [
        json.loads(p.read_text())
        for p in (tmp_path / "out").rglob("*.json")
        if p.name != "meta.json"
    ]
    cnn_rows = [r for r in rows if r.get("setting", "").startswith("cnn:")]
    assert cnn_rows and all(r["md5"] == "OK" for r in cnn_rows)
    assert all(
        cnnfilter.modelset.load_model_set("default").identity.hex() in json.dumps(r)
        for r in cnn_rows
    )
