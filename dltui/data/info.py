"""What a data source yields: its description and its train/val/test tensors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import torch

Task = Literal["classification", "regression", "language_model", "generative"]
InputDtype = Literal["float32", "int64"]


@dataclass(frozen=True)
class DataInfo:
    """A data source described without loading it all.

    Shapes are per sample, without the batch dimension. ``target_shape`` is ``()``
    for class indices and token-free generative sets, ``(k,)`` for regression and
    ``(L,)`` for next-token targets.
    """

    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...]
    task: Task
    num_classes: int | None = None
    class_names: list[str] | None = None
    vocab: list[str] | None = None
    """The characters of a language model, in token-id order."""
    input_dtype: InputDtype = "float32"
    samples: int = 0
    """Samples in all splits together (for files: every file given)."""


@dataclass(frozen=True)
class TensorSplit:
    """One split: inputs ``x`` and targets ``y`` as CPU tensors with the same first dimension."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True)
class Splits:
    """The training, validation and test splits of a source, and its description.

    A split that was not asked for (fraction 0, no file) has zero rows.
    """

    train: TensorSplit
    val: TensorSplit
    test: TensorSplit
    info: DataInfo
