"""Recurrent layers over batch-first sequences (L, F): rnn, lstm, gru."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, ValidationInfo, field_validator

from dltui.layers.kinds.core import require_rank
from dltui.layers.registry import Layer, Shape, register

if TYPE_CHECKING:
    from torch import nn


class RecurrentLayer(Layer):
    """What rnn, lstm and gru share."""

    category = "recurrent"
    shapes = "(L, F) -> (H*dirs,) [last] | (L, H*dirs) [sequence]"

    hidden_size: int = Field(ge=1, description="Size of the hidden state (H).")
    num_layers: int = Field(default=1, ge=1, description="Recurrent layers stacked on each other.")
    bidirectional: bool = Field(
        default=False, description="Also read the sequence backwards (output size 2*H)."
    )
    dropout: float = Field(
        default=0.0,
        ge=0.0,
        lt=1.0,
        description="Dropout between stacked layers; needs num_layers > 1.",
    )
    output: Literal["last", "sequence"] = Field(
        default="last",
        description="last: the final hidden state (H*dirs,); sequence: every step (L, H*dirs).",
    )
    bias: bool = Field(default=True, description="Learn input and hidden biases.")

    @field_validator("dropout")
    @classmethod
    def _only_between_layers(cls, value: float, info: ValidationInfo) -> float:
        layers = info.data.get("num_layers")
        if value > 0 and layers == 1:
            raise ValueError(
                "dropout applies only between stacked layers, so with num_layers = 1 it does "
                "nothing: set num_layers >= 2, or add a dropout layer after this one"
            )
        return value

    def check_input(self, in_shape: Shape) -> None:
        hint = (
            "add an embedding layer for token ids, or reshape to (L, F)"
            if len(in_shape) == 1
            else "permute or reshape to (L, F) (batch-first: length, then features)"
        )
        require_rank(self.type, in_shape, 2, "(L, F)", hint)

    def build(self, in_shape: Shape) -> nn.Module:
        from dltui.layers.modules import Recurrent

        return Recurrent(self.make_rnn(in_shape[-1]), self.output)

    def output_shape(self, in_shape: Shape) -> Shape | None:
        """(H*dirs,) for the last state, (L, H*dirs) for the sequence."""
        width = self.hidden_size * (2 if self.bidirectional else 1)
        return (width,) if self.output == "last" else (in_shape[0], width)

    def make_rnn(self, features: int) -> nn.RNNBase:
        """The torch recurrent module for ``features`` inputs per step."""
        raise NotImplementedError

    def rnn_options(self) -> dict[str, object]:
        """Keyword arguments all torch recurrent modules take."""
        return {
            "num_layers": self.num_layers,
            "bias": self.bias,
            "batch_first": True,
            "dropout": self.dropout,
            "bidirectional": self.bidirectional,
        }


@register
class RNN(RecurrentLayer):
    """Elman RNN: h_t = act(W x_t + U h_{t-1} + b)."""

    type: Literal["rnn"] = "rnn"
    nonlinearity: Literal["tanh", "relu"] = Field(
        default="tanh", description="Activation of the hidden state."
    )

    def make_rnn(self, features: int) -> nn.RNNBase:
        from torch import nn

        return nn.RNN(
            features, self.hidden_size, nonlinearity=self.nonlinearity, **self.rnn_options()
        )


@register
class LSTM(RecurrentLayer):
    """Long short-term memory: gated cell state for long-range dependencies."""

    type: Literal["lstm"] = "lstm"

    def make_rnn(self, features: int) -> nn.RNNBase:
        from torch import nn

        return nn.LSTM(features, self.hidden_size, **self.rnn_options())


@register
class GRU(RecurrentLayer):
    """Gated recurrent unit: an LSTM with fewer gates and no separate cell state."""

    type: Literal["gru"] = "gru"

    def make_rnn(self, features: int) -> nn.RNNBase:
        from torch import nn

        return nn.GRU(features, self.hidden_size, **self.rnn_options())
