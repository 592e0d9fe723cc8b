"""The ``cnnfilter`` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import sys

from . import ctc as _ctc
from . import decode as _decode
from . import encode as _encode

_SUBCOMMANDS = [_encode, _decode, _ctc]


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnfilter",
        description="HEVC codec with a CNN in-loop filter, for video-coding research.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in _SUBCOMMANDS:
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .. import BitstreamError

    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "accepts_unknown", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.unknown = unknown
    try:
        return int(args.func(args) or 0)
    except (CliError, BitstreamError, FileNotFoundError, ValueError) as e:
        print(f"cnnfilter {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
