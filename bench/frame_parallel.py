"""Wall-clock speed-up of frame-parallel All-Intra encoding (`cnnfilter encode --threads N`).

Encodes the same clip with --threads 1 and N (and, as a peer, x265 veryslow All-Intra with one
thread pool of 1 and of N threads), alternating the runs `--repeats` times, and reports the
median wall-clock seconds and the speed-up. Every cnnfilter bitstream must be identical.

    python bench/frame_parallel.py --clip bigbuckbunny-crop --frames 16 --threads 2 --repeats 3
    python bench/frame_parallel.py --cnn default ...   # the in-loop CNN on as well
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import CFG_FILES, VIDEO, VIDEO_CLIPS, cpu_name, tool

import cnnfilter

CLIPS = {k: VIDEO_CLIPS[k][:3] for k in ("bigbuckbunny-crop", "bikes", "bigbuckbunny")}


def ours(src: Path, w: int, h: int, frames: int, qp: int, threads: int, cnn, out: Path):
    t = time.perf_counter()
    cnnfilter.encode(
        src, out, cfg=CFG_FILES["AI"], width=w, height=h, fps=25,
        frames=frames, qp=qp, threads=threads, cnn=cnn,
    )  # fmt: skip
    return time.perf_counter() - t, hashlib.md5(out.read_bytes()).hexdigest()


def x265(src: Path, w: int, h: int, frames: int, qp: int, threads: int, out: Path) -> float:
    cmd = [tool("x265"), "--input", str(src), "--input-res", f"{w}x{h}", "--fps", "25",
           "--frames", str(frames), "--preset", "veryslow", "--tune", "psnr", "--keyint", "1",
           "--qp", str(qp), "--pools", str(threads), "--frame-threads", str(threads),
           "--no-wpp", "--no-progress", "--log-level", "error", "-o", str(out)]  # fmt: skip
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default="bigbuckbunny-crop", choices=list(CLIPS))
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--qp", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cnn", help="a model set for the in-loop CNN (default: off)")
    args = ap.parse_args()
    name, w, h = CLIPS[args.clip]
    src = VIDEO / name
    if not src.exists():
        sys.exit(f"error: {src} is missing (../shared/data)")
    times: dict[str, list[float]] = {}
    digests = set()
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for n in (1, args.threads):
                s, d = ours(src, w, h, args.frames, args.qp, n, args.cnn, Path(tmp) / "o.hevc")
                times.setdefault(f"cnnfilter --threads {n}", []).append(s)
                digests.add(d)
                s = x265(src, w, h, args.frames, args.qp, n, Path(tmp) / "x.hevc")
                times.setdefault(f"x265 veryslow, {n} thread(s)", []).append(s)
    if len(digests) != 1:
        sys.exit("error: the bitstreams differ between thread counts")
    print(f"machine: {cpu_name()}; clip {args.clip} {args.frames} frames, QP {args.qp}, "
          f"CNN {args.cnn or 'off'}, median of {args.repeats}")  # fmt: skip
    print("| encoder | wall s | speed-up |\n|---|---|---|")
    for enc in ("cnnfilter", "x265"):
        rows = [(k, statistics.median(v)) for k, v in times.items() if k.startswith(enc)]
        for k, med in rows:
            print(f"| {k} | {med:.2f} | {rows[0][1] / med:.2f}x |")
    print(f"bitstreams identical across thread counts: md5 {digests.pop()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
