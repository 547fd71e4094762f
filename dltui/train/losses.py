"""The loss of ``training.loss``, with targets converted the way each loss needs them.

Classification targets arrive as int64 class indices ``(N,)``; regression as
float ``(N, k)``; language models as int64 ``(N, L)`` against outputs
``(N, L, V)``. Cross-entropy and NLL take indices (sequences are flattened);
the BCE family and the regression losses take float targets of the output's
shape: one unit -> the 0/1 target as ``(N, 1)``, several units -> one-hot.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

_INDEX_LOSSES = ("cross_entropy", "nll")


def build_loss(
    name: str, *, task: str, label_smoothing: float = 0.0, huber_delta: float = 1.0
) -> Loss:
    """``loss(outputs, targets)`` for loss ``name`` on data of ``task``."""
    if name in _INDEX_LOSSES:
        if task == "regression":
            raise ValueError(
                f"training.loss: {name} needs class targets, but the data is regression "
                "(use mse, l1, huber or smooth_l1)"
            )
        if task == "classification":
            # Outputs are (N, classes) (the model summary makes sure): torch's own
            # function, without a wrapper's call per step.
            if name == "nll":
                return F.nll_loss
            if label_smoothing:
                return functools.partial(F.cross_entropy, label_smoothing=label_smoothing)
            return F.cross_entropy

        def index_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            if out.dim() > 2:
                # (N, L, V) vs (N, L): every position is a classification.
                out, y = out.reshape(-1, out.shape[-1]), y.reshape(-1)
            if name == "cross_entropy":
                return F.cross_entropy(out, y, label_smoothing=label_smoothing)
            return F.nll_loss(out, y)

        return index_loss

    if task == "language_model":
        raise ValueError(f"training.loss: a language model needs cross_entropy or nll, not {name}")

    def as_float_targets(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if not y.is_floating_point():
            if out.shape[-1] == 1 or out.dim() == y.dim():
                y = y.to(out.dtype).reshape(out.shape)
            else:
                y = F.one_hot(y, out.shape[-1]).to(out.dtype)
        elif y.shape != out.shape and y.numel() == out.numel():
            y = y.reshape(out.shape)
        return y.to(out.dtype)

    functions: dict[str, Loss] = {
        "bce": lambda out, y: F.binary_cross_entropy(out.float(), as_float_targets(out.float(), y)),
        "bce_with_logits": lambda out, y: F.binary_cross_entropy_with_logits(
            out, as_float_targets(out, y)
        ),
        "mse": lambda out, y: F.mse_loss(out, as_float_targets(out, y)),
        "l1": lambda out, y: F.l1_loss(out, as_float_targets(out, y)),
        "huber": lambda out, y: F.huber_loss(out, as_float_targets(out, y), delta=huber_delta),
        "smooth_l1": lambda out, y: F.smooth_l1_loss(out, as_float_targets(out, y)),
    }
    if name not in functions:
        raise ValueError(f"training.loss: unknown loss {name!r}")
    return functions[name]
