"""Shared fixtures: paths to ../shared, peer tools, and generated test content."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"real test content not available: {DATA} is missing")
    return DATA


def link_shared(shared: Path, root: Path, rels: list[str]) -> Path:
    """A content root under `root` holding symlinks to the files `rels` of ../shared/data; the
    test is skipped when one is missing."""
    for rel in rels:
        src = shared / rel
        if not src.is_file():
            pytest.skip(f"{src} is missing")
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(src)
    return root


def need_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.skip(
            f"peer tool '{name}' is not installed (apt-get install ffmpeg x265 libde265-examples)"
        )
    return path


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return need_tool("ffmpeg")


@pytest.fixture(scope="session")
def x265() -> str:
    return need_tool("x265")


@pytest.fixture(scope="session")
def dec265() -> str:
    return need_tool("libde265-dec265")


# CMake options of the sanitizer builds (AddressSanitizer + UBSan, aborting on the first report).
SANITIZE = ["-DCNNFILTER_SANITIZE=ON", "-DCMAKE_BUILD_TYPE=RelWithDebInfo"]


def sanitizer_report(stderr: str) -> bool:
    """Whether a sanitizer build reported an error (ASan, LSan: "Sanitizer"; UBSan)."""
    return "Sanitizer" in stderr or "runtime error" in stderr


def cmake_build(name: str, options: list[str], target: str | None = None) -> Path:
    """Configures and builds the C++ tree in build/<name> with extra CMake options."""
    if not shutil.which("cmake"):
        pytest.skip("cmake is needed to build the stand-alone C++ tools")
    build = ROOT / "build" / name
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(
        ["cmake", "-S", str(ROOT), "-B", str(build), *gen, "-DCNNFILTER_PYTHON=OFF", *options],
        check=True,
        capture_output=True,
    )
    only = ["--target", target] if target else []
    subprocess.run(
        ["cmake", "--build", str(build), *only, "-j", "2"], check=True, capture_output=True
    )
    return build


def ffmpeg_decode(ffmpeg: str, bitstream: Path) -> bytes:
    r = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(bitstream), "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
        capture_output=True,
        check=True,
    )
    return r.stdout


def x265_encode(
    x265: str,
    yuv: Path,
    width: int,
    height: int,
    out: Path,
    args: list[str],
    frames: int = 2,
    fps: int = 25,
) -> Path:
    cmd = [
        x265,
        "--input",
        str(yuv),
        "--input-res",
        f"{width}x{height}",
        "--fps",
        str(fps),
        "--frames",
        str(frames),
        "--no-info",
        "--hash",
        "1",
        *args,
        "-o",
        str(out),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"x265 failed: {' '.join(cmd)}\n{r.stderr}")
    return out


def image_to_yuv(ffmpeg: str, image: Path, out: Path, width: int, height: int) -> Path:
    """Converts an image to 8-bit I420, cropped to width x height (even sizes)."""
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-i",
            str(image),
            "-vf",
            f"crop={width}:{height}:0:0",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "rawvideo",
            str(out),
        ],
        check=True,
    )
    return out


def planes_bytes(planes) -> bytes:
    return b"".join(np.ascontiguousarray(p).tobytes() for p in planes)


def nal_starts(data: bytes) -> list[tuple[int, int]]:
    """(offset of the start code, nal_unit_type) of each NAL unit of an Annex B stream."""
    out, i = [], data.find(b"\x00\x00\x01")
    while i >= 0:
        start = i - 1 if i > 0 and data[i - 1] == 0 else i
        out.append((start, (data[i + 3] >> 1) & 0x3F))
        i = data.find(b"\x00\x00\x01", i + 3)
    return out


def trace_headers(ffmpeg: str, data: bytes) -> list[tuple[str, int]]:
    """(syntax element, value) of every header of a stream, as ffmpeg's own parser
    (trace_headers) reads them: an oracle independent of our header code."""
    r = subprocess.run(
        [ffmpeg, "-v", "trace", "-i", "-", "-c", "copy", "-bsf:v", "trace_headers", "-f", "null"]
        + ["-"],
        input=data,
        capture_output=True,
        check=True,
    )
    out = []
    for line in r.stderr.decode(errors="replace").splitlines():
        m = re.search(r"\[trace_headers @ [^]]*\] *\d+ +(\S+) +\S+ = (-?\d+)$", line)
        if m:
            out.append((m.group(1), int(m.group(2))))
    return out


@pytest.fixture(scope="module")
def bikes(shared_data) -> Path:
    """The 640x272 bikes clip of ../shared/data/video (30 frames)."""
    src = shared_data / "video" / "bikes_640x272_25.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    return src
