"""The results store of a CTC run: one JSON file per job, written atomically.

Layout of the ``--out`` directory::

    plan.json                 the last run's plan: command, settings, sequences, jobs + hashes
    rows/<job>.json           one result row per job (key, settings hash, measurements)
    streams/<job>.bin         bitstreams, with --keep-streams
    work/                     per-job scratch directories (removed when a job ends)
    .lock                     held by the running runner

A row is written to a temporary name in ``rows/``, flushed to disk, then renamed over the final
name. A rename is atomic, so a row file is either absent or complete: a runner killed at any
point never leaves a half-written row that later counts. Temporary files left by a killed runner
are removed when the next runner starts. A row counts for a job only if its key and settings
hash match the job and its status is ``ok``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .jobs import ROW_SCHEMA, Job

TMP_PREFIX = ".tmp."


class StoreError(RuntimeError):
    """The output directory cannot be used (locked by another run, not a CTC directory...)."""


def atomic_write_text(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` so that readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX + path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=True) + "\n")


class Store:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.rows_dir = self.root / "rows"
        self.streams_dir = self.root / "streams"
        self.work_root = self.root / "work"
        self._lock_fd: int | None = None

    # -- locking and cleanup (runner side) ----------------------------------------------------

    def open_for_run(self) -> None:
        """Creates the layout, takes the lock and removes what a killed runner left behind."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreError(f"{self.root} is in use by another 'cnnfilter ctc run'") from None
        self._lock_fd = fd
        for d in (self.rows_dir, self.streams_dir, self.work_root):
            d.mkdir(exist_ok=True)
        self.remove_leftovers()

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def remove_leftovers(self) -> int:
        """Deletes temporary row/stream files and scratch directories; returns how many."""
        n = 0
        for d in (self.root, self.rows_dir, self.streams_dir):
            if d.is_dir():
                for p in d.glob(TMP_PREFIX + "*"):
                    p.unlink(missing_ok=True)
                    n += 1
        if self.work_root.is_dir():
            for p in self.work_root.iterdir():
                shutil.rmtree(p, ignore_errors=True)
                n += 1
        return n

    @contextlib.contextmanager
    def work_dir(self, job: Job) -> Iterator[Path]:
        """A fresh scratch directory for one job, removed afterwards."""
        self.work_root.mkdir(parents=True, exist_ok=True)
        d = Path(tempfile.mkdtemp(prefix=job.file_stem + ".", dir=self.work_root))
        try:
            yield d
        finally:
            shutil.rmtree(d, ignore_errors=True)

    # -- rows -----------------------------------------------------------------------------------

    def row_path(self, job: Job) -> Path:
        return self.rows_dir / f"{job.file_stem}.json"

    def stream_path(self, job: Job) -> Path:
        return self.streams_dir / f"{job.file_stem}.bin"

    def write_row(self, job: Job, row: dict[str, Any]) -> None:
        if row.get("key") != job.key or row.get("settings_hash") != job.settings_hash:
            raise ValueError("row does not belong to this job")
        atomic_write_json(self.row_path(job), row)

    def keep_stream(self, job: Job, bitstream: Path) -> None:
        dst = self.stream_path(job)
        tmp = dst.with_name(f"{TMP_PREFIX}{dst.name}.{os.getpid()}")
        shutil.copyfile(bitstream, tmp)
        os.replace(tmp, dst)

    def read_row_file(self, path: Path) -> dict[str, Any] | None:
        try:
            row = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return row if isinstance(row, dict) else None

    def row_for(self, key: str, settings_hash: str, file_stem: str) -> dict[str, Any] | None:
        """The job's row if present and current (any status), else None."""
        row = self.read_row_file(self.rows_dir / f"{file_stem}.json")
        if row is None or row.get("key") != key or row.get("settings_hash") != settings_hash:
            return None
        if row.get("schema") != ROW_SCHEMA:
            return None
        return row

    def done(self, job: Job) -> dict[str, Any] | None:
        """The job's finished row (status ok, current settings hash), else None."""
        row = self.row_for(job.key, job.settings_hash, job.file_stem)
        return row if row is not None and row.get("status") == "ok" else None

    # -- plan -------------------------------------------------------------------------------------

    @property
    def plan_path(self) -> Path:
        return self.root / "plan.json"

    def write_plan(self, plan: dict[str, Any]) -> None:
        atomic_write_json(self.plan_path, plan)

    def read_plan(self) -> dict[str, Any]:
        if not self.plan_path.is_file():
            raise StoreError(f"{self.root} is not a CTC run directory (no plan.json)")
        try:
            plan = json.loads(self.plan_path.read_text())
        except ValueError as e:
            raise StoreError(f"{self.plan_path}: unreadable ({e})") from None
        return plan
