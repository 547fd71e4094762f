"""Building a run's models: the stacks its model summary describes, recorded as it goes.

Shared by both kinds of run (`dltui.train.supervised`, `dltui.train.gan`): a stack
built from the summary's input, the ``model`` event that describes it, weights
taken from another run (``init_from``), frozen layers, and the DDP wrapper.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from dltui.layers.modules import LayerStack
from dltui.layers.stack import StackSummary, build_stack
from dltui.model_summary import ModelSummary
from dltui.train.distributed import DistInfo
from dltui.train.errors import ConfigError
from dltui.train.records import Recorder
from dltui.train.transfer import load_matching, resolve_init_from


def build_model(summary: ModelSummary, layers: list[Any], field: str) -> LayerStack:
    """The stack of ``field`` (``model.layers``, ``model.generator`` ...), fed as the
    summary says (the data's shape and dtype)."""
    fed = summary.inputs[field]
    return build_stack(layers, fed.shape, input_dtype=fed.dtype)


def record_model(
    recorder: Recorder, summary: StackSummary, input_shape: tuple[int, ...], part: str | None
) -> None:
    """The ``model`` event: the layer table the dashboard shows (``part`` names a GAN's
    generator or discriminator)."""
    rows = [
        {
            "index": r.index,
            "label": r.label,
            "type": r.type,
            "out_shape": list(r.out_shape),
            "params": r.params,
        }
        for r in summary.rows
    ]
    fields: dict[str, Any] = {
        "rows": rows,
        "total_params": summary.total_params,
        "trainable_params": summary.trainable_params,
        "input_shape": list(input_shape),
        "output_shape": list(summary.output_shape) if summary.output_shape else None,
    }
    if part is not None:
        fields["part"] = part
    recorder.event("model", **fields)


def load_init_from(recorder: Recorder, model: nn.Module, init_from: Any, runs_root: Path) -> None:
    """Start ``model`` from another run's (or file's) matching weights, and say what was taken."""
    path = resolve_init_from(init_from, runs_root)
    report = load_matching(model, path, strict=init_from.strict)
    skipped = ""
    if report.skipped:
        more = " ..." if len(report.skipped) > 3 else ""
        skipped = f" ({'; '.join(report.skipped[:3])}{more})"
    recorder.say(
        f"init_from {path}: loaded {len(report.loaded)} tensors, "
        f"skipped {len(report.skipped)}{skipped}"
    )
    recorder.event(
        "init_from",
        path=str(path),
        loaded=len(report.loaded),
        skipped=report.skipped,
        unused=report.unused,
        strict=init_from.strict,
    )


def freeze(recorder: Recorder, stack: LayerStack, selectors: list[Any]) -> None:
    """Freeze the layers ``model.freeze`` names, and record how many parameters that is."""
    try:
        stack.freeze(selectors)
    except (KeyError, IndexError, ValueError) as error:
        raise ConfigError(f"model.freeze: {error}") from None
    frozen = sum(p.numel() for p in stack.parameters() if not p.requires_grad)
    recorder.say(f"frozen: {', '.join(map(str, selectors))} ({frozen:,} parameters)")
    recorder.event("freeze", layers=[str(s) for s in selectors], frozen_params=frozen)


def parallel(module: nn.Module, device: torch.device, dist: DistInfo) -> nn.Module:
    """``module`` as the training step calls it: wrapped for DDP when there are several ranks."""
    if not dist.enabled:
        return module
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids)
