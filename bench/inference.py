"""Inference benchmark: milliseconds per frame and GFLOP/s achieved, per network and size.

Runs every network of the zoo (seeded random weights: the speed does not depend on the values)
or given exported models through the deterministic ONNX Runtime path that the model sets use
(CPU provider, pinned thread count and optimisation level, whole frame). Prints a Markdown
table for BENCHMARKS.md. GFLOP/s = 2 x MAC / time, with MAC = kMAC/pixel x width x height.

    python bench/inference.py                                  # every network, 3 sizes
    python bench/inference.py --nets vrcnn qpnet --sizes 416x240 --repeat 3
    python bench/inference.py --model models/default/vrcnn_qp37.onnx

Needs the 'train' extra (torch, onnx) to export the zoo; only onnxruntime for --model.
A (network, size) whose time, predicted from the previous size, exceeds --max-seconds is
skipped and reported as such (EDCNN at 1080p needs ~40 GMAC per frame... x 225).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

from cnnfilter.inference import InferenceSettings, ModelCard, OnnxFilter  # noqa: E402


def parse_size(s: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in s.lower().split("x"))
    except ValueError as e:
        raise SystemExit(f"size '{s}': use WxH, e.g. 416x240") from e
    return w, h


def picture(h: int, w: int) -> np.ndarray:
    from cnnfilter.export import synthetic_picture

    return synthetic_picture(h, w, seed=1)


def zoo_models(nets: list[str], tmp: Path) -> list[tuple[str, Path]]:
    import torch

    from cnnfilter.export import export_model
    from cnnfilter.models import build_model

    torch.set_num_threads(1)
    out = []
    for name in nets:
        torch.manual_seed(0)
        model = build_model(name)
        path, _ = export_model(
            model,
            name,
            tmp / f"{name}.onnx",
            qp_range=(0, 51),
            trained_qps=[37],
            slice_types=["I"],
        )
        out.append((name, path))
    return out


def bench_one(flt: OnnxFilter, w: int, h: int, repeat: int) -> float:
    pic = picture(h, w)
    flt.filter_plane(pic, 37)  # warm-up (allocations, first-run kernel selection)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        flt.filter_plane(pic, 37)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nets", nargs="+", help="zoo networks (default: all)")
    ap.add_argument("--model", nargs="+", help="exported .onnx models (with cards) instead")
    ap.add_argument("--sizes", nargs="+", default=["416x240", "1280x720", "1920x1080"])
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per size (median)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--opt", default="disable_all", help="graph optimisation level")
    ap.add_argument("--max-seconds", type=float, default=120.0, help="skip slower (net, size)")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    args = ap.parse_args()

    from cnnfilter.models import ARCHS

    settings = InferenceSettings(threads=args.threads, graph_optimization=args.opt)
    sizes = [parse_size(s) for s in args.sizes]
    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            models = [(Path(m).stem, Path(m)) for m in args.model]
        else:
            nets = args.nets or list(ARCHS)
            bad = [n for n in nets if n not in ARCHS]
            if bad:
                raise SystemExit(f"unknown network(s) {bad}; known: {', '.join(ARCHS)}")
            models = zoo_models(nets, Path(tmp))
        rows = []
        for name, path in models:
            card = ModelCard.from_dict(json.loads(path.with_suffix(".json").read_text()))
            kmac = float(card.raw.get("kmac_per_pixel", float("nan")))
            flt = OnnxFilter(path, card, settings)
            last_rate = None  # seconds per pixel at the previous size
            for w, h in sizes:
                row = {"model": name, "size": f"{w}x{h}", "kmac_per_pixel": kmac}
                if last_rate is not None and last_rate * w * h > args.max_seconds:
                    row.update(ms=None, gflops=None, note=f"skipped (~{last_rate * w * h:.0f} s)")
                else:
                    t = bench_one(flt, w, h, args.repeat)
                    last_rate = t / (w * h)
                    row.update(ms=t * 1000.0, gflops=2 * kmac * 1e3 * w * h / t / 1e9, note="")
                rows.append(row)
                ms = "-" if row["ms"] is None else f"{row['ms']:.1f}"
                gf = "-" if row["gflops"] is None else f"{row['gflops']:.1f}"
                print(f"  {name} {w}x{h}: {ms} ms, {gf} GFLOP/s {row['note']}", file=sys.stderr)
    cpu = platform.processor() or platform.machine()
    print(
        f"\nonnxruntime {ort.__version__}, {settings.mode_string()}, "
        f"{os.cpu_count()} CPU(s) ({cpu}), median of {args.repeat}\n"
    )
    print("| model | kMAC/px | " + " | ".join(f"{w}x{h} ms (GFLOP/s)" for w, h in sizes) + " |")
    print("|---|---:|" + "---:|" * len(sizes))
    for name, _ in models:
        cells = []
        for r in (r for r in rows if r["model"] == name):
            cells.append(r["note"] or f"{r['ms']:.1f} ({r['gflops']:.1f})")
        kmac = next(r["kmac_per_pixel"] for r in rows if r["model"] == name)
        print(f"| {name} | {kmac:.1f} | " + " | ".join(cells) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
