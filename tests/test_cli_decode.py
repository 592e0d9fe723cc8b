"""``cnnfilter decode``: HM-style flags, per-picture lines, exit codes and clear errors."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ffmpeg_decode, md5, x265_encode


def run_cli(*args):
    # Run outside the source tree so that the installed package (with its extension) is used.
    return subprocess.run(
        [sys.executable, "-m", "cnnfilter", *args], capture_output=True, text=True, cwd="/"
    )


@pytest.fixture(scope="module")
def stream(shared_data, x265, tmp_path_factory):
    yuv = shared_data / "video" / "CiscoVT2people_320x192_12.yuv"
    if not yuv.exists():
        pytest.skip(f"{yuv} is missing")
    out = tmp_path_factory.mktemp("cli") / "s.hevc"
    return x265_encode(x265, yuv, 320, 192, out, ["--keyint", "1", "--qp", "32"], frames=3)


def test_decode_writes_ffmpeg_identical_yuv(stream, ffmpeg, tmp_path):
    out = tmp_path / "rec.yuv"
    r = run_cli("decode", "-b", str(stream), "-o", str(out))
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("POC")]
    assert len(lines) == 3 and all("I-SLICE" in ln and "[hash: OK]" in ln for ln in lines)
    assert "3 picture(s) decoded" in r.stdout and "mismatches: 0" in r.stdout
    assert md5(out.read_bytes()) == md5(ffmpeg_decode(ffmpeg, stream))


def test_output_bit_depth_16(stream, tmp_path):
    out8, out10 = tmp_path / "a.yuv", tmp_path / "b.yuv"
    assert run_cli("decode", "-q", "-b", str(stream), "-o", str(out8)).returncode == 0
    assert run_cli("decode", "-q", "-b", str(stream), "-o", str(out10), "-d", "10").returncode == 0
    import numpy as np

    a = np.frombuffer(out8.read_bytes(), np.uint8).astype(np.uint16)
    b = np.frombuffer(out10.read_bytes(), "<u2")
    assert np.array_equal(a << 2, b)


def test_bad_stream_exit_code_2_one_line(stream, tmp_path):
    bad = tmp_path / "bad.hevc"
    bad.write_bytes(stream.read_bytes()[:700])
    out = tmp_path / "o.yuv"
    r = run_cli("decode", "-b", str(bad), "-o", str(out))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("cnnfilter decode: error: ")
    assert not out.exists()


def test_missing_file():
    r = run_cli("decode", "-b", "/nonexistent.hevc")
    assert r.returncode == 2 and "not found" in r.stderr


def test_hash_mismatch_exit_code_1(stream, tmp_path):
    data = bytearray(stream.read_bytes())
    # Corrupt one byte of the first MD5 value in the suffix SEI: the picture still decodes.
    i = data.find(b"\x00\x00\x01\x50\x01\x84")
    assert i > 0
    data[i + 10] ^= 0xFF
    bad = tmp_path / "h.hevc"
    bad.write_bytes(bytes(data))
    r = run_cli("decode", "-b", str(bad))
    assert r.returncode == 1 and "[hash: MISMATCH]" in r.stdout


@pytest.mark.parametrize("cmd", ["decode"])
def test_help(cmd):
    r = run_cli(cmd, "--help")
    assert r.returncode == 0 and "usage" in r.stdout
