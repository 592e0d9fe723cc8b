"""Running a CTC: plan the jobs, check everything before the first job, run what is not done.

Each job encodes with its codec setting, decodes with cnnfilter's decoder (decoded-picture-hash
check, decode time), optionally post-filters, measures PSNR against the source and writes one
result row atomically (see :mod:`cnnfilter.ctc.store`). A rerun skips every job whose row is
present with status ``ok`` and the job's current settings hash.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..errors import ToolError, user_message
from ..yuv import frame_size
from . import settings as _settings
from .executor import Executor, JobLost, local_executor
from .jobs import ROW_SCHEMA, Job, plan_jobs
from .metrics import psnr_yuv, sequence_psnr
from .sequences import CONFIGS, Sequence, check_sequence_files
from .store import Store, atomic_write_bytes

CTC_QPS = (22, 27, 32, 37)


class CtcError(RuntimeError):
    """A CTC run that cannot start; the message says why (one line)."""


@dataclass
class RunSummary:
    total: int
    skipped: int
    ran: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    mismatched: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False


@dataclass(frozen=True)
class _Task:
    job: Job
    out: str
    keep_streams: bool
    versions: dict[str, str]


def _git_revision() -> str | None:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        rev = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            # --no-optional-locks: read only, never refresh the index of the checkout
            ["git", "--no-optional-locks", "-C", str(root), "status", "--porcelain",
             "--untracked-files=no"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("+dirty" if dirty else "")


def software_versions() -> dict[str, str]:
    """Versions recorded in every row (not part of the settings hash)."""
    import numpy

    import cnnfilter

    v = {
        "cnnfilter": cnnfilter.__version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "platform": f"{platform.system()} {platform.machine()}",
    }
    rev = _git_revision()
    if rev:
        v["cnnfilter_git"] = rev
    return v


def _md5_status(statuses: list[str]) -> str:
    if any(s == "MISMATCH" for s in statuses):
        return "MISMATCH"
    if statuses and all(s == "OK" for s in statuses):
        return "OK"
    if all(s == "absent" for s in statuses):
        return "absent"
    return "partial"


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}"[:500]


def _measure(job: Job, setting: _settings.Setting, work: Path) -> dict[str, Any]:
    import cnnfilter

    seq = job.sequence
    bitstream = work / "str.bin"
    enc = setting.encode(job, bitstream)
    if not bitstream.is_file() or bitstream.stat().st_size == 0:
        raise ToolError(f"the '{job.setting}' encoder wrote no bitstream")
    data = bitstream.read_bytes()

    rec = work / "rec.yuv"
    c0 = time.process_time()
    dec = cnnfilter.decode(bitstream, rec, models=setting.models_dir, post=setting.post_model)
    dec_cpu = time.process_time() - c0
    dec_wall = dec.seconds
    pictures = rec.stat().st_size // frame_size(seq.width, seq.height)
    if pictures != job.frames:
        raise RuntimeError(f"the decoder output {pictures} picture(s), {job.frames} were coded")
    measured = rec

    per_frame = sequence_psnr(
        seq.path, measured, seq.width, seq.height, job.frames, skip=seq.frame_skip
    )
    n = len(per_frame)
    y, u, v = (sum(p[i] for p in per_frame) / n for i in range(3))
    statuses = [f.hash for f in dec.frames]
    return {
        "bytes": len(data),
        "bits": len(data) * 8,
        "kbps": len(data) * 8 * seq.fps / job.frames / 1000.0,
        "psnr_y": y,
        "psnr_u": u,
        "psnr_v": v,
        "psnr_yuv": psnr_yuv(y, u, v),
        "frame_psnr": [list(p) for p in per_frame],
        "encode_seconds": enc.seconds,
        "encode_cpu_seconds": enc.cpu_seconds,
        "decode_seconds": dec_wall,
        "decode_cpu_seconds": dec_cpu,
        "md5": _md5_status(statuses),
        "md5_counts": {s: statuses.count(s) for s in sorted(set(statuses))},
        "bitstream_md5": hashlib.md5(data).hexdigest(),
        "encoder_versions": enc.versions,
    }


def _new_row(task: _Task) -> dict[str, Any]:
    job = task.job
    return {
        "schema": ROW_SCHEMA,
        "key": job.key,
        "settings_hash": job.settings_hash,
        "config": job.config,
        "setting": job.setting,
        "sequence": job.sequence.name,
        "class": job.sequence.cls,
        "qp": job.qp,
        "frames": job.frames,
        "job": job.to_dict(),
        "versions": dict(task.versions),
        "host": platform.node(),
    }


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    row["finished_at"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return row


def _measure_row(
    task: _Task,
    work_dir: contextlib.AbstractContextManager[Path],
    keep: Callable[[Path], None] | None,
    where: str = "",
) -> tuple[dict[str, Any], list[str]]:
    """The job's finished row (status ok or failed) and the warnings it raised. ``where``
    (on a remote worker) ends each failure's line, and the source is looked for first: a
    worker that does not see it says so rather than failing somewhere in the encoder."""
    job = task.job
    row = _new_row(task)
    # Warnings go back to the runner with the row (it prints each once, above the progress
    # bar): a worker process has no terminal line of its own.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if where and not Path(job.sequence.path).is_file():
                raise FileNotFoundError(
                    f"sequence file {job.sequence.path} not found; workers must see the "
                    "runner's paths (a shared file system)"
                )
            setting = _settings.resolve(job.setting)
            with work_dir as work:
                row.update(_measure(job, setting, work))
                if keep is not None:
                    keep(work / "str.bin")
            row["versions"].update(row.pop("encoder_versions"))
            row["status"] = "ok"
            row["error"] = None
        except Exception as e:  # the job failed: record why; the runner goes on with other jobs
            row["status"] = "failed"
            row["error"] = _one_line(e) + where
            # as a command would exit: 2 for the user's input or tools, 3 for a bug of ours
            row["error_kind"] = "user" if user_message(e) is not None else "bug"
    return _finish(row), [_warning_text(w.message) for w in caught]


def execute_job(task: _Task) -> dict[str, Any]:
    """Runs one job and writes its row (status ok or failed). Module level: runs in workers."""
    store = Store(task.out)

    def keep(bitstream: Path) -> None:
        store.keep_stream(task.job, bitstream)

    row, caught = _measure_row(task, store.work_dir(task.job), keep if task.keep_streams else None)
    store.write_row(task.job, row)
    return {**row, WARNINGS_KEY: caught}


def measure_job(task: _Task) -> dict[str, Any]:
    """Runs one job on a worker that may not see ``--out`` (a cluster node): scratch files go
    to the worker's own temporary folder, and the row (with the bitstream under --keep-streams)
    travels back to the runner, which writes it. Module level: runs in workers."""
    stream: dict[str, bytes] = {}

    def keep(bitstream: Path) -> None:
        stream["data"] = bitstream.read_bytes()

    row, caught = _measure_row(
        task,
        _private_work_dir(task.job),
        keep if task.keep_streams else None,
        f" (on worker host {platform.node()})",
    )
    return {**row, WARNINGS_KEY: caught, STREAM_KEY: stream.get("data")}


@contextlib.contextmanager
def _private_work_dir(job: Job) -> Iterator[Path]:
    """A scratch folder in the worker's own temporary folder ($TMPDIR), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"cnnfilter-ctc.{job.file_stem[:60]}.") as d:
        yield Path(d)


