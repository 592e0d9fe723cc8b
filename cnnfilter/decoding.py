"""Python API of the decoder: ``cnnfilter.decode``."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import _hevc
from .errors import UserError, safe_text
from .outputs import atomic_output
from .yuv import YuvWriter

# YUV4MPEG2 colour tags by output bit depth (16-bit little-endian samples above 8). HEVC's
# default chroma sample location (type 0, co-sited left) is MPEG-2's.
Y4M_TAGS = {8: "C420mpeg2", 9: "C420p9", 10: "C420p10", 12: "C420p12", 14: "C420p14", 16: "C420p16"}
Y4M_ASSUMED_RATE = (25, 1)  # when the stream signals no picture rate


@dataclass(frozen=True)
class PictureInfo:
    """One decoded picture, in decoding order."""

    poc: int
    decode_order: int
    slice_type: str
    qp: int
    hash: str  # "OK", "MISMATCH", "absent" or "not checked" (verify_hash=False)
    expected_hash: str
    computed_hash: str
    seconds: float
    width: int
    height: int
    ctus: int = 0
    cnn_ctus: int = 0  # CTUs that took the in-loop CNN output
    cnn_seconds: float = 0.0
    # the samples the CNN read, as a share of the picture's (1.0: the whole picture; less when
    # only the regions around flagged CTUs were filtered, docs/models.md "Inference units")
    cnn_read_share: float = 0.0
    cnn_ignored: bool = False  # the stream asked for the CNN, the decoder was told to ignore it
    post_seconds: float = 0.0  # post-processing filter (not in-loop), when asked for
    refs: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())  # POCs of lists L0 and L1


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
    notes: list[str] = field(default_factory=list)  # printable; e.g. an assumed frame rate

    @property
    def hash_ok(self) -> bool:
        """True when no picture's hash mismatched and at least one was checked."""
        checked = [f for f in self.frames if f.hash in ("OK", "MISMATCH")]
        return bool(checked) and all(f.hash == "OK" for f in checked)

    @property
    def mismatches(self) -> int:
        return sum(f.hash == "MISMATCH" for f in self.frames)


def _read_bitstream(bitstream: str | os.PathLike | bytes | bytearray | memoryview):
    """The stream's bytes and its path (None for bytes)."""
    if isinstance(bitstream, (bytes, bytearray, memoryview)):
        return bytes(bitstream), None
    path = Path(bitstream)
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not a bitstream")
    if not path.is_file():
        raise FileNotFoundError(f"bitstream not found: {path}")
    return path.read_bytes(), path


class _Y4mWriter(YuvWriter):
    """YUV4MPEG2: one header (the first picture's size, ``rate``), FRAME per picture."""

    def __init__(self, path: Path, bit_depth: int, name: Path):
        super().__init__(path, bit_depth)
        self.name = name
        self.rate: tuple[int, int] | None = None  # set from the stream's timing, if any
        self.assumed = False
        self._size: tuple[int, int] | None = None

    def write(self, planes) -> None:
        size = (planes[0].shape[1], planes[0].shape[0])
        if self._size is None:
            if self.rate is None:
                self.rate, self.assumed = Y4M_ASSUMED_RATE, True
            num, den = self.rate
            tag = Y4M_TAGS[self.bit_depth]
            self._f.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F{num}:{den} Ip A0:0 {tag}\n".encode())
            self._size = size
        elif size != self._size:
            raise UserError(
                f"{self.name}: the stream changes picture size from {self._size[0]}x"
                f"{self._size[1]} to {size[0]}x{size[1]}, which a .y4m file cannot hold "
                "(write a .yuv instead)"
            )
        self._f.write(b"FRAME\n")
        super().write(planes)


