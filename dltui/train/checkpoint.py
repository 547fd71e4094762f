"""Checkpoints: ``checkpoints/last.pt`` and ``best.pt``, how and when they are written.

They are loadable with ``weights_only=True``.

A checkpoint holds only tensors and plain Python data (dicts, lists, numbers,
strings): model and optimizer state, schedule and early-stopping state, the
epoch and step, every RNG state as tensors, and the experiment text, like
nanoGPT's checkpoints carry their config. Writes are atomic (a temporary file
in the same folder, created afresh and never through a link, then
``os.replace``): a reader never sees half a file, a kill or a full disk mid-write
leaves the previous checkpoint intact, and a failed write leaves no temporary
file behind. A full disk is reported as a `~dltui.runs.files.RunWriteError`
("no space left on device writing checkpoints/last.pt"), not as torch's
``enforce fail`` message. `CheckpointPolicy` decides when the trainer writes which.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dltui.run_format import BEST_CHECKPOINT, LAST_CHECKPOINT
from dltui.runs.files import CLOEXEC, NOFOLLOW, discard, open_temp, write_error
from dltui.runs.writer import RunWriter

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


def _checkpoint_dict(path: Path) -> Any:
    _refuse_link(path)
    try:
        # mmap: the storages stay on disk; only the small pickle of the dict is read.
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:
        raise ValueError(f"{path}: not a readable checkpoint ({error})") from error


def checkpoint_step(path: Path) -> int:
    """The step a run's checkpoint was written at, read cheaply (its tensors are not loaded).

    Refuses a symbolic link; raises ValueError for what is not a dltui checkpoint
    and FileNotFoundError without one. What resume names as the step it continues from.
    """
    state = _checkpoint_dict(path)
    step = state.get("step") if isinstance(state, dict) else None
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise ValueError(f"{path}: not a dltui checkpoint (no step in it)")
    return step


def checkpoint_epochs(path: Path) -> int | None:
    """The epochs the run was to train when its checkpoint was written (its target, which
    ``--epochs`` may have set), or None for a checkpoint older than that field.

    Read as cheaply as `checkpoint_step`, with the same refusals.
    """
    state = _checkpoint_dict(path)
    epochs = state.get("epochs_target") if isinstance(state, dict) else None
    if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 1:
        return epochs
    return None


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


# ----------------------------------------------------------------------------- when to write

# With short epochs, last.pt is rewritten at most every CHECKPOINT_INTERVAL
# seconds, and at most once per CHECKPOINT_COST_RATIO times the write's own
# duration (a write costs < 1/30 of the time); long epochs write every epoch.
CHECKPOINT_INTERVAL = 10.0
CHECKPOINT_COST_RATIO = 30.0


class CheckpointPolicy:
    """When the trainer writes ``checkpoints/last.pt`` and ``best.pt`` (rank 0).

    best.pt after every epoch that improved on the best (last.pt is then the same
    file, linked); last.pt at other epochs' ends when due (`last_due`), on a stop
    (mid-epoch) and at the end of training. Every write is told as a
    ``checkpoint`` event, after the records up to its step reached the files.
    Does nothing without a writer or with ``training.checkpoint = false``.
    """

    def __init__(
        self,
        writer: RunWriter | None,
        *,
        enabled: bool,
        state: Callable[[bool], dict[str, Any]],
    ) -> None:
        """``state(mid_epoch)`` is the trainer's whole state to write (see `save_checkpoint`)."""
        self.writer = writer if enabled else None
        self._state = state
        self._last_write: float | None = None  # perf_counter() when last.pt was written
        self._write_cost = 0.0  # seconds the latest checkpoint write took
        self._stale = False  # whether epochs ended since last.pt was written

    def save(self, name: str, *, mid_epoch: bool = False) -> tuple[int, int] | None:
        """Write ``checkpoints/<name>`` now; returns the (epoch, step) it holds."""
        writer = self.writer
        if writer is None:
            return None
        began = time.perf_counter()
        path = writer.checkpoints_dir / name
        # What was recorded up to this step reaches the files before the checkpoint
        # does: a kill just after it must not lose records a resume will not redo.
        writer.flush()
        state = self._state(mid_epoch)
        save_checkpoint(path, state)
        self._write_cost = time.perf_counter() - began
        at = (int(state["epoch"]), int(state["step"]))
        self._written(name, path, at)
        return at

    def link(self, source: str, name: str, at: tuple[int, int]) -> None:
        """Make ``checkpoints/<name>`` the same checkpoint as ``<source>`` (written at
        ``at``), without serialising the state again (a hard link where the
        filesystem has them).

        Checkpoints are only ever replaced, never rewritten in place, so the
        link keeps the bytes of this moment when ``source`` is next replaced.
        """
        writer = self.writer
        if writer is None:
            return
        folder = writer.checkpoints_dir
        writer.flush()  # as in `save`
        link_checkpoint(folder / source, folder / name)
        self._written(name, folder / name, at)

    def _written(self, name: str, path: Path, at: tuple[int, int]) -> None:
        assert self.writer is not None
        which = name.removesuffix(".pt")
        self.writer.event("checkpoint", which=which, epoch=at[0], step=at[1], path=str(path))
        if name == LAST_CHECKPOINT:
            self._last_write, self._stale = time.perf_counter(), False

    def last_due(self) -> bool:
        """Whether an epoch's end should rewrite last.pt now.

        Every epoch, unless epochs are short: then at most every
        `CHECKPOINT_INTERVAL` seconds, and never more often than keeps writes
        under ``1 / CHECKPOINT_COST_RATIO`` of the time. A crash then loses at
        most that interval; the end of training, a stop and every new best
        write last.pt regardless.
        """
        if self._last_write is None:
            return True
        interval = max(CHECKPOINT_INTERVAL, CHECKPOINT_COST_RATIO * self._write_cost)
        return time.perf_counter() - self._last_write >= interval

    def end_of_epoch(self, improved: bool) -> None:
        """best.pt when the epoch improved (last.pt then is the same file), else last.pt
        when due (see `last_due`)."""
        if improved:
            # best first: a kill in between leaves last.pt at an earlier epoch,
            # which resume redoes, never a last.pt naming a best.pt not written.
            at = self.save(BEST_CHECKPOINT)
            if at is not None:
                self.link(BEST_CHECKPOINT, LAST_CHECKPOINT, at)
        elif self.last_due():
            self.save(LAST_CHECKPOINT)
        else:
            self._stale = True

    def end_of_training(self) -> None:
        """last.pt, unless the latest epoch's end wrote it."""
        if self._stale:
            self.save(LAST_CHECKPOINT)
