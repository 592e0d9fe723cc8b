"""``cnnfilter encode``: HM TAppEncoder-style encoding."""

from __future__ import annotations

import argparse

from ..config import parse_overrides
from ..encoding import FrameStats, encode
from ..errors import UserError

_HM_FLAGS = {
    "i": "InputFile",
    "b": "BitstreamFile",
    "o": "ReconFile",
    "q": "QP",
    "wdt": "SourceWidth",
    "hgt": "SourceHeight",
    "fr": "FrameRate",
    "f": "FramesToBeEncoded",
    "fs": "FrameSkip",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "encode",
        help="encode raw I420 / .y4m video to HEVC (HM-style options)",
        description="Encode with HM-16.9-style decisions. Options follow HM's TAppEncoder: "
        "-c cfg files (later ones override earlier), the short flags below, and any HM "
        "configuration key as --Key=value (e.g. --SAO=0 --LoopFilterDisable=1). Unknown keys "
        "and unsupported values are errors (exit code 2). See docs/encoder.md for the keys.",
    )
    p.add_argument("-c", dest="cfg", action="append", default=[], metavar="CFG", help="cfg file")
    p.add_argument("-i", metavar="FILE", help="input .yuv (needs -wdt/-hgt) or .y4m (InputFile)")
    p.add_argument("-b", metavar="FILE", help="output bitstream (BitstreamFile)")
    p.add_argument("-o", metavar="FILE", help="output reconstruction, raw I420 (ReconFile)")
    p.add_argument("-q", type=int, metavar="QP", help="QP (0..51)")
    p.add_argument("-wdt", type=int, metavar="W", help="source width (SourceWidth)")
    p.add_argument("-hgt", type=int, metavar="H", help="source height (SourceHeight)")
    p.add_argument("-fr", type=float, metavar="FPS", help="frame rate (FrameRate)")
    p.add_argument("-f", type=int, metavar="N", help="frames to encode (FramesToBeEncoded)")
    p.add_argument("-fs", type=int, metavar="N", help="frames to skip (FrameSkip)")
    p.add_argument(
        "--cnn",
        metavar="MODELSET",
        help="enable the in-loop CNN with this model set (a shipped name such as 'default', or a "
        "path); see docs/models.md",
    )
    p.add_argument(
        "--cnn-mode",
        choices=("off", "picture", "ctu", "all"),
        default="ctu",
        help="how the CNN is switched against deblocking + SAO: per CTU by RD (default), per "
        "picture, everywhere, or signalled but never used",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="N",
        help="code N All-Intra pictures at once, one encoder per thread (the same bitstream for "
        "any N; default 1, so that timings compare with HM's)",
    )
    p.add_argument("--quiet", action="store_true", help="no per-frame lines")
    p.set_defaults(func=run, accepts_unknown=True)


def _cfg_names_output(cfg_files: list[str]) -> bool:
    from ..config import parse_cfg_file

    return any(v.get("BitstreamFile") or v.get("ReconFile") for v in map(parse_cfg_file, cfg_files))


def _line(f: FrameStats) -> str:
    line = (
        f"POC {f.poc:4d} ( {f.slice_type}-SLICE, QP {f.qp:2d} ) {f.bits:10d} bits "
        f"[Y {f.psnr_y:7.4f} dB    U {f.psnr_u:7.4f} dB    V {f.psnr_v:7.4f} dB] "
        f"[ET {f.seconds:7.3f} s]"
    )
    if f.slice_type != "I":
        lists = [("L0", f.refs[0])] + ([("L1", f.refs[1])] if f.slice_type == "B" else [])
        line += "".join(f" [{name} {' '.join(map(str, pocs))}]" for name, pocs in lists)
    if f.cnn_mode != "none":
        codec = f.seconds - f.cnn_seconds
        line += (
            f" [CNN {f.cnn_mode}: {100 * f.cnn_share:5.1f}% of CTUs, {f.cnn_flag_bits} flag bits, "
            f"{f.cnn_seconds:.3f} s CNN / {codec:.3f} s codec]"
        )
    return line


def _print_per_slice_type(frames: list[FrameStats], rate: float) -> None:
    """HM's I/P/B blocks: each slice type's pictures, their bits (slice data, SEI and parameter
    sets as written) at the frame rate, and their mean PSNRs."""
    for t in "IPB":
        fs = [f for f in frames if f.slice_type == t]
        k = max(len(fs), 1)
        y, u, v = (sum(getattr(f, c) for f in fs) / k for c in ("psnr_y", "psnr_u", "psnr_v"))
        kbps = sum(f.bits for f in fs) * rate / k / 1000
        print(f"{t} Slices {'-' * 56}")
        print("\tTotal Frames |   Bitrate     Y-PSNR    U-PSNR    V-PSNR    YUV-PSNR")
        print(
            f"\t{len(fs):8d}    {t.lower()} {kbps:12.4f}  {y:8.4f}  {u:8.4f}  {v:8.4f}  "
            f"{(6 * y + u + v) / 8:8.4f}"
        )
        print()


def run(args: argparse.Namespace) -> int:
    overrides = parse_overrides(args.unknown)
    for flag, key in _HM_FLAGS.items():
        value = getattr(args, flag)
        if value is not None:
            overrides[key] = value
    if (
        not overrides.get("BitstreamFile")
        and not overrides.get("ReconFile")
        and not _cfg_names_output(args.cfg)
    ):
        raise UserError("nothing to write: give -b (bitstream) and/or -o (reconstruction)")
    on_frame = None if args.quiet else (lambda f: print(_line(f), flush=True))
    res = encode(
        None,
        cfg=args.cfg,
        overrides=overrides,
        cnn=args.cnn,
        cnn_mode=args.cnn_mode,
        threads=args.threads,
        on_frame=on_frame,
    )
    s = res.settings
    n = len(res.frames)
    print()
    print(f"SUMMARY {'-' * 56}")
    print("\tTotal Frames |   Bitrate     Y-PSNR    U-PSNR    V-PSNR    YUV-PSNR")
    print(
        f"\t{n:8d}    a {res.kbps:12.4f}  {res.psnr_y:8.4f}  {res.psnr_u:8.4f}  "
        f"{res.psnr_v:8.4f}  {res.psnr_yuv:8.4f}"
    )
    print()
    if any(f.slice_type != "I" for f in res.frames):
        _print_per_slice_type(res.frames, res.frame_rate)
    print(
        f"{s['SourceWidth']}x{s['SourceHeight']} @ {res.frame_rate:g} Hz, QP {s['QP']}; "
        f"bitrate in kbit/s from the file size ({res.bytes} bytes, parameter sets and SEI "
        "included); YUV-PSNR = (6Y+U+V)/8"
    )
    print(f"Total time: {res.seconds:.3f} s ({res.seconds / max(n, 1):.3f} s/frame)")
    if args.cnn:
        cnn_s = sum(f.cnn_seconds for f in res.frames)
        share = sum(f.cnn_ctus for f in res.frames) / max(sum(f.ctus for f in res.frames), 1)
        print(
            f"In-loop CNN: model set {s['CnnModelSet']} ({s['CnnIdentity']}, {s['CnnInference']}), "
            f"mode {args.cnn_mode}: {100 * share:.1f}% of CTUs, {cnn_s:.3f} s in the CNN"
        )
    if res.bitstream:
        print(f"Bitstream: {res.bitstream}")
    if res.recon:
        print(f"Reconstruction: {res.recon}")
    return 0
