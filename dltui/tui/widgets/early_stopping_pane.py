"""EarlyStoppingPane: what early stopping watches, how near it is to stopping, why it stopped."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text

from dltui.run_format import LOSS, tag
from dltui.safe_text import printable
from dltui.tui.plotting.axis import format_number
from dltui.tui.widgets.changes import affects, meta_value
from dltui.tui.widgets.text_pane import TextPane

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource


NOT_CONFIGURED = "early stopping not configured"


def gauge(filled: int, total: int, width: int) -> str:
    """A bar ``width`` cells wide, ``filled/total`` of it solid: ``█████░░░░░``."""
    width = max(1, width)
    if total <= 0:
        return "█" * width if filled > 0 else "░" * width
    solid = round(width * min(max(filled, 0), total) / total)
    return "█" * solid + "░" * (width - solid)


class EarlyStoppingPane(TextPane):
    """The latest ``early_stopping`` event: monitor, current and best value, wait vs patience.

    Feed it with :meth:`show` (plain data) or :meth:`update_from` (a run reader).
    """

    DEFAULT_CSS = """
    EarlyStoppingPane {
        height: auto;
        min-height: 3;
        padding: 0 1;
    }
    EarlyStoppingPane > .early-stopping--label { color: $foreground-muted; }
    EarlyStoppingPane > .early-stopping--value { color: $foreground; text-style: bold; }
    EarlyStoppingPane > .early-stopping--best { color: $success; text-style: bold; }
    EarlyStoppingPane > .early-stopping--gauge { color: $primary; }
    EarlyStoppingPane > .early-stopping--warning { color: $warning; text-style: bold; }
    EarlyStoppingPane > .early-stopping--stopped { color: $error; text-style: bold; }
    EarlyStoppingPane > .early-stopping--muted { color: $foreground-muted; text-style: italic; }
    """

    COMPONENT_CLASSES = {
        "early-stopping--label",
        "early-stopping--value",
        "early-stopping--best",
        "early-stopping--gauge",
        "early-stopping--warning",
        "early-stopping--stopped",
        "early-stopping--muted",
    }

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        """An empty pane (it says early stopping is not configured until told otherwise)."""
        super().__init__(name=name, id=id, classes=classes)
        self._state: Mapping[str, Any] | None = None
        self._config: Mapping[str, Any] | None = None

    @property
    def state(self) -> Mapping[str, Any] | None:
        """The latest ``early_stopping`` event shown, if any."""
        return self._state

    def show(
        self, state: Mapping[str, Any] | None, config: Mapping[str, Any] | None = None
    ) -> None:
        """Show an ``early_stopping`` event; ``config`` (the ``[early_stopping]`` table) tells
        a run that has not reported yet from one that has early stopping off.

        Showing what is already shown does nothing (no repaint).
        """
        if state == self._state and config == self._config and self._data_version:
            return
        self._state = state
        self._config = config
        self.content_changed()

    def update_from(self, source: RunSource, changes: RunChanges | None = None) -> None:
        """Reload from a :class:`dltui.runs.RunReader` when a new event or meta arrived."""
        if not affects(changes, kinds=("early_stopping",), meta=True):
            return
        config = meta_value(source.meta, "config", "early_stopping")
        self.show(source.latest("early_stopping"), config if isinstance(config, dict) else None)

    def build_text(self, width: int) -> Text:
        """The pane's lines."""
        return self.describe()

    def describe(self) -> Text:
        """The pane's content as styled text."""
        style = self.get_component_rich_style
        label, value = style("early-stopping--label"), style("early-stopping--value")
        state = self._state
        if state is None:
            if self._config is None:
                return Text(NOT_CONFIGURED, style=style("early-stopping--muted"))
            monitor = _shown(self._config.get("monitor", tag("val", LOSS)))
            return Text(
                f"early stopping on {monitor}: waiting for its first value",
                style=style("early-stopping--muted"),
            )

        text = Text()
        monitor = _shown(state.get("monitor", "?"))
        mode = state.get("mode")
        text.append("monitor ", label).append(monitor, value)
        if mode in ("min", "max"):
            text.append(f"  ({'lower' if mode == 'min' else 'higher'} is better)", label)
        text.append("\n")

        current = _number(state.get("value"))
        text.append("current ", label).append(_fmt(current), value)
        epoch = state.get("epoch")
        if epoch is not None:
            text.append(f"  epoch {_shown(epoch)}", label)
        text.append("\n")

        best = _number(state.get("best"))
        text.append("best    ", label).append(_fmt(best), style("early-stopping--best"))
        best_epoch = state.get("best_epoch")
        if best_epoch is not None:
            text.append(f"  at epoch {_shown(best_epoch)}", label)
        text.append("\n")

        wait, patience = _int(state.get("wait")), _int(state.get("patience"))
        if wait is not None and patience is not None:
            bar_width = max(4, min(30, self.size.width - 18 if self.size.width else 20))
            near = patience > 0 and wait >= max(1, patience - 1)
            text.append("wait    ", label)
            text.append(
                gauge(wait, patience, bar_width),
                style("early-stopping--warning" if near else "early-stopping--gauge"),
            )
            text.append(f" wait {wait}/{patience}", value)
            text.append("\n")

        settings = []
        min_delta = _number(state.get("min_delta"))
        if min_delta:
            settings.append(f"min_delta {format_number(min_delta)}")
        for key, name in (
            ("baseline", "baseline"),
            ("stopping_threshold", "stop at"),
            ("divergence_threshold", "diverged past"),
        ):
            setting = _number(state.get(key))
            if setting is not None:
                settings.append(f"{name} {format_number(setting)}")
        if settings:
            text.append(" · ".join(settings), label).append("\n")

        if state.get("stopped"):
            reason = state.get("reason") or "stopped"
            text.append("STOPPED ", style("early-stopping--stopped"))
            text.append(_shown(reason), value)
        text.rstrip()
        return text


def _shown(value: Any) -> str:
    """A value from the run's events as one line of text (control characters visible)."""
    return printable(str(value), keep_newlines=False)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if math.isfinite(value) else None


def _fmt(value: float | None) -> str:
    return "—" if value is None else format_number(value, 4)
