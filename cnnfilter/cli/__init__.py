"""The ``cnnfilter`` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import sys

from . import decode as _decode

_SUBCOMMANDS = [_decode]


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
    args = parser.parse_args(argv)
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
