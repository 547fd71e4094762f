"""What the trainer records, and the one read-back of its per-step losses.

`Recorder` is rank 0's voice: scalars and events into the run directory, lines
for the person. On other ranks it has no writer and no progress, and says nothing.

`StepLog` keeps each step's losses on the device as tensors. At a log step, and
at the end of an epoch, `StepLog.read` brings them to the host in one transfer
(with the gradient norms, on a log step), records the interval's means, and
stops the run with `LossNotFinite` at the first loss that is not finite. The hot
loop so makes no host-device sync of its own for logging.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import torch

from dltui import run_format as rf
from dltui.runs.writer import RunWriter
from dltui.train.distributed import DistInfo, all_sum
from dltui.train.errors import LossNotFinite
from dltui.train.grad_norms import GradNorms, LayerGroups, layer_norms
from dltui.train.optim import LrSchedule
from dltui.train.progress import Progress


@dataclass(frozen=True)
class Recorder:
    """Records of one rank: everything goes through rank 0's writer and progress."""

    writer: RunWriter | None
    progress: Progress | None

    def say(self, text: str) -> None:
        """A line for the person."""
        if self.progress is not None:
            self.progress.message(text)

    def record(self, values: dict[str, float], step: int, epoch: float | None = None) -> None:
        """Scalars at ``step``."""
        if self.writer is not None:
            self.writer.scalars(values, step, epoch)

    def event(self, kind: str, **fields: Any) -> None:
        """An event."""
        if self.writer is not None:
            self.writer.event(kind, **fields)

    def best(self, monitor: str, value: float, epoch: int) -> None:
        """The run's best so far (status.json's ``best``)."""
        if self.writer is not None:
            self.writer.best(monitor, value, epoch)


class StepLog:
    """One epoch's per-step losses, read back in one transfer per log step.

    Each step appends one tensor to `pending`: its loss, or one value per name
    of ``names`` (a GAN's ``d_loss``, ``g_loss``, ``d_real``, ``d_fake``). The
    epoch loop holds `pending` itself; `read` empties it in place.
    """

    def __init__(
        self,
        recorder: Recorder,
        names: tuple[str, ...],
        groups: LayerGroups,
        schedule: LrSchedule,
        *,
        device: torch.device,
        dist: DistInfo,
    ) -> None:
        """A log of the losses ``names`` (recorded as ``train/<name>``); ``schedule`` gives
        the learning rate recorded with them, ``groups`` the gradient norms' layers."""
        self.recorder = recorder
        self.names = names
        self.groups = groups
        self.schedule = schedule
        self.device = device
        self.dist = dist
        self.pending: list[torch.Tensor] = []
        self.values: list[float] = []
        """The epoch's losses read so far, on the host: ``names`` for each step in turn."""
        self.since = time.perf_counter()
        self._tags = [rf.tag("train", name) for name in names]
        self._norm_tags = [rf.grad_norm_tag(label) for label in groups.labels]

    def start_epoch(self) -> None:
        """Forget the previous epoch; its throughput interval starts now."""
        self.pending.clear()
        self.values = []
        self.since = time.perf_counter()

    def read(
        self,
        step: int,
        epoch: float,
        *,
        log: bool = False,
        samples: int = 0,
        norms: GradNorms | None = None,
    ) -> None:
        """Bring the pending losses (and ``norms``) to the host in one transfer.

        ``step`` is the step of the latest pending loss. On a log step (``log``)
        the interval's means are recorded with the learning rate, the throughput
        of its ``samples``, device memory and the gradient norms. Raises
        `LossNotFinite` for the first loss that is NaN or infinite (after
        recording it: the curve shows where it went).
        """
        losses = torch.stack(self.pending).float().reshape(-1)
        if norms is not None:
            host = torch.cat([losses, norms.norms]).cpu().tolist()
        else:
            host = losses.cpu().tolist()
        per = len(self.names)
        steps = len(self.pending)
        read = host[: steps * per]
        if log:
            self._record(step, epoch, read, samples, norms, host[steps * per :])
        bad = next((j for j, v in enumerate(read) if not math.isfinite(v)), None)
        if bad is not None:
            at = step - steps + bad // per + 1
            which = f" ({self.names[bad % per]})" if per > 1 else ""
            raise LossNotFinite(f"loss{which} became {read[bad]} at step {at}")
        self.values.extend(read)
        self.pending.clear()

    def _record(
        self,
        step: int,
        epoch: float,
        losses: list[float],
        samples: int,
        norms: GradNorms | None,
        norm_values: list[float],
    ) -> None:
        now = time.perf_counter()
        per = len(self.names)
        values: dict[str, float] = {}
        for i, tag in enumerate(self._tags):
            series = losses[i::per]
            values[tag] = sum(series) / len(series)
        values[rf.LR] = self.schedule.current
        values[rf.THROUGHPUT] = samples * self.dist.world_size / max(now - self.since, 1e-9)
        if self.device.type == "cuda":
            values[rf.MEMORY_ALLOCATED] = float(torch.cuda.memory_allocated(self.device))
            values[rf.MEMORY_RESERVED] = float(torch.cuda.memory_reserved(self.device))
        if norms is not None:
            per_layer, total = layer_norms(self.groups, norms.present, norm_values)
            for tag, norm in zip(self._norm_tags, per_layer, strict=True):
                values[tag] = norm if norm is not None else 0.0
            values[rf.GRAD_NORM_TOTAL] = total
        self.recorder.record(values, step, epoch)
        progress = self.recorder.progress
        if progress is not None and progress.live:
            shown = zip(self.names, self._tags, strict=True)
            progress.set_status("  ".join(f"{name} {values[tag]:.4g}" for name, tag in shown))
        self.since = now

    def epoch_means(self) -> dict[str, float]:
        """Each loss's mean over the epoch, over every rank: ``train/<name>`` -> mean."""
        per = len(self.names)
        values = self.values
        sums = [sum(values[j::per]) for j in range(per)]
        if not self.dist.enabled:
            count = max(1.0, float(len(values) // per))
            return {tag: sums[j] / count for j, tag in enumerate(self._tags)}
        counted = torch.tensor(
            [*sums, float(len(values) // per)], dtype=torch.float64, device=self.device
        )
        totals = all_sum(counted, self.dist).tolist()
        return {tag: totals[j] / max(1.0, totals[-1]) for j, tag in enumerate(self._tags)}
