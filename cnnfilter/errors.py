"""The one exit-code contract of every ``cnnfilter`` command (README, "Exit codes").

0 success; 1 a decoded-picture hash mismatch, and nothing else; 2 a user error, reported as one
``error:`` line naming the file or option at fault; 3 a bug in cnnfilter, reported with its
traceback and a request to report it.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_USER = 2
EXIT_BUG = 3


class UserError(Exception):
    """A problem with the user's input, files or options: one line, exit code 2."""


def safe_text(text: str | bytes, limit: int = 200) -> str:
    """Text that came from a file or stream, made safe to print: non-UTF-8 bytes and control
    characters (terminal escape codes among them) shown as escapes, and cut to ``limit``."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "backslashreplace")
    out = []
    for ch in text:
        code = ord(ch)
        if code < 0x20 or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        else:
            out.append(ch)
    s = "".join(out)
    return s if len(s) <= limit else s[:limit] + "..."
