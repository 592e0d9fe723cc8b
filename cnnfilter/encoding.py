"""Python API of the encoder: ``cnnfilter.encode``."""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import _hevc, yuv
from .config import ConfigError, Settings, resolve
from .errors import UserError
from .frame_parallel import check_frame_parallel, frame_parallel
from .gop import GopError, Picture, schedule, sps_needs
from .outputs import atomic_output, check_output_path


def psnr(sse: int, samples: int) -> float:
    """PSNR in dB with peak 255; 999.99 for a lossless picture (HM's convention)."""
    return 10 * math.log10(255.0 * 255.0 * samples / sse) if sse else 999.99


@dataclass(frozen=True)
class FrameStats:
    poc: int
    slice_type: str
    qp: int
    bits: int  # everything written for the picture, parameter sets and SEI included
    psnr_y: float
    psnr_u: float
    psnr_v: float
    seconds: float
    ctus: int = 0
    cnn_ctus: int = 0  # CTUs whose luma takes the CNN output
    cnn_mode: str = "none"  # signalled: none (CNN disabled), off, all, ctu
    cnn_flag_bits: int = 0  # bits of the slice header extension carrying the flags
    cnn_seconds: float = 0.0  # time in the CNN (part of `seconds`)
    temporal_id: int = 0
    refs: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())  # POCs of lists L0 and L1

    @property
    def cnn_share(self) -> float:
        return self.cnn_ctus / self.ctus if self.ctus else 0.0


@dataclass
class EncodeResult:
    frames: list[FrameStats] = field(default_factory=list)  # in coding order
    bitstream: Path | None = None
    recon: Path | None = None
    bytes: int = 0
    frame_rate: float = 25.0
    seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)
    # Per picture in coding order, the coding tree decided: uint8 (height/8, width/8 of the coded
    # picture), the CU's log2 size | PartMode << 4 per 8x8 unit (docs/encoder.md, "Coding trees").
    cu_trees: list[np.ndarray] = field(default_factory=list)

    @property
    def kbps(self) -> float:
        """Bitstream file bits per second at the frame rate (parameter sets included)."""
        return self.bytes * 8 * self.frame_rate / max(len(self.frames), 1) / 1000

    def _mean(self, attr: str) -> float:
        return sum(getattr(f, attr) for f in self.frames) / max(len(self.frames), 1)

    @property
    def psnr_y(self) -> float:
        return self._mean("psnr_y")

    @property
    def psnr_u(self) -> float:
        return self._mean("psnr_u")

    @property
    def psnr_v(self) -> float:
        return self._mean("psnr_v")

    @property
    def psnr_yuv(self) -> float:
        """The 6:1:1 weighted mean of the component PSNRs, as in JVET reporting."""
        return (6 * self.psnr_y + self.psnr_u + self.psnr_v) / 8


def settings_for(
    cfg: str | os.PathLike | list[str | os.PathLike] | None = None,
    overrides: Mapping[str, Any] | None = None,
    **explicit: Any,
) -> Settings:
    """Resolves cfg files, ``--Key=value`` overrides and explicit API arguments (in that order)."""
    files = [] if cfg is None else (list(cfg) if isinstance(cfg, (list, tuple)) else [cfg])
    merged = dict(overrides or {})
    merged.update({k: v for k, v in explicit.items() if v is not None})
    return resolve(files, merged)


