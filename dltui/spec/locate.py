"""Find the line of a field in TOML text, so errors can say `file.toml:12`.

`tomllib` gives no positions, so this scans the text the way a reader would:
table headers set a prefix (array-of-tables headers count their occurrences),
and ``key = value`` lines add ``prefix.key``. Inline tables and arrays map to
the line of their key. It is best effort: a field not found falls back to its
nearest located parent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_PART = r"(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+)"
_KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")

PathParts = tuple[str | int, ...]


def _split_dotted(key: str) -> list[str]:
    parts = re.findall(r"\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+", key)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def line_index(text: str) -> dict[PathParts, int]:
    """Map each table and key path in ``text`` to its 1-based line number."""
    index: dict[PathParts, int] = {}
    counts: dict[PathParts, int] = {}
    prefix: PathParts = ()
    in_multiline: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if in_multiline in line:
                in_multiline = None
            continue
        header = _HEADER.match(line)
        if header:
            names = _split_dotted(header.group(2))
            # Resolve earlier array-of-tables segments to their latest index.
            resolved: list[str | int] = []
            for name in names[:-1]:
                resolved.append(name)
                table = tuple(resolved)
                if table in counts:
                    resolved.append(counts[table])
            resolved.append(names[-1])
            base = tuple(resolved)
            if header.group(1) == "[[":
                counts[base] = counts.get(base, -1) + 1
                prefix = (*base, counts[base])
                index.setdefault(base, lineno)
            else:
                prefix = base
            index[prefix] = lineno
            continue
        assignment = _KEY.match(line)
        if assignment:
            path = (*prefix, *_split_dotted(assignment.group(1)))
            index.setdefault(path, lineno)
            rest = line[assignment.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_multiline = quote
    return index


def find_line(index: dict[PathParts, int], path: Sequence[str | int]) -> int | None:
    """Line of ``path``, or of its nearest ancestor that has one."""
    parts = tuple(path)
    while parts:
        if parts in index:
            return index[parts]
        parts = parts[:-1]
    return None
