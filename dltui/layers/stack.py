"""Layer stacks: shape inference, parameter counts and the real model.

`summarize_stack` builds each layer on torch's meta device (shapes and
parameter counts, no memory, no arithmetic) and stops at the first layer that
does not fit, saying why in plain words. `build_stack` makes the real
`LayerStack` on the CPU once the summary has no problem. Both import torch
only when called, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dltui.layers.registry import (
    Layer,
    LayerSelectorError,
    LayerShapeError,
    Shape,
    format_shape,
    select_layer,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

    from dltui.layers.kinds.structure import Residual
    from dltui.layers.modules import LayerStack, ResidualBlock

__all__ = [
    "LayerRow",
    "LayerStack",
    "StackError",
    "StackProblem",
    "StackSummary",
    "build_stack",
    "format_summary",
    "summarize_stack",
]

INPUT_DTYPES = ("float32", "int64")
"""Dtypes a stack's input may have: float features, or integer token ids (the data's)."""


@dataclass(frozen=True)
class LayerRow:
    """One layer of a summarised stack."""

    index: int
    """Position in its (sub-)stack."""
    path: str
    """Field path in the experiment file, e.g. ``model.layers[3]``."""
    label: str
    """The layer's ``name``, or ``f"{index}_{type}"``."""
    type: str
    in_shape: Shape
    out_shape: Shape
    params: int
    """Parameters of the layer (its sub-stack and projection included)."""
    summary: str
    """`Layer.summary()`: the parameters that differ from the defaults."""
    children: tuple[LayerRow, ...] = ()
    """Rows of a residual's sub-stack; empty for other kinds."""


@dataclass(frozen=True)
class StackProblem:
    """The first layer that does not fit, and why."""

    index: int
    """Top-level index of the layer (of the residual, for a nested layer); -1: the input."""
    path: str
    """Field path of the offending layer, e.g. ``model.layers[4].layers[1]``."""
    message: str
    """What it got and what it needs, in plain words."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class StackSummary:
    """Shapes and parameter counts of a stack, up to its first problem."""

    rows: list[LayerRow]
    """Top-level layers that fit, in order."""
    problem: StackProblem | None
    total_params: int
    trainable_params: int
    output_shape: Shape | None
    """The stack's per-sample output shape; None when a layer does not fit."""
    input_shape: Shape = ()
    param_bytes: int = 0
    """Memory of the parameters (float32 unless built otherwise)."""
    labels: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every layer fits."""
        return self.problem is None

    @property
    def non_trainable_params(self) -> int:
        """Parameters of frozen layers."""
        return self.total_params - self.trainable_params


class StackError(ValueError):
    """A stack cannot be built; ``problem`` says which layer and why."""

    def __init__(self, problem: StackProblem):
        self.problem = problem
        super().__init__(str(problem))


# --------------------------------------------------------------------------- tracing


@dataclass
class _Trace:
    """What walking a (sub-)stack on the meta device found."""

    modules: list[Any] = field(default_factory=list)
    rows: list[LayerRow] = field(default_factory=list)
    nested: list[_Trace | None] = field(default_factory=list)
    problem: StackProblem | None = None
    output: Any = None


def _label(layer: Layer, index: int) -> str:
    return layer.name or f"{index}_{layer.type}"


def _torch_dtype(name: str) -> torch.dtype:
    import torch

    if name not in INPUT_DTYPES:
        raise ValueError(f"input_dtype must be one of {', '.join(INPUT_DTYPES)}; got {name!r}")
    dtype: torch.dtype = getattr(torch, name)
    return dtype


def _meta_input(input_shape: Shape, dtype: torch.dtype) -> torch.Tensor:
    import torch

    # Batch 2, not 1: batch norm refuses one sample per channel in training mode.
    return torch.empty((2, *input_shape), dtype=dtype, device="meta")


def _dtype_problem(layer: Layer, x: torch.Tensor) -> str | None:
    shape = format_shape(x.shape[1:])
    integer = not (x.dtype.is_floating_point or x.dtype.is_complex)
    if layer.input_kind == "tokens" and not integer:
        return (
            f"{layer.type} needs integer token ids, but its input {shape} is float "
            f"features: put it first, on token data (input dtype int64)"
        )
    if layer.input_kind == "float" and integer:
        return (
            f"{layer.type} needs float features, but its input {shape} is integer token "
            "ids: start the stack with an embedding layer"
        )
    return None


def _torch_reason(layer: Layer, in_shape: Shape, exc: BaseException) -> str:
    """A torch failure as one plain sentence naming the layer and its input."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{layer.type} cannot take input {format_shape(in_shape)}: {detail}"


