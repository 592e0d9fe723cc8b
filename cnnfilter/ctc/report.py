"""CTC reports in the layout of the JCT-VC template: BD-rate Y/U/V/YUV per sequence, class
averages, the overall average, EncT/DecT; Markdown, CSV, HTML and RD-curve PNGs.

Rules (documented in docs/ctc.md):

- A point is valid when its job's row is current (key and settings hash of the plan), has
  status ``ok`` and passed the MD5 check of the decoded-picture-hash SEI.
- A sequence is reported with numbers only when the anchor and the test have a valid point at
  every QP of the plan and there are at least four QPs; otherwise it is *flagged*: its row says
  why and it is left out of the class and overall averages, which say how many sequences they
  average.
- BD-rates: :func:`cnnfilter.bdrate.bd_rate` on kbps against per-component PSNR; YUV uses
  (6Y+U+V)/8. Class and overall rows are arithmetic means over their sequences.
- EncT/DecT: test time / anchor time; per sequence the geometric mean over QPs, per class and
  overall the geometric mean over sequences; CPU seconds unless ``time_kind="wall"``.
"""

from __future__ import annotations

import csv
import html
import io
import math
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..bdrate import METHODS, BDError, bd_rate
from .jobs import ROW_SCHEMA
from .store import Store, StoreError

MIN_POINTS = 4
COMPONENTS = ("y", "u", "v", "yuv")


class ReportError(RuntimeError):
    pass


@dataclass
class Line:
    """One row of a BD-rate table: a sequence, a class average or the overall average."""

    kind: str  # "sequence" | "class" | "overall"
    cls: str
    name: str
    frames: int | None = None  # sequence: pictures coded per job
    bd: dict[str, float] | None = None
    enc_t: float | None = None
    dec_t: float | None = None
    note: str = ""
    averaged: int = 0  # class/overall: sequences averaged
    of: int = 0  # class/overall: sequences in the group


@dataclass
class Table:
    config: str
    test: str
    anchor: str
    lines: list[Line] = field(default_factory=list)


@dataclass
class Report:
    plan: dict[str, Any]
    method: str
    time_kind: str
    tables: list[Table]
    points: list[dict[str, Any]]  # every planned job, with its row or why it has none
    complete: int
    total: int


def _geomean(values: list[float]) -> float | None:
    vals = [v for v in values if v is not None and v > 0 and math.isfinite(v)]
    if not vals or len(vals) != len(values):
        return None
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


def _point_state(row: dict[str, Any] | None) -> str:
    if row is None:
        return "missing"
    if row.get("status") != "ok":
        return "failed: " + str(row.get("error"))
    if row.get("md5") != "OK":
        return f"MD5 {row.get('md5')}"
    return "ok"


def load(out: str | Path, method: str = "pchip", time_kind: str = "cpu") -> Report:
    if method not in METHODS:
        raise ReportError(f"unknown --bd-method {method!r}; use {' or '.join(METHODS)}")
    if time_kind not in ("cpu", "wall"):
        raise ReportError("time must be 'cpu' or 'wall'")
    store = Store(out)
    try:
        plan = store.read_plan()
    except StoreError as e:
        raise ReportError(str(e)) from None
    rows: dict[str, dict[str, Any] | None] = {}
    states: dict[str, str] = {}
    points = []
    for j in plan["jobs"]:
        try:
            row = store.read_row_strict(store.rows_dir / f"{j['file']}.json")
        except StoreError as e:
            raise ReportError(str(e)) from None
        if row is not None and (
            row["key"] != j["key"]
            or row["settings_hash"] != j["settings_hash"]
            or row.get("schema") != ROW_SCHEMA
        ):
            row = None  # a row of an earlier plan: this job has not run since it changed
        config, rest = j["key"].split("/", 1)
        setting, seq, qp = rest.rsplit("/", 2)
        state = _point_state(row)
        rows[j["key"]] = row if state == "ok" else None
        states[j["key"]] = state
        points.append(
            {"key": j["key"], "config": config, "setting": setting, "sequence": seq,
             "qp": int(qp[2:]), "state": state, "row": row}
        )  # fmt: skip
    complete = sum(p["state"] == "ok" for p in points)
    tables = [
        _table(plan, rows, states, config, test, method, time_kind)
        for config in plan["configs"]
        for test in plan["tests"]
    ]
    return Report(plan, method, time_kind, tables, points, complete, len(points))


