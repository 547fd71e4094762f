"""Names that become folder names: experiment names and run ids.

An experiment's name is the folder its runs go in (``runs/<name>/<run-id>/``),
and ``--name`` the run's own folder. The schema (so `dltui check` and the
builder), the trainer's command line and the run writer all ask `name_problem`,
so a name `check` accepts is one `run` can use. This module imports nothing.
"""

from __future__ import annotations

import re

MAX_NAME_LENGTH = 128
"""Longest name, in characters (filesystems allow 255 bytes; a run path must stay readable)."""

# Control characters (C0, DEL, C1), line and paragraph separators, the
# bidirectional overrides that make a listed name read differently from what it
# is, and lone surrogates (undecodable bytes of a command-line argument).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def name_problem(value: object) -> str | None:
    """Why ``value`` cannot be a folder name, or None when it can.

    The reason never quotes the name (the caller names the field); it says
    what is wrong and what is allowed.
    """
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if not value.strip():
        return "must not be empty"
    if value != value.strip():
        return "must not start or end with a space"
    if "/" in value or "\\" in value:
        return "must not contain '/' or '\\' (it names one folder)"
    if value.startswith("."):
        return "must not start with '.' (a hidden folder, or '..')"
    if _UNSAFE.search(value):
        return (
            "must not contain control characters (newline, tab, NUL, escape), "
            "direction marks or undecodable bytes"
        )
    if len(value) > MAX_NAME_LENGTH:
        return f"must be at most {MAX_NAME_LENGTH} characters, not {len(value)}"
    if len(value.encode("utf-8")) > 255:
        return "must be at most 255 bytes in UTF-8"
    return None
