"""The panes of another tool's run that differ from a dltui run's.

`NotRecordedPane` stands where a dltui run shows what such a run never
records (gradient norms, early stopping, samples, system metrics): it says so,
naming the tool. `LogOverviewPane` is the overview of such a run: which tool
logged it and where, its scalars with their latest values, what else the log
holds (histograms, images), its hyper-parameters and the records skipped.
Everything from the log is shown as text (`Text`, `printable`), never markup.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widget import Widget

from dltui.logs.sources import KERAS_CSV, TENSORBOARD, source_mark, source_name
from dltui.safe_text import printable
from dltui.tui.plotting.axis import format_number
from dltui.tui.widgets.changes import affects
from dltui.tui.widgets.output_log import OutputLog
from dltui.tui.widgets.text_pane import TextPane

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource

_MAX_TAGS = 40
"""Scalars listed one by one in the overview; more are counted."""
_MAX_HPARAMS = 30


def _safe(text: object) -> str:
    return printable(str(text), keep_newlines=False)


class NotRecordedPane(TextPane):
    """A pane whose content another tool's run does not record, saying so."""

    DEFAULT_CSS = """
    NotRecordedPane { height: 1fr; padding: 0 1; color: $foreground-muted; }
    """

    def __init__(
        self, pane_id: str, source: str, *, id: str | None = None, classes: str | None = None
    ) -> None:
        """The pane ``pane_id`` of a run that ``source`` (a tool) logged."""
        super().__init__(id=id, classes=classes)
        self.pane_id = pane_id
        self.source = source

    @property
    def message(self) -> str:
        """What the pane says."""
        from dltui.tui.sources import not_recorded

        return not_recorded(self.pane_id, self.source)

    def build_text(self, width: int) -> Text:
        """The sentence, wrapped to the pane."""
        return Text(self.message)

    def update_from(self, source: RunSource, changes: RunChanges | None = None) -> None:
        """Nothing to follow: the tool never records it."""


