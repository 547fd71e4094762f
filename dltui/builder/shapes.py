"""Shapes and parameter counts of a stack being edited, layer by layer.

The builder's document may be half-valid while a person types: a field out of
range in one layer must not hide the shapes of the layers before it. So each
layer is validated on its own with its kind's model, the valid prefix goes to
`dltui.layers.stack.summarize_stack` (the meta device: no memory, fast), and
the first layer that does not validate becomes the stack's problem.

This imports torch (through the stack summary and data description) when
called: run it in a worker thread, never at screen start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from dltui.builder.new_layer import UnknownLayerKind, kind_class
from dltui.layers.registry import Layer
from dltui.spec.data import DataSpec
from dltui.spec.errors import format_path

_DATA: TypeAdapter[Any] = TypeAdapter(DataSpec)


@dataclass(frozen=True)
class ShapeRow:
    """One layer's line in the builder: its path and, when known, its shapes."""

    path: str
    in_shape: tuple[int, ...] | None
    out_shape: tuple[int, ...] | None
    params: int | None


@dataclass(frozen=True)
class StackShapes:
    """What the shape check found for one stack of the document."""

    stack: str
    revision: int
    """The document revision this was computed for (late results are dropped)."""
    input_shape: tuple[int, ...] | None
    rows: dict[str, ShapeRow]
    """By layer path (``model.layers[3]``)."""
    problem_path: str | None
    problem: str | None
    """Why the first layer at ``problem_path`` does not fit, or why nothing could be computed."""
    total_params: int | None
    trainable_params: int | None
    output_shape: tuple[int, ...] | None


def compute_shapes(
    raw: Mapping[str, Any], stack: str, *, revision: int = 0, base_dir: Path | None = None
) -> StackShapes:
    """Shapes of ``model.<stack>`` in the plain document ``raw``."""
    field = f"model.{stack}"
    model = raw.get("model") if isinstance(raw.get("model"), Mapping) else {}
    assert isinstance(model, Mapping)

    def failed(message: str, path: str | None = None) -> StackShapes:
        return StackShapes(stack, revision, None, {}, path, message, None, None, None)

    try:
        input_shape, dtype = _input_of(raw, model, stack, base_dir)
    except _InputUnknown as exc:
        return failed(str(exc))
    raw_layers = model.get(stack)
    if not isinstance(raw_layers, list) or not raw_layers:
        return StackShapes(
            stack, revision, input_shape, {}, None, "the stack has no layers", 0, 0, input_shape
        )
    layers: list[Layer] = []
    invalid: tuple[str, str] | None = None
    for index, item in enumerate(raw_layers):
        try:
            layers.append(_validate_layer(item, (*field.split("."), index)))
        except _LayerInvalid as exc:
            invalid = (exc.path, exc.message)
            break
    from dltui.layers.stack import summarize_stack

    rows: dict[str, ShapeRow] = {}
    problem_path: str | None = None
    problem: str | None = None
    total = trainable = None
    output: tuple[int, ...] | None = None
    if layers:
        freeze = model.get("freeze") if stack == "layers" else None
        selectors: list[int | str] = list(freeze) if isinstance(freeze, list) else []
        if not _is_freeze_list(selectors):
            selectors = []  # validation reports a malformed freeze list
        summary = summarize_stack(
            layers,
            input_shape,
            field=field,
            input_dtype=dtype,
            freeze=selectors,
        )
        pending = list(summary.rows)
        while pending:
            row = pending.pop()
            pending.extend(getattr(row, "children", ()))
            rows[row.path] = ShapeRow(
                row.path, _shape(row.in_shape), _shape(row.out_shape), row.params
            )
        if summary.problem is not None:
            problem_path, problem = summary.problem.path, summary.problem.message
        total, trainable = summary.total_params, summary.trainable_params
        output = _shape(summary.output_shape)
    else:
        total = trainable = 0
    if problem is None and invalid is not None:
        problem_path, problem = invalid
        output = None
    return StackShapes(
        stack, revision, input_shape, rows, problem_path, problem, total, trainable, output
    )


class _InputUnknown(Exception):
    pass


class _LayerInvalid(Exception):
    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


def _is_freeze_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, (int, str)) and not isinstance(v, bool) for v in value
    )


def _shape(value: Any) -> tuple[int, ...] | None:
    return tuple(int(v) for v in value) if value is not None else None


def _input_of(
    raw: Mapping[str, Any], model: Mapping[str, Any], stack: str, base_dir: Path | None
) -> tuple[tuple[int, ...], str]:
    if stack == "generator":
        latent = model.get("latent_dim", 8)
        if not isinstance(latent, int) or isinstance(latent, bool) or latent < 1:
            raise _InputUnknown("model.latent_dim must be a whole number ≥ 1")
        return (latent,), "float32"
    given = model.get("input_shape")
    if given is not None:
        if not (
            isinstance(given, list)
            and given
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in given)
        ):
            raise _InputUnknown("model.input_shape must be a list of positive whole numbers")
        return tuple(given), "float32"
    data = raw.get("data")
    if not isinstance(data, Mapping):
        raise _InputUnknown("no [data] table: the input shape is unknown")
    context = {"base_dir": base_dir or Path.cwd(), "skip_file_checks": False}
    try:
        spec = _DATA.validate_python(dict(data), context=context)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = format_path(("data", *(p for p in error["loc"] if isinstance(p, (str, int)))))
        raise _InputUnknown(f"{where}: {error['msg']}") from None
    from dltui.data import DataError, describe

    try:
        info = describe(spec)
    except DataError as exc:
        raise _InputUnknown(str(exc)) from None
    return tuple(info.input_shape), info.input_dtype


def _validate_layer(item: Any, loc: tuple[str | int, ...]) -> Layer:
    path = format_path(loc)
    if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
        raise _LayerInvalid(path, "a layer needs `type = ...`")
    try:
        cls = kind_class(item["type"])
    except UnknownLayerKind as exc:
        raise _LayerInvalid(path, str(exc)) from None
    try:
        return cls.model_validate(dict(item))
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        inner = [p for p in error["loc"] if isinstance(p, (str, int))]
        where = format_path((*loc, *_strip_type_tags(item, inner)))
        return _raise_invalid(where, error["msg"])


def _strip_type_tags(item: Mapping[str, Any], loc: list[str | int]) -> list[str | int]:
    """Drop the discriminator tags pydantic puts in nested locations (``layers.0.dense``)."""
    out: list[str | int] = []
    current: Any = item
    for part in loc:
        if isinstance(current, Mapping) and part not in current and current.get("type") == part:
            continue
        out.append(part)
        if isinstance(current, Mapping):
            current = current.get(part) if isinstance(part, str) else None
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            current = current[part]
        else:
            current = None
    return out


def _raise_invalid(path: str, message: str) -> Layer:
    raise _LayerInvalid(path, message[:1].lower() + message[1:])
