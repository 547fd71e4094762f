"""Read an experiment file into an `Experiment`, or report every problem at once.

Nothing in the file is executed: it is parsed with `tomllib` and validated
against the pydantic models. The file is read within `dltui.bounded`'s limits
(a regular file of at most 4 MiB, nested at most 64 levels). The only exception
this module raises for bad input is `SpecError`, and each of its problems names
the file.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from dltui.bounded import FileLimitError, read_text_limited
from dltui.names import name_problem
from dltui.spec.errors import Problem, SpecError, did_you_mean, format_path, shown
from dltui.spec.experiment import Experiment
from dltui.spec.locate import find_line, line_index
from dltui.toml_syntax import TomlError, parse_toml

_TAG_FIELDS = ("type", "source", "kind")

MAX_PROBLEMS = 50
"""Most problems reported for one file; the rest are counted."""


def load_experiment(path: str | Path, *, check_files: bool = True) -> Experiment:
    """Load and validate the experiment file at ``path``."""
    path = Path(path)
    return parse_experiment(read_experiment_text(path), file=path, check_files=check_files)


def read_experiment_text(path: str | Path) -> str:
    """The text of the experiment file ``path``, read within limits.

    A missing file, a folder, a FIFO or device, a file over 4 MiB or one that
    is not UTF-8 is a `SpecError` naming the file (and the line, for bad UTF-8).
    """
    name = str(path)
    try:
        return read_text_limited(path)
    except FileLimitError as exc:
        detail = str(exc).removeprefix(f"{name}: ")
        match = re.match(r"line (\d+): ", detail)
        line = int(match.group(1)) if match else None
        reason = detail[match.end() :] if match else detail
        raise SpecError([Problem("", reason, file=name, line=line)]) from None


def parse_experiment(
    text: str,
    *,
    file: str | Path | None = None,
    check_files: bool = True,
    base_dir: str | Path | None = None,
) -> Experiment:
    """Validate TOML ``text``; relative paths resolve against ``base_dir``, by default
    ``file``'s folder (``file`` also names the text in error messages)."""
    file_path = Path(file) if file is not None else None
    name = str(file_path) if file_path is not None else None
    try:
        raw = parse_toml(text, source=name or "<text>")
    except TomlError as exc:
        raise SpecError([Problem("", exc.reason, file=name, line=exc.line)]) from None
    if base_dir is None:
        base_dir = file_path.parent if file_path is not None else Path.cwd()
    experiment = validate_experiment(
        raw, base_dir=base_dir, check_files=check_files, text=text, file=name
    )
    if experiment.name is None and file_path is not None:
        # The run folder is then named after the file: `check` must refuse what `run` would.
        why = name_problem(file_path.stem)
        if why is not None:
            problem = Problem(
                "name",
                f"the file name {file_path.stem!r} cannot name the run folder: it {why}; "
                'set name = "..." in the file',
            )
            raise SpecError([problem.located(name, None)])
    experiment._file = file_path
    return experiment


def validate_experiment(
    raw: dict[str, Any],
    *,
    base_dir: str | Path,
    check_files: bool = True,
    text: str | None = None,
    file: str | None = None,
) -> Experiment:
    """Validate the parsed TOML table ``raw``; ``text``, the file it was read from, gives
    the problems their lines, ``file`` names it in them.

    A sweep checks each value it may set through here: on the table, with no TOML
    written and read again (tomlkit takes minutes to write a file's 20,000-item array).
    """
    context = {"base_dir": Path(base_dir), "skip_file_checks": not check_files}
    try:
        return Experiment.model_validate(raw, context=context)
    except ValidationError as exc:
        index = line_index(text) if text is not None else {}
        problems = []
        errors = exc.errors(include_url=False)
        # Every problem at once, but a file of 50,000 unknown keys gets a report a
        # person can read (and that takes no seconds to make).
        for error in errors[:MAX_PROBLEMS]:
            loc = _strip_tags(raw, tuple(error["loc"]))
            problem = _problem(error, loc, tuple(error["loc"]))
            problems.append(problem.located(file, find_line(index, loc)))
        problems = _dedupe(problems)
        if len(errors) > MAX_PROBLEMS:
            more = f"... and {len(errors) - MAX_PROBLEMS:,} more problems"
            problems.append(Problem("", more, file=file))
        raise SpecError(problems) from None


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out


