"""Early stopping replays sequences of values against Keras' and Lightning's rules.

Expected stop/best epochs are derived by hand from the two libraries' code
(keras/src/callbacks/early_stopping.py, lightning/pytorch/callbacks/early_stopping.py);
each test says why. Our epochs are 1-based: Keras' epoch index i is our i + 1.
"""

from __future__ import annotations

import math

import pytest

from dltui.spec.early_stopping import EarlyStoppingSpec
from dltui.train.early_stopping import EarlyStopping


def replay(values: list[float], **options: object) -> tuple[EarlyStopping, int | None]:
    """Feed ``values`` for epochs 1, 2, ...; return the object and the epoch it stopped at."""
    es = EarlyStopping(EarlyStoppingSpec(**options))  # type: ignore[arg-type]
    for epoch, value in enumerate(values, start=1):
        if es.update(epoch, value).stop:
            return es, epoch
    return es, None


def test_patience_counts_checks_without_improvement() -> None:
    # Improvements at 1, 2; then 3 and 4 do not improve: wait 1, 2 -> 2 >= patience 2 stops at 4.
    es, stopped = replay([1.0, 0.9, 0.95, 0.91, 0.5], patience=2)
    assert stopped == 4
    assert es.best_epoch == 2 and es.best == 0.9
    assert es.reason is not None and "no improvement in 2 epochs" in es.reason


def test_patience_zero_stops_at_first_non_improvement() -> None:
    # Keras: wait becomes 1 >= 0 on the first non-improving epoch (index 1 > 0).
    _, stopped = replay([1.0, 1.0, 0.5], patience=0)
    assert stopped == 2


def test_equal_value_is_not_an_improvement() -> None:
    # Both libraries compare strictly (less / torch.lt).
    _, stopped = replay([1.0, 1.0, 1.0], patience=1)
    assert stopped == 2


def test_min_delta_min_mode() -> None:
    # Improvement needs value + 0.1 < best: 0.95 and 0.91 are within min_delta of 1.0.
    es, stopped = replay([1.0, 0.95, 0.91, 0.85], patience=2, min_delta=0.1)
    assert stopped == 3
    assert es.best_epoch == 1


def test_min_delta_max_mode() -> None:
    # Max mode: value - 0.05 > best. 0.82 is not > 0.8 + 0.05; 0.9 is.
    es, stopped = replay(
        [0.8, 0.82, 0.9, 0.91, 0.92], monitor="val/accuracy", patience=2, min_delta=0.05
    )
    assert es.mode == "max"
    assert es.best_epoch == 3
    assert stopped == 5


def test_auto_mode_from_name() -> None:
    assert EarlyStopping(EarlyStoppingSpec(monitor="val_acc")).mode == "max"
    assert EarlyStopping(EarlyStoppingSpec(monitor="val_loss")).mode == "min"
    assert EarlyStopping(EarlyStoppingSpec(monitor="val/mae")).mode == "min"


def test_baseline_never_beaten_stops_after_patience() -> None:
    # Keras: wait counts up every check and resets only when the value beats the baseline;
    # values improve the best (no stop on an improving check) but never beat 0.5.
    # Epoch 1: wait 1, improves best -> return. 2: wait 2 (0.95 improves) -> return.
    # 3: wait 3, 0.97 no improvement, 3 >= 3 -> stop.
    es, stopped = replay([1.0, 0.95, 0.97, 0.9], patience=3, baseline=0.5)
    assert stopped == 3
    assert es.best_epoch == 2
    assert es.reason is not None and "baseline" in es.reason


def test_baseline_beaten_resets_wait() -> None:
    # 0.4 beats baseline 0.5 at epoch 2: wait resets; then 2 non-improvements with patience 2.
    _, stopped = replay([0.6, 0.4, 0.45, 0.46, 0.47], patience=2, baseline=0.5)
    assert stopped == 4


def test_start_from_epoch_ignores_early_checks() -> None:
    # Keras: epochs with index < start_from_epoch (our epochs 1..2) are skipped entirely,
    # so the best starts at epoch 3's value even though epoch 1 was lower.
    es, stopped = replay([0.1, 0.2, 0.5, 0.6, 0.7], patience=2, start_from_epoch=2)
    assert es.best_epoch == 3 and es.best == 0.5
    assert stopped == 5


