"""Checkpoints: ``checkpoints/last.pt`` and ``best.pt``, loadable with ``weights_only=True``.

A checkpoint holds only tensors and plain Python data (dicts, lists, numbers,
strings): model and optimizer state, schedule and early-stopping state, the
epoch and step, every RNG state as tensors, and the experiment text, like
nanoGPT's checkpoints carry their config. Writes are atomic (a temporary file
in the same folder, then ``os.replace``): a reader never sees half a file and a
kill mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

CHECKPOINT_FORMAT = 1


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save({"format": CHECKPOINT_FORMAT, **state}, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def link_checkpoint(source: Path, path: Path) -> None:
    """Make ``path`` hold the checkpoint at ``source`` atomically: a hard link, or a copy
    where the filesystem has no hard links.

    Safe because `save_checkpoint` replaces files and never writes into one:
    once linked, ``path`` keeps these bytes whatever later happens to ``source``.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if tmp.exists():
            tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint` (safely: ``weights_only=True``)."""
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:
        raise ValueError(f"{path}: not a readable checkpoint ({error})") from error
    if not isinstance(state, dict):
        raise ValueError(f"{path}: not a dltui checkpoint (a {type(state).__name__})")
    return state


def model_weights(state: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The model's state dict inside a checkpoint (a bare state dict is accepted too)."""
    weights = state.get("model", state)
    if not isinstance(weights, dict) or not all(
        isinstance(v, torch.Tensor) for v in weights.values()
    ):
        raise ValueError("the checkpoint holds no model weights")
    return weights


def capture_rng(generators: dict[str, torch.Generator]) -> dict[str, Any]:
    """Every RNG state (torch, CUDA, numpy, Python, ``generators``) as tensors and numbers."""
    np_state: Any = np.random.get_state()
    py_version, py_internal, py_gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "python": {
            "version": int(py_version),
            "internal": torch.tensor(py_internal, dtype=torch.int64),
            "gauss_next": py_gauss,
        },
        "generators": {name: g.get_state() for name, g in generators.items()},
    }
    if torch.cuda.is_available():
        state["cuda"] = [s for s in torch.cuda.get_rng_state_all()]
    return state


def restore_rng(state: dict[str, Any], generators: dict[str, torch.Generator]) -> None:
    """Put back what `capture_rng` saved."""
    torch.set_rng_state(state["torch"].cpu())
    n = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            n["keys"].numpy().astype(np.uint32),
            n["pos"],
            n["has_gauss"],
            n["cached_gaussian"],
        )
    )
    p = state["python"]
    random.setstate((p["version"], tuple(int(v) for v in p["internal"].tolist()), p["gauss_next"]))
    for name, generator in generators.items():
        if name in state["generators"]:
            generator.set_state(state["generators"][name].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
