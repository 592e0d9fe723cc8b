"""Running one bad command line and checking the exit-code contract (README, "Exit codes").

Shared by the tables of bad inputs (tests/test_cli_errors*.py): each row is a command line with
its expected exit code and a fragment of its one ``error:`` line.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cnnfilter.cli import main


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the MD5 of its content."""
    return {
        str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code if isinstance(e.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def check_bad_input(argv: list[str], code: int, fragment: str, capsys, watch: Path) -> None:
    """Runs ``argv``; asserts the exit code, exactly one ``error:`` line holding ``fragment``,
    no traceback, and that no file under ``watch`` was created, changed or removed."""
    before = snapshot(watch)
    got, _, err = run_main(argv, capsys)
    errors = [ln for ln in err.splitlines() if "error:" in ln]
    assert got == code, f"exit {got}, expected {code}; stderr:\n{err}"
    assert "Traceback" not in err, err
    assert len(errors) == 1, f"expected one error: line, got:\n{err}"
    assert fragment in errors[0], f"'{fragment}' not in: {errors[0]}"
    assert snapshot(watch) == before, "the failed command changed the files around it"
