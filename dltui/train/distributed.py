"""DDP under ``torchrun``: who this process is, the process group, and reductions.

``torchrun --nproc-per-node N dltui run FILE`` sets RANK, WORLD_SIZE and
LOCAL_RANK; each process trains a shard of every epoch, gradients are averaged
by DistributedDataParallel, and rank 0 alone creates the run directory and
records.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job (rank 0 of 1 without torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        """Whether more than one process trains."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Whether this process records (rank 0)."""
        return self.rank == 0


def from_environment() -> DistInfo:
    """Read RANK/WORLD_SIZE/LOCAL_RANK as torchrun sets them; a single process otherwise."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError as error:
        raise ValueError(f"RANK/WORLD_SIZE/LOCAL_RANK must be integers ({error})") from None
    return DistInfo(rank, world, local) if world > 1 else DistInfo()


def init_process_group(info: DistInfo, device: torch.device) -> None:
    """Join the job's process group: NCCL on CUDA, Gloo otherwise."""
    if not info.enabled or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)


def shutdown() -> None:
    """Leave the process group, if joined, once every process has reached here.

    Without the barrier a rank that finishes first tears its Gloo transport
    down while a slower peer still talks to it, and that peer aborts
    ("terminate called without an active exception") under load.
    """
    if dist.is_available() and dist.is_initialized():
        try:
            if dist.get_backend() == "gloo":
                # Bounded: a peer that died must not hold this one for Gloo's 30 min.
                dist.monitored_barrier(timeout=datetime.timedelta(seconds=60))
            else:
                dist.barrier()
        except RuntimeError:
            pass  # a peer is gone already: leave anyway
        dist.destroy_process_group()


def all_sum(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Sum a tensor over every process (a no-op alone)."""
    if info.enabled:
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def any_true(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """Whether ``flag`` is true on any process (e.g. a stop request seen by one rank)."""
    if not info.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def broadcast_text(text: str, info: DistInfo) -> str:
    """Rank 0's ``text`` on every process (the run directory, say)."""
    if not info.enabled:
        return text
    box: list[str] = [text]
    dist.broadcast_object_list(box, src=0)
    return box[0]
