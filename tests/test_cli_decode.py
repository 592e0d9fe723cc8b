"""``cnnfilter decode``: HM-style flags, per-picture lines, exit codes and clear errors."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cnn_stream_support import cnn_stream, make_clip, sei_payload, with_sei
from conftest import ROOT, ffmpeg_decode, md5, x265_encode

import cnnfilter


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


@pytest.fixture
def wrong_md5(stream, tmp_path):
    data = bytearray(stream.read_bytes())
    # Corrupt one byte of the first MD5 value in the suffix SEI: the picture still decodes.
    i = data.find(b"\x00\x00\x01\x50\x01\x84")
    assert i > 0
    data[i + 10] ^= 0xFF
    bad = tmp_path / "h.hevc"
    bad.write_bytes(bytes(data))
    return bad


def test_hash_mismatch_exit_code_1(wrong_md5):
    r = run_cli("decode", "-b", str(wrong_md5))
    assert r.returncode == 1 and "[hash: MISMATCH]" in r.stdout


def test_no_hash_check_decodes_a_wrong_md5_with_exit_0(wrong_md5, stream, ffmpeg, tmp_path):
    out = tmp_path / "rec.yuv"
    r = run_cli("decode", "-b", str(wrong_md5), "-o", str(out), "--no-hash-check")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("POC")]
    assert len(lines) == 3 and all(ln.endswith("[hash: not checked]") for ln in lines)
    assert "hash not checked (--no-hash-check; 3 picture(s) carry one)" in r.stdout
    assert "mismatch" not in r.stdout.lower()
    assert md5(out.read_bytes()) == md5(ffmpeg_decode(ffmpeg, stream))


def test_verify_hash_false_in_python(wrong_md5):
    checked = cnnfilter.decode(wrong_md5)
    assert [f.hash for f in checked.frames] == ["MISMATCH", "OK", "OK"]
    res = cnnfilter.decode(wrong_md5, verify_hash=False)
    assert [f.hash for f in res.frames] == ["not checked"] * 3
    assert res.mismatches == 0 and not res.hash_ok
    assert all(f.computed_hash == "" for f in res.frames)
    assert [f.expected_hash for f in res.frames] == [f.expected_hash for f in checked.frames]
    for a, b in zip(res.pictures, checked.pictures, strict=True):
        assert (a.y == b.y).all() and (a.u == b.u).all() and (a.v == b.v).all()


@pytest.mark.parametrize("cmd", ["decode"])
def test_help(cmd):
    r = run_cli(cmd, "--help")
    assert r.returncode == 0 and "usage" in r.stdout


# The tests below use generated content (tests/cnn_stream_support.py), not ../shared.


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    """Our encoder's 64x64 stream (3 pictures, no picture rate signalled) and a CNN stream."""
    d = tmp_path_factory.mktemp("ours")
    return cnn_stream(d, "plain", None), cnn_stream(d, "cnn", "default")


def error_lines(r) -> list[str]:
    assert "Traceback" not in r.stderr, r.stderr
    return [ln for ln in r.stderr.splitlines() if "error:" in ln]


def ffmpeg_raw(ffmpeg: str, path: Path, pix_fmt: str = "yuv420p") -> bytes:
    r = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"],
        capture_output=True,
        check=True,
    )
    return r.stdout


def ffprobe_rate(path: Path) -> str:
    ffprobe = shutil.which("ffprobe") or pytest.skip("ffprobe is not installed")
    r = subprocess.run(
        [ffprobe, "-v", "error", "-show_entries", "stream=r_frame_rate", "-of", "csv=p=0", path],
        capture_output=True,
        text=True,
        check=True,
    )
    return r.stdout.strip()


def test_y4m_takes_the_rate_from_the_vui(x265, ffmpeg, tmp_path):
    clip = make_clip(tmp_path / "c.yuv")
    stream = x265_encode(x265, clip, 64, 64, tmp_path / "x.hevc", ["--keyint", "1"], 3, fps=12)
    y4m, yuv = tmp_path / "out.y4m", tmp_path / "out.yuv"
    r = run_cli("decode", "-q", "-b", str(stream), "-o", str(y4m))
    assert r.returncode == 0 and "note:" not in r.stdout, r.stdout + r.stderr
    assert run_cli("decode", "-q", "-b", str(stream), "-o", str(yuv)).returncode == 0
    assert y4m.read_bytes().startswith(b"YUV4MPEG2 W64 H64 F12:1 ")
    assert y4m.read_bytes().count(b"FRAME\n") == 3
    assert md5(ffmpeg_raw(ffmpeg, y4m)) == md5(yuv.read_bytes()) == md5(ffmpeg_raw(ffmpeg, stream))
    assert ffprobe_rate(y4m) == "12/1"


def test_y4m_without_rate_says_what_it_assumes(ours, ffmpeg, tmp_path):
    plain, _ = ours
    y4m, yuv = tmp_path / "out.y4m", tmp_path / "out.yuv"
    r = run_cli("decode", "-q", "-b", str(plain), "-o", str(y4m), "-d", "10")
    assert r.returncode == 0, r.stderr
    assert "note:" in r.stdout and "signals no picture rate" in r.stdout and "25/1" in r.stdout
    assert run_cli("decode", "-q", "-b", str(plain), "-o", str(yuv), "-d", "10").returncode == 0
    assert y4m.read_bytes().startswith(b"YUV4MPEG2 W64 H64 F25:1 Ip A0:0 C420p10\n")
    assert md5(ffmpeg_raw(ffmpeg, y4m, "yuv420p10le")) == md5(yuv.read_bytes())
    assert ffprobe_rate(y4m) == "25/1"


