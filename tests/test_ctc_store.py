"""Results store and resume logic: atomic rows, skipping finished jobs, invalidation by the
settings hash, --force, failed jobs, the lock; and what one job row measures.

These run the real codec path in-process (``--jobs 1``): x265 encodes, cnnfilter decodes.
TODO(lead): once cnnfilter.encode lands, add the same resume checks with --anchor anchor and a
cnn:SET test (the logic is codec-independent; only the settings' names change).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from ctc_util import entry, photo_clip, write_list

from cnnfilter.ctc import runner, settings
from cnnfilter.ctc.executor import Executor, ExecutorError
from cnnfilter.ctc.sequences import load_sequences
from cnnfilter.ctc.store import (
    MARKER,
    SCRATCH_MARKER,
    TMP_PREFIX,
    Store,
    StoreError,
    atomic_write_json,
)

QPS = [22, 37]


@pytest.fixture
def seqs(tmp_path):
    a = photo_clip(tmp_path / "a_128x96.yuv")
    b = photo_clip(tmp_path / "b_64x64.yuv", 64, 64, origin=(40, 300))
    lst = write_list(tmp_path / "l.yaml", [entry("a", a, 128, 96, 2), entry("b", b, 64, 64, 2)])
    return load_sequences(lst)


def _run(out, seqs, tests=("x265:no-sao",), anchor="x265", force=False, frames=None, keep=False):
    jobs = runner.prepare(["AI"], QPS, seqs, anchor, list(tests), frames, "test list")
    meta = {"anchor": anchor, "tests": list(tests), "configs": ["AI"], "qps": QPS,
            "sequences": [s.to_dict() for s in seqs]}  # fmt: skip
    return runner.run(jobs, out, meta, jobs_n=1, force=force, keep_streams=keep, progress=False)


def _rows(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "rows").iterdir())}


def test_atomic_write_keeps_old_content_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "rows" / "r.json"
    atomic_write_json(target, {"v": 1})

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_json(target, {"v": 2, "big": "x" * 100000})
    monkeypatch.undo()
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]  # no temp file left


def test_written_files_get_the_usual_mode(tmp_path):
    """Rows, plans and reports are readable like any new file, not private as mkstemp's."""
    old = os.umask(0o022)
    try:
        atomic_write_json(tmp_path / "a.json", {"v": 1})
        os.umask(0o077)
        atomic_write_json(tmp_path / "b.json", {"v": 1})
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.json").stat().st_mode & 0o777 == 0o600


def test_rerun_skips_finished_jobs(tmp_path, seqs, x265):
    out = tmp_path / "out"
    first = _run(out, seqs)
    assert (first.total, first.skipped, first.ran, first.failed) == (8, 0, 8, [])
    before = _rows(out)
    assert len(before) == 8
    again = _run(out, seqs)
    assert (again.skipped, again.ran) == (8, 0)
    assert _rows(out) == before  # nothing rewritten


def test_killed_runner_leftovers_do_not_count(tmp_path, seqs, x265):
    out = tmp_path / "out"
    _run(out, seqs)
    rows = sorted((out / "rows").glob("*.json"))
    # What a runner killed at the worst moments leaves behind: a temp file with half a row,
    # a scratch directory, and (by a non-atomic writer) a truncated row file.
    half = rows[0].read_text()[:200]
    (out / "rows" / f"{TMP_PREFIX}{rows[0].name}.x1y2").write_text(half)
    _killed_scratch(out)
    rows[1].write_text(rows[1].read_text()[:150])
    res = _run(out, seqs)
    assert (res.skipped, res.ran) == (7, 1)  # only the truncated row's job ran again
    assert json.loads(rows[1].read_text())["status"] == "ok"
    assert not list((out / "rows").glob(TMP_PREFIX + "*"))
    assert list((out / "work").iterdir()) == []
    assert len(list((out / "rows").iterdir())) == 8


def _killed_scratch(out: Path) -> Path:
    """The scratch folder of a job killed mid-way, as Store.work_dir made it."""
    d = out / "work" / "AI_x265_a_QP22.dead.x1y2"
    d.mkdir(parents=True)
    (d / SCRATCH_MARKER).touch()
    for name in ("str.bin", "rec.yuv.part", ".rec.yuv.k3j2.part"):
        (d / name).write_bytes(b"\0" * 100)
    return d


