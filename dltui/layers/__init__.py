"""Layer kinds, model building and shape inference (imports torch only when building).

`dltui.layers.stack` has the model-building API (`summarize_stack`,
`build_stack`, `format_summary`); `dltui.layers.kinds` the built-in kinds.
"""

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
