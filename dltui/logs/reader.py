"""Another tool's run, read through the same surface as `dltui.runs.RunReader`.

The dashboard's views ask a run for its meta, status, events, series and output.
`LogRunReader` answers those for a TensorBoard folder or a CSV log:

- ``meta``: the run's name and experiment as the browser shows them, its source
  (``tensorboard``, ``lightning-csv``, ``keras-csv``), and ``config``: the
  hyper-parameters the tool logged (TensorBoard's hparams, Lightning's
  hparams.yaml), so compare's "fields that differ" works;
- ``status``: ``logging`` while its files changed in the last minute, ``idle``
  after; never ``alive`` (dltui cannot stop or resume another tool's run);
- ``events``: none — such a run records no epochs, early stopping or gradient
  norms, and the views say "not recorded";
- the output: TensorBoard's text summaries, one block per summary.

It never writes into the log.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from dltui.logs.csv_log import CsvLog, read_hparams_yaml
from dltui.logs.discover import LogRun
from dltui.logs.sources import IDLE, LIGHTNING_CSV, LOGGING, TENSORBOARD
from dltui.logs.tensorboard import TensorBoardLog
from dltui.runs.reader import ReadOffsets, RunChanges
from dltui.runs.series import Series
from dltui.runs.status import RunStatus

LIVE_WITHIN = 60.0
"""Seconds since a log file last changed within which the run counts as still logging."""


class LogRunReader:
    """A `LogRun` (TensorBoard folder, Lightning or Keras CSV) read like a dltui run."""

    def __init__(self, run: LogRun) -> None:
        """Read what the run's files hold now."""
        self.run = run
        self.run_dir = run.path
        self.bad_lines = 0
        self.problems: list[str] = []
        self._output_seen = 0
        self._tensorboard: TensorBoardLog | None = None
        self._csv: CsvLog | None = None
        if run.source == TENSORBOARD:
            self._tensorboard = TensorBoardLog(run.path)
        else:
            path = run.path / "metrics.csv" if run.source == LIGHTNING_CSV else run.path
            self._csv = CsvLog(path)
        self._meta = self._make_meta()

    # ------------------------------------------------------------------ reading

    def poll(self) -> RunChanges:
        """Read what the tool appended since the last poll."""
        changes = RunChanges()
        if self._tensorboard is not None:
            found = self._tensorboard.poll()
            changes.tags, changes.new_tags, changes.points = (
                found.tags,
                found.new_tags,
                found.points,
            )
            changes.output = bool(found.text)
            changes.meta = found.hparams
            changes.reset = found.purged
            changes.bad_lines = found.bad_records
            self.bad_lines = self._tensorboard.bad_records
        elif self._csv is not None:
            found_csv = self._csv.poll()
            changes.tags, changes.points, changes.reset = (
                found_csv.tags,
                found_csv.points,
                found_csv.reset,
            )
            changes.bad_lines = found_csv.bad_lines
            self.bad_lines = self._csv.bad_lines
        if changes.meta:
            self._meta = self._make_meta()
        return changes

    def _make_meta(self) -> dict[str, Any]:
        run = self.run
        config: dict[str, Any] = {}
        created: float | None = None
        if self._tensorboard is not None:
            config = dict(self._tensorboard.hparams)
            created = self._tensorboard.first_wall_time
        elif run.source == LIGHTNING_CSV:
            config = read_hparams_yaml(run.path / "hparams.yaml")
        if created is None:
            created = _mtime(run.path)
        return {
            "format": 1,
            "run_id": run.run,
            "experiment": run.experiment,
            "created": created,
            "host": None,
            "pid": None,
            "source": str(run.path),
            "tool": run.source,
            "device": None,
            "config": config,
        }

    # ------------------------------------------------------------------ the run surface

    @property
    def offsets(self) -> ReadOffsets:
        """Kept for the run surface: other tools' logs have no dltui offsets."""
        return ReadOffsets(0, 0, 0)

    @property
    def meta(self) -> dict[str, Any]:
        """A meta.json-like description (see the module docstring)."""
        return self._meta

    @property
    def status(self) -> RunStatus:
        """``logging`` while the files change, else ``idle``; never alive."""
        modified = self._modified()
        now = time.time()
        live = modified is not None and now - modified <= LIVE_WITHIN
        state = LOGGING if live else IDLE
        step = self._last_step()
        return RunStatus(
            status=state,
            state=state,
            reason=None,
            heartbeat=modified,
            pid=None,
            host=None,
            step=step,
            epoch=None,
            alive=False,
        )

    @property
    def events(self) -> list[dict[str, Any]]:
        """Another tool's run records no dltui events."""
        return []

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        """None of any kind (see `events`)."""
        return []

    def latest(self, kind: str) -> dict[str, Any] | None:
        """None (see `events`)."""
        return None

    def kinds(self) -> list[str]:
        """No event kinds."""
        return []

    def tags(self) -> list[str]:
        """Every scalar tag the tool logged."""
        if self._tensorboard is not None:
            return self._tensorboard.tags()
        return self._csv.tags() if self._csv is not None else []

    def series(self, tag: str) -> Series:
        """The points of ``tag``."""
        if self._tensorboard is not None:
            return self._tensorboard.series(tag)
        return self._csv.series(tag) if self._csv is not None else Series(tag, capacity=1)

    def files(self) -> list[Path]:
        """The files the run is read from: its event files in reading order, or its CSV."""
        if self._tensorboard is not None:
            return [Path(name) for name in self._tensorboard.event_files()]
        return [self._csv.path] if self._csv is not None else []

    @property
    def present(self) -> dict[str, str]:
        """What the log holds besides scalars: tag -> histogram, image, audio, ..."""
        return dict(self._tensorboard.other) if self._tensorboard is not None else {}

    # ------------------------------------------------------------------ output

    def _text_lines(self, entries: list[Any]) -> list[str]:
        lines: list[str] = []
        for entry in entries:
            lines.append(f"[step {entry.step}] {entry.tag}:")
            lines.extend(f"  {line}" for line in entry.text.split("\n"))
        return lines

    def output_tail(self, max_lines: int = 200) -> list[str]:
        """The last ``max_lines`` lines of the text summaries."""
        if self._tensorboard is None or max_lines <= 0:
            return []
        return self._text_lines(self._tensorboard.text)[-max_lines:]

    def read_output(self, max_bytes: int = 1 << 20) -> list[str]:
        """The text summaries logged since the last call."""
        if self._tensorboard is None:
            return []
        entries = self._tensorboard.text
        if self._output_seen > len(entries):
            self._output_seen = 0
        new = entries[self._output_seen :]
        self._output_seen = len(entries)
        return self._text_lines(new)

    # ------------------------------------------------------------------ helpers

    def _modified(self) -> float | None:
        if self._tensorboard is not None:
            return self._tensorboard.modified
        if self._csv is not None:
            return _mtime(self._csv.path)
        return None

    def _last_step(self) -> int | None:
        # The furthest step of any scalar: a text or histogram logged late at an early
        # step must not make the run look as if it went back.
        steps = [int(self.series(t).step[-1]) for t in self.tags() if len(self.series(t))]
        return max(steps) if steps else None


def _mtime(path: Path) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None
