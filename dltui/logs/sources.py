"""The other tools whose logs dltui reads, and how each is named on screen.

``source`` is what `dltui.logs.discover.LogRun` and a listed run's
``RunInfo.source`` hold; the browser and `dltui ls` show its short ``mark``,
the run view its full ``name``. No imports: the run filter reads these.
"""

from __future__ import annotations

TENSORBOARD, LIGHTNING_CSV, KERAS_CSV = "tensorboard", "lightning-csv", "keras-csv"

LOGGING, IDLE = "logging", "idle"
"""The states of another tool's run: its files changed in the last minute, or not."""

SOURCE_MARKS = {TENSORBOARD: "tb", LIGHTNING_CSV: "csv", KERAS_CSV: "csv"}
"""The short mark of each source, beside the run's name in lists."""

SOURCE_NAMES = {
    TENSORBOARD: "TensorBoard",
    LIGHTNING_CSV: "Lightning's CSVLogger",
    KERAS_CSV: "Keras' CSVLogger",
}
"""Each source as a sentence names it ("not recorded by TensorBoard")."""


def source_mark(source: str) -> str:
    """``tb`` or ``csv`` (the source itself when unknown)."""
    return SOURCE_MARKS.get(source, source)


def source_name(source: str) -> str:
    """``TensorBoard``, ``Lightning's CSVLogger``, ``Keras' CSVLogger``."""
    return SOURCE_NAMES.get(source, source)


def source_words(source: str) -> str:
    """What the browser's filter matches such a run by: its mark and its source."""
    mark = source_mark(source)
    return f"{mark} {source}" if mark != source else source
