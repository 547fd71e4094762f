"""Which poll results concern a pane: panes redraw only when their data changed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dltui.runs.reader import RunChanges
    from dltui.runs.source import RunSource


def affects(
    changes: RunChanges | None,
    *,
    tags: Iterable[str] = (),
    prefixes: Iterable[str] = (),
    kinds: Iterable[str] = (),
    status: bool = False,
    meta: bool = False,
    output: bool = False,
) -> bool:
    """Whether ``changes`` touch any of the given tags, tag prefixes, event kinds or files.

    ``None`` (no poll result: a first load, or a caller that does not know)
    always counts as a change, and so does a reset (everything was re-read).
    """
    if changes is None or changes.reset:
        return True
    if (status and changes.status) or (meta and changes.meta) or (output and changes.output):
        return True
    if changes.kinds and any(kind in changes.kinds for kind in kinds):
        return True
    if changes.tags:
        if any(tag in changes.tags for tag in tags):
            return True
        starts = tuple(prefixes)
        if starts and any(tag.startswith(starts) for tag in changes.tags):
            return True
    return False


def target_epochs(source: RunSource) -> int | None:
    """How many epochs the run trains: what its latest ``resumed`` event says (a resume
    with ``--epochs`` moves the target), else its recorded experiment's."""
    resumed = source.latest("resumed")
    epochs = resumed.get("epochs") if resumed else None
    if epochs is None:
        epochs = meta_value(source.meta or {}, "config", "training", "epochs")
    if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 1:
        return epochs
    return None


def meta_value(meta: dict[str, Any], *path: str) -> Any:
    """``meta["config"]["training"]["epochs"]`` as ``meta_value(meta, "config", "training",
    "epochs")``, or None where any level is missing or not a table."""
    node: Any = meta
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node
