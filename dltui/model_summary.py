"""One summary of a validated experiment's model, for everyone who needs it.

The trainer builds what this describes, `dltui check` and `dltui summary` print
it, the browser's details pane and the builder's verdict show it. So they can
never disagree about an experiment: each stack's input (shape and dtype from
the data), its layer table, a GAN's rules (the generator makes samples of the
data's shape, the discriminator scores each with one logit), and whether the
model's output fits the targets, the loss and the metrics.

It needs torch (the stacks are traced on the meta device: no memory, a few
milliseconds), imported only when called. Problems carry field paths but no
file or line; `dltui.checks` places them in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dltui.layers.registry import LayerSelectorError, format_shape, select_layer
from dltui.spec import Experiment, Problem

if TYPE_CHECKING:
    from dltui.data import DataInfo
    from dltui.layers.stack import StackSummary

CLASS_LOSSES = ("cross_entropy", "nll")
BINARY_LOSSES = ("bce", "bce_with_logits")
REGRESSION_LOSSES = ("mse", "l1", "huber", "smooth_l1")
CLASS_METRICS = ("accuracy", "top5_accuracy", "precision", "recall", "f1", "auroc")
REGRESSION_METRICS = ("mae", "mse", "rmse", "r2")
GAN_LOGIT_SHAPES = ((1,), ())
"""What a discriminator may output per sample: one logit (the trainer reshapes to one value)."""


@dataclass(frozen=True)
class StackInput:
    """What one stack is fed, per sample."""

    shape: tuple[int, ...]
    dtype: str
    """``float32``, or ``int64`` for token ids."""


@dataclass
class ModelSummary:
    """The model of one experiment: its stacks, their inputs, and every problem found."""

    data: DataInfo
    stacks: dict[str, StackSummary] = field(default_factory=dict)
    """Layer tables by field: ``model.layers``, or ``model.generator``/``model.discriminator``."""
    inputs: dict[str, StackInput] = field(default_factory=dict)
    """What each stack of ``stacks`` is fed."""
    problems: list[Problem] = field(default_factory=list)
    """Layers that do not fit, a GAN's rules, output/target/loss/metric fit; empty when valid."""

    @property
    def ok(self) -> bool:
        """No problems: the trainer can build and train this model."""
        return not self.problems

    @property
    def total_params(self) -> int:
        """Parameters of every stack together."""
        return sum(summary.total_params for summary in self.stacks.values())

    @property
    def trainable_params(self) -> int:
        """Parameters that are not frozen."""
        return sum(summary.trainable_params for summary in self.stacks.values())


def summarize_experiment(experiment: Experiment, info: DataInfo | None = None) -> ModelSummary:
    """The model summary of ``experiment``; ``info`` describes its data (read when None).

    Raises `dltui.data.DataError` when the data cannot be described.
    """
    if info is None:
        from dltui.data import describe

        info = describe(experiment.data)
    model = experiment.model
    if model.kind == "gan":
        return _gan(experiment, info)
    return _sequential(experiment, info)


def _sequential(experiment: Experiment, info: DataInfo) -> ModelSummary:
    from dltui.layers.stack import summarize_stack

    result = ModelSummary(info)
    spec = experiment.sequential
    if info.task == "generative":
        result.problems.append(
            Problem("model.kind", 'this data has no targets; train it with kind = "gan"')
        )
        return result
    # The tensors the trainer feeds have the data's dtype, whatever input_shape says.
    fed = StackInput(tuple(spec.input_shape or info.input_shape), info.input_dtype)
    summary = summarize_stack(
        spec.layers, fed.shape, input_dtype=fed.dtype, freeze=list(spec.freeze)
    )
    result.stacks["model.layers"] = summary
    result.inputs["model.layers"] = fed
    if summary.problem is not None:
        result.problems.append(Problem(summary.problem.path, summary.problem.message))
        return result
    result.problems += fit_problems(experiment, info, summary.output_shape)
    if experiment.training.channels_last and len(fed.shape) != 3:
        result.problems.append(
            Problem(
                "training.channels_last",
                f"needs image samples (C, H, W); this model's are {_fmt(fed.shape)}",
            )
        )
    return result


