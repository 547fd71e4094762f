"""Attention: positional encoding, multi-head self-attention, transformer encoder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from dltui.layers.kinds.core import require_rank
from dltui.layers.registry import Layer, LayerShapeError, Shape, format_shape, register

if TYPE_CHECKING:
    from torch import nn

_SEQUENCE_HINT = "add an embedding layer (token ids) or a dense layer (features) before it"


def check_sequence(kind: str, in_shape: Shape) -> None:
    """Raise unless ``in_shape`` is a sequence of vectors (L, D)."""
    hint = _SEQUENCE_HINT if len(in_shape) == 1 else "reshape or permute to (L, D)"
    require_rank(kind, in_shape, 2, "(L, D)", hint)


def check_heads(kind: str, in_shape: Shape, num_heads: int) -> None:
    """Raise unless the model width D divides into ``num_heads`` heads."""
    width = in_shape[-1]
    if width % num_heads:
        fits = [h for h in range(1, min(width, 16) + 1) if width % h == 0]
        raise LayerShapeError(
            f"{kind} splits the width D={width} of {format_shape(in_shape)} into "
            f"num_heads={num_heads} heads, but {width} is not divisible by {num_heads}: "
            f"use num_heads in {fits}, or change the width before it"
        )


@register
class PositionalEncoding(Layer):
    """Add position information to a sequence of vectors (fixed sinusoids or learned)."""

    type: Literal["positional_encoding"] = "positional_encoding"
    category = "attention"
    shapes = "(L, D) -> (L, D)"
    kind: Literal["sinusoidal", "learned"] = Field(
        default="sinusoidal",
        description="Fixed sine/cosine table, or a learned vector per position.",
    )
    max_len: int = Field(default=512, ge=1, description="Longest sequence it can encode.")
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0, description="Dropout after adding.")

    def check_input(self, in_shape: Shape) -> None:
        check_sequence("positional_encoding", in_shape)
        if in_shape[0] > self.max_len:
            raise LayerShapeError(
                f"positional_encoding has max_len={self.max_len}, but the sequence "
                f"{format_shape(in_shape)} is {in_shape[0]} long: raise max_len"
            )

    def build(self, in_shape: Shape) -> nn.Module:
        from dltui.layers.modules import PositionalEncoding as PositionalEncodingModule

        return PositionalEncodingModule(self.kind, self.max_len, in_shape[-1], self.dropout)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """Same shape as the input."""
        return in_shape


@register
class SelfAttention(Layer):
    """Multi-head self-attention over (L, D); the width D comes from the input."""

    type: Literal["self_attention"] = "self_attention"
    category = "attention"
    shapes = "(L, D) -> (L, D)"
    num_heads: int = Field(default=1, ge=1, description="Attention heads; must divide D.")
    dropout: float = Field(
        default=0.0, ge=0.0, lt=1.0, description="Dropout on the attention weights."
    )
    causal: bool = Field(
        default=False, description="Each step attends only to itself and earlier steps."
    )
    bias: bool = Field(default=True, description="Learn biases in the projections.")

    def check_input(self, in_shape: Shape) -> None:
        check_sequence("self_attention", in_shape)
        check_heads("self_attention", in_shape, self.num_heads)

    def build(self, in_shape: Shape) -> nn.Module:
        from dltui.layers.modules import SelfAttention as SelfAttentionModule

        return SelfAttentionModule(
            in_shape[-1], self.num_heads, self.dropout, self.bias, self.causal
        )

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """Same shape as the input."""
        return in_shape


@register
class TransformerEncoder(Layer):
    """Transformer encoder blocks (self-attention + feed-forward, each with residual + norm)."""

    type: Literal["transformer_encoder"] = "transformer_encoder"
    category = "attention"
    shapes = "(L, D) -> (L, D)"
    num_heads: int = Field(default=1, ge=1, description="Attention heads; must divide D.")
    dim_feedforward: int | None = Field(
        default=None, ge=1, description="Width of the feed-forward layer; default 4*D."
    )
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0, description="Dropout inside each block.")
    num_layers: int = Field(default=1, ge=1, description="Number of encoder blocks.")
    activation: Literal["relu", "gelu"] = Field(
        default="relu", description="Activation of the feed-forward layer."
    )
    norm_first: bool = Field(
        default=False, description="Pre-norm (LayerNorm before each sub-block; trains deeper)."
    )
    causal: bool = Field(
        default=False, description="Each step attends only to itself and earlier steps."
    )

    def check_input(self, in_shape: Shape) -> None:
        check_sequence("transformer_encoder", in_shape)
        check_heads("transformer_encoder", in_shape, self.num_heads)

    def build(self, in_shape: Shape) -> nn.Module:
        from torch import nn

        from dltui.layers.modules import TransformerEncoder as TransformerEncoderModule

        width = in_shape[-1]
        block = nn.TransformerEncoderLayer(
            width,
            self.num_heads,
            dim_feedforward=self.dim_feedforward or 4 * width,
            dropout=self.dropout,
            activation=self.activation,
            batch_first=True,
            norm_first=self.norm_first,
        )
        # The nested-tensor fast path warns with norm_first and changes nothing for us.
        encoder = nn.TransformerEncoder(block, self.num_layers, enable_nested_tensor=False)
        return TransformerEncoderModule(encoder, self.causal)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """Same shape as the input."""
        return in_shape
