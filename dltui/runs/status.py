"""A run's latest state, with liveness: a writer that died is recognised."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from dltui.run_format import ACTIVE_STATUSES, DEAD, STARTING, UNKNOWN
from dltui.runs.control import is_pid_alive, this_host
from dltui.runs.layout import number_or_none
from dltui.safe_text import printable

_MAX_REASON = 2000

HEARTBEAT_TIMEOUT = 15.0
"""Seconds without a heartbeat after which a starting/running run counts as dead."""


@dataclass(frozen=True, slots=True)
class RunStatus:
    """What status.json says, plus ``state``: the status as it really is now.

    ``state`` is ``status``, except that a run still ``starting``/``running``
    whose writer is gone is ``dead``: its heartbeat is older than
    :data:`HEARTBEAT_TIMEOUT`, or it was written on this host by a process
    that no longer exists. ``alive`` is True while the writer is still at work
    (state ``starting`` or ``running``). ``status`` is ``"unknown"`` when there
    is no status file at all. Text from the file (``status``, ``reason``,
    ``host``) comes with control characters made visible, never as escapes.
    """

    status: str
    state: str
    reason: str | None
    heartbeat: float | None
    pid: int | None
    host: str | None
    step: int | None
    epoch: float | None
    alive: bool

    @property
    def age(self) -> float | None:
        """Seconds since the last heartbeat, or None without one."""
        return None if self.heartbeat is None else max(0.0, time.time() - self.heartbeat)


def run_status(
    status: dict[str, Any] | None, meta: dict[str, Any] | None = None, now: float | None = None
) -> RunStatus:
    """Build a :class:`RunStatus` from parsed status.json (and meta.json as fallback).

    Without a status file a run that has meta.json counts as ``starting`` since
    its creation time, so it turns ``dead`` if nothing follows within the timeout.
    """
    now = time.time() if now is None else now
    meta = meta or {}
    if status is None:
        raw: dict[str, Any] = {
            "status": STARTING if meta else UNKNOWN,
            "heartbeat": meta.get("created"),
            "pid": meta.get("pid"),
            "host": meta.get("host"),
        }
    else:
        raw = status
    state_name = raw.get("status")
    state_name = _text(state_name, 40, one_line=True) or UNKNOWN
    heartbeat = number_or_none(raw.get("heartbeat"))
    pid = raw.get("pid")
    pid = pid if isinstance(pid, int) and not isinstance(pid, bool) else None
    host = _text(raw.get("host"), 200, one_line=True)
    step = raw.get("step")
    step = step if isinstance(step, int) and not isinstance(step, bool) else None
    reason = _text(raw.get("reason"), _MAX_REASON, one_line=False)

    state = state_name
    if state_name in ACTIVE_STATUSES:
        if heartbeat is None or now - heartbeat > HEARTBEAT_TIMEOUT:
            state = DEAD
            reason = reason or _silence(heartbeat, now)
        elif host == this_host() and pid is not None and not is_pid_alive(pid):
            state = DEAD
            reason = reason or f"the writer process (pid {pid}) is gone"
    return RunStatus(
        status=state_name,
        state=state,
        reason=reason,
        heartbeat=heartbeat,
        pid=pid,
        host=host,
        step=step,
        epoch=number_or_none(raw.get("epoch")),
        alive=state in ACTIVE_STATUSES,
    )


def _text(value: Any, limit: int, *, one_line: bool) -> str | None:
    """A string field of the file as safe text, at most ``limit`` characters."""
    if not isinstance(value, str):
        return None
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return printable(value, keep_newlines=not one_line)


def _silence(heartbeat: float | None, now: float) -> str:
    if heartbeat is None:
        return "the writer never sent a heartbeat"
    return f"no heartbeat for {now - heartbeat:.0f} s"