def failed_row(task: _Task, reason: str) -> dict[str, Any]:
    """The row of a job whose worker could not return one (it died, or could not run it)."""
    row = _new_row(task)
    row.pop("host")
    row["status"] = "failed"
    row["error"] = reason
    return _finish(row)


def _write_returned(store: Store, task: _Task, row: dict[str, Any]) -> None:
    """Writes a row (and bitstream) that a remote worker sent back; a row is written last."""
    data = row.pop(STREAM_KEY, None)
    if data is not None:
        atomic_write_bytes(store.stream_path(task.job), data)
    store.write_row(task.job, row)


STREAM_KEY = "_stream"  # in the result of measure_job: the bitstream under --keep-streams
WARNINGS_KEY = "_warnings"  # in the result of execute_job, not in the row written


def _warning_text(message: Warning | str) -> str:
    return " ".join(str(message).split())


class WarningLog:
    """Prints each distinct warning once, as a ``warning:`` line above the progress bar."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def emit(self, text: str) -> None:
        if text and text not in self.seen:
            self.seen.append(text)
            tqdm.write(f"warning: {text}", file=sys.stderr)


_active_log: WarningLog | None = None


@contextlib.contextmanager
def clean_warnings() -> Iterator[WarningLog]:
    """Within the block, Python warnings of this process (and those the jobs send back) are
    printed once each as a clean line, not as ``file:line: UserWarning`` spam."""
    global _active_log
    if _active_log is not None:  # nested (the CLI around run()): one log for the whole command
        yield _active_log
        return
    log = WarningLog()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *a, **k: log.emit(_warning_text(message))
        _active_log = log
        try:
            yield log
        finally:
            _active_log = None


def prepare(
    configs: list[str],
    qps: list[int],
    sequences: list[Sequence],
    anchor: str,
    tests: list[str],
    frames_cap: int | None,
    sequence_source: str,
) -> list[Job]:
    """Checks settings, configurations and clips, and plans the jobs; raises CtcError."""
    bad = [c for c in configs if c not in CONFIGS]
    if bad:
        raise CtcError(f"unknown configuration(s) {', '.join(bad)}; use {', '.join(CONFIGS)}")
    if not qps or len(set(qps)) != len(qps) or any(not 0 <= q <= 51 for q in qps):
        raise CtcError(f"--qps must be distinct values in 0..51, got {qps}")
    if frames_cap is not None and frames_cap < 1:
        raise CtcError("--frames must be at least 1")
    if not tests:
        raise CtcError("give at least one --test setting")
    names = [anchor] + [t for i, t in enumerate(tests) if t not in tests[:i]]
    if anchor in tests:
        raise CtcError(f"the anchor '{anchor}' is also a --test")
    used = [c for c in configs if any(c in s.configs for s in sequences)]
    if not used:
        raise CtcError(
            f"no sequence of {sequence_source} takes part in {', '.join(configs)} "
            "(see the 'configs' key of the sequence list)"
        )
    problems = []
    identities: dict[tuple[str, str], dict[str, Any]] = {}
    for name in names:
        try:
            s = _settings.resolve(name)
            for c in used:
                s.check(c)
                identities[(name, c)] = s.identity(c)
        except _settings.SettingError as e:
            problems.append(str(e))
    if problems:
        raise CtcError("; ".join(dict.fromkeys(problems)))
    if "RA" in used:
        _check_ra_periods(sequences, sequence_source)
    try:
        check_sequence_files(sequences, sequence_source, frames_cap)
    except ValueError as e:
        raise CtcError(str(e)) from None
    return plan_jobs(used, qps, sequences, names, frames_cap, identities)


def _check_ra_periods(sequences: list[Sequence], source: str) -> None:
    """Every RA sequence's intra period must be a multiple of the RA GOP (else each job would
    fail with the encoder's error)."""
    from ..config import parse_cfg_file

    try:
        gop = parse_cfg_file(_settings.cfg_file("RA"))["GOPSize"]
    except _settings.SettingError:
        return  # the settings' own check names the missing file
    for s in sequences:
        if "RA" in s.configs and s.ra_intra_period() % gop:
            raise CtcError(
                f"{source}: sequence '{s.name}': the RA intra period {s.ra_intra_period()} is "
                f"not a multiple of the RA GOP size {gop}"
            )


