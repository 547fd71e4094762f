"""The metrics of ``training.metrics``, computed with torchmetrics on the device.

`MetricSet.update` runs inside the training loop, so it never syncs with the
host: argument validation (which inspects values) is off, and values are
read only by `compute` at the end of an epoch.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    import torchmetrics


class MetricSet:
    """One split's metrics for one epoch: `update` per batch, `compute` at the end."""

    def __init__(
        self,
        names: list[str],
        *,
        task: str,
        num_classes: int | None,
        loss: str,
        device: torch.device,
        confusion: bool = False,
    ) -> None:
        """``confusion``: also count a confusion matrix (classification only), for
        `take_confusion`; the final test asks for it."""
        self.names = [n for n in names if n != "perplexity"]
        self.loss = loss
        self.task = task
        self.binary = task == "classification" and (num_classes or 2) == 2
        self.metrics: dict[str, torchmetrics.Metric] = {}
        self.confusion: torchmetrics.Metric | None = None
        confusion = confusion and task == "classification"
        if not self.names and not confusion:
            return
        # torchmetrics pulls in scipy (~1 s): only runs that ask for metrics pay for it.
        from torchmetrics import classification as C
        from torchmetrics import regression as R

        k = num_classes or 2
        if confusion:
            self.confusion = C.MulticlassConfusionMatrix(k, validate_args=False).to(device)
        for name in self.names:
            metric: torchmetrics.Metric
            if name == "accuracy":
                metric = C.MulticlassAccuracy(k, average="micro", validate_args=False)
            elif name == "top5_accuracy":
                metric = C.MulticlassAccuracy(
                    k, top_k=min(5, k), average="micro", validate_args=False
                )
            elif name in ("precision", "recall", "f1"):
                cls = {
                    "precision": C.MulticlassPrecision,
                    "recall": C.MulticlassRecall,
                    "f1": C.MulticlassF1Score,
                }[name]
                metric = cls(k, average="macro", validate_args=False)
            elif name == "auroc":
                metric = C.MulticlassAUROC(k, average="macro", validate_args=False)
            elif name == "mae":
                metric = R.MeanAbsoluteError()
            elif name == "mse":
                metric = R.MeanSquaredError()
            elif name == "rmse":
                metric = R.MeanSquaredError(squared=False)
            elif name == "r2":
                metric = R.R2Score()
            else:
                raise ValueError(f"training.metrics: unknown metric {name!r}")
            self.metrics[name] = metric.to(device)

    def _probabilities(self, out: torch.Tensor) -> torch.Tensor:
        """Class probabilities (N, C) from the model's output, per the loss it trains with."""
        out = out.detach().float()
        if out.shape[-1] == 1 or out.dim() == 1:
            p = out.reshape(-1) if self.loss == "bce" else torch.sigmoid(out.reshape(-1))
            return torch.stack([1 - p, p], dim=1)
        if self.loss == "nll":
            return out.exp()
        if self.loss in ("bce", "mse", "l1", "huber", "smooth_l1"):
            return out
        if self.loss == "bce_with_logits":
            return torch.sigmoid(out)
        return torch.softmax(out, dim=-1)

    @property
    def active(self) -> bool:
        """Whether `update` has anything to count."""
        return bool(self.metrics) or self.confusion is not None

    @torch.no_grad()
    def update(self, out: torch.Tensor, y: torch.Tensor) -> None:
        """Add one batch of outputs and targets."""
        if not self.active:
            return
        if self.task == "classification":
            probs = self._probabilities(out)
            for metric in self.metrics.values():
                metric.update(probs, y)
            if self.confusion is not None:
                self.confusion.update(probs, y)
        else:
            pred = out.detach().float()
            target = y.float().reshape(pred.shape)
            if pred.dim() > 2:
                pred, target = pred.reshape(len(pred), -1), target.reshape(len(target), -1)
            if pred.dim() == 2 and pred.shape[1] == 1:
                pred, target = pred[:, 0], target[:, 0]
            for metric in self.metrics.values():
                metric.update(pred, target)

    def compute(self) -> dict[str, float]:
        """Each metric's value over the epoch (NaN when it is undefined), then reset."""
        values: dict[str, float] = {}
        for name, metric in self.metrics.items():
            try:
                value = metric.compute()
                values[name] = float(value.float().mean())
            except (ValueError, RuntimeError):
                # e.g. AUROC with one class in the split.
                values[name] = math.nan
            metric.reset()
        return values

    def take_confusion(self) -> list[list[int]] | None:
        """The confusion matrix counted so far (rows: true class, columns: predicted), then
        reset; None when none is counted. Under DDP every rank must call it (it syncs)."""
        if self.confusion is None:
            return None
        matrix = self.confusion.compute()
        self.confusion.reset()
        return [[int(count) for count in row] for row in matrix.tolist()]

    def reset(self) -> None:
        """Forget everything seen (used when a split is skipped)."""
        for metric in self.metrics.values():
            metric.reset()
        if self.confusion is not None:
            self.confusion.reset()
