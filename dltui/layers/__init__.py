"""Layer kinds, model building and shape inference (imports torch only when building)."""

from dltui.layers.registry import Layer, LayerShapeError, Shape, layer_kinds, register

__all__ = ["Layer", "LayerShapeError", "Shape", "layer_kinds", "register"]
