"""Layer kinds, model building and shape inference (imports torch only when building).

`dltui.layers.stack` has the model-building API (`summarize_stack`,
`build_stack`, `format_summary`); `dltui.layers.kinds` the built-in kinds.
"""

# The schema and the registry import each other (a layer is a spec model; the
# model spec lists every layer kind). Loading the schema first settles the
# order whichever of the two a caller imports first.
import dltui.spec  # noqa: F401  # isort: skip
from dltui.layers.registry import (
    Layer,
    LayerSelectorError,
    LayerShapeError,
    Shape,
    format_shape,
    layer_kinds,
    register,
)

__all__ = [
    "Layer",
    "LayerSelectorError",
    "LayerShapeError",
    "Shape",
    "format_shape",
    "layer_kinds",
    "register",
]
