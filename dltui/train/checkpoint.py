"""Checkpoints: ``checkpoints/last.pt`` and ``best.pt``, loadable with ``weights_only=True``.

A checkpoint holds only tensors and plain Python data (dicts, lists, numbers,
strings): model and optimizer state, schedule and early-stopping state, the
epoch and step, every RNG state as tensors, and the experiment text, like
nanoGPT's checkpoints carry their config. Writes are atomic (a temporary file
in the same folder, created afresh and never through a link, then
``os.replace``): a reader never sees half a file, a kill or a full disk mid-write
leaves the previous checkpoint intact, and a failed write leaves no temporary
file behind. A full disk is reported as a `~dltui.runs.files.RunWriteError`
("no space left on device writing checkpoints/last.pt"), not as torch's
``enforce fail`` message.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import stat
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dltui.runs.files import CLOEXEC, NOFOLLOW, discard, open_temp, write_error

CHECKPOINT_FORMAT = 1


class _Sink:
    """A file for ``torch.save`` that remembers the OSError behind a failed write.

    torch reports a failed write as ``RuntimeError: [enforce fail at
    inline_container.cc]``; the OSError (and its errno) is what a person needs.
    """

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.error: OSError | None = None

    def write(self, data: Any) -> int:
        try:
            return int(self.handle.write(data))
        except OSError as error:
            self.error = error
            raise

    def flush(self) -> None:
        try:
            self.handle.flush()
        except OSError as error:
            self.error = error
            raise


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically; a failure leaves ``path`` as it was.

    Raises `~dltui.runs.files.RunWriteError` when the file cannot be written.
    """
    with contextlib.suppress(FileExistsError):
        path.parent.mkdir(parents=True)
    tmp, fd = open_temp(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            sink = _Sink(handle)
            try:
                torch.save({"format": CHECKPOINT_FORMAT, **state}, sink)  # type: ignore[arg-type]
                handle.flush()
            except (RuntimeError, OSError) as error:
                cause = sink.error or (error if isinstance(error, OSError) else None)
                if cause is None:
                    raise
                raise write_error(cause, path) from None
        os.replace(tmp, path)
    except OSError as error:
        discard(tmp)
        raise write_error(error, path) from None
    except BaseException:
        discard(tmp)
        raise


def link_checkpoint(source: Path, path: Path) -> None:
    """Make ``path`` hold the checkpoint at ``source`` atomically: a hard link, or a copy
    where the filesystem has no hard links.

    Safe because `save_checkpoint` replaces files and never writes into one:
    once linked, ``path`` keeps these bytes whatever later happens to ``source``.
    Raises `~dltui.runs.files.RunWriteError` when it cannot be done.
    """
    tmp, fd = open_temp(path)
    os.close(fd)
    try:
        os.unlink(tmp)
        try:
            os.link(source, tmp, follow_symlinks=False)
        except OSError:
            shutil.copyfile(source, tmp, follow_symlinks=False)
        os.replace(tmp, path)
    except OSError as error:
        discard(tmp)
        raise write_error(error, path) from None
    except BaseException:
        discard(tmp)
        raise


def _refuse_link(path: Path) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"no checkpoint at {path}") from None
    if stat.S_ISLNK(info.st_mode):
        raise ValueError(f"{path}: is a symbolic link; a run's checkpoints must be its own")


def load_checkpoint(
    path: Path, map_location: str | torch.device = "cpu", *, follow_links: bool = True
) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint` (safely: ``weights_only=True``).

    ``follow_links=False`` (a run's own checkpoints on resume) refuses a symbolic
    link and opens the file without following one.
    """
    if not follow_links:
        _refuse_link(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        if follow_links:
            state = torch.load(path, map_location=map_location, weights_only=True)
        else:
            fd = os.open(path, os.O_RDONLY | CLOEXEC | NOFOLLOW)
            with os.fdopen(fd, "rb") as handle:
                state = torch.load(handle, map_location=map_location, weights_only=True)
    except Exception as error:
        raise ValueError(f"{path}: not a readable checkpoint ({error})") from error
    if not isinstance(state, dict):
        raise ValueError(f"{path}: not a dltui checkpoint (a {type(state).__name__})")
    return state


def checkpoint_step(path: Path) -> int:
    """The step a run's checkpoint was written at, read cheaply (its tensors are not loaded).

    Refuses a symbolic link; raises ValueError for what is not a dltui checkpoint
    and FileNotFoundError without one. What resume names as the step it continues from.
    """
    _refuse_link(path)
    try:
        # mmap: the storages stay on disk; only the small pickle of the dict is read.
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:
        raise ValueError(f"{path}: not a readable checkpoint ({error})") from error
    step = state.get("step") if isinstance(state, dict) else None
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise ValueError(f"{path}: not a dltui checkpoint (no step in it)")
    return step


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
