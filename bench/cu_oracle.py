"""What a perfect CU-size predictor would buy: the encoder's time with the coding tree given.

For each clip of ../shared/data/video (8 frames) and QP 22/27/32/37, `hevc-encode` runs twice:
the full search, writing the coding tree it chose (`--cu-tree-out`), then the same encode with
that tree forced (`--cu-tree-in`: CU sizes and PartModes given, everything else searched). The
two bitstreams must be identical (the bench stops otherwise), so the forced run's CPU time is
the encoder's time at zero BD-rate cost with an oracle for the tree: the ceiling of any
CU-size prediction. Rounds alternate the two and report medians.

    python bench/cu_oracle.py --rounds 3 --out cu_oracle.json
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rd_intra import CLIPS, QPS, ROOT  # noqa: E402


def build_encoder() -> Path:
    build = ROOT / "build" / "bench-tools"
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    opts = ["-DCNNFILTER_PYTHON=OFF", "-DCMAKE_BUILD_TYPE=Release"]
    subprocess.run(
        ["cmake", "-S", str(ROOT), "-B", str(build), *gen, *opts], check=True, capture_output=True
    )
    subprocess.run(
        ["cmake", "--build", str(build), "--target", "hevc-encode", "-j", "2"],
        check=True,
        capture_output=True,
    )
    return build / "tools" / "hevc-encode"


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd: list[str]) -> float:
    c0 = cpu_children()
    subprocess.run(cmd, check=True, capture_output=True)
    return cpu_children() - c0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "video"))
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out")
    args = ap.parse_args()
    data = Path(args.data)
    clips = [(n, data / f, w, h) for n, f, w, h, _ in CLIPS if (data / f).exists()]
    if len(clips) < len(CLIPS):
        raise SystemExit(f"need the four clips of {data} (see ../shared/data/SOURCES.md)")
    exe = str(build_encoder())
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "frames": args.frames, "clips": {}}
    totals = {"full": 0.0, "forced": 0.0}
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        for name, src, w, h in clips:
            row = {}
            for qp in QPS:
                base = [
                    exe,
                    "-i",
                    str(src),
                    "-wdt",
                    str(w),
                    "-hgt",
                    str(h),
                    "-f",
                    str(args.frames),
                    "-q",
                    str(qp),
                    "--hash=0",
                ]
                times: dict[str, list[float]] = {"full": [], "forced": []}
                for _ in range(args.rounds):
                    times["full"].append(
                        run([*base, "-b", str(tmp / "a.bin"), f"--cu-tree-out={tmp / 't'}"])
                    )
                    times["forced"].append(
                        run([*base, "-b", str(tmp / "b.bin"), f"--cu-tree-in={tmp / 't'}"])
                    )
                    if (tmp / "a.bin").read_bytes() != (tmp / "b.bin").read_bytes():
                        raise SystemExit(f"{name} QP {qp}: the forced tree changed the bitstream")
                med = {k: float(np.median(v)) / args.frames for k, v in times.items()}
                row[qp] = med
                for k in totals:
                    totals[k] += med[k]
            full = sum(r["full"] for r in row.values())
            forced = sum(r["forced"] for r in row.values())
            report["clips"][name] = {"per_qp": row, "speedup": full / forced}
            print(
                f"{name:18s} full search {full / len(QPS):.3f} s/frame, tree given "
                f"{forced / len(QPS):.3f} s/frame: {full / forced:.2f}x (bitstreams identical)",
                flush=True,
            )
    report["speedup"] = totals["full"] / totals["forced"]
    print(
        f"all clips: the tree given leaves {1 / report['speedup']:.0%} of the time "
        f"({report['speedup']:.2f}x)"
    )
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
