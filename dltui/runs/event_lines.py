"""What a line of events.jsonl is: an event, or why it is not one; and what a resume drops.

Lines are parsed a batch at a time (one JSON parse of the whole batch is about
twice as fast as line by line); a batch with a bad line is parsed again line by
line, so each line gets its own verdict. A resume that continues from step
``s`` supersedes the events written before it that say they happened after
``s``, except the run's history (declarations, status, logs, resumes).
"""

from __future__ import annotations

from typing import Any

from dltui.bounded import FileLimitError, loads_json
from dltui.run_format import EVENTS
from dltui.runs.lines import TOO_LONG

KEPT_ON_RESUME = frozenset({"tag", "status", "log", "resume", "resumed"})
"""Event kinds a resume never supersedes: declarations and the run's history."""

NOT_AN_EVENT = "not a JSON object with a 'kind'"


def parse_lines(lines: list[bytes]) -> list[dict[str, Any] | str]:
    """Parse JSON lines: each an event, or why it is not one (a JSON object with a str kind)."""
    if not lines:
        return []
    try:
        # No depth scan here (the hot path); the parser's own recursion limit becomes
        # a ValueError.
        parsed = loads_json(b"[" + b",".join(lines) + b"]", source=EVENTS, max_depth=None)
        if len(parsed) == len(lines):
            return [_valid(event) for event in parsed]
    except ValueError:
        pass
    result: list[dict[str, Any] | str] = []
    for line in lines:
        if line is TOO_LONG:
            result.append("too long")
            continue
        try:
            result.append(_valid(loads_json(line, source=EVENTS, max_depth=None)))
        except FileLimitError:
            result.append("nested too deeply")
        except ValueError:
            result.append(NOT_AN_EVENT)
    return result


def _valid(event: Any) -> dict[str, Any] | str:
    if isinstance(event, dict) and isinstance(event.get("kind"), str):
        return event
    return NOT_AN_EVENT


def int_or_none(value: Any) -> int | None:
    """``value`` if it is an int (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def superseded(event: dict[str, Any], step: int) -> bool:
    """Whether a resume continuing from ``step`` supersedes ``event`` (written before it)."""
    if event["kind"] in KEPT_ON_RESUME:
        return False
    at = int_or_none(event.get("step"))
    return at is not None and at > step
