"""The `dltui` command: the dashboard by default, and `run`, `check`, `summary`.

Sub-commands import what they need when they run, so `dltui --help` and the
dashboard's start-up never pay for torch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


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
        "--logdir",
        dest="logdirs",
        nargs="+",
        action="extend",
        metavar="DIR",
        help="folders of other tools' logs (TensorBoard event files, Lightning or Keras CSV) "
        "to show beside the runs; added to the settings file's logdirs",
    )
    parser.add_argument(
        "--poll", action="store_true", help="poll files instead of OS events (network filesystems)"
    )
    parser.add_argument(
        "--keymap",
        metavar="FILE",
        help="key remaps, TOML of command id = keys "
        "(default: $XDG_CONFIG_HOME/dltui/keymap.toml, if it exists)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser(
        "check", help="validate experiment files (exit 0 if all valid, 2 if not)"
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument(
        "--no-shapes", action="store_true", help="skip layer-shape checks (no torch import)"
    )

    sub.add_parser(
        "keys", help="list every command id and its keys (for a keymap file, see --keymap)"
    )

    summary = sub.add_parser("summary", help="print the layer table of an experiment")
    summary.add_argument("file", metavar="FILE")

    from dltui.train.cli import add_run_arguments

    run = sub.add_parser("run", help="train an experiment (headless; what the dashboard launches)")
    add_run_arguments(run)

    from dltui.report.commands import add_report_parsers

    add_report_parsers(sub)

    from dltui.sweep.cli import add_sweep_arguments

    sweep = sub.add_parser(
        "sweep", help="search hyper-parameters: the experiment's [sweep], with Optuna"
    )
    add_sweep_arguments(sweep)
    return parser


COMMANDS = ("check", "keys", "summary", "run", "ls", "plot", "export", "sweep")
"""The sub-commands' names (`_parser` adds one parser for each)."""


def split_logdir_lists(argv: Sequence[str]) -> list[str]:
    """``--logdir A B ls ...`` as ``--logdir=A --logdir=B ls ...``, before the command.

    ``--logdir`` takes several folders, and argparse gives such an option every word that
    follows it: the command's name too, so ``dltui --logdir DIR ls`` opened the dashboard
    on a folder named ``ls``. The folders end at the first option or command name (write
    ``./ls`` for a folder of that name). After the command, its own options are its own.
    """
    words = list(argv)
    out: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--" or word in COMMANDS:
            return [*out, *words[index:]]
        if word != "--logdir":
            out.append(word)
            index += 1
            continue
        folders = []
        index += 1
        while index < len(words) and not words[index].startswith("-"):
            if words[index] in COMMANDS:
                break
            folders.append(words[index])
            index += 1
        # No folder: leave the bare option for argparse to report.
        out += [f"--logdir={folder}" for folder in folders] or [word]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `dltui` script and `python -m dltui`."""
    parser = _parser()
    args = parser.parse_args(split_logdir_lists(sys.argv[1:] if argv is None else argv))
    if args.command == "check":
        from dltui.checks import check_command

        return check_command(args.files, shapes=not args.no_shapes)
    if args.command == "summary":
        from dltui.checks import summary_command

        return summary_command(args.file)
    if args.command == "run":
        from dltui.train.cli import run_command

        return run_command(args)
    if args.command in ("ls", "plot", "export"):
        from dltui.report.commands import report_command

        return report_command(args)
    if args.command == "sweep":
        from dltui.sweep.cli import sweep_command

        return sweep_command(args)
    keymap = _keymap_path(parser, args.keymap)
    if args.command == "keys":
        from dltui.tui.keymap import keys_table, load_keymap, problems_report

        mapping, problems = load_keymap(keymap) if keymap is not None else ({}, [])
        sys.stdout.write(keys_table(mapping))
        if problems:
            print(problems_report(problems, limit=20), file=sys.stderr)
        return 0
    from dltui.settings import load_settings, merged_logdirs
    from dltui.tui.app import run_app

    settings = load_settings()
    return run_app(
        experiments=args.experiments,
        runs=args.runs,
        themes=args.themes,
        poll=args.poll,
        keymap=keymap,
        logdirs=merged_logdirs(args.logdirs, settings),
        settings_problems=settings.problems,
    )


def _keymap_path(parser: argparse.ArgumentParser, given: str | None) -> Path | None:
    """The keymap file to load: ``--keymap`` (which must exist), else the default if present.

    A ``--keymap`` that is not there is a mistake on the command line: it stops here
    with exit code 2, like any bad argument, rather than in a notification that may
    go unseen while every key keeps its default.
    """
    from dltui.tui.keymap import default_keymap_path

    if given is None:
        default = default_keymap_path()
        return default if default.exists() else None
    path = Path(given).expanduser()
    if not path.exists():
        parser.error(f"--keymap {given}: no such file")
    if path.is_dir():
        parser.error(f"--keymap {given}: is a folder, not a keymap file")
    return path


if __name__ == "__main__":
    sys.exit(main())
