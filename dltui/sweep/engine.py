"""`dltui sweep`: Optuna asks for trials, dltui runs each as an ordinary run, Optuna is told.

The loop is Optuna's ask-and-tell: a worker thread asks the study for a trial,
the trial's values are set on the experiment (``dltui run FILE --set PATH=VALUE``),
its run is followed epoch by epoch — each epoch's objective value is reported,
and a pruner may stop the run — and the outcome is told to the study. ``parallel``
threads do this at once. Several processes (on several machines, with a database
``--storage``) may work on one study; each counts the trials already started
against the budget before asking for another.

A sweep killed outright leaves trials the study still calls running; a worker
that starts on the sweep later adopts them (`dltui.sweep.adoption`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dltui import run_format as rf
from dltui.spec.sweep import SweepSpec
from dltui.sweep.adoption import RunWatch, Takeover, stale_trials, takeover
from dltui.sweep.records import (
    WorkerFile,
    clear_stop,
    stop_requested,
    trial_config,
    worker_states,
)
from dltui.sweep.space import build_pruner, build_sampler, continued_seed, suggest
from dltui.sweep.trials import EpochValues, TrialLauncher, TrialProcess, follow

if TYPE_CHECKING:
    import optuna

REQUEUED = "requeued"  # user attribute of a trial failed only so its values run again


@dataclass(frozen=True)
class SweepPlan:
    """Everything a sweep needs, decided before the first trial (see `dltui.sweep.cli`)."""

    file: Path
    experiment: str
    spec: SweepSpec
    name: str
    folder: Path
    runs_root: Path
    storage: str
    budget: int | None
    max_minutes: float | None
    parallel: int
    metric: str
    maximize: bool
    epochs: int
    seed: int
    devices: tuple[str, ...] = ()


def open_storage(url: str) -> Any:
    """The Optuna storage for ``url``: ``journal:PATH`` (the default) or a database URL."""
    import optuna

    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        path = url[len("journal:") :]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(path))
    return url


def toml_value(value: Any) -> str:
    """``value`` as it is written after ``--set PATH=`` (a TOML value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


class SweepRunner:
    """Runs a `SweepPlan` to its end; `run` returns the exit code."""

    def __init__(self, plan: SweepPlan, say: Callable[[str], None] = print) -> None:
        """Prepare the sweep; ``say`` prints a line for the person watching."""
        self.plan = plan
        self.say = say
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._started_at = time.monotonic()
        self._processes: dict[int, TrialProcess | RunWatch] = {}
        self._outcomes: list[str] = []
        self.study: optuna.Study | None = None
        self.worker: WorkerFile | None = None
        self.launcher = TrialLauncher()
        self.me = ""
        self._adopted: list[threading.Thread] = []

    # ------------------------------------------------------------------ set-up

    def _open_study(self) -> optuna.Study:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        plan = self.plan
        study = optuna.create_study(
            storage=open_storage(plan.storage),
            study_name=plan.name,
            sampler=build_sampler(plan.spec, plan.seed),
            pruner=build_pruner(plan.spec, plan.epochs),
            direction="maximize" if plan.maximize else "minimize",
            load_if_exists=True,
        )
        if plan.spec.method == "grid":
            return study  # it draws among the points not yet run: nothing to repeat
        before = len(study.get_trials(deepcopy=False))
        # Workers on other machines share a database, not this folder: they cannot be seen.
        shared = not plan.storage.startswith("journal:")
        joining = shared or any(w.alive for w in worker_states(plan.folder))
        seed = continued_seed(plan.seed, before, os.getpid() if joining else None)
        if seed != plan.seed:
            study.sampler = build_sampler(plan.spec, seed)
        return study

    def run(self) -> int:
        """Run trials until the budget is spent, time is up, or the sweep is stopped."""
        plan = self.plan
        clear_stop(plan.folder)
        self.study = self._open_study()
        self.worker = WorkerFile(plan.folder, budget=plan.budget)
        self.me = self.worker.path.stem
        previous = self._install_signals()
        try:
            self.say(self._headline())
            threads = [
                threading.Thread(target=self._work, args=(i,), name=f"sweep-worker-{i}")
                for i in range(plan.parallel)
            ]
            self._adopt_stale()
            for thread in threads:
                thread.start()
            while any(t.is_alive() for t in threads):
                for thread in threads:
                    thread.join(0.5)
                if stop_requested(plan.folder) and not self._stopping.is_set():
                    self.say("stop requested: stopping the running trials")
                    self._stopping.set()
        finally:
            self._restore_signals(previous)
        return self._finish()

    def _headline(self) -> str:
        plan = self.plan
        budget = f"{plan.budget} trials" if plan.budget is not None else "no trial limit"
        limit = f", at most {plan.max_minutes:g} min" if plan.max_minutes else ""
        goal = "maximize" if plan.maximize else "minimize"
        return (
            f"sweep {plan.name}: {plan.spec.method} over {', '.join(plan.spec.params)}; "
            f"{budget}{limit}, {plan.parallel} at once; {goal} {plan.metric} "
            f"({plan.spec.objective.value}); pruner {plan.spec.pruner.kind}"
        )

    def _install_signals(self) -> dict[int, Any]:
        previous: dict[int, Any] = {}
        if threading.current_thread() is not threading.main_thread():
            return previous

        def handler(signum: int, frame: Any) -> None:
            if self._stopping.is_set():
                self.say("second interrupt: ending the running trials now")
                for process in list(self._processes.values()):
                    process.kill()
                return
            self.say("interrupted: stopping the running trials (again to end them at once)")
            self._stopping.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
        return previous

    @staticmethod
    def _restore_signals(previous: dict[int, Any]) -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    # ------------------------------------------------------------------ the loop

    def _budget_left(self) -> bool:
        import optuna

        plan = self.plan
        assert self.study is not None
        if plan.max_minutes is not None and time.monotonic() - self._started_at > (
            plan.max_minutes * 60
        ):
            return False
        if plan.budget is None:
            return True
        states = (
            optuna.trial.TrialState.COMPLETE,
            optuna.trial.TrialState.PRUNED,
            optuna.trial.TrialState.FAIL,
            optuna.trial.TrialState.RUNNING,
        )
        # A trial failed only to be queued again (see `_requeue`) does not spend the
        # budget: its values run again as the trial that replaces it.
        started = sum(
            1
            for t in self.study.get_trials(deepcopy=False, states=states)
            if not t.user_attrs.get(REQUEUED)
        )
        return started < plan.budget

    def _work(self, slot: int) -> None:
        while not self._stopping.is_set():
            with self._lock:
                if self._stopping.is_set() or not self._budget_left():
                    return
                assert self.study is not None
                trial = self.study.ask()
                values = suggest(trial, self.plan.spec)
                trial.set_user_attr("worker", self.me)
            try:
                self._run_trial(trial, values)
            except Exception as error:  # one trial's surprise must not end the sweep
                self._tell_failed(trial.number, f"{type(error).__name__}: {error}")

    def _argv(self, number: int, values: dict[str, Any], run_dir: Path) -> list[str]:
        plan = self.plan
        argv = [
            "run",
            str(plan.file),
            "--run-dir",
            str(run_dir),
            "--runs",
            str(plan.runs_root),
            "--quiet",
            "--meta",
            trial_config(plan.name, number, values),
        ]
        for path, value in values.items():
            argv.append(f"--set={path}={toml_value(value)}")
        if plan.devices:
            argv += ["--device", plan.devices[number % len(plan.devices)]]
        return argv

    def _run_trial(self, trial: optuna.Trial, values: dict[str, Any]) -> None:
        from dltui.runs.layout import new_run_id

        plan = self.plan
        run_dir = plan.runs_root / plan.experiment / new_run_id()
        trial.set_user_attr("run_dir", str(run_dir))
        self.say(f"trial {trial.number} started: {_values_text(values)}  ({run_dir.name})")
        process = self.launcher.start(self._argv(trial.number, values, run_dir), run_dir)
        self._follow(trial, process)

    def _follow(self, trial: optuna.Trial, process: TrialProcess | RunWatch) -> None:
        plan = self.plan
        number = trial.number
        assert self.worker is not None
        self._processes[number] = process
        self.worker.running.add(number)
        reported = set(trial.study._storage.get_trial(trial._trial_id).intermediate_values)
        values = EpochValues(plan.metric)

        def on_epoch(epoch: int, value: float) -> str | None:
            if epoch in reported or not math.isfinite(value):
                return None
            trial.report(value, epoch)
            reported.add(epoch)
            if trial.should_prune():
                return f"pruned by the {plan.spec.pruner.kind} pruner at epoch {epoch}"
            return None

        def should_stop() -> str | None:
            return "stopped with the sweep" if self._stopping.is_set() else None

        try:
            code, reason = follow(process, values, on_epoch, should_stop)
        finally:
            self._processes.pop(number, None)
            self.worker.running.discard(number)
        self._tell(trial, process.run_dir, code, reason, values)

    def _tell(
        self,
        trial: optuna.Trial,
        run_dir: Path,
        code: int,
        reason: str | None,
        values: EpochValues,
    ) -> None:
        import optuna

        plan = self.plan
        assert self.study is not None
        number = trial.number
        if reason is not None and reason.startswith("pruned"):
            self._tell_study(trial, state=optuna.trial.TrialState.PRUNED)
            self._outcome(number, "pruned", reason)
            return
        state = _run_state(run_dir)
        if reason is not None and state != rf.FINISHED:
            # Stopped with the sweep: still running as far as the study knows, so a
            # later `dltui sweep --resume` continues it from its checkpoint.
            self._outcome(number, "stopped", "will continue when the sweep is resumed")
            return
        if code == rf.EXIT_FINISHED or state == rf.FINISHED:
            score = values.objective(plan.spec.objective.value, plan.maximize)
            if score is None:
                self._tell_failed(number, f"the run recorded no finite {plan.metric}")
                return
            self._tell_study(trial, score)
            self._outcome(number, "finished", f"{plan.metric} {score:.6g}{self._best_text()}")
            return
        self._tell_failed(number, _run_reason(run_dir) or f"the run exited with code {code}")

    def _tell_failed(self, number: int, reason: str) -> None:
        import optuna

        assert self.study is not None
        with self._lock:
            trial_id = self.study._storage.get_trial_id_from_study_id_trial_number(
                self.study._study_id, number
            )
            # Told already when the surprise came after telling it.
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                self.study._storage.set_trial_user_attr(trial_id, "reason", reason)
        self._tell_study(number, state=optuna.trial.TrialState.FAIL)
        self._outcome(number, "failed", reason)

    def _tell_study(
        self, trial: optuna.Trial | int, value: float | None = None, state: Any = None
    ) -> None:
        """Tell the study a trial's outcome, once.

        The grid sampler calls ``Study.stop()`` when the last point is told, which
        Optuna allows only inside ``optimize``; the outcome is stored before that
        (in a ``finally``), so the complaint is only about stopping, and the loop
        here stops by itself when the budget is spent.
        """
        import optuna

        assert self.study is not None
        with self._lock:
            try:
                self.study.tell(trial, value, state=state)
            except RuntimeError as error:
                if "Study.stop" not in str(error):
                    raise
            except (optuna.exceptions.UpdateFinishedTrialError, ValueError):
                pass  # told already

    def _outcome(self, number: int, state: str, detail: str) -> None:
        self._outcomes.append(state)
        self.say(f"trial {number} {state}: {detail}")

    def _best_text(self) -> str:
        assert self.study is not None
        try:
            best = self.study.best_trial
        except ValueError:
            return ""
        return f"  (best: trial {best.number}, {best.value:.6g})"

    # ------------------------------------------------------------------ adoption

    def _adopt_stale(self) -> None:
        """Take over trials the study calls running whose worker is gone."""
        import optuna

        assert self.study is not None
        for frozen in stale_trials(self.study, self.plan.folder, self.me):
            trial = optuna.trial.Trial(self.study, frozen._trial_id)
            trial.set_user_attr("worker", self.me)
            # Decided here, before any worker asks for a trial: a trial queued again
            # must be off the budget by then (see `_budget_left`).
            plan = takeover(frozen)
            if plan.action == "requeue" or plan.run_dir is None:
                self._requeue(frozen, plan.why)
                continue
            thread = threading.Thread(
                target=self._continue, args=(trial, frozen, plan), name=f"adopt-{frozen.number}"
            )
            thread.start()
            self._adopted.append(thread)

    def _continue(
        self, trial: optuna.Trial, frozen: optuna.trial.FrozenTrial, plan: Takeover
    ) -> None:
        run_dir = plan.run_dir
        assert run_dir is not None
        try:
            self.say(f"trial {frozen.number}: {plan.why}")
            if plan.action == "follow":
                self._follow(trial, RunWatch(run_dir))
            else:
                process = self.launcher.start(["run", "--resume", str(run_dir), "--quiet"], run_dir)
                self._follow(trial, process)
        except Exception as error:
            self._tell_failed(frozen.number, f"{type(error).__name__}: {error}")

    def _requeue(self, frozen: optuna.trial.FrozenTrial, reason: str) -> None:
        """Fail a trial that cannot continue and queue its values again; it does not
        spend the budget, and the sweep's outcome does not count it as a failure."""
        import optuna

        assert self.study is not None
        with self._lock:
            storage = self.study._storage
            trial_id = storage.get_trial_id_from_study_id_trial_number(
                self.study._study_id, frozen.number
            )
            storage.set_trial_user_attr(trial_id, REQUEUED, True)
            storage.set_trial_user_attr(trial_id, "reason", reason)
        self._tell_study(frozen.number, state=optuna.trial.TrialState.FAIL)
        with self._lock:
            self.study.enqueue_trial(frozen.params, skip_if_exists=False)
        self.say(f"trial {frozen.number}: {reason}; its values are queued again")

    # ------------------------------------------------------------------ the end

    def _finish(self) -> int:
        for thread in self._adopted:
            thread.join()
        assert self.worker is not None and self.study is not None
        stopped = self._stopping.is_set()
        counts = {state: self._outcomes.count(state) for state in set(self._outcomes)}
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no trials"
        best = self._best_text().strip(" ()")
        self.say(
            f"sweep {self.plan.name} {'stopped' if stopped else 'finished'}: {summary}"
            + (f"; {best}" if best else "")
        )
        if stopped:
            self.worker.close("stopped", "stopped by request")
            return rf.EXIT_INTERRUPTED
        if self._outcomes and all(state == "failed" for state in self._outcomes):
            self.worker.close("failed", "every trial failed")
            return rf.EXIT_FAILED
        self.worker.close("finished")
        return rf.EXIT_FINISHED


def _values_text(values: dict[str, Any]) -> str:
    return ", ".join(
        f"{path} = {value:.4g}" if isinstance(value, float) else f"{path} = {value}"
        for path, value in values.items()
    )


def _run_state(run_dir: Path) -> str | None:
    """The run's final state as its status file says (finished, stopped, failed, ...)."""
    from dltui.runs.reader import RunReader

    try:
        return RunReader(run_dir).status.state
    except OSError:
        return None


def _run_reason(run_dir: Path) -> str | None:
    from dltui.runs.reader import RunReader

    try:
        return RunReader(run_dir).status.reason
    except OSError:
        return None
