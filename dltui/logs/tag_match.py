"""Which tags of runs written by different tools are one metric, so a comparison overlays them.

dltui writes the training loss as ``train/loss``, torch's TensorBoard tutorial as
``Loss/train``, Lightning as ``train_loss_step`` (and ``train_loss_epoch``), Keras
as ``loss``. Each tag is read as a (split, metric) pair — the split spelled first
or last, with ``/`` or ``_``, an unsplit tag counting as training (as Keras
means it) — and tags of different runs with the same pair are the same curve.
Within one run two tags are never merged: where a run has two tags of one pair,
that pair is compared by exact names only. No Textual, no numpy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "eval": "val",
    "test": "test",
}
_PREFIX = re.compile(r"^(train|training|val|valid|validation|eval|test)_(.+)$", re.IGNORECASE)
_METRIC_NAMES = {"acc": "accuracy"}


def metric_key(tag: str) -> tuple[str, str]:
    """(split, metric) of a tag, however its tool spelled it: ``Loss/train`` -> (train, loss)."""
    split = ""
    metric = tag
    if "/" in tag:
        first, _, rest = tag.partition("/")
        head, _, last = tag.rpartition("/")
        if first.lower() in _SPLIT_NAMES and rest:
            split, metric = _SPLIT_NAMES[first.lower()], rest
        elif last.lower() in _SPLIT_NAMES and head:
            split, metric = _SPLIT_NAMES[last.lower()], head
    else:
        match = _PREFIX.match(tag)
        if match:
            split, metric = _SPLIT_NAMES[match.group(1).lower()], match.group(2)
    metric = metric.lower()
    if "/" not in tag:
        # Lightning's per-step twin is the curve; its _epoch twin stays its own metric.
        metric = metric.removesuffix("_step") or metric
    metric = _METRIC_NAMES.get(metric, metric)
    return split or "train", metric


@dataclass(frozen=True)
class SharedMetric:
    """One metric across runs: the name to show, and each run's tag of it (None: absent)."""

    name: str
    tags: tuple[str | None, ...]

    @property
    def all_tags(self) -> set[str]:
        """The tags of it in any run."""
        return {tag for tag in self.tags if tag is not None}


def shared_metrics(tag_lists: Sequence[Sequence[str]]) -> list[SharedMetric]:
    """Every metric of the runs, each with the tag every run has it under.

    The name shown is the tag as most runs spell it (ties: the first run's).
    Tags of a pair that one run has twice are kept apart, by exact name.
    Order: first appearance.
    """
    clashing: set[tuple[str, str]] = set()
    for tags in tag_lists:
        keys = [metric_key(tag) for tag in set(tags)]
        clashing |= {key for key in keys if keys.count(key) > 1}
    groups: dict[object, list[str | None]] = {}
    for index, tags in enumerate(tag_lists):
        for tag in tags:
            key: object = metric_key(tag)
            if key in clashing:
                key = ("exact", tag)
            slots = groups.setdefault(key, [None] * len(tag_lists))
            if slots[index] is None:
                slots[index] = tag
    result = []
    for slots in groups.values():
        spelled = [tag for tag in slots if tag is not None]
        name = max(spelled, key=lambda tag: (spelled.count(tag), -spelled.index(tag)))
        result.append(SharedMetric(name, tuple(slots)))
    return result


def own_tag(tag: str, run_tags: Sequence[str]) -> str | None:
    """The run's tag of the metric ``tag`` names: ``tag`` itself, else its one tag with the
    same (split, metric), else None (none, or two: which one is meant is not known)."""
    if tag in run_tags:
        return tag
    key = metric_key(tag)
    matches = [own for own in run_tags if metric_key(own) == key]
    return matches[0] if len(matches) == 1 else None
