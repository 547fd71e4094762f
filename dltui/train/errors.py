"""What stops a run early for a reason in the experiment or in the numbers."""

from __future__ import annotations


class ConfigError(ValueError):
    """The experiment cannot be trained as written (found while setting up): exit 2."""


class LossNotFinite(ArithmeticError):
    """A loss became NaN or infinite: the run fails, saying which loss, its value and step."""
