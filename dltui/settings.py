"""The user's settings file: ``$XDG_CONFIG_HOME/dltui/settings.toml``.

It holds what a person would otherwise type on every start. Today that is
``logdirs``, the folders of other tools' logs (TensorBoard, CSV) the dashboard
and `dltui ls|plot|export` show beside dltui's own runs::

    logdirs = ["~/tb_logs", "/scratch/lightning_logs"]

Relative folders are taken from the settings file's folder, ``~`` is expanded.
A file that cannot be read gives `Settings.problems` (each names the file, the
line and the key) and the defaults: a bad settings file never stops dltui.
Domain code: no Textual.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dltui.bounded import FileLimitError, read_text_limited
from dltui.safe_text import printable
from dltui.toml_syntax import TomlError, parse_toml

SETTINGS_FILE = "settings.toml"
KNOWN_KEYS = ("logdirs",)
MAX_LOGDIRS = 64


@dataclass
class Settings:
    """What the settings file says (the defaults where it says nothing or is bad)."""

    path: Path | None = None
    """The file read (None: there was none)."""
    logdirs: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """One line per problem, naming the file, the line and the key."""


def config_path(name: str, environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/dltui/NAME``, or ``~/.config/dltui/NAME``: where dltui's own
    files live (settings, keymap).

    A relative ``XDG_CONFIG_HOME`` is ignored, as the XDG base-directory spec says.
    """
    env = os.environ if environ is None else environ
    config = env.get("XDG_CONFIG_HOME", "")
    base = Path(config) if config and Path(config).is_absolute() else Path.home() / ".config"
    return base / "dltui" / name


def settings_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/dltui/settings.toml``, or ``~/.config/dltui/settings.toml``."""
    return config_path(SETTINGS_FILE, environ)


def _line_of(text: str, key: str) -> int | None:
    """The first line that sets ``key`` at the top of the file (for messages)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith("["):
            return None  # past the top-level keys
        name = line.split("=", 1)[0].strip().strip("\"'")
        if "=" in line and name == key:
            return number
    return None


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read the settings file at ``path`` (default: `settings_path`); absent is fine."""
    file = Path(path) if path is not None else settings_path()
    shown = printable(str(file), keep_newlines=False)
    settings = Settings()
    if not file.exists() and not file.is_symlink():
        return settings
    settings.path = file
    try:
        text = read_text_limited(file)
        table = parse_toml(text, source=str(file))
    except FileLimitError as exc:
        settings.problems.append(printable(str(exc), keep_newlines=False))
        return settings
    except TomlError as exc:
        settings.problems.append(printable(f"{shown}: {exc}", keep_newlines=False))
        return settings
    except (OSError, UnicodeDecodeError) as exc:
        settings.problems.append(f"{shown}: cannot be read ({exc})")
        return settings
    for key in table:
        if key not in KNOWN_KEYS:
            line = _line_of(text, key)
            where = f"line {line}: " if line else ""
            settings.problems.append(
                printable(
                    f"{shown}: {where}unknown key {key!r} (known: {', '.join(KNOWN_KEYS)})",
                    keep_newlines=False,
                )
            )
    if "logdirs" in table:
        settings.logdirs = _logdirs(table["logdirs"], file, text, settings.problems)
    return settings


def _logdirs(value: object, file: Path, text: str, problems: list[str]) -> list[Path]:
    line = _line_of(text, "logdirs")
    where = f"{printable(str(file), keep_newlines=False)}: " + (f"line {line}: " if line else "")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(f"{where}logdirs: expected a list of folder names (strings)")
        return []
    if len(value) > MAX_LOGDIRS:
        problems.append(f"{where}logdirs: {len(value)} folders; the first {MAX_LOGDIRS} are used")
        value = value[:MAX_LOGDIRS]
    folders: list[Path] = []
    for item in value:
        if not item.strip():
            problems.append(f"{where}logdirs: an empty folder name")
            continue
        folder = Path(item).expanduser()
        if not folder.is_absolute():
            folder = file.parent / folder
        if folder not in folders:
            folders.append(folder)
    return folders


def merged_logdirs(given: list[str] | None, settings: Settings) -> list[Path]:
    """``--logdir`` folders first, then the settings file's, each once."""
    folders = [Path(item).expanduser() for item in given or []]
    for folder in settings.logdirs:
        if folder not in folders:
            folders.append(folder)
    return folders
