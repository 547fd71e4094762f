"""The process around the loop: arguments, run directory, signals, status and exit code.

Exit codes (`dltui.run_format`): 0 finished (early stopping included), 1 failed,
2 invalid experiment or arguments, 4 refused because another process is writing
the run, 130 interrupted (signal or stop request).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from dltui.bounded import read_text_limited
from dltui.data import DataError
from dltui.layers.stack import StackError
from dltui.run_format import (
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_FINISHED,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXPERIMENT,
    FAILED,
    FINISHED,
    LAST_CHECKPOINT_PATH,
    META,
    RUNNING,
    STOPPED,
)
from dltui.runs.files import (
    RunFileError,
    RunWriteError,
    describe_links,
    is_disk_full,
    linked_files,
    read_json,
)
from dltui.runs.lock import RunLock, RunLockedError
from dltui.runs.writer import RunWriter
from dltui.spec import Experiment, Problem, SpecError, load_experiment, parse_experiment
from dltui.train import distributed
from dltui.train.checkpoint import checkpoint_epochs, checkpoint_step
from dltui.train.errors import ConfigError
from dltui.train.loop import Outcome, Trainer
from dltui.train.progress import Progress
from dltui.train.setup import resolve_device
from dltui.train.signals import StopSignal
from dltui.train.system import SystemSampler
from dltui.train.transfer import TransferError

# Problems in the experiment found while setting up: the run is recorded as
# failed, but the exit code says "invalid experiment" like a schema error.
INVALID_ERRORS = (ConfigError, DataError, StackError, TransferError)


def _error(text: str) -> None:
    print(f"dltui run: {text}", file=sys.stderr, flush=True)


def _device_name(args: argparse.Namespace, experiment: Experiment) -> str:
    name = args.device or experiment.training.device
    ok = name in ("auto", "cpu", "cuda", "mps") or (name.startswith("cuda:") and name[5:].isdigit())
    if not ok:
        raise ConfigError(f"--device: expected auto, cpu, cuda, cuda:N or mps, not {name!r}")
    return name


def _ddp_device(name: str, info: distributed.DistInfo) -> torch.device:
    device = resolve_device(name)
    if info.enabled and device.type == "cuda":
        # One GPU per process, picked by torchrun's LOCAL_RANK.
        device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(device)
    return device


def run_from_args(args: argparse.Namespace) -> int:
    """`dltui run`: train the experiment in ``args.file``; returns the exit code."""
    if args.file is None:
        if not args.resume:
            _error("give the experiment FILE to train (or --resume RUN_DIR)")
            return EXIT_INVALID
        # Resuming without a file: the run's own frozen copy of its experiment.
        args.file = str(Path(args.resume) / EXPERIMENT)
    if args.resume:
        links = linked_files(Path(args.resume))
        if links:
            # Before anything reads or writes them: through a link, a resume would
            # append to (or truncate) a file outside the run.
            _error(f"--resume: {args.resume}: {describe_links(links)}; refusing to resume it")
            return EXIT_INVALID
    if args.epochs is not None and args.epochs < 1:
        _error(f"--epochs must be at least 1, got {args.epochs}")
        return EXIT_INVALID
    try:
        experiment = _load(args)
    except SpecError as error:
        for problem in error.problems:
            print(str(problem), file=sys.stderr)
        return EXIT_INVALID
    epochs = args.epochs if args.epochs is not None else experiment.training.epochs
    if args.resume and args.run_dir:
        _error("--resume RUN_DIR already names the run folder; drop --run-dir")
        return EXIT_INVALID
    resume_dir = Path(args.resume) if args.resume else None
    if resume_dir is not None and not (resume_dir / LAST_CHECKPOINT_PATH).is_file():
        _error(f"--resume: {resume_dir} has no {LAST_CHECKPOINT_PATH} to continue from")
        return EXIT_INVALID
    if resume_dir is not None and args.epochs is None:
        # A resume continues to the run's own target, which an earlier --epochs may have set.
        try:
            epochs = checkpoint_epochs(resume_dir / LAST_CHECKPOINT_PATH) or epochs
        except ValueError as error:
            _error(f"--resume: {error}")
            return EXIT_INVALID
    threads = getattr(args, "threads", None) or experiment.training.threads
    if threads is not None:
        # Before any operator runs: OpenMP sizes its pool on first use.
        torch.set_num_threads(threads)
    try:
        info = distributed.from_environment()
        device = _ddp_device(_device_name(args, experiment), info)
    except (ConfigError, ValueError) as error:
        _error(str(error))
        return EXIT_INVALID
    distributed.init_process_group(info, device)
    try:
        return _run(args, experiment, epochs, device, info, resume_dir)
    finally:
        distributed.shutdown()


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``--set PATH=VALUE`` as path -> value (SpecError naming the bad one); a new run's
    ``--epochs N`` is ``training.epochs = N``, so its frozen experiment and meta.json say
    how far it trains (and a resume from that copy goes as far)."""
    from dltui.spec.overrides import PathError, parse_assignment

    values: dict[str, Any] = {}
    if getattr(args, "epochs", None) is not None and not getattr(args, "resume", None):
        values["training.epochs"] = args.epochs
    for text in getattr(args, "overrides", None) or []:
        try:
            path, value = parse_assignment(text)
        except PathError as error:
            raise SpecError([Problem("", f"--set: {error}")]) from None
        values[path] = value
    return values


