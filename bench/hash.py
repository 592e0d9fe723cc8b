"""Speed of the decoded-picture hashes that our decoder verifies, on one picture of a real clip.

Runs tools/hevc-hash-bench (our MD5, CRC and checksum over the three planes, as the hash SEI
defines them) and, as yardsticks on the same bytes, Python's hashlib.md5 (one digest per
plane, as the SEI has) and ``openssl speed md5`` on buffers of the luma plane's size. Our
MD5 values are checked against hashlib's first. MB/s count the picture's samples (1.5 bytes a
pixel); best of 5 runs.

    cmake -S . -B build/tools -G Ninja -DCNNFILTER_PYTHON=OFF && ninja -C build/tools
    python bench/hash.py [--tool build/tools/tools/hevc-hash-bench] [--clip FILE -w W -H H]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def hashlib_mbps(planes: list[bytes], n: int) -> float:
    best = 1e30
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            for p in planes:
                hashlib.md5(p).digest()
        best = min(best, (time.perf_counter() - t0) / n)
    return sum(map(len, planes)) / best / 1e6


def openssl_mbps(size: int) -> float | None:
    if not shutil.which("openssl"):
        return None
    r = subprocess.run(
        ["openssl", "speed", "-seconds", "2", "-bytes", str(size), "md5"],
        capture_output=True,
        text=True,
        check=True,
    )
    # The last line: "md5   NNNN.NNk" (thousands of bytes per second).
    return float(r.stdout.strip().splitlines()[-1].split()[-1].rstrip("k")) / 1000


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    video = ROOT.parent / "shared" / "data" / "video"
    ap.add_argument("--tool", default=str(ROOT / "build" / "tools" / "tools" / "hevc-hash-bench"))
    ap.add_argument("--clip", default=str(video / "bigbuckbunny-crop_416x240_25.yuv"))
    ap.add_argument("-w", type=int, default=416)
    ap.add_argument("-H", "--height", type=int, default=240)
    ap.add_argument("-n", type=int, default=300, help="hashes per timed run")
    args = ap.parse_args()
    w, h = args.w, args.height
    if not Path(args.tool).is_file():
        raise SystemExit(f"{args.tool}: not built (see the usage in {Path(__file__).name})")
    with open(args.clip, "rb") as f:
        picture = f.read(w * h * 3 // 2)
    planes = [picture[: w * h], picture[w * h : w * h * 5 // 4], picture[w * h * 5 // 4 :]]
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load "
        f"{os.getloadavg()[0]:.2f}; {w}x{h} picture of {Path(args.clip).name}"
    )
    with tempfile.TemporaryDirectory() as td:
        pic = Path(td) / "p.yuv"
        pic.write_bytes(picture)
        out = subprocess.run(
            [args.tool, "-i", str(pic), "-w", str(w), "-h", str(h), "-n", str(args.n)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    for line in out.splitlines():
        name, value, us, _, mbps, _ = line.split()
        if name == "md5" and value != ",".join(hashlib.md5(p).hexdigest() for p in planes):
            raise SystemExit("our MD5 differs from hashlib's")
        print(f"ours {name:8s} {float(us):8.1f} us/picture {float(mbps):8.1f} MB/s")
    t = hashlib_mbps(planes, args.n)
    print(f"hashlib.md5 (3 planes) {1.5 * w * h / t:8.1f} us/picture {t:8.1f} MB/s")
    o = openssl_mbps(w * h)
    if o is not None:
        print(f"openssl speed md5 ({w * h}-byte buffers) {o:8.1f} MB/s")
    print(f"load {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
