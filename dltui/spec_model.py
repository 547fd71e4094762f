"""The base every experiment-file model derives from: strict, immutable, no extras.

It lives outside `dltui.spec` because layer kinds derive from it too, and the
schema lists every layer kind: with the base inside the schema's package, the
two packages imported each other, and two threads importing them at once
(the browser's catalog worker and the builder, say) deadlocked in the import
system.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SpecModel(BaseModel):
    """A table of an experiment file.

    Unknown keys are errors (a typo must never be silently ignored), values are
    not coerced across types except int -> float, and instances are frozen so a
    validated experiment can be shared between threads without copies.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=False,
        validate_default=True,
        protected_namespaces=(),
    )

    def explicit(self) -> set[str]:
        """Names of the fields the file set explicitly (not defaults)."""
        return set(self.model_fields_set)
