"""A FIFO for tests, and a way to call code that might block on it without hanging the suite.

Opening a FIFO for reading blocks until a writer comes; code that does so by
mistake would hang a test forever. `returns_within` runs the call on a thread
and, when it has not returned in time, opens the FIFO for writing (which lets
the blocked ``open`` go on) and fails the test.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def make_fifo(path: Path) -> Path:
    """A named pipe at ``path``."""
    os.mkfifo(path)
    return path


def returns_within(call: Callable[[], T], fifo: Path, seconds: float = 10.0) -> T:
    """``call()``'s result; the test fails (instead of hanging) if it blocks on ``fifo``."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as error:  # handed to the test's thread below
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # unblocks the reader
        os.close(fd)
        thread.join(5)
        pytest.fail(f"blocked for {seconds} s opening the FIFO {fifo}")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
