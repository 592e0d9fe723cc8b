"""Bad input to ``cnnfilter ctc run`` and ``cnnfilter ctc report``: the exit code of the
contract (2 for a user error), exactly one ``error:`` line that names what is at fault, no
traceback, and nothing left behind.

Each row is (argv, exit code, fragment of the error line). ``{T}`` is a scratch folder holding
the fixtures below: a small clip and its sequence list (``ok.yaml``), damaged lists, a file, an
unrelated folder and damaged results folders.
"""

from __future__ import annotations

import json

import pytest
from ctc_util import entry, photo_clip, write_list

from cnnfilter.cli import main

RUN = ["ctc", "run", "--sequences", "{T}/ok.yaml", "--test", "nolf"]
OUT = ["--out", "{T}/new"]

CASES = [
    # --out
    (["ctc", "run", "--test", "nolf", "--out", "{T}/no/such/dir"], 2,
     "--out {T}/no/such/dir: folder {T}/no/such does not exist"),
    (["ctc", "run", "--test", "nolf", "--out", "{T}/file.txt"], 2,
     "--out {T}/file.txt: is a file, not a folder"),
    (["ctc", "run", "--test", "nolf", "--out", "{T}/mine"], 2,
     "--out {T}/mine: folder is not empty and holds no earlier 'cnnfilter ctc run' results"),
    (RUN, 2, "the following arguments are required: --out"),
    # --cfg
    ([*RUN, "--cfg", "XY", *OUT], 2, "unknown configuration(s) XY; use AI, LDP, RA"),
    ([*RUN[:2], "--sequences", "{T}/ra12.yaml", "--test", "nolf", "--cfg", "AI", "RA", *OUT], 2,
     "{T}/ra12.yaml: sequence 'a': the RA intra period 12 is not a multiple of the RA GOP size 8"),
    ([*RUN, "--cfg", *OUT], 2, "argument --cfg: expected at least one argument"),
    # --qps
    ([*RUN, "--qps", "abc", *OUT], 2, "argument --qps: invalid int value: 'abc'"),
    ([*RUN, "--qps", "22", "60", *OUT], 2, "--qps must be distinct values in 0..51, got [22, 60]"),
    ([*RUN, "--qps", "22", "22", *OUT], 2, "--qps must be distinct values in 0..51"),
    ([*RUN, "--qps", "22", "-1", *OUT], 2, "--qps must be distinct values in 0..51"),
    # --anchor / --test
    (["ctc", "run", "--sequences", "{T}/ok.yaml", *OUT], 2,
     "the following arguments are required: --test"),
    ([*RUN, "--anchor", "nosuch", *OUT], 2, "unknown codec setting 'nosuch'"),
    ([*RUN, "--anchor", "anchor:x", *OUT], 2, "codec setting 'anchor' takes no ':ARG'"),
    ([*RUN[:-2], "--test", "cnn", *OUT], 2, "needs an argument: 'cnn:ARG'"),
    ([*RUN[:-2], "--test", "cnn:default:sideways", *OUT], 2, "use cnn:SET or cnn:SET:MODE"),
    ([*RUN[:-2], "--test", "cnn:{T}/nosuchset", *OUT], 2, "model set '{T}/nosuchset'"),
    ([*RUN[:-2], "--test", "x265:no sao", *OUT], 2, "x265: bad option 'no sao'"),
    ([*RUN[:-2], "--test", "anchor", *OUT], 2, "the anchor 'anchor' is also a --test"),
    # --jobs / --frames
    ([*RUN, "--jobs", "0", *OUT], 2, "--jobs must be at least 1"),
    ([*RUN, "--jobs", "two", *OUT], 2, "argument --jobs: invalid int value: 'two'"),
    ([*RUN, "--frames", "0", *OUT], 2, "--frames must be at least 1"),
    # --sequences
    ([*RUN[:2], "--sequences", "{T}/none.yaml", "--test", "nolf", *OUT], 2,
     "sequence list not found: {T}/none.yaml"),
    ([*RUN[:2], "--sequences", "no_such_list", "--test", "nolf", *OUT], 2,
     "sequence list 'no_such_list' is neither a file nor a shipped list"),
    ([*RUN[:2], "--sequences", "{T}/garbage.yaml", "--test", "nolf", *OUT], 2,
     "{T}/garbage.yaml: not valid YAML"),
    ([*RUN[:2], "--sequences", "{T}/empty.yaml", "--test", "nolf", *OUT], 2,
     "{T}/empty.yaml: the 'sequences:' list is empty"),
    ([*RUN[:2], "--sequences", "{T}/nokey.yaml", "--test", "nolf", *OUT], 2,
     "{T}/nokey.yaml: sequence 'a': missing key(s) fps"),
    ([*RUN[:2], "--sequences", "{T}/noclip.yaml", "--test", "nolf", *OUT], 2,
     "'gone': file not found: {T}/gone.yuv"),
    ([*RUN[:2], "--sequences", "{T}/short.yaml", "--test", "nolf", *OUT], 2,
     "'a': a.yuv holds 1 frame(s) of 64x64, 5 needed"),
    ([*RUN[:2], "--sequences", "{T}/file.txt", "--test", "nolf", *OUT], 2,
     "{T}/file.txt: expected a top-level 'sequences:' list"),
    # report
    (["ctc", "report", "{T}/no/such"], 2, "{T}/no/such: no such folder"),
    (["ctc", "report", "{T}/file.txt"], 2, "{T}/file.txt: is a file, not a folder"),
    (["ctc", "report", "{T}/emptydir"], 2, "{T}/emptydir is not a CTC run directory (no plan"),
    (["ctc", "report", "{T}/mine"], 2, "{T}/mine is not a CTC run directory (no plan.json)"),
    (["ctc", "report", "{T}/plan_list"], 2,
     "{T}/plan_list/plan.json: damaged plan (rerun 'cnnfilter ctc run' to rewrite it): "
     "expected a JSON object, found a list"),
    (["ctc", "report", "{T}/plan_number"], 2,
     "{T}/plan_number/plan.json: damaged plan (rerun 'cnnfilter ctc run' to rewrite it): "
     "expected a JSON object, found a number"),
    (["ctc", "report", "{T}/plan_garbage"], 2, "{T}/plan_garbage/plan.json: damaged plan"),
    (["ctc", "report", "{T}/plan_nojobs"], 2, "'jobs' missing or not a list"),
    (["ctc", "report", "{T}/bad_row"], 2,
     "{T}/bad_row/rows/AI_anchor_a_QP22.x.json: damaged row (delete it and rerun 'cnnfilter "
     "ctc run'): expected a JSON object, found a list"),
    (["ctc", "report", "{T}/plan_list", "--bd-method", "spline"], 2,
     "argument --bd-method: invalid choice: 'spline'"),
    (["ctc", "report"], 2, "the following arguments are required: DIR"),
]  # fmt: skip


