"""RunPane: what every pane of the run view offers, so the view feeds them all alike."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource


@runtime_checkable
class RunPane(Protocol):
    """A pane that shows part of a run and keeps up with it.

    ``update_from`` is called after every poll with what the poll found
    (``changes``; None on the first call, or when it is not known): a pane reads
    what it shows from ``source`` and redraws only when ``changes`` concern it.
    """

    def update_from(self, source: RunSource, changes: RunChanges | None = None) -> None:
        """Show ``source``'s data if ``changes`` concern this pane."""
        ...
