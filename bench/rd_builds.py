"""LDP and RA compression of two builds of cnnfilter's encoder, for a change that is meant to
move decisions (BD-rate Y/U/V of B against A, PCHIP, and the CPU-time ratio).

Each build is a Python interpreter with its own cnnfilter installed (a venv, or the editable
checkout). Both code the four clips of ../shared/data/video (16, 9, 17 and 16 frames) with
cfg/encoder_lowdelay_P_main.cfg and cfg/encoder_randomaccess_main.cfg at QP 22/27/32/37, no hash
SEI, at the same time, one process each. Rate = bytes x 8 x fps / frames / 1000; PSNR = mean
per-frame PSNR (peak 255) of the reconstruction against the source.

    python bench/rd_builds.py --a /work/venv-ci/bin/python --b python --out rd_builds.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from operator import itemgetter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The clips, configurations, QPs, frame counts and measures of bench/rd_inter.py, so that the
# two benchmarks' numbers are comparable. Importing it imports the interpreter's own cnnfilter.
from rd_inter import CFGS, CLIPS, MAX_FRAMES, QPS, ROOT, bd, frames_in, mean_psnr  # noqa: E402


def encode_all(data: Path, out: Path) -> None:
    """The child: every point with the cnnfilter this interpreter imports."""
    import cnnfilter

    rows = []
    with tempfile.TemporaryDirectory() as t:
        bs, rec = Path(t) / "s.hevc", Path(t) / "r.yuv"
        for label, name, w, h, fps in CLIPS:
            n = min(MAX_FRAMES, frames_in(data / name, w, h))
            for cfg, cfg_file in CFGS.items():
                for qp in QPS:
                    t0 = time.process_time()
                    cnnfilter.encode(
                        data / name, bs, rec, cfg=cfg_file, width=w, height=h, frames=n, qp=qp,
                        fps=fps, overrides={"SEIDecodedPictureHash": 0},
                    )  # fmt: skip
                    cpu = time.process_time() - t0
                    y, u, v = mean_psnr(data / name, rec, w, h, n)
                    kbps = bs.stat().st_size * 8 * fps / n / 1000
                    rows.append({"clip": label, "cfg": cfg, "qp": qp, "kbps": kbps, "cpu": cpu,
                                 "y": y, "u": u, "v": v})  # fmt: skip
                    print(label, cfg, qp, f"{kbps:.2f} kbps {y:.3f} {u:.3f} {v:.3f}", flush=True)
    out.write_text(json.dumps({"cnnfilter": cnnfilter.__file__, "rows": rows}, indent=1))


def report(a: dict, b: dict) -> dict:
    pts: dict = defaultdict(lambda: ([], []))
    for k, res in enumerate((a, b)):
        for r in res["rows"]:
            pts[(r["cfg"], r["clip"])][k].append(r)
    out, means = {}, defaultdict(list)
    print("| cfg | clip | BD-rate Y | U | V | CPU time B/A |\n|---|---|---|---|---|---|")
    for (cfg, clip), (ra, rb) in sorted(pts.items()):
        ra, rb = sorted(ra, key=lambda r: r["qp"]), sorted(rb, key=lambda r: r["qp"])
        got = {c: bd(ra, rb, itemgetter(c)) for c in "yuv"}
        t = sum(r["cpu"] for r in rb) / sum(r["cpu"] for r in ra)
        out[f"{cfg}/{clip}"] = {**got, "time": t}
        if got["y"] is not None:
            means[cfg].append((got["y"], t))
        cells = " | ".join("n/a" if x is None else f"{x:+.2f} %" for x in got.values())
        print(f"| {cfg} | {clip} | {cells} | {t:.3f} |")
    for cfg, v in means.items():
        y, t = sum(x for x, _ in v) / len(v), sum(x for _, x in v) / len(v)
        print(f"| {cfg} | **mean** | **{y:+.2f} %** | | | {t:.3f} |")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", help="build A's Python interpreter (the anchor)")
    ap.add_argument("--b", help="build B's Python interpreter (the test)")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "video"))
    ap.add_argument("--out", help="write both builds' points and the BD-rates as JSON")
    ap.add_argument("--child", help=argparse.SUPPRESS)  # internal: encode, write JSON here
    args = ap.parse_args()
    data = Path(args.data)
    if args.child:
        encode_all(data, Path(args.child))
        return 0
    if not args.a or not args.b:
        print("error: --a and --b name the two builds' Python interpreters", file=sys.stderr)
        return 2
    missing = [c[1] for c in CLIPS if not (data / c[1]).is_file()]
    if missing:
        print(f"error: {data}: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as t:
        outs = [Path(t) / "a.json", Path(t) / "b.json"]
        # run from the temporary folder, so that neither imports this checkout by accident
        procs = [
            subprocess.Popen(
                [py, str(Path(__file__).resolve()), "--data", str(data), "--child", str(o)], cwd=t
            )  # fmt: skip
            for py, o in zip((args.a, args.b), outs, strict=True)
        ]
        if any(p.wait() for p in procs):
            print("error: an encode failed (see above)", file=sys.stderr)
            return 2
        a, b = (json.loads(o.read_text()) for o in outs)
    print(f"A: {a['cnnfilter']}\nB: {b['cnnfilter']}")
    bd = report(a, b)
    if args.out:
        tmp = Path(args.out + ".part")
        tmp.write_text(json.dumps({"a": a, "b": b, "bd_rate_b_vs_a": bd}, indent=1))
        tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
