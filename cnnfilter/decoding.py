"""Python API of the decoder: ``cnnfilter.decode``."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import _hevc
from .yuv import YuvWriter


@dataclass(frozen=True)
class PictureInfo:
    """One decoded picture, in decoding order."""

    poc: int
    decode_order: int
    slice_type: str
    qp: int
    hash: str  # "OK", "MISMATCH" or "absent"
    expected_hash: str
    computed_hash: str
    seconds: float
    width: int
    height: int
    ctus: int = 0
    cnn_ctus: int = 0  # CTUs that took the in-loop CNN output
    cnn_seconds: float = 0.0
    cnn_ignored: bool = False  # the stream asked for the CNN, the decoder was told to ignore it
    post_seconds: float = 0.0  # post-processing filter (not in-loop), when asked for


@dataclass
class DecodedPicture:
    """One output picture (cropped to the conformance window), in output order."""

    poc: int
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray


@dataclass
class DecodeResult:
    frames: list[PictureInfo] = field(default_factory=list)
    pictures: list[DecodedPicture] | None = None
    output: Path | None = None
    seconds: float = 0.0

    @property
    def hash_ok(self) -> bool:
        """True when no picture's hash mismatched and at least one was checked."""
        checked = [f for f in self.frames if f.hash != "absent"]
        return bool(checked) and all(f.hash == "OK" for f in checked)

    @property
    def mismatches(self) -> int:
        return sum(f.hash == "MISMATCH" for f in self.frames)


def _read_bitstream(bitstream: str | os.PathLike | bytes | bytearray | memoryview) -> bytes:
    if isinstance(bitstream, (bytes, bytearray, memoryview)):
        return bytes(bitstream)
    path = Path(bitstream)
    if not path.is_file():
        raise FileNotFoundError(f"bitstream not found: {path}")
    return path.read_bytes()


def decode(
    bitstream: str | os.PathLike | bytes,
    output: str | os.PathLike | None = None,
    *,
    output_bit_depth: int = 8,
    models: str | os.PathLike | None = None,
    ignore_cnn: bool = False,
    post: str | os.PathLike | Any | None = None,
    on_picture: Callable[[PictureInfo], None] | None = None,
) -> DecodeResult:
    """Decodes an HEVC Annex B stream.

    With ``output`` the pictures are written to that raw I420 file in output order (and not
    kept); otherwise they are returned as numpy arrays in ``result.pictures``. Each picture's
    decoded-picture-hash status is in ``result.frames``. A corrupt or truncated stream raises
    :class:`cnnfilter.BitstreamError`; an output file is then removed rather than left partial.

    Pictures the stream marks for the in-loop CNN are filtered with the model set its SEI names,
    looked up in ``models`` (default: the shipped sets); ``ignore_cnn`` applies the standard
    filters alone instead (their hashes then do not match, and each picture says so). ``post``
    applies a model set to the output pictures only (post-processing, nothing signalled).
    """
    if output_bit_depth not in (8,) and not 9 <= output_bit_depth <= 16:
        raise ValueError("output bit depth must be 8 or 9..16")
    data = _read_bitstream(bitstream)
    from .loop import LoopFilter, StreamModels, resolve

    stream_models = None if ignore_cnn else StreamModels(models)
    post_filter = LoopFilter(resolve(post)) if post is not None else None
    qp_of: dict[int, tuple[int, str]] = {}
    post_time: dict[int, float] = {}
    result = DecodeResult(pictures=None if output else [])
    out_path = Path(output) if output else None
    tmp = out_path.with_name(out_path.name + ".part") if out_path else None
    writer = YuvWriter(tmp, output_bit_depth) if tmp else None

    def on_decoded(rep: dict) -> None:
        info = PictureInfo(
            poc=rep["poc"],
            decode_order=rep["decode_order"],
            slice_type=rep["slice_type"],
            qp=rep["qp"],
            hash=rep["hash"],
            expected_hash=rep["expected_hash"],
            computed_hash=rep["computed_hash"],
            seconds=rep["seconds"],
            width=rep["width"],
            height=rep["height"],
            ctus=rep["ctus"],
            cnn_ctus=rep["cnn_ctus"],
            cnn_seconds=rep["cnn_seconds"],
            cnn_ignored=rep["cnn_ignored"],
        )
        qp_of[rep["decode_order"]] = (rep["qp"], rep["slice_type"])
        result.frames.append(info)
        if on_picture:
            on_picture(info)

    def on_output(poc: int, order: int, planes: list[np.ndarray]) -> None:
        if post_filter is not None:
            qp, slice_type = qp_of[order]
            t = time.perf_counter()
            y, u, v = post_filter(*planes, {"qp": qp, "slice_type": slice_type, "chroma": True})
            planes = [y, planes[1] if u is None else u, planes[2] if v is None else v]
            post_time[order] = time.perf_counter() - t
        if writer:
            writer.write(tuple(planes))
        else:
            y, u, v = (np.array(p) for p in planes)
            result.pictures.append(DecodedPicture(poc, y, u, v))

    t0 = time.perf_counter()
    try:
        _hevc.decode(data, on_decoded, on_output, stream_models, ignore_cnn)
    except BaseException:
        if writer:
            writer.close()
            tmp.unlink(missing_ok=True)
        raise
    result.seconds = time.perf_counter() - t0
    if post_time:
        result.frames = [
            dataclasses.replace(f, post_seconds=post_time.get(f.decode_order, 0.0))
            for f in result.frames
        ]
    if writer:
        writer.close()
        os.replace(tmp, out_path)
        result.output = out_path
    return result
