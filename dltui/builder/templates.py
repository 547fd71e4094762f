"""The experiment templates shipped in ``dltui/templates/``: a start for a new experiment.

Each template is a complete, commented experiment file on a built-in data set;
its first comment line is the description shown when picking one.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

_PACKAGE = "dltui.templates"


class UnknownTemplate(KeyError):
    """No template has this name; the message lists those that exist."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown template"


def _files() -> dict[str, Traversable]:
    folder = resources.files(_PACKAGE)
    return {
        entry.name.removesuffix(".toml"): entry
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


def _description(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            return stripped.lstrip("#").strip()
        if stripped:
            break
    return ""


# Simplest first: the order people meet these models in a course.
_ORDER = ("perceptron", "mlp", "cnn", "residual", "lstm", "gru", "transformer", "gan")


def templates() -> list[tuple[str, str]]:
    """``(name, description)`` of every template, simplest first."""
    files = _files()
    names = sorted(files, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))
    return [(name, _description(files[name].read_text(encoding="utf-8"))) for name in names]


def template_text(name: str) -> str:
    """The text of template ``name``; `UnknownTemplate` lists the known ones."""
    files = _files()
    if name not in files:
        raise UnknownTemplate(f"no template {name!r}; known: {', '.join(sorted(files))}")
    return files[name].read_text(encoding="utf-8")
