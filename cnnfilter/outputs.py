"""Output files that appear under their final name only when complete.

Every command writes through :func:`atomic_output`: the data goes to a fresh temporary file in
the destination's folder (a unique name the command created, so removing it on failure never
touches a user's file), which is renamed over the final name only on success. A failed, killed
or interrupted command leaves the final name as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import UserError


def check_output_path(
    path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike | None] = (), what: str = ""
) -> Path:
    """Checks, before any work, that ``path`` can be written: not a folder, its folder exists
    and is writable, and it is none of ``inputs`` (which the output would destroy)."""
    out = Path(path)
    label = f"{what} {out}" if what else str(out)
    if out.is_dir():
        raise UserError(f"{label}: is a folder, not a file")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"{label}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{label}: folder {parent} is not writable")
    for src in inputs:
        if src is None:
            continue
        with contextlib.suppress(OSError):
            if out.exists() and os.path.samefile(out, src):
                raise UserError(f"{label}: is also an input; write the output to another file")
    return out


def new_file_mode() -> int:
    """The mode a file created here gets (0644 under the usual umask): mkstemp's files are
    private (0600), and outputs are meant to be shared like any other file."""
    # Read without changing it where Linux allows (os.umask sets it, racing with threads).
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/self/status") as f:
            return 0o666 & ~int(next(ln for ln in f if ln.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike | None] = (), what: str = ""
) -> Iterator[Path]:
    """Yields a temporary path next to ``path``; renames it to ``path`` when the block ends
    without an exception, removes it otherwise."""
    out = check_output_path(path, inputs=inputs, what=what)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    except OSError as e:
        raise UserError(f"{out}: cannot create a file there ({e.strerror})") from None
    os.fchmod(fd, new_file_mode())
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