@pytest.fixture(scope="module")
def T(tmp_path_factory):
    t = tmp_path_factory.mktemp("ctc-errors")
    clip = photo_clip(t / "a.yuv", 64, 64, frames=1)
    write_list(t / "ok.yaml", [entry("a", clip, 64, 64, 1)])
    write_list(t / "short.yaml", [entry("a", clip, 64, 64, 5)])
    write_list(t / "ra12.yaml", [entry("a", clip, 64, 64, 1, intra_period=12)])
    write_list(t / "noclip.yaml", [entry("gone", t / "gone.yuv", 64, 64, 1)])
    e = entry("a", clip, 64, 64, 1)
    del e["fps"]
    write_list(t / "nokey.yaml", [e])
    write_list(t / "empty.yaml", [])
    (t / "garbage.yaml").write_text("sequences: [a, b\n  - : :\n")
    (t / "file.txt").write_text("just a file\n")
    (t / "mine").mkdir()
    (t / "mine" / "photo.jpg").write_bytes(b"\xff\xd8")
    (t / "emptydir").mkdir()
    for name, text in (
        ("plan_list", "[1, 2]"),
        ("plan_number", "3.5"),
        ("plan_garbage", '{"anchor": '),
        ("plan_nojobs", _plan(jobs=None)),
    ):
        (t / name).mkdir()
        (t / name / "plan.json").write_text(text)
    (t / "bad_row" / "rows").mkdir(parents=True)
    (t / "bad_row" / "plan.json").write_text(_plan())
    (t / "bad_row" / "rows" / "AI_anchor_a_QP22.x.json").write_text("[]")
    return t


def _plan(jobs=True) -> str:
    plan = {"anchor": "anchor", "tests": ["nolf"], "configs": ["AI"], "qps": [22],
            "sequences": [{"name": "a", "cls": "T", "width": 64, "height": 64}],
            "jobs": [{"key": "AI/anchor/a/QP22", "settings_hash": "0",
                      "file": "AI_anchor_a_QP22.x"}]}  # fmt: skip
    if jobs is None:
        del plan["jobs"]
    return json.dumps(plan)


def _fill(arg: str, t) -> str:
    return arg.replace("{T}", str(t))


def _listing(t) -> list[str]:
    return sorted(str(p.relative_to(t)) for p in t.rglob("*"))


@pytest.mark.parametrize(("argv", "code", "fragment"), CASES, ids=lambda v: None)
def test_bad_input(T, capsys, argv, code, fragment):
    before = _listing(T)
    try:
        got = main([_fill(a, T) for a in argv])
    except SystemExit as e:  # argparse's own errors
        got = e.code
    out, err = capsys.readouterr()
    assert got == code, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert _fill(fragment, T) in lines[0], err
    assert "Traceback" not in err and "Traceback" not in out
    assert _listing(T) == before  # nothing created, nothing removed


def test_there_are_enough_cases():
    assert len(CASES) >= 20
    assert sum(a[1] == "report" for a, _, _ in CASES) >= 8
