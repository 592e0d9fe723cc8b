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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIPS = [
    ("bigbuckbunny-crop_416x240_25.yuv", 416, 240, 25, 16),
    ("CiscoVT2people_320x192_12.yuv", 320, 192, 12, 9),
    ("bikes_640x272_25.yuv", 640, 272, 25, 17),
    ("bigbuckbunny_1280x720_25.yuv", 1280, 720, 25, 16),
]
CFGS = {"LDP": "encoder_lowdelay_P_main.cfg", "RA": "encoder_randomaccess_main.cfg"}
QPS = (22, 27, 32, 37)


def encode_all(data: Path, out: Path) -> None:
    """The child: every point with the cnnfilter this interpreter imports."""
    import numpy as np

    import cnnfilter
    from cnnfilter import yuv

    rows = []
    with tempfile.TemporaryDirectory() as t:
        bs, rec = Path(t) / "s.hevc", Path(t) / "r.yuv"
        for name, w, h, fps, n in CLIPS:
            src = list(yuv.read_frames(data / name, w, h, count=n))
            for cfg, cfg_file in CFGS.items():
                for qp in QPS:
                    t0 = time.process_time()
                    cnnfilter.encode(
                        data / name, bs, rec, cfg=ROOT / "cfg" / cfg_file, width=w, height=h,
                        frames=n, qp=qp, fps=fps, overrides={"SEIDecodedPictureHash": 0},
                    )  # fmt: skip
                    cpu = time.process_time() - t0
                    mse = [
                        [
                            np.mean((a.astype(float) - b.astype(float)) ** 2)
                            for a, b in zip(s, r, strict=True)
                        ]
                        for s, r in zip(src, yuv.read_frames(rec, w, h, count=n), strict=True)
                    ]
                    psnr = np.mean(10 * np.log10(255.0**2 / np.maximum(mse, 1e-10)), axis=0)
                    kbps = bs.stat().st_size * 8 * fps / n / 1000
                    rows.append({"clip": name, "cfg": cfg, "qp": qp, "kbps": kbps, "cpu": cpu,
                                 **dict(zip("yuv", map(float, psnr), strict=True))})  # fmt: skip
                    print(name, cfg, qp, f"{kbps:.2f} kbps", np.round(psnr, 3), flush=True)
    out.write_text(json.dumps({"cnnfilter": cnnfilter.__file__, "rows": rows}, indent=1))


def report(a: dict, b: dict) -> dict:
    from cnnfilter.bdrate import bd_rate

    pts: dict = defaultdict(lambda: ([], []))
    for k, res in enumerate((a, b)):
        for r in res["rows"]:
            pts[(r["cfg"], r["clip"])][k].append(r)
    out, means = {}, defaultdict(list)
    print("| cfg | clip | BD-rate Y | U | V | CPU time B/A |\n|---|---|---|---|---|---|")
    for (cfg, clip), (ra, rb) in sorted(pts.items()):
        ra, rb = sorted(ra, key=lambda r: r["qp"]), sorted(rb, key=lambda r: r["qp"])
        bd = {c: bd_rate([r["kbps"] for r in ra], [r[c] for r in ra],
                         [r["kbps"] for r in rb], [r[c] for r in rb]) for c in "yuv"}  # fmt: skip
        t = sum(r["cpu"] for r in rb) / sum(r["cpu"] for r in ra)
        out[f"{cfg}/{clip}"] = {**bd, "time": t}
        means[cfg].append((bd["y"], t))
        print(
            f"| {cfg} | {clip} | {bd['y']:+.2f} % | {bd['u']:+.2f} % | {bd['v']:+.2f} % | {t:.3f} |"
        )
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
    missing = [c[0] for c in CLIPS if not (data / c[0]).is_file()]
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
