"""The Python extension under AddressSanitizer and UBSan: the in-loop CNN's encoder and decoder
paths (CTU switch, picture switch, CNN everywhere, wavefronts), which the stand-alone tools do not
reach, run clean and still reproduce each other bit-exactly.

The extension is rebuilt with -DCNNFILTER_SANITIZE=ON and loaded in a separate interpreter with
the sanitizer runtimes preloaded (Python itself is not instrumented).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SANITIZE, cmake_build, sanitizer_report

import cnnfilter

SCRIPT = r"""
import hashlib, sys
from pathlib import Path
import numpy as np
import cnnfilter

src, work, cfg, models = (Path(a) for a in sys.argv[1:5])
ext = Path(cnnfilter._hevc.__file__).resolve()
assert "asan-py" in str(ext), ext
for qp, mode, over in [(22, "ctu", {}), (32, "picture", {}), (37, "all", {"WaveFrontSynchro": 1})]:
    res = cnnfilter.encode(src, work / "s.hevc", work / "r.yuv", cfg=cfg, width=320, height=192,
                           frames=2, qp=qp, cnn="default", cnn_mode=mode, overrides=over)
    if mode == "ctu":  # both filters in one picture
        assert all(0 < f.cnn_ctus < f.ctus for f in res.frames), [f.cnn_ctus for f in res.frames]
    dec = cnnfilter.decode(res.bitstream, models=models)
    got = b"".join(np.ascontiguousarray(p).tobytes() for pic in dec.pictures
                   for p in (pic.y, pic.u, pic.v))
    assert dec.hash_ok, (mode, [f.hash for f in dec.frames])
    assert hashlib.md5(got).digest() == hashlib.md5(res.recon.read_bytes()).digest(), mode
print("ok")
"""


def _runtime(cxx: str, name: str) -> str:
    path = subprocess.run(
        [cxx, f"-print-file-name={name}"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not os.path.isabs(path):
        pytest.skip(f"{cxx} has no {name}")
    return path


@pytest.fixture(scope="module")
def asan_module(tmp_path_factory) -> tuple[Path, dict]:
    try:
        import pybind11
    except ImportError:
        pytest.skip("pybind11 is needed to build the extension")
    build = cmake_build(
        "asan-py",
        [
            *SANITIZE,
            "-DCNNFILTER_PYTHON=ON",
            "-DCNNFILTER_TOOLS=OFF",
            f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
            f"-DPython_EXECUTABLE={sys.executable}",
        ],
        "_hevc",
    )
    (ext,) = (build / "bindings").glob("_hevc*.so")
    cxx = next(
        line.split("=", 1)[1]
        for line in (build / "CMakeCache.txt").read_text().splitlines()
        if line.startswith("CMAKE_CXX_COMPILER:")
    )
    # The installed package with the sanitizer build of its extension in place.
    pkg = tmp_path_factory.mktemp("asan-pkg")
    shutil.copytree(Path(cnnfilter.__file__).parent, pkg / "cnnfilter")
    for old in (pkg / "cnnfilter").glob("_hevc*.so"):
        old.unlink()
    os.symlink(ext, pkg / "cnnfilter" / ext.name)
    env = {
        **os.environ,
        "PYTHONPATH": str(pkg),
        "LD_PRELOAD": f"{_runtime(cxx, 'libasan.so')} {_runtime(cxx, 'libubsan.so')}",
        # Python's own allocations are never freed at exit; only the codec's errors matter.
        "ASAN_OPTIONS": "detect_leaks=0",
    }
    return pkg, env


def test_inloop_cnn_under_sanitizers(asan_module, shared_data, tmp_path):
    src = shared_data / "video" / "CiscoVT2people_320x192_12.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    _, env = asan_module
    cfg = ROOT / "cfg" / "encoder_intra_main.cfg"
    args = [str(src), str(tmp_path), str(cfg), str(ROOT / "models")]
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert not sanitizer_report(r.stderr), r.stderr[-1500:]
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr[-1500:]
