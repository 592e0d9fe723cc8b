"""The encoder's SIMD kernels and their C reference make the same decisions, in any build.

The kernels (hevc/dsp) are picked at run time by CPU and compiled for their own instruction
sets; CNNFILTER_NATIVE (default) tunes the rest of the codec for the building CPU (-march=native,
and FMA if the compiler were allowed to fuse multiply-adds), CNNFILTER_NATIVE=OFF builds for any
x86-64. The native build at its best level, the portable one at its best level and the portable
one forced to the C reference (CNNFILTER_SIMD=c) must write byte-identical bitstreams, or results
would depend on the machine. (tests/test_dsp.py compares every level, kernel by kernel.)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, cmake_build

from cnnfilter import yuv


def build_encoder(name: str, native: bool) -> Path:
    options = [f"-DCNNFILTER_NATIVE={'ON' if native else 'OFF'}", "-DCMAKE_BUILD_TYPE=Release"]
    return cmake_build(name, options, "hevc-encode") / "tools" / "hevc-encode"


@pytest.fixture(scope="module")
def encoders() -> dict[str, Path]:
    return {"native": build_encoder("native", True), "generic": build_encoder("generic", False)}


def textured_clip(path: Path, w: int = 192, h: int = 128, frames: int = 2) -> None:
    """Edges, gradients and noise: every block size, angular modes, transform skip."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:h, 0:w]
    with yuv.YuvWriter(path) as wr:
        for f in range(frames):
            luma = 128 + 60 * np.sin((xx + 3 * yy + 9 * f) / 7.0) + 40 * ((xx // 24 + yy // 16) % 2)
            luma += rng.normal(0, 6, (h, w))
            cb = 128 + 30 * np.cos((xx[::2, ::2] - yy[::2, ::2]) / 9.0)
            cr = 128 + rng.normal(0, 8, (h // 2, w // 2))
            planes = [np.clip(p, 0, 255).astype(np.uint8) for p in (luma, cb, cr)]
            wr.write(tuple(planes))


def encode(
    exe: Path, src: Path, w: int, h: int, qp: int, out: Path, extra: list[str], level: str | None
) -> str:
    env = {**os.environ, "CNNFILTER_SIMD": level} if level else None
    subprocess.run(
        [
            str(exe),
            "-i",
            str(src),
            "-wdt",
            str(w),
            "-hgt",
            str(h),
            "-f",
            "2",
            "-q",
            str(qp),
            "-b",
            str(out),
            *extra,
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    return hashlib.md5(out.read_bytes()).hexdigest()


@pytest.mark.parametrize("extra", [[], ["--transform_skip_final_only=0", "--sign_hide=0"]])
def test_native_and_portable_builds_write_the_same_stream(encoders, tmp_path, extra):
    clips = [(tmp_path / "textured.yuv", 192, 128)]
    textured_clip(clips[0][0])
    real = ROOT.parent / "shared" / "data" / "video" / "bikes_640x272_25.yuv"
    if real.exists():  # real content too where ../shared is present
        clips.append((real, 640, 272))
    for src, w, h in clips:
        for qp in (22, 37):
            runs = [("native", None), ("generic", None), ("generic", "c")]
            md5 = {
                (name, level): encode(
                    encoders[name], src, w, h, qp, tmp_path / f"{name}-{level}.hevc", extra, level
                )
                for name, level in runs
            }
            assert len(set(md5.values())) == 1, f"{src.name} QP {qp} {extra}: {md5}"
