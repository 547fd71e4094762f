"""Text for the details pane: an experiment (or its problems) and a run, as Textual markup."""

from __future__ import annotations

import textwrap
import time
from typing import TYPE_CHECKING, Any

from textual.markup import escape

from dltui.safe_text import printable

if TYPE_CHECKING:
    from dltui.spec import Experiment
    from dltui.tui.catalog import ExperimentEntry


def _e(value: object) -> str:
    return escape(str(value))


def describe_experiment(
    entry: ExperimentEntry, runs: list[Any], layer_table: str | None = ""
) -> str:
    """The experiment's summary; its problems first when the file is invalid.

    ``layer_table``: the table's text, None while it is being worked out, or
    empty for none.
    """
    lines = [f"[b]{_e(entry.name)}[/b]  [$text-muted]{_e(entry.path)}[/]"]
    if not entry.valid:
        lines.append("")
        lines.append(f"[$error b]{len(entry.problems)} problem(s) in {_e(entry.path.name)}:[/]")
        lines.extend(f"[$error]• {_e(problem)}[/]" for problem in entry.problems)
        if entry.last_good is not None:
            lines.append("")
            lines.append("[$text-muted]Showing the last valid version until the file is fixed.[/]")
    experiment = entry.shown
    if experiment is None:
        return "\n".join(lines)
    lines.append("")
    lines.extend(experiment_lines(experiment))
    lines.append("")
    states: dict[str, int] = {}
    for run in runs:
        states[run.state] = states.get(run.state, 0) + 1
    if runs:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        lines.append(f"[b]Runs[/b]  {len(runs)} ({counts})")
    else:
        lines.append("[b]Runs[/b]  none yet: press [b]r[/b] to start one")
    if layer_table is None:
        lines += ["", "[$text-muted]Working out layer shapes…[/]"]
    elif layer_table:
        lines += ["", _e(layer_table)]
    return "\n".join(lines)


def experiment_lines(experiment: Experiment) -> list[str]:
    """Description, data, model, training and early stopping, one line each."""
    lines: list[str] = []
    if experiment.description:
        lines.append(_e(experiment.description))
        lines.append("")
    data = experiment.data
    lines.append(
        f"[b]Data[/b]      {_e(data.source)}, batch {data.batch_size}, split "
        f"{data.split.train:g}/{data.split.val:g}/{data.split.test:g}"
    )
    model = experiment.model
    if experiment.is_gan:
        gen = getattr(model, "generator", [])
        disc = getattr(model, "discriminator", [])
        lines.append(
            f"[b]Model[/b]     GAN: generator {len(gen)} layers, discriminator {len(disc)} layers, "
            f"latent {getattr(model, 'latent_dim', '?')}"
        )
    else:
        layers = experiment.sequential.layers
        kinds = " → ".join(str(getattr(layer, "type", "?")) for layer in layers)
        lines.append(f"[b]Model[/b]     {len(layers)} layers: {_e(kinds)}")
    training = experiment.training
    opt = training.optimizer
    lines.append(
        f"[b]Training[/b]  {training.epochs} epochs, {_e(training.loss)}, {_e(opt.name)} "
        f"lr {opt.lr:g}, schedule {_e(training.schedule.name)}, device {_e(training.device)}"
    )
    if training.metrics:
        lines.append(f"[b]Metrics[/b]   {_e(', '.join(training.metrics))}")
    stopping = experiment.early_stopping
    if stopping is not None:
        lines.append(
            f"[b]Early stop[/b] {_e(stopping.monitor)} ({stopping.resolved_mode}), "
            f"patience {stopping.patience}, min_delta {stopping.min_delta:g}"
        )
    if experiment.tags:
        lines.append(f"[b]Tags[/b]      {_e(', '.join(experiment.tags))}")
    return lines


def describe_run(run: Any, now: float | None = None) -> str:
    """A run's state, progress and whereabouts (``run`` is a `dltui.runs.RunInfo`)."""
    from dltui.tui.screens.browser import STATE_COLOURS, format_age, format_value

    now = time.time() if now is None else now
    colour = STATE_COLOURS.get(run.state, "foreground")
    broken = run.state == "broken"
    lines = [
        f"[b]{_e(run.experiment)}[/b] / {_e(run.run_id)}",
        "",
        f"[b]Status[/b]    [${colour}]{_e(run.state)}[/]"
        + (f"  [$text-muted]{_e(run.reason)}[/]" if run.reason and not broken else ""),
    ]
    if broken and run.reason:
        # Why it cannot be read is all there is to say: in full, wrapped to fit the pane.
        wrapped = textwrap.wrap(run.reason, 32, break_long_words=True) or [""]
        lines += [
            f"[b]Problem[/b]   {_e(wrapped[0])}",
            *(f"          {_e(w)}" for w in wrapped[1:]),
        ]
    if run.created:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.created))
        lines.append(f"[b]Started[/b]   {started} ({format_age(now - run.created)} ago)")
    progress = []
    if run.epoch is not None:
        progress.append(f"epoch {run.epoch:g}")
    if run.step is not None:
        progress.append(f"step {run.step}")
    if progress:
        lines.append(f"[b]Progress[/b]  {', '.join(progress)}")
    if run.best is not None:
        where = f" at epoch {run.best_epoch}" if run.best_epoch is not None else ""
        lines.append(
            f"[b]Best[/b]      {_e(run.monitor or 'value')} = {format_value(run.best)}{where}"
        )
    lines.append(f"[b]Device[/b]    {_e(run.device or '-')}")
    status = run.status
    if status.pid is not None:
        lines.append(f"[b]Process[/b]   pid {status.pid} on {_e(status.host or '?')}")
    # A folder's name is anyone's text: shown, never obeyed (an OSC in it set the title).
    lines.append(f"[b]Folder[/b]    {_e(printable(str(run.path), keep_newlines=False))}")
    lines.append("")
    hints = ["[b]enter[/b] open", "[b]space[/b] mark"]
    if run.alive:
        hints.append("[b]S[/b] stop")
    elif run.state in ("stopped", "failed", "dead"):
        hints.append("[b]R[/b] resume")
    lines.append("[$text-muted]" + "   ".join(hints) + "[/]")
    return "\n".join(lines)


def layer_table(experiment: Experiment | None) -> str:
    """The Keras-like layer table (shapes and parameter counts); imports torch.

    Any failure becomes the text shown instead: a layer table is a convenience,
    never a reason to crash the browser.
    """
    if experiment is None:
        return ""
    try:
        from dltui.data import describe
        from dltui.layers.stack import format_summary, summarize_stack

        info = describe(experiment.data)
        if experiment.is_gan:
            model: Any = experiment.model
            parts = []
            for title, layers, shape in (
                ("Generator", model.generator, (model.latent_dim,)),
                ("Discriminator", model.discriminator, tuple(info.input_shape)),
            ):
                summary = summarize_stack(layers, shape, field=f"model.{title.lower()}")
                parts.append(f"{title}\n{format_summary(summary)}")
            return "\n\n".join(parts)
        model_spec = experiment.sequential
        shape = tuple(model_spec.input_shape or info.input_shape)
        return format_summary(summarize_stack(model_spec.layers, shape))
    except Exception as exc:  # the table is optional; say why it is missing
        return f"(no layer table: {type(exc).__name__}: {exc})"
