"""Record your own PyTorch script as a dltui run (like ``SummaryWriter``/``wandb.log``).

::

    import dltui.tracking

    with dltui.tracking.init(experiment="my-script", config={"lr": 1e-3}) as run:
        for step, (x, y) in enumerate(loader):
            loss = ...
            loss.backward()
            run.log_grad_norms(model)           # grad_norm/<child>, grad_norm/total
            optimizer.step()
            run.log({"train/loss": loss.item()})
            if run.stop_requested():            # the dashboard's stop button
                break

The run lands in ``<root>/<experiment>/<run-id>/`` (docs/run-format.md) and the
``dltui`` dashboard shows it live. One ``log()`` call costs a few microseconds:
values are packed into a buffer that a background thread writes out. Importing
this module does not import torch. A script restarted from its own checkpoint
continues the same run with ``dltui.tracking.resume(run_dir, step=...)``: what it
had recorded after that step is superseded, so every tag's steps still increase.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import traceback as traceback_module
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from dltui import run_format as rf
from dltui.runs.control import stop_requested
from dltui.runs.writer import RunWriter, block_outcome

__all__ = ["Run", "init", "resume"]


def init(
    experiment: str = "script",
    root: str | os.PathLike[str] = "runs",
    config: Mapping[str, Any] | None = None,
    *,
    run_id: str | None = None,
    device: str | None = None,
    source: str | os.PathLike[str] | None = None,
) -> Run:
    """Start recording a run of your script and return its :class:`Run`.

    ``config`` (hyper-parameters, anything JSON-able) is stored in meta.json.
    ``source`` defaults to the running script's path. The run is marked
    ``running`` at once; call :meth:`Run.finish` or use it in a ``with`` block.
    If the script ends without either, the run is finished at exit (``failed``
    with the traceback when an uncaught exception ended it).
    """
    if source is None and sys.argv and sys.argv[0] and os.path.isfile(sys.argv[0]):
        source = sys.argv[0]
    writer = RunWriter.create(
        root, experiment, run_id=run_id, source=source, config=config, device=device
    )
    return Run(writer)


def resume(run_dir: str | os.PathLike[str], step: int | None = None) -> Run:
    """Continue recording the run in ``run_dir`` (a script restarted after a crash).

    ``step``: the step your script restarts from (that of the checkpoint it loaded);
    points it recorded after that step are superseded (readers drop them), so the
    steps of every tag keep increasing. Without ``step`` everything recorded stays
    and logging continues after the last step recorded. ``log()`` without a step
    then counts on from ``step + 1``. Raises `~dltui.runs.lock.RunLockedError`
    when another process is recording the run, FileNotFoundError when
    ``run_dir`` holds no run.
    """
    writer = RunWriter.open(run_dir, step=step)
    run = Run(writer)
    if writer.resumed_from is not None:
        run._step = writer.resumed_from + 1
    return run


class Run:
    """One run being recorded by a script; made by :func:`init` or :func:`resume`.

    ``log()`` without a ``step`` uses an internal counter that starts at 0 and
    goes up by one per call; an explicit ``step`` sets the counter to
    ``step + 1``. Pass ``step`` yourself to record several calls at one step.
    """

    def __init__(self, writer: RunWriter) -> None:
        """Wrap an open :class:`RunWriter` (normally made by :func:`init`)."""
        self.writer = writer
        self._step = 0
        self._pid = os.getpid()
        self._finished = False
        self._finish_lock = threading.Lock()
        writer.status(rf.RUNNING)
        atexit.register(self._at_exit)

    @property
    def run_dir(self) -> Path:
        """The run's folder."""
        return self.writer.run_dir

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.writer.run_id

    @property
    def step(self) -> int:
        """The step the next ``log()`` without ``step`` will use."""
        return self._step

    def log(
        self, values: Mapping[str, float], step: int | None = None, epoch: float | None = None
    ) -> None:
        """Record scalar ``values`` (tag -> number) at ``step`` and optional ``epoch``.

        Tags are free-form; ``train/...``, ``val/...`` and ``lr`` get the
        dashboard's usual panes. Pass floats: a tensor is converted with
        ``float()``, which waits for the device.
        """
        if step is None:
            step = self._step
        self._step = step + 1
        self.writer.scalars(values, step, epoch)

    def log_grad_norms(
        self, module: Any, step: int | None = None, prefix: str = rf.GRAD_NORM_PREFIX
    ) -> dict[str, float]:
        """Record the L2 norm of the gradients of each child of ``module``, and the total.

        Call it after ``backward()`` (and after unscaling, with AMP). Tags are
        ``<prefix><child name>`` and ``<prefix>total``; children without
        gradients are left out. ``step`` defaults to the step the next
        ``log()`` will use, without advancing it. One device-to-host transfer.
        Returns the recorded norms.
        """
        from dltui.train.grad_norms import LayerGroups, grad_norms, layer_norms

        children = list(module.named_children()) or [("", module)]
        groups = LayerGroups(
            [name for name, _ in children], [list(child.parameters()) for _, child in children]
        )
        norms = grad_norms(groups)
        if not any(norms.present):
            return {}
        # One transfer for every norm; per-child norms and the total are summed here.
        per_child, total = layer_norms(groups, norms.present, norms.norms.float().tolist())
        recorded = {
            f"{prefix}{name}": norm
            for name, norm in zip(groups.labels, per_child, strict=True)
            if norm is not None and name
        }
        recorded[f"{prefix}total"] = total
        self.writer.scalars(recorded, self._step if step is None else step)
        return recorded

    def event(self, kind: str, **fields: Any) -> None:
        """Record an event, e.g. ``run.event("sample", epoch=3, text="...")``."""
        self.writer.event(kind, **fields)

    def stop_requested(self) -> bool:
        """Whether the dashboard asked this run to stop (a cheap file check)."""
        return stop_requested(self.writer.run_dir)

    def finish(
        self, status: str = rf.FINISHED, reason: str | None = None, traceback: str | None = None
    ) -> None:
        """Record the final ``status`` (finished, stopped or failed) and close the run."""
        with self._finish_lock:
            if self._finished:
                return
            self._finished = True
        atexit.unregister(self._at_exit)
        self.writer.close(status, reason=reason, traceback=traceback)

    def __enter__(self) -> Run:
        """Use the run as a context manager: the block's outcome is its final status."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """``finished``; ``stopped`` on Ctrl-C; ``failed`` with the traceback on an error."""
        status, reason, text = block_outcome(exc_type, exc, tb)
        self.finish(status or rf.FINISHED, reason=reason, traceback=text)

    def _at_exit(self) -> None:
        if self._finished or os.getpid() != self._pid:
            return
        # Set by the interpreter when an uncaught exception is ending the program.
        exc = getattr(sys, "last_value", None)
        if exc is None:
            self.finish()
        elif isinstance(exc, KeyboardInterrupt):
            self.finish(rf.STOPPED, reason="interrupted")
        else:
            text = "".join(traceback_module.format_exception(exc))
            self.finish(rf.FAILED, reason=f"{type(exc).__name__}: {exc}", traceback=text)
