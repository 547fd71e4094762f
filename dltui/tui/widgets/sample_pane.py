"""SamplePane: what a model generates — a GAN's 2-D points over the real data, or text.

A run records ``sample`` events (docs/run-format.md): generated points or text after
some epochs, and for a GAN on 2-D data one ``reference`` sample of real points at the
start. Points are drawn as a braille scatter over the reference, with x and y on one
scale, so a generator that covers only some of the modes shows it at a glance. Text
samples are listed newest first, each under its epoch, wrapped at the pane's width
with their own line breaks. `browse` steps to older or newer samples (the run view's
``,`` and ``.``); a new sample brings the view back to the newest only if it was there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.strip import Strip
from textual.widget import Widget

from dltui.safe_text import printable
from dltui.tui.plotting.axis import format_number
from dltui.tui.plotting.figure import Trace, render_frame
from dltui.tui.widgets.changes import affects, meta_value

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource


NO_SAMPLE = "no samples yet"

_BROWSE_HINT = ",/. older/newer"


def sample_points(sample: Mapping[str, Any], key: str = "points") -> np.ndarray | None:
    """``sample[key]`` as an ``(n, 2)`` float array, or None when absent or not pairs."""
    raw = sample.get(key)
    if raw is None:
        return None
    try:
        points = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if points.ndim != 2 or points.shape[1] < 2 or points.shape[0] == 0:
        return None
    return points[:, :2]


def is_reference(sample: Mapping[str, Any]) -> bool:
    """Whether a ``sample`` event holds real data (the target), not generated samples."""
    return sample.get("reference") is True


def why_no_samples(meta: Mapping[str, Any] | None) -> str:
    """Why a run has no sample to show (yet), from its recorded experiment."""
    config = meta_value(dict(meta or {}), "config")
    if not isinstance(config, dict) or not config:
        return "this run has recorded no sample events"
    every = meta_value(config, "training", "sample_every")
    every = every if isinstance(every, int) and not isinstance(every, bool) else 1
    if meta_value(config, "model", "kind") == "gan":
        when = "after each epoch" if every == 1 else f"every {every} epochs"
        return f"a GAN records generated samples {when}; none has been recorded yet"
    if meta_value(config, "data", "source") == "chars":
        return "a language model records a generated text after each epoch; none yet"
    return (
        "this kind of run records none: only GANs (generated points) and character "
        "language models (generated text) record samples"
    )


class SamplePane(Widget):
    """The run's ``sample`` events: a scatter of generated points, or texts newest first."""

    DEFAULT_CSS = """
    SamplePane {
        height: 1fr;
        min-height: 4;
        padding: 0 1;
        color: $foreground;
    }
    SamplePane > .sample--title { color: $foreground; text-style: bold; }
    SamplePane > .sample--muted { color: $foreground-muted; }
    SamplePane > .sample--generated { color: $accent; }
    SamplePane > .sample--real { color: $primary; }
    SamplePane > .sample--seed { color: $foreground-muted; }
    """

    COMPONENT_CLASSES = {
        "sample--title",
        "sample--muted",
        "sample--generated",
        "sample--real",
        "sample--seed",
    }

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        """An empty pane."""
        super().__init__(name=name, id=id, classes=classes)
        self._samples: list[Mapping[str, Any]] = []
        """Generated samples, oldest first."""
        self._reference: Mapping[str, Any] | None = None
        self._selected: int | None = None
        """Index of the sample shown first; None: the newest, following new ones."""
        self._reason = NO_SAMPLE
        self._version = 0
        self._key: tuple[Any, ...] | None = None
        self._strips: list[Strip] = []

    # -- data in ---------------------------------------------------------------------------

    @property
    def sample(self) -> Mapping[str, Any] | None:
        """The sample shown first (None when there is none)."""
        index = self.selected_index
        return self._samples[index] if index is not None else None

    @property
    def count(self) -> int:
        """How many generated samples the run has recorded."""
        return len(self._samples)

    @property
    def selected_index(self) -> int | None:
        """Index (oldest first) of the sample shown first, or None when there is none."""
        if not self._samples:
            return None
        return len(self._samples) - 1 if self._selected is None else self._selected

    def show(self, sample: Mapping[str, Any] | None) -> None:
        """Show one ``sample`` event ({epoch, text} or {epoch, points[, real]})."""
        self.show_all([] if sample is None else [sample])

    def show_all(self, samples: Sequence[Mapping[str, Any]], *, reason: str | None = None) -> None:
        """Show these ``sample`` events (in the order recorded); ``reason``: why there is
        none, when there is none."""
        generated = [s for s in samples if isinstance(s, Mapping) and not is_reference(s)]
        references = [s for s in samples if isinstance(s, Mapping) and is_reference(s)]
        reference = references[-1] if references else None
        if self._selected is not None and self._selected >= len(generated):
            self._selected = None
        self._reason = reason or NO_SAMPLE
        if generated == self._samples and reference is self._reference:
            return
        grew = len(generated) != len(self._samples)
        self._samples, self._reference = generated, reference
        self._version += 1
        self.refresh()
        if grew and self.is_attached:
            # Whether `,` and `.` apply changes with the number of samples.
            self.screen.refresh_bindings()

    def update_from(self, source: RunSource, changes: RunChanges | None = None) -> None:
        """Reload from a :class:`dltui.runs.RunReader` when a ``sample`` event arrived."""
        if affects(changes, kinds=("sample",), meta=True):
            self.show_all(source.events_of("sample"), reason=why_no_samples(source.meta))

    def browse(self, direction: int) -> None:
        """Step to an older (``-1``) or a newer (``+1``) sample; at the newest, follow."""
        index = self.selected_index
        if index is None:
            return
        target = min(max(index + direction, 0), len(self._samples) - 1)
        self._selected = None if target == len(self._samples) - 1 else target
        if target != index:
            self._version += 1
            self.refresh()

    # -- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """One row of the pane, from a cache rebuilt on new data, size or theme."""
        width, height = self.content_size
        key = (self._version, width, height, self.app.theme, self.rich_style)
        if key != self._key:
            self._strips = self._build(width, height)
            self._key = key
        return (
            self._strips[y] if 0 <= y < len(self._strips) else Strip.blank(width, self.rich_style)
        )

    def _heading(self, index: int) -> str:
        sample = self._samples[index]
        parts = [_where(sample)]
        if len(self._samples) > 1:
            parts.append(f"sample {index + 1} of {len(self._samples)}")
            parts.append(_BROWSE_HINT)
        return "  ·  ".join(parts)

    def _build(self, width: int, height: int) -> list[Strip]:
        style = self.get_component_rich_style
        index = self.selected_index
        if index is None:
            text = Text(NO_SAMPLE + "\n", style=style("sample--title"))
            text.append(self._reason, style("sample--muted"))
            if self._reference is not None:
                text.append("\n(the real data's points are recorded; generated ones follow)")
            return self._text_strips(text, width, height)
        sample = self._samples[index]
        points = sample_points(sample)
        if points is not None:
            return self._scatter_strips(index, points, width, height)
        if sample.get("format") == "stats" or "mean" in sample:
            return self._text_strips(self._stats_text(index), width, height)
        return self._text_strips(self._texts(index), width, height)

    def _texts(self, index: int) -> Text:
        """The text samples from ``index`` back to the oldest, each under its heading."""
        style = self.get_component_rich_style
        out = Text()
        for position in range(index, -1, -1):
            sample = self._samples[position]
            heading = self._heading(position) if position == index else _where(sample)
            out.append(heading + "\n", style("sample--title"))
            seed, body = sample.get("seed"), sample.get("text")
            if isinstance(seed, str) and seed:
                out.append(_clean(seed), style("sample--seed"))
            if body is None:
                out.append("(this sample has neither text nor points)", style("sample--muted"))
            else:
                out.append(_clean(str(body)))
            out.append("\n\n")
        out.rstrip()
        return out

    def _stats_text(self, index: int) -> Text:
        style = self.get_component_rich_style
        sample = self._samples[index]
        out = Text(self._heading(index) + "\n", style("sample--title"))
        facts = []
        for name in ("count", "mean", "std"):
            value = sample.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                facts.append(f"{name} {format_number(float(value), 4)}")
        out.append("generated: " + ("  ".join(facts) or "no statistics recorded") + "\n")
        out.append(
            "samples of more than two dimensions are summarised, not drawn",
            style("sample--muted"),
        )
        return out

    def _scatter_strips(
        self, index: int, points: np.ndarray, width: int, height: int
    ) -> list[Strip]:
        style = self.get_component_rich_style
        sample = self._samples[index]
        heading = Text(self._heading(index), style("sample--title"), no_wrap=True)
        head = self._text_strips(heading, width, 1)
        traces = []
        real = sample_points(sample, "real")
        if real is None and self._reference is not None:
            real = sample_points(self._reference)
        if real is not None:
            traces.append(
                Trace("real data", real[:, 0], real[:, 1], scatter=True, readout=f"({len(real)})")
            )
        traces.append(
            Trace("generated", points[:, 0], points[:, 1], scatter=True, readout=f"({len(points)})")
        )
        title = "" if real is not None else "no real data recorded to compare with"
        frame = render_frame(
            traces, width, max(1, height - 1), title=title, x_kind="value", equal_aspect=True
        )
        base = self.rich_style
        roles: dict[str, Style] = {
            "title": base + style("sample--muted"),
            "axis": base + style("sample--muted"),
        }
        for position, trace in enumerate(traces):
            name = "sample--real" if trace.label == "real data" else "sample--generated"
            color = style(name).color
            tone = base + Style(color=color or Color.parse("white").rich_color)
            roles[f"line:{position}"] = roles[f"legend:{position}"] = tone
        body = [
            Strip([Segment(text, roles.get(role, base)) for text, role in row if text], width)
            for row in frame.rows
        ]
        return head + body

    def _text_strips(self, text: Text, width: int, height: int) -> list[Strip]:
        console = self.app.console
        lines = text.wrap(console, max(1, width))
        strips = [
            Strip(list(line.render(console)), line.cell_len).adjust_cell_length(
                width, self.rich_style
            )
            for line in lines[: max(1, height)]
        ]
        return [Strip([seg for seg in strip if seg.text], width) for strip in strips]


def _where(sample: Mapping[str, Any]) -> str:
    epoch, step = sample.get("epoch"), sample.get("step")
    parts = []
    if isinstance(epoch, int | float) and not isinstance(epoch, bool):
        parts.append(f"epoch {epoch:g}")
    if isinstance(step, int) and not isinstance(step, bool):
        parts.append(f"step {step:,}")
    return " · ".join(parts) or "sample"


def _clean(text: str) -> str:
    """Text from the run file: control characters shown, tabs as spaces (line breaks kept)."""
    return printable(text).expandtabs(4)
