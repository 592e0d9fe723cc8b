"""The RD plots of a CTC report: one PNG per (configuration, sequence).

Top panel: Y-PSNR over the rate, markers at the measured points, lines for the PCHIP curves of
PSNR over log-rate (the curves BD-PSNR integrates). Bottom panel: the Y-PSNR difference of each
test to the anchor at equal rate, which makes a 0.1 dB gain visible where the top curves
overlap; its mean over the common log-rate range is the BD-PSNR. The legend names each setting
once, with its BD-rate Y (the report table's number) and BD-PSNR Y. Still pictures (one coded
picture per job) are plotted in bits per pixel, which needs no frame rate; clips in kbps at the
frame rate stated on the axis.
"""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..bdrate import BDError, bd_psnr, pchip_eval
from .store import atomic_write_bytes

MARKERS = "os^dvx<>"


@dataclass
class Series:
    setting: str
    label: str  # the legend entry: the setting's name once, with its BD numbers
    rates: list[float]  # increasing
    psnr: list[float]
    # Y-PSNR minus the anchor's at equal rate, on the common log-rate range (None: no curve).
    delta: tuple[list[float], list[float]] | None = None
    delta_points: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class Plot:
    config: str
    sequence: str
    title: str
    xlabel: str
    anchor: str
    series: list[Series]  # the anchor first


def _label(setting: str, anchor: str, line: Any, dpsnr: float | None) -> str:
    if setting == anchor:
        return setting if setting == "anchor" else f"{setting} (anchor)"
    if line is None or line.bd is None:
        return f"{setting}: flagged, no BD-rate (see the table)"
    text = f"{setting}: BD-rate Y {line.bd['y']:+.2f} %"
    return text + (f", BD-PSNR Y {dpsnr:+.3f} dB" if dpsnr is not None else "")


def _curve(rates: list[float], psnr: list[float], lo: float, hi: float, n: int = 101):
    """PSNR over log10(rate) on [lo, hi] (log10 rates), by PCHIP as in BD-PSNR; None when the
    points do not make a curve."""
    logs = [math.log10(r) for r in rates]
    if len(logs) < 2 or len(set(logs)) != len(logs) or not hi >= lo:
        return None
    xs = [lo + (hi - lo) * k / (n - 1) for k in range(n)]
    return xs, [float(v) for v in pchip_eval(logs, psnr, xs)]


def _delta(base: Series, s: Series) -> None:
    """Fills ``s.delta`` and ``s.delta_points``: s's Y-PSNR minus the anchor's at equal rate."""
    lo = math.log10(max(base.rates[0], s.rates[0]))
    hi = math.log10(min(base.rates[-1], s.rates[-1]))
    ca, ct = _curve(base.rates, base.psnr, lo, hi), _curve(s.rates, s.psnr, lo, hi)
    if hi <= lo or ca is None or ct is None:
        return
    s.delta = ([10**x for x in ct[0]], [t - a for t, a in zip(ct[1], ca[1], strict=True)])
    inside = [(r, q) for r, q in zip(s.rates, s.psnr, strict=True) if lo <= math.log10(r) <= hi]
    if inside:
        logs = [math.log10(r) for r, _ in inside]
        at = pchip_eval([math.log10(r) for r in base.rates], base.psnr, logs)
        s.delta_points = [(r, q - float(a)) for (r, q), a in zip(inside, at, strict=True)]


