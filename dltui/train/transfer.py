"""Transfer learning: ``model.init_from`` finds a checkpoint and loads what fits.

Every parameter (and buffer) whose name and shape match is copied; the others
keep their fresh initialisation, so a new head on a pretrained body just works.
``strict = true`` requires every one of the model's entries to be loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from dltui.run_format import CHECKPOINTS
from dltui.spec.model import InitFrom
from dltui.train.checkpoint import load_checkpoint, model_weights


class TransferError(ValueError):
    """``model.init_from`` names nothing usable; the message says what was looked for."""


@dataclass
class TransferReport:
    """What `load_matching` did."""

    path: Path
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Model entries left as initialised, with why (``name: missing`` / ``shape``)."""
    unused: list[str] = field(default_factory=list)
    """Checkpoint entries the model has no place for."""


def resolve_init_from(spec: InitFrom, runs_root: Path) -> Path:
    """The checkpoint ``spec`` points at: a file, a run folder, or an experiment's newest run."""
    name = f"{spec.checkpoint}.pt"
    if spec.path is not None:
        path = Path(spec.path)
        if path.is_dir():
            candidate = path / CHECKPOINTS / name
            if not candidate.is_file():
                raise TransferError(f"model.init_from.path: {path} has no {CHECKPOINTS}/{name}")
            return candidate
        if not path.is_file():
            raise TransferError(f"model.init_from.path: no such file or run folder: {path}")
        return path
    assert spec.experiment is not None
    folder = runs_root / spec.experiment
    runs = sorted(
        (p for p in folder.glob(f"*/{CHECKPOINTS}/{name}") if p.is_file()),
        key=lambda p: (p.stat().st_mtime, p.parent.parent.name),
    )
    if not runs:
        raise TransferError(
            f"model.init_from.experiment: no run of {spec.experiment!r} under {runs_root} "
            f"has {CHECKPOINTS}/{name}"
        )
    return runs[-1]


def load_matching(model: torch.nn.Module, path: Path, *, strict: bool) -> TransferReport:
    """Copy the entries of the checkpoint at ``path`` whose names and shapes match ``model``'s."""
    try:
        source = model_weights(load_checkpoint(path))
    except (FileNotFoundError, ValueError) as error:
        raise TransferError(f"model.init_from: {error}") from None
    report = TransferReport(path=path)
    own = model.state_dict()
    update: dict[str, torch.Tensor] = {}
    for key, tensor in own.items():
        theirs = source.get(key)
        if theirs is None:
            report.skipped.append(f"{key}: not in the checkpoint")
        elif tuple(theirs.shape) != tuple(tensor.shape):
            report.skipped.append(
                f"{key}: shape {tuple(theirs.shape)} in the checkpoint, {tuple(tensor.shape)} here"
            )
        else:
            update[key] = theirs
            report.loaded.append(key)
    report.unused = [k for k in source if k not in own]
    if strict and report.skipped:
        raise TransferError(
            f"model.init_from (strict): {len(report.skipped)} of {len(own)} entries do not match "
            f"{path}: "
            + "; ".join(report.skipped[:5])
            + (" ..." if len(report.skipped) > 5 else "")
        )
    model.load_state_dict(update, strict=False)
    return report
