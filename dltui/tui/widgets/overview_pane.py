"""OverviewPane: a run at a glance (status, progress, ETA, speed, memory, lr, best), its layers."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.color import Color
from textual.widget import Widget
from textual.widgets import DataTable, Static

from dltui.run_format import (
    ACTIVE_STATUSES,
    DEAD,
    EPOCH_TIME,
    FAILED,
    FINISHED,
    LOSS,
    LR,
    MEMORY_ALLOCATED,
    MEMORY_RESERVED,
    RUNNING,
    STARTING,
    STOPPED,
    THROUGHPUT,
    UNKNOWN,
    split_of,
    tag,
)
from dltui.safe_text import printable
from dltui.tui.plotting.axis import format_bytes, format_duration, format_epoch, format_number
from dltui.tui.sweep_catalog import sweep_trial
from dltui.tui.widgets.changes import affects, target_epochs

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource
    from dltui.tui.sweep_catalog import SweepTrial


VAL_LOSS = tag("val", LOSS)

_STATE_COLORS = {
    STARTING: "warning",
    RUNNING: "success",
    FINISHED: "primary",
    STOPPED: "warning",
    FAILED: "error",
    DEAD: "error",
}
"""The theme variable each state the overview knows is drawn in (others: muted)."""
_STATE_MARKS = {RUNNING: "●", STARTING: "◌", FINISHED: "✔", FAILED: "✘", DEAD: "✘"}
_SUMMARY_TAGS = (
    THROUGHPUT,
    MEMORY_ALLOCATED,
    MEMORY_RESERVED,
    LR,
    VAL_LOSS,
    EPOCH_TIME,
)


@dataclass(frozen=True)
class RunSummary:
    """The facts the overview shows; ``None`` where a run has not recorded one."""

    state: str = "unknown"
    reason: str | None = None
    experiment: str | None = None
    device: str | None = None
    epoch: float | None = None
    epochs: int | None = None
    step: int | None = None
    eta_seconds: float | None = None
    throughput: float | None = None
    memory_allocated: float | None = None
    memory_reserved: float | None = None
    lr: float | None = None
    best_name: str | None = None
    best_value: float | None = None
    best_epoch: int | None = None
    test: tuple[tuple[str, float], ...] = ()
    """The final test's metrics (``("accuracy", 0.97)``, …), from the ``test`` event."""
    test_weights: str | None = None
    """Which weights the test evaluated (``best (epoch 39)``)."""
    trial: SweepTrial | None = None
    """The sweep trial the run is, with the values it was given (None: no trial)."""


def summarize(source: RunSource) -> RunSummary:
    """Gather a :class:`RunSummary` from a :class:`dltui.runs.RunReader`."""
    meta = source.meta or {}
    status = source.status
    epochs = target_epochs(source)
    epoch, step = latest_progress(source)
    # The trainer's epoch events carry the epoch's wall time as `time_s`; the
    # `epoch_time` series is the same number for writers that only log scalars.
    times = [_num(e.get("time_s")) for e in source.events_of("epoch")]
    epoch_times = [t for t in times if t is not None and t > 0]
    if not epoch_times:
        epoch_times = _finite_list(source.series(EPOCH_TIME).value)
    eta = None
    if epochs is not None and epoch is not None and epoch_times and status.state in ACTIVE_STATUSES:
        # Recent epochs predict the next ones better than the first (warm-up, compilation).
        recent = epoch_times[-5:]
        eta = max(0.0, epochs - epoch) * sum(recent) / len(recent)
    stopping = source.latest("early_stopping") or {}
    best_name: str | None
    if stopping.get("best") is not None:
        best_name, best_value, best_epoch = (
            str(stopping.get("monitor", "best")),
            _num(stopping.get("best")),
            _int(stopping.get("best_epoch")),
        )
    else:
        best_name, best_value, best_epoch = _best_val_loss(source)
    return RunSummary(
        state=status.state,
        reason=status.reason,
        experiment=meta.get("experiment") if isinstance(meta.get("experiment"), str) else None,
        device=meta.get("device") if isinstance(meta.get("device"), str) else None,
        epoch=epoch,
        epochs=epochs,
        step=step,
        eta_seconds=eta,
        throughput=_last(source, THROUGHPUT),
        memory_allocated=_last(source, MEMORY_ALLOCATED),
        memory_reserved=_last(source, MEMORY_RESERVED),
        lr=_last(source, LR),
        best_name=best_name,
        best_value=best_value,
        best_epoch=best_epoch,
        test=_test_metrics(source.latest("test")),
        test_weights=_text((source.latest("test") or {}).get("weights")),
        trial=sweep_trial(meta),
    )


