"""`dltui sweep FILE`: check the experiment's ``[sweep]``, plan it, run it.

    dltui sweep FILE [--trials N] [--parallel K] [--storage URL] [--name NAME]
    dltui sweep --resume NAME [--experiment EXP] ...

On many machines, run ``dltui sweep FILE --name NAME --storage URL`` on each,
with one database URL (PostgreSQL, MySQL): they share one study. This module
imports neither torch nor Optuna until the sweep starts.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import tomllib
from pathlib import Path

from dltui.run_format import EXIT_INVALID, VAL_LOSS
from dltui.train.cli import positive_int


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `dltui sweep` (a sub-command parser)."""
    parser.add_argument("file", metavar="FILE", nargs="?", help="an experiment with a [sweep]")
    parser.add_argument("--trials", type=positive_int, metavar="N", help="override sweep.trials")
    parser.add_argument(
        "--parallel", type=positive_int, metavar="K", help="override sweep.parallel"
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="an Optuna storage URL shared by workers on many machines "
        "(default: a journal file in the sweep's folder)",
    )
    parser.add_argument("--name", help="the sweep's name (default: a new time-based one)")
    parser.add_argument(
        "--resume", metavar="NAME", help="continue the sweep NAME: finished trials are kept"
    )
    parser.add_argument(
        "--experiment", metavar="EXP", help="with --resume and no FILE: the sweep's experiment"
    )
    parser.add_argument("--runs", default="runs", metavar="ROOT", help="folder of runs")


def _error(text: str) -> int:
    print(f"dltui sweep: {text}", file=sys.stderr, flush=True)
    return EXIT_INVALID


def _find_sweep(runs: Path, name: str, experiment: str | None) -> Path | None:
    from dltui.sweep.records import SWEEPS

    pattern = f"{experiment}/{SWEEPS}/{name}" if experiment else f"*/{SWEEPS}/{name}"
    found = sorted(runs.glob(pattern))
    return found[0] if len(found) == 1 else None


def _gpus(device: str) -> tuple[str, ...]:
    """``cuda:0``, ``cuda:1``, ... when the experiment may use several GPUs here."""
    if device not in ("auto", "cuda") or shutil.which("nvidia-smi") is None:
        return ()
    import torch

    count = torch.cuda.device_count()
    return tuple(f"cuda:{i}" for i in range(count)) if count > 1 else ()


def sweep_command(args: argparse.Namespace) -> int:
    """Run `dltui sweep` with parsed ``args``; returns the exit code."""
    from dltui.spec import SpecError, load_experiment
    from dltui.spec.early_stopping import auto_mode
    from dltui.sweep.check import sweep_problems
    from dltui.sweep.records import journal_url, read_sweep_file, sweep_dir, write_sweep_file

    runs = Path(args.runs)
    recorded: dict[str, object] = {}
    if args.resume:
        folder = _find_sweep(runs, args.resume, args.experiment)
        if folder is None:
            return _error(
                f"--resume {args.resume}: no such sweep under {runs} "
                "(give --experiment when two experiments have one by that name)"
            )
        try:
            recorded = read_sweep_file(folder)
        except ValueError as error:
            return _error(str(error))
        if args.file is None and isinstance(recorded.get("file"), str):
            args.file = recorded["file"]
    if args.file is None:
        return _error("give the experiment FILE (or --resume NAME)")
    try:
        experiment = load_experiment(args.file)
        text = Path(args.file).read_text(encoding="utf-8")
    except SpecError as error:
        for problem in error.problems:
            print(str(problem), file=sys.stderr)
        return EXIT_INVALID
    except OSError as error:
        return _error(f"{args.file}: {error.strerror or error}")
    spec = experiment.sweep
    if spec is None:
        return _error(f"{args.file}: has no [sweep] table (see docs/sweeps.md)")
    problems = sweep_problems(
        tomllib.loads(text), spec, text=text, file=args.file, base_dir=Path(args.file).parent
    )
    if problems:
        for problem in problems:
            print(str(problem), file=sys.stderr)
        return EXIT_INVALID
    from dltui.sweep.space import missing_package

    missing = missing_package(spec.method)
    if missing is not None:
        return _error(
            f"sweep.method = {spec.method!r} needs the {missing} package: pip install {missing}"
        )
    name = args.resume or args.name or time.strftime("%Y%m%d-%H%M%S")
    if not args.resume and args.name is None:
        name = f"sweep-{name}"
    folder = sweep_dir(runs, experiment.display_name, name)
    storage = args.storage or str(recorded.get("storage") or journal_url(folder))
    metric = spec.objective.metric
    if metric is None:
        metric = experiment.early_stopping.monitor if experiment.early_stopping else VAL_LOSS
    from dltui.spec.early_stopping import metric_tag

    metric = metric_tag(metric)
    direction = spec.objective.direction
    if direction == "auto":
        es = experiment.early_stopping
        mode = es.resolved_mode if es is not None and es.monitor == metric else auto_mode(metric)
        maximize = mode == "max"
    else:
        maximize = direction == "maximize"
    if not recorded:
        write_sweep_file(
            folder,
            {
                "name": name,
                "experiment": experiment.display_name,
                "file": str(Path(args.file).resolve()),
                "created": time.time(),
                "storage": storage if args.storage else journal_url(folder),
                "spec": spec.model_dump(mode="json"),
                "metric": metric,
                "maximize": maximize,
            },
        )
    from dltui.sweep.engine import SweepPlan, SweepRunner

    budget = args.trials or spec.trial_budget
    plan = SweepPlan(
        file=Path(args.file),
        experiment=experiment.display_name,
        spec=spec,
        name=name,
        folder=folder,
        runs_root=runs,
        storage=storage,
        budget=budget,
        max_minutes=spec.max_minutes,
        parallel=args.parallel or spec.parallel,
        metric=metric,
        maximize=maximize,
        epochs=experiment.training.epochs,
        seed=spec.seed if spec.seed is not None else experiment.seed,
        devices=_gpus(experiment.training.device),
    )
    return SweepRunner(plan, say=_say).run()


def _say(text: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"{stamp}  {text}", flush=True)
