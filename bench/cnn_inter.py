"""The in-loop CNN in Low-Delay-P and Random-Access pictures: where the CTU switch uses it, and
what forcing it everywhere would cost (over-filtering).

For each clip, configuration (LDP, RA) and QP 22/27/32/37, three encodes with cnnfilter.encode
and the HM-style cfg files: the anchor (deblocking + SAO), the model set with the CTU-level
switch (cnn_mode ctu) and the same set forced in every CTU of every picture (cnn_mode all). Every
CNN stream is decoded by our decoder with the set and must equal the reconstruction (MD5 SEI and
file). Reports BD-rate Y (PCHIP, mean per-frame PSNR, rate = bytes x 8 x fps / frames) of both
CNN variants against the anchor, and the share of CTUs whose luma took the CNN per temporal layer
and QP under the switch.

    python bench/cnn_inter.py --set models/ours-ai-ipb --out bench/results/cnn_inter.json
    python bench/cnn_inter.py --set DIR --clips bigbuckbunny-crop --cfg RA --frames 9
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from common import CFG_FILES, VIDEO, VIDEO_CLIPS

import cnnfilter
from cnnfilter.bdrate import bd_rate
from cnnfilter.ctc.metrics import sequence_psnr

CLIPS = VIDEO_CLIPS
CFGS = {k: CFG_FILES[k] for k in ("LDP", "RA")}
QPS = (22, 27, 32, 37)


def _run(src, w, h, fps, frames, cfg, qp, set_dir, mode, work: Path) -> dict:
    kw = {} if mode == "anchor" else {"cnn": set_dir, "cnn_mode": mode}
    res = cnnfilter.encode(
        src, work / "s.hevc", work / "r.yuv", cfg=cfg, width=w, height=h, qp=qp, frames=frames,
        **kw,
    )  # fmt: skip
    if mode != "anchor":
        dec = cnnfilter.decode(res.bitstream, work / "d.yuv", models=Path(set_dir).parent)
        if not dec.hash_ok or (work / "d.yuv").read_bytes() != (work / "r.yuv").read_bytes():
            raise SystemExit(f"decoder mismatch: {src} {cfg.name} QP {qp} {mode}")
    return {
        "kbps": res.bytes * 8 * fps / frames / 1000.0,
        "psnr_y": float(np.mean([p[0] for p in sequence_psnr(src, work / "r.yuv", w, h, frames)])),
        "seconds": res.seconds,
        "pictures": [
            [f.poc, f.slice_type, f.temporal_id, f.qp, f.ctus, f.cnn_ctus] for f in res.frames
        ],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", required=True, help="model set folder (with P and B rules)")
    ap.add_argument("--clips", default=",".join(CLIPS), help="comma-separated clip names")
    ap.add_argument("--cfg", default="LDP,RA")
    ap.add_argument("--frames", type=int, default=0, help="frames per clip (0: the whole file)")
    ap.add_argument("--modes", default="ctu,all", help="CNN modes besides the anchor")
    ap.add_argument("--out", help="write the measurements as JSON")
    args = ap.parse_args()
    if not VIDEO.is_dir():
        raise SystemExit(f"{VIDEO} is missing")
    results: dict = {"machine": platform.platform(), "set": args.set, "runs": {}}
    share: dict = defaultdict(lambda: [0, 0])
    bd: dict = defaultdict(dict)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.clips.split(","):
            fname, w, h, fps = CLIPS[name]
            src = VIDEO / fname
            in_file = src.stat().st_size // (w * h * 3 // 2)
            frames = min(args.frames or in_file, in_file)
            for cfg in args.cfg.split(","):
                pts = {m: [] for m in ("anchor", *args.modes.split(","))}
                for qp in QPS:
                    for mode in pts:
                        r = _run(src, w, h, fps, frames, CFGS[cfg], qp, args.set, mode, Path(tmp))
                        pts[mode].append(r)
                        results["runs"][f"{name}/{cfg}/{qp}/{mode}"] = r
                        if mode == "ctu":
                            for _, st, tid, _, ctus, cnn in r["pictures"]:
                                key = (cfg, qp, "I" if st == "I" else f"T{tid}")
                                share[key][0] += cnn
                                share[key][1] += ctus
                        line = f"{r['kbps']:.1f} kbps {r['psnr_y']:.3f} dB {r['seconds']:.1f} s"
                        print(f"{name} {cfg} QP{qp} {mode}: {line}", file=sys.stderr)
                a = pts["anchor"]
                for mode in args.modes.split(","):
                    t = pts[mode]
                    bd[cfg].setdefault(mode, {})[name] = bd_rate(
                        [p["kbps"] for p in a], [p["psnr_y"] for p in a],
                        [p["kbps"] for p in t], [p["psnr_y"] for p in t],
                    )  # fmt: skip
    results["bd_rate_y"] = bd
    results["cnn_share"] = {f"{c}/QP{q}/{lay}": v for (c, q, lay), v in sorted(share.items())}
    for cfg, modes in bd.items():
        for mode, per in modes.items():
            mean = sum(per.values()) / len(per)
            cells = " ".join(f"{k} {v:+.2f}" for k, v in per.items())
            print(f"{cfg} {mode:3s}: BD-rate Y {cells} | mean {mean:+.2f} %")
    for key, (cnn, ctus) in results["cnn_share"].items():
        print(f"share {key}: {100.0 * cnn / ctus:5.1f} % of {ctus} CTUs")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
