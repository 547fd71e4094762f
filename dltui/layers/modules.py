"""The torch modules behind layer kinds that PyTorch has no single module for.

This module imports torch at import time, so only build functions import it
(lazily); the rest of `dltui.layers` stays importable without torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from dltui.layers.registry import select_layer


class Reshape(nn.Module):
    """Reshape each sample to ``shape`` (one entry may be -1); the batch dimension stays."""

    def __init__(self, shape: Sequence[int]):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: Tensor) -> Tensor:
        """``x`` of shape (N, *in) -> (N, *shape)."""
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


class Permute(nn.Module):
    """Reorder the per-sample dimensions; ``dims`` counts from 0 after the batch."""

    def __init__(self, dims: Sequence[int]):
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x: Tensor) -> Tensor:
        """``x`` of shape (N, *in) -> (N, *in permuted)."""
        return x.permute(0, *(d + 1 for d in self.dims))

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class GlobalAvgPool(nn.Module):
    """Average over every dimension after the channels: (N, C, ...) -> (N, C)."""

    def forward(self, x: Tensor) -> Tensor:
        """Mean over the trailing (spatial or time) dimensions."""
        return x.flatten(2).mean(dim=-1)


class SequencePool(nn.Module):
    """Reduce a sequence (N, L, F) to one vector per sample (N, F)."""

    def __init__(self, mode: Literal["mean", "max", "first", "last"]):
        super().__init__()
        self.mode = mode

    def forward(self, x: Tensor) -> Tensor:
        """Pool over the length dimension."""
        if self.mode == "mean":
            return x.mean(dim=1)
        if self.mode == "max":
            return x.amax(dim=1)
        if self.mode == "first":
            return x[:, 0]
        return x[:, -1]

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"


class Recurrent(nn.Module):
    """An RNN/LSTM/GRU (batch-first) that returns either the sequence or its summary.

    ``output="last"`` gives the final hidden state of the top layer, both
    directions concatenated: for the backward direction that is the state after
    reading the whole sequence, which is what a classifier wants (the backward
    half of ``output[:, -1]`` has seen only the last step).
    """

    def __init__(self, rnn: nn.RNNBase, output: Literal["last", "sequence"]):
        super().__init__()
        self.rnn = rnn
        self.output = output

    def forward(self, x: Tensor) -> Tensor:
        """(N, L, F) -> (N, L, H*dirs) or (N, H*dirs)."""
        sequence, state = self.rnn(x)
        if self.output == "sequence":
            return sequence
        hidden = state[0] if isinstance(state, tuple) else state
        if self.rnn.bidirectional:
            return torch.cat([hidden[-2], hidden[-1]], dim=-1)
        return hidden[-1]

    def extra_repr(self) -> str:
        return f"output={self.output!r}"


def sinusoidal_table(max_len: int, dim: int) -> Tensor:
    """The fixed sine/cosine position table of "Attention Is All You Need", (max_len, dim).

    Computed on the CPU whatever the default device: under the meta device the
    arithmetic would pull in torch's symbolic-shape machinery for nothing.
    """
    cpu = torch.device("cpu")
    position = torch.arange(max_len, dtype=torch.float32, device=cpu).unsqueeze(1)
    steps = torch.arange(0, dim, 2, dtype=torch.float32, device=cpu)
    rate = torch.exp(steps * (-math.log(10000.0) / dim))
    table = torch.zeros(max_len, dim, device=cpu)
    table[:, 0::2] = torch.sin(position * rate)
    # An odd width has one cosine column fewer than sine columns.
    table[:, 1::2] = torch.cos(position * rate)[:, : dim // 2]
    return table


class PositionalEncoding(nn.Module):
    """Add a position code to each step of (N, L, D): fixed sinusoids or learned vectors."""

    def __init__(
        self, kind: Literal["sinusoidal", "learned"], max_len: int, dim: int, dropout: float
    ):
        super().__init__()
        self.kind = kind
        self.table: Tensor
        if kind == "learned":
            self.table = nn.Parameter(torch.empty(max_len, dim))
            nn.init.normal_(self.table, std=0.02)
        else:
            # Not persistent: it is recomputed, so checkpoints carry no constant tables.
            table = sinusoidal_table(max_len, dim).to(torch.get_default_device())
            self.register_buffer("table", table, persistent=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """x + table[:L]."""
        return self.dropout(x + self.table[: x.shape[1]])

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, max_len={self.table.shape[0]}, dim={self.table.shape[1]}"


def causal_mask(length: int, device: torch.device) -> Tensor:
    """Boolean (L, L) mask, True where a step would look at a later step."""
    return torch.ones(length, length, dtype=torch.bool, device=device).triu(1)


class SelfAttention(nn.Module):
    """Multi-head self-attention over (N, L, D), optionally causal (no look-ahead)."""

    def __init__(self, dim: int, num_heads: int, dropout: float, bias: bool, causal: bool):
        super().__init__()
        self.attention = nn.MultiheadAttention(
            dim, num_heads, dropout=dropout, bias=bias, batch_first=True
        )
        self.causal = causal

    def forward(self, x: Tensor) -> Tensor:
        """Queries, keys and values are all ``x``."""
        mask = causal_mask(x.shape[1], x.device) if self.causal else None
        out, _ = self.attention(x, x, x, attn_mask=mask, need_weights=False, is_causal=self.causal)
        return out

    def extra_repr(self) -> str:
        return f"causal={self.causal}"


class TransformerEncoder(nn.Module):
    """A stack of transformer encoder layers over (N, L, D), optionally causal."""

    def __init__(self, encoder: nn.TransformerEncoder, causal: bool):
        super().__init__()
        self.encoder = encoder
        self.causal = causal

    def forward(self, x: Tensor) -> Tensor:
        """(N, L, D) -> (N, L, D)."""
        if not self.causal:
            return self.encoder(x)
        length = x.shape[1]
        mask = torch.full((length, length), float("-inf"), device=x.device).triu(1)
        return self.encoder(x, mask=mask, is_causal=True)

    def extra_repr(self) -> str:
        return f"causal={self.causal}"


class ResidualBlock(nn.Module):
    """``layers(x) + projection(x)``: a sub-stack with a skip connection."""

    def __init__(self, layers: Sequence[nn.Module], projection: nn.Module):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.projection = projection

    def forward(self, x: Tensor) -> Tensor:
        """Run the sub-stack and add the (projected) input."""
        out = x
        for layer in self.layers:
            out = layer(out)
        return out + self.projection(x)


class LayerStack(nn.Module):
    """The model of a ``[[model.layers]]`` list: its layers applied in order.

    Parameter names are ``layers.<index>.<name>`` so checkpoints stay loadable
    as long as the stack's order does. ``labels[i]`` is layer i's ``name`` or
    ``f"{i}_{type}"``: the key of gradient norms, ``freeze`` and the dashboard.
    """

    def __init__(self, layers: Sequence[nn.Module], labels: Sequence[str]):
        super().__init__()
        if len(layers) != len(labels):
            raise ValueError(f"{len(layers)} layers but {len(labels)} labels")
        self.layers = nn.ModuleList(layers)
        self.labels = list(labels)

    def forward(self, x: Tensor) -> Tensor:
        """Apply every layer in order."""
        for layer in self.layers:
            x = layer(x)
        return x

    def layer_parameters(self) -> list[tuple[str, list[nn.Parameter]]]:
        """(label, parameters) of each layer that has parameters, frozen ones included."""
        out = []
        for label, layer in zip(self.labels, self.layers, strict=True):
            params = list(layer.parameters())
            if params:
                out.append((label, params))
        return out

    def select(self, selector: int | str) -> int:
        """The index an index (negative counts from the end) or a label selects.

        Raises `LayerSelectorError` naming the selector and the layers that exist.
        """
        return select_layer(self.labels, selector)

    def freeze(self, selectors: Sequence[int | str]) -> list[str]:
        """Stop gradients to the selected layers' parameters; returns their labels.

        Every selector is checked before anything changes, so a typo freezes
        nothing. Batch-norm running statistics still update in training mode:
        freezing stops learning, not the layer's own bookkeeping.
        """
        indices = [self.select(s) for s in selectors]
        for index in indices:
            for param in self.layers[index].parameters():
                param.requires_grad_(False)
        return [self.labels[i] for i in dict.fromkeys(indices)]
