"""Chart of validation delta-PSNR against kMAC/pixel for training runs (the like-for-like zoo
comparison at one QP and one CPU-time budget).

    python bench/zoo_chart.py runs/*/summary.json --qp 37 -o docs/zoo_qp37.png \
        [--speed inference.json]

Reads each run's ``summary.json`` (written by ``cnnfilter train``), takes the network's
kMAC/pixel from the model registry, writes the PNG (matplotlib) and prints the Markdown table
behind it (network, kMAC/px, steps, CPU minutes, dPSNR over the unfiltered reconstruction and
over deblocking+SAO). With ``--speed`` (the ``--json`` rows of ``bench/inference.py`` at
1280x720), a second panel plots the same gains against inference milliseconds per 720p picture,
and the table gains that column.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("summaries", nargs="+", help="summary.json files of training runs")
    ap.add_argument("--qp", default="37", help="QP to plot")
    ap.add_argument("-o", "--out", required=True, help="output PNG")
    ap.add_argument("--speed", help="bench/inference.py --json rows (1280x720) for a second panel")
    args = ap.parse_args()
    ms_720p: dict[str, float] = {}
    if args.speed:
        for r in json.loads(Path(args.speed).read_text()):
            if r.get("size") == "1280x720" and r.get("ms") is not None:
                ms_720p[r["model"]] = float(r["ms"])

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cnnfilter.models import model_cost

    rows = []
    for s in args.summaries:
        d = json.loads(Path(s).read_text())
        v = d["validation"]
        if args.qp not in v.get("delta_psnr_db", {}):
            raise SystemExit(f"{s}: no validation result at QP {args.qp}")
        _, _, kmac = model_cost(d["arch"])
        rows.append(
            {
                "arch": d["arch"],
                "kmac": kmac,
                "steps": d["step"],
                # the budgeted training time (validation excluded) when the run records it
                "cpu_min": d.get("train_cpu_seconds", d["cpu_seconds"]) / 60.0,
                "d_rec": v["delta_psnr_db"][args.qp],
                "d_lf": v.get("delta_psnr_vs_dbf_sao_db", {}).get(args.qp),
                "frames": v.get("frames"),
                "ms": ms_720p.get(d["arch"]),
            }
        )
    if args.speed:
        missing = [r["arch"] for r in rows if r["ms"] is None]
        if missing:
            raise SystemExit(f"{args.speed}: no 1280x720 time for {', '.join(missing)}")
    rows.sort(key=lambda r: r["kmac"])
    panels = [("kmac", "kMAC / pixel (log)")]
    if args.speed:
        panels.append(("ms", "inference ms per 1280x720 picture, one core (log)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 4.2), dpi=120)
    axes = list(axes) if len(panels) > 1 else [axes]
    for ax, (key, label) in zip(axes, panels, strict=True):
        order = sorted(rows, key=lambda r: r[key])
        ax.scatter([r[key] for r in order], [r["d_rec"] for r in order], color="C0", zorder=3)
        for i, r in enumerate(order):
            # alternate above/below so that neighbours of similar cost stay readable
            off = (6, 4) if i % 2 == 0 else (6, -12)
            ax.annotate(r["arch"], (r[key], r["d_rec"]), textcoords="offset points", xytext=off)
        lf = [r for r in rows if r["d_lf"] is not None]
        if lf:
            base = [r["d_rec"] - r["d_lf"] for r in lf]  # deblocking+SAO over unfiltered
            ax.axhline(sum(base) / len(base), color="C3", ls="--", label="deblocking + SAO")
            ax.legend(loc="lower left")
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel(f"validation ΔPSNR-Y at QP {args.qp} (dB)")
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("CNN filters: gain over the unfiltered reconstruction")
    fig.tight_layout()
    fig.savefig(args.out)
    ms_head, ms_rule = (" ms per 720p |", "---:|") if args.speed else ("", "")
    print(
        f"| network | kMAC/px |{ms_head} steps | training CPU-min | ΔPSNR vs unfiltered "
        "| vs DBF+SAO |"
    )
    print(f"|---|---:|{ms_rule}---:|---:|---:|---:|")
    for r in rows:
        d_lf = "-" if r["d_lf"] is None else f"{r['d_lf']:+.3f}"
        ms = f" {r['ms']:.0f} |" if args.speed else ""
        print(
            f"| {r['arch']} | {r['kmac']:.1f} |{ms} {r['steps']} | {r['cpu_min']:.1f} | "
            f"{r['d_rec']:+.3f} | {d_lf} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