_INIT_OPS = frozenset(
    {"normal_", "uniform_", "trunc_normal_", "constant_", "fill_", "zero_", "zeros_", "ones_"}
)
_skip_init_mode: Any = None


def _meta_build() -> Any:
    """A context that builds modules on the meta device without initialising them.

    Meta tensors hold no values, so initialisation is pointless there; worse, the
    first arithmetic on a meta tensor imports torch's symbolic-shape machinery
    (sympy, a second or more), which the builder must not pay on its first summary.
    """
    import contextlib

    import torch
    from torch.overrides import TorchFunctionMode

    global _skip_init_mode
    if _skip_init_mode is None:

        class SkipInit(TorchFunctionMode):
            """Turns in-place initialisers (``normal_``, ``uniform_`` ...) into no-ops."""

            def __torch_function__(
                self, func: Any, types: Any, args: Any = (), kwargs: Any = None
            ) -> Any:
                kwargs = kwargs or {}
                if getattr(func, "__name__", "") in _INIT_OPS:
                    for value in (*args, *kwargs.values()):
                        if isinstance(value, torch.Tensor):
                            return value
                return func(*args, **kwargs)

        _skip_init_mode = SkipInit

    stack = contextlib.ExitStack()
    stack.enter_context(torch.device("meta"))
    stack.enter_context(_skip_init_mode())
    return stack


def _run_layer(layer: Layer, in_shape: Shape, x: torch.Tensor) -> tuple[nn.Module, torch.Tensor]:
    """Build ``layer`` on the meta device and find its output (declared, or by running it)."""
    import torch

    with _meta_build():
        module = layer.build(in_shape)
    declared = layer.output_shape(in_shape)
    if declared is not None:
        # Token ids come out of an embedding as float vectors; other layers keep the dtype.
        dtype = torch.get_default_dtype() if layer.input_kind == "tokens" else x.dtype
        return module, torch.empty((x.shape[0], *declared), dtype=dtype, device="meta")
    try:
        # A kind that does not declare its output shape is run (meta tensors: no values).
        with torch.device("meta"):
            return module, module(x)
    except NotImplementedError:
        # An operator without a meta kernel: one real forward of two samples instead.
        real_module = layer.build(in_shape)
        out = real_module(torch.zeros(x.shape, dtype=x.dtype))
        return module, torch.empty_like(out, device="meta")


