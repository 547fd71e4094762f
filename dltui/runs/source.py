"""RunSource: what a view reads from a run, whoever recorded it.

The dashboard's panes never ask which reader they were given: a dltui run
directory (`dltui.runs.RunReader`) and another tool's log (TensorBoard, CSV:
`dltui.logs.reader.LogRunReader`) answer the same questions. This protocol is
that surface; mypy checks below that both readers have it. No Textual here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.series import Series
    from dltui.runs.status import RunStatus


@runtime_checkable
class RunSource(Protocol):
    """A run as the views read it: its records so far, and a way to read what came since.

    ``poll`` reads what was appended since the last call and says what changed
    (`RunChanges`); everything else answers from what has been read, so a view
    may ask as often as it redraws. Returned lists and series are not to be
    modified. A source never raises for bad content: it counts ``bad_lines`` and
    describes them in ``problems``.
    """

    @property
    def run_dir(self) -> Path:
        """The run's folder (for another tool's log: its folder or file)."""
        ...

    @property
    def meta(self) -> dict[str, Any]:
        """meta.json's content, or what stands for it (empty until known)."""
        ...

    @property
    def status(self) -> RunStatus:
        """The run's state now, with liveness."""
        ...

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event so far, in order."""
        ...

    @property
    def bad_lines(self) -> int:
        """Records that could not be read (skipped)."""
        ...

    @property
    def problems(self) -> list[str]:
        """What was wrong with the run's files, in words."""
        ...

    def poll(self) -> RunChanges:
        """Read what was appended since the last poll and say what changed."""
        ...

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        """The events of one kind, in order; empty if none."""
        ...

    def latest(self, kind: str) -> dict[str, Any] | None:
        """The most recent event of ``kind``, or None."""
        ...

    def kinds(self) -> list[str]:
        """The event kinds seen so far."""
        ...

    def tags(self) -> list[str]:
        """Tags that have at least one point, in order of first appearance."""
        ...

    def series(self, tag: str) -> Series:
        """The points of ``tag`` (empty if it has none yet)."""
        ...

    def output_tail(self, max_lines: int = 200) -> list[str]:
        """The last ``max_lines`` lines of the run's output, as a terminal shows them."""
        ...

    def read_output(self, max_bytes: int = 1 << 20) -> list[str]:
        """The complete output lines written since the last call."""
        ...


if TYPE_CHECKING:
    # mypy checks here that both readers are run sources (nothing runs at import).
    from dltui.logs.reader import LogRunReader
    from dltui.runs.reader import RunReader

    def _both_are_run_sources(own: RunReader, other: LogRunReader) -> tuple[RunSource, ...]:
        return (own, other)
