"""Single-threaded decoding speed of cnnfilter's decoder next to ffmpeg and dec265.

Makes x265 streams from a 416x240 real clip and from the 1280x720 clip upscaled to 1920x1080
(ffmpeg, Lanczos), QP 27 and 37, in three configurations:
  * AI: All-Intra (--keyint 1)
  * LDP: Low-Delay-P (--bframes 0 --ref 4)
  * RA: Random-Access (--bframes 7 --b-pyramid --keyint 32)
plus the HM-16.9 LDP and RA streams of --hm (whose first picture is an IDR picture, so that
they too can be concatenated). Each decoder is timed on the same stream, concatenated to at
least --min-frames pictures (4 copies at 1080p) so that process start-up does not count (best
of --repeat runs, wall clock, no output written):
  * cnnfilter: the decoder core through ``cnnfilter._hevc.decode`` (no picture callbacks), with
    and without verifying the decoded-picture-hash SEIs (``verify_hash=False``; neither peer
    verifies them)
  * ffmpeg -threads 1 -f null -, and the same with -err_detect crccheck (which verifies the
    decoded-picture-hash SEIs, as ours does by default)
  * libde265-dec265 -t 0 -q
Our output MD5 is checked against ffmpeg's, on the concatenated stream, before it is timed.
With --simd LEVEL..., our decoder is also timed in a child process per forced kernel level
(CNNFILTER_SIMD, read at start-up), decoding the same bytes in the same way. With --baseline PY,
another build of ours (the Python interpreter PY imports it, e.g. a venv with main installed) is
timed the same way, for a before/after in the same run.

    python bench/decode.py [--frames 16] [--repeat 3] [--configs ai ldp ra hm]
                           [--simd c sse2 avx2] [--baseline PY] [--out FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
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

X265_CONFIGS = {
    "ai": ["--keyint", "1"],
    "ldp": ["--bframes", "0", "--ref", "4"],
    "ra": ["--bframes", "7", "--b-pyramid", "--keyint", "32"],
}


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def starts_with_idr(data: bytes) -> bool:
    """Whether the first slice NAL unit of an Annex B stream is an IDR picture's (19 or 20)."""
    i = data.find(b"\x00\x00\x01")
    while i >= 0 and i + 3 < len(data):
        nal_type = (data[i + 3] >> 1) & 0x3F
        if nal_type < 32:
            return nal_type in (19, 20)
        i = data.find(b"\x00\x00\x01", i + 3)
    return False


# Our decoder at a forced kernel level: best-of-N seconds of _hevc.decode on the file argv[1].
CHILD = (
    "import sys, time\n"
    "from cnnfilter import _hevc\n"
    "data = open(sys.argv[1], 'rb').read()\n"
    "best = 1e9\n"
    "for _ in range(int(sys.argv[2])):\n"
    "    t0 = time.perf_counter(); _hevc.decode(data); best = min(best, time.perf_counter() - t0)\n"
    "print(best)\n"
)


def time_in_child(cat: Path, repeat: int, level: str = "", python: str = sys.executable) -> float:
    env = {**os.environ, "CNNFILTER_SIMD": level} if level else None
    r = subprocess.run(
        [python, "-c", CHILD, str(cat), str(repeat)],
        env=env,
        cwd="/",  # so that `python` imports its installed cnnfilter, not this source tree's
        capture_output=True,
        text=True,
        check=True,
    )
    return float(r.stdout)