class LogOverviewPane(TextPane):
    """What another tool's run is: its tool, files, scalars, hyper-parameters, problems."""

    DEFAULT_CSS = """
    LogOverviewPane { height: 1fr; padding: 0 1; overflow-y: auto; }
    LogOverviewPane > .logoverview--label { text-style: bold; }
    LogOverviewPane > .logoverview--muted { color: $foreground-muted; }
    LogOverviewPane > .logoverview--warning { color: $warning; }
    """

    COMPONENT_CLASSES = {"logoverview--label", "logoverview--muted", "logoverview--warning"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        """An empty overview, filled by `update_from`."""
        super().__init__(id=id, classes=classes)
        self._facts: dict[str, Any] = {}

    def update_from(self, source: RunSource, changes: RunChanges | None = None) -> None:
        """Read the run's facts again when its scalars, config or problems changed."""
        if changes is not None and not (
            changes or changes.bad_lines or affects(changes, meta=True, output=True)
        ):
            return
        meta = source.meta or {}
        tags = source.tags()
        latest = []
        points = 0
        for tag in tags:
            if tag == "epoch" and meta.get("tool") != TENSORBOARD:
                continue  # a CSV log's epoch column: each point's epoch, not a value
            series = source.series(tag)
            count = len(series)
            points += count
            if count:
                latest.append((tag, int(series.step[-1]), float(series.value[-1]), count))
        files: list[str] = []
        listing = getattr(source, "files", None)
        if callable(listing):
            files = [str(path) for path in listing()]
        self._facts = {
            "tool": str(meta.get("tool") or ""),
            "path": str(source.run_dir),
            "files": files,
            "latest": latest,
            "points": points,
            "config": dict(meta.get("config") or {}),
            "present": dict(getattr(source, "present", {}) or {}),
            "texts": bool(source.output_tail(1)),
            "bad": source.bad_lines,
            "problems": list(source.problems),
            "state": source.status.state,
            "written": source.status.heartbeat,
        }
        self.content_changed()

    def _row(self, text: Text, label: str, value: str, muted: bool = False) -> None:
        text.append(f"{label:<12}", self.get_component_rich_style("logoverview--label"))
        style = self.get_component_rich_style("logoverview--muted") if muted else ""
        text.append(value + "\n", style)

    def build_text(self, width: int) -> Text:
        """The facts, one labelled line each, then the scalars' latest values."""
        facts = self._facts
        text = Text()
        if not facts:
            text.append("reading…", self.get_component_rich_style("logoverview--muted"))
            return text
        tool = facts["tool"]
        self._row(text, "Logged by", f"{source_name(tool)} ({source_mark(tool)}), read only")
        self._row(text, "File" if tool == KERAS_CSV else "Folder", _safe(facts["path"]))
        files = facts["files"]
        if len(files) > 1:
            self._row(text, "Files", f"{len(files)} event files, read in name order")
        written = facts["written"]
        ago = ""
        if written:
            from dltui.tui.screens.run_list import format_age

            ago = f", last written {format_age(time.time() - written)} ago"
        self._row(text, "Status", f"{facts['state']}{ago}")
        latest = facts["latest"]
        self._row(text, "Scalars", f"{len(latest)} tags, {facts['points']:,} points")
        present = facts["present"]
        if present:
            kinds: dict[str, list[str]] = {}
            for tag, kind in present.items():
                kinds.setdefault(kind, []).append(tag)
            listed = "; ".join(
                f"{kind} ({len(tags)}): {', '.join(_safe(t) for t in tags[:5])}"
                + (" …" if len(tags) > 5 else "")
                for kind, tags in sorted(kinds.items())
            )
            self._row(text, "Also logged", listed + " (listed, not drawn)", muted=True)
        if facts["texts"]:
            self._row(text, "Text", "text summaries: see the Output pane")
        bad = facts["bad"]
        if bad:
            what = "records (bad CRC or not an event)" if tool == TENSORBOARD else "lines"
            style = self.get_component_rich_style("logoverview--warning")
            text.append(f"{'Skipped':<12}", self.get_component_rich_style("logoverview--label"))
            text.append(f"{bad:,} {what}\n", style)
        for problem in facts["problems"][:5]:
            self._row(text, "Problem", _safe(problem))
        if latest:
            text.append("\nLatest values\n", self.get_component_rich_style("logoverview--label"))
            wide = min(40, max(len(_safe(tag)) for tag, *_ in latest[:_MAX_TAGS]))
            for tag, step, value, _count in latest[:_MAX_TAGS]:
                text.append(f"  {_safe(tag):<{wide}}  {format_number(value):>9}  step {step:,}\n")
            if len(latest) > _MAX_TAGS:
                text.append(f"  … and {len(latest) - _MAX_TAGS} more\n")
        config = facts["config"]
        text.append("\n")
        if config:
            text.append("Hyper-parameters\n", self.get_component_rich_style("logoverview--label"))
            for key in sorted(config)[:_MAX_HPARAMS]:
                text.append(f"  {_safe(key)} = {_safe(config[key])}\n")
            if len(config) > _MAX_HPARAMS:
                text.append(f"  … and {len(config) - _MAX_HPARAMS} more\n")
        else:
            text.append("no hyper-parameters logged\n", self.get_component_rich_style(
                "logoverview--muted"))  # fmt: skip
        return text


class LogOutput(OutputLog):
    """The Output pane of a TensorBoard run: its text summaries, under a line saying so,
    or that there are none yet (most runs log none)."""

    HEADING = "TensorBoard text summaries (add_text), oldest first:"
    NONE_YET = "No text summaries (add_text) logged by this TensorBoard run yet."

    def __init__(self, **options: Any) -> None:
        """An Output pane that has seen no summary."""
        super().__init__(**options)
        self._empty = True

    def on_mount(self) -> None:
        """Say that no summary has arrived (the heading comes with the first)."""
        self._say_none()

    def _say_none(self) -> None:
        self.clear()
        self.append([self.NONE_YET])
        self._empty = True

    def update_from(self, source: RunSource, changes: RunChanges | None = None) -> None:
        """Append the summaries logged since the last call, under the heading."""
        if changes is not None and changes.reset:
            self._say_none()
        if not affects(changes, output=True):
            return
        lines = source.read_output()
        if not lines:
            return
        if self._empty:
            self.clear()
            self.append([self.HEADING, ""])
            self._empty = False
        self.append(lines)


def log_pane(
    pane_id: str, tool: str, *, id: str | None = None, classes: str | None = None
) -> Widget:
    """The pane ``pane_id`` of a run ``tool`` logged (the curves are `CurvesPane`'s)."""
    if pane_id == "overview":
        return LogOverviewPane(id=id, classes=classes)
    if pane_id == "output" and tool == TENSORBOARD:
        return LogOutput(id=id, classes=classes)
    return NotRecordedPane(pane_id, tool, id=id, classes=classes)
