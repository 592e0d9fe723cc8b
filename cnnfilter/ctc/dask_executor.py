"""A Dask executor: ``ctc run --executor dask`` (a local cluster) or ``--scheduler ADDRESS``.

Workers may run on other machines that do not see ``--out``: each job runs
``runner.measure_job`` in the worker's own temporary folder and its row travels back with the
future; the runner writes it (``returns_rows``). So a worker that dies mid-job has written
nothing: Dask reruns the job on another worker, and after ``allowed-failures`` deaths (Dask's
setting, 3 by default) the job is recorded as failed with that reason. A job that raises on the
worker (cnnfilter missing there, say) is recorded as failed with the worker's error. Losing the
scheduler ends the run with one ExecutorError; finished rows are kept and a rerun resumes.

``distributed`` is imported only here, so the package works without the ``cluster`` extra.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import signal
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import UserError
from .executor import Executor, ExecutorError, JobLost

_INSTALL = "--executor dask needs the 'cluster' extra: pip install 'cnnfilter[cluster]'"


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as e:
        raise ExecutorError(f"{_INSTALL} ({e})") from None
    return distributed


def dask_setup(worker: Any) -> None:
    """Runs in each worker of the local cluster (``preload``): Ctrl-C is the runner's to
    handle; it then stops the cluster, as the local pool's workers are stopped."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _no_sigint() -> Iterator[None]:
    """Holds Ctrl-C back while a local cluster starts: interrupted half-way, LocalCluster leaves
    threads and processes that keep the runner alive. The signal is taken right after, when
    close() can stop what was started."""
    main = threading.current_thread() is threading.main_thread()
    if not main or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _portable_call() -> Callable[[bytes], Any]:
    """The function the workers run: a local function, so Dask sends its code along, and the
    job travels as bytes it unpickles itself. A worker without cnnfilter (or with a broken
    one) then fails each job with the ImportError; a task Dask cannot even unpickle would
    instead make the worker leave the cluster, and the run wait for workers forever."""

    def call(blob: bytes) -> Any:
        import pickle

        fn, item = pickle.loads(blob)
        return fn(item)

    return call


class DaskExecutor(Executor):
    """Runs jobs on a Dask cluster: a ``LocalCluster`` of ``jobs`` single-threaded worker
    processes on 127.0.0.1, or the cluster of the running scheduler at ``scheduler``."""

    returns_rows = True

    def __init__(self, jobs: int = 1, scheduler: str | None = None):
        if jobs < 1:
            raise UserError("--jobs must be at least 1")
        self.jobs = jobs
        self.scheduler = scheduler
        self._cluster: Any = None
        self._client: Any = None
        self._futures: list[Any] = []
        self._log_levels: dict[str, int] = {}

    def start(self) -> None:
        """Starts the local cluster or connects to the scheduler; raises ExecutorError."""
        if self._client is not None:
            return
        dd = _distributed()
        import dask

        # Dask logs connection failures with tracebacks; the runner reports them in one line.
        names = ["distributed"] + [
            n for n in list(logging.root.manager.loggerDict) if n.startswith("distributed.")
        ]
        for n in names:
            log = logging.getLogger(n)
            self._log_levels.setdefault(n, log.level)
            log.setLevel(logging.CRITICAL + 1)
        if self.scheduler is None:
            # One thread per worker process: jobs run their encoders as child processes and
            # measure CPU time per process. Nothing listens beyond the loopback.
            # Worker saturation 1.0: a worker holds only the job it runs, so a worker that dies
            # takes no queued job's retry budget (allowed-failures) with it.
            with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}), _no_sigint():
                self._cluster = dd.LocalCluster(
                    n_workers=self.jobs,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    # Their HTTP servers (health, metrics) on the loopback too, any free port.
                    dashboard_address="127.0.0.1:0",
                    worker_dashboard_address="127.0.0.1:0",
                    # Workers log to stderr (a closing cluster logs heartbeat errors, say);
                    # what matters reaches the runner with each job.
                    silence_logs=logging.CRITICAL + 1,
                    preload=[__name__],  # dask_setup() below, in each worker
                )
                self._client = dd.Client(self._cluster, set_as_default=False)
            return
        try:
            dd.comm.get_address_host_port(self.scheduler)
        except ValueError as e:
            raise ExecutorError(
                f"--scheduler {self.scheduler}: not a scheduler address such as "
                f"tcp://HOST:8786 ({e})"
            ) from None
        try:
            # Gives up after Dask's connect timeout (distributed.comm.timeouts.connect, 30 s).
            self._client = dd.Client(self.scheduler, set_as_default=False)
        except (OSError, ValueError, TypeError) as e:
            raise ExecutorError(
                f"--scheduler {self.scheduler}: cannot connect ({type(e).__name__}: "
                f"{' '.join(str(e).split())[:300]})"
            ) from None

    def submit(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """Queues ``fn(item)`` for every item on the cluster; returns the Dask futures."""
        self.start()
        client = self._client
        # Unique keys (Dask would otherwise merge two runs of one function on equal items);
        # earlier items first: the runner lists the largest jobs first.
        run_id = uuid.uuid4().hex[:12]
        call = _portable_call()
        try:
            futures = client.map(
                call,
                [pickle.dumps((fn, item)) for item in items],
                key=[f"ctc-{run_id}-{i}" for i in range(len(items))],
                pure=False,
            )
        except Exception as e:
            raise self._lost(e) from None
        self._futures = futures
        return futures

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        if not items:
            return
        futures = self.submit(fn, items)
        dd = _distributed()
        client = self._client
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in dd.as_completed(futures, loop=client.loop):
            i = index[fut.key]
            try:
                # Waits if the result has to be computed again: the worker that held it died
                # after the job finished.
                result = fut.result()
            except Exception as e:
                if fut.status == "error":  # the job could not run, or killed its workers
                    result = JobLost(self._job_error(e))
                else:  # cancelled, or a broken connection: the scheduler is gone
                    raise self._lost(e) from None
            fut.release()
            yield i, result

    def _job_error(self, e: BaseException) -> str:
        from distributed.scheduler import KilledWorker

        if isinstance(e, KilledWorker):
            return (
                "the Dask worker running it died each time it was tried "
                f"({' '.join(str(e).split())[:300]})"
            )
        return (
            f"the Dask worker could not run it: {type(e).__name__}: "
            + " ".join(str(e).split())[:400]
        )

    def _lost(self, e: BaseException | None) -> ExecutorError:
        where = self.scheduler or "local cluster"
        why = f" ({type(e).__name__}: {' '.join(str(e).split())[:200]})" if e else ""
        return ExecutorError(
            f"lost the Dask scheduler ({where}){why}; finished rows are kept, rerun to resume"
        )

    def close(self, abandon: bool = False) -> None:
        client, self._client = self._client, None
        cluster, self._cluster = self._cluster, None
        futures, self._futures = self._futures, []
        if client is not None:
            if futures and client.status == "running":
                # Jobs of this run that are still queued or running stop (their rows are simply
                # not written); a shared cluster goes on serving others.
                try:
                    client.cancel(futures)
                except Exception:  # closing: the scheduler may be gone
                    pass
            try:
                client.close(timeout=10)
            except Exception:
                pass
        if cluster is not None:
            try:
                cluster.close(timeout=20)
            except Exception:
                pass
        for n, level in self._log_levels.items():
            logging.getLogger(n).setLevel(level)
        self._log_levels = {}
