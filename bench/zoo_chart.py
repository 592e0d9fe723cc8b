"""Chart of validation delta-PSNR against kMAC/pixel for training runs (the like-for-like zoo
comparison at one QP and one CPU-time budget).

    python bench/zoo_chart.py runs/*/summary.json --qp 37 -o docs/zoo_qp37.png

Reads each run's ``summary.json`` (written by ``cnnfilter train``), takes the network's
kMAC/pixel from the model registry, writes the PNG (matplotlib) and prints the Markdown table
behind it (network, kMAC/px, steps, CPU minutes, dPSNR over the unfiltered reconstruction and
over deblocking+SAO).
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
    args = ap.parse_args()

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
            }
        )
    rows.sort(key=lambda r: r["kmac"])
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    ax.scatter([r["kmac"] for r in rows], [r["d_rec"] for r in rows], color="C0", zorder=3)
    for i, r in enumerate(rows):
        # alternate above/below so that neighbours of similar cost stay readable
        off = (6, 4) if i % 2 == 0 else (6, -12)
        ax.annotate(r["arch"], (r["kmac"], r["d_rec"]), textcoords="offset points", xytext=off)
    lf = [r for r in rows if r["d_lf"] is not None]
    if lf:
        base = [r["d_rec"] - r["d_lf"] for r in lf]  # deblocking+SAO over unfiltered
        ax.axhline(sum(base) / len(base), color="C3", ls="--", label="deblocking + SAO")
        ax.legend(loc="center right")
    ax.set_xscale("log")
    ax.set_xlabel("kMAC / pixel (log)")
    ax.set_ylabel(f"validation ΔPSNR-Y at QP {args.qp} (dB)")
    ax.set_title("CNN filters: gain over the unfiltered reconstruction")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out)
    print("| network | kMAC/px | steps | training CPU-min | ΔPSNR vs unfiltered | vs DBF+SAO |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        d_lf = "-" if r["d_lf"] is None else f"{r['d_lf']:+.3f}"
        print(
            f"| {r['arch']} | {r['kmac']:.1f} | {r['steps']} | {r['cpu_min']:.1f} | "
            f"{r['d_rec']:+.3f} | {d_lf} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
