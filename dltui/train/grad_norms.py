"""Gradient norms per layer: one device tensor per log step, summed by layer on the host.

Used by the trainer (every ``log_every`` steps) and by `dltui.tracking`'s
``log_grad_norms`` for people's own scripts; it imports torch and nothing else
of dltui, so the logging API does not load the trainer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn


@dataclass
class LayerGroups:
    """Trainable parameters by layer label, for gradient norms."""

    labels: list[str]
    params: list[list[nn.Parameter]]
    flat: list[nn.Parameter] = field(default_factory=list)
    weights: list[nn.Parameter] = field(default_factory=list)
    """The matrices and kernels of ``flat`` (not biases or norm scales): what L1 penalises."""
    owner: list[int] = field(default_factory=list)
    """The layer index of each parameter of ``flat``."""

    def __post_init__(self) -> None:
        self.flat = [p for group in self.params for p in group]
        self.weights = [p for p in self.flat if p.dim() > 1]
        self.owner = [i for i, group in enumerate(self.params) for _ in group]


@dataclass
class GradNorms:
    """The gradient norm of each parameter that had a gradient, still on the device."""

    norms: torch.Tensor
    present: tuple[bool, ...]
    """Which parameters of `LayerGroups.flat` had a gradient (``norms`` has one per True)."""


def layer_groups(stack: Any, prefix: str = "") -> LayerGroups:
    """Trainable parameters of each labelled layer of a LayerStack."""
    labels, params = [], []
    for label, layer in zip(stack.labels, stack.layers, strict=True):
        trainable = [p for p in layer.parameters() if p.requires_grad]
        if trainable:
            labels.append(prefix + label)
            params.append(trainable)
    return LayerGroups(labels, params)


def joined(*groups: LayerGroups) -> LayerGroups:
    """Several models' groups as one (a GAN's generator and discriminator)."""
    return LayerGroups(
        [label for g in groups for label in g.labels], [p for g in groups for p in g.params]
    )


def grad_norms(groups: LayerGroups) -> GradNorms:
    """The L2 norm of every gradient, as one device tensor: no host sync, two kernels.

    Per-layer norms are summed from these on the host (`layer_norms`), after the
    one transfer the log step makes anyway: on a small model, the half-dozen tiny
    device ops that summed them per layer cost more than the norms themselves.
    """
    present = tuple(p.grad is not None for p in groups.flat)
    grads = [p.grad for p in groups.flat if p.grad is not None]
    if not grads:
        return GradNorms(torch.zeros(0), present)
    # In float32 whatever the gradients' precision: a half-precision norm overflows at 65504.
    return GradNorms(torch.stack(torch._foreach_norm(grads, 2, dtype=torch.float32)), present)


def layer_norms(
    groups: LayerGroups, present: tuple[bool, ...], norms: list[float]
) -> tuple[list[float | None], float]:
    """Each layer's gradient norm (None: no gradient this step) and the total, on the host.

    ``norms`` are the values of `grad_norms` for the parameters marked ``present``.
    """
    squares: list[float | None] = [None] * len(groups.params)
    owners = (owner for owner, has in zip(groups.owner, present, strict=True) if has)
    for owner, norm in zip(owners, norms, strict=True):
        squares[owner] = (squares[owner] or 0.0) + norm * norm
    total = math.sqrt(sum(s for s in squares if s is not None))
    return [math.sqrt(s) if s is not None else None for s in squares], total


def weight_l1(groups: LayerGroups) -> torch.Tensor:
    """Sum of |w| over the weights (not biases or norm scales) of trainable layers."""
    return torch.stack([w.abs().sum() for w in groups.weights]).sum()
