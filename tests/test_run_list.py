"""The browser's list without Textual: which runs the filter keeps, their order, the cells.

`dltui.runs.filters` is the rule `dltui ls` and the browser share; `run_list`
turns a catalog into the rows the browser draws.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from dltui.runs.discovery import RunInfo
from dltui.runs.filters import SORT_MODES, experiment_order, filter_runs, sort_runs, text_matches
from dltui.runs.status import RunStatus
from dltui.tui.catalog import Catalog, ExperimentEntry
from dltui.tui.screens.describe import ModelChecks, ModelReport
from dltui.tui.screens.run_list import (
    STATE_COLOURS,
    delete_question,
    list_rows,
    starting_runs,
    visible_groups,
)


def run(
    experiment: str,
    run_id: str,
    *,
    state: str = "finished",
    created: float | None = None,
    best: float | None = None,
    monitor: str | None = None,
    device: str | None = "cpu",
) -> RunInfo:
    alive = state in ("running", "starting")
    status = RunStatus(state, state, None, None, None, None, None, None, alive)
    return RunInfo(
        experiment=experiment,
        run_id=run_id,
        path=Path("runs", experiment, run_id),
        created=created,
        state=state,
        reason=None,
        device=device,
        best=best,
        monitor=monitor,
        best_epoch=None,
        epoch=3.0,
        step=None,
        status=status,
        meta={},
    )


RUNS = [
    run("cnn", "a", state="finished", created=100, best=0.30, monitor="val/loss"),
    run("cnn", "b", state="failed", created=300, best=0.20, monitor="val/loss", device="cuda:0"),
    run("cnn", "c", state="running", created=200, best=0.25, monitor="val/loss"),
    run("cnn", "d", state="stopped", created=400, best=0.90, monitor="val/accuracy"),
    run("mlp", "e", state="dead", created=50),
]


def ids(runs: list[RunInfo]) -> list[str]:
    return [r.run_id for r in runs]


def test_each_order() -> None:
    assert SORT_MODES == ("newest", "name", "best", "status")
    assert ids(sort_runs(RUNS, "newest")) == ["d", "b", "c", "a", "e"]
    assert ids(sort_runs(RUNS, "name")) == ["a", "b", "c", "d", "e"]
    # Best: the runs that watch the metric, best first; the others after, as they came.
    assert ids(sort_runs(RUNS, "best", monitor="val/loss")) == ["b", "c", "a", "d", "e"]
    up = sort_runs(RUNS, "best", monitor="val/loss", higher_is_better=True)
    assert ids(up) == ["a", "c", "b", "d", "e"]
    # Status: what needs a look first (running, dead, failed...), newest first within.
    assert ids(sort_runs(RUNS, "status")) == ["c", "e", "b", "d", "a"]


def test_experiments_are_ordered_by_their_runs() -> None:
    cnn, mlp = [r for r in RUNS if r.experiment == "cnn"], [RUNS[-1]]
    groups = {"cnn": cnn, "mlp": mlp, "Zero": []}

    def order(mode: str) -> list[str]:
        return sorted(groups, key=lambda name: experiment_order(mode, name, groups[name]))  # type: ignore[arg-type]

    assert order("newest") == ["cnn", "mlp", "Zero"]
    assert order("name") == ["cnn", "mlp", "Zero"]  # case does not count
    assert order("status") == ["cnn", "mlp", "Zero"]  # running before dead before nothing


def test_one_matching_rule() -> None:
    assert text_matches("", "anything") and text_matches("  CNN ", "cnn net")
    assert not text_matches("gan", "cnn net")
    words = {"cnn": "cnn conv playground", "mlp": "mlp"}
    kept = filter_runs(RUNS, "playground", words_of=words.__getitem__)
    assert ids(kept) == ["a", "b", "c", "d"]  # the experiment matched: all its runs
    assert ids(filter_runs(RUNS, "cuda", words_of=words.__getitem__)) == ["b"]  # a run's device


def entry(name: str, problems: list[str] | None = None) -> ExperimentEntry:
    return ExperimentEntry(Path(f"experiments/{name}.toml"), name, None, problems or [])


def test_groups_keep_matching_experiments_even_without_runs() -> None:
    catalog = Catalog({Path("experiments/cnn.toml"): entry("cnn", ["bad"]),
                       Path("experiments/empty.toml"): entry("empty", ["bad"])},
                      list(RUNS))  # fmt: skip
    every = visible_groups(catalog, [], "", "newest")
    assert [g.name for g in every] == ["cnn", "mlp", "empty"]
    assert ids(every[0].runs) == ["d", "b", "c", "a"]
    # "invalid" is one of an invalid file's words: both files match, with all their runs.
    invalid = visible_groups(catalog, [], "invalid", "name")
    assert [g.name for g in invalid] == ["cnn", "empty"] and len(invalid[0].runs) == 4
    assert [g.name for g in visible_groups(catalog, [], "dead", "name")] == ["mlp"]
    assert visible_groups(catalog, [], "nothing-like-this", "name") == []


def test_rows_and_their_cells() -> None:
    catalog = Catalog({Path("experiments/cnn.toml"): entry("cnn", ["bad"])}, list(RUNS[:2]))
    groups = visible_groups(catalog, [], "", "newest")
    rows = list_rows(groups, 400.0, marked={RUNS[0].path}, invalid=lambda e: bool(e.problems))
    assert [row.key for row in rows] == ["exp:cnn", f"run:{RUNS[1].path}", f"run:{RUNS[0].path}"]
    head = rows[0].cells
    assert head[0].text == "▾ cnn" and head[0].bold
    assert (head[1].text, head[1].colour) == ("invalid", "error")
    assert head[2].text == "1m" and head[3].text == "0.2 val/loss"  # its best run's best
    failed, finished = rows[1].cells, rows[2].cells
    assert failed[0].text == "    b" and finished[0].text == "  ◆ a"  # marked
    assert (failed[1].text, failed[1].colour) == ("failed", STATE_COLOURS["failed"])
    assert finished[2].text == "5m" and finished[4].text == "3" and failed[5].text == "cuda:0"
    folded = list_rows(groups, 400.0, collapsed={"cnn"}, invalid=lambda e: False)
    assert len(folded) == 1 and folded[0].cells[0].text == "▸ cnn"
    assert (folded[0].cells[1].text, folded[0].cells[1].colour) == ("2 runs", "foreground-muted")
    # By default an entry is invalid when its file did not load (this one did not).
    assert list_rows(groups, 400.0)[0].cells[1].text == "invalid"


def test_runs_just_launched_are_listed_as_starting(tmp_path: Path) -> None:
    class Launched:
        def __init__(self, run_dir: Path, experiment_path: Path | None) -> None:
            self.run_dir, self.experiment_path, self.pid = run_dir, experiment_path, 42

    new, resumed = tmp_path / "cnn" / "new", tmp_path / "cnn" / "old"
    new.mkdir(parents=True)
    launched = {new: Launched(new, Path("cnn.toml")), resumed: Launched(resumed, None)}
    (listed,) = starting_runs(launched, [])  # type: ignore[arg-type]
    assert (listed.experiment, listed.run_id, listed.state) == ("cnn", "new", "starting")
    assert listed.alive and listed.status.pid == 42 and listed.created is not None
    recorded = dataclasses.replace(run("cnn", "new"), path=new)
    assert starting_runs(launched, [recorded]) == []  # type: ignore[arg-type]


def test_the_delete_question_names_what_goes() -> None:
    title, text = delete_question(RUNS[:2], 3 * 2**20, 1, Path("runs"))
    assert title == "Delete 2 runs?"
    assert "cnn/a  (finished)" in text and "3.0 MiB on disk" in text
    assert "1 other marked run, hidden by the filter, is not deleted." in text


def test_model_checks_follow_the_file_as_it_is() -> None:
    valid = ExperimentEntry(Path("a.toml"), "a", object(), [], None, (1.0, 10))  # type: ignore[arg-type]
    other = ExperimentEntry(Path("b.toml"), "b", object(), [], None, (1.0, 10))  # type: ignore[arg-type]
    broken = entry("c", ["line 1: bad"])
    checks = ModelChecks()
    assert checks.start([valid, other, broken], first=other) == [
        (other.path, other.stamp),
        (valid.path, valid.stamp),
    ]
    assert checks.start([valid, other]) == []  # being checked already
    checks.done((valid.path, valid.stamp), ModelReport(("model.layers[0]: does not fit",)))
    assert checks.problems(valid) == ["model.layers[0]: does not fit"]
    assert checks.problems(broken) == ["line 1: bad"] and checks.report_for(other) is None
    edited = ExperimentEntry(Path("a.toml"), "a", object(), [], None, (2.0, 11))  # type: ignore[arg-type]
    assert checks.report_for(edited) is None and checks.start([edited]) == [
        (edited.path, (2.0, 11))
    ]


@pytest.mark.parametrize("module", ["dltui.tui.screens.run_list", "dltui.runs.filters"])
def test_the_list_is_worked_out_without_textual(module: str) -> None:
    code = f"import sys, {module}; print(any(m.startswith('textual') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def _trial(experiment: str, run_id: str, sweep: str, number: int, created: float) -> RunInfo:
    meta = {"config": {"sweep": {"name": sweep, "trial": number, "params": {}}}}
    return dataclasses.replace(run(experiment, run_id, created=created), meta=meta)


def test_each_sweep_is_listed_with_its_own_trials_under_it() -> None:
    from dltui.sweep.report import SweepFolder
    from dltui.tui.sweep_catalog import SweepEntry

    def sweep(name: str, created: float) -> SweepEntry:
        info = {"name": name, "created": created, "spec": {"method": "grid", "params": {}}}
        folder = SweepFolder("spirals", name, Path("runs/spirals/sweeps", name), info, [])
        return SweepEntry(folder, None)

    runs = [
        _trial("spirals", "a0", "old", 0, 10.0),
        _trial("spirals", "a1", "old", 1, 11.0),
        _trial("spirals", "b0", "new", 0, 20.0),
        run("spirals", "plain", created=30.0),
        _trial("spirals", "gone0", "deleted-sweep", 0, 5.0),
    ]
    catalog = Catalog({}, runs)
    groups = visible_groups(catalog, [], "", "newest")
    sweeps = [sweep("old", 9.0), sweep("new", 19.0)]
    keys = [row.key for row in list_rows(groups, 100.0, sweeps=sweeps)]
    assert keys == [
        "exp:spirals",
        "sweep:runs/spirals/sweeps/new",
        "run:runs/spirals/b0",
        "sweep:runs/spirals/sweeps/old",
        "run:runs/spirals/a1",
        "run:runs/spirals/a0",
        "run:runs/spirals/plain",
        "run:runs/spirals/gone0",  # its sweep's folder is gone: listed as a run
    ]
    labels = [row.cells[0].text for row in list_rows(groups, 100.0, sweeps=sweeps)]
    assert labels[2].strip() == "#0 b0"
    folded = list_rows(groups, 100.0, sweeps=sweeps, collapsed={"sweep:runs/spirals/sweeps/old"})
    assert "run:runs/spirals/a1" not in [row.key for row in folded]


def test_a_pruned_trial_says_pruned_and_an_ordinary_stop_says_stopped() -> None:
    pruned = dataclasses.replace(
        _trial("spirals", "p", "s", 3, 1.0),
        state="stopped",
        reason="pruned by the median pruner at epoch 9",
    )
    stopped = dataclasses.replace(run("spirals", "q", state="stopped"), reason="pruned words")
    rows = list_rows(visible_groups(Catalog({}, [pruned, stopped]), [], "", "newest"), 10.0)
    states = {row.key: row.cells[1].text for row in rows}
    assert states["run:runs/spirals/p"] == "pruned"
    assert states["run:runs/spirals/q"] == "stopped"  # not a trial: its own words


def test_a_sweep_row_names_it_a_sweep_once() -> None:
    from dltui.sweep.report import SweepFolder
    from dltui.tui.screens.run_list import sweep_row
    from dltui.tui.sweep_catalog import SweepEntry

    def label(name: str) -> str:
        info = {"name": name, "spec": {"method": "tpe", "params": {}}}
        entry = SweepEntry(SweepFolder("e", name, Path("runs/e/sweeps", name), info, []), None)
        return sweep_row(entry, 0.0, False).cells[0].text.strip()

    assert label("lr") == "▾ sweep lr (tpe)"
    assert label("sweep-20261201-153330") == "▾ sweep-20261201-153330 (tpe)"
