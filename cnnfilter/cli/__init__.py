"""The ``cnnfilter`` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import sys

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
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): not an error of ours.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
