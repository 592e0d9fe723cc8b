"""Warnings during a CTC run (a model set validated with another onnxruntime, say) are printed
once each, as a clean ``warning:`` line above the progress bar, whichever process raised them:
the runner itself or a pool worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ctc_util
import pytest
from ctc_util import PROBE_WARNING, entry, photo_clip, register_warning_setting, write_list

from cnnfilter.ctc import runner, settings
from cnnfilter.ctc.executor import LocalPoolExecutor
from cnnfilter.ctc.sequences import load_sequences


@pytest.fixture
def seq_list(tmp_path, x265):
    a = photo_clip(tmp_path / "a_128x96.yuv", frames=1)
    b = photo_clip(tmp_path / "b_64x64.yuv", 64, 64, frames=1, origin=(40, 300))
    return write_list(tmp_path / "l.yaml", [entry("a", a, 128, 96, 1), entry("b", b, 64, 64, 1)])


@pytest.fixture
def probe(monkeypatch):
    monkeypatch.setattr(settings, "_REGISTRY", dict(settings._REGISTRY))
    register_warning_setting()
    yield
    settings.resolve.cache_clear()


def _warning_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "warning:" in line or "Warning" in line]


class ProbePool(LocalPoolExecutor):
    """The real pool, its workers knowing the 'warnprobe' setting."""

    def run(self, fn, items):
        return super().run(ctc_util.execute_job_with_probe, items)


def test_worker_warnings_once_above_the_bar(tmp_path, seq_list, probe, capfd):
    seqs = load_sequences(seq_list)
    with runner.clean_warnings():
        jobs = runner.prepare(["AI"], [22, 37], seqs, "x265", ["warnprobe"], None, "l")
        summary = runner.run(
            jobs, tmp_path / "out", {"anchor": "x265"}, executor=ProbePool(2), progress=True
        )
    assert (summary.ran, summary.failed) == (8, [])
    err = capfd.readouterr().err
    # Raised in the runner (the settings check) and by four jobs in two workers: one line.
    assert _warning_lines(err) == [f"warning: {PROBE_WARNING}"], err
    assert "UserWarning" not in err and "warnings.warn" not in err


def test_cli_prints_each_warning_once(tmp_path, seq_list):
    """The command in a process of its own, two workers: Python's own warning output would
    print the warning three times (runner + two workers) with file names and code lines."""
    argv = [sys.executable, str(Path(ctc_util.__file__)), "ctc", "run", "--sequences",
            str(seq_list), "--anchor", "x265", "--test", "warnprobe", "--qps", "22", "37",
            "--jobs", "2", "--out", str(tmp_path / "out")]  # fmt: skip
    r = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert _warning_lines(r.stderr) == [f"warning: {PROBE_WARNING}"], r.stderr
    assert "UserWarning" not in r.stderr
