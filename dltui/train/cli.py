"""`dltui run FILE`: argument parsing and the process-level wrapper of the loop.

This module is imported by `dltui --help`, so it must not import torch: the
loop is imported inside `run_command`.
"""

from __future__ import annotations

import argparse
import sys

# Exit codes, shared with the dashboard (docs/architecture.md). Every run that
# finished exits 0, early stopping included: it is the normal end of training,
# and schedulers (Slurm, Kubernetes Jobs) and `dltui run a && dltui run b` read
# anything else as failure.
from dltui.run_format import (
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_FINISHED,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
)

EXIT_CODES_HELP = (
    f"exit codes: {EXIT_FINISHED} finished (early stopping included), {EXIT_FAILED} failed, "
    f"{EXIT_INVALID} invalid experiment or arguments, {EXIT_BUSY} refused: another process "
    f"is writing that run, {EXIT_INTERRUPTED} interrupted (Ctrl-C, SIGTERM or the dashboard's "
    "stop)"
)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of `dltui run` to ``parser`` (a sub-command parser)."""
    parser.epilog = EXIT_CODES_HELP
    parser.add_argument(
        "file",
        metavar="FILE",
        nargs="?",
        help="the experiment file (.toml); with --resume, by default the run's own frozen copy",
    )
    parser.add_argument(
        "--name", help="run name, used as the run id (default: a new time-based id)"
    )
    parser.add_argument("--device", help="override training.device: auto, cpu, cuda, cuda:N or mps")
    parser.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from its last checkpoint",
    )
    parser.add_argument(
        "--runs",
        default="runs",
        metavar="ROOT",
        help="folder of run directories (default: %(default)s)",
    )
    parser.add_argument(
        "--run-dir",
        metavar="DIR",
        help="record into exactly this directory (the dashboard picks it in advance)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help="override training.epochs (the run records it: a resume continues to N)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        dest="overrides",
        help="set a field of the experiment, e.g. --set training.optimizer.lr=0.003 "
        "(a TOML value; repeatable); the run's frozen copy has it set",
    )
    parser.add_argument(
        "--meta",
        metavar="JSON",
        help="a JSON object merged into meta.json's config (a sweep names its trial here)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress output (the run is still recorded)"
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help=(
            "CPU threads for torch's operators (default: torch's, one per core). "
            "On a busy or small machine, --threads 1 is often much faster for small "
            "models: idle-spinning operator threads fight other processes for the cores"
        ),
    )


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run_command(args: argparse.Namespace) -> int:
    """Run `dltui run` with parsed ``args``; returns the process exit code."""
    from dltui.train.runner import run_from_args

    return run_from_args(args)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m dltui.train.cli FILE``)."""
    parser = argparse.ArgumentParser(prog="dltui run", description="Train an experiment.")
    add_run_arguments(parser)
    return run_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