def test_run_removes_only_what_it_made(tmp_path, seqs, x265):
    """Files of the user's in the results folder and in its work/ survive a run; what a killed
    runner left (marked scratch folder, temporary rows) is removed."""
    out = tmp_path / "out"
    _run(out, seqs)
    mine = {
        out / "notes.txt": b"my notes",
        out / "work" / "keep.yuv": b"my clip",
        out / "work" / "mine" / "str.bin": b"my stream",  # an unmarked folder: not ours
        out / "rows" / "README": b"my readme",
    }
    for p, data in mine.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    scratch = _killed_scratch(out)
    (scratch / "my-extra.txt").write_bytes(b"dropped in a scratch folder")
    # Killed between mkdtemp and the marker: an empty folder of the scratch shape, removed.
    (out / "work" / "AI_x265_a_QP22.0123abcd.k3_j2x9q").mkdir()
    (out / "work" / "empty-of-mine").mkdir()  # the user's empty folder: another shape, kept
    res = _run(out, seqs, force=True)
    assert (res.ran, res.failed) == (8, [])
    for p, data in mine.items():
        assert p.read_bytes() == data, p
    # The scratch folder lost what the runner writes there, and kept the stranger's file.
    assert sorted(p.name for p in scratch.iterdir()) == ["my-extra.txt"]
    assert sorted(p.name for p in (out / "work").iterdir()) == [
        scratch.name,
        "empty-of-mine",
        "keep.yuv",
        "mine",
    ]


def test_unrelated_folder_is_refused(tmp_path, seqs, x265):
    """A non-empty folder that holds no earlier results is not a place to write, nor to clean."""
    out = tmp_path / "mine"
    (out / "work").mkdir(parents=True)
    (out / "work" / "precious.txt").write_text("x")
    (out / "photo.jpg").write_text("y")
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    with pytest.raises(StoreError, match="not empty and holds no earlier 'cnnfilter ctc run'"):
        _run(out, seqs)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    # An empty folder is fine, and so is a results folder made by an older runner (plan.json).
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _run(empty, seqs).ran == 8
    (empty / MARKER).unlink()
    assert _run(empty, seqs).skipped == 8


def test_lock_file_removed_when_the_run_ends(tmp_path, seqs, x265):
    out = tmp_path / "out"
    _run(out, seqs)
    assert not (out / ".lock").exists()

    class Broken(Executor):
        def run(self, fn, items):
            raise ExecutorError("a worker died")
            yield

    jobs = runner.prepare(["AI"], QPS, seqs, "x265", ["x265:no-sao"], None, "test list")
    with pytest.raises(ExecutorError):
        runner.run(jobs, out, {"anchor": "x265"}, executor=Broken(), force=True, progress=False)
    assert not (out / ".lock").exists()
    # A lock file this run did not create (an older runner's, say) stays where it was.
    (out / ".lock").write_text("not mine")
    _run(out, seqs)
    assert (out / ".lock").read_text() == "not mine"


PROBE = {"version": "1"}


@pytest.fixture
def probe_setting(monkeypatch):
    """A test setting: x265 with an identity we can change, like a retrained model."""

    def make(arg):
        base = settings.resolve("x265:no-sao")
        return settings.Setting(
            name="probe",
            identity=lambda c: {**base.identity(c), "probe_version": PROBE["version"]},
            encode=base.encode,
            check=base.check,
        )

    monkeypatch.setitem(settings._REGISTRY, "probe", settings._Factory(make, "test", "no"))
    settings.resolve.cache_clear()
    PROBE["version"] = "1"
    yield
    settings.resolve.cache_clear()


def test_changed_setting_reruns_only_its_jobs(tmp_path, seqs, x265, probe_setting):
    out = tmp_path / "out"
    assert _run(out, seqs, tests=["probe"]).ran == 8
    before = _rows(out)
    PROBE["version"] = "2"
    res = _run(out, seqs, tests=["probe"])
    assert (res.skipped, res.ran) == (4, 4)
    after = _rows(out)
    assert after.keys() == before.keys()
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {k for k in after if "_probe_" in k} and len(changed) == 4
    for k in changed:
        old, new = json.loads(before[k]), json.loads(after[k])
        assert old["settings_hash"] != new["settings_hash"]
        assert new["job"]["identity"]["probe_version"] == "2"


def test_changed_frame_count_reruns(tmp_path, seqs, x265):
    out = tmp_path / "out"
    _run(out, seqs)
    res = _run(out, seqs, frames=1)
    assert res.ran == 8
    assert {json.loads(b)["frames"] for b in _rows(out).values()} == {1}


def test_force_reruns_everything(tmp_path, seqs, x265):
    out = tmp_path / "out"
    _run(out, seqs)
    before = {k: json.loads(v) for k, v in _rows(out).items()}
    res = _run(out, seqs, force=True)
    assert (res.skipped, res.ran) == (0, 8)
    after = {k: json.loads(v) for k, v in _rows(out).items()}
    assert after.keys() == before.keys()
    # Rewritten rows, and x265 is deterministic: the same bitstreams.
    for k in after:
        assert after[k]["bitstream_md5"] == before[k]["bitstream_md5"]


def test_failed_jobs_are_recorded_and_retried(tmp_path, seqs, x265):
    out = tmp_path / "out"
    res = _run(out, seqs, tests=["x265:no-such-option"])
    assert res.ran == 8 and len(res.failed) == 4
    for row in res.failed:
        assert row["status"] == "failed" and row["error"].startswith("ToolError: x265 failed")
        assert row["setting"] == "x265:no-such-option"
    res = _run(out, seqs, tests=["x265:no-such-option"])
    assert (res.skipped, res.ran) == (4, 4)  # only the failed ones again


