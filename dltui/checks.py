"""Full validation of an experiment: the schema, then the data, then the shapes.

`dltui check` and `dltui summary` live here. The schema check needs no torch;
the shape check builds every stack on the meta device (no real memory) and
then checks that what the model outputs fits the data and the loss.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dltui.layers.registry import format_shape
from dltui.spec import Experiment, Problem, SpecError, load_experiment, parse_experiment
from dltui.spec.locate import find_line, line_index

if TYPE_CHECKING:
    from dltui.data import DataInfo
    from dltui.layers.stack import StackSummary

_CLASS_LOSSES = ("cross_entropy", "nll")
_BINARY_LOSSES = ("bce", "bce_with_logits")
_REGRESSION_LOSSES = ("mse", "l1", "huber", "smooth_l1")
_CLASS_METRICS = ("accuracy", "top5_accuracy", "precision", "recall", "f1", "auroc")
_REGRESSION_METRICS = ("mae", "mse", "rmse", "r2")


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
    result = CheckResult(Path(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        # load_experiment words these (no such file, cannot read) the one way.
        text = None
    try:
        if text is None:
            result.experiment = load_experiment(path)
        else:
            result.experiment = parse_experiment(text, file=path)
    except SpecError as exc:
        result.problems = exc.problems
        return result
    if result.experiment.sweep is not None and text is not None:
        result.problems.extend(_sweep_problems(result.experiment, text, Path(path)))
    if shapes and text is not None:
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
    from dltui.data import DataError, describe
    from dltui.layers.stack import summarize_stack

    experiment = result.experiment
    assert experiment is not None
    try:
        info = describe(experiment.data)
    except DataError as exc:
        return [Problem(exc.field, exc.message)]
    result.data = info
    model = experiment.model
    if experiment.is_gan:
        assert model.kind == "gan"
        generator = summarize_stack(model.generator, (model.latent_dim,), field="model.generator")
        result.stacks["model.generator"] = generator
        discriminator = summarize_stack(
            model.discriminator, info.input_shape, field="model.discriminator"
        )
        result.stacks["model.discriminator"] = discriminator
        problems = _stack_problem(generator) + _stack_problem(discriminator)
        if not generator.problem and generator.output_shape != info.input_shape:
            problems.append(
                Problem(
                    f"model.generator[{len(model.generator) - 1}]",
                    f"the generator outputs {_fmt(generator.output_shape)}, but the data's "
                    f"samples are {_fmt(info.input_shape)}",
                )
            )
        if not discriminator.problem and discriminator.output_shape != (1,):
            problems.append(
                Problem(
                    f"model.discriminator[{len(model.discriminator) - 1}]",
                    f"the discriminator must output one logit (1,), "
                    f"not {_fmt(discriminator.output_shape)}",
                )
            )
        return problems
    stack = experiment.sequential
    input_shape = stack.input_shape or info.input_shape
    dtype = "int64" if info.input_dtype == "int64" and not stack.input_shape else "float32"
    summary = summarize_stack(stack.layers, input_shape, input_dtype=dtype)
    result.stacks["model.layers"] = summary
    if summary.problem:
        return _stack_problem(summary)
    return _fit_problems(experiment, info, summary)


def _stack_problem(summary: StackSummary) -> list[Problem]:
    if summary.problem is None:
        return []
    return [Problem(summary.problem.path, summary.problem.message)]


def _fit_problems(experiment: Experiment, info: DataInfo, summary: StackSummary) -> list[Problem]:
    """Does the model's output fit the data's targets and the chosen loss?"""
    training = experiment.training
    loss = training.loss
    out = summary.output_shape
    last = f"model.layers[{len(experiment.sequential.layers) - 1}]"
    problems: list[Problem] = []
    task = info.task
    if task in ("classification", "language_model"):
        classes = info.num_classes or 0
        if loss in _REGRESSION_LOSSES:
            problems.append(
                Problem(
                    "training.loss",
                    f"{loss} needs numeric targets, but `{_source(experiment)}` has class labels; "
                    "use cross_entropy (or bce_with_logits for two classes)",
                )
            )
        elif loss in _BINARY_LOSSES:
            if classes != 2:
                problems.append(
                    Problem(
                        "training.loss",
                        f"{loss} is for two classes; the data has {classes}: use cross_entropy",
                    )
                )
            elif out != (1,):
                problems.append(
                    Problem(last, f"{loss} needs one output unit (1,), the model gives {_fmt(out)}")
                )
        else:
            expected = (classes,) if task == "classification" else (*info.input_shape, classes)
            if out != expected:
                problems.append(
                    Problem(
                        last,
                        f"the model outputs {_fmt(out)}, but {loss} on {classes} classes needs "
                        f"{_fmt(expected)}: end with dense(out_features = {classes})",
                    )
                )
        wrong = [m for m in training.metrics if m in _REGRESSION_METRICS]
    else:
        if loss in _CLASS_LOSSES + _BINARY_LOSSES:
            problems.append(
                Problem(
                    "training.loss",
                    f"{loss} needs class labels, but `{_source(experiment)}` is {task}; "
                    "use mse, l1 or huber",
                )
            )
        elif out != info.target_shape:
            problems.append(
                Problem(
                    last,
                    f"the model outputs {_fmt(out)}, but the targets are {_fmt(info.target_shape)}",
                )
            )
        wrong = [m for m in training.metrics if m in _CLASS_METRICS]
    if task == "language_model":
        wrong += [m for m in training.metrics if m in ("auroc",)]
    for metric in wrong:
        problems.append(
            Problem("training.metrics", f"{metric} does not apply to {task.replace('_', ' ')} data")
        )
    return problems


def _source(experiment: Experiment) -> str:
    return str(experiment.data.source)


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
        if result.ok:
            assert result.experiment is not None
            params = ""
            if result.stacks:
                total = sum(s.total_params for s in result.stacks.values())
                params = f", {total:,} parameters"
            print(f"ok    {file}  ({result.experiment.display_name}{params})")
        else:
            failed += 1
            print(f"FAIL  {file}")
            for problem in result.problems:
                print(f"  {problem}")
    if len(files) > 1:
        print(f"{len(files) - failed} valid, {failed} invalid")
    return 2 if failed else 0


def summary_command(file: str) -> int:
    """``dltui summary``: the layer table of each stack, like Keras' ``summary()``."""
    from dltui.layers.stack import format_summary

    result = check_file(file, shapes=True)
    if result.experiment is None:
        for problem in result.problems:
            print(problem, file=sys.stderr)
        return 2
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
    return 0 if result.ok else 2
