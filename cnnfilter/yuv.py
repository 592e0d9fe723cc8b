"""Raw I420 (.yuv) and YUV4MPEG2 (.y4m) reading and writing, 8-bit 4:2:0."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import UserError

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frames: int


def rgb_to_ycbcr420(rgb: np.ndarray) -> Planes:
    """8-bit RGB (H, W, >= 3 channels; H and W even) to Y, Cb, Cr uint8 planes, BT.601 limited
    range, chroma as the mean of each 2x2 block, rounded half up."""
    h, w = rgb.shape[0], rgb.shape[1]
    f = rgb[..., :3].astype(np.float64)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
    cb = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0
    cr = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0

    def down(c: np.ndarray) -> np.ndarray:
        return c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    def q(v: np.ndarray) -> np.ndarray:
        return np.clip(np.floor(v + 0.5), 0, 255).astype(np.uint8)

    return q(y), q(down(cb)), q(down(cr))


def frame_size(width: int, height: int) -> int:
    return width * height + 2 * ((width + 1) // 2) * ((height + 1) // 2)


def split_frame(buf: bytes | np.ndarray, width: int, height: int) -> Planes:
    a = np.frombuffer(buf, dtype=np.uint8)
    cw, ch = (width + 1) // 2, (height + 1) // 2
    y = a[: width * height].reshape(height, width)
    u = a[width * height : width * height + cw * ch].reshape(ch, cw)
    v = a[width * height + cw * ch : width * height + 2 * cw * ch].reshape(ch, cw)
    return y, u, v


def _parse_y4m_header(line: bytes) -> tuple[int, int, float]:
    fields = line.decode("ascii", "replace").split()
    if not fields or fields[0] != "YUV4MPEG2":
        raise UserError("not a YUV4MPEG2 file (missing 'YUV4MPEG2' signature)")
    width = height = 0
    fps = 25.0
    for f in fields[1:]:
        try:
            if f[0] == "W":
                width = int(f[1:])
            elif f[0] == "H":
                height = int(f[1:])
            elif f[0] == "F":
                num, den = (int(v) for v in f[1:].split(":"))
                if num <= 0 or den <= 0:
                    raise ValueError
                fps = num / den
        except ValueError:
            raise UserError(f"the .y4m header field '{f}' is not valid") from None
        if f[0] == "C" and not f[1:].startswith("420"):
            raise UserError(f"only 4:2:0 8-bit .y4m input is supported, this file is C{f[1:]}")
    if not 0 < width <= 16888 or not 0 < height <= 16888:
        raise UserError("the .y4m header has no valid W/H (1..16888)")
    return width, height, fps


def probe(
    path: str | Path, width: int | None = None, height: int | None = None, fps: float | None = None
) -> VideoInfo:
    """Dimensions, rate and frame count of a .yuv (needs width/height) or .y4m file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    if path.suffix.lower() == ".y4m":
        with path.open("rb") as f:
            header = f.readline(4096)
            try:
                w, h, r = _parse_y4m_header(header)
            except ValueError as e:
                raise UserError(f"{path}: {e}") from None
            data_start = len(header)
            size = os.path.getsize(path) - data_start
            fsize = frame_size(w, h)
            frames = 0
            pos = data_start
            while pos < data_start + size:
                f.seek(pos)
                line = f.readline()
                if not line.startswith(b"FRAME"):
                    break
                pos += len(line) + fsize
                if pos > data_start + size:
                    break
                frames += 1
        return VideoInfo(w, h, fps or r, frames)
    if not width or not height:
        raise UserError(f"{path}: raw .yuv input needs the width and height (-wdt/-hgt)")
    if width < 0 or height < 0:
        raise UserError(f"{path}: width and height must be positive, got {width}x{height}")
    fsize = frame_size(width, height)
    size = os.path.getsize(path)
    if size % fsize:
        raise UserError(
            f"{path}: size {size} bytes is not a whole number of {width}x{height} I420 frames "
            "(wrong -wdt/-hgt?)"
        )
    return VideoInfo(width, height, fps or 25.0, size // fsize)


def read_frames(
    path: str | Path,
    width: int | None = None,
    height: int | None = None,
    skip: int = 0,
    count: int | None = None,
) -> Iterator[Planes]:
    """Yields (y, u, v) planes; raises ValueError if the file holds fewer frames than asked."""
    path = Path(path)
    info = probe(path, width, height)
    w, h = info.width, info.height
    fsize = frame_size(w, h)
    available = info.frames - skip
    if count is None:
        count = max(available, 0)
    if available < count:
        raise UserError(
            f"{path}: {info.frames} frame(s) of {w}x{h} in the file, but frames "
            f"{skip}..{skip + count - 1} were asked for"
        )
    with path.open("rb") as f:
        if path.suffix.lower() == ".y4m":
            f.readline()
            for i in range(skip + count):
                line = f.readline()
                if not line.startswith(b"FRAME"):
                    raise UserError(f"{path}: frame {i} has no FRAME marker")
                buf = f.read(fsize)
                if i >= skip:
                    yield split_frame(buf, w, h)
        else:
            f.seek(skip * fsize)
            for _ in range(count):
                yield split_frame(f.read(fsize), w, h)


class YuvWriter:
    """Writes I420 frames; with bit_depth > 8 samples are scaled and stored as 16-bit LE."""

    def __init__(self, path: str | Path, bit_depth: int = 8):
        self.path = Path(path)
        self.bit_depth = bit_depth
        self._f = self.path.open("wb")

    def write(self, planes: Planes) -> None:
        for p in planes:
            if self.bit_depth > 8:
                self._f.write((p.astype("<u2") << (self.bit_depth - 8)).tobytes())
            else:
                self._f.write(np.ascontiguousarray(p).tobytes())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> YuvWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
