"""What the Dask executor of ``cnnfilter ctc run`` costs next to the local process pool.

1. The same CTC run with ``LocalPoolExecutor(N)`` and ``DaskExecutor(N)`` (a LocalCluster of N
   single-threaded workers), in fresh results folders, through ``runner.run`` as the command
   runs it: the built-in pictures, 1 frame, anchor against nolf at --qps. Reported: the pool's
   run (it starts its workers inside), the cluster's start-up and the Dask run, and the
   overhead per job, (Dask - pool) / jobs, with and without the start-up. The reports
   (``--no-times``) of all runs must be identical.
2. The scheduler at ``--queued`` no-op jobs: a ``dask scheduler`` process on 127.0.0.1 with no
   worker; ``DaskExecutor.submit`` (what ``DaskExecutor.run`` submits with) of items that are
   real CTC tasks; the time until the scheduler holds them all; the scheduler's and this
   process's resident memory then; and, once two workers join, the time to drain a fresh
   queue (jobs per second through ``DaskExecutor.run``).

    python bench/ctc_dask.py [--jobs 2] [--qps 22 27 32 37] [--queued 10000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from cnnfilter.ctc import runner
from cnnfilter.ctc.builtin import builtin_sequences
from cnnfilter.ctc.dask_executor import DaskExecutor
from cnnfilter.ctc.executor import LocalPoolExecutor


def noop(task):
    """A job that does nothing and returns a row-sized result."""
    return {"key": task.job.key, "status": "ok", "pad": "x" * 1500}


def plan(qps: list[int], anchor: str, test: str):
    seqs = builtin_sequences()
    jobs = runner.prepare(["AI"], qps, seqs, anchor, [test], 1, "built-in set")
    meta = {
        "command": ["bench/ctc_dask.py"],
        "anchor": anchor,
        "tests": [test],
        "configs": ["AI"],
        "qps": qps,
        "frames_cap": 1,
        "frames_note": "at most 1",
        "sequence_source": "built-in set",
        "sequences": [s.to_dict() for s in seqs],
    }
    return jobs, meta


def report(out: Path) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "cnnfilter", "ctc", "report", str(out), "--no-times",
         "--no-plots", "--report-dir", str(out / "report")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    del r
    return "".join((out / "report" / n).read_text() for n in ("report.csv", "points.csv"))


def same_ctc(args, tmp: Path) -> dict:
    jobs, meta = plan(args.qps, args.anchor, args.test)
    res: dict = {"jobs": len(jobs), "pool_s": [], "dask_s": [], "dask_start_s": []}
    reports = set()
    for r in range(args.repeat):
        out = tmp / f"pool{r}"
        ex = LocalPoolExecutor(args.jobs)
        t0 = time.perf_counter()
        s = runner.run(jobs, out, meta, executor=ex, progress=False)
        res["pool_s"].append(time.perf_counter() - t0)
        assert s.ran == len(jobs) and not s.failed, s
        reports.add(report(out))

        out = tmp / f"dask{r}"
        ex = DaskExecutor(args.jobs)
        t0 = time.perf_counter()
        ex.start()
        t1 = time.perf_counter()
        try:
            s = runner.run(jobs, out, meta, executor=ex, progress=False)
        finally:
            ex.close()
        t2 = time.perf_counter()
        res["dask_start_s"].append(t1 - t0)
        res["dask_s"].append(t2 - t1)
        assert s.ran == len(jobs) and not s.failed, s
        reports.add(report(out))
    res["reports_identical"] = len(reports) == 1
    pool = statistics.median(res["pool_s"])
    dask = statistics.median(res["dask_s"])
    starts = zip(res["dask_s"], res["dask_start_s"], strict=True)
    total = statistics.median(a + b for a, b in starts)
    # The pool starts its workers inside run(); the cluster's start is counted in "total".
    res["overhead_per_job_ms_run"] = (dask - pool) / len(jobs) * 1000
    res["overhead_per_job_ms_total"] = (total - pool) / len(jobs) * 1000
    return res


def _spawn(args: list[str], tmp: Path, name: str) -> subprocess.Popen:
    log = (tmp / f"{name}.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT, cwd=tmp,
        start_new_session=True,
    )  # fmt: skip


def _rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def scheduler_cost(args, tmp: Path) -> dict:
    jobs, _ = plan(args.qps, args.anchor, args.test)
    tasks = [runner._Task(j, str(tmp / "unused"), False, runner.software_versions()) for j in jobs]
    items = [tasks[i % len(tasks)] for i in range(args.queued)]
    info = tmp / "scheduler.json"
    procs = [
        _spawn(
            [
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(info),
            ],
            tmp,
            "scheduler",
        )  # fmt: skip
    ]
    try:
        while not (info.is_file() and info.read_text().strip().endswith("}")):
            time.sleep(0.05)
        address = json.loads(info.read_text())["address"]
        sched = procs[0].pid
        ex = DaskExecutor(scheduler=address)
        ex.start()
        client = ex._client
        res: dict = {"queued": args.queued}
        time.sleep(1)
        res["scheduler_idle_rss_mb"] = _rss_mb(sched)
        res["runner_rss_before_mb"] = _rss_mb(os.getpid())

        # 1. Submission with no worker: everything stays queued on the scheduler.
        t0 = time.perf_counter()
        futures = ex.submit(noop, items)
        res["submit_returned_s"] = time.perf_counter() - t0

        def held(dask_scheduler):
            return len(dask_scheduler.tasks)

        while client.run_on_scheduler(held) < len(items):
            time.sleep(0.05)
        res["scheduler_holds_all_s"] = time.perf_counter() - t0
        time.sleep(1)
        res["scheduler_queued_rss_mb"] = _rss_mb(sched)
        res["runner_queued_rss_mb"] = _rss_mb(os.getpid())
        ex.close()  # cancels the queued jobs
        del futures
        time.sleep(2)
        ex = DaskExecutor(scheduler=address)
        ex.start()
        client = ex._client

        # 2. Two workers drain a fresh queue through the executor, as a run does.
        for w in ("w1", "w2"):
            procs.append(
                _spawn(
                    [
                        "distributed.cli.dask_worker",
                        address,
                        "--host",
                        "127.0.0.1",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--name",
                        w,
                    ],
                    tmp,
                    w,
                )  # fmt: skip
            )
        client.wait_for_workers(2, timeout=120)
        peak = 0.0
        t0 = time.perf_counter()
        n = 0
        for _i, _row in ex.run(noop, items):
            n += 1
            if n % 500 == 0:
                peak = max(peak, _rss_mb(sched))
        res["drain_s"] = time.perf_counter() - t0
        res["drain_jobs_per_s"] = n / res["drain_s"]
        res["scheduler_peak_rss_during_drain_mb"] = peak
        ex.close()
        return res
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--qps", type=int, nargs="+", default=[22, 27, 32, 37])
    ap.add_argument("--anchor", default="anchor")
    ap.add_argument("--test", default="nolf")
    ap.add_argument("--queued", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", help="also write the numbers as JSON here")
    args = ap.parse_args()
    import dask
    import distributed

    with tempfile.TemporaryDirectory(prefix="bench-ctc-dask.") as d:
        tmp = Path(d)
        res = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
            "load_before": os.getloadavg(),
            "versions": {"dask": dask.__version__, "distributed": distributed.__version__},
            "same_ctc": same_ctc(args, tmp),
            "scheduler": scheduler_cost(args, tmp / "."),
        }
    text = json.dumps(res, indent=1, default=float)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
