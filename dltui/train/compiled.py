"""``training.compile``: the model through `torch.compile`, or as it was when that fails.

torch.compile is lazy: it traces and compiles the forward at the first call and
lowers the backward at the first backward, and either can fail (no C++
compiler for inductor, an operation dynamo cannot trace, a torch bug). So the
model is compiled here, before the first epoch, by one forward and backward on
the first training batch; a failure then leaves the run training the model
uncompiled, with a line saying why, instead of failing it mid-epoch. The probe
changes nothing the run keeps: the weights and buffers (batch-norm statistics),
the gradients and torch's global random state are put back as they were.

What the probe costs is the compile's warm-up; the run's first epoch pays any
recompilation (its last, shorter batch; evaluation, which runs without
gradients). A recompilation that fails later is not caught: it fails the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import nn

from dltui.train.batches import BatchSource
from dltui.train.records import Recorder

if TYPE_CHECKING:
    from dltui.train.supervised import Supervised

ERROR_CHARS = 300
"""How much of a compile error's first line the run's output quotes."""


def compile_model(
    part: Supervised,
    source: BatchSource,
    autocast: Callable[[], AbstractContextManager[Any]],
    recorder: Recorder,
) -> nn.Module:
    """``part.model`` compiled and warmed up on ``source``'s first batch, or ``part.model``
    itself when torch.compile fails (said on the run's output)."""
    model, raw = part.model, part.raw_model
    x, y = next(iter(source.batches(None)))
    if part.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    kept = {k: v.detach().clone() for k, v in raw.state_dict().items()}
    rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    started = time.perf_counter()
    try:
        compiled = cast(nn.Module, torch.compile(model))
        with autocast():
            loss = part.loss_fn(compiled(x), y)
        loss.backward()
    except Exception as error:  # any failure to compile means: train without compiling
        text = (str(error).strip().splitlines() or [type(error).__name__])[0][:ERROR_CHARS]
        recorder.say(
            f"training.compile: torch.compile failed ({type(error).__name__}: {text}); "
            "training the model uncompiled"
        )
        return model
    finally:
        for p in raw.parameters():
            p.grad = None
        raw.load_state_dict(kept)
        torch.set_rng_state(rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
    recorder.say(f"torch.compile: the model compiled in {time.perf_counter() - started:.1f} s")
    return compiled
