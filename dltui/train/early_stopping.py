"""Early stopping: a small object with state, the union of Keras' and Lightning's rules.

Per check (one per epoch, after validation), in this order:

1. ``epoch <= start_from_epoch``: ignored entirely (Keras' warm-up; our epochs
   are 1-based, Keras' 0-based ``epoch < start_from_epoch`` is the same set).
2. ``check_finite`` and the value is NaN/inf: stop (Lightning).
3. ``stopping_threshold`` reached (strictly better than it): stop (Lightning).
4. ``divergence_threshold`` passed (strictly worse than it): stop (Lightning).
5. Improvement means ``value - min_delta < best`` in min mode and
   ``value + min_delta > best`` in max mode, with ``best`` starting at ±inf
   (both libraries). Keras counts ``wait`` up on every check and resets it only
   when the value also improves on ``baseline``; an improving check never stops.
6. Otherwise the check stops when ``wait >= patience`` (both libraries).

Without a baseline, Keras' and Lightning's patience counting agree, so this is
exactly each library for the options it has. One deliberate difference from
Lightning: when the stopping threshold is reached by an improving value, that
value also becomes the best (Lightning leaves ``best_score`` alone), so the
best checkpoint and ``restore_best_weights`` pick the epoch that met the goal.

This module imports no torch; values are plain floats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from dltui.spec.early_stopping import EarlyStoppingSpec


@dataclass(frozen=True)
class Decision:
    """The outcome of one check.

    ``checked`` is False while the check is in its warm-up (``start_from_epoch``).
    ``improved`` means the value became the new best; ``keep_weights`` says the
    current weights should be kept as the best ones (improved, or the first
    check when no value has been kept yet, as Keras does for
    ``restore_best_weights``). ``reason`` is set when ``stop`` is.
    """

    stop: bool
    improved: bool
    keep_weights: bool
    checked: bool
    reason: str | None = None


class EarlyStopping:
    """Stop training when the monitored value stops improving.

    Feed it one value per epoch with `update`; it answers with a `Decision`.
    ``state_dict``/``load_state_dict`` carry its state across a resume.
    """

    def __init__(self, spec: EarlyStoppingSpec) -> None:
        self.spec = spec
        self.monitor = spec.monitor
        self.mode: Literal["min", "max"] = spec.resolved_mode
        self.min_delta = abs(spec.min_delta)
        self.patience = spec.patience
        self.baseline = spec.baseline
        self.start_from_epoch = spec.start_from_epoch
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.reason: str | None = None
        self.last_value: float | None = None

    # The comparisons of both libraries: strict, with min_delta in the
    # direction that makes improvement harder.
    def _better(self, value: float, reference: float, delta: float = 0.0) -> bool:
        if self.mode == "min":
            return value + delta < reference
        return value - delta > reference

    def _is_improvement(self, value: float, reference: float) -> bool:
        return self._better(value, reference, self.min_delta)

    def update(self, epoch: int, value: float) -> Decision:
        """Record the monitored ``value`` after the 1-based ``epoch``; decide whether to stop."""
        value = float(value)
        self.last_value = value
        if epoch <= self.start_from_epoch:
            return Decision(stop=False, improved=False, keep_weights=False, checked=False)
        first = self.best_epoch is None
        spec = self.spec
        order = "<" if self.mode == "min" else ">"
        if spec.check_finite and not math.isfinite(value):
            return self._stop(
                epoch,
                f"{self.monitor} = {value} is not finite (best was {self._fmt_best()})",
                improved=False,
                first=first,
            )
        if spec.stopping_threshold is not None and self._better(value, spec.stopping_threshold):
            improved = self._is_improvement(value, self.best)
            if improved:
                self._improve(epoch, value)
            return self._stop(
                epoch,
                f"stopping threshold reached: {self.monitor} = {value:.6g} "
                f"{order} {spec.stopping_threshold:g}",
                improved=improved,
                first=first,
            )
        if spec.divergence_threshold is not None and self._better(spec.divergence_threshold, value):
            worse = ">" if self.mode == "min" else "<"
            return self._stop(
                epoch,
                f"divergence threshold passed: {self.monitor} = {value:.6g} "
                f"{worse} {spec.divergence_threshold:g}",
                improved=False,
                first=first,
            )
        # Keras counts every check, then resets on an improvement that also
        # beats the baseline; without a baseline this is Lightning's counting.
        self.wait += 1
        if self._is_improvement(value, self.best):
            self._improve(epoch, value)
            if self.baseline is None or self._is_improvement(value, self.baseline):
                self.wait = 0
            return Decision(stop=False, improved=True, keep_weights=True, checked=True)
        if self.wait >= self.patience and epoch > 1:
            if self.baseline is not None and not self._is_improvement(self.best, self.baseline):
                why = f"no improvement over baseline {self.baseline:g} in {self.wait} epochs"
            else:
                why = f"no improvement in {self.wait} epochs"
            return self._stop(
                epoch,
                f"{why} (patience {self.patience}); best {self.monitor} = {self._fmt_best()} "
                f"at epoch {self.best_epoch}",
                improved=False,
                first=first,
            )
        if first:
            # Keras keeps the first checked epoch's weights even when they are
            # not an improvement (a NaN with check_finite off).
            self.best_epoch = epoch
        return Decision(stop=False, improved=False, keep_weights=first, checked=True)

    def _improve(self, epoch: int, value: float) -> None:
        self.best = value
        self.best_epoch = epoch

    def _stop(self, epoch: int, reason: str, *, improved: bool, first: bool) -> Decision:
        self.stopped_epoch = epoch
        self.reason = reason
        if first and self.best_epoch is None:
            self.best_epoch = epoch
        return Decision(
            stop=True,
            improved=improved,
            keep_weights=improved or first,
            checked=True,
            reason=reason,
        )

    def _fmt_best(self) -> str:
        return f"{self.best:.6g}" if math.isfinite(self.best) else "none yet"

    def event_fields(self, epoch: int, decision: Decision) -> dict[str, Any]:
        """The fields of the ``early_stopping`` event recorded after each check."""
        spec = self.spec
        return {
            "epoch": epoch,
            "monitor": self.monitor,
            "value": self.last_value,
            "best": self.best if math.isfinite(self.best) else None,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "patience": self.patience,
            "mode": self.mode,
            "min_delta": self.min_delta,
            "baseline": self.baseline,
            "start_from_epoch": self.start_from_epoch,
            "stopping_threshold": spec.stopping_threshold,
            "divergence_threshold": spec.divergence_threshold,
            "checked": decision.checked,
            "improved": decision.improved,
            "stopped": decision.stop,
            "reason": decision.reason,
        }

    def state_dict(self) -> dict[str, Any]:
        """Plain data (floats, ints, strings) for a checkpoint."""
        return {
            "monitor": self.monitor,
            "mode": self.mode,
            "best": self.best,
            "best_epoch": -1 if self.best_epoch is None else self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": -1 if self.stopped_epoch is None else self.stopped_epoch,
            "reason": self.reason or "",
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` saved; the monitor and mode must be the same."""
        if state.get("monitor") != self.monitor or state.get("mode") != self.mode:
            raise ValueError(
                f"early-stopping state is for {state.get('monitor')} ({state.get('mode')}), "
                f"not {self.monitor} ({self.mode})"
            )
        self.best = float(state["best"])
        self.best_epoch = None if int(state["best_epoch"]) < 0 else int(state["best_epoch"])
        self.wait = int(state["wait"])
        self.stopped_epoch = (
            None if int(state["stopped_epoch"]) < 0 else int(state["stopped_epoch"])
        )
        self.reason = state.get("reason") or None
