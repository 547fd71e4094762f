"""The training loop of `dltui run`: one flat loop, data on the device, records on log steps.

Read top to bottom: set-up (`dltui.train.setup`: device, seeds, data, model,
optimizers) -> schedules and monitors -> resume -> the epoch loop (train,
validate, record, early stopping, checkpoints) -> the final test on the best
weights. What an epoch does depends on what trains (`Supervised` or `Gan`,
each in its own module); the loop treats both alike. The hot loop does no
host-device sync for logging: per-step losses stay on the device and are read,
with the gradient norms, in one transfer every ``log_every`` steps
(`dltui.train.records.StepLog`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from dltui import run_format as rf
from dltui.runs.control import stop_reason, stop_requested
from dltui.runs.writer import RunWriter
from dltui.spec import Experiment
from dltui.spec.early_stopping import auto_mode
from dltui.train.checkpoint import CheckpointPolicy, capture_rng, load_checkpoint, restore_rng
from dltui.train.distributed import DistInfo, any_true
from dltui.train.early_stopping import Decision, EarlyStopping
from dltui.train.errors import LossNotFinite
from dltui.train.optim import LrSchedule, build_schedules
from dltui.train.progress import Progress
from dltui.train.records import Recorder, StepLog
from dltui.train.setup import Setup, check_monitors, prepare
from dltui.train.signals import StopSignal

STOP_POLL_INTERVAL = 0.2
"""Seconds between looks for the stop file (on log steps only)."""


@dataclass
class Outcome:
    """How a run ended: ``state`` is finished, stopped or failed."""

    state: str
    reason: str | None = None
    early_stopped: bool = False
    traceback: str | None = None


class Trainer:
    """Trains one experiment; rank 0 records through ``writer``. Call `setup`, then `fit`."""

    env: Setup
    """Device, data, model and optimizers: made by `setup`."""
    schedules: dict[str, LrSchedule]
    """The learning-rate schedule of each optimizer, by the optimizer's name."""
    step_log: StepLog
    monitor: str | None
    """The tag that picks the best weights (early stopping's, else ``val/loss``)."""
    monitor_mode: str

    def __init__(
        self,
        experiment: Experiment,
        *,
        writer: RunWriter | None,
        progress: Progress | None,
        device: torch.device,
        epochs: int,
        runs_root: Path,
        stop: StopSignal,
        dist_info: DistInfo | None = None,
        resume_from: Path | None = None,
        experiment_text: str = "",
    ) -> None:
        self.exp = experiment
        self.train_spec = experiment.training
        self.recorder = Recorder(writer, progress)
        self.device = device
        self.epochs = epochs
        self.runs_root = runs_root
        self.stop = stop
        self.dist = dist_info or DistInfo()
        self.resume_from = resume_from
        self.experiment_text = experiment_text
        self.run_dir = writer.run_dir if writer is not None else None
        self.step = 0
        self.epoch = 0  # 0-based index of the epoch being trained
        self.step_in_epoch = 0
        self.best_value = math.nan
        self.best_epoch: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.perm_state: torch.Tensor | None = None
        self.early_stopping: EarlyStopping | None = None
        self.agreed_stop = False
        self.checkpoints = CheckpointPolicy(
            writer, enabled=self.train_spec.checkpoint, state=self.checkpoint_state
        )
        self._stop_checked = 0.0  # monotonic() of the latest look for a stop file

    # ------------------------------------------------------------------ set-up

    def setup(self) -> None:
        """Seeds, data, model, optimizers; schedules, early stopping, monitors; then resume."""
        exp, spec = self.exp, self.train_spec
        self.env = env = prepare(
            exp,
            device=self.device,
            dist=self.dist,
            recorder=self.recorder,
            runs_root=self.runs_root,
            resuming=self.resume_from is not None,
        )
        part = env.part
        self.schedules = build_schedules(
            spec, part.optimizers, epochs=self.epochs, steps_per_epoch=env.steps_per_epoch
        )
        first_schedule = next(iter(self.schedules.values()))
        self.step_log = StepLog(
            self.recorder,
            part.step_names,
            part.groups,
            first_schedule,
            device=env.device,
            dist=self.dist,
        )
        has_val = len(env.splits.val) > 0
        es_spec = exp.early_stopping
        if es_spec is not None:
            self.early_stopping = EarlyStopping(es_spec)
            self.monitor, self.monitor_mode = es_spec.monitor, es_spec.resolved_mode
        else:
            self.monitor = rf.VAL_LOSS if has_val else None
            self.monitor_mode = auto_mode(self.monitor or rf.LOSS)
        monitors = []
        if self.early_stopping is not None:
            monitors.append(("early_stopping.monitor", self.early_stopping.monitor))
        if spec.schedule.name == "plateau":
            monitors.append(("training.schedule.monitor", first_schedule.monitor))
        check_monitors(part.per_epoch_tags(has_val), monitors)
        if self.resume_from is not None:
            self._resume(self.resume_from)

    # ------------------------------------------------------------------ checkpoints

    def checkpoint_state(self, mid_epoch: bool) -> dict[str, Any]:
        """Everything needed to continue exactly where the run is now."""
        part = self.env.part
        generators = capture_rng(self.env.generators)
        if mid_epoch and self.perm_state is not None:
            # The permutation is redrawn from the epoch's start on resume.
            generators["generators"]["perm"] = self.perm_state
        return {
            "model": part.raw_model.state_dict(),
            "optimizer": {k: o.state_dict() for k, o in part.optimizers.items()},
            "schedule": {k: s.state_dict() for k, s in self.schedules.items()},
            "scaler": self.env.scaler.state_dict() if self.env.scaler is not None else {},
            "early_stopping": self.early_stopping.state_dict() if self.early_stopping else {},
            "best": {
                "monitor": self.monitor or "",
                "value": self.best_value,
                "epoch": -1 if self.best_epoch is None else self.best_epoch,
            },
            "epoch": self.epoch,
            "epochs_target": self.epochs,
            "step_in_epoch": self.step_in_epoch if mid_epoch else 0,
            "step": self.step,
            "rng": generators,
            "experiment": self.experiment_text,
            "labels": list(part.groups.labels),
        }

    def _resume(self, path: Path) -> None:
        """Put back everything `checkpoint_state` wrote into ``path``."""
        part, env = self.env.part, self.env
        state = load_checkpoint(path, map_location=env.device, follow_links=False)
        part.raw_model.load_state_dict(state["model"])
        for key, opt in part.optimizers.items():
            opt.load_state_dict(state["optimizer"][key])
        for key, sched in self.schedules.items():
            sched.load_state_dict(state["schedule"][key])
        if env.scaler is not None and state.get("scaler"):
            env.scaler.load_state_dict(state["scaler"])
        if self.early_stopping is not None and state.get("early_stopping"):
            self.early_stopping.load_state_dict(state["early_stopping"])
        best = state.get("best", {})
        self.best_value = float(best.get("value", math.nan))
        self.best_epoch = None if int(best.get("epoch", -1)) < 0 else int(best["epoch"])
        self.epoch = int(state["epoch"])
        self.step_in_epoch = int(state["step_in_epoch"])
        self.step = int(state["step"])
        restore_rng(state["rng"], env.generators)
        best_path = path.parent / rf.BEST_CHECKPOINT
        if best_path.is_file() and best_path != path:
            self.best_state = {
                k: v.to(env.device)
                for k, v in load_checkpoint(best_path, follow_links=False)["model"].items()
            }
        say = self.recorder.say
        if state.get("experiment") and state["experiment"] != self.experiment_text:
            say("note: the experiment file changed since this checkpoint was written")
        say(f"resumed from {path}: epoch {self.epoch + 1}, step {self.step}")
        self.recorder.event(
            "resumed", checkpoint=str(path), epoch=self.epoch, step=self.step, epochs=self.epochs
        )

    # ------------------------------------------------------------------ the loop

    def fit(self) -> Outcome:
        """Train every epoch, then test the best weights. Returns how the run ended."""
        spec, part, recorder = self.train_spec, self.env.part, self.recorder
        progress = recorder.progress
        stepped = {rf.tag("train", name) for name in part.step_names}
        twins = {rf.epoch_tag(tag) for tag in stepped}
        outcome = Outcome(rf.FINISHED)
        # epoch_time is the period between one epoch's results and the next's
        # (the first: since training started), so it also counts the previous
        # epoch's checkpoint writes and samples: what a person waits per epoch,
        # and what the dashboard's ETA multiplies.
        started = time.perf_counter()
        while self.epoch < self.epochs:
            epoch = self.epoch
            if progress is not None:
                progress.start_epoch(epoch + 1, self.env.steps_per_epoch)
            try:
                values = part.train_epoch(self)
            except LossNotFinite as error:
                return Outcome(rf.FAILED, str(error))
            self.poll_stop()
            if self.should_stop():
                self.checkpoints.save(rf.LAST_CHECKPOINT, mid_epoch=True)
                return Outcome(rf.STOPPED, self.stop.reason)
            values.update(part.evaluate(self, "val"))
            now = time.perf_counter()
            elapsed, started = now - started, now
            lr = next(iter(self.schedules.values())).current
            # Step-logged tags (train/loss, train/g_loss ...) get an _epoch twin per epoch;
            # an epoch's values may hold the twin already (for its event).
            per_epoch = {
                (rf.epoch_tag(k) if k in stepped else k): v
                for k, v in values.items()
                if k not in twins
            }
            per_epoch[rf.EPOCH_TIME] = elapsed
            if self.step % spec.log_every:
                # Not when the epoch ended on a log step: that step recorded lr already.
                per_epoch[rf.LR] = lr
            recorder.record(per_epoch, self.step, epoch=epoch + 1)
            recorder.event(
                "epoch", epoch=epoch + 1, step=self.step, time_s=elapsed, lr=lr, **values
            )
            recorder.say(self._epoch_line(epoch + 1, values, elapsed))
            part.after_epoch(self, epoch + 1)
            for sched in self.schedules.values():
                sched.end_epoch(epoch, values)
            improved, decision = self._check_best(epoch + 1, values)
            self._report_best()
            self.epoch += 1
            self.step_in_epoch = 0
            self.checkpoints.end_of_epoch(improved)
            if decision is not None and decision.stop:
                outcome = Outcome(
                    rf.FINISHED, f"early stopping: {decision.reason}", early_stopped=True
                )
                recorder.say(f"early stopping after epoch {epoch + 1}: {decision.reason}")
                break
        self.checkpoints.end_of_training()
        self._finish()
        return outcome

    def _epoch_line(self, epoch: int, values: dict[str, float], elapsed: float) -> str:
        parts = [f"epoch {epoch}/{self.epochs}"]
        parts += [f"{k} {v:.4g}" for k, v in values.items() if not k.endswith(rf.EPOCH_SUFFIX)]
        parts.append(f"{elapsed:.1f}s")
        return "  ".join(parts)

    def _report_best(self) -> None:
        """Tell the run's best so far (early stopping's, else the monitored loss's)."""
        stopping = self.early_stopping
        if stopping is not None:
            if stopping.best_epoch is not None and math.isfinite(stopping.best):
                self.recorder.best(stopping.monitor, stopping.best, stopping.best_epoch)
        elif self.monitor is not None and self.best_epoch is not None:
            self.recorder.best(self.monitor, self.best_value, self.best_epoch)

    def _check_best(self, epoch: int, values: dict[str, float]) -> tuple[bool, Decision | None]:
        """Early stopping's check (if any), and whether this epoch is the best so far."""
        decision = None
        if self.early_stopping is not None:
            decision = self.early_stopping.update(epoch, values[self.early_stopping.monitor])
            fields = self.early_stopping.event_fields(epoch, decision)
            # The step says which resume supersedes it (docs/run-format.md).
            self.recorder.event("early_stopping", step=self.step, **fields)
            improved = decision.keep_weights
        elif self.monitor is not None:
            value = values[self.monitor]
            best = self.best_value
            improved = math.isfinite(value) and (
                math.isnan(best) or (value < best if self.monitor_mode == "min" else value > best)
            )
        else:
            improved = False
        if improved:
            self.best_value = values[self.monitor] if self.monitor else math.nan
            self.best_epoch = epoch
            # On the device: no sync, and the test reads it back without a file.
            self.best_state = {
                k: v.detach().clone() for k, v in self.env.part.raw_model.state_dict().items()
            }
        return improved, decision

    def _finish(self) -> None:
        """Restore the best weights when asked, then the final test on the best weights."""
        es, splits, part = self.exp.early_stopping, self.env.splits, self.env.part
        recorder = self.recorder
        if self.best_state is not None and (
            es is None or es.restore_best_weights or len(splits.test)
        ):
            part.raw_model.load_state_dict(self.best_state)
            if es is not None and es.restore_best_weights:
                recorder.say(f"restored the best weights (epoch {self.best_epoch})")
                recorder.event("restore_best_weights", epoch=self.best_epoch)
        results = part.evaluate(self, "test")
        if not results:
            return
        which = f"best (epoch {self.best_epoch})" if self.best_state is not None else "last"
        recorder.record(results, self.step, epoch=float(self.epoch))
        recorder.event("test", weights=which, epoch=self.best_epoch, **results)
        weights = (
            f"the best weights (epoch {self.best_epoch})"
            if self.best_state is not None
            else "the last weights"
        )
        values = "  ".join(f"{k} {v:.4g}" for k, v in results.items())
        recorder.say(f"test on {weights}: {values}")
        matrix = part.take_confusion()
        if matrix is not None:
            self._confusion_event(matrix, which)

    def _confusion_event(self, matrix: list[list[int]], which: str) -> None:
        """The final test's confusion matrix and per-class scores (docs/run-format.md)."""
        from dltui.report.confusion import MAX_RECORDED_CLASSES, confusion_fields

        if len(matrix) > MAX_RECORDED_CLASSES:
            self.recorder.say(
                f"confusion matrix not recorded: {len(matrix)} classes "
                f"(at most {MAX_RECORDED_CLASSES})"
            )
            return
        names = self.env.info.class_names
        if names is None or len(names) != len(matrix):
            names = [str(i) for i in range(len(matrix))]
        fields = confusion_fields(matrix, names)
        epoch = self.best_epoch
        self.recorder.event("confusion", split="test", weights=which, epoch=epoch, **fields)

    # ------------------------------------------------------------------ inside an epoch

    def epoch_order(self, n: int) -> torch.Tensor | None:
        """This rank's sample order for the epoch (a seeded permutation on the device)."""
        gen = self.env.generators["perm"]
        self.perm_state = gen.get_state()
        world = self.dist.world_size
        if self.exp.data.shuffle:
            order = torch.randperm(n, generator=gen, device=self.device)
        else:
            order = torch.arange(n, device=self.device)
        if world > 1:
            # Every rank must take the same number of steps or DDP would hang.
            order = order[: (n // world) * world][self.dist.rank :: world]
        return order

    def poll_stop(self) -> None:
        """The stop file (on log steps, at most every 0.2 s) and, under DDP, any rank's request."""
        now = time.monotonic()
        # A stat costs tens of microseconds on some filesystems: once per log step was
        # half a percent of a small model's training time.
        if (
            self.run_dir is not None
            and not self.stop.requested
            and now >= self._stop_checked + STOP_POLL_INTERVAL
        ):
            self._stop_checked = now
            if stop_requested(self.run_dir):
                reason = stop_reason(self.run_dir) or "stop requested"
                self.stop.request(reason)
                self.recorder.say(f"{reason}: stopping after this step")
        # Ranks only stop together, at a log step, or the others would hang.
        if self.dist.enabled and any_true(self.stop.requested, self.dist, self.device):
            self.stop.request(self.stop.reason or "stop requested on another rank")
            self.agreed_stop = True

    def should_stop(self) -> bool:
        """Whether to leave the epoch after this step."""
        return self.agreed_stop if self.dist.enabled else self.stop.requested