def _experiment_text(args: argparse.Namespace) -> str:
    """The experiment file's text, with ``--set`` applied (what the run freezes)."""
    text = read_text_limited(args.file)
    values = _overrides(args)
    if not values:
        return text
    from dltui.spec.overrides import apply_to_text

    return apply_to_text(text, values)


def _load(args: argparse.Namespace) -> Experiment:
    """The experiment of ``args.file`` with ``--set`` applied. A run's frozen copy keeps
    its relative paths (data files) meaning what they meant beside the original file."""
    path = Path(args.file)
    if _overrides(args):
        try:
            text = _experiment_text(args)
        except (OSError, ValueError) as error:
            raise SpecError([Problem("", f"--set: {error}", file=str(path))]) from None
        return parse_experiment(text, file=path)
    if not (args.resume and path.name == EXPERIMENT and path.parent == Path(args.resume)):
        return load_experiment(path)
    try:
        text = read_text_limited(path)
    except (OSError, ValueError) as error:
        problem = Problem("", f"cannot read the run's experiment ({error})", file=str(path))
        raise SpecError([problem]) from None
    try:
        meta = read_json(path.parent / META)
    except (OSError, ValueError):
        meta = None
    source = meta.get("source") if isinstance(meta, dict) else None
    base = Path(source).parent if isinstance(source, str) else path.parent
    return parse_experiment(text, file=path, base_dir=base)


def _open_writer(
    args: argparse.Namespace, experiment: Experiment, device: torch.device, resume_dir: Path | None
) -> RunWriter:
    if resume_dir is not None:
        # The lock first, then the checkpoint's step: nobody replaces last.pt in between,
        # and the resume event names the step the records continue from.
        lock = RunLock.acquire(resume_dir)
        try:
            step = checkpoint_step(resume_dir / LAST_CHECKPOINT_PATH)
            return RunWriter.open(resume_dir, step=step, lock=lock)
        except BaseException:
            lock.release()
            raise
    text = _experiment_text(args)
    config = experiment.model_dump(mode="json")
    if getattr(args, "meta", None):
        extra = json.loads(args.meta)
        if not isinstance(extra, dict):
            raise ValueError("--meta: expected a JSON object")
        config.update(extra)
    return RunWriter.create(
        args.runs,
        experiment.display_name,
        run_id=args.name,
        experiment_text=text,
        source=args.file,
        config=config,
        device=str(device),
        run_dir=args.run_dir,
    )


def _run(
    args: argparse.Namespace,
    experiment: Experiment,
    epochs: int,
    device: torch.device,
    info: distributed.DistInfo,
    resume_dir: Path | None,
) -> int:
    writer: RunWriter | None = None
    progress: Progress | None = None
    if info.is_main:
        try:
            writer = _open_writer(args, experiment, device, resume_dir)
        except RunLockedError as error:
            _error(str(error))
            return EXIT_BUSY
        except RunWriteError as error:
            _error(f"cannot start the run: {error}")
            return EXIT_FAILED
        except (OSError, ValueError, RunFileError) as error:
            _error(str(error))
            return EXIT_INVALID
        progress = Progress(epochs=epochs, quiet=args.quiet, log_path=writer.output_path)
        where = f" on {info.world_size} processes" if info.enabled else ""
        progress.message(f"run {writer.run_dir} ({experiment.display_name}, {device}{where})")
        hint = busy_cpu_hint(device, getattr(args, "threads", None) or experiment.training.threads)
        if hint is not None:
            progress.message(hint)
    run_dir = Path(distributed.broadcast_text(str(writer.run_dir) if writer else "", info))
    stop = StopSignal()
    stop.install()
    sampler: SystemSampler | None = None
    trainer: Trainer | None = None
    try:
        trainer = Trainer(
            experiment,
            writer=writer,
            progress=progress,
            device=device,
            epochs=epochs,
            runs_root=Path(args.runs),
            stop=stop,
            dist_info=info,
            resume_from=run_dir / LAST_CHECKPOINT_PATH if resume_dir is not None else None,
            experiment_text=_experiment_text(args),
        )
        trainer.setup()
        if writer is not None:
            writer.status(RUNNING, step=trainer.step, epoch=float(trainer.epoch))
            if info.enabled:
                writer.event("distributed", world_size=info.world_size, backend=_backend())
            sampler = SystemSampler(
                _system_recorder(writer, trainer, resumed=resume_dir is not None),
                gpus=device.type == "cuda",
            )
            sampler.start()
        outcome = trainer.fit()
    except INVALID_ERRORS as error:
        return _end(writer, progress, Outcome(FAILED, str(error)), trainer, code=EXIT_INVALID)
    except KeyboardInterrupt as error:
        # A second Ctrl+C: leave now, without a checkpoint.
        reason = f"interrupted ({error})" if str(error) else "interrupted"
        return _end(writer, progress, Outcome(STOPPED, reason), trainer, checkpointed=False)
    except torch.cuda.OutOfMemoryError as error:
        batch = experiment.data.batch_size
        reason = (
            f"CUDA out of memory with data.batch_size = {batch}: try a smaller batch_size "
            f"(e.g. {max(1, batch // 2)}) or a smaller model ({str(error).splitlines()[0]})"
        )
        return _end(
            writer, progress, Outcome(FAILED, reason, traceback=traceback.format_exc()), trainer
        )
    except OSError as error:
        if not isinstance(error, RunWriteError) and not is_disk_full(error):
            outcome = Outcome(
                FAILED, f"{type(error).__name__}: {error}", traceback=traceback.format_exc()
            )
            return _end(writer, progress, outcome, trainer)
        # A full disk (or another failed write of the run's files): the cause in one line,
        # no traceback; the previous checkpoint is intact and no temporary file is left.
        reason = str(error) if isinstance(error, RunWriteError) else "no space left on device"
        return _end(writer, progress, Outcome(FAILED, reason), trainer)
    except Exception as error:
        outcome = Outcome(
            FAILED, f"{type(error).__name__}: {error}", traceback=traceback.format_exc()
        )
        return _end(writer, progress, outcome, trainer)
    finally:
        stop.restore()
        if sampler is not None:
            sampler.stop()
    return _end(writer, progress, outcome, trainer)