def _walk(layers: Sequence[Layer], x: torch.Tensor, prefix: str) -> _Trace:
    """Trace ``layers`` from the meta input ``x``; stop at the first that does not fit."""
    trace = _Trace()
    seen: dict[str, int] = {}
    for index, layer in enumerate(layers):
        path = f"{prefix}[{index}]"
        in_shape: Shape = tuple(x.shape[1:])
        label = _label(layer, index)

        def fail(message: str, where: str = path, at: int = index) -> _Trace:
            trace.problem = StackProblem(at, where, message)
            return trace

        if label in seen:
            return fail(
                f"name {label!r} is already used by layer {seen[label]}: names must be unique"
            )
        seen[label] = index
        wrong_dtype = _dtype_problem(layer, x)
        if wrong_dtype:
            return fail(wrong_dtype)
        try:
            layer.check_input(in_shape)
        except LayerShapeError as exc:
            return fail(str(exc))

        sub: _Trace | None = None
        module: nn.Module
        if _is_residual(layer):
            sub = _walk(layer.layers, x, f"{path}.layers")  # type: ignore[attr-defined]
            if sub.problem is not None:
                return fail(sub.problem.message, sub.problem.path)
            body_shape: Shape = tuple(sub.output.shape[1:])
            try:
                with _meta_build():
                    projection = layer.projection_for(in_shape, body_shape)  # type: ignore[attr-defined]
                    module = _residual_block(sub.modules, projection)
                # The projection maps the input onto the sub-stack's shape by construction.
                y = sub.output
            except LayerShapeError as exc:
                return fail(str(exc))
            children = tuple(sub.rows)
        else:
            try:
                module, y = _run_layer(layer, in_shape, x)
            except LayerShapeError as exc:
                return fail(str(exc))
            except (RuntimeError, ValueError, IndexError, TypeError, AssertionError) as exc:
                return fail(_torch_reason(layer, in_shape, exc))
            children = ()

        out_shape: Shape = tuple(y.shape[1:])
        if out_shape and min(out_shape) < 1:
            return fail(
                f"{layer.type} would turn {format_shape(in_shape)} into "
                f"{format_shape(out_shape)}, which holds no values"
            )
        params = sum(p.numel() for p in module.parameters())
        trace.rows.append(
            LayerRow(
                index,
                path,
                label,
                layer.type,
                in_shape,
                out_shape,
                params,
                layer.summary(),
                children,
            )
        )
        trace.modules.append(module)
        trace.nested.append(sub)
        x = y
    trace.output = x
    return trace


def _is_residual(layer: Layer) -> bool:
    from dltui.layers.kinds.structure import Residual

    return isinstance(layer, Residual)


def _residual_block(body: Sequence[nn.Module], projection: nn.Module) -> ResidualBlock:
    from dltui.layers.modules import ResidualBlock

    return ResidualBlock(body, projection)


def _materialise(layers: Sequence[Layer], trace: _Trace) -> list[nn.Module]:
    """Build ``layers`` for real (current default device) from a problem-free trace."""
    modules: list[nn.Module] = []
    for layer, row, sub in zip(layers, trace.rows, trace.nested, strict=True):
        if sub is not None:
            residual: Residual = layer  # type: ignore[assignment]
            body = _materialise(residual.layers, sub)
            projection = residual.projection_for(row.in_shape, sub.rows[-1].out_shape)
            modules.append(_residual_block(body, projection))
        else:
            modules.append(layer.build(row.in_shape))
    return modules


def _trace(layers: Sequence[Layer], input_shape: Shape, field: str, input_dtype: str) -> _Trace:
    import torch

    shape = tuple(input_shape)
    if not shape or any(not isinstance(d, int) or d < 1 for d in shape):
        trace = _Trace()
        where = field.rsplit(".", 1)[0] + ".input_shape" if "." in field else "input_shape"
        trace.problem = StackProblem(
            -1, where, f"input shape must be one or more positive sizes, got {shape}"
        )
        return trace
    with torch.no_grad():
        return _walk(layers, _meta_input(shape, _torch_dtype(input_dtype)), field)


# --------------------------------------------------------------------------- public API