def _frames(plan: dict[str, Any], seq: dict[str, Any]) -> int | None:
    """Pictures coded per job of a sequence, as planned (--frames caps the list's count)."""
    n, cap = seq.get("frames"), plan.get("frames_cap")
    if not isinstance(n, int) or isinstance(n, bool):
        return None
    return min(n, cap) if isinstance(cap, int) and cap > 0 else n


def _time(row: dict[str, Any], what: str, kind: str) -> float:
    return row[f"{what}_cpu_seconds"] if kind == "cpu" else row[f"{what}_seconds"]


def _table(
    plan: dict[str, Any],
    rows: dict[str, dict[str, Any] | None],
    states: dict[str, str],
    config: str,
    test: str,
    method: str,
    time_kind: str,
) -> Table:
    anchor = plan["anchor"]
    qps = plan["qps"]
    table = Table(config, test, anchor)
    seqs = [s for s in plan["sequences"] if config in s.get("configs", [config])]
    classes: dict[str, list[Line]] = {}
    for s in seqs:
        line = Line("sequence", s["cls"], s["name"], frames=_frames(plan, s))
        a = [rows.get(f"{config}/{anchor}/{s['name']}/QP{q}") for q in qps]
        t = [rows.get(f"{config}/{test}/{s['name']}/QP{q}") for q in qps]
        coded = {int(r["frames"]) for r in a + t if r is not None}
        if len(coded) == 1:
            line.frames = coded.pop()
        missing = []
        for label, setting, pts in (("anchor", anchor, a), ("test", test, t)):
            bad = [q for q, r in zip(qps, pts, strict=True) if r is None]
            if bad:
                why = states.get(f"{config}/{setting}/{s['name']}/QP{bad[0]}", "missing")
                why = why if len(why) <= 90 else why[:87] + "..."
                missing.append(
                    f"{label}: {len(qps) - len(bad)} of {len(qps)} valid points (QP{bad[0]}: {why})"
                )
        if len(qps) < MIN_POINTS:
            missing.append(f"{len(qps)} QPs, at least {MIN_POINTS} needed")
        if missing:
            line.note = "flagged: " + "; ".join(missing)
        else:
            try:
                line.bd = {
                    c: bd_rate(
                        [r["kbps"] for r in a],
                        [r[f"psnr_{c}"] for r in a],
                        [r["kbps"] for r in t],
                        [r[f"psnr_{c}"] for r in t],
                        method,
                    )
                    for c in COMPONENTS
                }
            except BDError as e:
                line.note = f"flagged: {e}"
            else:
                line.enc_t = _geomean(
                    [_time(y, "encode", time_kind) / _time(x, "encode", time_kind)
                     if _time(x, "encode", time_kind) > 0 else None
                     for x, y in zip(a, t, strict=True)]
                )  # fmt: skip
                line.dec_t = _geomean(
                    [_time(y, "decode", time_kind) / _time(x, "decode", time_kind)
                     if _time(x, "decode", time_kind) > 0 else None
                     for x, y in zip(a, t, strict=True)]
                )  # fmt: skip
        classes.setdefault(s["cls"], []).append(line)

    def average(kind: str, cls: str, name: str, members: list[Line]) -> Line:
        ok = [m for m in members if m.bd is not None]
        avg = Line(kind, cls, name, averaged=len(ok), of=len(members))
        if ok:
            avg.bd = {c: sum(m.bd[c] for m in ok) / len(ok) for c in COMPONENTS}
            avg.enc_t = _geomean([m.enc_t for m in ok])
            avg.dec_t = _geomean([m.dec_t for m in ok])
        left_out = [m.name for m in members if m.bd is None]
        if left_out:
            avg.note = f"averages {len(ok)} of {len(members)}; left out: {', '.join(left_out)}"
        return avg

    everything: list[Line] = []
    for lines in classes.values():
        table.lines += lines
        everything += lines
    for cls, lines in classes.items():
        table.lines.append(average("class", cls, f"Class {cls}", lines))
    table.lines.append(average("overall", "", "Overall", everything))
    return table


