"""The experiment file the builder edits: comments kept, every edit undoable.

`ExperimentDocument` wraps a `tomlkit` document, so loading a file and saving
it without edits gives back the same bytes, and edits change only the lines
they touch. Each edit method is one undoable step. Saving is atomic and refuses
to overwrite a file someone else changed since it was read (`SaveConflict`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import tomlkit
from tomlkit.exceptions import ParseError

from dltui.builder.disk_stamp import DiskStamp
from dltui.builder.fields import REMOVE
from dltui.builder.history import EditHistory
from dltui.builder.new_layer import new_layer
from dltui.builder.settings import (
    EARLY_STOPPING_SWITCH,
    fields_dropped_by_source,
    options_dropped_by_choice,
)
from dltui.builder.toml_edit import (
    MISSING,
    get_path,
    is_array_of_tables,
    layer_table,
    new_list_of_tables,
    plain,
    remove_path,
    set_path,
    set_table_key,
)
from dltui.spec import Experiment, Problem, SpecError, parse_experiment

LayerLoc = tuple[int, ...]
"""Where a layer is in a stack: its index, then indices into nested ``layers`` lists."""

DiskState = Literal["unchanged", "changed", "deleted", "new"]


class DocumentError(Exception):
    """The document cannot be read or written; the message names the file."""


class SaveConflict(DocumentError):
    """The file on disk changed since the builder read it (or a save-as target exists)."""

    def __init__(self, path: Path, *, exists: bool = False):
        self.path = path
        self.exists = exists
        reason = "already exists" if exists else "changed on disk since it was loaded"
        super().__init__(f"{path}: {reason}")


class ExperimentDocument:
    """An editable experiment file. Not thread-safe: edit it from one thread."""

    def __init__(self, text: str, *, path: Path | None = None, history_limit: int = 200):
        self._doc = _parse(text, path)
        self.path = path
        """The file it was loaded from or last saved to; ``None`` for a new experiment."""
        self._saved_text = text
        self._stamp: DiskStamp | None = None
        self._history = EditHistory(history_limit)
        self.revision = 0
        """Increases with every change of the text (edits, undo, redo, reload)."""

    # ---- files -------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> ExperimentDocument:
        """Read the experiment file at ``path``; `DocumentError` if unreadable or not TOML."""
        path = Path(path)
        data = _read_bytes(path)
        document = cls(_decode(path, data), path=path)
        document._stamp = DiskStamp.of_bytes(path, data)
        return document

    @classmethod
    def from_template(cls, name: str) -> ExperimentDocument:
        """A new, unsaved experiment starting from the shipped template ``name``."""
        from dltui.builder.templates import template_text

        return cls(template_text(name))

    def text(self) -> str:
        """The document as TOML text (what `save` writes)."""
        return tomlkit.dumps(self._doc)

    def raw(self) -> dict[str, Any]:
        """The document as plain Python values."""
        return dict(self._doc.unwrap())

    @property
    def dirty(self) -> bool:
        """Whether the text differs from what was last loaded, saved or started from."""
        return self.text() != self._saved_text

    def validate(self) -> Experiment | list[Problem]:
        """The validated `Experiment`, or every problem with its field path."""
        try:
            return parse_experiment(self.text(), file=self.path)
        except SpecError as exc:
            return exc.problems

    def disk_state(self) -> DiskState:
        """How the file on disk compares with what this document last read or wrote."""
        if self.path is None:
            return "new"
        if not self.path.exists():
            return "deleted"
        if self._stamp is not None and self._stamp.matches(self.path):
            return "unchanged"
        return "changed"

    def save(self, path: str | Path | None = None, *, force: bool = False) -> Path:
        """Write the document atomically to ``path`` (default: where it came from).

        Raises `SaveConflict` when the file changed on disk since it was read,
        or when saving under a new name that already exists, unless ``force``.
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise DocumentError("this experiment has no file yet: give a name to save it")
        if not force:
            if target == self.path and self.disk_state() == "changed":
                raise SaveConflict(target)
            if target != self.path and target.exists():
                raise SaveConflict(target, exists=True)
        text = self.text()
        data = text.encode("utf-8")
        _atomic_write(target, data)
        self.path = target
        self._saved_text = text
        self._stamp = DiskStamp.of_bytes(target, data)
        return target

    def reload(self) -> None:
        """Replace the document by the file on disk; one undoable step."""
        if self.path is None:
            raise DocumentError("this experiment has no file to reload")
        data = _read_bytes(self.path)
        text = _decode(self.path, data)
        doc = _parse(text, self.path)
        with self._editing():
            self._doc = doc
        self._saved_text = text
        self._stamp = DiskStamp.of_bytes(self.path, data)

    # ---- undo ----------------------------------------------------------------

    @property
    def can_undo(self) -> bool:
        """Whether there is an edit to undo."""
        return self._history.can_undo

    @property
    def can_redo(self) -> bool:
        """Whether there is an undone edit to redo."""
        return self._history.can_redo

    def undo(self) -> bool:
        """Go back one edit; False when there is none."""
        text = self._history.undo(self.text())
        if text is None:
            return False
        self._doc = _parse(text, self.path)
        self.revision += 1
        return True

    def redo(self) -> bool:
        """Re-apply the last undone edit; False when there is none."""
        text = self._history.redo(self.text())
        if text is None:
            return False
        self._doc = _parse(text, self.path)
        self.revision += 1
        return True

    @contextmanager
    def _editing(self, group: str | None = None) -> Iterator[None]:
        """One undoable step (merged with the previous one of the same ``group``).

        A failed edit leaves the document as it was.
        """
        before = self.text()
        try:
            yield
        except BaseException:
            self._doc = _parse(before, self.path)
            raise
        if self.text() != before:
            self._history.record(before, group)
            self.revision += 1

    # ---- fields --------------------------------------------------------------

    def get_field(self, path: str) -> Any:
        """The value at dotted ``path`` (``training.optimizer.lr``), or `MISSING`."""
        return plain(get_path(self._doc, path.split(".")))

    def set_field(self, path: str, value: Any, *, group: str | None = None) -> None:
        """Set the field at dotted ``path``; `REMOVE` takes the key out.

        Choosing another data source, optimizer or schedule also removes the
        options the new choice does not take, which would otherwise make the
        file invalid. Successive edits with the same ``group`` undo as one.
        """
        parts = path.split(".")
        with self._editing(group):
            if path == EARLY_STOPPING_SWITCH:
                self._set_early_stopping(bool(value) and value is not REMOVE)
                return
            if value is REMOVE:
                remove_path(self._doc, parts)
                return
            if path == "data.source":
                data = self.get_field("data")
                if isinstance(data, dict):
                    for key in fields_dropped_by_source(data, str(value)):
                        if key != "source":
                            remove_path(self._doc, ["data", key])
            if path in ("training.optimizer.name", "training.schedule.name"):
                table = path.rsplit(".", 1)[0]
                current = self.get_field(table)
                if isinstance(current, dict):
                    for key in options_dropped_by_choice(table, current, str(value)):
                        remove_path(self._doc, [*table.split("."), key])
            set_path(self._doc, parts, value)

    def _set_early_stopping(self, enabled: bool) -> None:
        present = "early_stopping" in self._doc
        if enabled and not present:
            table = tomlkit.table()
            table["monitor"] = "val_loss"
            table["patience"] = 5
            self._doc["early_stopping"] = table
        elif not enabled and present:
            del self._doc["early_stopping"]

    # ---- layer stacks --------------------------------------------------------

    def stacks(self) -> tuple[str, ...]:
        """The stacks of the model: ``("layers",)``, or a GAN's two."""
        if self.get_field("model.kind") == "gan":
            return ("generator", "discriminator")
        return ("layers",)

    @staticmethod
    def layer_path(stack: str, loc: LayerLoc) -> str:
        """The field path of a layer, e.g. ``model.layers[2].layers[0]``."""
        text = f"model.{stack}"
        for depth, index in enumerate(loc):
            text += f"{'.layers' if depth else ''}[{index}]"
        return text

    def layers(self, stack: str = "layers") -> list[dict[str, Any]]:
        """The layers of ``stack`` as plain dicts (nested ``layers`` included)."""
        value = self.get_field(f"model.{stack}")
        return list(value) if isinstance(value, list) else []

    def flat_layers(self, stack: str = "layers") -> list[tuple[LayerLoc, dict[str, Any]]]:
        """Every layer depth-first, nested ones right after their parent."""
        out: list[tuple[LayerLoc, dict[str, Any]]] = []

        def walk(items: list[Any], prefix: LayerLoc) -> None:
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                out.append(((*prefix, index), item))
                nested = item.get("layers")
                if isinstance(nested, list):
                    walk(nested, (*prefix, index))

        walk(self.layers(stack), ())
        return out

    def layer(self, stack: str, loc: LayerLoc) -> dict[str, Any]:
        """One layer as a plain dict; `IndexError` naming the path when there is none."""
        container = self._container(stack, loc[:-1], create=False)
        if container is None or not 0 <= loc[-1] < len(container):
            raise IndexError(f"no layer at {self.layer_path(stack, loc)}")
        return dict(plain(container[loc[-1]]))

    def _container(self, stack: str, parent: LayerLoc, *, create: bool) -> Any:
        """The list holding the layers under ``parent`` (``()`` for the stack itself)."""
        if "model" not in self._doc:
            if not create:
                return None
            self._doc["model"] = tomlkit.table()
        model = self._doc["model"]
        if stack not in model:
            if not create:
                return None
            model[stack] = new_list_of_tables()
        container = model[stack]
        for depth, index in enumerate(parent):
            if not 0 <= index < len(container):
                raise IndexError(f"no layer at {self.layer_path(stack, parent[: depth + 1])}")
            holder = container[index]
            if "layers" not in holder:
                if not create:
                    return None
                holder["layers"] = new_list_of_tables() if is_array_of_tables(container) else []
            container = holder["layers"]
        return container

    def insert_layer(self, stack: str, loc: LayerLoc, kind: str) -> LayerLoc:
        """Insert a new ``kind`` layer at ``loc`` (its index may be the list's length)."""
        return self.insert_raw_layer(stack, loc, new_layer(kind))

    def insert_raw_layer(self, stack: str, loc: LayerLoc, raw: dict[str, Any]) -> LayerLoc:
        """Insert the layer ``raw`` (a dict with ``type``) at ``loc``."""
        with self._editing():
            container = self._container(stack, loc[:-1], create=True)
            index = max(0, min(loc[-1], len(container)))
            table = layer_table(raw, inline=not is_array_of_tables(container))
            container.insert(index, table)
        return (*loc[:-1], index)

    def delete_layer(self, stack: str, loc: LayerLoc) -> None:
        """Remove the layer at ``loc``."""
        self.layer(stack, loc)  # a clear IndexError for a wrong location
        with self._editing():
            container = self._container(stack, loc[:-1], create=False)
            del container[loc[-1]]

    def duplicate_layer(self, stack: str, loc: LayerLoc) -> LayerLoc:
        """Insert a copy of the layer at ``loc`` right after it; returns the copy's place."""
        raw = self.layer(stack, loc)
        return self.insert_raw_layer(stack, (*loc[:-1], loc[-1] + 1), raw)

    def move_layer(self, stack: str, loc: LayerLoc, delta: int) -> LayerLoc:
        """Move the layer ``delta`` places within its list; returns where it ended up."""
        self.layer(stack, loc)  # a clear IndexError for a wrong location
        container = self._container(stack, loc[:-1], create=False)
        target = max(0, min(loc[-1] + delta, len(container) - 1))
        if target == loc[-1]:
            return loc
        with self._editing():
            # Moving the tomlkit item itself keeps the layer's own comments with it.
            item = container[loc[-1]]
            del container[loc[-1]]
            container = self._container(stack, loc[:-1], create=False)
            container.insert(target, item)
        return (*loc[:-1], target)

    def set_layer_field(
        self, stack: str, loc: LayerLoc, name: str, value: Any, *, group: str | None = None
    ) -> None:
        """Set one field of the layer at ``loc``; `REMOVE` takes the key out.

        Successive edits with the same ``group`` undo as one step.
        """
        self.layer(stack, loc)
        with self._editing(group):
            container = self._container(stack, loc[:-1], create=False)
            table = container[loc[-1]]
            if value is REMOVE:
                if name in table:
                    del table[name]
            else:
                set_table_key(table, name, value)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(f"{path}: no such file") from None
    except OSError as exc:
        raise DocumentError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{path}: not UTF-8 text: {exc}") from None


def _parse(text: str, path: Path | None) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        where = f"{path}:{exc.line}" if path else f"line {exc.line}"
        raise DocumentError(f"{where}: not valid TOML: {exc}") from None


def _atomic_write(target: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename, so readers never see half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp makes the file private (0600); keep the old file's mode, or the usual 0644.
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = [
    "MISSING",
    "REMOVE",
    "DiskState",
    "DocumentError",
    "ExperimentDocument",
    "LayerLoc",
    "SaveConflict",
]