def summarize_stack(
    layers: Sequence[Layer],
    input_shape: Shape,
    *,
    field: str = "model.layers",
    input_dtype: str = "float32",
    freeze: Sequence[int | str] = (),
) -> StackSummary:
    """Each layer's output shape and parameter count, up to the first that does not fit.

    ``input_shape`` is per sample (no batch). ``field`` is the path the problem
    is reported under (``model.generator`` for a GAN's generator).
    ``input_dtype="int64"`` feeds token ids (for an embedding first layer).
    ``freeze`` (indices or labels, as in ``model.freeze``) only changes the
    trainable count; an unknown selector is reported as the problem.
    Nothing real is allocated: a 20-layer CNN takes a few milliseconds.
    """
    trace = _trace(layers, input_shape, field, input_dtype)
    total = sum(row.params for row in trace.rows)
    param_bytes = sum(
        p.numel() * p.element_size() for module in trace.modules for p in module.parameters()
    )
    labels = [row.label for row in trace.rows]
    problem = trace.problem
    frozen = 0
    if problem is None and freeze:
        try:
            chosen = {select_layer(labels, selector) for selector in freeze}
            frozen = sum(trace.rows[i].params for i in chosen)
        except LayerSelectorError as exc:
            parent = field.rsplit(".", 1)[0] if "." in field else field
            problem = StackProblem(-1, f"{parent}.freeze", str(exc))
    output = tuple(trace.output.shape[1:]) if problem is None else None
    return StackSummary(
        rows=trace.rows,
        problem=problem,
        total_params=total,
        trainable_params=total - frozen,
        output_shape=output,
        input_shape=tuple(input_shape),
        param_bytes=param_bytes,
        labels=labels,
    )


def build_stack(
    layers: Sequence[Layer], input_shape: Shape, *, input_dtype: str = "float32"
) -> LayerStack:
    """The real model (CPU, freshly initialised) for ``layers`` and per-sample ``input_shape``.

    Raises `StackError` carrying the `StackProblem` when a layer does not fit.
    """
    trace = _trace(layers, input_shape, "model.layers", input_dtype)
    if trace.problem is not None:
        raise StackError(trace.problem)
    from dltui.layers.modules import LayerStack

    return LayerStack(_materialise(layers, trace), [row.label for row in trace.rows])


def build_residual(residual: Residual, in_shape: Shape) -> ResidualBlock:
    """The block of one residual layer; a nested layer that does not fit raises LayerShapeError."""
    trace = _trace([residual], in_shape, "layers", "float32")
    if trace.problem is not None:
        raise LayerShapeError(trace.problem.message)
    block: ResidualBlock = _materialise([residual], trace)[0]  # type: ignore[assignment]
    return block


def __getattr__(name: str) -> Any:
    # LayerStack subclasses nn.Module, so it lives with the torch modules; loading
    # it on first use keeps `import dltui.layers.stack` free of torch.
    if name == "LayerStack":
        from dltui.layers.modules import LayerStack

        return LayerStack
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- the table


def format_summary(summary: StackSummary, title: str | None = None) -> str:
    """A Keras-style table: index, label, type, output shape, params; totals; the problem."""
    header = ("#", "label", "type", "output shape", "params")
    body: list[tuple[str, str, str, str, str]] = []
    if summary.input_shape:
        body.append(("", "input", "", format_shape(summary.input_shape), ""))

    def add(rows: Sequence[LayerRow], parent: str) -> None:
        # A residual's sub-layers follow it, numbered "3.0", "3.1" and indented.
        for row in rows:
            number = f"{parent}{row.index}"
            indent = "  " * number.count(".")
            body.append(
                (
                    number,
                    f"{indent}{row.label}",
                    row.type,
                    format_shape(row.out_shape),
                    f"{row.params:,}",
                )
            )
            add(row.children, f"{number}.")

    add(summary.rows, "")
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(w) if i == 4 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule_width = sum(widths) + 2 * (len(widths) - 1)
    out: list[str] = []
    if title:
        out.append(title)
    out += ["=" * rule_width, line(header), "-" * rule_width]
    out += [line(cells) for cells in body]
    out.append("=" * rule_width)
    megabytes = summary.param_bytes / 2**20
    out += [
        f"Total params: {summary.total_params:,}",
        f"Trainable params: {summary.trainable_params:,}",
        f"Non-trainable params: {summary.non_trainable_params:,}",
        f"Parameter memory: {megabytes:.2f} MB",
    ]
    if summary.output_shape is not None:
        out.append(f"Output shape: {format_shape(summary.output_shape)}")
    if summary.problem is not None:
        out.append(f"Problem at {summary.problem.path}: {summary.problem.message}")
    return "\n".join(out)
