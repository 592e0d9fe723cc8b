"""``cnnfilter ctc run`` and ``cnnfilter ctc report``: the CTC runner (docs/ctc.md)."""

from __future__ import annotations

import argparse
import shlex
import sys
from types import ModuleType
from typing import Any

from ..errors import EXIT_BUG, EXIT_MISMATCH, EXIT_OK, EXIT_USER


def _error(message: str) -> Exception:
    from . import CliError  # imported late: cli/__init__ imports this module first

    return CliError(message)


def register(sub: argparse._SubParsersAction) -> None:
    from ..ctc.runner import CTC_QPS
    from ..ctc.settings import available

    p = sub.add_parser(
        "ctc",
        help="run the common test conditions and report BD-rates",
        description="Common-test-conditions runner: encode every sequence at every QP with an "
        "anchor and test settings, verify and time the decoding, and report BD-rates in the "
        "JCT-VC template layout. See docs/ctc.md.",
    )
    ctc = p.add_subparsers(dest="ctc_command", metavar="{run,report}", required=True)
    settings_help = "\n".join(f"  {k:8s} {v}" for k, v in available().items())
    r = ctc.add_parser(
        "run",
        help="run (or resume) a CTC",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run every job (configuration x sequence x setting x QP) that is not done "
        "yet. Rows are written atomically to --out; a rerun resumes, a changed setting reruns "
        "only its jobs, --force reruns all.",
        epilog="codec settings (for --anchor and --test):\n" + settings_help,
    )
    r.add_argument(
        "--cfg",
        nargs="+",
        default=["AI"],
        metavar="CFG",
        help="configurations: AI, LDP, RA (default: AI)",
    )
    r.add_argument(
        "--qps",
        nargs="+",
        type=int,
        default=list(CTC_QPS),
        metavar="QP",
        help="QPs (default: 22 27 32 37)",
    )
    r.add_argument(
        "--sequences",
        metavar="SEQS",
        help="sequence list: a YAML file or a list name (jctvc_template; shared_video from the "
        "repository root); default: the built-in set of scikit-image photographs",
    )
    r.add_argument("--anchor", default="anchor", help="anchor codec setting (default: anchor)")
    r.add_argument(
        "--test",
        action="append",
        required=True,
        metavar="SETTING",
        help="test codec setting, e.g. cnn:MODELSET (repeat for several)",
    )
    r.add_argument("--frames", type=int, metavar="N", help="code at most N frames per sequence")
    r.add_argument("--jobs", type=int, default=1, metavar="N", help="parallel jobs (default 1)")
    r.add_argument(
        "--executor",
        choices=["local", "dask"],
        default=None,
        help="local: a process pool of --jobs workers (default); dask: a Dask cluster, local "
        "(--jobs single-threaded workers) or the one of --scheduler (needs cnnfilter[cluster])",
    )
    r.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://HOST:8786 (implies --executor dask; the "
        "cluster's workers set the parallelism, not --jobs); see docs/ctc.md",
    )
    r.add_argument("--force", action="store_true", help="rerun jobs that are already done")
    r.add_argument(
        "--keep-streams", action="store_true", help="keep the bitstreams in OUT/streams/"
    )
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--out", required=True, metavar="DIR", help="results directory")
    r.set_defaults(func=run)

    rep = ctc.add_parser(
        "report",
        help="BD-rate tables, RD points and RD plots of a CTC run",
        description="Writes report.md, report.csv, points.csv, report.html and plots/*.png "
        "into DIR/report (or --report-dir) and prints the BD-rate tables.",
    )
    rep.add_argument("dir", metavar="DIR", help="the --out directory of 'cnnfilter ctc run'")
    rep.add_argument(
        "--bd-method",
        choices=["pchip", "cubic"],
        default="pchip",
        help="pchip: the JCT-VC sheet's interpolation (default); cubic: VCEG-M33 fit",
    )
    rep.add_argument(
        "--time",
        choices=["cpu", "wall"],
        default="cpu",
        help="time used for EncT/DecT (default: CPU seconds, as HM reports)",
    )
    rep.add_argument(
        "--no-times",
        action="store_true",
        help="leave out EncT/DecT and all times (a report that is identical across reruns)",
    )
    rep.add_argument("--no-plots", action="store_true", help="no RD-curve PNGs")
    rep.add_argument("--report-dir", metavar="DIR", help="where to write (default DIR/report)")
    rep.set_defaults(func=report)


def _canonical_command(args: argparse.Namespace) -> list[str]:
    cmd = ["cnnfilter", "ctc", "run", "--cfg", *args.cfg, "--qps", *map(str, args.qps)]
    if args.sequences:
        cmd += ["--sequences", args.sequences]
    cmd += ["--anchor", args.anchor]
    for t in args.test:
        cmd += ["--test", t]
    if args.frames:
        cmd += ["--frames", str(args.frames)]
    return cmd + ["--out", args.out]


