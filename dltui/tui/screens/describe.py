"""What the details pane says about an experiment (and what `dltui check` found) or a run.

Everything read from a file (descriptions, names, errors, reasons, paths) goes in
as template values (`Content.from_markup(..., value=...)`) after
`dltui.safe_text.printable`: it is shown as text, never read as markup, and its
control characters are made visible. The layer tables are Rich tables, so they
fit the pane's width: long labels wrap, numbers are never cut.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.content import Content

from dltui.run_format import BROKEN, RESUMABLE_STATES
from dltui.safe_text import printable

if TYPE_CHECKING:
    from dltui.layers.stack import LayerRow, StackSummary
    from dltui.runs.discovery import RunInfo
    from dltui.spec import Experiment
    from dltui.tui.catalog import ExperimentEntry

_STACK_TITLES = {
    "model.layers": "Layers",
    "model.generator": "Generator",
    "model.discriminator": "Discriminator",
}


def counted(count: int, noun: str) -> str:
    """``1 layer``, ``3 layers``: a count with its noun (nouns here take an s)."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _t(value: object) -> str:
    """Text from a file, safe to show (one line)."""
    return printable(str(value), keep_newlines=False)


def _line(markup: str, **values: object) -> Content:
    """One line of markup with ``values`` put in as plain text."""
    return Content.from_markup(markup, **{k: _t(v) for k, v in values.items()})


@dataclass(frozen=True)
class ModelReport:
    """What `dltui check` found for one experiment file beyond its schema."""

    problems: tuple[str, ...]
    """Every problem, as `dltui check` prints it (file, line, field, message)."""
    stacks: dict[str, StackSummary] = field(default_factory=dict)
    """The layer tables, by field (``model.layers``, ``model.generator`` ...)."""

    @property
    def ok(self) -> bool:
        """No problems."""
        return not self.problems

    @property
    def total_params(self) -> int:
        """Parameters of every stack."""
        return sum(summary.total_params for summary in self.stacks.values())


def model_report(path: Path) -> ModelReport:
    """Run `dltui check` on ``path`` (imports torch: call it on a worker)."""
    from dltui.checks import check_file

    try:
        result = check_file(path)
    except Exception as exc:  # a bug in a layer kind must not take the browser down
        return ModelReport((f"{path.name}: the model check failed: {type(exc).__name__}: {exc}",))
    return ModelReport(tuple(str(p) for p in result.problems), dict(result.stacks))


CheckKey = tuple[Path, tuple[float, int]]
"""An experiment file as it was when checked: its path and (mtime, size)."""


class ModelChecks:
    """What `dltui check` found for each experiment file, as the file was when checked.

    A file edited since has a new key (its stamp): it is checked again, and its
    old verdict is never shown for the new contents.
    """

    def __init__(self) -> None:
        """No file checked yet."""
        self.reports: dict[CheckKey, ModelReport] = {}
        self._pending: set[CheckKey] = set()

    def start(
        self, entries: Iterable[ExperimentEntry], first: ExperimentEntry | None = None
    ) -> list[CheckKey]:
        """The valid files not checked (nor being checked) as they are now, ``first`` first;
        they count as being checked from now on."""
        keys = [
            (entry.path, entry.stamp)
            for entry in sorted(entries, key=lambda entry: entry is not first)
            if entry.valid
        ]
        keys = [key for key in keys if key not in self.reports and key not in self._pending]
        self._pending.update(keys)
        return keys

    def done(self, key: CheckKey, report: ModelReport) -> None:
        """The check of ``key`` found ``report``."""
        self._pending.discard(key)
        self.reports[key] = report

    def report_for(self, entry: ExperimentEntry | None) -> ModelReport | None:
        """What was found for ``entry`` as the file is now (None: not yet known)."""
        return None if entry is None else self.reports.get((entry.path, entry.stamp))

    def problems(self, entry: ExperimentEntry) -> list[str]:
        """Everything `dltui check` finds wrong with ``entry`` so far (schema, then model)."""
        if not entry.valid:
            return list(entry.problems)
        report = self.report_for(entry)
        return list(report.problems) if report is not None else []


