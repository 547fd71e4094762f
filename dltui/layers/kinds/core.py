"""Core kinds: dense, flatten, reshape, permute, dropout, embedding, identity."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from pydantic import Field, ValidationInfo, field_validator

from dltui.layers.registry import Layer, LayerShapeError, Shape, format_shape, register

if TYPE_CHECKING:
    from torch import nn


def require_rank(kind: str, in_shape: Shape, rank: int, layout: str, hint: str) -> None:
    """Raise unless ``in_shape`` has exactly ``rank`` dimensions (``layout`` names them)."""
    if len(in_shape) != rank:
        raise LayerShapeError(f"{kind} needs {layout} input, got {format_shape(in_shape)}: {hint}")


@register
class Dense(Layer):
    """Fully connected layer on the last dimension (torch.nn.Linear)."""

    type: Literal["dense"] = "dense"
    shapes = "(..., F) -> (..., out_features)"
    out_features: int = Field(ge=1, description="Number of output units.")
    bias: bool = Field(default=True, description="Learn an additive bias per output unit.")

    def check_input(self, in_shape: Shape) -> None:
        if len(in_shape) < 1:
            raise LayerShapeError("dense needs at least one input dimension")

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Linear(in_shape[-1], self.out_features, bias=self.bias)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """The last dimension becomes out_features."""
        return (*in_shape[:-1], self.out_features)


@register
class Flatten(Layer):
    """Flatten each sample to one vector (the batch dimension stays)."""

    type: Literal["flatten"] = "flatten"
    shapes = "(d1, d2, ...) -> (d1*d2*...,)"
    input_kind = "any"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Flatten(start_dim=1)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """All values in one dimension."""
        return (math.prod(in_shape),)


@register
class Reshape(Layer):
    """Reshape each sample; one entry may be -1 to take what is left."""

    type: Literal["reshape"] = "reshape"
    shapes = "(...) -> shape"
    input_kind = "any"
    shape: list[int] = Field(
        min_length=1,
        description="Per-sample target shape, e.g. [1, 28, 28]; one entry may be -1.",
    )

    @field_validator("shape")
    @classmethod
    def _one_free_dim(cls, shape: list[int]) -> list[int]:
        if any(d == 0 or d < -1 for d in shape):
            raise ValueError(f"entries must be positive or -1, got {shape}")
        if shape.count(-1) > 1:
            raise ValueError(f"at most one entry may be -1, got {shape}")
        return shape

    def check_input(self, in_shape: Shape) -> None:
        total = math.prod(in_shape)
        known = math.prod(d for d in self.shape if d != -1)
        fits = total % known == 0 if -1 in self.shape else total == known
        if not fits:
            need = f"a multiple of {known}" if -1 in self.shape else str(known)
            raise LayerShapeError(
                f"reshape to {self.shape} needs {need} values per sample, but "
                f"{format_shape(in_shape)} has {total}"
            )

    def build(self, in_shape: Shape) -> nn.Module:
        from dltui.layers.modules import Reshape as ReshapeModule

        return ReshapeModule(self.shape)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """``shape`` with -1 resolved."""
        known = math.prod(d for d in self.shape if d != -1)
        free = math.prod(in_shape) // known
        return tuple(free if d == -1 else d for d in self.shape)


@register
class Permute(Layer):
    """Reorder the per-sample dimensions, e.g. [1, 0] turns (C, L) into (L, C)."""

    type: Literal["permute"] = "permute"
    shapes = "(d0, d1, ...) -> (d[dims[0]], d[dims[1]], ...)"
    input_kind = "any"
    dims: list[int] = Field(
        min_length=1,
        description="New order of the per-sample dimensions, counted from 0 (no batch).",
    )

    @field_validator("dims")
    @classmethod
    def _is_permutation(cls, dims: list[int]) -> list[int]:
        if sorted(dims) != list(range(len(dims))):
            raise ValueError(
                f"must list each of 0..{len(dims) - 1} exactly once (a permutation), got {dims}"
            )
        return dims

    def check_input(self, in_shape: Shape) -> None:
        if len(self.dims) != len(in_shape):
            raise LayerShapeError(
                f"permute with dims {self.dims} needs a {len(self.dims)}-dimensional input, "
                f"got {format_shape(in_shape)} ({len(in_shape)} dimensions)"
            )

    def build(self, in_shape: Shape) -> nn.Module:
        from dltui.layers.modules import Permute as PermuteModule

        return PermuteModule(self.dims)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """The input's dimensions in ``dims`` order."""
        return tuple(in_shape[d] for d in self.dims)


@register
class Dropout(Layer):
    """Zero each value with probability p while training (scaled by 1/(1-p))."""

    type: Literal["dropout"] = "dropout"
    shapes = "(*) -> (*)"
    p: float = Field(default=0.5, ge=0.0, lt=1.0, description="Probability of zeroing a value.")

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Dropout(self.p)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """Same shape as the input."""
        return in_shape


@register
class Dropout2d(Layer):
    """Zero whole channels of an image with probability p while training."""

    type: Literal["dropout2d"] = "dropout2d"
    shapes = "(C, H, W) -> (C, H, W)"
    p: float = Field(default=0.5, ge=0.0, lt=1.0, description="Probability of zeroing a channel.")

    def check_input(self, in_shape: Shape) -> None:
        require_rank("dropout2d", in_shape, 3, "(C, H, W)", "use dropout for other shapes")

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Dropout2d(self.p)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """Same shape as the input."""
        return in_shape


@register
class Embedding(Layer):
    """A learned vector per token id: integer ids (L,) -> vectors (L, embedding_dim)."""

    type: Literal["embedding"] = "embedding"
    shapes = "(L,) int64 -> (L, embedding_dim)"
    input_kind = "tokens"
    num_embeddings: int = Field(ge=1, description="Vocabulary size: ids run 0..num_embeddings-1.")
    embedding_dim: int = Field(ge=1, description="Length of each token's vector.")
    padding_idx: int | None = Field(
        default=None,
        ge=0,
        description="A token id whose vector stays zero and gets no gradient (padding).",
    )

    @field_validator("padding_idx")
    @classmethod
    def _padding_in_vocab(cls, value: int | None, info: ValidationInfo) -> int | None:
        vocab = info.data.get("num_embeddings")
        if value is not None and vocab is not None and value >= vocab:
            raise ValueError(f"must be below num_embeddings ({vocab}), got {value}")
        return value

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Embedding(self.num_embeddings, self.embedding_dim, padding_idx=self.padding_idx)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """A vector per token id."""
        return (*in_shape, self.embedding_dim)


@register
class Identity(Layer):
    """Pass the input through unchanged (a placeholder, or a named tap point)."""

    type: Literal["identity"] = "identity"
    shapes = "(*) -> (*)"
    input_kind = "any"

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        return nn.Identity()

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """Same shape as the input."""
        return in_shape