def _system_recorder(
    writer: RunWriter, trainer: Trainer, *, resumed: bool
) -> Callable[[dict[str, float]], None]:
    """Record system samples at the loop's step, at most one per step.

    A tag's steps must increase (docs/run-format.md); a sample taken while the step
    has not moved (a long validation, a slow step) would repeat one. After a resume
    the checkpoint's step may already have samples from before.
    """
    last = trainer.step if resumed else -1

    def record(values: dict[str, float]) -> None:
        nonlocal last
        step = trainer.step
        if step > last:
            last = step
            writer.scalars(values, step)

    return record


def busy_cpu_hint(device: torch.device, threads: int | None) -> str | None:
    """A note when a CPU run starts with several operator threads on a machine already
    busier than its cores (None otherwise): the threads then oversubscribe the cores."""
    if device.type != "cpu" or threads is not None:
        return None
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        return None
    cores = os.cpu_count() or 1
    if torch.get_num_threads() <= 1 or load < cores:
        return None
    return (
        f"note: this machine is busy (load {load:.1f} on {cores} cores); if training is slow, "
        "try --threads 1 (torch's operator threads spin waiting for each other)"
    )


def _backend() -> str:
    import torch.distributed as dist

    return str(dist.get_backend()) if dist.is_initialized() else "none"


def _end(
    writer: RunWriter | None,
    progress: Progress | None,
    outcome: Outcome,
    trainer: Trainer | None,
    *,
    code: int | None = None,
    checkpointed: bool = True,
) -> int:
    """Record the final status, print the reason, and pick the exit code.

    ``checkpointed`` is false when the run stopped without writing last.pt (a
    second Ctrl+C): the message must not say it did.
    """
    where: dict[str, Any] = {}
    if trainer is not None:
        where = {"step": trainer.step, "epoch": float(trainer.epoch)}
    if outcome.state == FINISHED:
        exit_code = EXIT_FINISHED
        message = f"finished: {outcome.reason}" if outcome.reason else "finished"
    elif outcome.state == STOPPED:
        exit_code = EXIT_INTERRUPTED
        wrote = (
            checkpointed
            and trainer is not None
            and trainer.step > 0
            and trainer.train_spec.checkpoint
        )
        message = f"stopped: {outcome.reason}" + (" (last checkpoint written)" if wrote else "")
    else:
        exit_code = EXIT_FAILED
        message = f"failed: {outcome.reason}"
    if code is not None:
        exit_code = code
    if outcome.state == FAILED:
        _error(outcome.reason or FAILED)
        if outcome.traceback and exit_code == EXIT_FAILED:
            print(outcome.traceback, file=sys.stderr, flush=True)
    if progress is not None:
        try:
            if outcome.state == FAILED:
                progress.log_only(message)
            else:
                progress.message(message)
            progress.close()
        except OSError:
            pass  # output.log on a full disk: the reason was said on stderr already
    if writer is not None:
        try:
            writer.status(
                outcome.state, reason=outcome.reason, traceback=outcome.traceback, **where
            )
        except RunWriteError as error:
            _error(f"could not record the final status ({error})")
        try:
            writer.close()
        except RunWriteError as error:
            if outcome.state != FAILED or str(error) != outcome.reason:
                _error(f"could not write the run's last records ({error})")
            exit_code = exit_code or EXIT_FAILED
    return exit_code
