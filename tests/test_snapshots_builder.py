"""Snapshots of the builder: a valid stack, and one whose pooling window does not fit."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from test_builder_screen import BuilderApp
from textual.pilot import Pilot

SIZE = (110, 36)


async def _settled(pilot: Pilot[Any]) -> None:
    screen = pilot.app.builder  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    await pilot.pause()
    # The shapes, and dltui check's verdict, which a worker posts back after them.
    while screen.shapes_pending or screen.workers or screen.verdict_problems is None:
        assert time.monotonic() < deadline, "shapes or verdict never arrived"
        await pilot.pause(0.05)
    await pilot.pause()


def test_builder_valid_stack(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(
        BuilderApp(tmp_path, template="cnn"), terminal_size=SIZE, run_before=_settled
    )


def test_builder_invalid_stack(snap_compare: Any, tmp_path: Path) -> None:
    async def break_the_kernel(pilot: Pilot[Any]) -> None:
        await _settled(pilot)
        # maxpool2d over a 8x8 map with a 9x9 window
        await pilot.press("down", "down", "e", "ctrl+u", "9", "escape")
        await _settled(pilot)

    assert snap_compare(
        BuilderApp(tmp_path, template="cnn"), terminal_size=SIZE, run_before=break_the_kernel
    )
