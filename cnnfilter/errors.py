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


class UserError(ValueError):
    """A problem with the user's input, files or options: one line, exit code 2."""


class ToolError(UserError):
    """An external program (x265, HM, ...) failed on the options it was given: exit code 2."""


def user_message(e: BaseException) -> str | None:
    """The one-line message of a user error, or None when ``e`` is a bug. A bare ValueError is
    a bug: the errors of the user's input have their own types."""
    from . import BitstreamError, UnsupportedError
    from ._hevc import CodecArgumentError

    if isinstance(e, (UserError, BitstreamError, UnsupportedError, CodecArgumentError)):
        return str(e)
    if isinstance(e, OSError) and e.filename is not None:
        # PermissionError, IsADirectoryError, FileNotFoundError, ... on a file the user named.
        return f"{e.filename}: {e.strerror or e}"
    if isinstance(e, FileNotFoundError):
        return str(e)
    return None


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
