"""Decoder time of the in-loop CNN: only around the flagged CTUs (the default) against whole
pictures (``decode --cnn-whole-pictures``, what the decoder did before).

For each clip, configuration and QP: one encode with the model set and the CTU switch, then the
stream is decoded both ways. Both decodes must give the encoder's reconstruction (MD5 SEI and
file). Reports, per configuration, the decoder's CPU seconds each way (summed over clips and
QPs), the share of CTUs flagged and the share of picture samples the CNN read.

    python bench/cnn_regions.py --set models/ours-ipb --cfg AI LDP RA --frames 9
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from common import CFG_FILES, ROOT, VIDEO, VIDEO_CLIPS, cpu_name

import cnnfilter

CLIPS = VIDEO_CLIPS
CFGS = CFG_FILES
QPS = (22, 27, 32, 37)


def _decode(bitstream: Path, out: Path, models: Path, regions: bool) -> tuple[float, object]:
    t = time.process_time()
    dec = cnnfilter.decode(bitstream, out, models=models, cnn_regions=regions)
    return time.process_time() - t, dec


def one(clip: str, cfg: str, qp: int, frames: int, set_dir: Path, work: Path) -> dict:
    name, w, h, fps = CLIPS[clip]
    src = VIDEO / name
    res = cnnfilter.encode(
        src, work / "s.hevc", work / "r.yuv", cfg=CFGS[cfg], width=w, height=h, fps=fps, qp=qp,
        frames=frames, cnn=set_dir,
    )  # fmt: skip
    row = {"clip": clip, "cfg": cfg, "qp": qp, "frames": frames}
    for label, regions in (("regions", True), ("whole", False)):
        cpu, dec = _decode(res.bitstream, work / "d.yuv", set_dir.parent, regions)
        if not dec.hash_ok or (work / "d.yuv").read_bytes() != (work / "r.yuv").read_bytes():
            raise SystemExit(f"decoder mismatch: {clip} {cfg} QP {qp} ({label})")
        row[f"{label}_cpu_s"] = cpu
        row[f"{label}_cnn_s"] = sum(f.cnn_seconds for f in dec.frames)
        if regions:
            ctus = sum(f.ctus for f in dec.frames)
            row["flagged_share"] = sum(f.cnn_ctus for f in dec.frames) / ctus
            row["read_share"] = sum(f.cnn_read_share for f in dec.frames) / len(dec.frames)
            row["pictures_with_cnn"] = sum(1 for f in dec.frames if f.cnn_ctus)
    return row


def table(rows: list[dict]) -> str:
    out = [
        "| config | pictures with CNN | CTUs flagged | samples read | decoder CPU s, whole "
        "pictures | decoder CPU s, regions | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for cfg in CFGS:
        rs = [r for r in rows if r["cfg"] == cfg]
        if not rs:
            continue
        whole = sum(r["whole_cpu_s"] for r in rs)
        part = sum(r["regions_cpu_s"] for r in rs)
        pics = sum(r["pictures_with_cnn"] for r in rs)
        total = sum(r["frames"] for r in rs)
        flagged = sum(r["flagged_share"] for r in rs) / len(rs)
        read = sum(r["read_share"] for r in rs) / len(rs)
        out.append(
            f"| {cfg} | {pics}/{total} | {100 * flagged:.0f} % | {100 * read:.0f} % | "
            f"{whole:.1f} | {part:.1f} | {part / whole:.2f} |"
        )
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=ROOT / "models" / "ours-ipb")
    ap.add_argument("--clips", nargs="+", default=["bigbuckbunny-crop", "CiscoVT2people", "bikes"])
    ap.add_argument("--cfg", nargs="+", default=list(CFGS), choices=list(CFGS))
    ap.add_argument("--qps", nargs="+", type=int, default=list(QPS))
    ap.add_argument("--frames", type=int, default=9)
    ap.add_argument("--out", type=Path, help="write the rows as JSON here")
    args = ap.parse_args()
    for c in args.clips:
        if c not in CLIPS:
            sys.exit(f"error: unknown clip '{c}' (known: {', '.join(CLIPS)})")
        if not (VIDEO / CLIPS[c][0]).exists():
            sys.exit(f"error: {VIDEO / CLIPS[c][0]} is missing (../shared/data)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for clip in args.clips:
            for cfg in args.cfg:
                for qp in args.qps:
                    rows.append(one(clip, cfg, qp, args.frames, args.set.resolve(), Path(tmp)))
                    r = rows[-1]
                    print(
                        f"{clip} {cfg} QP {qp}: decoder CPU {r['whole_cpu_s']:.2f} s whole, "
                        f"{r['regions_cpu_s']:.2f} s regions (read {100 * r['read_share']:.0f} %)",
                        file=sys.stderr,
                        flush=True,
                    )
    print(f"machine: {cpu_name()}, {platform.python_version()}, cnnfilter {cnnfilter.__version__}")
    print(table(rows))
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