def _gan(experiment: Experiment, info: DataInfo) -> ModelSummary:
    from dltui.layers.stack import summarize_stack

    model: Any = experiment.model
    result = ModelSummary(info)
    parts = (
        ("model.generator", model.generator, StackInput((model.latent_dim,), "float32")),
        (
            "model.discriminator",
            model.discriminator,
            StackInput(tuple(info.input_shape), info.input_dtype),
        ),
    )
    for name, layers, fed in parts:
        summary = summarize_stack(layers, fed.shape, field=name, input_dtype=fed.dtype)
        result.stacks[name] = summary
        result.inputs[name] = fed
        if summary.problem is not None:
            result.problems.append(Problem(summary.problem.path, summary.problem.message))
    generator = result.stacks["model.generator"]
    discriminator = result.stacks["model.discriminator"]
    if generator.problem is None and generator.output_shape != tuple(info.input_shape):
        result.problems.append(
            Problem(
                f"model.generator[{len(model.generator) - 1}]",
                f"the generator outputs {_fmt(generator.output_shape)}, but the data's "
                f"samples are {_fmt(info.input_shape)}",
            )
        )
    if discriminator.problem is None and discriminator.output_shape not in GAN_LOGIT_SHAPES:
        result.problems.append(
            Problem(
                f"model.discriminator[{len(model.discriminator) - 1}]",
                f"the discriminator must output one logit (1,), "
                f"not {_fmt(discriminator.output_shape)}: end with dense(out_features = 1)",
            )
        )
    for selector in model.freeze:
        if not any(_selects(summary.labels, selector) for summary in result.stacks.values()):
            result.problems.append(
                Problem("model.freeze", f"{selector!r} names no generator or discriminator layer")
            )
    return result


def _selects(labels: Sequence[str], selector: int | str) -> bool:
    try:
        select_layer(labels, selector)
    except LayerSelectorError:
        return False
    return True


def fit_problems(
    experiment: Experiment, info: DataInfo, output_shape: Sequence[int] | None
) -> list[Problem]:
    """Does a sequential model's per-sample ``output_shape`` fit the targets, loss and metrics?"""
    training = experiment.training
    loss = training.loss
    out = tuple(output_shape) if output_shape is not None else None
    last = f"model.layers[{len(experiment.sequential.layers) - 1}]"
    source = str(experiment.data.source)
    problems: list[Problem] = []
    task = info.task
    if task in ("classification", "language_model"):
        classes = info.num_classes or 0
        if loss in REGRESSION_LOSSES:
            problems.append(
                Problem(
                    "training.loss",
                    f"{loss} needs numeric targets, but `{source}` has class labels; "
                    "use cross_entropy (or bce_with_logits for two classes)",
                )
            )
        elif loss in BINARY_LOSSES:
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
    elif loss in CLASS_LOSSES + BINARY_LOSSES:
        problems.append(
            Problem(
                "training.loss",
                f"{loss} needs class labels, but `{source}` is {task}; use mse, l1 or huber",
            )
        )
    elif out is None or _size(out) != _size(info.target_shape):
        # The regression losses reshape the output to the targets: the sizes must match.
        problems.append(
            Problem(
                last,
                f"the model outputs {_fmt(out)}, but the targets are {_fmt(info.target_shape)}",
            )
        )
    problems += metric_problems(training.metrics, task)
    return problems


def metric_problems(metrics: Sequence[str], task: str) -> list[Problem]:
    """Metrics that do not apply to data of ``task`` (the trainer computes each one way)."""
    words = task.replace("_", " ")
    problems = []
    for metric in metrics:
        needs = None
        if metric in CLASS_METRICS and task != "classification":
            needs = "classification data (class labels)"
        elif metric in REGRESSION_METRICS and task != "regression":
            needs = "regression data (numeric targets)"
        elif metric == "perplexity" and task != "language_model":
            needs = "a language model (token data)"
        if needs is not None:
            problems.append(
                Problem("training.metrics", f"{metric} needs {needs}; this data is {words}")
            )
    return problems


def _size(shape: Sequence[int]) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


def _fmt(shape: Sequence[int] | None) -> str:
    return "nothing" if shape is None else format_shape(shape)