def test_y4m_bit_depth_without_a_format(ours, tmp_path):
    out = tmp_path / "o.y4m"
    r = run_cli("decode", "-b", str(ours[0]), "-o", str(out), "-d", "11")
    assert r.returncode == 2 and len(error_lines(r)) == 1 and "no 11-bit format" in r.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content,fragment",
    [
        (b"", "no HEVC NAL unit found"),
        (bytes(random.Random(5).randrange(256) for _ in range(3000)), ""),
        (b"\x00\x00\x00\x01\x40\x01\x0c", "unexpected end of NAL unit"),  # a cut VPS
        (b"\x00\x00\x00\x01\x4a\x01\x80", "no coded picture"),  # an AUD alone
    ],
    ids=["empty", "random", "truncated-vps", "aud-only"],
)
def test_no_picture_is_an_error(content, fragment, tmp_path):
    src = tmp_path / "in.hevc"
    src.write_bytes(content)
    out = tmp_path / "o.yuv"
    r = run_cli("decode", "-b", str(src), "-o", str(out))
    errors = error_lines(r)
    assert r.returncode == 2 and len(errors) == 1, r.stdout + r.stderr
    assert str(src) in errors[0] and fragment in errors[0]
    assert "picture(s) decoded" not in r.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.hevc"]


@pytest.mark.parametrize(
    "mode,byte",
    [(b"cpu;ort=1.31.1\xff", "0xff"), (b"\x1b]0;pwned\x07\x1b[2Jcpu", "0x1b")],
    ids=["non-utf8", "escape-codes"],
)
def test_sei_text_is_validated_and_never_printed_raw(ours, mode, byte, tmp_path):
    _, cnn = ours
    _, payload = sei_payload(cnn.read_bytes())
    bad = tmp_path / "bad.hevc"
    bad.write_bytes(with_sei(cnn.read_bytes(), payload[:17] + bytes([len(mode)]) + mode))
    r = subprocess.run(
        [sys.executable, "-m", "cnnfilter", "decode", "-b", str(bad)], capture_output=True, cwd="/"
    )
    err = r.stderr.decode("utf-8")  # it must be valid UTF-8 too
    assert r.returncode == 2 and err.count("error:") == 1, err
    assert "model set identification SEI" in err and byte in err and str(bad) in err
    assert b"\x1b" not in r.stdout + r.stderr and b"\x07" not in r.stdout + r.stderr


def test_stream_text_in_messages_is_escaped(ours):
    """The model lookup quotes the stream's inference mode: escaped, whatever reaches it."""
    from cnnfilter.loop import StreamModels

    with pytest.raises(FileNotFoundError) as e:
        StreamModels(ROOT / "models").filter_for(bytes(16), "cpu\x1b[2J\udcff")
    assert "\x1b" not in str(e.value) and "\\x1b[2J" in str(e.value)
    assert "00000000000000000000000000000000" in str(e.value) and "--models" in str(e.value)


def test_output_is_a_folder(ours, tmp_path):
    r = run_cli("decode", "-b", str(ours[0]), "-o", str(tmp_path))
    errors = error_lines(r)
    assert r.returncode == 2 and len(errors) == 1 and "is a folder" in errors[0]
    assert "POC" not in r.stdout  # refused before decoding started
    assert list(tmp_path.iterdir()) == []


def test_output_folder_not_writable(ours, tmp_path, monkeypatch, capsys):
    from cnnfilter.cli import main

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.geteuid() == 0:  # root writes anyway: make the check see the folder as read-only
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, m: real(p, m) and Path(p) != ro)
    try:
        code = main(["decode", "-b", str(ours[0]), "-o", str(ro / "o.yuv")])
    finally:
        ro.chmod(0o755)
    out, err = capsys.readouterr()
    assert code == 2 and err.count("error:") == 1 and "is not writable" in err, err
    assert "POC" not in out and "Traceback" not in err
    assert list(ro.iterdir()) == []


def test_a_users_part_file_is_never_touched(ours, tmp_path):
    plain, _ = ours
    out = tmp_path / "o.yuv"
    part = tmp_path / "o.yuv.part"
    part.write_bytes(b"the user's own file")
    assert run_cli("decode", "-q", "-b", str(plain), "-o", str(out)).returncode == 0
    assert part.read_bytes() == b"the user's own file" and out.stat().st_size == 3 * 64 * 96
    bad = tmp_path / "bad.hevc"
    bad.write_bytes(plain.read_bytes()[:-40])
    out.write_bytes(b"previous output")
    r = run_cli("decode", "-q", "-b", str(bad), "-o", str(out))
    assert r.returncode == 2 and len(error_lines(r)) == 1
    assert part.read_bytes() == b"the user's own file" and out.read_bytes() == b"previous output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.hevc", "o.yuv", "o.yuv.part"]
