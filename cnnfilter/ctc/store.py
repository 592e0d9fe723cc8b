"""The results store of a CTC run: one JSON file per job, written atomically.

Layout of the ``--out`` directory::

    .cnnfilter-ctc            written first: marks the folder as a results folder
    plan.json                 the last run's plan: command, settings, sequences, jobs + hashes
    rows/<job>.json           one result row per job (key, settings hash, measurements)
    streams/<job>.bin         bitstreams, with --keep-streams
    work/<job>.XXXX/          per-job scratch folders, marked, removed when a job ends
    .lock                     held by the running runner, removed by the run that created it

A row is written to a temporary name in ``rows/``, flushed to disk, then renamed over the final
name. A rename is atomic, so a row file is either absent or complete: a runner killed at any
point never leaves a half-written row that later counts. Temporary files and scratch folders
left by a killed runner are removed when the next runner starts: only names the runner writes,
so a user's file in the folder is never touched. A folder that is neither new, empty nor an
earlier run's results folder is refused. A row counts for a job only if its key and settings
hash match the job and its status is ``ok``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..outputs import new_file_mode
from .jobs import ROW_SCHEMA, Job

TMP_PREFIX = ".tmp."


class StoreError(RuntimeError):
    """The output directory cannot be used (locked by another run, not a CTC directory...)."""


def atomic_write_text(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` so that readers see the old file or the whole new one."""
    atomic_write_bytes(path, text.encode())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` so that readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX + path.name + ".", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); results and reports are meant to be shared,
        # so give them the mode any new file gets here (0644 under the usual umask).
        os.fchmod(fd, new_file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
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


MARKER = ".cnnfilter-ctc"  # written first into every results folder: the folder is ours
SCRATCH_MARKER = ".cnnfilter-ctc-scratch"  # written first into every per-job scratch folder
_SCRATCH_NAME = re.compile(r"[A-Za-z0-9._-]+\.[0-9a-f]{8}\.[a-z0-9_]{8}")  # mkdtemp's shape
# What a job writes into its scratch folder (and the temporaries of writing them atomically).
_SCRATCH_FILES = ("str.bin", "rec.yuv")


def _is_scratch_file(name: str) -> bool:
    if name == SCRATCH_MARKER or name in _SCRATCH_FILES:
        return True
    # Temporaries of writing them: "str.bin.part" (encoder, decoder) or ".str.bin.XXXX.part"
    # (cnnfilter.outputs.atomic_output).
    return name.endswith(".part") and any(
        name == f"{f}.part" or name.startswith(f".{f}.") for f in _SCRATCH_FILES
    )


def _remove_scratch(d: Path) -> bool:
    """Removes a job's scratch folder: the files a job writes there and nothing else; a folder
    that still holds something else stays. Returns whether the folder is gone."""
    if not (d / SCRATCH_MARKER).is_file():
        # A runner killed between mkdtemp and the marker leaves an empty folder of this shape;
        # removing an empty folder deletes nothing, so it goes too.
        if _SCRATCH_NAME.fullmatch(d.name) and not any(d.iterdir()):
            with contextlib.suppress(OSError):
                d.rmdir()
                return True
        return False
    for p in d.iterdir():
        if _is_scratch_file(p.name) and not p.is_dir():
            p.unlink(missing_ok=True)
    try:
        d.rmdir()
    except OSError:
        return False
    return True


def is_results_folder(path: Path) -> bool:
    """Whether ``path`` is the results folder of a ``cnnfilter ctc run`` (new or older)."""
    return (path / MARKER).is_file() or (path / "plan.json").is_file()


def check_out_dir(path: str | os.PathLike) -> Path:
    """Checks, creating nothing, that ``path`` can receive a run's results: a folder that does
    not exist yet (its parent does), an empty folder, or the results folder of an earlier run.
    Anything else is refused: the runner must never write into, nor clean, a user's folder."""
    out = Path(path)
    if out.is_dir():
        if not is_results_folder(out) and any(out.iterdir()):
            raise StoreError(
                f"--out {out}: folder is not empty and holds no earlier 'cnnfilter ctc run' "
                "results; give a new or empty folder"
            )
        if not os.access(out, os.W_OK | os.X_OK):
            raise StoreError(f"--out {out}: folder is not writable")
        return out
    if out.exists() or out.is_symlink():
        raise StoreError(f"--out {out}: is a file, not a folder")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise StoreError(f"--out {out}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(f"--out {out}: folder {parent} is not writable")
    return out


class Store:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.rows_dir = self.root / "rows"
        self.streams_dir = self.root / "streams"
        self.work_root = self.root / "work"
        self._lock_fd: int | None = None
        self._lock_created = False

    # -- locking and cleanup (runner side) ----------------------------------------------------

    def open_for_run(self) -> None:
        """Creates the layout, takes the lock and removes what a killed runner left behind."""
        check_out_dir(self.root)
        try:
            self.root.mkdir()
        except FileExistsError:
            pass
        if not (self.root / MARKER).is_file():
            (self.root / MARKER).write_text(
                "This folder holds the results of 'cnnfilter ctc run' (docs/ctc.md).\n"
            )
        self._lock()
        for d in (self.rows_dir, self.streams_dir, self.work_root):
            d.mkdir(exist_ok=True)
        self.remove_leftovers()

    def _lock(self) -> None:
        path = self.root / ".lock"
        while True:
            created = True
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                created = False
                try:
                    fd = os.open(path, os.O_RDWR)
                except FileNotFoundError:
                    continue  # its runner just removed it: try again
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise StoreError(f"{self.root} is in use by another 'cnnfilter ctc run'") from None
            # The runner that held the lock may have removed the file between our open and our
            # flock: a lock on a removed file excludes nobody, so take the current one instead.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if same:
                self._lock_fd, self._lock_created = fd, created
                return
            os.close(fd)

    def close(self) -> None:
        """Releases the lock; removes the lock file if this run created it (never another's)."""
        if self._lock_fd is not None:
            if self._lock_created:
                # Removed while still locked, so no other runner can take a lock on it meanwhile.
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.root / ".lock")
            os.close(self._lock_fd)
            self._lock_fd = None
            self._lock_created = False

    def remove_leftovers(self) -> int:
        """Deletes what a killed runner left: its temporary row, plan and stream files and its
        marked scratch folders, and nothing else; returns how many."""
        n = 0
        patterns = (
            (self.root, f"{TMP_PREFIX}plan.json.*"),
            (self.rows_dir, f"{TMP_PREFIX}*.json.*"),
            (self.streams_dir, f"{TMP_PREFIX}*.bin.*"),
        )
        for d, pattern in patterns:
            if d.is_dir():
                for p in d.glob(pattern):
                    if p.is_file() and not p.is_symlink():
                        p.unlink(missing_ok=True)
                        n += 1
        if self.work_root.is_dir():
            for p in self.work_root.iterdir():
                if p.is_dir() and not p.is_symlink() and _remove_scratch(p):
                    n += 1
        return n

    @contextlib.contextmanager
    def work_dir(self, job: Job) -> Iterator[Path]:
        """A fresh scratch directory for one job, removed afterwards."""
        self.work_root.mkdir(parents=True, exist_ok=True)
        d = Path(tempfile.mkdtemp(prefix=job.file_stem + ".", dir=self.work_root))
        (d / SCRATCH_MARKER).touch()
        try:
            yield d
        finally:
            _remove_scratch(d)

    # -- rows -----------------------------------------------------------------------------------

    def row_path(self, job: Job) -> Path:
        return self.rows_dir / f"{job.file_stem}.json"

    def stream_path(self, job: Job) -> Path:
        return self.streams_dir / f"{job.file_stem}.bin"

    def write_row(self, job: Job, row: dict[str, Any]) -> None:
        if row.get("key") != job.key or row.get("settings_hash") != job.settings_hash:
            raise UserError("row does not belong to this job")
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
        """The plan of the last run, checked: a damaged plan.json is named in one line."""
        if not self.root.is_dir():
            what = "is a file, not a folder" if self.root.exists() else "no such folder"
            raise StoreError(f"{self.root}: {what}")
        if not self.plan_path.is_file():
            raise StoreError(f"{self.root} is not a CTC run directory (no plan.json)")
        plan = _read_json(self.plan_path, _PLAN_DAMAGED.format(path=self.plan_path))
        _check_plan(plan, self.plan_path)
        return plan

    def read_row_strict(self, path: Path) -> dict[str, Any] | None:
        """A row for the report: None when absent; a damaged row is named in one line."""
        if not path.exists():
            return None
        where = f"{path}: damaged row (delete it and rerun 'cnnfilter ctc run')"
        row = _read_json(path, where)
        if not isinstance(row, dict):
            raise StoreError(f"{where}: expected a JSON object, found {_kind(row)}")
        for k in ("key", "settings_hash", "status"):
            if not isinstance(row.get(k), str):
                raise StoreError(f"{where}: '{k}' missing or not a string")
        if row["status"] == "ok":
            for k in _ROW_NUMBERS:
                v = row.get(k)
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise StoreError(f"{where}: '{k}' missing or not a number")
            if not isinstance(row.get("md5"), str):
                raise StoreError(f"{where}: 'md5' missing or not a string")
            if not isinstance(row.get("versions", {}), dict):
                raise StoreError(f"{where}: 'versions' is not an object")
        return row


# The measurements of an ``ok`` row that the report reads.
_ROW_NUMBERS = (
    "bytes", "kbps", "frames", "psnr_y", "psnr_u", "psnr_v", "psnr_yuv",
    "encode_seconds", "encode_cpu_seconds", "decode_seconds", "decode_cpu_seconds",
)  # fmt: skip


def _kind(v: Any) -> str:
    names = {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(v), "a number" if isinstance(v, (int, float)) else type(v).__name__)


def _read_json(path: Path, where: str) -> Any:
    try:
        return json.loads(path.read_bytes())
    except ValueError as e:
        raise StoreError(f"{where}: not valid JSON ({e})") from None


_PLAN_DAMAGED = "{path}: damaged plan (rerun 'cnnfilter ctc run' to rewrite it)"


def _check_plan(plan: Any, path: Path) -> None:
    where = _PLAN_DAMAGED.format(path=path)
    if not isinstance(plan, dict):
        raise StoreError(f"{where}: expected a JSON object, found {_kind(plan)}")

    def strings(key: str, allow_empty: bool = False) -> None:
        v = plan.get(key)
        if (
            not isinstance(v, list)
            or not (v or allow_empty)
            or any(not isinstance(x, str) for x in v)
        ):
            raise StoreError(f"{where}: '{key}' missing or not a list of strings")

    if not isinstance(plan.get("anchor"), str):
        raise StoreError(f"{where}: 'anchor' missing or not a string")
    strings("tests")
    strings("configs", allow_empty=True)
    if "command" in plan:
        strings("command")
    qps = plan.get("qps")
    if not isinstance(qps, list) or any(isinstance(q, bool) or not isinstance(q, int) for q in qps):
        raise StoreError(f"{where}: 'qps' missing or not a list of integers")
    seqs = plan.get("sequences")
    if not isinstance(seqs, list):
        raise StoreError(f"{where}: 'sequences' missing or not a list")
    for i, s in enumerate(seqs):
        ok = isinstance(s, dict) and all(isinstance(s.get(k), str) for k in ("name", "cls"))
        ok = ok and all(
            isinstance(s.get(k), int) and not isinstance(s.get(k), bool) and s[k] > 0
            for k in ("width", "height")
        )
        if ok and "configs" in s:
            ok = isinstance(s["configs"], list) and all(isinstance(c, str) for c in s["configs"])
        if not ok:
            raise StoreError(
                f"{where}: sequences[{i}] is not an object with name, cls, width and height"
            )
    jobs = plan.get("jobs")
    if not isinstance(jobs, list):
        raise StoreError(f"{where}: 'jobs' missing or not a list")
    for i, j in enumerate(jobs):
        ok = isinstance(j, dict) and all(
            isinstance(j.get(k), str) for k in ("key", "settings_hash", "file")
        )
        # A job's key is CONFIG/SETTING/SEQUENCE/QPn, its file a plain name inside rows/.
        ok = ok and _JOB_KEY.match(j["key"]) is not None and _FILE_STEM.match(j["file"]) is not None
        if not ok:
            raise StoreError(
                f"{where}: jobs[{i}] is not an object with key CONFIG/SETTING/SEQUENCE/QPn, "
                "settings_hash and file"
            )


_JOB_KEY = re.compile(r"^[^/]+/.+/[^/]+/QP\d+$")
_FILE_STEM = re.compile(r"^[A-Za-z0-9._-]+$")