def describe_experiment(
    entry: ExperimentEntry,
    runs: Sequence[RunInfo],
    report: ModelReport | None = None,
    *,
    checking: bool = False,
) -> Content:
    """The experiment's summary; its problems first when it is invalid.

    ``report`` is what `dltui check` found (None when not known); ``checking``
    says it is being worked out now.
    """
    lines = [_line("[b]$name[/b]  [$text-muted]$path[/]", name=entry.name, path=entry.path)]
    problems = list(entry.problems) if not entry.valid else []
    if entry.valid and report is not None:
        problems = list(report.problems)
    if problems:
        lines.append(Content(""))
        lines.append(
            _line(
                "[$error b]$count in $file:[/]",
                count=counted(len(problems), "problem"),
                file=entry.path.name,
            )
        )
        lines.extend(_line("[$error]• $problem[/]", problem=problem) for problem in problems)
        if not entry.valid and entry.last_good is not None:
            lines.append(Content(""))
            lines.append(
                Content.from_markup(
                    "[$text-muted]Showing the last valid version until the file is fixed.[/]"
                )
            )
    experiment = entry.shown
    if experiment is None:
        return Content("\n").join(lines)
    lines.append(Content(""))
    lines.extend(experiment_lines(experiment))
    lines.append(Content(""))
    lines.append(_runs_line(runs, startable=not problems))
    if checking:
        lines += [Content(""), Content.from_markup("[$text-muted]Checking the model…[/]")]
    elif report is not None and report.stacks and report.ok:
        lines += [Content(""), _line("[b]Parameters[/b] $n", n=f"{report.total_params:,}")]
    return Content("\n").join(lines)


def _runs_line(runs: Sequence[RunInfo], *, startable: bool = True) -> Content:
    if not runs and not startable:
        return Content.from_markup("[b]Runs[/b]  none yet: fix the problems above to start one")
    if not runs:
        return Content.from_markup("[b]Runs[/b]  none yet: press [b]r[/b] to start one")
    states: dict[str, int] = {}
    for run in runs:
        states[run.state] = states.get(run.state, 0) + 1
    counts = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    return _line("[b]Runs[/b]  $n ($counts)", n=len(runs), counts=counts)


def experiment_lines(experiment: Experiment) -> list[Content]:
    """Description, data, model, training and early stopping, one line each."""
    lines: list[Content] = []
    if experiment.description:
        lines.append(Content(printable(experiment.description)))
        lines.append(Content(""))
    data = experiment.data
    split = f"{data.split.train:g}/{data.split.val:g}/{data.split.test:g}"
    lines.append(
        _line(
            "[b]Data[/b]      $source, batch $batch, split $split",
            source=data.source,
            batch=data.batch_size,
            split=split,
        )
    )
    model: Any = experiment.model
    if experiment.is_gan:
        lines.append(
            _line(
                "[b]Model[/b]     GAN: generator $g, discriminator $d, latent $z",
                g=counted(len(model.generator), "layer"),
                d=counted(len(model.discriminator), "layer"),
                z=model.latent_dim,
            )
        )
    else:
        layers = experiment.sequential.layers
        kinds = " → ".join(str(getattr(layer, "type", "?")) for layer in layers)
        lines.append(
            _line("[b]Model[/b]     $n: $kinds", n=counted(len(layers), "layer"), kinds=kinds)
        )
    training = experiment.training
    opt = training.optimizer
    lines.append(
        _line(
            "[b]Training[/b]  $epochs epochs, $loss, $opt lr $lr, schedule $schedule, "
            "device $device",
            epochs=training.epochs,
            loss=training.loss,
            opt=opt.name,
            lr=f"{opt.lr:g}",
            schedule=training.schedule.name,
            device=training.device,
        )
    )
    if training.metrics:
        lines.append(_line("[b]Metrics[/b]   $metrics", metrics=", ".join(training.metrics)))
    stopping = experiment.early_stopping
    if stopping is not None:
        lines.append(
            _line(
                "[b]Early stop[/b] $monitor ($mode), patience $patience, min_delta $delta",
                monitor=stopping.monitor,
                mode=stopping.resolved_mode,
                patience=stopping.patience,
                delta=f"{stopping.min_delta:g}",
            )
        )
    if experiment.tags:
        lines.append(_line("[b]Tags[/b]      $tags", tags=", ".join(experiment.tags)))
    return lines


def stack_tables(report: ModelReport | None) -> RenderableType:
    """The layer table of each stack, fitted to the pane (empty without a report)."""
    if report is None or not report.stacks:
        return Text("")
    parts: list[RenderableType] = []
    for name, summary in report.stacks.items():
        parts += _stack_table(_STACK_TITLES.get(name, name), summary)
    return Group(*parts)