class OverviewPane(Widget):
    """The run's status line and key numbers above its layer table."""

    DEFAULT_CSS = """
    OverviewPane {
        height: auto;
        layout: vertical;
    }
    OverviewPane > #overview-facts { height: auto; padding: 0 1; }
    OverviewPane > #overview-layers { height: auto; max-height: 20; }
    OverviewPane > #overview-totals { height: auto; padding: 0 1; color: $foreground-muted; }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        """An empty overview."""
        super().__init__(name=name, id=id, classes=classes)
        self._summary = RunSummary()
        self._models: tuple[Mapping[str, Any], ...] = ()
        self._facts: Text | None = None
        self._columns: tuple[str, ...] = ()

    @property
    def summary(self) -> RunSummary:
        """What the facts line shows now."""
        return self._summary

    def compose(self) -> ComposeResult:
        """Facts, layer table, totals."""
        yield Static(id="overview-facts")
        yield DataTable(id="overview-layers", cursor_type="row", zebra_stripes=True)
        yield Static("no model summary yet", id="overview-totals")

    def on_mount(self) -> None:
        """Paint whatever was given before mounting."""
        self._paint_summary()
        self._paint_model()

    def show_summary(self, summary: RunSummary) -> None:
        """Show these facts (showing the same facts again does nothing)."""
        if summary == self._summary and self._facts is not None:
            return
        self._summary = summary
        if self.is_mounted:
            self._paint_summary()

    def show_model(self, model: Mapping[str, Any] | None) -> None:
        """Show a ``model`` event (rows, totals, input shape); None clears the table."""
        self.show_models([model] if model else [])

    def show_models(self, models: Sequence[Mapping[str, Any]]) -> None:
        """Show the ``model`` events of each part of the model (a GAN's generator and
        discriminator: one table, a heading row per part, as `dltui summary` prints them).

        Showing the same events again does nothing (refilling the table re-lays it out).
        """
        models = tuple(models)
        if models == self._models:
            return
        self._models = models
        if self.is_mounted:
            self._paint_model()

    def update_from(self, source: RunSource, changes: RunChanges | None = None) -> None:
        """Reload from a :class:`dltui.runs.RunReader`: facts, and layers on a ``model`` event."""
        if affects(changes, kinds=("model",)):
            self.show_models(model_parts(source.events_of("model")))
        if affects(
            changes,
            tags=_SUMMARY_TAGS,
            kinds=("epoch", "early_stopping", "test", "resumed"),
            status=True,
            meta=True,
        ):
            self.show_summary(summarize(source))

    def facts_text(self, width: int | None = None) -> Text:
        """The facts as styled text (also used by tests), broken into lines of at most
        ``width`` cells between facts when a width is given."""
        s = self._summary
        text = Text()
        state = s.state if s.state in _STATE_COLORS else UNKNOWN
        marker = _STATE_MARKS.get(state, "■")
        text.append(f"{marker} {state.upper()}", self._status_style(state))
        if s.experiment:
            text.append(f"  {printable(s.experiment, keep_newlines=False)}", "bold")
        if s.device:
            text.append(f"  on {printable(s.device, keep_newlines=False)}")
        text.append("\n")
        if s.reason:
            # On its own line, after the run: a reason is often long, and holds brackets.
            # Written by the trainer, or by whatever wrote status.json: shown, never obeyed.
            text.append(printable(s.reason, keep_newlines=False) + "\n")
        if s.trial is not None:
            # The values it was given, whole: the sweep table shows them to four digits.
            head = s.trial.title
            values = [f"{printable(path, keep_newlines=False)} = {_sampled(value)}"
                      for path, value in s.trial.params]  # fmt: skip
            _append_broken(text, [head + (":" if values else ""), *values], width, "  ")
            text.append("\n")
        parts = []
        if s.epoch is not None:
            epoch = format_epoch(s.epoch)
            parts.append(f"epoch {epoch}/{s.epochs}" if s.epochs else f"epoch {epoch}")
        if s.step is not None:
            parts.append(f"step {s.step:,}")
        if s.eta_seconds is not None:
            parts.append(f"ETA {format_duration(s.eta_seconds)}")
        if s.throughput is not None:
            parts.append(f"{format_number(s.throughput)} samples/s")
        if s.memory_allocated is not None:
            memory = f"mem {format_bytes(s.memory_allocated)}"
            if s.memory_reserved is not None:
                memory += f" / {format_bytes(s.memory_reserved)} reserved"
            parts.append(memory)
        if s.lr is not None:
            parts.append(f"lr {format_number(s.lr)}")
        if s.best_value is not None:
            name = printable(s.best_name or "", keep_newlines=False)
            best = f"best {name} {format_number(s.best_value, 4)}".replace("  ", " ")
            if s.best_epoch is not None:
                best += f" @ epoch {s.best_epoch}"
            parts.append(best)
        if s.test:
            weights = printable(s.test_weights or "", keep_newlines=False)
            where = f"test on {weights}:" if weights else "test:"
            parts.append(" ".join([where, *(f"{n} {format_number(v, 4)}" for n, v in s.test)]))
        if not parts:
            text.append("nothing recorded yet")
            return text
        _append_broken(text, parts, width, "  ·  ")
        return text

    def _status_style(self, state: str) -> Style:
        # A state's colour is a theme colour, so themes recolour it like everything else.
        name = _STATE_COLORS.get(state, "foreground-muted")
        raw = self.app.theme_variables.get(name)
        if not raw:
            return Style(bold=True)
        # Theme variables may carry alpha: blend onto the background as Textual does.
        color = self.background_colors[1] + Color.parse(raw)
        return Style(bold=True, color=color.rich_color)

    def _paint_summary(self) -> None:
        facts = self.query_one("#overview-facts", Static)
        width = facts.content_size.width
        text = self.facts_text(width or None)
        previous = self._facts
        if text == previous:
            return
        self._facts = text
        # A heartbeat changes the step every tenth of a second: repaint the facts alone,
        # and lay the screen out again only when they take a different number of lines.
        console = self.app.console
        same_height = (
            width > 0
            and previous is not None
            and len(previous.wrap(console, width)) == len(text.wrap(console, width))
        )
        facts.update(text, layout=not same_height)

    def on_resize(self) -> None:
        """Facts broken for the new width; the layer table drops columns when narrow."""
        self._facts = None
        self.call_after_refresh(self._paint_summary)
        if self._models and self._table_columns() != self._columns:
            self._paint_model()

    def _column_widths(self) -> dict[str, int]:
        """Each column's width: its longest cell (or heading)."""
        rows = self._rows()
        return {
            name: max([len(name), *(len(row[i]) for row in rows if row[i] != _HEADING)])
            for i, name in enumerate(_LAYER_COLUMNS)
        }

    def _table_columns(self) -> tuple[str, ...]:
        """The columns that fit the pane: the parameter counts always stay whole."""
        widths = {name: width + 2 for name, width in self._column_widths().items()}
        # Less a vertical scrollbar's two cells: a table that scrolls must not also
        # grow a horizontal bar (or cut its last column, the parameter counts).
        width = (self.content_size.width or 80) - 2
        columns = list(_LAYER_COLUMNS)
        # A layer's label usually says its type ("3_dense"); the index is its row.
        for optional in ("type", "#"):
            if sum(widths[c] for c in columns) <= width:
                break
            columns.remove(optional)
        return tuple(columns)

    def _rows(self) -> list[tuple[str, ...]]:
        """The table's rows; with several parts, each after a heading row naming it."""
        out: list[tuple[str, ...]] = []
        for model in self._models:
            if len(self._models) > 1:
                part = printable(str(model.get("part") or "model"), keep_newlines=False)
                inputs = model.get("input_shape")
                shape = f"in {printable(_shape(inputs))}" if inputs is not None else ""
                out.append(("", part, "", shape, _HEADING))
            out += self._part_rows(model)
        return out

    def _part_rows(self, model: Mapping[str, Any]) -> list[tuple[str, ...]]:
        rows = model.get("rows") or []
        out: list[tuple[str, ...]] = []
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, Mapping):
                continue
            params = row.get("params")
            out.append(
                (
                    str(row.get("index", "")),
                    printable(str(row.get("label", "")), keep_newlines=False),
                    printable(str(row.get("type", "")), keep_newlines=False),
                    printable(_shape(row.get("out_shape")), keep_newlines=False),
                    f"{params:,}" if isinstance(params, int) else printable(str(params or "")),
                )
            )
        return out

    def _paint_model(self) -> None:
        table: DataTable[Text] = self.query_one("#overview-layers", DataTable)
        totals = self.query_one("#overview-totals", Static)
        columns = self._table_columns()
        self._columns = columns
        table.clear(columns=True)
        # Widths given, not measured by the table: re-filled while the pane is resized,
        # it kept the headings' widths and cut every label ("0_den", "dens").
        widths = self._column_widths()
        for name in columns:
            table.add_column(name, key=name, width=widths[name])
        if not self._models:
            totals.update("no model summary yet")
            return
        keep = [_LAYER_COLUMNS.index(name) for name in columns]
        for row in self._rows():
            if row[4] == _HEADING:
                # Text, not str: a DataTable reads a str cell as markup.
                cells = [Text(row[i] if i != 4 else "", style="bold") for i in keep]
            else:
                cells = [Text(row[i], justify="right" if i == 4 else "left") for i in keep]
            table.add_row(*cells)
        if len(self._models) == 1:
            totals.update(Text(_totals(self._models[0])))
            return
        # Each part's input is on its heading row: here, what each part weighs, and all.
        parts = []
        counts = [m.get("total_params") for m in self._models]
        for model, count in zip(self._models, counts, strict=True):
            if isinstance(count, int) and not isinstance(count, bool):
                part = printable(str(model.get("part") or "model"), keep_newlines=False)
                parts.append(f"{part} {count:,}")
        if len(parts) == len(counts):
            parts.append(f"{sum(c for c in counts if isinstance(c, int)):,} parameters in all")
        totals.update(Text(" · ".join(parts)))