def encode(
    input: str | os.PathLike,
    bitstream: str | os.PathLike | None = None,
    recon: str | os.PathLike | None = None,
    *,
    cfg: str | os.PathLike | list[str | os.PathLike] | None = None,
    width: int | None = None,
    height: int | None = None,
    fps: float | None = None,
    frames: int | None = None,
    frame_skip: int | None = None,
    qp: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    cnn: str | os.PathLike | Any | None = None,
    cnn_mode: str = "ctu",
    on_frame: Callable[[FrameStats], None] | None = None,
    cu_trees: Sequence[np.ndarray] | None = None,
    threads: int = 1,
) -> EncodeResult:
    """Encodes a raw I420 (.yuv) or .y4m file with HM-style settings.

    ``cfg`` names HM cfg files (e.g. ``cfg/encoder_intra_main.cfg``), ``overrides`` maps HM keys
    to values (e.g. ``{"SAO": 0, "LoopFilterDisable": 1}``); the explicit arguments win over both.
    ``cnn`` enables the in-loop CNN with a model set (a shipped name such as ``default``, a
    path, or a loaded :class:`cnnfilter.modelset.ModelSet`); ``cnn_mode`` chooses how it is
    switched: ``ctu`` (per CTU and component by RD), ``picture`` (per picture, CNN everywhere or
    nowhere), ``all`` (CNN everywhere) or ``off`` (signalled, never used).
    ``cu_trees`` gives each picture's coding tree (as ``EncodeResult.cu_trees`` returns them):
    CU sizes and PartModes are then taken from it and everything else is searched; the trees an
    encode returns, given back, reproduce its bitstream.
    ``threads`` > 1 codes All-Intra pictures in parallel, one encoder per thread (frame-parallel
    coding, ``cnnfilter.frame_parallel``); the bitstream is the same for any count.
    The bitstream and reconstruction are written to temporary names and renamed only when the
    whole encode succeeded, so a failure never leaves output that looks complete.
    """
    modes = {"off": 0, "picture": 1, "ctu": 2, "all": 3}
    if cnn_mode not in modes:
        raise ConfigError(f"cnn_mode '{cnn_mode}': use one of {', '.join(modes)}")
    s = settings_for(
        cfg,
        overrides,
        InputFile=str(input) if input is not None else None,
        BitstreamFile=str(bitstream) if bitstream is not None else None,
        ReconFile=str(recon) if recon is not None else None,
        SourceWidth=width,
        SourceHeight=height,
        FrameRate=fps,
        FramesToBeEncoded=frames,
        FrameSkip=frame_skip,
        QP=qp,
    )
    src = s["InputFile"]
    if not src:
        raise ConfigError("no input file (-i / InputFile)")
    is_y4m = Path(src).suffix.lower() == ".y4m"
    if not is_y4m and (s["SourceWidth"] % 2 or s["SourceHeight"] % 2):
        raise ConfigError(
            f"{src}: 4:2:0 input needs an even width and height, got "
            f"{s['SourceWidth']}x{s['SourceHeight']}"
        )
    info = yuv.probe(src, s["SourceWidth"] or None, s["SourceHeight"] or None)
    w, h = info.width, info.height
    if (
        is_y4m
        and (s["SourceWidth"] or s["SourceHeight"])
        and (s["SourceWidth"], s["SourceHeight"]) != (w, h)
    ):
        raise ConfigError(f"{src} is {w}x{h}, but {s['SourceWidth']}x{s['SourceHeight']} was given")
    if w % 2 or h % 2:
        raise ConfigError(f"{src}: 4:2:0 input needs an even width and height, got {w}x{h}")
    rate = (
        info.fps
        if is_y4m and "FrameRate" not in (overrides or {}) and fps is None
        else s["FrameRate"]
    )
    skip = s["FrameSkip"]
    count = s["FramesToBeEncoded"] or max(info.frames - skip, 0)
    if count <= 0:
        raise ConfigError(
            f"{src}: no frames to encode ({info.frames} in the file, FrameSkip {skip})"
        )
    if info.frames - skip < count:
        raise ConfigError(
            f"{src}: holds {info.frames} frame(s) of {w}x{h}, but {count} were asked for after "
            f"skipping {skip}"
        )
    s.values.update(SourceWidth=w, SourceHeight=h, FrameRate=rate, FramesToBeEncoded=count)
    if cu_trees is not None and len(cu_trees) != count:
        raise ConfigError(f"{len(cu_trees)} CU trees given for {count} frames")
    try:
        pictures = schedule(s.gop, s["IntraPeriod"], s["DecodingRefreshType"], count, s["QP"])
    except GopError as e:
        raise ConfigError(str(e)) from None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"threads must be a whole number >= 1, got {threads!r}")
    if threads > 1:
        check_frame_parallel(pictures, s)
    needs = sps_needs(pictures)
    enc_cfg = s.encoder_config()
    enc_cfg.update(
        max_temporal_layers=needs.max_temporal_layers,
        num_reorder_pics=needs.num_reorder_pics,
        max_dec_pic_buffering=needs.max_dec_pic_buffering,
    )
    loop = None
    if cnn is not None:
        from .loop import LoopFilter, resolve

        model_set = resolve(cnn)
        loop = LoopFilter(model_set)
        enc_cfg["cnn_mode"] = modes[cnn_mode]
    enc = _hevc.Encoder(enc_cfg)
    if loop is not None:
        enc.set_cnn(loop, model_set.identity, model_set.inference_mode)

    out_bs = Path(s["BitstreamFile"]) if s["BitstreamFile"] else None
    out_rec = Path(s["ReconFile"]) if s["ReconFile"] else None
    for out, what in ((out_bs, "bitstream"), (out_rec, "reconstruction")):
        if out is not None:
            check_output_path(out, inputs=[src], what=what)
    if out_bs is not None and out_rec is not None and out_bs.resolve() == out_rec.resolve():
        raise ConfigError(f"{out_bs}: the bitstream and the reconstruction need different files")
    result = EncodeResult(frame_rate=rate, settings=dict(s.values))
    if loop is not None:
        result.settings.update(
            CnnModelSet=model_set.name,
            CnnIdentity=model_set.identity.hex(),
            CnnInference=model_set.inference_mode,
            CnnMode=cnn_mode,
        )
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        fbs = frec = None
        if out_bs is not None:
            tmp_bs = stack.enter_context(atomic_output(out_bs, inputs=[src], what="bitstream"))
            fbs = stack.enter_context(tmp_bs.open("wb"))
        if out_rec is not None:
            tmp_rec = stack.enter_context(
                atomic_output(out_rec, inputs=[src], what="reconstruction")
            )
            frec = stack.enter_context(yuv.YuvWriter(tmp_rec))
        source = yuv.read_frames(src, w, h, skip=skip, count=count)
        waiting: dict[int, tuple] = {}  # reconstructions waiting for their turn in output order
        next_out = 0

        def code(enc: Any, i: int, pic: Picture, planes: tuple) -> tuple:
            if cu_trees is not None:
                _force_cu_tree(enc, cu_trees[i], i)
            r = enc.encode(*planes, **_picture_args(pic))
            return r, tuple(enc.recon(w, h)) if frec else None, enc.cu_tree()

        inputs = _in_coding_order(source, pictures)
        if threads == 1:
            coded = (code(enc, i, pic, planes) for i, (pic, planes) in enumerate(inputs))
        else:
            encoders = [enc] + [_hevc.Encoder(enc_cfg) for _ in range(threads - 1)]
            if loop is not None:
                for e in encoders[1:]:
                    e.set_cnn(loop, model_set.identity, model_set.inference_mode)
            coded = frame_parallel(encoders, inputs, code, _picture_args)
        for pic, (r, recon, tree) in zip(pictures, coded, strict=True):
            result.cu_trees.append(tree)
            if fbs:
                fbs.write(r["bytes"])
            result.bytes += len(r["bytes"])
            if frec:
                waiting[pic.frame] = recon
                while next_out in waiting:
                    frec.write(waiting.pop(next_out))
                    next_out += 1
            st = _stats(r, w * h, pic.temporal_id, loop is not None)
            result.frames.append(st)
            if on_frame:
                on_frame(st)
    # Leaving the block closed the files and renamed them to their final names.
    result.bitstream, result.recon = out_bs, out_rec
    result.seconds = time.perf_counter() - t0
    return result