def plots(rep: Any) -> list[Plot]:
    """What each RD plot of report ``rep`` shows: one per (configuration, sequence) with at
    least one valid point."""
    from .report import bits_per_pixel

    plan = rep.plan
    anchor = plan["anchor"]
    tables = {(t.config, t.test): {ln.name: ln for ln in t.lines} for t in rep.tables}
    out = []
    for config in plan["configs"]:
        for s in plan["sequences"]:
            if config not in s.get("configs", [config]):
                continue
            oks = [
                p
                for p in rep.points
                if p["config"] == config and p["sequence"] == s["name"] and p["state"] == "ok"
            ]
            if not oks:
                continue
            still = all(p["row"]["frames"] == 1 for p in oks)
            pts: dict[str, list[tuple[float, float]]] = {}
            for p in oks:
                row = p["row"]
                rate = bits_per_pixel(plan, s["name"], row) if still else row["kbps"]
                pts.setdefault(p["setting"], []).append((rate, row["psnr_y"]))
            series: list[Series] = []
            base = None
            for setting in [anchor, *plan["tests"]]:
                if setting not in pts:
                    continue
                rates, psnr = (list(v) for v in zip(*sorted(pts[setting]), strict=True))
                line = tables.get((config, setting), {}).get(s["name"])
                dpsnr = None
                if setting != anchor and line is not None and line.bd is not None and base:
                    with contextlib.suppress(BDError):
                        dpsnr = bd_psnr(base.rates, base.psnr, rates, psnr, rep.method)
                ser = Series(setting, _label(setting, anchor, line, dpsnr), rates, psnr)
                if setting == anchor:
                    base = ser
                elif base is not None:
                    _delta(base, ser)
                series.append(ser)
            frames = "/".join(str(n) for n in sorted({p["row"]["frames"] for p in oks}))
            if still:
                what, unit = "1 picture", "bits per pixel (one picture per job)"
            else:
                fps = s.get("fps")
                what = f"{frames} frames"
                unit = f"kbps at {fps:g} frames/s" if isinstance(fps, (int, float)) else "kbps"
            out.append(
                Plot(
                    config=config,
                    sequence=s["name"],
                    title=f"{config} — {s['name']} ({s['width']}x{s['height']}, {what})",
                    xlabel=f"rate, {unit} (log scale)",
                    anchor=anchor,
                    series=series,
                )
            )
    return out


def render_plots(rep: Any, directory: Path) -> dict[tuple[str, str], str]:
    """Writes the plots of report ``rep`` into ``directory``; returns {(config, sequence):
    path relative to the report}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    directory.mkdir(parents=True, exist_ok=True)
    done: dict[tuple[str, str], str] = {}
    for plot in plots(rep):
        fig, (ax, dax) = plt.subplots(
            2, 1, figsize=(6.4, 6.4), dpi=100, sharex=True, height_ratios=(3, 2)
        )
        dax.axhline(0.0, color="k", lw=1.0)
        for i, ser in enumerate(plot.series):
            color = "k" if ser.setting == plot.anchor else f"C{i - 1}"
            style = dict(color=color, marker=MARKERS[i % len(MARKERS)], markersize=5)
            ax.plot(ser.rates, ser.psnr, linestyle="none", label=ser.label, **style)
            c = _curve(ser.rates, ser.psnr, math.log10(ser.rates[0]), math.log10(ser.rates[-1]))
            if c is not None:
                ax.plot([10**x for x in c[0]], c[1], "-", color=color, lw=1.2)
            if ser.delta is not None:
                dax.plot(*ser.delta, "-", color=color, lw=1.2)
            if ser.delta_points:
                dax.plot(*zip(*ser.delta_points, strict=True), linestyle="none", **style)
        dax.set_xlabel(plot.xlabel)
        ax.set_ylabel("Y-PSNR (dB)")
        dax.set_ylabel(f"ΔY-PSNR vs {plot.anchor}\nat equal rate (dB)")
        ax.set_title(plot.title)
        for a in (ax, dax):
            a.grid(True, which="both", alpha=0.3)
            a.set_xscale("log")
            a.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
            a.xaxis.set_minor_formatter(NullFormatter())
            a.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.legend(loc="upper left", fontsize="small")
        fig.tight_layout()
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in plot.sequence)
        path = directory / f"{plot.config}_{safe}.png"
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        plt.close(fig)
        atomic_write_bytes(path, buf.getvalue())
        done[(plot.config, plot.sequence)] = f"{directory.name}/{path.name}"
    return done