_LAYER_COLUMNS = ("#", "layer", "type", "output", "params")
_HEADING = "\x00heading"
"""The params cell of a part's heading row (never a real count: counts are digits)."""


def _append_broken(text: Text, parts: Sequence[str], width: int | None, gap: str) -> None:
    """``parts`` joined by ``gap``, broken into lines of at most ``width`` cells between
    parts, never inside one: a wrapped line must not leave a number without its name
    ("lr" on one line, "0.001" on the next)."""
    if width is None:
        text.append(gap.join(parts))
        return
    line = 0
    for index, part in enumerate(parts):
        if index:
            if line + len(gap) + len(part) > width:
                text.append("\n")
                line = 0
            else:
                text.append(gap)
                line += len(gap)
        text.append(part)
        line += len(part)


def _sampled(value: Any) -> str:
    """A sampled value as the overview writes it: six significant digits, text as text."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    return printable(str(value), keep_newlines=False)


def _totals(model: Mapping[str, Any]) -> str:
    """``4,866 parameters · input (8,)``."""
    total, trainable = model.get("total_params"), model.get("trainable_params")
    line = []
    if isinstance(total, int):
        line.append(f"{total:,} parameters")
    if isinstance(trainable, int) and trainable != total:
        line.append(f"{trainable:,} trainable")
    if model.get("input_shape") is not None:
        line.append(f"input {printable(_shape(model.get('input_shape')))}")
    return " · ".join(line)


def model_parts(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The latest ``model`` event of each part (``part``: a GAN's generator and
    discriminator; one part without it), in the order the parts were first recorded."""
    latest: dict[str, Mapping[str, Any]] = {}
    for event in events:
        part = event.get("part")
        latest[part if isinstance(part, str) else ""] = event
    return list(latest.values())


