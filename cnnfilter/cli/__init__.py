"""The ``cnnfilter`` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import sys
import traceback

from ..errors import EXIT_BUG, EXIT_USER, UserError, user_message
from . import ctc as _ctc
from . import dataset as _dataset
from . import decode as _decode
from . import encode as _encode
from . import export as _export
from . import filter as _filter
from . import models as _models
from . import modelset as _modelset
from . import train as _train

_SUBCOMMANDS = [_encode, _decode, _ctc, _models, _dataset, _train, _export, _modelset, _filter]


# A user error: printed as one line, exit code 2 (the name the subcommands use).
CliError = UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnfilter",
        description="HEVC codec with a CNN in-loop filter, for video-coding research.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"cnnfilter {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in _SUBCOMMANDS:
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs one command. Exit codes, the same for every command (README, "Exit codes"): 0
    success, 1 decoded-picture hash mismatch, 2 user error (one ``error:`` line), 3 a bug."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "accepts_unknown", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.unknown = unknown
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): not an error of ours.
        sys.stderr.close()
        return 0
    except Exception as e:
        message = user_message(e)
        if message is None:
            traceback.print_exc()
            print(
                f"cnnfilter {args.command}: internal error (a bug in cnnfilter, not in your "
                "input): please report it with the traceback above",
                file=sys.stderr,
            )
            return EXIT_BUG
        line = " ".join(message.split()) or type(e).__name__
        print(f"cnnfilter {args.command}: error: {line}", file=sys.stderr)
        return EXIT_USER


if __name__ == "__main__":
    sys.exit(main())
