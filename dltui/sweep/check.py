"""A ``[sweep]`` table checked against its experiment, as `dltui check` reports problems.

Each parameter's path must name a field the experiment may set, and every value
the sweep can give it — both ends of a range, every choice — must be one the
field accepts: each is set on the parsed file and the result validated exactly
like a file a person wrote. The objective must be a metric the run records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dltui.spec.errors import Problem, SpecError
from dltui.spec.locate import find_line, line_index
from dltui.spec.overrides import PathError, parse_path, with_values
from dltui.spec.sweep import SweepSpec


def _location(index: dict[Any, int], path: str) -> int | None:
    return find_line(index, ("sweep", "params", path))


def _rejection(candidate: dict[str, Any], base_dir: Path, check_files: bool) -> Problem | None:
    """The first problem of the experiment ``candidate``, worded as for a file."""
    from dltui.spec.load import validate_experiment

    try:
        validate_experiment(candidate, base_dir=base_dir, check_files=check_files)
    except SpecError as error:
        return error.problems[0] if error.problems else Problem("", "not valid")
    return None


def sweep_problems(
    raw: dict[str, Any],
    spec: SweepSpec,
    *,
    text: str,
    file: str | None,
    base_dir: Path,
    check_files: bool = True,
) -> list[Problem]:
    """Problems with ``spec`` (the validated ``[sweep]`` of the parsed file ``raw``)."""
    index = line_index(text)
    problems: list[Problem] = []
    base = {k: v for k, v in raw.items() if k != "sweep"}
    for path, dist in spec.params.items():
        where = f"sweep.params.{path}"
        line = _location(index, path)
        try:
            parts = parse_path(path)
        except PathError as error:
            problems.append(Problem(where, str(error), file=file, line=line))
            continue
        if parts[0] == "sweep":
            problems.append(
                Problem(where, "a sweep cannot vary its own table", file=file, line=line)
            )
            continue
        for value in dist.ends():
            try:
                candidate = with_values(base, {path: value})
            except PathError as error:
                problems.append(Problem(where, f"names no field: {error}", file=file, line=line))
                break
            rejected = _rejection(candidate, base_dir, check_files)
            if rejected is not None:
                field = rejected.path or path
                problems.append(
                    Problem(
                        where,
                        f"{value!r} is not accepted by {field}: {rejected.message}",
                        file=file,
                        line=line,
                        hint=rejected.hint,
                    )
                )
                break
    return problems
