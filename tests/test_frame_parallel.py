"""Frame-parallel All-Intra encoding (--threads N): the same bitstream and reconstruction for
any N, with and without the in-loop CNN, and clear refusals where pictures depend on others."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from conftest import ROOT, md5
from test_portable_build import textured_clip

import cnnfilter
from cnnfilter.config import ConfigError
from cnnfilter.loop import LoopFilter

AI = ROOT / "cfg" / "encoder_intra_main.cfg"
LDP = ROOT / "cfg" / "encoder_lowdelay_P_main.cfg"
W, H, FRAMES = 192, 128, 7


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("fp") / "clip.yuv"
    textured_clip(path, W, H, frames=FRAMES)
    return path


def _encode(clip, out, threads, **kw):
    return cnnfilter.encode(
        clip, out / f"s{threads}.hevc", out / f"r{threads}.yuv", cfg=AI, width=W, height=H,
        qp=32, threads=threads, **kw,
    )  # fmt: skip


def test_same_bitstream_for_any_thread_count(clip, tmp_path):
    runs = [_encode(clip, tmp_path, t) for t in (1, 2, 3)]
    streams = {md5(r.bitstream.read_bytes()) for r in runs}
    recons = {md5(r.recon.read_bytes()) for r in runs}
    assert len(streams) == 1 and len(recons) == 1
    assert [f.poc for f in runs[2].frames] == list(range(FRAMES))
    assert [f.bits for f in runs[0].frames] == [f.bits for f in runs[2].frames]
    dec = cnnfilter.decode(runs[2].bitstream)
    assert dec.hash_ok and len(dec.frames) == FRAMES


def test_cnn_runs_on_each_encoders_own_thread(clip, tmp_path, monkeypatch):
    seen = {}
    real = LoopFilter.__call__

    def spy(self, y, u, v, info):
        seen[info["poc"]] = threading.current_thread().name
        return real(self, y, u, v, info)

    monkeypatch.setattr(LoopFilter, "__call__", spy)
    one = _encode(clip, tmp_path, 1, cnn="default", cnn_mode="all")
    assert set(seen.values()) == {threading.main_thread().name}
    seen.clear()
    two = _encode(clip, tmp_path, 2, cnn="default", cnn_mode="all")
    # picture i is filtered on the thread of encoder i mod 2, which coded it
    assert seen == {i: f"cnnfilter-encoder-{i % 2}_0" for i in range(FRAMES)}
    assert md5(one.bitstream.read_bytes()) == md5(two.bitstream.read_bytes())
    assert all(f.cnn_ctus == f.ctus for f in two.frames)
    dec = cnnfilter.decode(two.bitstream)
    assert dec.hash_ok and all(f.hash == "OK" for f in dec.frames)


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"cfg": LDP}, "needs All-Intra, but POC 1 is a P picture"),
        ({"overrides": {"PrevTreeUp": 1}}, "cannot be used with the PrevTree keys"),
        ({"threads": 0}, "threads must be a whole number >= 1"),
    ],
    ids=["ldp", "prevtree", "zero"],
)
def test_refused_where_pictures_depend_on_others(clip, tmp_path, kw, match):
    args = {"cfg": AI, "threads": 2, **kw}
    with pytest.raises(ConfigError, match=match):
        cnnfilter.encode(clip, tmp_path / "s.hevc", width=W, height=H, qp=32, frames=3, **args)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_cli_error_is_one_line(clip, tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "cnnfilter", "encode", "-c", str(LDP), "-i", str(clip),
         "-wdt", str(W), "-hgt", str(H), "-f", "3", "-q", "32", "-b", str(tmp_path / "s.hevc"),
         "--threads", "2"],
        capture_output=True, text=True, cwd="/",  # the source tree must not shadow the install
    )  # fmt: skip
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnnfilter encode: error: --threads")
    assert not (tmp_path / "s.hevc").exists()