def decode(
    bitstream: str | os.PathLike | bytes,
    output: str | os.PathLike | None = None,
    *,
    output_bit_depth: int = 8,
    models: str | os.PathLike | None = None,
    ignore_cnn: bool = False,
    post: str | os.PathLike | Any | None = None,
    on_picture: Callable[[PictureInfo], None] | None = None,
    verify_hash: bool = True,
    cnn_regions: bool = True,
) -> DecodeResult:
    """Decodes an HEVC Annex B stream.

    With ``output`` the pictures are written to that file in output order (and not kept): raw
    I420, or YUV4MPEG2 when the name ends in ``.y4m`` (the picture rate from the stream's VUI or
    VPS timing, else 25 fps, said in ``result.notes``). Otherwise they are returned as numpy
    arrays in ``result.pictures``. Each picture's decoded-picture-hash status is in
    ``result.frames``; ``verify_hash=False`` skips the verification (faster: ffmpeg does not
    verify either), and the pictures that carry a hash then say ``"not checked"``. A corrupt or
    truncated stream, or one without any picture, raises :class:`cnnfilter.BitstreamError` (its
    message starts with the file name); the output is checked before decoding and appears under
    its name only when the whole stream decoded.

    Pictures the stream marks for the in-loop CNN are filtered with the model set its SEI names,
    looked up in ``models`` (default: the shipped sets); ``ignore_cnn`` applies the standard
    filters alone instead (their hashes then do not match, and each picture says so). ``post``
    applies a model set to the output pictures only (post-processing, nothing signalled).
    The CNN runs only around the CTUs that take its output when the model declares its
    receptive field; ``cnn_regions=False`` filters whole pictures, as the encoder does (the
    same samples, slower: for timing comparisons).
    """
    if output_bit_depth not in (8,) and not 9 <= output_bit_depth <= 16:
        raise UserError("output bit depth must be 8 or 9..16")
    data, src = _read_bitstream(bitstream)
    out_path = Path(output) if output else None
    y4m = out_path is not None and out_path.suffix.lower() == ".y4m"
    if y4m and output_bit_depth not in Y4M_TAGS:
        depths = ", ".join(str(d) for d in Y4M_TAGS)
        raise UserError(
            f"{out_path}: a .y4m file has no {output_bit_depth}-bit format "
            f"(use an output bit depth of {depths}, or a .yuv output)"
        )
    from .loop import LoopFilter, StreamModels, resolve

    with contextlib.ExitStack() as stack:
        writer = None
        if out_path is not None:
            tmp = stack.enter_context(atomic_output(out_path, inputs=[src]))
            writer = (
                _Y4mWriter(tmp, output_bit_depth, out_path)
                if y4m
                else YuvWriter(tmp, output_bit_depth)
            )
            stack.callback(writer.close)  # before atomic_output renames or removes the file
        stream_models = None if ignore_cnn else StreamModels(models, cnn_regions)
        try:
            post_filter = LoopFilter(resolve(post)) if post is not None else None
        except (OSError, ValueError) as e:
            raise UserError(f"post-processing model set {post}: {e}") from None
        result = _run(data, src, writer, stream_models, post_filter, on_picture, verify_hash)
    result.output = out_path
    if isinstance(writer, _Y4mWriter) and writer.assumed:
        num, den = Y4M_ASSUMED_RATE
        result.notes.append(
            f"{out_path}: the stream signals no picture rate (VUI or VPS timing); the .y4m "
            f"header says {num}/{den} fps"
        )
    if stream_models is not None:
        result.notes += [safe_text(n) for n in stream_models.notes]
    return result


def _run(data, src, writer, stream_models, post_filter, on_picture, verify_hash) -> DecodeResult:
    """Decodes ``data`` (read from ``src``, None for bytes) into ``writer`` or the result."""
    qp_of: dict[int, tuple[int, str]] = {}
    post_time: dict[int, float] = {}
    result = DecodeResult(pictures=None if writer else [])

    samples = [(0, 0)]  # (read, total) of the picture whose CNN ran last

    def on_decoded(rep: dict) -> None:
        read, total = samples[0] if rep["cnn_ctus"] and not rep["cnn_ignored"] else (0, 0)
        samples[0] = (0, 0)
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
            cnn_read_share=read / total if total else 0.0,
            cnn_ignored=rep["cnn_ignored"],
            refs=(tuple(rep["refs"][0]), tuple(rep["refs"][1])),
        )
        tick, scale = rep["num_units_in_tick"], rep["time_scale"]
        if isinstance(writer, _Y4mWriter) and writer.rate is None and tick and scale:
            g = math.gcd(scale, tick)
            writer.rate = (scale // g, tick // g)
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

    cnn = None
    if stream_models is not None:

        def cnn(y, u, v, info):
            try:
                out = stream_models(y, u, v, info)
            except (OSError, ValueError) as e:
                if src is None:
                    raise
                # The stream names a model set that cannot be used: say which stream (same
                # type, so that callers can tell a missing set from a wrong one).
                raise type(e)(f"{src}: {e}") from None
            samples[0] = stream_models.last_samples
            return out

    t0 = time.perf_counter()
    try:
        _hevc.decode(data, on_decoded, on_output, cnn, stream_models is None, verify_hash)
    except _hevc.BitstreamError as e:
        if src is None:
            raise
        raise type(e)(f"{src}: {e}") from None
    result.seconds = time.perf_counter() - t0
    if post_time:
        result.frames = [
            dataclasses.replace(f, post_seconds=post_time.get(f.decode_order, 0.0))
            for f in result.frames
        ]
    return result
