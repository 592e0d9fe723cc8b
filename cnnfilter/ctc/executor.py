"""Where jobs run. The runner only needs :class:`Executor`; a cluster engine implements it too.

An executor runs ``fn(item)`` for each item and yields ``(index, result)`` as jobs finish, in
any order. ``fn`` is a module-level function (importable by name) and items are picklable, so
they can cross process or machine boundaries. ``fn`` must never raise for a job's own failure
(``execute_job`` records failures in the job's row); an exception that does come out of an
executor means the execution machinery itself broke (a worker was killed, for instance).

Resume does not depend on the executor: each job's row is written to the results store
atomically, so whatever finished before a crash is kept whichever engine ran it. Local executors
let the job write its row itself; an executor whose workers may not see the results folder sets
``returns_rows``: the runner then runs ``runner.measure_job``, which sends the row back, and
writes it. Such an executor may yield :class:`JobLost` for a job that no worker could finish.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from ..errors import UserError


class ExecutorError(RuntimeError):
    """The execution machinery failed (not a job): e.g. a worker process died."""


@dataclass(frozen=True)
class JobLost:
    """Yielded instead of a result for a job that no worker could finish; the runner records
    the job as failed with this reason (one line)."""

    reason: str


class Executor(ABC):
    """Runs independent jobs; see the module documentation."""

    returns_rows = False  # True: workers may not see --out, the runner writes the rows

    @abstractmethod
    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Yields ``(index into items, fn(items[index]))`` as jobs complete."""

    def close(self, abandon: bool = False) -> None:  # noqa: B027 (optional hook)
        """Releases workers. With ``abandon`` running jobs are killed (their rows are simply
        not written); otherwise running jobs finish first."""


class InlineExecutor(Executor):
    """Runs jobs one after the other in this process (``--jobs 1``)."""

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        for i, item in enumerate(items):
            yield i, fn(item)


def _worker_init() -> None:
    # Die with the runner: a SIGKILLed runner leaves no orphan worker behind (Linux).
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    # Ctrl-C is handled by the runner, which then stops the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalPoolExecutor(Executor):
    """A pool of ``jobs`` worker processes on this machine (``--jobs N``)."""

    def __init__(self, jobs: int):
        if jobs < 1:
            raise UserError("--jobs must be at least 1")
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        if not items:
            return
        # "spawn": workers start clean (no inherited locks, threads or file descriptors).
        self._pool = ProcessPoolExecutor(
            max_workers=min(self.jobs, len(items)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
        )
        pending: dict[Future, int] = {}
        todo = iter(enumerate(items))
        # Keep at most 2 x jobs submitted, so that an abandoned run leaves little queued work.
        for i, item in todo:
            pending[self._pool.submit(fn, item)] = i
            if len(pending) >= 2 * self.jobs:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                try:
                    result = fut.result()
                except Exception as e:
                    raise ExecutorError(
                        f"a worker process failed while running job {i + 1} "
                        f"({type(e).__name__}: {e}); finished rows are kept, rerun to resume"
                    ) from e
                nxt = next(todo, None)
                if nxt is not None:
                    pending[self._pool.submit(fn, nxt[1])] = nxt[0]
                yield i, result

    def close(self, abandon: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if abandon:
            # ProcessPoolExecutor has no public way to stop running work before Python 3.14.
            for p in list(getattr(pool, "_processes", {}).values()):
                p.kill()
        pool.shutdown(wait=True, cancel_futures=True)


def local_executor(jobs: int) -> Executor:
    return InlineExecutor() if jobs == 1 else LocalPoolExecutor(jobs)
