"""Built-in layer kinds, one module per family; importing this package registers them all.

The import order is the registration order, which the builder's palette shows.
"""

# isort: off
from dltui.layers.kinds import core
from dltui.layers.kinds import activation
from dltui.layers.kinds import convolution
from dltui.layers.kinds import pooling
from dltui.layers.kinds import normalization
from dltui.layers.kinds import recurrent
from dltui.layers.kinds import attention
from dltui.layers.kinds import structure

# isort: on

# Residual's nested `layers` can name every kind only once all are registered.
structure.rebuild_nested_kinds()

__all__ = [
    "activation",
    "attention",
    "convolution",
    "core",
    "normalization",
    "pooling",
    "recurrent",
    "structure",
]
