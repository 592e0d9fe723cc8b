"""The SIMD kernels (hevc/dsp) against their C reference, at every level the CPU supports.

tools/hevc-dsp-test runs each kernel of each level on the same random inputs as the C reference
and compares the outputs byte for byte; with --corrupt it alters a level's outputs, which it
must then report. The codec itself must write the same stream and decode the same pictures at
every level forced by CNNFILTER_SIMD. The build is the portable one (CNNFILTER_NATIVE=OFF, as
tests/test_portable_build.py builds it): the kernels are compiled for their own instruction
sets in any build, and this one also shows that a build for any x86-64 runs the AVX2 kernels.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path

import pytest
from conftest import SANITIZE, cmake_build, md5, sanitizer_report
from test_portable_build import textured_clip

PORTABLE = ["-DCNNFILTER_NATIVE=OFF", "-DCMAKE_BUILD_TYPE=Release"]
LEVELS = ["c", "sse2", "sse41", "avx2"]
# Motion compensation's kernels, each tested at every prediction block size and fraction.
INTER = {
    f"inter.{k}"
    for k in (
        "copy luma_h luma_v luma_hv chroma_h chroma_v chroma_hv avg_uni avg_bi weight_uni weight_bi"
    ).split()
}
LINE = re.compile(r"^(\w+) ([\w.]+): (\d+) cases, (\d+) mismatches$")


def tool(build: Path, name: str) -> Path:
    return build / "tools" / name


@pytest.fixture(scope="module")
def build() -> Path:
    # (the build directory of test_portable_build's "generic" encoder: the library is shared)
    for target in ("hevc-dsp-test", "hevc-encode", "hevc-decode"):
        path = cmake_build("generic", PORTABLE, target)
    return path


def run_dsp_test(exe: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def supported(exe: Path) -> list[str]:
    out = run_dsp_test(exe, "--list").stdout
    return out.splitlines()[0].split(":")[1].split()


def results(stdout: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(level, kernel) -> (cases, mismatches) from the test program's summary lines."""
    found = {}
    for line in stdout.splitlines():
        m = LINE.match(line)
        if m:
            found[(m[1], m[2])] = (int(m[3]), int(m[4]))
    return found


def test_supported_levels_and_replaced_kernels(build):
    exe = tool(build, "hevc-dsp-test")
    levels = supported(exe)
    assert levels == LEVELS[: len(levels)] and levels[0] == "c"
    if platform.machine() in ("x86_64", "AMD64"):
        assert "sse2" in levels  # the x86-64 baseline
    out = run_dsp_test(exe, "--list").stdout
    # Each SIMD level replaces some kernels of the level below (or its tests would test C).
    for level in levels[1:]:
        m = re.search(rf"^{level} replaces (\d+) of (\d+) kernels$", out, re.M)
        assert m and int(m[1]) > 0, out


def test_every_kernel_matches_the_c_reference_at_every_level(build):
    exe = tool(build, "hevc-dsp-test")
    levels = supported(exe)
    r = run_dsp_test(exe)
    assert r.returncode == 0, r.stdout + r.stderr
    found = results(r.stdout)
    kernels = {k for (_, k) in found}
    assert len(kernels) >= 26, sorted(kernels)
    assert INTER <= kernels, sorted(INTER - kernels)
    for level in levels:
        for kernel in kernels:
            cases, mismatches = found[(level, kernel)]
            assert cases > 0 and mismatches == 0, (level, kernel)


def test_a_kernel_that_differs_is_reported(build):
    exe = tool(build, "hevc-dsp-test")
    levels = supported(exe)
    if len(levels) < 2:
        pytest.skip("no SIMD level on this CPU: nothing to compare with the C reference")
    r = run_dsp_test(exe, "--quick", "--corrupt", "all")
    assert r.returncode == 1, r.stdout + r.stderr
    found = results(r.stdout)
    for (level, kernel), (cases, mismatches) in found.items():
        if level == "c":
            assert mismatches == 0, kernel  # the reference against itself, never altered
        else:
            assert mismatches == cases > 0, (level, kernel)
            assert f"MISMATCH {level} {kernel} " in r.stdout
    r = run_dsp_test(exe, "--quick", "--corrupt", "sao.edge_stats")
    assert r.returncode == 1
    bad = {k for k, (_, mismatches) in results(r.stdout).items() if mismatches}
    assert bad == {(level, "sao.edge_stats") for level in levels[1:]}
    r = run_dsp_test(exe, "--quick", "--corrupt", "inter.chroma_hv")
    assert r.returncode == 1
    bad = {k for k, (_, mismatches) in results(r.stdout).items() if mismatches}
    assert bad == {(level, "inter.chroma_hv") for level in levels[1:]}


def test_cnnfilter_simd_forces_a_level(build):
    exe = tool(build, "hevc-dsp-test")
    levels = supported(exe)
    for level in levels:
        r = run_dsp_test(exe, "--list", env={**os.environ, "CNNFILTER_SIMD": level})
        assert f"active: {level}\n" in r.stdout
    r = run_dsp_test(exe, "--list", env={**os.environ, "CNNFILTER_SIMD": "avx512"})
    assert f"active: {levels[-1]}\n" in r.stdout
    assert "warning: CNNFILTER_SIMD=avx512 is not one of c, sse2, sse41, avx2" in r.stderr


def test_every_level_writes_the_same_stream_and_pictures(build, tmp_path):
    src = tmp_path / "textured.yuv"
    textured_clip(src)
    levels = supported(tool(build, "hevc-dsp-test"))
    streams, pictures = {}, {}
    for level in levels:
        env = {**os.environ, "CNNFILTER_SIMD": level}
        out, rec = tmp_path / f"{level}.hevc", tmp_path / f"{level}.yuv"
        args = ["-i", str(src), "-wdt", "192", "-hgt", "128", "-f", "2", "-q", "27", "-b", str(out)]
        subprocess.run(
            [str(tool(build, "hevc-encode")), *args, "--transform_skip_final_only=0"],
            check=True,
            capture_output=True,
            env=env,
        )
        # The stream of the C level, decoded at this level.
        subprocess.run(
            [str(tool(build, "hevc-decode")), "-b", str(tmp_path / "c.hevc"), "-o", str(rec)],
            check=True,
            capture_output=True,
            env=env,
        )
        streams[level] = md5(out.read_bytes())
        pictures[level] = md5(rec.read_bytes())
    assert len(set(streams.values())) == 1, streams
    assert len(set(pictures.values())) == 1, pictures


@pytest.mark.slow
def test_kernels_under_sanitizers():
    """Every kernel of every level under AddressSanitizer and UBSan: no read or write outside
    the blocks, no undefined arithmetic (the build of tests/test_sanitized_encoder.py)."""
    build = cmake_build("asan", SANITIZE, "hevc-dsp-test")
    r = run_dsp_test(tool(build, "hevc-dsp-test"))
    assert not sanitizer_report(r.stderr), r.stderr[-3000:]
    assert r.returncode == 0, r.stdout[-3000:]