def _in_coding_order(source, pictures: list[Picture]):
    """(picture, source planes) in coding order, reading the source once, in order, and
    holding only the frames read ahead of their turn (up to a GOP)."""
    ahead: dict[int, tuple] = {}
    read = 0
    for pic in pictures:
        while pic.frame not in ahead:
            ahead[read] = next(source)
            read += 1
        yield pic, ahead.pop(pic.frame)


def _picture_args(pic: Picture) -> dict[str, Any]:
    return {
        "poc": pic.poc,
        "slice_type": pic.slice_type,
        "qp": pic.qp,
        "nal_type": pic.nal_type,
        "temporal_id": pic.temporal_id,
        "refs": list(pic.refs),
        "ref_used": list(pic.ref_used),
        "num_ref_active": pic.num_ref_active,
        "lambda_factor": pic.lambda_factor,
    }


def _force_cu_tree(enc: Any, tree: Any, i: int) -> None:
    units = np.asarray(tree)
    if units.dtype != np.uint8 and (
        units.dtype.kind not in "iu" or units.min(initial=0) < 0 or units.max(initial=0) > 255
    ):
        raise ConfigError(f"frame {i}: a CU tree holds bytes, got {units.dtype} values")
    try:
        enc.force_cu_tree(units.astype(np.uint8))
    except ValueError as e:
        raise ConfigError(f"frame {i}: {e}") from None


def _stats(r: dict[str, Any], luma: int, temporal_id: int, cnn: bool) -> FrameStats:
    return FrameStats(
        poc=r["poc"],
        slice_type=r["slice_type"],
        qp=r["qp"],
        bits=r["bits"],
        psnr_y=psnr(r["sse"][0], luma),
        psnr_u=psnr(r["sse"][1], luma // 4),
        psnr_v=psnr(r["sse"][2], luma // 4),
        seconds=r["seconds"],
        ctus=r["ctus"],
        cnn_ctus=r["cnn_ctus"],
        cnn_mode=("off", "all", "ctu")[r["cnn_mode"]] if cnn else "none",
        cnn_flag_bits=r["cnn_flag_bits"],
        cnn_seconds=r["cnn_seconds"],
        temporal_id=temporal_id,
        refs=(tuple(r["refs"][0]), tuple(r["refs"][1])),
    )


def reconstruction_planes(result: EncodeResult) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Reads back the reconstruction file of an encode result."""
    if result.recon is None:
        raise UserError("the encode wrote no reconstruction file")
    w, h = result.settings["SourceWidth"], result.settings["SourceHeight"]
    return list(yuv.read_frames(result.recon, w, h))
