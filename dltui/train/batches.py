"""Batches of a split on the training device.

Data that fits stays on the device as two tensors and is batched by gathering
slices of a per-epoch permutation (no DataLoader, no per-sample Python). Larger data, or
``data.num_workers > 0``, goes through a DataLoader with workers (and pinned
memory on CUDA) over the same permutation, so both paths visit the samples in
the same order and resume alike.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, TensorDataset

from dltui.data import TensorSplit

# Above this many bytes a CUDA run streams batches instead of copying the split
# to the device (a quarter of free memory also caps it, see `fits_on_device`).
DEVICE_BYTES_LIMIT = 4 << 30


def split_bytes(split: TensorSplit) -> int:
    """Bytes of a split's inputs and targets."""
    return split.x.numel() * split.x.element_size() + split.y.numel() * split.y.element_size()


def fits_on_device(total_bytes: int, device: torch.device) -> bool:
    """Whether ``total_bytes`` of data can live on ``device`` next to the model."""
    if device.type != "cuda":
        return True  # on CPU the tensors already are in memory; on MPS memory is shared
    free, _ = torch.cuda.mem_get_info(device)
    return total_bytes <= min(DEVICE_BYTES_LIMIT, free // 4)


class BatchSource:
    """One split, either resident on the device or streamed by a DataLoader."""

    def __init__(
        self,
        split: TensorSplit,
        device: torch.device,
        *,
        batch_size: int,
        resident: bool,
        num_workers: int = 0,
    ) -> None:
        self.device = device
        self.batch_size = batch_size
        self.resident = resident
        self.num_workers = num_workers
        self.n = len(split)
        if resident:
            self.x = split.x.to(device)
            self.y = split.y.to(device)
        else:
            self.x, self.y = split.x, split.y
            self.dataset = TensorDataset(split.x, split.y)

    def __len__(self) -> int:
        return self.n

    def steps(self, count: int) -> int:
        """Batches needed for ``count`` samples."""
        return (count + self.batch_size - 1) // self.batch_size

    def batches(self, order: torch.Tensor | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(x, y) batches on the device, in ``order`` (indices) or in storage order."""
        bs = self.batch_size
        if self.resident:
            if order is None:
                for start in range(0, self.n, bs):
                    yield self.x[start : start + bs], self.y[start : start + bs]
            else:
                order = order.to(self.device)
                x, y = self.x, self.y
                for start in range(0, len(order), bs):
                    idx = order[start : start + bs]
                    # index_select, not x[idx]: advanced indexing takes a general
                    # path, several times slower on CPU. Per batch, not per epoch:
                    # as fast (the batch stays in cache) and no copy of the split.
                    yield x.index_select(0, idx), y.index_select(0, idx)
            return
        indices = range(self.n) if order is None else order.cpu().tolist()
        loader = DataLoader(
            self.dataset,
            batch_size=bs,
            sampler=indices,
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
        )
        non_blocking = self.device.type == "cuda"
        for x, y in loader:
            yield (
                x.to(self.device, non_blocking=non_blocking),
                y.to(self.device, non_blocking=non_blocking),
            )