def measure(
    ff: str,
    d265: str,
    s: Path,
    copies: int,
    repeat: int,
    levels: list[str] | None = None,
    baseline: str | None = None,
) -> dict:
    """Times the three decoders on `copies` copies of stream `s`, after checking our output."""
    cat = s.with_name(f"{s.stem}_x{copies}.hevc")
    cat.write_bytes(s.read_bytes() * copies)
    ref = subprocess.run(
        [ff, "-v", "error", "-i", str(cat), "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
        capture_output=True,
        check=True,
    ).stdout
    ours = decode(cat)
    out = b"".join(p.tobytes() for pic in ours.pictures for p in (pic.y, pic.u, pic.v))
    if hashlib.md5(out).hexdigest() != hashlib.md5(ref).hexdigest():
        raise SystemExit(f"{s.name}: our output differs from ffmpeg's")
    n = len(ours.pictures)
    data = cat.read_bytes()
    t_ours = best_of(repeat, lambda: _hevc.decode(data))
    t_ours_unchecked = best_of(repeat, lambda: _hevc.decode(data, verify_hash=False))
    t_ff = best_of(
        repeat,
        lambda: subprocess.run(
            [ff, "-v", "error", "-threads", "1", "-i", str(cat), "-f", "null", "-"], check=True
        ),
    )
    # ffmpeg verifies the decoded-picture hashes only when asked: our default's counterpart.
    t_ff_check = best_of(
        repeat,
        lambda: subprocess.run(
            [ff, "-v", "error", "-threads", "1", "-err_detect", "crccheck", "-i", str(cat)]
            + ["-f", "null", "-"],
            check=True,
        ),
    )
    t_de = best_of(
        repeat,
        lambda: subprocess.run([d265, "-t", "0", "-q", str(cat)], check=True, capture_output=True),
    )
    per_level = {lv: n / time_in_child(cat, repeat, lv) for lv in levels or []}
    base = n / time_in_child(cat, repeat, python=baseline) if baseline else None
    cat.unlink()
    return {
        "cnnfilter_fps_at": per_level,
        "baseline_fps": base,
        "frames": n,
        "cnnfilter_fps": n / t_ours,
        "cnnfilter_no_hash_check_fps": n / t_ours_unchecked,
        "ffmpeg_fps": n / t_ff,
        "ffmpeg_crccheck_fps": n / t_ff_check,
        "dec265_fps": n / t_de,
        "load_avg": os.getloadavg()[0],
    }


def report(row: dict) -> None:
    print(
        f"{row['config']:3s} {row['stream']:22s} QP {row['qp']}: cnnfilter "
        f"{row['cnnfilter_fps']:7.1f} fps (no hash check {row['cnnfilter_no_hash_check_fps']:7.1f})"
        f"  ffmpeg {row['ffmpeg_fps']:7.1f} fps"
        f" (verifying hashes {row['ffmpeg_crccheck_fps']:7.1f})  dec265 "
        f"{row['dec265_fps']:7.1f} fps  (ours / ffmpeg "
        f"{row['cnnfilter_fps'] / row['ffmpeg_fps']:.2f}, ours / dec265 "
        f"{row['cnnfilter_fps'] / row['dec265_fps']:.2f}; load {row['load_avg']:.2f})"
        + "".join(f"  {lv} {fps:.1f} fps" for lv, fps in row["cnnfilter_fps_at"].items())
        + (f"  baseline {row['baseline_fps']:.1f} fps" if row["baseline_fps"] else ""),
        flush=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "video"))
    ap.add_argument("--hm", default=str(ROOT.parent / "shared" / "data" / "conformance" / "hm16.9"))
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--min-frames", type=int, default=320)
    ap.add_argument("--configs", nargs="+", default=["ai", "ldp", "ra", "hm"])
    ap.add_argument("--simd", nargs="*", default=[], help="kernel levels to time ours at too")
    ap.add_argument("--baseline", metavar="PY", help="a Python whose cnnfilter to time too")
    ap.add_argument("--out")
    args = ap.parse_args()
    ff, x265, d265 = tool("ffmpeg"), tool("x265"), tool("libde265-dec265")
    data = Path(args.data)
    small = data / "bigbuckbunny-crop_416x240_25.yuv"
    big = data / "bigbuckbunny_1280x720_25.yuv"
    if not small.exists() or not big.exists():
        raise SystemExit(f"needs the clips of {data}")
    rows = []
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        up = upscale_1080p(big, 1280, 720, args.frames, tmp / "1080p.yuv")
        for name, src, w, h in (("416x240", small, 416, 240), ("1920x1080", up, 1920, 1080)):
            for config in [c for c in args.configs if c in X265_CONFIGS]:
                for qp in (27, 37):
                    s = tmp / f"{config}_{name}_{qp}.hevc"
                    subprocess.run(
                        [x265, "--input", str(src), "--input-res", f"{w}x{h}", "--fps", "25"]
                        + ["--frames", str(args.frames), "--qp", str(qp), "--no-info"]
                        + X265_CONFIGS[config]
                        + ["-o", str(s)],
                        check=True,
                        capture_output=True,
                    )
                    copies = max(1, -(-args.min_frames // args.frames)) if w < 1920 else 4
                    row = {"config": config, "stream": name, "qp": qp}
                    row.update(measure(ff, d265, s, copies, args.repeat, args.simd, args.baseline))
                    rows.append(row)
                    report(row)
        hm = Path(args.hm)
        for s in sorted(hm.glob("*.bit")) if "hm" in args.configs else []:
            data_bytes = s.read_bytes()
            if not starts_with_idr(data_bytes):
                print(f"{s.name}: skipped (does not start with an IDR picture)", flush=True)
                continue
            frames = len(decode(s).pictures)
            local = tmp / s.name
            local.write_bytes(data_bytes)
            copies = max(1, -(-args.min_frames // frames))
            _, clip, cfg, qp = s.stem.split("-")
            row = {"config": f"hm-{cfg}", "stream": clip, "qp": int(qp[2:])}
            row.update(measure(ff, d265, local, copies, args.repeat, args.simd, args.baseline))
            rows.append(row)
            report(row)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(
            json.dumps(
                {
                    "date": time.strftime("%Y-%m-%d %H:%M"),
                    "machine": platform.platform(),
                    "cpu": cpu_model(),
                    "nproc": os.cpu_count(),
                    "load_avg_start": load_start,
                    "load_avg_end": os.getloadavg(),
                    "rows": rows,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
