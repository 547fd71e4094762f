"""The `dltui` command: the dashboard by default, and `run`, `check`, `summary`.

Sub-commands import what they need when they run, so `dltui --help` and the
dashboard's start-up never pay for torch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    from dltui import __version__

    parser = argparse.ArgumentParser(
        prog="dltui",
        description="Build, train and watch deep-learning models from the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"dltui {__version__}")
    parser.add_argument(
        "--experiments",
        default="experiments",
        help="folder of experiment files (default: %(default)s)",
    )
    parser.add_argument(
        "--runs", default="runs", help="folder of run directories (default: %(default)s)"
    )
    parser.add_argument(
        "--themes", default="themes", help="folder of theme files (default: %(default)s)"
    )
    parser.add_argument(
        "--poll", action="store_true", help="poll files instead of OS events (network filesystems)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser(
        "check", help="validate experiment files (exit 0 if all valid, 2 if not)"
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument(
        "--no-shapes", action="store_true", help="skip layer-shape checks (no torch import)"
    )

    summary = sub.add_parser("summary", help="print the layer table of an experiment")
    summary.add_argument("file", metavar="FILE")

    from dltui.train.cli import add_run_arguments

    run = sub.add_parser("run", help="train an experiment (headless; what the dashboard launches)")
    add_run_arguments(run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `dltui` script and `python -m dltui`."""
    args = _parser().parse_args(argv)
    if args.command == "check":
        from dltui.checks import check_command

        return check_command(args.files, shapes=not args.no_shapes)
    if args.command == "summary":
        from dltui.checks import summary_command

        return summary_command(args.file)
    if args.command == "run":
        from dltui.train.cli import run_command

        return run_command(args)
    from dltui.tui.app import run_app

    return run_app(experiments=args.experiments, runs=args.runs, themes=args.themes, poll=args.poll)


if __name__ == "__main__":
    sys.exit(main())
