"""Built-in layer kinds; importing this package registers them all."""

from dltui.layers.kinds import core  # noqa: F401
