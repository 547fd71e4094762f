"""`dltui ls`, `dltui plot` and `dltui export`: their arguments and what they do.

Importing this module costs only argparse and the run format's names (it is
imported by `dltui --help`); each command imports the rest when it runs. Exit
codes: 0 done, 1 nothing to show (a run with no points yet, no confusion
matrix), 2 a bad argument (a run or tag that matches nothing, a bad value), as
everywhere in dltui.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from dltui import run_format as rf

REPORT_COMMANDS = ("ls", "plot", "export")
EXIT_OK = 0
EXIT_NOTHING = 1
"""Nothing to show: a run with no points yet, no confusion matrix."""
EXIT_INVALID = rf.EXIT_INVALID
_STATES = (*rf.STATUSES, rf.DEAD, rf.UNKNOWN)


def add_report_parsers(sub: Any) -> None:
    """Add the three sub-commands to ``sub`` (the result of ``add_subparsers``)."""
    ls = sub.add_parser(
        "ls",
        help="list the runs: experiment, run, status, age, epoch, best value, device",
        description="List the runs, newest first, with the dashboard's filters.",
    )
    ls.add_argument(
        "text",
        nargs="?",
        default="",
        metavar="TEXT",
        help="keep runs whose experiment (name, file, tags, description) or whose "
        "id, status or device contains TEXT, as the dashboard's / does",
    )
    ls.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="STATE",
        help=f"keep runs in this state (repeat, or comma-separate): {', '.join(_STATES)}",
    )
    ls.add_argument(
        "--experiment",
        action="append",
        default=[],
        metavar="NAME",
        help="keep runs of this experiment (repeat; shell patterns such as 'cnn-*' work)",
    )
    ls.add_argument("--json", action="store_true", help="one JSON array of runs, for scripts")
    _runs_option(ls)

    plot = sub.add_parser(
        "plot",
        help="print charts of runs (plotext): loss and monitored metric by default",
        description="Print line charts of one or more runs, overlaid; or their confusion "
        "matrix. RUN is a run folder, experiment/run-id, experiment/latest or a unique "
        "prefix of either.",
    )
    plot.add_argument("names", nargs="+", metavar="RUN", help="the runs to plot")
    plot.add_argument(
        "--tag",
        nargs="+",
        action="extend",
        metavar="TAG",
        help="tags to plot (shell patterns such as 'val/*' work); tags differing only by "
        "split share a chart. Default: the loss and the monitored metric",
    )
    plot.add_argument(
        "--smooth",
        type=_weight,
        default=0.0,
        metavar="W",
        help="smooth with a debiased EMA of weight W in [0, 0.999], as the dashboard's "
        "s does (0.6 is its default; default here: %(default)s, the raw points)",
    )
    plot.add_argument(
        "--x",
        choices=("step", "epoch", "time"),
        default="step",
        help="x axis (default: %(default)s; time is since the run began)",
    )
    plot.add_argument(
        "--width", type=_size, metavar="W", help="columns (default: the terminal's, or 80)"
    )
    plot.add_argument(
        "--height",
        type=_size,
        metavar="H",
        help="lines per chart (default: the charts share the terminal; 20 when piped)",
    )
    plot.add_argument(
        "--confusion",
        action="store_true",
        help="the confusion matrix and per-class scores of each run's final test instead",
    )
    _runs_option(plot)

    export = sub.add_parser(
        "export",
        help="every scalar of runs as one tidy table (CSV or JSON)",
        description="Write every recorded scalar as rows of run, tag, step, epoch, time, "
        "value. JSON adds each run's config, final status, early-stopping outcome and "
        "test results.",
    )
    export.add_argument("names", nargs="+", metavar="RUN", help="the runs to export")
    export.add_argument(
        "--format",
        choices=("csv", "json"),
        help="csv or json (default: from -o's suffix, else csv)",
    )
    export.add_argument(
        "--tag", nargs="+", action="extend", metavar="TAG", help="only these tags (patterns work)"
    )
    export.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (replaced whole) instead of stdout"
    )
    _runs_option(export)


def _runs_option(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a sub-command's default would override `dltui --runs DIR ls`.
    parser.add_argument(
        "--runs",
        default=argparse.SUPPRESS,
        metavar="ROOT",
        help="folder of run directories (default: runs)",
    )
    parser.add_argument(
        "--logdir",
        dest="logdirs",
        nargs="+",
        action="extend",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="folders of other tools' logs (TensorBoard, Lightning or Keras CSV) whose runs "
        "are listed too; added to the settings file's logdirs",
    )


def _logdirs(args: argparse.Namespace) -> list[Any]:
    """``--logdir`` folders, then the settings file's (its problems said on stderr)."""
    from dltui.settings import load_settings, merged_logdirs

    settings = load_settings()
    for problem in settings.problems:
        print(f"dltui {args.command}: {problem}", file=sys.stderr)
    return merged_logdirs(getattr(args, "logdirs", None), settings)


