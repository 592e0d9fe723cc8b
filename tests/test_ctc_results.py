"""The checked-in report docs/results/ai-builtin/ is what the code makes today.

1. Three of its jobs are encoded and decoded again (chelsea at QP 37: the anchor and both CNN
   sets; a few seconds): bitstream MD5, size, rate and PSNRs must equal its points.csv. Any
   change to the encoder, the CNN path or the models that changes a bitstream fails here, and
   the fix is to rerun the commands of docs/results/README.md.
2. Its BD-rate tables are what the current report code computes from its own points.csv, so a
   change to the BD computation or to the table layout fails here too.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from conftest import ROOT

from cnnfilter.ctc import report, runner
from cnnfilter.ctc.builtin import builtin_sequences
from cnnfilter.ctc.jobs import ROW_SCHEMA
from cnnfilter.ctc.store import Store

RESULTS = ROOT / "docs" / "results" / "ai-builtin"
RERUN = ("chelsea", 37, ["cnn:default", "cnn:qpvrcnn-ai"])
REGENERATE = "stale: rerun the commands of docs/results/README.md and replace the directory"


def _points() -> list[dict[str, str]]:
    return list(csv.DictReader((RESULTS / "points.csv").open()))


def _tables(md: str) -> str:
    """The BD-rate tables of a report.md: from the first '## AI' heading to '## RD points'."""
    return md[md.index("\n## ") : md.index("\n## RD points")]


def test_checked_in_bitstreams_are_current(tmp_path):
    name, qp, tests = RERUN
    seqs = [s for s in builtin_sequences() if s.name == name]
    jobs = runner.prepare(["AI"], [qp], seqs, "anchor", tests, None, "built-in set")
    summary = runner.run(jobs, tmp_path / "out", {"anchor": "anchor"}, progress=False)
    assert summary.failed == [] and summary.mismatched == []
    rows = {r["key"]: r for r in (Store(tmp_path / "out").done(j) for j in jobs)}
    checked_in = {f"AI/{p['setting']}/{p['sequence']}/QP{p['qp']}": p for p in _points()}
    for key, row in rows.items():
        old = checked_in[key]
        assert row["bitstream_md5"] == old["bitstream_md5"], f"{key}: {REGENERATE}"
        assert row["bytes"] == int(old["bytes"]), key
        assert row["kbps"] == float(old["kbps"]), key
        for c in ("y", "u", "v", "yuv"):
            assert row[f"psnr_{c}"] == pytest.approx(float(old[f"psnr_{c}"]), abs=1e-9), key


def test_checked_in_tables_are_what_the_report_computes(tmp_path):
    """Rebuilds a results store from the checked-in points.csv and renders it again."""
    md = (RESULTS / "report.md").read_text()
    cmd = re.search(r"^- Run: `(.*)`$", md, re.M).group(1).split()
    tests = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--test"]
    anchor = cmd[cmd.index("--anchor") + 1]
    points = _points()
    qps = sorted({int(p["qp"]) for p in points})
    seqs = {s.name: s.to_dict() for s in builtin_sequences()}
    store = Store(tmp_path)
    store.open_for_run()
    jobs = []
    for i, p in enumerate(points):
        key = f"{p['config']}/{p['setting']}/{p['sequence']}/QP{p['qp']}"
        jobs.append({"key": key, "settings_hash": "h", "file": f"j{i}"})
        row = {"schema": ROW_SCHEMA, "key": key, "settings_hash": "h", "status": p["state"]}
        for k in ("bytes", "frames"):
            row[k] = int(p[k])
        for k in ("kbps", "psnr_y", "psnr_u", "psnr_v", "psnr_yuv", "encode_seconds",
                  "encode_cpu_seconds", "decode_seconds", "decode_cpu_seconds"):  # fmt: skip
            row[k] = float(p[k])
        row["md5"] = p["md5"]
        (store.rows_dir / f"j{i}.json").write_text(json.dumps(row))
    store.write_plan(
        {"anchor": anchor, "tests": tests, "configs": ["AI"], "qps": qps,
         "sequences": [seqs[n] for n in dict.fromkeys(p["sequence"] for p in points)],
         "jobs": jobs}
    )  # fmt: skip
    store.close()
    rep = report.load(tmp_path)
    assert rep.complete == rep.total == len(points) == 48
    assert _tables(report.render_markdown(rep, {})) == _tables(md), REGENERATE
    assert Path(RESULTS / "plots").is_dir()
