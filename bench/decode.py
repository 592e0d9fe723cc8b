"""Single-threaded decoding speed of cnnfilter's decoder next to ffmpeg and dec265.

Makes All-Intra streams with x265 (--keyint 1, QP 27 and 37) from a 416x240 real clip and from
the 1280x720 clip upscaled to 1920x1080 (ffmpeg, Lanczos), then times each decoder on the same
stream, concatenated to at least --min-frames pictures so that process start-up does not count
(best of --repeat runs, wall clock, no output written):
  * cnnfilter: the decoder core through ``cnnfilter._hevc.decode`` (no picture callbacks)
  * ffmpeg -threads 1 -f null -
  * libde265-dec265 -t 0 -q
Every decoder's output MD5 is checked against ffmpeg's before it is timed.

    python bench/decode.py [--frames 16] [--repeat 5] [--out bench/results/decode.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from cnnfilter import _hevc, decode  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import tool, upscale_1080p  # noqa: E402


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "video"))
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--min-frames", type=int, default=320)
    ap.add_argument("--out")
    args = ap.parse_args()
    ff, x265, d265 = tool("ffmpeg"), tool("x265"), tool("libde265-dec265")
    data = Path(args.data)
    small = data / "bigbuckbunny-crop_416x240_25.yuv"
    big = data / "bigbuckbunny_1280x720_25.yuv"
    if not small.exists() or not big.exists():
        raise SystemExit(f"needs the clips of {data}")
    rows = []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        up = upscale_1080p(big, 1280, 720, args.frames, tmp / "1080p.yuv")
        for name, src, w, h in (("416x240", small, 416, 240), ("1920x1080", up, 1920, 1080)):
            for qp in (27, 37):
                s = tmp / f"{name}_{qp}.hevc"
                subprocess.run(
                    [
                        x265,
                        "--input",
                        str(src),
                        "--input-res",
                        f"{w}x{h}",
                        "--fps",
                        "25",
                        "--frames",
                        str(args.frames),
                        "--keyint",
                        "1",
                        "--qp",
                        str(qp),
                        "--no-info",
                        "-o",
                        str(s),
                    ],
                    check=True,
                    capture_output=True,
                )
                ref = subprocess.run(
                    [ff, "-v", "error", "-i", str(s), "-f", "rawvideo", "-"],
                    capture_output=True,
                    check=True,
                ).stdout
                ours = decode(s)
                out = b"".join(p.tobytes() for pic in ours.pictures for p in (pic.y, pic.u, pic.v))
                assert hashlib.md5(out).hexdigest() == hashlib.md5(ref).hexdigest(), (
                    "output differs"
                )
                copies = max(1, -(-args.min_frames // args.frames)) if name == "416x240" else 4
                cat = tmp / f"{name}_{qp}_x{copies}.hevc"
                cat.write_bytes(s.read_bytes() * copies)
                s = cat
                data_bytes = s.read_bytes()
                t_ours = best_of(args.repeat, lambda b=data_bytes: _hevc.decode(b))
                t_ff = best_of(
                    args.repeat,
                    lambda s=s: subprocess.run(
                        [ff, "-v", "error", "-threads", "1", "-i", str(s), "-f", "null", "-"],
                        check=True,
                    ),
                )
                t_de = best_of(
                    args.repeat,
                    lambda s=s: subprocess.run(
                        [d265, "-t", "0", "-q", str(s)], check=True, capture_output=True
                    ),
                )
                n = args.frames * copies
                row = {
                    "stream": name,
                    "qp": qp,
                    "frames": n,
                    "cnnfilter_fps": n / t_ours,
                    "ffmpeg_fps": n / t_ff,
                    "dec265_fps": n / t_de,
                }
                rows.append(row)
                print(
                    f"{name:9s} QP {qp}: cnnfilter {row['cnnfilter_fps']:7.1f} fps  ffmpeg "
                    f"{row['ffmpeg_fps']:7.1f} fps  dec265 {row['dec265_fps']:7.1f} fps  "
                    f"(ours / ffmpeg {row['cnnfilter_fps'] / row['ffmpeg_fps']:.2f})",
                    flush=True,
                )
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(
            json.dumps(
                {
                    "date": time.strftime("%Y-%m-%d %H:%M"),
                    "machine": platform.platform(),
                    "rows": rows,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
