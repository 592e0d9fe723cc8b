"""``cnnfilter encode``: HM-style flags and logs; bad input: one line, exit code 2, no output."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT

CFG = str(ROOT / "cfg" / "encoder_intra_main.cfg")


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "cnnfilter", *args], capture_output=True, text=True, cwd="/"
    )


@pytest.fixture(scope="module")
def clip(shared_data):
    src = shared_data / "video" / "CiscoVT2people_320x192_12.yuv"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    return src


def test_hm_style_run(clip, tmp_path):
    bs, rec = tmp_path / "s.bin", tmp_path / "r.yuv"
    r = run_cli(
        "encode",
        "-c",
        CFG,
        "-i",
        str(clip),
        "-wdt",
        "320",
        "-hgt",
        "192",
        "-fr",
        "12",
        "-f",
        "2",
        "-q",
        "37",
        "-b",
        str(bs),
        "-o",
        str(rec),
        "--SAO=0",
        "--RDOQ",
        "0",
    )
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("POC")]
    assert len(lines) == 2 and all("I-SLICE" in ln and "bits" in ln and "[Y " in ln for ln in lines)
    assert "SUMMARY" in r.stdout and "YUV-PSNR" in r.stdout
    assert bs.stat().st_size > 0 and rec.stat().st_size == 2 * 320 * 192 * 3 // 2


@pytest.mark.parametrize(
    "args,message",
    [
        (["-wdt", "322", "-hgt", "192"], "not a whole number of"),
        (["-wdt", "321", "-hgt", "192"], "needs an even width and height"),
        (["-wdt", "320", "-hgt", "192", "-f", "99"], "but 99 were asked for"),
        (["-wdt", "320", "-hgt", "192", "--NoSuchKey=1"], "unknown configuration key 'NoSuchKey'"),
        (["-wdt", "320", "-hgt", "192", "--SAOO=1"], "did you mean SAO"),
        (["-wdt", "320", "-hgt", "192", "-q", "60"], "out of range"),
        (["-wdt", "320", "-hgt", "192", "--LambdaModifier0=0"], "LambdaModifier0 = 0 is out of"),
        (["-wdt", "320", "-hgt", "192", "--IntraPeriod=32"], "GOPSize is 1, but Frame1 is missing"),
        (["-wdt", "320", "-hgt", "192", "--SAO=maybe"], "not a valid bool"),
    ],
)
def test_bad_input(clip, tmp_path, args, message):
    bs, rec = tmp_path / "s.bin", tmp_path / "r.yuv"
    r = run_cli("encode", "-c", CFG, "-i", str(clip), "-b", str(bs), "-o", str(rec), *args)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert not bs.exists() and not rec.exists()
    assert not list(tmp_path.iterdir()), "no partial output may be left behind"


def test_missing_input_and_cfg(tmp_path):
    bs = str(tmp_path / "s.bin")
    r = run_cli(
        "encode", "-c", CFG, "-i", str(tmp_path / "nope.yuv"), "-wdt", "64", "-hgt", "64", "-b", bs
    )
    assert r.returncode == 2 and "not found" in r.stderr
    r = run_cli("encode", "-c", str(tmp_path / "nope.cfg"), "-i", "x.yuv", "-b", bs)
    assert r.returncode == 2 and "configuration file not found" in r.stderr


def test_bad_cfg_file(tmp_path, clip):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("QP : 32\nFrame1: P 1 3 0 0 0.4624 0 0 0 4 4 -1 -5 -9 -13 0\n")
    bs = tmp_path / "s.bin"
    r = run_cli(
        "encode", "-c", str(cfg), "-i", str(clip), "-wdt", "320", "-hgt", "192", "-b", str(bs)
    )
    # GOPSize 1 keeps the last four pictures, so POC 5 cannot reach POC 0 (-5).
    assert r.returncode == 2 and r.stderr.count("error:") == 1
    assert "Frame1 (POC 5) references POC 0, which is no longer kept" in r.stderr
    cfg.write_text("QP : 32\nFrame1: P 1 3 0 0 0.4624 0 0 0 4 4 -1 -5 -9\n")
    r = run_cli(
        "encode", "-c", str(cfg), "-i", str(clip), "-wdt", "320", "-hgt", "192", "-b", str(bs)
    )
    assert r.returncode == 2 and "bad.cfg:2: Frame1: #ref_pics 4 but 3 values" in r.stderr
    assert not bs.exists()


def test_help():
    r = run_cli("encode", "--help")
    assert r.returncode == 0 and "--Key=value" in r.stdout
