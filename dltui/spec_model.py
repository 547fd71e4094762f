"""The base every experiment-file model derives from: strict, immutable, no extras.

It lives outside `dltui.spec` because layer kinds derive from it too, and the
schema lists every layer kind: with the base inside the schema's package, the
two packages imported each other, and two threads importing them at once
(the browser's catalog worker and the builder, say) deadlocked in the import
system.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _array_as_tuple(value: Any) -> Any:
    # TOML has arrays, not tuples: a fixed-length field takes an array, items still strict.
    return tuple(value) if isinstance(value, list) else value


def _string_as_path(value: Any) -> Any:
    # TOML has strings, not paths; anything else is still refused as not a path.
    return Path(value) if isinstance(value, str) else value


FROM_ARRAY = BeforeValidator(_array_as_tuple)
"""Mark a tuple field that an experiment file writes as an array:
``Annotated[tuple[int, int], FROM_ARRAY]``."""

FilePath = Annotated[Path, BeforeValidator(_string_as_path)]
"""A path an experiment file writes as a string."""


class SpecModel(BaseModel):
    """A table of an experiment file.

    Unknown keys are errors (a typo must never be silently ignored), values are
    not coerced across types except int -> float (``epochs = "150"``, ``batch_size
    = 32.0`` and ``shuffle = "yes"`` are errors, not guesses; arrays become tuples
    and strings paths only where a field says so), and instances are frozen so a
    validated experiment can be shared between threads without copies.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        validate_default=True,
        protected_namespaces=(),
    )

    def explicit(self) -> set[str]:
        """Names of the fields the file set explicitly (not defaults)."""
        return set(self.model_fields_set)
