"""Learning curve of a training run: validation delta-PSNR-Y against CPU-hours, per QP.

    python bench/learning_curve.py models/training/ours -o docs/learning_curve_ours.png

Reads RUN/metrics.json (every periodic validation, written by ``cnnfilter train``) or, when
that is absent, the ``val_history`` of RUN/last.pt. The x axis is the CPU time of the training
steps (validation left out, as ``--minutes`` counts it). Solid lines: gain over the unfiltered
reconstruction; dashed: over deblocking + SAO (when the dataset has that baseline). Prints the
table behind the chart (Markdown).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def load_history(run: Path) -> tuple[str, list[dict]]:
    m = run / "metrics.json"
    if m.is_file():
        d = json.loads(m.read_text())
        return d.get("arch", run.name), d["validations"]
    import torch

    st = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
    return st["arch"], st.get("val_history", [])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", help="run directory (metrics.json or last.pt)")
    ap.add_argument("-o", "--out", required=True, help="output PNG")
    args = ap.parse_args()
    arch, hist = load_history(Path(args.run))
    if not hist:
        raise SystemExit(f"error: {args.run}: no validation recorded yet")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    qps = sorted(hist[-1]["delta_psnr_db"], key=int)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, q in enumerate(qps):
        pts = [(h["train_cpu_seconds"] / 3600.0, h) for h in hist if q in h["delta_psnr_db"]]
        x = [p[0] for p in pts]
        colour = f"C{i}"
        ax.plot(x, [h["delta_psnr_db"][q] for _, h in pts], "-o", ms=3, c=colour, label=f"QP {q}")
        lf = [
            (t, h["delta_psnr_vs_dbf_sao_db"][q]) for t, h in pts if "delta_psnr_vs_dbf_sao_db" in h
        ]
        if lf:
            ax.plot([a for a, _ in lf], [b for _, b in lf], "--", c=colour, lw=1)
    ax.axhline(0.0, c="k", lw=0.6)
    ax.set_xlabel("CPU-hours of training steps (one core)")
    ax.set_ylabel("validation ΔPSNR-Y (dB)")
    frames = hist[-1].get("frames", "?")
    ax.set_title(
        f"{arch}: over unfiltered (solid) and over deblocking+SAO (dashed), {frames} val. pictures"
    )
    ax.title.set_fontsize(9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    tmp.replace(out)

    print("| step | CPU-h | " + " | ".join(f"QP {q}" for q in qps) + " |")
    print("|---:|---:|" + "---:|" * len(qps))
    for h in hist:
        cells = " | ".join(f"{h['delta_psnr_db'].get(q, float('nan')):+.3f}" for q in qps)
        print(f"| {h['step']} | {h['train_cpu_seconds'] / 3600:.2f} | {cells} |")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
