"""End to end: a small All-Intra CTC (2 real clips, 4 QPs, 2 frames), the runner killed with
SIGKILL midway and rerun, gives exactly the report of an uninterrupted run, with no duplicate
rows and no finished job done twice.

The codec settings are the project's own: the anchor (deblocking + SAO) against the in-loop CNN
of the shipped default model set.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ctc_util import entry, write_list

ANCHOR = "anchor"
TEST = "cnn:default"
CLIPS = [  # (name, file, width, height)
    ("CiscoVT2people", "CiscoVT2people_320x192_12.yuv", 320, 192),
    ("bigbuckbunny-crop", "bigbuckbunny-crop_416x240_25.yuv", 416, 240),
]
N_JOBS = len(CLIPS) * 4 * 2  # clips x QPs x settings


def _cmd(seq_list: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "cnnfilter", "ctc", "run", "--cfg", "AI",
        "--qps", "22", "27", "32", "37", "--sequences", str(seq_list),
        "--anchor", ANCHOR, "--test", TEST, "--frames", "2", "--jobs", "2",
        "--out", "ctc", *extra,
    ]  # fmt: skip


def _report(cwd: Path) -> dict[str, str]:
    r = subprocess.run(
        [sys.executable, "-m", "cnnfilter", "ctc", "report", "ctc", "--no-times", "--no-plots"],
        cwd=cwd, capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rep = cwd / "ctc" / "report"
    return {n: (rep / n).read_text() for n in ("report.md", "report.csv", "points.csv")}


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def seq_list(shared_data, tmp_path, x265):
    entries = []
    for name, file, w, h in CLIPS:
        path = shared_data / "video" / file
        if not path.is_file():
            pytest.skip(f"{path} is missing")
        entries.append(entry(name, path, w, h, 9))
    return write_list(tmp_path / "seqs.yaml", entries)


def test_sigkill_midway_then_resume_gives_the_same_report(tmp_path, seq_list):
    # 1. The uninterrupted run.
    clean = tmp_path / "clean"
    clean.mkdir()
    r = subprocess.run(_cmd(seq_list, "--quiet"), cwd=clean, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout
    expected = _report(clean)

    # 2. The same run, killed with SIGKILL once a few rows are written.
    killed = tmp_path / "killed"
    killed.mkdir()
    proc = subprocess.Popen(
        _cmd(seq_list, "--quiet"),
        cwd=killed,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, to see that no worker outlives it
    )
    rows_dir = killed / "ctc" / "rows"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if rows_dir.is_dir() and len(list(rows_dir.glob("*.json"))) >= 3:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the runner finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # The workers (and their x265 children) die with the runner.
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group_alive(proc.pid), "worker processes outlived the killed runner"

    at_kill = {p.name: p.read_bytes() for p in rows_dir.glob("*.json")}
    assert 3 <= len(at_kill) < N_JOBS, "the kill did not land midway"
    finished = {k for k, v in at_kill.items() if json.loads(v)["status"] == "ok"}

    # 3. The rerun resumes: finished jobs are skipped, the rest run.
    r = subprocess.run(_cmd(seq_list, "--quiet"), cwd=killed, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout
    assert (
        f"{N_JOBS} job(s): {len(finished)} skipped (done), {N_JOBS - len(finished)} run" in r.stdout
    )
    for name in finished:  # untouched
        assert (rows_dir / name).read_bytes() == at_kill[name]

    # Exactly one complete row per job, nothing temporary left.
    files = sorted(p.name for p in rows_dir.iterdir())
    assert len(files) == N_JOBS and all(f.endswith(".json") for f in files)
    rows = [json.loads((rows_dir / f).read_text()) for f in files]
    plan = json.loads((killed / "ctc" / "plan.json").read_text())
    assert sorted(r["key"] for r in rows) == sorted(j["key"] for j in plan["jobs"])
    assert all(r["status"] == "ok" and r["md5"] == "OK" for r in rows)
    assert list((killed / "ctc" / "work").iterdir()) == []

    # 4. Exactly the same report (times left out: they are measurements, not results).
    assert _report(killed) == expected
    assert "| **Overall** | 2 of 2 sequences |" in expected["report.md"]