def _weight(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if not 0.0 <= value <= 0.999:
        raise argparse.ArgumentTypeError(f"must be in [0, 0.999], got {text}")
    return value


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if not 8 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"must be between 8 and 10000, got {value}")
    return value


def report_command(args: argparse.Namespace) -> int:
    """Run ``args.command`` (one of `REPORT_COMMANDS`); returns the exit code."""
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "ls": _ls,
        "plot": _plot,
        "export": _export,
    }
    try:
        return commands[args.command](args)
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, not with a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_NOTHING


def _fail(command: str, message: str) -> int:
    from dltui.safe_text import printable

    for line in message.splitlines():
        print(f"dltui {command}: {printable(line)}", file=sys.stderr)
    return EXIT_INVALID


def _ls(args: argparse.Namespace) -> int:
    import json
    import time

    from dltui.report.listing import format_table, run_record, words_from_frozen_experiments
    from dltui.report.terminal import sized, terminal_size, wants_colour
    from dltui.runs.discovery import scan_runs
    from dltui.runs.filters import filter_runs
    from dltui.safe_text import printable

    states = [s.strip().lower() for value in args.status for s in value.split(",") if s.strip()]
    unknown = [s for s in states if s not in _STATES]
    if unknown:
        return _fail("ls", f"--status {unknown[0]}: not a state; known: {', '.join(_STATES)}")
    root = getattr(args, "runs", "runs")
    scan = scan_runs(root)
    for skipped in scan.skipped:
        reason = printable(skipped.reason, keep_newlines=False)
        print(f"dltui ls: skipped {printable(str(skipped.path))}: {reason}", file=sys.stderr)
    listed = list(scan.runs)
    logdirs = _logdirs(args)
    if logdirs:
        from dltui.logs.runs import list_log_runs

        logs = list_log_runs(logdirs)
        for problem in logs.problems:
            print(f"dltui ls: {problem}", file=sys.stderr)
        listed += logs.runs
    words = words_from_frozen_experiments(scan.runs) if args.text.strip() else {}
    runs = filter_runs(
        listed,
        args.text,
        states=states,
        experiments=args.experiment,
        words_of=lambda name: words.get(name, name.lower()),
    )
    now = time.time()
    if args.json:
        json.dump([run_record(run, now) for run in runs], sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
        return EXIT_OK
    if not runs:
        filtered = args.text.strip() or states or args.experiment
        where = printable(str(root), keep_newlines=False)
        if logdirs:
            where += " or " + ", ".join(printable(str(d), keep_newlines=False) for d in logdirs)
        print(
            f"No runs match in {where}." if filtered and listed else f"No runs in {where}.",
            file=sys.stderr,
        )
        return EXIT_OK
    width = terminal_size(sys.stdout)[0] if sized(sys.stdout) else None
    sys.stdout.write(format_table(runs, now, width=width, colour=wants_colour(sys.stdout)))
    return EXIT_OK


def _choose(command: str, args: argparse.Namespace) -> Any:
    """The runs named on the command line, read; or an exit code after saying why not."""
    from dltui.report.select import RunNotFound, load_runs, resolve_runs

    try:
        choice = resolve_runs(args.names, getattr(args, "runs", "runs"), _logdirs(args))
    except RunNotFound as error:
        return _fail(command, str(error))
    return load_runs(choice)


def _unknown_tags(command: str, unmatched: list[str], present: list[str]) -> int:
    listed = ", ".join(present[:20]) + (" …" if len(present) > 20 else "")
    known = f"; the runs' tags: {listed}" if present else "; the runs have no points yet"
    return _fail(command, f"--tag {', '.join(unmatched)}: matches no tag{known}")


def _plot(args: argparse.Namespace) -> int:
    from dltui.report.terminal import sized, terminal_size, wants_colour

    runs = _choose("plot", args)
    if isinstance(runs, int):
        return runs
    colour = wants_colour(sys.stdout)
    columns, lines = terminal_size(sys.stdout)
    width = args.width or columns
    if args.confusion:
        return _plot_confusion(runs, width, colour)
    from dltui.report.charts import canvas_columns, render_chart
    from dltui.report.curves import (
        chart_lines,
        default_charts,
        requested_charts,
        run_title,
        tags_present,
    )

    if args.tag:
        charts, unmatched = requested_charts(args.tag, runs)
        if unmatched:
            return _unknown_tags("plot", unmatched, tags_present(runs))
    else:
        charts = default_charts(runs)
    drawn: list[tuple[str, list[Any], Any]] = []
    for chart in charts:
        chart_lines_, axis = chart_lines(
            chart, runs, x_axis=args.x, smoothing=args.smooth, columns=canvas_columns(width) * 2
        )
        if chart_lines_:
            drawn.append((chart.title, chart_lines_, axis))
    if not drawn:
        names = ", ".join(run_title(run) for run in runs)
        if tags_present(runs) and args.x == "epoch":
            why = f"the points of {names} carry no epoch (try --x step)"
        else:
            why = f"no points recorded in {names} yet"
        print(f"dltui plot: nothing to plot: {why}", file=sys.stderr)
        return EXIT_NOTHING
    height = args.height or _chart_height(len(drawn), lines if sized(sys.stdout) else None)
    title_suffix = "" if len(runs) > 1 else f" · {run_title(runs[0])}"
    printed = 0
    for title, chart_lines_, axis in drawn:
        try:
            text = render_chart(
                title + title_suffix,
                chart_lines_,
                x_label=axis.label,
                width=width,
                height=height,
                colour=colour,
            )
        except ValueError as error:
            print(f"dltui plot: {error}", file=sys.stderr)
            continue
        sys.stdout.write(("\n" if printed else "") + text)
        printed += 1
    return EXIT_OK if printed else EXIT_NOTHING


def _chart_height(count: int, terminal_lines: int | None) -> int:
    """Lines per chart: the charts share the terminal (leaving the prompt), or 20 each."""
    if terminal_lines is None:
        return 20
    return max(10, min(30, (terminal_lines - 1) // count - 1))


def _plot_confusion(runs: list[Any], width: int, colour: bool) -> int:
    from dltui.report.confusion import confusion_from_event
    from dltui.report.confusion_text import format_confusion
    from dltui.report.curves import run_title

    shown = 0
    for run in runs:
        name = run_title(run)
        event = run.reader.latest("confusion")
        if event is None:
            print(
                f"dltui plot: {name}: no confusion matrix recorded (classification runs "
                "with a test split record one at their final test)",
                file=sys.stderr,
            )
            continue
        try:
            confusion = confusion_from_event(event)
        except ValueError as error:
            print(f"dltui plot: {name}: {error}", file=sys.stderr)
            continue
        text = format_confusion(
            confusion, title=f"Confusion matrix · {name}", width=width, colour=colour
        )
        sys.stdout.write(("\n" if shown else "") + text)
        shown += 1
    return EXIT_OK if shown else EXIT_NOTHING


def _export(args: argparse.Namespace) -> int:
    from dltui.report.curves import tags_present
    from dltui.report.export import export_runs, write_output
    from dltui.report.select import match_tags

    runs = _choose("export", args)
    if isinstance(runs, int):
        return runs
    tags = None
    if args.tag:
        tags, unmatched = match_tags(args.tag, tags_present(runs))
        if unmatched:
            return _unknown_tags("export", unmatched, tags_present(runs))
    fmt = args.format
    if fmt is None:
        fmt = "json" if args.output and args.output.lower().endswith(".json") else "csv"
    try:
        write_output(args.output, lambda stream: export_runs(runs, tags, fmt, stream))
    except BrokenPipeError:
        raise  # stdout's reader left: handled in report_command
    except OSError as error:
        return _fail("export", f"{args.output}: {error.strerror or error}")
    return EXIT_OK