def test_second_runner_is_refused(tmp_path):
    first = Store(tmp_path / "out")
    first.open_for_run()
    try:
        with pytest.raises(StoreError, match="in use by another"):
            Store(tmp_path / "out").open_for_run()
    finally:
        first.close()
    second = Store(tmp_path / "out")
    second.open_for_run()  # free again
    second.close()


def test_row_measurements(tmp_path, seqs, x265):
    """One row: kbps from the file size, PSNR as x265 itself reports it, MD5 checked."""
    out = tmp_path / "out"
    _run(out, seqs, keep=True)
    store = Store(out)
    rows = [json.loads(b) for b in _rows(out).values()]
    row = next(r for r in rows if r["key"] == "AI/x265/a/QP22")
    assert row["status"] == "ok" and row["md5"] == "OK" and row["md5_counts"] == {"OK": 2}
    stream = next((out / "streams").glob("AI_x265_a_QP22.*.bin"))
    data = stream.read_bytes()
    assert row["bytes"] == len(data) and row["bitstream_md5"] == hashlib.md5(data).hexdigest()
    assert row["kbps"] == pytest.approx(len(data) * 8 * 25 / 2 / 1000)
    assert row["psnr_yuv"] == pytest.approx((6 * row["psnr_y"] + row["psnr_u"] + row["psnr_v"]) / 8)
    assert len(row["frame_psnr"]) == 2
    assert row["psnr_y"] == pytest.approx(sum(p[0] for p in row["frame_psnr"]) / 2)
    assert row["versions"]["x265"] and row["versions"]["cnnfilter"]
    assert row["encode_cpu_seconds"] > 0 and row["decode_cpu_seconds"] > 0
    # x265's own PSNR of the same encode (its reconstruction = our decoded pictures).
    seq = seqs[0]
    r = subprocess.run(
        [x265, "--input", seq.path, "--input-res", "128x96", "--fps", "25", "--frames", "2",
         "--qp", "22", *settings._X265_BASE, "--keyint", "1", "--psnr",
         "-o", str(tmp_path / "x.bin")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    m = re.search(r"PSNR Mean: Y:([\d.]+) U:([\d.]+) V:([\d.]+)", r.stderr)
    assert m, r.stderr
    for i, c in enumerate("yuv"):
        assert row[f"psnr_{c}"] == pytest.approx(float(m.group(i + 1)), abs=0.0006)
    assert (tmp_path / "x.bin").read_bytes() == data  # same command, same stream
    assert store.done(runner.prepare(["AI"], QPS, seqs, "x265", ["x265:no-sao"], None, "l")[0])


def test_command_outputs_get_the_usual_mode(tmp_path):
    """Every command's output (bitstream, reconstruction, model set manifest) is written through
    atomic_output: readable like any new file once renamed, not private as mkstemp's."""
    from cnnfilter.outputs import atomic_output

    old = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "out.bin") as tmp:
            tmp.write_bytes(b"x")
        os.umask(0o027)
        with atomic_output(tmp_path / "out2.bin") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "out.bin").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "out2.bin").stat().st_mode & 0o777 == 0o640


def _cli_run(tmp_path, seqs_file, test, capsys):
    from cnnfilter.cli import main

    argv = ["ctc", "run", "--sequences", str(seqs_file), "--qps", "22", "37", "--anchor", "x265",
            "--test", test, "--quiet", "--out", str(tmp_path / "out")]  # fmt: skip
    code = main(argv)
    return code, capsys.readouterr()


def test_run_with_failed_jobs_exits_2_with_one_error_line(tmp_path, seqs, x265, capsys):
    # Exit 1 is a hash mismatch and nothing else: a job that fails on its options is a user
    # error (2), reported as one error: line after the list of the failed jobs.
    code, cap = _cli_run(tmp_path, tmp_path / "l.yaml", "x265:no-such-option", capsys)
    assert code == 2, cap.err
    errors = [ln for ln in cap.err.splitlines() if "error:" in ln]
    assert errors == [
        "cnnfilter ctc run: error: 4 of 8 job(s) failed (listed above); the same command "
        "again reruns only those"
    ]
    assert cap.out.count("  failed: ") == 4 and "ToolError: x265 failed" in cap.out


def test_run_with_a_job_failing_on_a_bug_exits_3(tmp_path, seqs, x265, capsys, monkeypatch):
    def broken(job, setting, work):
        raise KeyError("an internal inconsistency")

    monkeypatch.setattr(runner, "_measure", broken)
    code, cap = _cli_run(tmp_path, tmp_path / "l.yaml", "x265:no-sao", capsys)
    assert code == 3, cap.err
    assert "8 of 8 job(s) failed on a bug in cnnfilter (please report it)" in cap.err