def _stack_table(title: str, summary: StackSummary) -> list[RenderableType]:
    """A stack's table (cells are plain text: a layer named ``[b]x`` shows as typed)."""
    from dltui.layers.registry import format_shape

    table = Table(
        title=Text(title, style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        expand=False,
    )
    table.add_column("#", no_wrap=True)
    table.add_column("layer", overflow="fold")
    table.add_column("output", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    if summary.input_shape:
        table.add_row("", Text("input", style="dim"), Text(format_shape(summary.input_shape)), "")

    def add(rows: Sequence[LayerRow], parent: str) -> None:
        for row in rows:
            number = f"{parent}{row.index}"
            indent = "  " * number.count(".")
            label = row.type if row.label.endswith(f"_{row.type}") else f"{row.label} ({row.type})"
            table.add_row(
                Text(number),
                Text(_t(indent + label)),
                Text(format_shape(row.out_shape)),
                Text(f"{row.params:,}"),
            )
            add(row.children, f"{number}.")

    add(summary.rows, "")
    frozen = f", {summary.non_trainable_params:,} frozen" if summary.non_trainable_params else ""
    output = format_shape(summary.output_shape) if summary.output_shape is not None else "-"
    totals = Text(
        f"{summary.total_params:,} params ({summary.trainable_params:,} trainable{frozen}), "
        f"{summary.param_bytes / 2**20:.2f} MB; output {output}\n"
    )
    if summary.problem is not None:
        totals.append(
            f"Problem at {_t(summary.problem.path)}: {_t(summary.problem.message)}\n",
            style="bold",
        )
    return [table, totals]


def describe_run(run: RunInfo, now: float | None = None) -> Content:
    """A run's state, progress and whereabouts (``run`` is a `dltui.runs.RunInfo`)."""
    from dltui.tui.plotting.axis import format_epoch
    from dltui.tui.screens.run_list import STATE_COLOURS, format_age, format_value
    from dltui.tui.widgets.changes import meta_value

    if run.source:
        from dltui.tui.sources import describe_log_run

        return describe_log_run(run, now)
    now = time.time() if now is None else now
    colour = STATE_COLOURS.get(run.state, "foreground")
    broken = run.state == BROKEN
    lines = [
        _line("[b]$experiment[/b] / $run", experiment=run.experiment, run=run.run_id),
        Content(""),
        _line(f"[b]Status[/b]    [${colour}]$state[/]", state=run.state),
    ]
    if run.reason:
        # A reason is read in full: it wraps to the pane instead of being cut. For a
        # broken run it is all there is to say.
        label = "[b]Problem[/b]   " if broken else ""
        lines.append(_line(label + "[$text-muted]$reason[/]", reason=run.reason))
    if run.created:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.created))
        lines.append(
            _line("[b]Started[/b]   $at ($ago ago)", at=started, ago=format_age(now - run.created))
        )
    progress = []
    if run.epoch is not None:
        epochs = meta_value(run.meta, "config", "training", "epochs")
        target = f"/{epochs}" if isinstance(epochs, int) and not isinstance(epochs, bool) else ""
        progress.append(f"epoch {format_epoch(run.epoch)}{target}")
    if run.step is not None:
        progress.append(f"step {run.step:,}")
    if progress:
        lines.append(_line("[b]Progress[/b]  $progress", progress=", ".join(progress)))
    if run.best is not None:
        where = f" at epoch {run.best_epoch}" if run.best_epoch is not None else ""
        lines.append(
            _line(
                "[b]Best[/b]      $monitor = $value$where",
                monitor=run.monitor or "value",
                value=format_value(run.best),
                where=where,
            )
        )
    lines.append(_line("[b]Device[/b]    $device", device=run.device or "-"))
    status = run.status
    if status.pid is not None:
        lines.append(
            _line("[b]Process[/b]   pid $pid on $host", pid=status.pid, host=status.host or "?")
        )
    # A folder's name is anyone's text: shown, never obeyed (an OSC in it set the title).
    lines.append(_line("[b]Folder[/b]    $folder", folder=run.path))
    lines.append(Content(""))
    hints = ["[b]enter[/b] open", "[b]space[/b] mark (and move down)"]
    if run.alive:
        hints.append("[b]S[/b] stop")
    elif run.state in RESUMABLE_STATES:
        hints.append("[b]R[/b] resume")
    hints.append("[b]D[/b] delete")
    lines.append(Content.from_markup("[$text-muted]" + "   ".join(hints) + "[/]"))
    return Content("\n").join(lines)