def _shape(value: Any) -> str:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "(" + ", ".join(str(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return "" if value is None else str(value)


_PROGRESS_TAGS = (tag("train", LOSS), tag("train", "g_loss"))
"""Series logged every few steps whose last point says how far the run got."""


def latest_progress(source: RunSource) -> tuple[float | None, int | None]:
    """The run's newest (epoch, step): from the heartbeat, the last epoch event or the
    last logged training loss, whichever got furthest.

    The heartbeat (status.json) is written every couple of seconds; a fast run logs
    many steps, and may end several epochs, in between, so alone it lags behind
    (a run view once read "epoch 20/40 · step 330" for step 400).
    """
    status = source.status
    event = source.latest("epoch") or {}
    candidates = [(status.step, status.epoch), (_int(event.get("step")), _num(event.get("epoch")))]
    for progress_tag in _PROGRESS_TAGS:
        series = source.series(progress_tag)
        if len(series):
            candidates.append((int(series.step[-1]), _num(float(series.epoch[-1]))))
    known = [(step, epoch) for step, epoch in candidates if step is not None]
    if not known:
        epochs = [epoch for _, epoch in candidates if epoch is not None]
        return (max(epochs) if epochs else None), None
    step, epoch = max(known, key=lambda candidate: candidate[0])
    if epoch is None:  # a writer that logs no epochs: the newest epoch known
        epoch = max((e for _, e in candidates if e is not None), default=None)
    return epoch, step


def _test_metrics(event: Mapping[str, Any] | None) -> tuple[tuple[str, float], ...]:
    """``(name, value)`` of each ``test/...`` field of a ``test`` event, in its order."""
    if not event:
        return ()
    found = []
    for key, value in event.items():
        number = _num(value)
        if isinstance(key, str) and split_of(key) == "test" and number is not None:
            found.append((printable(key.partition("/")[2], keep_newlines=False), number))
    return tuple(found)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _int(value: Any) -> int | None:
    number = _num(value)
    return None if number is None else int(number)


def _finite_list(values: Any) -> list[float]:
    array = np.asarray(values, dtype=np.float64)
    return array[np.isfinite(array)].tolist()


def _last(source: RunSource, tag: str) -> float | None:
    series = source.series(tag)
    return _num(float(series.value[-1])) if len(series) else None


def _best_val_loss(source: RunSource) -> tuple[str | None, float | None, int | None]:
    series = source.series(VAL_LOSS)
    if not len(series):
        return None, None, None
    values = np.asarray(series.value, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return None, None, None
    index = int(np.argmin(np.where(finite, values, np.inf)))
    epoch = float(series.epoch[index])
    return VAL_LOSS, float(values[index]), int(epoch) if math.isfinite(epoch) else None