# ---------------------------------------------------------------------------------------------
# Rendering


def _pct(v: float | None, digits: int = 2) -> str:
    return "—" if v is None else f"{v:+.{digits}f}%"


def _ratio(v: float | None) -> str:
    return "—" if v is None else f"{100.0 * v:.1f}%"


def _header_lines(rep: Report, times: bool) -> list[str]:
    plan = rep.plan
    cmd = plan.get("command")
    out = []
    if cmd:
        out.append(f"Run: `{shlex.join(cmd)}`")
    out.append(
        f"Configurations {', '.join(plan['configs'])}; QPs {' '.join(map(str, plan['qps']))}; "
        f"frames per sequence: {plan.get('frames_note', 'as listed')}; "
        f"sequences: {plan.get('sequence_source', '?')}."
    )
    meth = {
        "pchip": "piecewise cubic Hermite (PCHIP) interpolation as in the JCT-VC/JVET sheets",
        "cubic": "cubic polynomial fit (VCEG-M33)",
    }[rep.method]
    out.append(
        f"BD-rate: {meth}, of log10(kbps) over PSNR, integrated exactly over the overlap; "
        "negative = the test needs fewer bits for the same PSNR. YUV PSNR = (6Y+U+V)/8."
    )
    if times:
        out.append(
            f"EncT/DecT: test / anchor {'CPU' if rep.time_kind == 'cpu' else 'wall-clock'} "
            "time, geometric mean over QPs then over sequences (100% = same time)."
        )
    out.append(
        f"Results: {rep.complete} of {rep.total} jobs valid"
        + ("" if rep.complete == rep.total else " — rerun `cnnfilter ctc run` to complete")
        + "."
    )
    versions = _versions(rep)
    if versions:
        out.append("Software: " + "; ".join(versions) + ".")
    return out


def _versions(rep: Report) -> list[str]:
    seen: dict[str, set[str]] = {}
    for p in rep.points:
        row = p["row"]
        if row and p["state"] == "ok":
            for k, v in row.get("versions", {}).items():
                if k not in ("python", "numpy", "platform"):
                    seen.setdefault(k, set()).add(str(v))
    return [f"{k} {', '.join(sorted(v))}" for k, v in sorted(seen.items())]


def _cols(times: bool) -> list[str]:
    return ["Frames", "Y", "U", "V", "YUV"] + (["EncT", "DecT"] if times else [])


def _cells(line: Line, times: bool) -> list[str]:
    bd = line.bd or {}
    cells = ["" if line.frames is None else str(line.frames)]
    cells += [_pct(bd.get(c)) for c in COMPONENTS]
    if times:
        cells += [_ratio(line.enc_t), _ratio(line.dec_t)]
    return cells


def _label(line: Line) -> tuple[str, str]:
    if line.kind == "sequence":
        return line.cls, line.name
    return f"**{line.name}**", f"{line.averaged} of {line.of} sequences"


def summary(rep: Report, times: bool = True) -> list[tuple[str, list[str], list[list[str]]]]:
    """The configurations side by side, as the summary sheet of the JCT-VC template: per test,
    one row per class average and the overall average, and per configuration the BD-rates of
    Y, U and V (and EncT, DecT). Empty when the run has one configuration."""
    configs = rep.plan["configs"]
    if len(configs) < 2:
        return []
    out = []
    for test in rep.plan["tests"]:
        by_config = {t.config: t for t in rep.tables if t.test == test}
        names: list[str] = []
        for t in by_config.values():
            names += [ln.name for ln in t.lines if ln.kind != "sequence" and ln.name not in names]
        names.sort(key=lambda n: n == "Overall")  # the classes first, in order of appearance
        cols = [""]
        for c in configs:
            cols += [f"{c} Y", f"{c} U", f"{c} V"] + ([f"{c} EncT", f"{c} DecT"] if times else [])
        rows = []
        for name in names:
            row = [name]
            for c in configs:
                line = next((ln for ln in by_config[c].lines if ln.name == name), None)
                bd = (line.bd if line else None) or {}
                row += [_pct(bd.get(k)) for k in ("y", "u", "v")]
                if times:
                    row += [
                        _ratio(line.enc_t if line else None),
                        _ratio(line.dec_t if line else None),
                    ]
            rows.append(row)
        out.append(
            (f"Summary: {test} vs {rep.plan['anchor']}, configurations side by side", cols, rows)
        )
    return out


