"""``ctc run --executor dask``: the same CTC on the local pool and on a Dask LocalCluster gives
byte-identical reports, rows and bitstreams; a worker that cannot see a sequence records a
failed row that says so; bad ``--scheduler`` values are one error line.

A tiny CTC: 2 sequences (64x64 crops of a photograph), 2 QPs, 1 frame, anchor against nolf.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ctc_util import entry, photo_clip, write_list

pytest.importorskip(
    "distributed", reason="the 'cluster' extra (dask, distributed) is not installed"
)

DEADLINE = 60


def _run(cwd: Path, seqs: Path, *extra: str, env: dict[str, str] | None = None):
    """Runs `cnnfilter ctc run` in its own process group; afterwards no process of that group
    (pool or Dask workers) may be left, and any that is is killed."""
    cmd = [
        sys.executable, "-m", "cnnfilter", "ctc", "run", "--qps", "22", "37",
        "--sequences", str(seqs), "--anchor", "anchor", "--test", "nolf", "--frames", "1",
        "--out", "ctc", "--quiet", *extra,
    ]  # fmt: skip
    p = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, env={**os.environ, **(env or {})},
    )  # fmt: skip
    try:
        out, err = p.communicate(timeout=DEADLINE)
    finally:
        # Helpers (multiprocessing's resource tracker) may take a moment to follow the runner.
        end = time.monotonic() + 10
        while (left := _group_alive(p.pid)) and time.monotonic() < end:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
    assert not left, "the run left processes behind"
    return p.returncode, out, err


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _report(cwd: Path) -> dict[str, str]:
    r = subprocess.run(
        [sys.executable, "-m", "cnnfilter", "ctc", "report", "ctc", "--no-times", "--no-plots"],
        cwd=cwd, capture_output=True, text=True, timeout=DEADLINE,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rep = cwd / "ctc" / "report"
    return {n: (rep / n).read_text() for n in ("report.md", "report.csv", "points.csv")}


@pytest.fixture
def seqs(tmp_path: Path) -> Path:
    a = photo_clip(tmp_path / "a.yuv", 64, 64, 1)
    b = photo_clip(tmp_path / "b.yuv", 64, 64, 1, origin=(300, 100))
    return write_list(tmp_path / "seqs.yaml", [entry("a", a, 64, 64, 1), entry("b", b, 64, 64, 1)])


def test_local_pool_and_dask_give_identical_reports(tmp_path, seqs):
    runs = {}
    for name, extra in (("pool", ["--jobs", "2"]), ("dask", ["--executor", "dask", "--jobs", "2"])):
        d = tmp_path / name
        d.mkdir()
        rc, out, err = _run(d, seqs, "--keep-streams", *extra)
        assert rc == 0, err + out
        assert "8 job(s): 0 skipped (done), 8 run, 0 failed, 0 MD5 not OK" in out
        assert err == ""  # --quiet, and Dask's own logging stays out of the terminal
        runs[name] = d / "ctc"
    assert _report(tmp_path / "dask") == _report(tmp_path / "pool")

    # The rows came back from the workers and were written here: one per job, no scratch
    # folder nor temporary left; the bitstreams travelled back too, byte for byte.
    for sub, n in (("rows", 8), ("streams", 8), ("work", 0)):
        names = sorted(p.name for p in (runs["dask"] / sub).iterdir())
        assert names == sorted(p.name for p in (runs["pool"] / sub).iterdir())
        assert len(names) == n
    for p in (runs["pool"] / "streams").iterdir():
        assert (runs["dask"] / "streams" / p.name).read_bytes() == p.read_bytes()


def test_a_worker_without_the_sequence_records_why(tmp_path, seqs):
    from cnnfilter.ctc import runner
    from cnnfilter.ctc.sequences import load_sequences

    seq = load_sequences(str(seqs))[0]
    jobs = runner.prepare(["AI"], [22, 37], [seq], "anchor", ["nolf"], 1, "t")
    gone = dataclasses.replace(jobs[0].sequence, path=str(tmp_path / "elsewhere" / "a.yuv"))
    task = runner._Task(dataclasses.replace(jobs[0], sequence=gone), str(tmp_path / "x"), False, {})
    row = runner.measure_job(task)
    assert row["status"] == "failed"
    assert row["error"].startswith(f"FileNotFoundError: sequence file {gone.path} not found")
    assert "shared file system" in row["error"] and "(on worker host " in row["error"]
    assert not (tmp_path / "x").exists()  # a worker never writes into --out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--scheduler", "127.0.0.1"], "--scheduler 127.0.0.1: not a scheduler address"),
        (["--scheduler", "nope://x:1"], "--scheduler nope://x:1: not a scheduler address"),
        (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler tcp://127.0.0.1:9: cannot connect"),
        (["--scheduler", "tcp://127.0.0.1:9", "--executor", "local"], "needs --executor dask"),
    ],
)
def test_bad_scheduler_is_one_error_line(tmp_path, seqs, args, message):
    # Port 9 (discard) has no listener here; Dask's connect timeout is shortened to 1 s.
    rc, out, err = _run(
        tmp_path, seqs, *args, env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}
    )
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnnfilter ctc: error: "), err
    assert message in lines[0]
    assert not (tmp_path / "ctc").exists()  # nothing written before the check
