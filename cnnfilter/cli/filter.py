"""``cnnfilter filter``: apply a model or model set to a raw clip (luma; chroma copied unless
the set has a chroma model)."""

from __future__ import annotations

import argparse
import time

from ..errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "filter",
        help="apply a CNN filter model or model set to a raw I420 clip",
        description="Filter every frame's luma with the model the set assigns to (slice type, "
        "QP); chroma is copied unless the set has a chroma model. Deterministic by default "
        "(the set's pinned CPU settings).",
    )
    p.add_argument("-m", "--model", required=True, help="model set name or path, or a .onnx")
    p.add_argument("-q", "--qp", type=int, required=True, help="QP of the clip")
    p.add_argument("-i", "--input", required=True, help="input .yuv (I420) or .y4m")
    p.add_argument("-wdt", "--width", type=int, help="width (raw .yuv)")
    p.add_argument("-hgt", "--height", type=int, help="height (raw .yuv)")
    p.add_argument("-o", "--output", required=True, help="output raw I420 file")
    p.add_argument("--slice-type", default="I", choices=["I", "P", "B"], help="default I")
    p.add_argument("-f", "--frames", type=int, help="number of frames (default: all)")
    p.add_argument("--models-dir", help="where named model sets live")
    p.add_argument(
        "--provider",
        choices=["cpu", "cuda", "auto"],
        help="override the set's provider (cuda is not bit-exact with cpu)",
    )
    p.add_argument("--threads", type=int, help="override the set's pinned thread count")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses
    from pathlib import Path

    from tqdm import tqdm

    from ..modelset import load_model_set
    from ..outputs import atomic_output, check_output_path
    from ..yuv import YuvWriter, probe, read_frames

    if not 0 <= args.qp <= 51:
        raise UserError(f"-q {args.qp}: QP must be within 0..51")
    ms = load_model_set(args.model, args.models_dir)
    if args.provider or args.threads:
        over = {}
        if args.provider:
            over["provider"] = args.provider
        if args.threads:
            over["threads"] = args.threads
        ms = load_model_set(
            args.model, args.models_dir, settings=dataclasses.replace(ms.settings, **over)
        )
    ms.model_for(0, args.qp, args.slice_type)  # fail before touching the output
    info = probe(args.input, args.width, args.height)
    if info.width % 2 or info.height % 2:
        raise UserError(f"{args.input}: 4:2:0 input needs an even width and height")
    n = info.frames if args.frames is None else args.frames
    if n < 1:
        raise UserError(f"{args.input}: no complete frame of {info.width}x{info.height}")
    if n > info.frames:
        raise UserError(f"{args.input}: holds {info.frames} frame(s), {n} were asked for")
    check_output_path(args.output, inputs=[args.input], what="-o")
    print(f"model set {ms.name} [{ms.identity.hex()}] {ms.inference_mode}")
    if ms.development_artefact:
        print("note: this model set is a development artefact (under-trained), not a useful filter")
    out = Path(args.output)
    t0 = time.perf_counter()
    with atomic_output(out, inputs=[args.input], what="-o") as tmp, YuvWriter(tmp) as w:
        frames = read_frames(args.input, info.width, info.height, count=n)
        for y, u, v in tqdm(frames, total=n, desc="filter", unit="frame"):
            fy = ms.filter_luma(y, args.qp, args.slice_type)
            if ms.has_chroma:
                u = ms.filter_chroma(u, 1, args.qp, args.slice_type)
                v = ms.filter_chroma(v, 2, args.qp, args.slice_type)
            w.write((fy, u, v))
    dt = time.perf_counter() - t0
    print(
        f"{n} frame(s) of {info.width}x{info.height} filtered in {dt:.2f} s "
        f"({dt / n * 1000:.1f} ms/frame); written to {out}"
    )
    return 0