def render_markdown(rep: Report, plots: dict[tuple[str, str], str], times: bool = True) -> str:
    out = [f"# CTC report: {', '.join(rep.plan['tests'])} vs {rep.plan['anchor']}", ""]
    out += [f"- {h}" for h in _header_lines(rep, times)]
    for title, cols, rows in summary(rep, times):
        out += ["", f"## {title}", ""]
        out += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
    for t in rep.tables:
        out += ["", f"## {t.config}: {t.test} vs {t.anchor} (BD-rate)", ""]
        cols = ["Class", "Sequence", *_cols(times), "Note"]
        out += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for line in t.lines:
            cls, name = _label(line)
            out.append("| " + " | ".join([cls, name, *_cells(line, times), line.note]) + " |")
    out += ["", "## RD points", ""]
    cols = _POINT_COLS + (["Enc s", "Dec s"] if times else [])
    cols += ["MD5", "State"]
    out += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for p in rep.points:
        out.append("| " + " | ".join(_point_cells(rep, p, times)) + " |")
    if plots:
        out += ["", "## RD curves (Y)", ""]
        for (config, seq), rel in plots.items():
            out.append(f"![{config} {seq}]({rel})")
    return "\n".join(out) + "\n"


_POINT_COLS = ["Config", "Setting", "Sequence", "QP", "Frames", "kbps", "bits/pixel"]
_POINT_COLS += ["Y", "U", "V", "YUV"]


def _point_cells(rep: Report, p: dict[str, Any], times: bool) -> list[str]:
    row = p["row"] or {}
    has = row.get("status") == "ok"

    def num(key: str, fmt: str) -> str:
        return format(row[key], fmt) if has else "—"

    bpp = bits_per_pixel(rep.plan, p["sequence"], row) if has else None
    cells = [p["config"], p["setting"], p["sequence"], str(p["qp"]), num("frames", "d")]
    cells += [num("kbps", ".2f"), "—" if bpp is None else f"{bpp:.4f}"]
    cells += [num(f"psnr_{c}", ".4f") for c in COMPONENTS]
    if times:
        k = "_cpu_seconds" if rep.time_kind == "cpu" else "_seconds"
        cells += [num("encode" + k, ".3f"), num("decode" + k, ".3f")]
    cells += [row.get("md5", "—") if has else "—", p["state"]]
    return cells


def bits_per_pixel(plan: dict[str, Any], sequence: str, row: dict[str, Any]) -> float | None:
    """Bits per luma sample of a point: the rate unit that needs no frame rate."""
    for s in plan["sequences"]:
        if s["name"] == sequence and row.get("frames"):
            return row["bytes"] * 8 / (s["width"] * s["height"] * row["frames"])
    return None


def render_csv(rep: Report, times: bool = True) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    head = ["config", "test", "anchor", "kind", "class", "sequence", "frames", "averaged", "of"]
    head += [f"bd_{c}_pct" for c in COMPONENTS]
    head += ["enc_t", "dec_t"] if times else []
    head += ["bd_method", "note"]
    w.writerow(head)
    for t in rep.tables:
        for line in t.lines:
            bd = line.bd or {}
            r = [t.config, t.test, t.anchor, line.kind, line.cls, line.name]
            r += ["" if line.frames is None else line.frames]
            r += [line.averaged, line.of] if line.kind != "sequence" else ["", ""]
            r += ["" if c not in bd else repr(round(bd[c], 10)) for c in COMPONENTS]
            if times:
                r += ["" if v is None else repr(round(v, 6)) for v in (line.enc_t, line.dec_t)]
            r += [rep.method, line.note]
            w.writerow(r)
    return buf.getvalue()


