"""How another tool's scalar tags make plots, for the run view and `dltui plot` alike.

Tools spell a metric's split in their own ways — ``Loss/train`` (torch's
tutorial), ``train/loss`` (dltui's form), ``train_loss_step`` and ``val_loss``
(Lightning), ``loss`` and ``val_loss`` (Keras) — and each metric's splits
belong on one plot. No Textual, no numpy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dltui.logs.sources import KERAS_CSV, LIGHTNING_CSV
from dltui.safe_text import printable

_SPLITS = frozenset({"train", "training", "val", "valid", "validation", "test", "eval"})
_PREFIX = re.compile(r"^(train|training|val|valid|validation|test|eval)_(.+)$")
_SUFFIX = re.compile(r"^(.+)_(step|epoch)$")
_PER_PLOT = 6
"""Series drawn in one plot at most (more are split over plots)."""


def _group_of(tag: str) -> str:
    """The plot a tag goes to: the metric it is of, whichever way the tool spelled the split.

    ``Loss/train`` and ``Loss/test`` (torch's tutorial), ``train/loss`` (dltui's
    own form), ``train_loss_step`` and ``val_loss`` (Lightning), ``loss`` and
    ``val_loss`` (Keras) each share a plot with their other splits.
    """
    if "/" in tag:
        head, _, tail = tag.rpartition("/")
        if tail.lower() in _SPLITS and head:
            return head
        first, _, rest = tag.partition("/")
        if first.lower() in _SPLITS and rest:
            return rest
        return tag
    name = tag
    match = _SUFFIX.match(name)
    if match:
        name = match.group(1)
    match = _PREFIX.match(name)
    if match:
        name = match.group(2)
    return name


def plot_slug(title: str) -> str:
    """A plot title as a widget id may hold it (ASCII letters, digits and ``-``)."""
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in title.lower())


def log_plot_groups(tags: Sequence[str], source: str) -> list[tuple[str, tuple[str, ...]]]:
    """(title, tags) of each plot for another tool's run, in the order the tags came.

    A CSV log's ``epoch`` column is each point's epoch, not a curve. Titles are
    made unique as widget ids see them (``a b`` and ``a-b`` would clash).
    """
    groups: dict[str, list[str]] = {}
    for tag in tags:
        if source in (LIGHTNING_CSV, KERAS_CSV) and tag == "epoch":
            continue
        groups.setdefault(_group_of(tag), []).append(tag)
    result: list[tuple[str, tuple[str, ...]]] = []
    slugs: set[str] = set()
    for name, members in groups.items():
        for start in range(0, len(members), _PER_PLOT):
            title = printable(name, keep_newlines=False) or "(unnamed)"
            if start:
                title += f" ({start // _PER_PLOT + 1})"
            unique, count = title, 1
            while plot_slug(unique) in slugs:
                count += 1
                unique = f"{title} #{count}"
            slugs.add(plot_slug(unique))
            result.append((unique, tuple(members[start : start + _PER_PLOT])))
    return result


def log_series_labels(tags: tuple[str, ...]) -> list[str]:
    """Legend labels for another tool's plot: each tag, less what all of them share."""
    if len(tags) == 1:
        return [printable(tags[0], keep_newlines=False)]
    labels = []
    for tag in tags:
        group = _group_of(tag)
        label = tag
        if "/" in tag and group != tag:
            label = tag.replace(group, "", 1).strip("/") or tag
        labels.append(printable(label, keep_newlines=False))
    if len(set(labels)) != len(labels):  # never two series under one name
        return [printable(tag, keep_newlines=False) for tag in tags]
    return labels