def run(args: argparse.Namespace) -> int:
    from ..ctc import runner
    from ..ctc.executor import ExecutorError
    from ..ctc.sequences import SequenceListError
    from ..ctc.store import StoreError

    if args.jobs < 1:
        raise _error("--jobs must be at least 1")
    if args.scheduler is not None and args.executor == "local":
        raise _error("--scheduler needs --executor dask (or no --executor)")
    if args.scheduler is not None and not args.scheduler.strip():
        raise _error("--scheduler: give an address such as tcp://HOST:8786")
    try:
        with runner.clean_warnings():
            summary = _run(args, runner)
    except (runner.CtcError, SequenceListError, StoreError, ExecutorError) as e:
        raise _error(str(e)) from None
    print(
        f"{summary.total} job(s): {summary.skipped} skipped (done), {summary.ran} run, "
        f"{len(summary.failed)} failed, {len(summary.mismatched)} MD5 not OK",
    )
    for row in summary.failed:
        print(f"  failed: {row['key']}: {row['error']}")
    for row in summary.mismatched:
        print(f"  md5 {row['md5']}: {row['key']}")
    print(f"report: cnnfilter ctc report {shlex.quote(args.out)}")
    if summary.failed:
        # The run is incomplete: exit as the jobs' own commands would have, 3 if any failed on
        # a bug of ours, else 2; rerunning the same command retries only the failed jobs.
        bug = any(row.get("error_kind") == "bug" for row in summary.failed)
        what = "on a bug in cnnfilter (please report it)" if bug else "(listed above)"
        print(
            f"cnnfilter ctc run: error: {len(summary.failed)} of {summary.total} job(s) failed "
            f"{what}; the same command again reruns only those",
            file=sys.stderr,
        )
        return EXIT_BUG if bug else EXIT_USER
    return EXIT_MISMATCH if summary.mismatched else EXIT_OK


def _run(args: argparse.Namespace, runner: ModuleType) -> Any:
    from ..ctc.sequences import load_sequences
    from ..ctc.store import check_out_dir

    # Before any work: a folder that cannot take the results is refused at once.
    check_out_dir(args.out)
    if args.sequences:
        seqs = load_sequences(args.sequences, check_files=False)
        source = args.sequences
    else:
        from ..ctc.builtin import builtin_sequences

        seqs = builtin_sequences()
        source = "built-in set (scikit-image photographs)"
    from ..ctc.settings import absolute_setting

    args.anchor = absolute_setting(args.anchor)
    args.test = [absolute_setting(t) for t in args.test]
    jobs = runner.prepare(args.cfg, args.qps, seqs, args.anchor, args.test, args.frames, source)
    meta = {
        "command": _canonical_command(args),
        "anchor": args.anchor,
        "tests": list(dict.fromkeys(args.test)),
        "configs": [c for c in ("AI", "LDP", "RA") if c in args.cfg and
                    any(j.config == c for j in jobs)],
        "qps": args.qps,
        "frames_cap": args.frames,
        "frames_note": f"at most {args.frames}" if args.frames else "as listed",
        "sequence_source": source,
        "sequences": [s.to_dict() for s in seqs],
    }  # fmt: skip
    executor = None
    if args.executor == "dask" or args.scheduler is not None:
        from ..ctc.dask_executor import DaskExecutor

        executor = DaskExecutor(args.jobs, args.scheduler)
    try:
        if executor is not None:
            executor.start()  # before the store is touched: a bad --scheduler changes nothing
        return runner.run(
            jobs,
            args.out,
            meta,
            executor=executor,
            jobs_n=args.jobs,
            force=args.force,
            keep_streams=args.keep_streams,
            progress=not args.quiet,
        )
    finally:
        if executor is not None:
            executor.close()


def report(args: argparse.Namespace) -> int:
    from ..ctc import report as rep_mod

    try:
        rep, target = rep_mod.write(
            args.dir,
            method=args.bd_method,
            time_kind=args.time,
            times=not args.no_times,
            report_dir=args.report_dir,
            plots=not args.no_plots,
        )
    except rep_mod.ReportError as e:
        raise _error(str(e)) from None
    md = rep_mod.render_markdown(rep, {}, times=not args.no_times)
    print(md.split("\n## RD points")[0].rstrip())
    flagged = [
        f"{t.config}/{t.test}/{line.name}"
        for t in rep.tables
        for line in t.lines
        if line.kind == "sequence" and line.bd is None
    ]
    if flagged:
        print(
            f"warning: {len(flagged)} sequence(s) flagged and left out of the averages: "
            + ", ".join(flagged),
            file=sys.stderr,
        )
    print(f"\nwritten: {target}/report.md, report.csv, points.csv, report.html, plots/")
    return 0