def test_check_finite_stops_on_nan() -> None:
    # Lightning: a non-finite value stops at once with check_finite (the default).
    es, stopped = replay([1.0, math.nan, 0.5], patience=10)
    assert stopped == 2
    assert es.reason is not None and "not finite" in es.reason
    assert es.best_epoch == 1


def test_check_finite_off_counts_nan_as_no_improvement() -> None:
    # Without check_finite a NaN compares false: just a non-improving check.
    _, stopped = replay([1.0, math.nan, math.nan], patience=2, check_finite=False)
    assert stopped == 3


def test_stopping_threshold() -> None:
    # Lightning: stop as soon as the value is strictly better than the threshold.
    es, stopped = replay([1.0, 0.5, 0.2, 0.1], patience=10, stopping_threshold=0.3)
    assert stopped == 3
    assert es.reason is not None and "stopping threshold" in es.reason
    # Our one deliberate addition: the value that met the goal is the best.
    assert es.best_epoch == 3


def test_stopping_threshold_is_strict() -> None:
    _, stopped = replay([1.0, 0.3, 0.3], patience=10, stopping_threshold=0.3)
    assert stopped is None


def test_divergence_threshold() -> None:
    # Lightning: monitor_op(-current, -threshold), i.e. current > threshold in min mode.
    es, stopped = replay([1.0, 2.0, 5.0, 6.0], patience=10, divergence_threshold=5.0)
    assert stopped == 4
    assert es.reason is not None and "divergence" in es.reason
    assert es.best_epoch == 1


def test_divergence_threshold_max_mode() -> None:
    _, stopped = replay(
        [0.9, 0.5, 0.3], monitor="val/accuracy", patience=10, divergence_threshold=0.4
    )
    assert stopped == 3


def test_decision_flags() -> None:
    es = EarlyStopping(EarlyStoppingSpec(patience=1, start_from_epoch=1))
    warmup = es.update(1, 1.0)
    assert not warmup.checked and not warmup.improved
    first = es.update(2, 2.0)
    assert first.checked and first.improved and first.keep_weights
    worse = es.update(3, 3.0)
    assert worse.stop and not worse.improved and worse.reason


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_state_dict_round_trip_gives_same_decisions(cut: int) -> None:
    values = [1.0, 0.8, 0.85, 0.9, 0.7, 0.75, 0.76, 0.77]
    options = {"patience": 3, "baseline": 0.95}
    _, straight = replay(values, **options)
    es = EarlyStopping(EarlyStoppingSpec(**options))  # type: ignore[arg-type]
    for epoch, value in enumerate(values[:cut], start=1):
        es.update(epoch, value)
    resumed = EarlyStopping(EarlyStoppingSpec(**options))  # type: ignore[arg-type]
    resumed.load_state_dict(es.state_dict())
    stopped = None
    for epoch, value in enumerate(values[cut:], start=cut + 1):
        if resumed.update(epoch, value).stop:
            stopped = epoch
            break
    assert stopped == straight == 8


def test_load_state_dict_rejects_other_monitor() -> None:
    es = EarlyStopping(EarlyStoppingSpec(monitor="val/loss"))
    other = EarlyStopping(EarlyStoppingSpec(monitor="val/accuracy"))
    with pytest.raises(ValueError, match="val/loss"):
        other.load_state_dict(es.state_dict())


def test_event_fields() -> None:
    es = EarlyStopping(EarlyStoppingSpec(patience=2, min_delta=0.01))
    decision = es.update(1, 0.5)
    fields = es.event_fields(1, decision)
    for key in (
        "epoch",
        "monitor",
        "value",
        "best",
        "best_epoch",
        "wait",
        "patience",
        "mode",
        "min_delta",
        "baseline",
        "stopping_threshold",
        "divergence_threshold",
        "stopped",
        "reason",
    ):
        assert key in fields
    assert fields["best"] == 0.5 and fields["stopped"] is False
