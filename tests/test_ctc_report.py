"""The report: JCT-VC layout, BD-rates per sequence, class and overall averages, EncT/DecT,
flagged sequences, the three formats and the RD plots.

The store is filled through the real Store/Job API with HM-16.9's published RD points
(../shared/docs/hm16.9_ctc.md, deblocking+SAO on = anchor, off = test), so the expected
BD-rates are the ones of test_bdrate.py.
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys

import pytest
from test_bdrate import HM

from cnnfilter.bdrate import bd_psnr, bd_rate
from cnnfilter.ctc import plots as ctc_plots
from cnnfilter.ctc import report
from cnnfilter.ctc.jobs import ROW_SCHEMA, Job
from cnnfilter.ctc.sequences import Sequence
from cnnfilter.ctc.store import Store

QPS = [22, 27, 32, 37]
SEQS = [  # (name, class): two classes, to see class averages
    ("DrivingTrees", "cam"),
    ("Flower", "cam"),
    ("bigbuckbunny-crop", "other"),
    ("carphone", "other"),
]
# Encode / decode seconds: the test takes 2x / 1.5x the anchor's time at every point.
ENC_RATIO, DEC_RATIO = 2.0, 1.5


def _fill(out, configs=("AI",), drop=(), fail=(), mismatch=()):
    store = Store(out)
    store.open_for_run()
    seqs = [
        Sequence(name, f"/nonexistent/{name}.yuv", 416, 240, 25.0, 8, cls) for name, cls in SEQS
    ]
    plan_jobs = []
    for config in configs:
        for seq in seqs:
            ra, pa, rt, pt = HM[(seq.name, config)]
            for setting, rates, psnrs in (("anchor", ra, pa), ("nolf", rt, pt)):
                for i, qp in enumerate(QPS):
                    job = Job(config, setting, seq, qp, 8, {"v": 1})
                    plan_jobs.append(job)
                    if job.key in drop:
                        continue
                    enc = (1.0 + i) * (ENC_RATIO if setting == "nolf" else 1.0)
                    dec = (0.1 + i) * (DEC_RATIO if setting == "nolf" else 1.0)
                    row = {
                        "schema": ROW_SCHEMA, "key": job.key, "settings_hash": job.settings_hash,
                        "status": "failed" if job.key in fail else "ok",
                        "error": "RuntimeError: boom" if job.key in fail else None,
                        "kbps": rates[i], "bytes": int(rates[i] * 40), "frames": 8,
                        # U/V: Y shifted, so that U/V BD-rates equal Y's
                        "psnr_y": psnrs[i], "psnr_u": psnrs[i] + 2, "psnr_v": psnrs[i] + 3,
                        "psnr_yuv": psnrs[i] + 5 / 8,
                        "encode_seconds": enc, "encode_cpu_seconds": enc,
                        "decode_seconds": dec, "decode_cpu_seconds": dec,
                        "md5": "MISMATCH" if job.key in mismatch else "OK",
                        "bitstream_md5": "0" * 32, "versions": {"cnnfilter": "0.1.0"},
                    }  # fmt: skip
                    store.write_row(job, row)
    store.write_plan(
        {
            "command": ["cnnfilter", "ctc", "run", "--out", "x"],
            "anchor": "anchor",
            "tests": ["nolf"],
            "configs": list(configs),
            "qps": QPS,
            "sequence_source": "test",
            "sequences": [s.to_dict() for s in seqs],
            "jobs": [
                {"key": j.key, "settings_hash": j.settings_hash, "file": j.file_stem}
                for j in plan_jobs
            ],
        }
    )
    store.close()


def _expected(config, name, method="pchip"):
    return bd_rate(*HM[(name, config)], method)


def test_bd_table_layout_and_values(tmp_path):
    _fill(tmp_path, configs=("AI", "RA"))
    rep = report.load(tmp_path)
    assert [(t.config, t.test, t.anchor) for t in rep.tables] == [
        ("AI", "nolf", "anchor"),
        ("RA", "nolf", "anchor"),
    ]
    for t in rep.tables:
        kinds = [(line.kind, line.name) for line in t.lines]
        assert kinds == [
            ("sequence", "DrivingTrees"), ("sequence", "Flower"),
            ("sequence", "bigbuckbunny-crop"), ("sequence", "carphone"),
            ("class", "Class cam"), ("class", "Class other"), ("overall", "Overall"),
        ]  # fmt: skip
        per_seq = {}
        for line in t.lines[:4]:
            exp = _expected(t.config, line.name)
            per_seq[line.name] = exp
            for c in ("y", "u", "v", "yuv"):  # U, V, YUV curves are Y's shifted in PSNR
                assert line.bd[c] == pytest.approx(exp, abs=1e-9)
            assert line.enc_t == pytest.approx(ENC_RATIO)
            assert line.dec_t == pytest.approx(DEC_RATIO)
        cam, other, overall = t.lines[4:]
        assert cam.bd["y"] == pytest.approx((per_seq["DrivingTrees"] + per_seq["Flower"]) / 2)
        assert other.bd["y"] == pytest.approx(
            (per_seq["bigbuckbunny-crop"] + per_seq["carphone"]) / 2
        )
        assert overall.bd["y"] == pytest.approx(sum(per_seq.values()) / 4)
        assert (overall.averaged, overall.of, overall.note) == (4, 4, "")
        assert overall.enc_t == pytest.approx(ENC_RATIO)
    # Published HM-16.9 AI mean of "LF off vs on": +2.38 % (inputs rounded, see test_bdrate).
    assert rep.tables[0].lines[-1].bd["y"] == pytest.approx(2.38, abs=0.05)


def test_cubic_method(tmp_path):
    _fill(tmp_path)
    rep = report.load(tmp_path, method="cubic")
    line = rep.tables[0].lines[0]
    assert line.bd["y"] == pytest.approx(_expected("AI", "DrivingTrees", "cubic"), abs=1e-9)
    assert line.bd["y"] != pytest.approx(_expected("AI", "DrivingTrees", "pchip"), abs=1e-6)


def test_sequences_with_missing_points_are_flagged_not_averaged(tmp_path):
    _fill(
        tmp_path,
        drop={"AI/anchor/Flower/QP27"},
        fail={"AI/nolf/carphone/QP37"},
        mismatch={"AI/nolf/bigbuckbunny-crop/QP22"},
    )
    rep = report.load(tmp_path)
    lines = {line.name: line for line in rep.tables[0].lines}
    assert lines["Flower"].bd is None
    assert lines["Flower"].note == "flagged: anchor: 3 of 4 valid points (QP27: missing)"
    assert lines["carphone"].bd is None
    assert "test: 3 of 4 valid points (QP37: failed: RuntimeError: boom)" in lines["carphone"].note
    assert lines["bigbuckbunny-crop"].bd is None
    assert "(QP22: MD5 MISMATCH)" in lines["bigbuckbunny-crop"].note
    assert lines["DrivingTrees"].bd["y"] == pytest.approx(_expected("AI", "DrivingTrees"))
    cam, other, overall = lines["Class cam"], lines["Class other"], lines["Overall"]
    assert (cam.averaged, cam.of) == (1, 2) and "left out: Flower" in cam.note
    assert cam.bd["y"] == pytest.approx(_expected("AI", "DrivingTrees"))
    assert other.bd is None and other.averaged == 0
    assert (overall.averaged, overall.of) == (1, 4)
    assert overall.bd["y"] == pytest.approx(_expected("AI", "DrivingTrees"))
    states = {p["key"]: p["state"] for p in rep.points}
    assert states["AI/anchor/Flower/QP27"] == "missing"
    assert states["AI/nolf/carphone/QP37"] == "failed: RuntimeError: boom"
    assert states["AI/nolf/bigbuckbunny-crop/QP22"] == "MD5 MISMATCH"
    assert rep.complete == rep.total - 3


def test_stale_rows_do_not_count(tmp_path):
    _fill(tmp_path)
    # A row whose settings hash no longer matches the plan (the setting changed since).
    store = Store(tmp_path)
    path = next(store.rows_dir.glob("AI_nolf_Flower_QP32.*.json"))
    path.write_text(path.read_text().replace('"settings_hash": "', '"settings_hash": "0'))
    rep = report.load(tmp_path)
    flower = next(line for line in rep.tables[0].lines if line.name == "Flower")
    assert flower.bd is None and "test: 3 of 4" in flower.note


def test_fewer_than_four_qps_is_flagged(tmp_path):
    _fill(tmp_path)
    plan_path = tmp_path / "plan.json"
    plan = json.loads(plan_path.read_text())
    plan["qps"] = [22, 27, 32]
    plan_path.write_text(json.dumps(plan))
    rep = report.load(tmp_path)
    assert all("3 QPs, at least 4 needed" in line.note for line in rep.tables[0].lines[:4])
    assert rep.tables[0].lines[-1].bd is None


def test_written_files(tmp_path):
    _fill(tmp_path)
    rep, target = report.write(tmp_path)
    md = (target / "report.md").read_text()
    assert "| Class | Sequence | Frames | Y | U | V | YUV | EncT | DecT | Note |" in md
    overall = rep.tables[0].lines[-1]
    assert f"| **Overall** | 4 of 4 sequences |  | {overall.bd['y']:+.2f}% |" in md
    assert "| cam | Flower | 8 | " in md
    # RD points: frames and bits per pixel (bytes * 8 / (416 * 240 * 8)).
    assert "| Config | Setting | Sequence | QP | Frames | kbps | bits/pixel | Y |" in md
    row = next(p["row"] for p in rep.points if p["key"] == "AI/anchor/Flower/QP22")
    bpp = row["bytes"] * 8 / (416 * 240 * 8)
    assert f"| AI | anchor | Flower | 22 | 8 | {row['kbps']:.2f} | {bpp:.4f} |" in md
    assert "200.0% | 150.0% |" in md
    rows = list(csv.DictReader(io.StringIO((target / "report.csv").read_text())))
    assert [r["kind"] for r in rows] == ["sequence"] * 4 + ["class", "class", "overall"]
    assert [r["frames"] for r in rows] == ["8"] * 4 + [""] * 3
    assert float(rows[0]["bd_y_pct"]) == pytest.approx(_expected("AI", "DrivingTrees"), abs=1e-9)
    assert float(rows[-1]["enc_t"]) == pytest.approx(2.0)
    points = list(csv.DictReader(io.StringIO((target / "points.csv").read_text())))
    assert len(points) == 32 and {p["state"] for p in points} == {"ok"}
    page = (target / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<td>Overall</td>" in page
    pngs = sorted(p.name for p in (target / "plots").iterdir())
    assert pngs == [f"AI_{n}.png" for n in sorted(n for n, _ in SEQS)]
    for p in (target / "plots").iterdir():
        head = p.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        assert (w, h) == (640, 640)
    assert 'src="plots/AI_Flower.png"' in page and "](plots/AI_Flower.png)" in md
    # --no-times: no time columns anywhere.
    _, target = report.write(tmp_path, times=False, plots=False)
    assert "EncT" not in (target / "report.md").read_text()
    assert "enc_t" not in (target / "report.csv").read_text()
    assert "seconds" not in (target / "points.csv").read_text()


def test_configurations_side_by_side(tmp_path):
    # As the JCT-VC summary sheet: per test, the class and overall averages of every
    # configuration in one table, Y/U/V and EncT/DecT per configuration.
    _fill(tmp_path, configs=("AI", "RA"))
    rep, target = report.write(tmp_path, plots=False)
    ((title, cols, rows),) = report.summary(rep)
    assert title.startswith("Summary: nolf vs anchor")
    assert cols == ["", "AI Y", "AI U", "AI V", "AI EncT", "AI DecT",
                    "RA Y", "RA U", "RA V", "RA EncT", "RA DecT"]  # fmt: skip
    assert [r[0] for r in rows] == ["Class cam", "Class other", "Overall"]
    ai, ra = (t.lines[-1].bd["y"] for t in rep.tables)
    assert ai != ra
    assert rows[-1][1] == f"{ai:+.2f}%" and rows[-1][6] == f"{ra:+.2f}%"
    assert rows[-1][4:6] == ["200.0%", "150.0%"]
    md = (target / "report.md").read_text()
    assert md.index("## Summary: nolf vs anchor") < md.index("## AI: nolf vs anchor")
    assert "<h2>Summary: nolf vs anchor" in (target / "report.html").read_text()
    # one configuration: no summary
    _fill(tmp_path / "one")
    assert report.summary(report.load(tmp_path / "one")) == []
    assert (
        "Summary"
        not in report.write(tmp_path / "one", plots=False)[1].joinpath("report.md").read_text()
    )


def test_geometric_mean_of_time_ratios(tmp_path):
    _fill(tmp_path)
    # Make one point of DrivingTrees' test 8x slower: per-sequence EncT = 2 * 8^(1/4).
    store = Store(tmp_path)
    path = next(store.rows_dir.glob("AI_nolf_DrivingTrees_QP22.*.json"))
    row = json.loads(path.read_text())
    row["encode_cpu_seconds"] *= 8
    path.write_text(json.dumps(row))
    t = report.load(tmp_path).tables[0]
    assert t.lines[0].enc_t == pytest.approx(2 * 8 ** (1 / 4))
    # Overall: geometric mean over the four sequences.
    assert t.lines[-1].enc_t == pytest.approx(
        math.exp((math.log(2 * 8**0.25) + 3 * math.log(2)) / 4)
    )
    # Wall-clock times were not changed.
    assert report.load(tmp_path, time_kind="wall").tables[0].lines[0].enc_t == pytest.approx(2.0)


def test_cli_report_errors(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "cnnfilter", "ctc", "report", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 2 and "not a CTC run directory" in r.stderr
    _fill(tmp_path, drop={"AI/anchor/Flower/QP27"})
    r = subprocess.run(
        [sys.executable, "-m", "cnnfilter", "ctc", "report", str(tmp_path), "--no-plots"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0
    assert "| **Overall** | 3 of 4 sequences |" in r.stdout
    assert "1 sequence(s) flagged and left out of the averages: AI/nolf/Flower" in r.stderr


def test_plot_legends_and_rate_unit(tmp_path):
    """Each setting once in the legend, each test with its BD-rate Y (the table's) and
    BD-PSNR Y; clips in kbps at their frame rate; a flagged test says so."""
    _fill(tmp_path, drop={"AI/nolf/Flower/QP27"})
    rep = report.load(tmp_path)
    plots = {p.sequence: p for p in ctc_plots.plots(rep)}
    assert sorted(plots) == sorted(n for n, _ in SEQS)
    table = {line.name: line for line in rep.tables[0].lines}
    p = plots["DrivingTrees"]
    assert [s.setting for s in p.series] == ["anchor", "nolf"]
    ra, pa, rt, pt = HM[("DrivingTrees", "AI")]
    assert p.series[0].label == "anchor"
    assert p.series[1].label == (
        f"nolf: BD-rate Y {table['DrivingTrees'].bd['y']:+.2f} %, "
        f"BD-PSNR Y {bd_psnr(ra, pa, rt, pt):+.3f} dB"
    )
    assert p.xlabel == "rate, kbps at 25 frames/s (log scale)"
    assert p.title == "AI — DrivingTrees (416x240, 8 frames)"
    # The lower panel: test minus anchor at equal rate; LF off loses quality, so all < 0, and
    # its mean over log-rate is the BD-PSNR.
    xs, dy = p.series[1].delta
    assert all(d < 0 for d in dy)
    logs = [math.log10(x) for x in xs]
    mean = sum((dy[k] + dy[k + 1]) / 2 * (logs[k + 1] - logs[k]) for k in range(len(xs) - 1))
    assert mean / (logs[-1] - logs[0]) == pytest.approx(bd_psnr(ra, pa, rt, pt), abs=2e-3)
    assert plots["Flower"].series[1].label == "nolf: flagged, no BD-rate (see the table)"
    # An anchor setting not named "anchor" is marked once.
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert ctc_plots._label("x265", "x265", None, None) == "x265 (anchor)"
    assert "anchor (anchor)" not in json.dumps([s.label for q in plots.values() for s in q.series])
    assert plan["anchor"] == "anchor"


def test_still_pictures_are_plotted_in_bits_per_pixel(tmp_path):
    _fill(tmp_path)
    for path in (tmp_path / "rows").glob("*.json"):
        row = json.loads(path.read_text())
        row["frames"] = 1
        path.write_text(json.dumps(row))
    rep = report.load(tmp_path)
    p = next(p for p in ctc_plots.plots(rep) if p.sequence == "Flower")
    assert p.xlabel == "rate, bits per pixel (one picture per job) (log scale)"
    assert p.title == "AI — Flower (416x240, 1 picture)"
    rows = sorted(
        (
            pt["row"]
            for pt in rep.points
            if pt["sequence"] == "Flower" and pt["setting"] == "anchor"
        ),
        key=lambda r: r["bytes"],
    )
    assert p.series[0].rates == pytest.approx([r["bytes"] * 8 / (416 * 240) for r in rows])


def _plan_with(tmp_path, change):
    _fill(tmp_path)
    path = tmp_path / "plan.json"
    plan = json.loads(path.read_text())
    path.write_text(change(plan) if callable(change) else change)
    return path


@pytest.mark.parametrize(
    "content,fragment",
    [
        ("[1, 2]", "damaged plan (rerun 'cnnfilter ctc run' to rewrite it): expected a JSON "
         "object, found a list"),
        ("42", "expected a JSON object, found a number"),
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        (lambda p: json.dumps({k: v for k, v in p.items() if k != "jobs"}), "'jobs' missing"),
        (lambda p: json.dumps({**p, "jobs": [1, 2]}), "jobs[0] is not an object"),
        (lambda p: json.dumps({**p, "jobs": [{**p["jobs"][0], "file": "../../etc/x"}]}),
         "jobs[0] is not an object"),
        (lambda p: json.dumps({**p, "qps": ["22"]}), "'qps' missing or not a list of integers"),
        (lambda p: json.dumps({**p, "tests": "nolf"}), "'tests' missing or not a list"),
        (lambda p: json.dumps({**p, "sequences": [{"name": "x"}]}), "sequences[0] is not"),
        (lambda p: json.dumps({**p, "command": 7}), "'command' missing or not a list"),
    ],
)  # fmt: skip
def test_damaged_plan_is_named(tmp_path, content, fragment):
    path = _plan_with(tmp_path, content)
    with pytest.raises(report.ReportError) as e:
        report.load(tmp_path)
    assert str(e.value).startswith(f"{path}: ")
    assert fragment in str(e.value)


@pytest.mark.parametrize(
    "change,fragment",
    [
        (lambda r: "[]", "expected a JSON object, found a list"),
        (lambda r: "null", "expected a JSON object, found null"),
        (lambda r: '{"key": ', "not valid JSON"),
        (lambda r: json.dumps({k: v for k, v in r.items() if k != "kbps"}),
         "'kbps' missing or not a number"),
        (lambda r: json.dumps({**r, "psnr_y": "40.1"}), "'psnr_y' missing or not a number"),
        (lambda r: json.dumps({k: v for k, v in r.items() if k != "status"}),
         "'status' missing or not a string"),
        (lambda r: json.dumps({**r, "md5": None}), "'md5' missing or not a string"),
    ],
)  # fmt: skip
def test_damaged_row_is_named(tmp_path, change, fragment):
    _fill(tmp_path)
    path = next((tmp_path / "rows").glob("AI_nolf_Flower_QP32.*.json"))
    path.write_text(change(json.loads(path.read_text())))
    with pytest.raises(report.ReportError) as e:
        report.load(tmp_path)
    assert str(e.value).startswith(f"{path}: damaged row")
    assert fragment in str(e.value)