def run(
    jobs: list[Job],
    out: str | os.PathLike,
    plan_meta: dict[str, Any],
    executor: Executor | None = None,
    jobs_n: int = 1,
    force: bool = False,
    keep_streams: bool = False,
    progress: bool = True,
) -> RunSummary:
    """Runs the jobs not done yet; finished jobs are skipped unless ``force``."""
    with clean_warnings() as log:
        return _run(jobs, out, plan_meta, executor, jobs_n, force, keep_streams, progress, log)


def _run(
    jobs: list[Job],
    out: str | os.PathLike,
    plan_meta: dict[str, Any],
    executor: Executor | None,
    jobs_n: int,
    force: bool,
    keep_streams: bool,
    progress: bool,
    log: WarningLog,
) -> RunSummary:
    store = Store(out)
    try:
        store.open_for_run()
    except OSError as e:
        raise CtcError(f"cannot use {out}: {e}") from None
    executor = executor or local_executor(jobs_n)
    try:
        store.write_plan(
            {
                **plan_meta,
                "schema": ROW_SCHEMA,
                "jobs": [
                    {"key": j.key, "settings_hash": j.settings_hash, "file": j.file_stem}
                    for j in jobs
                ],
            }
        )
        pending = [j for j in jobs if force or store.done(j) is None]
        summary = RunSummary(total=len(jobs), skipped=len(jobs) - len(pending))
        if progress:
            print(
                f"{len(jobs)} job(s): {summary.skipped} already done, {len(pending)} to run "
                f"({'forced' if force else 'resumable'}); results in {out}",
                file=sys.stderr,
                flush=True,
            )
        # Largest first: better packing of the pool, and an honest ETA sooner.
        pending.sort(key=lambda j: (-j.weight, j.key))
        versions = software_versions()
        tasks = [_Task(j, str(out), keep_streams, versions) for j in pending]
        # No tqdm monitor thread: encoder children are started with a preexec_fn (fork).
        tqdm.monitor_interval = 0
        bar = tqdm(
            total=sum(j.weight for j in pending),
            unit="Mpx",
            desc="ctc",
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.2f}/{total:.2f} coded Mpx "
            "[{elapsed}<{remaining}{postfix}]",
            disable=not progress or not pending,
            dynamic_ncols=True,
        )
        interrupted = False
        try:
            # An executor whose workers may not see --out sends the rows back: written here.
            remote = executor.returns_rows
            for i, row in executor.run(measure_job if remote else execute_job, tasks):
                if isinstance(row, JobLost):
                    row = failed_row(tasks[i], row.reason)
                for text in row.pop(WARNINGS_KEY, []):
                    log.emit(text)
                if remote:
                    _write_returned(store, tasks[i], row)
                summary.ran += 1
                if row["status"] != "ok":
                    summary.failed.append(row)
                    tqdm.write(f"FAILED {row['key']}: {row['error']}", file=sys.stderr)
                elif row["md5"] != "OK":
                    summary.mismatched.append(row)
                    tqdm.write(f"MD5 {row['md5']} {row['key']}", file=sys.stderr)
                bar.update(tasks[i].job.weight)
                bar.set_postfix_str(
                    f"jobs {summary.ran}/{len(pending)}, failed {len(summary.failed)}"
                )
        except KeyboardInterrupt:
            interrupted = True
            summary.interrupted = True
            raise
        finally:
            bar.close()
            executor.close(abandon=interrupted)
        return summary
    finally:
        store.close()