def _strip_tags(raw: Any, loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Drop the union tags pydantic puts in ``loc`` (``layers.3.dense.out``)."""
    out: list[str | int] = []
    current = raw
    for part in loc:
        if isinstance(current, dict):
            if part in current:
                out.append(part)
                current = current[part]
                continue
            if any(current.get(tag) == part for tag in _TAG_FIELDS) or part == "sequential":
                continue
            out.append(part)
            current = None
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            out.append(part)
            current = current[part]
        else:
            if isinstance(part, (str, int)) and not (
                isinstance(part, str) and part in ("function-after", "function-before")
            ):
                out.append(part)
            current = None
    return tuple(out)


def _problem(error: Any, loc: tuple[str | int, ...], raw_loc: tuple[Any, ...]) -> Problem:
    kind = error["type"]
    msg: str = error["msg"]
    ctx = error.get("ctx") or {}
    path = format_path(loc)
    given = error.get("input")
    if kind == "missing":
        return Problem(path, "required, but missing")
    if kind == "extra_forbidden":
        key = shown(str(loc[-1]), quotes=False) if loc else "?"
        known = _fields_at(raw_loc[:-1])
        hint = did_you_mean(key, known) if known else None
        expected = f"; expected one of: {', '.join(sorted(known))}" if known and not hint else ""
        return Problem(path, f"unknown key `{key}`{expected}", hint=hint)
    if kind == "union_tag_invalid":
        tag = ctx.get("discriminator", "").strip("'")
        choices = re.findall(r"'([^']+)'", ctx.get("expected_tags", ""))
        what = {"type": "layer type", "source": "data source", "kind": "model kind"}.get(tag, tag)
        hint = did_you_mean(str(ctx.get("tag")), choices)
        sub = format_path((*loc, tag))
        return Problem(
            sub, f"unknown {what} {shown(ctx.get('tag'))}; known: {', '.join(choices)}", hint=hint
        )
    if kind == "union_tag_not_found":
        tag = ctx.get("discriminator", "").strip("'")
        return Problem(format_path((*loc, tag)), f"required, but missing (`{tag} = ...`)")
    if kind == "literal_error":
        choices = re.findall(r"'([^']+)'", str(ctx.get("expected", "")))
        hint = did_you_mean(str(given), choices) if isinstance(given, str) else None
        return Problem(path, f"expected one of {', '.join(choices)}; got {shown(given)}", hint=hint)
    if kind in ("value_error", "assertion_error"):
        text = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return Problem(path, text)
    if isinstance(given, (dict, list)) or given is None:
        return Problem(path, _lower_first(msg))
    return Problem(path, f"{_lower_first(msg)}; got {shown(given)}")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _fields_at(loc: tuple[Any, ...]) -> set[str]:
    """Field names of the model at ``loc`` (a pydantic loc, tags included)."""
    candidates: list[Any] = [Experiment]
    for part in loc:
        following: list[Any] = []
        for cand in _flatten(candidates):
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                if isinstance(part, str) and part in cand.model_fields:
                    following.append(cand.model_fields[part].annotation)
                elif isinstance(part, str) and part in _tags_of(cand):
                    following.append(cand)
            elif typing.get_origin(cand) in (list, tuple) and isinstance(part, int):
                following.extend(typing.get_args(cand)[:1])
        candidates = following
    fields: set[str] = set()
    for cand in _flatten(candidates):
        if isinstance(cand, type) and issubclass(cand, BaseModel):
            fields |= set(cand.model_fields)
    return fields


def _flatten(annotations: list[Any]) -> list[Any]:
    out: list[Any] = []
    for ann in annotations:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            out.extend(_flatten([typing.get_args(ann)[0]]))
        elif origin in (typing.Union, types.UnionType):
            out.extend(_flatten(list(typing.get_args(ann))))
        else:
            out.append(ann)
    return out


def _tags_of(cls: type[BaseModel]) -> tuple[str, ...]:
    for tag in _TAG_FIELDS:
        field = cls.model_fields.get(tag)
        if field is not None:
            return tuple(a for a in typing.get_args(field.annotation) if isinstance(a, str))
    return ()
