"""The system sampler: a run of a few seconds still records the machine it ran on."""

from __future__ import annotations

import time

from dltui import run_format as rf
from dltui.train.system import SystemSampler


def test_a_short_run_has_a_first_and_a_last_reading() -> None:
    readings: list[dict[str, float]] = []
    sampler = SystemSampler(readings.append, interval=60.0)  # the interval never comes
    sampler.start()
    deadline = time.monotonic() + 10
    while not readings and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(readings) == 1  # the first reading half a second in, not after 60 s
    sampler.stop()
    assert len(readings) == 2  # and the last one as the run ends
    assert all(rf.SYSTEM_CPU in reading for reading in readings)


def test_a_closed_writer_ends_the_sampler_quietly() -> None:
    def closed(values: dict[str, float]) -> None:
        raise ValueError("the writer is closed")

    sampler = SystemSampler(closed, interval=0.05)
    sampler.start()
    sampler.join(timeout=10)  # the first failed reading ends the thread
    assert not sampler.is_alive()
    sampler.stop()  # nothing raised
