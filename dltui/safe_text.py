"""Text from files, made safe to show in a terminal.

Experiment descriptions, run output, a status's reason, theme and keymap files
and other tools' logs are written by someone else. Shown raw, an escape sequence
in them sets the terminal's title or clears the screen. `printable` makes every
control character visible instead (``ESC`` as ``␛``, the rest as their Unicode
control pictures), keeping only newlines and tabs. Markup escaping is the TUI's
concern (`dltui.tui.text`); this module is for every place that prints text.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, and the C1 controls (U+0080-U+009F, which
# some terminals also obey: U+009B is a one-character CSI).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidirectional overrides and isolates can reorder what a line appears to say.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟ (U+241B ␛ for ESC)
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\\x{code:02x}"


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with control characters shown as symbols, never obeyed by a terminal.

    Newlines and tabs stay unless ``keep_newlines`` is false (then a newline is
    shown as ``⏎``, for one-line places such as a table cell). A carriage return
    is shown, not obeyed: callers that emulate a terminal's ``\\r`` do it first.
    """
    if not keep_newlines:
        text = text.replace("\r\n", "\n").replace("\n", "\u23ce")
    if _CONTROL.search(text):
        text = _CONTROL.sub(_picture, text)
    if _BIDI.search(text):
        text = _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text
