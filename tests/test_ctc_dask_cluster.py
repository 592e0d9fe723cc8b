"""``ctc run --scheduler``: a Dask scheduler and workers started as separate processes on
127.0.0.1, as `dask scheduler` / `dask worker` would run on a cluster.

- A worker SIGKILLed in the middle of a job loses nothing and duplicates nothing: the run
  completes, there is exactly one row per job, and the report equals the local pool's.
- The scheduler going away ends the run with one ``error:`` line (exit 2); a rerun resumes.

The jobs use ``slowanchor``, the anchor with a pause before encoding, so that a job is surely
running when the test kills its worker. This file registers it: the workers import it with
``--preload`` and the runner runs it as ``python THIS_FILE ctc run ...``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PAUSE = 0.4  # seconds each slowanchor job waits before encoding
HERE = Path(__file__).resolve()


def register_slow_setting() -> None:
    from cnnfilter.ctc import settings

    if "slowanchor" in settings._REGISTRY:
        return

    def make(arg):
        base = settings.resolve("anchor")

        def encode(job, bitstream):
            time.sleep(PAUSE)
            return base.encode(job, bitstream)

        return settings.Setting("slowanchor", base.identity, encode, base.check)

    def make_crash(arg):
        base = settings.resolve("nolf")

        def encode(job, bitstream):
            if job.sequence.name == "b" and job.qp == 37:
                os.kill(os.getpid(), signal.SIGKILL)  # the worker dies in this job, every time
            return base.encode(job, bitstream)

        return settings.Setting("crashnolf", base.identity, encode, base.check)

    settings._REGISTRY["slowanchor"] = settings._Factory(make, "test: anchor, slower", "no")
    settings._REGISTRY["crashnolf"] = settings._Factory(make_crash, "test: kills b/QP37", "no")
    settings.resolve.cache_clear()


if __name__ == "__main__":
    # The runner: the cnnfilter command with 'slowanchor' known (local pool workers are spawned
    # with this file as __mp_main__, which registers it too).
    register_slow_setting()
    from cnnfilter.cli import main

    sys.exit(main(sys.argv[1:]))
elif __name__ == "__mp_main__":
    register_slow_setting()  # a local pool worker


def dask_setup(worker) -> None:
    """Called in a Dask worker that has this file as ``--preload``."""
    register_slow_setting()


pytest.importorskip(
    "distributed", reason="the 'cluster' extra (dask, distributed) is not installed"
)

DEADLINE = 60  # seconds: any process of this test still running then is killed


def _run_cmd(seqs: Path, *extra: str, test: str = "nolf") -> list[str]:
    return [
        sys.executable, str(HERE), "ctc", "run", "--qps", "22", "37", "--sequences", str(seqs),
        "--anchor", "slowanchor", "--test", test, "--frames", "1", "--out", "ctc", "--quiet",
        *extra,
    ]  # fmt: skip


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
    from ctc_util import entry, photo_clip, write_list  # not in a worker's --preload

    a = photo_clip(tmp_path / "a.yuv", 64, 64, 1)
    b = photo_clip(tmp_path / "b.yuv", 64, 64, 1, origin=(300, 100))
    return write_list(tmp_path / "seqs.yaml", [entry("a", a, 64, 64, 1), entry("b", b, 64, 64, 1)])


class Cluster:
    """A scheduler and workers on 127.0.0.1, each its own process group; all killed at the
    end, whatever the test did."""

    def __init__(self, root: Path):
        self.root = root
        self.procs: dict[str, subprocess.Popen] = {}
        self.address = ""

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.root / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **(env or {})}, cwd=self.root,
        )  # fmt: skip

    def start_scheduler(self) -> str:
        info = self.root / "scheduler.json"
        info.unlink(missing_ok=True)
        self._spawn(
            "scheduler",
            ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(info)],
        )  # fmt: skip
        self.address = json.loads(_wait_for(lambda: _text(info), "the scheduler file"))["address"]
        return self.address

    def start_worker(self, name: str, preload: Path = HERE) -> Path:
        """A worker without nanny (a SIGKILL ends it for good) whose scratch folders go to
        its own TMPDIR, which the test watches."""
        tmp = self.root / f"{name}-tmp"
        tmp.mkdir()
        self._spawn(
            name,
            ["worker", self.address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
             "--no-dashboard", "--name", name, "--preload", str(preload)],
            env={"TMPDIR": str(tmp)},
        )  # fmt: skip
        return tmp

    def wait_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=DEADLINE) as c:
            c.wait_for_workers(n, timeout=DEADLINE)

    def kill(self, name: str) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(timeout=10)

    def stop(self) -> None:
        # SIGKILL: nothing of these processes is kept, and a worker can take seconds to stop.
        for p in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
        for p in self.procs.values():
            p.wait(timeout=10)


def _text(path: Path) -> str | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    return text if text.strip().endswith("}") else None


def _wait_for(probe, what: str, timeout: float = DEADLINE):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = probe()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def cluster(tmp_path: Path):
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.stop()


def _job_running(tmp: Path) -> bool:
    return any(p.name.startswith("cnnfilter-ctc.") for p in tmp.iterdir())


def test_worker_killed_mid_job_loses_and_duplicates_nothing(tmp_path, seqs, cluster):
    local = tmp_path / "local"
    local.mkdir()
    r = subprocess.run(
        _run_cmd(seqs, "--jobs", "2"), cwd=local, capture_output=True, text=True, timeout=DEADLINE
    )
    assert r.returncode == 0, r.stderr + r.stdout
    expected = _report(local)

    address = cluster.start_scheduler()
    doomed = cluster.start_worker("w1")
    cluster.start_worker("w2")
    cluster.wait_workers(2)
    dask = tmp_path / "dask"
    dask.mkdir()
    runner = subprocess.Popen(
        _run_cmd(seqs, "--scheduler", address), cwd=dask, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        # Kill w1 while a job is inside it (its scratch folder exists, its row cannot have
        # been written: rows are written by the runner when a result comes back).
        _wait_for(lambda: _job_running(doomed), "a job on worker w1")
        cluster.kill("w1")
        out, err = runner.communicate(timeout=DEADLINE)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait(timeout=10)
    assert runner.returncode == 0, err + out
    assert "8 job(s): 0 skipped (done), 8 run, 0 failed" in out

    rows = sorted((dask / "ctc" / "rows").iterdir())
    assert len(rows) == 8  # one per job: none lost, none duplicated, no temporary left
    keys = [json.loads(p.read_text())["key"] for p in rows]
    assert len(set(keys)) == 8
    assert all(json.loads(p.read_text())["status"] == "ok" for p in rows)
    assert _report(dask) == expected


def test_scheduler_gone_is_one_error_and_a_rerun_resumes(tmp_path, seqs, cluster):
    address = cluster.start_scheduler()
    worker_tmp = cluster.start_worker("w1")
    cluster.wait_workers(1)
    runner = subprocess.Popen(
        _run_cmd(seqs, "--scheduler", address), cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_for(lambda: _job_running(worker_tmp), "a job on the worker")
        cluster.kill("scheduler")
        t0 = time.monotonic()
        out, err = runner.communicate(timeout=DEADLINE)
        took = time.monotonic() - t0
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait(timeout=10)
    assert runner.returncode == 2, err + out
    errors = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(errors) == 1 and "lost the Dask scheduler" in errors[0], err
    assert "Traceback" not in err
    assert took < 45
    assert not (tmp_path / "ctc" / ".lock").exists()

    # The rerun (on a local Dask cluster) runs exactly the jobs without a row.
    done = len(list((tmp_path / "ctc" / "rows").glob("*.json")))
    r = subprocess.run(
        _run_cmd(seqs, "--executor", "dask", "--jobs", "2"), cwd=tmp_path, capture_output=True,
        text=True, timeout=DEADLINE,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr + r.stdout
    assert f"8 job(s): {done} skipped (done), {8 - done} run, 0 failed" in r.stdout


def test_a_job_that_kills_every_worker_is_recorded_failed(tmp_path, seqs):
    # Dask reruns a job whose worker died, up to distributed.scheduler.allowed-failures times
    # (3 by default; 0 here, to keep the test short), then gives up on it: the runner records
    # it as failed with that reason and finishes the others. The local cluster's nanny
    # restarts the dead worker. The killed job's private scratch folder cannot be removed by
    # anyone (it lives in the dead worker's TMPDIR), so that TMPDIR is the test's own.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        **os.environ,
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0",
        "TMPDIR": str(scratch),
    }
    runner = subprocess.Popen(
        _run_cmd(seqs, "--executor", "dask", "--jobs", "2", test="crashnolf"), cwd=tmp_path,
        text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=env,
    )  # fmt: skip
    try:
        out, err = runner.communicate(timeout=DEADLINE)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(runner.pid, signal.SIGKILL)
        runner.wait(timeout=10)
    assert runner.returncode == 2, err + out
    assert "error: 1 of 8 job(s) failed" in err
    assert "8 job(s): 0 skipped (done), 8 run, 1 failed, 0 MD5 not OK" in out
    assert "failed: AI/crashnolf/b/QP37: the Dask worker running it died" in out
    rows = {json.loads(p.read_text())["key"]: json.loads(p.read_text()) for p in
            (tmp_path / "ctc" / "rows").iterdir()}  # fmt: skip
    assert len(rows) == 8
    assert rows["AI/crashnolf/b/QP37"]["status"] == "failed"
    assert sum(r["status"] == "ok" for r in rows.values()) == 7
    # Only the killed job leaves its scratch behind; the seven that ended removed theirs.
    left = [p.name for p in scratch.iterdir() if p.name.startswith("cnnfilter-ctc.")]
    assert len(left) == 1 and left[0].startswith("cnnfilter-ctc.AI_crashnolf_b_QP37"), left


def test_a_worker_without_cnnfilter_fails_each_job_clearly(tmp_path, seqs, cluster):
    # Such a worker cannot unpickle a job: each job fails with the ImportError, and the run
    # ends (it must not wait forever for workers, as it would if the worker left the cluster).
    hide = tmp_path / "hide_cnnfilter.py"
    hide.write_text("import sys\nsys.modules['cnnfilter'] = None  # as if not installed\n")
    address = cluster.start_scheduler()
    cluster.start_worker("w1", preload=hide)
    cluster.wait_workers(1)
    r = subprocess.run(
        [sys.executable, "-m", "cnnfilter", "ctc", "run", "--qps", "22", "37", "--sequences",
         str(seqs), "--anchor", "anchor", "--test", "nolf", "--frames", "1", "--out", "ctc",
         "--quiet", "--scheduler", address],
        cwd=tmp_path, capture_output=True, text=True, timeout=DEADLINE,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr + r.stdout
    assert "8 job(s): 0 skipped (done), 8 run, 8 failed" in r.stdout
    failed = [ln for ln in r.stdout.splitlines() if ln.startswith("  failed: ")]
    assert len(failed) == 8
    assert all(
        "the Dask worker could not run it: ModuleNotFoundError: No module named 'cnnfilter" in ln
        for ln in failed
    ), r.stdout