def render_points_csv(rep: Report, times: bool = True) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    fields = ["bytes", "kbps", "psnr_y", "psnr_u", "psnr_v", "psnr_yuv"]
    tfields = ["encode_seconds", "encode_cpu_seconds", "decode_seconds", "decode_cpu_seconds"]
    head = ["config", "setting", "sequence", "qp", "frames", *fields]
    head += tfields if times else []
    head += ["md5", "bitstream_md5", "state"]
    w.writerow(head)
    for p in rep.points:
        row = p["row"] or {}
        has = row.get("status") == "ok"
        r = [p["config"], p["setting"], p["sequence"], p["qp"], row.get("frames", "")]
        r += [repr(row[f]) if has else "" for f in fields]
        r += [repr(row[f]) if has else "" for f in tfields] if times else []
        r += [row.get("md5", "") if has else "", row.get("bitstream_md5", ""), p["state"]]
        w.writerow(r)
    return buf.getvalue()


_CSS = """body{font-family:sans-serif;margin:2em;max-width:80em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.2em .6em}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.avg{font-weight:bold;background:#eef}
tr.flag td{color:#a40}img{max-width:32em;margin:.5em}"""


def render_html(rep: Report, plots: dict[tuple[str, str], str], times: bool = True) -> str:
    e = html.escape
    title = f"CTC report: {', '.join(rep.plan['tests'])} vs {rep.plan['anchor']}"
    out = [
        "<!DOCTYPE html>",
        f'<html><head><meta charset="utf-8"><title>{e(title)}</title>',
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        "<ul>" + "".join(f"<li>{e(h)}</li>" for h in _header_lines(rep, times)) + "</ul>",
    ]
    for title, cols, rows in summary(rep, times):
        out.append(f"<h2>{e(title)}</h2><table>")
        out.append("<tr>" + "".join(f"<th>{e(c)}</th>" for c in cols) + "</tr>")
        for r in rows:
            cells = [f"<td>{e(r[0])}</td>"] + [f'<td class="n">{e(x)}</td>' for x in r[1:]]
            out.append('<tr class="avg">' + "".join(cells) + "</tr>")
        out.append("</table>")
    for t in rep.tables:
        out.append(f"<h2>{e(t.config)}: {e(t.test)} vs {e(t.anchor)} (BD-rate)</h2><table>")
        cols = ["Class", "Sequence", *_cols(times), "Note"]
        out.append("<tr>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>")
        for line in t.lines:
            cls = "avg" if line.kind != "sequence" else ("flag" if line.bd is None else "")
            label = (
                (line.cls, line.name)
                if line.kind == "sequence"
                else (line.name, f"{line.averaged} of {line.of} sequences")
            )
            cells = [f"<td>{e(x)}</td>" for x in label]
            cells += [f'<td class="n">{e(x)}</td>' for x in _cells(line, times)]
            cells.append(f"<td>{e(line.note)}</td>")
            out.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
        out.append("</table>")
    if plots:
        out.append("<h2>RD curves (Y)</h2><div>")
        out += [f'<img src="{e(rel)}" alt="{e(c)} {e(s)}">' for (c, s), rel in plots.items()]
        out.append("</div>")
    out.append("<h2>RD points</h2><table>")
    cols = _POINT_COLS + (["Enc s", "Dec s"] if times else [])
    cols += ["MD5", "State"]
    out.append("<tr>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>")
    for p in rep.points:
        out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in _point_cells(rep, p, times)))
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"


def write(
    out: str | Path,
    method: str = "pchip",
    time_kind: str = "cpu",
    times: bool = True,
    report_dir: str | Path | None = None,
    plots: bool = True,
) -> tuple[Report, Path]:
    """Writes report.md, report.csv, points.csv, report.html and plots/ into ``report_dir``
    (default ``OUT/report``); returns the report and the directory."""
    rep = load(out, method, time_kind)
    target = Path(report_dir) if report_dir else Path(out) / "report"
    target.mkdir(parents=True, exist_ok=True)
    from .plots import render_plots
    from .store import atomic_write_text

    pngs = render_plots(rep, target / "plots") if plots else {}

    atomic_write_text(target / "report.md", render_markdown(rep, pngs, times))
    atomic_write_text(target / "report.csv", render_csv(rep, times))
    atomic_write_text(target / "points.csv", render_points_csv(rep, times))
    atomic_write_text(target / "report.html", render_html(rep, pngs, times))
    return rep, target
