"""``archs``: list, describe and build the registered architectures; train,
evaluate and package models.

archs list [--registry NAME | --models]
archs info NAME
archs build CONFIG [--section model] [--model.width 64 ...]
archs train CONFIG [--output DIR] [--overwrite] [--training.max_epochs 5 ...]
archs evaluate MODEL CORPUS
archs apply MODEL [MODEL ...] INPUT OUTPUT [--n-process N] [--resume] ...
archs package MODEL_DIR OUTPUT_DIR --name NAME --version X.Y.Z [--license SPDX]
    [--test CORPUS] [--overwrite]

Exit codes: 0 done, 1 error (one message, no traceback), 2 bad usage, 130
interrupted by Ctrl-C. Each command lives in a module of this package that adds
its parser (``add_parsers``) and the function that runs it.
"""

import argparse
import os
import sys
from typing import Any, Optional, Sequence

from ..about import __version__
from . import apply, build, describe, package, train
from .build import initialize_on_samples
from .common import INTERRUPTED, CommandError, load_config, parse_overrides

COMMANDS = (describe, build, train, package, apply)
"""The modules of the commands, in the order ``archs --help`` lists them."""

__all__ = [
    "CommandError",
    "initialize_on_samples",
    "load_config",
    "main",
    "parse_overrides",
]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``archs`` with ``argv`` (default: the command line); returns the exit code."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if extra and not getattr(args, "overrides", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.run(args, extra)
    except CommandError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C): stopped at once, nothing more was saved", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


class _Version(argparse.Action):
    """``--version``: arch-tok2vec's version, then every installed arch package's."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any):
        super().__init__(option_strings, dest, nargs=0, help="show the installed versions")

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        from ..families import FAMILIES, installed_version

        print(f"archs {__version__} (arch-tok2vec)")
        for dist in sorted(FAMILIES):
            version = installed_version(dist)
            if version is not None and dist != "arch-tok2vec":
                print(f"{dist} {version}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archs", description="spaCy's model architectures on thinc (the arch family)."
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command")
    for command in COMMANDS:
        command.add_parsers(sub)
    return parser
