"""``cnnfilter decode``: HM TAppDecoder-style decoding to raw I420."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..decoding import PictureInfo, decode
from ..errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "decode",
        help="decode an HEVC bitstream to raw I420 or .y4m",
        description="Decode an HEVC Annex B bitstream (Main / Main Still Picture, intra pictures). "
        "Prints one line per picture with its decoded-picture-hash check. Exit code 0 when all "
        "checked hashes match, 1 on a hash mismatch, 2 on a corrupt, empty or unsupported stream "
        "or a bad option or file.",
    )
    p.add_argument("-b", "--BitstreamFile", dest="bitstream", required=True, help="input bitstream")
    p.add_argument(
        "-o",
        "--ReconFile",
        dest="output",
        help="output file in output order: raw I420, or YUV4MPEG2 when it ends in .y4m",
    )
    p.add_argument(
        "-d",
        "--OutputBitDepth",
        dest="bit_depth",
        type=int,
        default=0,
        help="output bit depth: 0 = native (8); 9..16 write 16-bit little-endian samples",
    )
    p.add_argument(
        "--models",
        metavar="DIR",
        help="where to find the model set a stream's in-loop CNN names (default: the shipped sets)",
    )
    p.add_argument(
        "--ignore-cnn",
        action="store_true",
        help="decode pictures that use the in-loop CNN with deblocking + SAO alone (their hashes "
        "then mismatch, and each line says so)",
    )
    p.add_argument(
        "--cnn-whole-pictures",
        action="store_true",
        help="run the in-loop CNN on whole pictures, as the encoder does, instead of only around "
        "the CTUs that take its output (the same samples, slower: for timing comparisons)",
    )
    p.add_argument(
        "--post",
        metavar="MODELSET",
        help="post-process the output pictures with this model set (not in the loop, nothing "
        "signalled; for comparison with post-filter papers)",
    )
    p.add_argument(
        "--no-hash-check",
        dest="verify_hash",
        action="store_false",
        help="do not verify the decoded-picture-hash SEIs (faster, as ffmpeg decodes; each "
        "picture says [hash: not checked] and exit code 1 cannot occur)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no per-picture lines")
    p.set_defaults(func=run)


def _line(f: PictureInfo) -> str:
    line = f"POC {f.poc:4d} ( {f.slice_type}-SLICE, QP {f.qp:2d} ) [DT {f.seconds * 1000:7.2f} ms]"
    for name, pocs in zip(("L0", "L1"), f.refs, strict=True):
        if pocs:
            line += f" [{name} {' '.join(map(str, pocs))}]"
    line += f" [hash: {f.hash}]"
    if f.cnn_ignored:
        line += " [in-loop CNN ignored: deblocking + SAO only]"
    elif f.cnn_ctus:
        line += (
            f" [CNN {f.cnn_ctus}/{f.ctus} CTUs, read {100 * f.cnn_read_share:.0f}% of the "
            f"picture, {f.cnn_seconds * 1000:.1f} ms]"
        )
    if f.post_seconds:
        line += f" [post-filter {f.post_seconds * 1000:.1f} ms]"
    return line


def run(args: argparse.Namespace) -> int:
    bit_depth = args.bit_depth or 8
    if bit_depth != 8 and not 9 <= bit_depth <= 16:
        raise UserError(f"-d {args.bit_depth}: output bit depth must be 0, 8 or 9..16")
    if args.models is not None and not Path(args.models).is_dir():
        raise UserError(f"--models {args.models}: no such folder")
    on_picture = None if args.quiet else (lambda f: print(_line(f), flush=True))
    res = decode(
        args.bitstream,
        args.output,
        output_bit_depth=bit_depth,
        models=args.models,
        ignore_cnn=args.ignore_cnn,
        cnn_regions=not args.cnn_whole_pictures,
        post=args.post,
        on_picture=on_picture,
        verify_hash=args.verify_hash,
    )
    for note in res.notes:
        print(f"note: {note}")
    n = len(res.frames)
    fps = n / res.seconds if res.seconds > 0 else 0.0
    if args.verify_hash:
        checked = sum(f.hash in ("OK", "MISMATCH") for f in res.frames)
        hashes = f"hash checked on {checked}, mismatches: {res.mismatches}"
    else:
        carried = sum(f.hash == "not checked" for f in res.frames)
        hashes = f"hash not checked (--no-hash-check; {carried} picture(s) carry one)"
    print(
        f"{n} picture(s) decoded in {res.seconds:.3f} s ({fps:.1f} fps); {hashes}"
        + (f"; written to {res.output}" if res.output else "")
    )
    return 1 if res.mismatches else 0
