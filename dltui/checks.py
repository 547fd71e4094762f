"""Full validation of an experiment: the schema, then the data, then the model.

`dltui check` and `dltui summary` live here. The schema check needs no torch;
the model check is `dltui.model_summary.summarize_experiment` (the trainer's
and the dashboard's too), whose problems are placed here at their file lines.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dltui.layers.registry import format_shape
from dltui.run_format import EXIT_INVALID
from dltui.safe_text import printable
from dltui.spec import Experiment, Problem, SpecError, parse_experiment
from dltui.spec.load import read_experiment_text
from dltui.spec.locate import find_line, line_index

if TYPE_CHECKING:
    from dltui.data import DataInfo
    from dltui.layers.stack import StackSummary


@dataclass
class CheckResult:
    """What checking one file found."""

    file: Path
    experiment: Experiment | None = None
    problems: list[Problem] = field(default_factory=list)
    data: DataInfo | None = None
    stacks: dict[str, StackSummary] = field(default_factory=dict)
    """Layer tables by field: ``model.layers``, or ``model.generator``/``model.discriminator``."""

    @property
    def ok(self) -> bool:
        """No problems."""
        return not self.problems


def check_file(path: str | Path, *, shapes: bool = True) -> CheckResult:
    """Validate ``path``; with ``shapes``, also data, layer shapes and output fit."""
    try:
        # Read once, within limits (a FIFO or /dev/zero is refused, not opened),
        # so the shapes below are located in the very text that was validated.
        text = read_experiment_text(path)
    except SpecError as exc:
        return CheckResult(Path(path), problems=exc.problems)
    return check_text(text, path, shapes=shapes)


def check_text(text: str, path: str | Path, *, shapes: bool = True) -> CheckResult:
    """Validate ``text``, the content of the experiment file ``path`` (saved or not).

    The builder checks what it is editing with this, so its verdict is `dltui check`'s.
    """
    result = CheckResult(Path(path))
    try:
        result.experiment = parse_experiment(text, file=path)
    except SpecError as exc:
        result.problems = exc.problems
        return result
    if result.experiment.sweep is not None:
        result.problems.extend(_sweep_problems(result.experiment, text, Path(path)))
    if shapes:
        index = line_index(text)
        for problem in _shape_problems(result):
            parts = _path_parts(problem.path)
            result.problems.append(problem.located(str(path), find_line(index, parts)))
    return result


def _sweep_problems(experiment: Experiment, text: str, path: Path) -> list[Problem]:
    import tomllib

    from dltui.sweep.check import sweep_problems

    assert experiment.sweep is not None
    return sweep_problems(
        tomllib.loads(text), experiment.sweep, text=text, file=str(path), base_dir=path.parent
    )


def _shape_problems(result: CheckResult) -> list[Problem]:
    from dltui.data import DataError
    from dltui.model_summary import summarize_experiment

    experiment = result.experiment
    assert experiment is not None
    try:
        summary = summarize_experiment(experiment)
    except DataError as exc:
        # The problem is located in the experiment file; the data file it is about
        # is named too (the line and column in the message are that file's).
        where = f" (in {exc.file})" if exc.file else ""
        return [Problem(exc.field, f"{exc.message}{where}")]
    result.data = summary.data
    result.stacks = dict(summary.stacks)
    return list(summary.problems)


def _fmt(shape: Sequence[int] | None) -> str:
    return "nothing" if shape is None else format_shape(shape)


def _path_parts(path: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for chunk in path.replace("]", "").split("."):
        name, *indices = chunk.split("[")
        if name:
            parts.append(name)
        parts.extend(int(i) for i in indices if i.lstrip("-").isdigit())
    return tuple(parts)


def check_command(files: Sequence[str], *, shapes: bool = True) -> int:
    """``dltui check``: print every problem; 0 when all files are valid, else 2."""
    failed = 0
    for file in files:
        result = check_file(file, shapes=shapes)
        shown = printable(file, keep_newlines=False)
        if result.ok:
            assert result.experiment is not None
            params = ""
            if result.stacks:
                total = sum(s.total_params for s in result.stacks.values())
                params = f", {total:,} parameters"
            name = printable(result.experiment.display_name, keep_newlines=False)
            print(f"ok    {shown}  ({name}{params})")
        else:
            failed += 1
            print(f"FAIL  {shown}")
            for problem in result.problems:
                print(f"  {problem}")
    if len(files) > 1:
        print(f"{len(files) - failed} valid, {failed} invalid")
    return EXIT_INVALID if failed else 0


def summary_command(file: str) -> int:
    """``dltui summary``: the layer table of each stack, like Keras' ``summary()``."""
    from dltui.layers.stack import format_summary

    result = check_file(file, shapes=True)
    if result.experiment is None:
        for problem in result.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    for name, stack in result.stacks.items():
        title = f"{result.experiment.display_name}: {name}"
        print(format_summary(stack, title=title))
        print()
    if result.data is not None:
        info = result.data
        print(
            f"data: {result.experiment.data.source}, input {_fmt(info.input_shape)}, {info.task}"
            + (f", {info.num_classes} classes" if info.num_classes else "")
        )
    for problem in result.problems:
        print(problem, file=sys.stderr)
    return 0 if result.ok else EXIT_INVALID
