"""`dltui ls`, `dltui plot` and `dltui export` on real runs, a torn run and an empty one."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dltui.cli import main
from dltui.runs import RunReader, RunWriter

ANSI = re.compile("\x1b\\[")

SPIRALS = """
name = "{name}"
description = "spirals for the shell tests"
tags = ["playground", "shell-{name}"]
seed = 3
[data]
source = "spirals"
samples = 160
batch_size = 32
split = {{ train = 0.6, val = 0.2, test = 0.2 }}
[[model.layers]]
type = "dense"
out_features = 8
[[model.layers]]
type = "relu"
[[model.layers]]
type = "dense"
out_features = 2
[training]
epochs = 3
log_every = 2
device = "cpu"
metrics = {metrics}
optimizer = {{ name = "adam", lr = 0.01 }}
{stopping}
"""


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sizes and colour as for a pipe, whatever the shell running the tests exports."""
    for name in ("COLUMNS", "LINES", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


class Runs:
    """The fixture's runs folder and the run folders in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs = root / "runs"

    def run(self, experiment: str, run_id: str) -> Path:
        return self.runs / experiment / run_id


@pytest.fixture(scope="module")
def shell_runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("shell")
    made = Runs(root)
    stopping = '[early_stopping]\nmonitor = "val_accuracy"\npatience = 5'
    for name, run_id, metrics, stop in (
        ("spirals", "20260101-000000-aaaa", '["accuracy"]', stopping),
        ("spirals", "20260102-000000-bbbb", '["accuracy"]', stopping),
        ("plain", "20260103-000000-cccc", "[]", ""),
    ):
        exp = root / f"{name}.toml"
        exp.write_text(SPIRALS.format(name=name, metrics=metrics, stopping=stop), "utf-8")
        assert main(["run", str(exp), "--runs", str(made.runs), "--quiet", "--name", run_id]) == 0
    # A torn run: a copy of a real one whose writer died mid-line and mid-record.
    torn = made.run("spirals", "20260104-000000-dddd")
    shutil.copytree(made.run("spirals", "20260101-000000-aaaa"), torn)
    meta = json.loads((torn / "meta.json").read_text())
    meta["run_id"] = torn.name
    (torn / "meta.json").write_text(json.dumps(meta))
    with open(torn / "events.jsonl", "ab") as events:
        events.write(b'{"kind": "epoch", "epoch": 4, "st')
    with open(torn / "scalars.bin", "ab") as scalars:
        scalars.write(b"\x00" * 13)
    # An empty run: meta.json and nothing else, as a launcher leaves it a moment after start.
    empty = made.run("empty", "20260105-000000-eeee")
    empty.mkdir(parents=True)
    (empty / "meta.json").write_text(
        json.dumps(
            {"format": 1, "run_id": empty.name, "experiment": "empty", "created": 1.0, "pid": 1}
        )
    )
    return made


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- ls ------------------------------------------------------------------------------------


def test_ls_lists_every_run_newest_first(
    shell_runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "ls", "--runs", str(shell_runs.runs))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["EXPERIMENT", "RUN", "STATUS", "AGE", "EPOCH", "BEST", "DEVICE"]
    rows = {line.split()[1]: line for line in lines[1:]}
    assert set(rows) == {
        "20260101-000000-aaaa",
        "20260102-000000-bbbb",
        "20260103-000000-cccc",
        "20260104-000000-dddd",
        "20260105-000000-eeee",
    }
    assert "val/accuracy" in rows["20260101-000000-aaaa"]  # the best value names its metric
    assert rows["20260101-000000-aaaa"].split()[2] == "finished"
    assert rows["20260105-000000-eeee"].split()[2] == "dead"  # never sent a heartbeat
    assert not ANSI.search(out)  # not a terminal: plain text


def test_ls_json_is_strict_and_complete(
    shell_runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "--runs", str(shell_runs.runs), "ls", "--json")
    assert code == 0
    records = {r["run_id"]: r for r in json.loads(out)}
    first = records["20260101-000000-aaaa"]
    assert first["run"] == "spirals/20260101-000000-aaaa"
    assert first["state"] == "finished" and first["monitor"] == "val/accuracy"
    assert 0 <= first["best"] <= 1 and first["best_epoch"] >= 1 and first["device"] == "cpu"
    assert first["epoch"] == 3
    empty = records["20260105-000000-eeee"]
    assert empty["state"] == "dead" and empty["best"] is None and empty["epoch"] is None


def test_ls_filters_as_the_browser_does(
    shell_runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    def ids(*argv: str) -> set[str]:
        code, out, err = run_cli(capsys, "ls", "--json", "--runs", str(shell_runs.runs), *argv)
        assert code == 0, err
        return {record["run_id"] for record in json.loads(out)}

    assert ids("--status", "dead") == {"20260105-000000-eeee"}
    assert ids("--status", "finished,dead", "--experiment", "pl*") == {"20260103-000000-cccc"}
    # Free text: an experiment's tag (from its frozen file) keeps all of its runs…
    assert ids("shell-plain") == {"20260103-000000-cccc"}
    # …and a run's own words (its id, state or device) keep that run alone.
    assert ids("bbbb") == {"20260102-000000-bbbb"}
    assert ids("nothing-like-this") == set()


def test_ls_fits_a_narrow_terminal(shell_runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setenv("COLUMNS", "69")
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["ls", "--runs", str(shell_runs.runs)]) == 0
    monkeypatch.undo()
    lines = stream.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 69
    assert "DEVICE" not in lines[0]  # the first to go
    assert any("…" in line for line in lines)  # names were cut, the run ids were not
    assert sum("20260101-000000-aaaa" in line for line in lines) == 1


def test_ls_rejects_an_unknown_state(shell_runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "ls", "--runs", str(shell_runs.runs), "--status", "done")
    assert code == 2 and "not a state" in err and "finished" in err


def test_ls_of_no_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "ls", "--runs", str(tmp_path / "none"))
    assert (code, out) == (0, "") and "No runs in" in err
    code, out, _ = run_cli(capsys, "ls", "--json", "--runs", str(tmp_path / "none"))
    assert code == 0 and json.loads(out) == []


# -- plot ----------------------------------------------------------------------------------


def test_plot_draws_the_loss_and_the_monitored_metric(
    shell_runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        capsys, "plot", "spirals/20260101-000000-aaaa", "--runs", str(shell_runs.runs)
    )
    assert code == 0, err
    assert "Loss · spirals/20260101-000000-aaaa" in out
    assert "accuracy (monitored: val/accuracy)" in out
    for tag in ("train/loss", "val/loss", "train/accuracy", "val/accuracy"):
        assert f" {tag} last " in out
    assert _braille(out) > 20  # curves were drawn, not only axes
    assert not ANSI.search(out)
    assert max(len(line) for line in out.splitlines()) <= 80


def test_plot_overlays_runs_and_sizes_as_asked(
    shell_runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        capsys,
        "plot",
        str(shell_runs.run("spirals", "20260101-000000-aaaa")),  # a folder
        "20260102-000000-b",  # a unique prefix of a run id
        "--tag",
        "val/loss",
        "--width",
        "60",
        "--height",
        "12",
        "--x",
        "epoch",
        "--smooth",
        "0.6",
        "--runs",
        str(shell_runs.runs),
    )
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 12 and max(len(line) for line in lines) <= 60
    legend = "".join(lines[1:3])  # two entries do not fit one line of 60
    assert "20260101-000000-aaaa" in legend and "20260102-000000-bbbb" in legend
    assert lines[-1].strip() == "epoch"


def test_plot_time_axis_and_patterns(shell_runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        capsys, "plot", "plain/latest", "--tag", "*/loss", "--x", "time", "--runs",
        str(shell_runs.runs),
    )  # fmt: skip
    assert code == 0, err
    assert "time since start (s)" in out and "train/loss" in out and "val/loss" in out


def test_plot_through_watch_fits_its_window(
    shell_runs: Runs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # watch runs the command through a pipe and tells it the window's size.
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("LINES", "30")
    code, out, err = run_cli(capsys, "plot", "plain/latest", "--runs", str(shell_runs.runs))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) <= 29 and max(len(line) for line in lines) <= 100
    assert max(len(line) for line in lines) > 90 and not ANSI.search(out)


def test_plot_honours_no_color_on_a_terminal(
    shell_runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    def plotted() -> str:
        stream = Terminal()
        monkeypatch.setattr(sys, "stdout", stream)
        assert main(["plot", "spirals/20260101-000000-aaaa", "--runs", str(shell_runs.runs)]) == 0
        monkeypatch.undo()
        return stream.getvalue()

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert ANSI.search(plotted())
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    assert not ANSI.search(plotted())


def test_plot_names_what_matches_nothing_or_several(
    shell_runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    root = ["--runs", str(shell_runs.runs)]
    code, _, err = run_cli(capsys, "plot", "spirals", *root)
    assert code == 2 and "matches 3 runs" in err and "spirals/latest" in err
    code, _, err = run_cli(capsys, "plot", "nope/123", *root)
    assert code == 2 and "no run matches" in err
    code, _, err = run_cli(capsys, "plot", str(shell_runs.runs / "spirals"), *root)
    assert code == 2 and "a folder of 3 runs" in err
    code, _, err = run_cli(capsys, "plot", "spirals/latest", "--tag", "val/nothing", *root)
    assert code == 2 and "--tag val/nothing: matches no tag" in err and "train/loss" in err


def test_plot_a_torn_run_and_an_empty_one(
    shell_runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    root = ["--runs", str(shell_runs.runs)]
    code, out, err = run_cli(capsys, "plot", "20260104", *root)
    assert code == 0, err
    assert "Loss · spirals/20260104-000000-dddd" in out and _braille(out) > 20
    code, out, err = run_cli(capsys, "plot", "empty/latest", *root)
    assert code == 1 and out == "" and "nothing to plot" in err
    code, out, err = run_cli(capsys, "plot", "empty/latest", "--confusion", *root)
    assert code == 1 and "no confusion matrix recorded" in err


def test_plot_by_epoch_of_points_without_epochs_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    writer = RunWriter.create(tmp_path / "runs", "script", run_id="r", device="cpu")
    for step in range(10):
        writer.scalar("train/loss", 1.0 / (1 + step), step)  # a script that logs no epochs
    writer.close()
    root = ["--runs", str(tmp_path / "runs")]
    code, out, err = run_cli(capsys, "plot", "script/r", "--x", "epoch", *root)
    assert (code, out) == (1, "") and "carry no epoch (try --x step)" in err
    code, out, err = run_cli(capsys, "plot", "script/r", *root)
    assert code == 0 and "train/loss last 0.1" in out


def test_plot_shows_the_confusion_matrix(
    shell_runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        capsys, "plot", "plain/latest", "--confusion", "--runs", str(shell_runs.runs)
    )
    assert code == 0, err
    reader = RunReader(shell_runs.run("plain", "20260103-000000-cccc"))
    matrix = reader.latest("confusion")["matrix"]
    assert f"{sum(map(sum, matrix))} samples" in out
    assert "recall  precision     f1  support" in out


def test_plot_survives_non_finite_values(tmp_path: Path) -> None:
    # plotext aborts the whole process on a NaN: run it apart from the test runner.
    writer = RunWriter.create(tmp_path / "runs", "odd", run_id="r", device="cpu")
    values = [1.0, math.nan, 0.5, math.inf, 0.25, -math.inf, 0.2]
    for step, value in enumerate(values):
        writer.scalar("train/loss", value, step)
    writer.scalar("val/loss", math.nan, 7)
    writer.close()
    done = subprocess.run(
        [sys.executable, "-m", "dltui", "plot", "odd/r", "--runs", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "train/loss last 0.2" in done.stdout and _braille(done.stdout) > 3


def test_plot_refuses_values_no_axis_can_span(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    writer = RunWriter.create(tmp_path / "runs", "huge", run_id="r", device="cpu")
    writer.scalar("train/loss", 1.7e308, 1)
    writer.scalar("train/loss", -1.7e308, 2)
    writer.close()
    code, out, err = run_cli(capsys, "plot", "huge/r", "--runs", str(tmp_path / "runs"))
    assert (code, out) == (1, "") and "more than a float holds" in err


def test_a_million_points_reach_plotext_as_a_few_hundred(tmp_path: Path) -> None:
    from dltui.report.charts import canvas_columns
    from dltui.report.curves import Chart, chart_lines
    from dltui.report.select import load_runs, resolve_runs

    writer = RunWriter.create(tmp_path, "big", run_id="r", device="cpu")
    n = 1_000_000
    for step in range(n):
        writer.scalar("train/loss", 10.0 if step == 654_321 else 1.0 / (1 + step), step)
    writer.close()
    runs = load_runs(resolve_runs(["big/r"], tmp_path))
    columns = canvas_columns(80) * 2
    (line,), _ = chart_lines(
        Chart("Loss", ("train/loss",)), runs, x_axis="step", smoothing=0.0, columns=columns
    )
    assert len(line.x) <= 2 * columns
    assert line.y.max() == 10.0  # the spike survives decimation
    assert line.x[np.argmax(line.y)] == 654_321


# -- export --------------------------------------------------------------------------------


def _read_csv(text: str) -> dict[tuple[str, str], list[list[float]]]:
    rows = list(csv.DictReader(io.StringIO(text)))
    by_series: dict[tuple[str, str], list[list[float]]] = {}
    for row in rows:
        epoch = float(row["epoch"]) if row["epoch"] else math.nan
        by_series.setdefault((row["run"], row["tag"]), []).append(
            [int(row["step"]), epoch, float(row["time"]), float(row["value"])]
        )
    return by_series


def _same_as_reader(run_dir: Path, name: str, exported: dict[tuple[str, str], list]) -> None:
    reader = RunReader(run_dir)
    tags = reader.tags()
    assert {tag for run, tag in exported if run == name} == set(tags)
    for tag in tags:
        series = reader.series(tag)
        got = np.asarray(exported[(name, tag)], dtype=np.float64)
        assert np.array_equal(got[:, 0], series.step)
        assert np.array_equal(got[:, 1].astype(np.float32), series.epoch, equal_nan=True)
        assert np.array_equal(got[:, 2], series.time)
        assert np.array_equal(got[:, 3], series.value, equal_nan=True)


def test_export_csv_reads_back_as_the_reader_sees_the_runs(
    shell_runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    names = ["spirals/20260101-000000-aaaa", "plain/latest", "20260104"]
    code, out, err = run_cli(capsys, "export", *names, "--runs", str(shell_runs.runs))
    assert code == 0, err
    assert out.splitlines()[0] == "run,tag,step,epoch,time,value"
    exported = _read_csv(out)
    for experiment, run_id in (
        ("spirals", "20260101-000000-aaaa"),
        ("plain", "20260103-000000-cccc"),
        ("spirals", "20260104-000000-dddd"),  # the torn one: up to its last whole record
    ):
        _same_as_reader(shell_runs.run(experiment, run_id), f"{experiment}/{run_id}", exported)


def test_export_json_adds_config_status_and_early_stopping(
    shell_runs: Runs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.json"
    target.write_text("previous export")
    code, out, err = run_cli(
        capsys, "export", "spirals/20260101-000000-aaaa", "-o", str(target), "--runs",
        str(shell_runs.runs),
    )  # fmt: skip
    assert (code, out) == (0, ""), err
    data = json.loads(target.read_text())  # strict JSON: no NaN tokens
    (run,) = data["runs"]
    assert data["columns"] == ["run", "tag", "step", "epoch", "time", "value"]
    assert run["state"] == "finished" and run["status"] == "finished"
    assert run["experiment_file"]["training"]["epochs"] == 3
    assert run["config"]["training"]["epochs"] == 3  # the validated experiment, as data
    assert run["early_stopping"]["monitor"] == "val/accuracy"
    assert run["early_stopping"]["stopped"] is False
    assert "test/loss" in run["test"] and run["confusion"]["classes"] == ["arm 0", "arm 1"]
    exported: dict[tuple[str, str], list] = {}
    for row in data["scalars"]:
        epoch = math.nan if row["epoch"] is None else row["epoch"]
        exported.setdefault((row["run"], row["tag"]), []).append(
            [row["step"], epoch, row["time"], row["value"]]
        )
    _same_as_reader(shell_runs.run("spirals", "20260101-000000-aaaa"), run["run"], exported)


def test_export_non_finite_values_tags_and_empty_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    writer = RunWriter.create(runs, "odd", run_id="r", device="cpu")
    writer.scalar("train/loss", math.nan, 1, 0.5)
    writer.scalar("train/loss", math.inf, 2)  # no epoch
    writer.scalar("train/loss", -math.inf, 3, 1.0)
    writer.scalar("lr, with a comma", 0.1, 3)
    writer.close()
    code, out, err = run_cli(capsys, "export", "odd/r", "--format", "json", "--runs", str(runs))
    assert code == 0, err
    rows = json.loads(out)["scalars"]
    values = [row["value"] for row in rows if row["tag"] == "train/loss"]
    assert values == [None, "Infinity", "-Infinity"]
    assert [row["epoch"] for row in rows][:3] == [0.5, None, 1.0]
    code, out, _ = run_cli(capsys, "export", "odd/r", "--tag", "lr*", "--runs", str(runs))
    assert code == 0
    assert out.splitlines()[1:] == [f'odd/r,"lr, with a comma",3,,{rows[3]["time"]!r},0.1']
    code, out, _ = run_cli(capsys, "export", "odd/r", "--runs", str(runs))
    exported = _read_csv(out)
    _same_as_reader(runs / "odd" / "r", "odd/r", exported)
    # An empty run exports the header alone.
    empty = runs / "empty" / "e"
    empty.mkdir(parents=True)
    (empty / "meta.json").write_text(json.dumps({"format": 1, "experiment": "empty"}))
    code, out, _ = run_cli(capsys, "export", str(empty))
    assert (code, out) == (0, "run,tag,step,epoch,time,value\n")


def test_export_into_a_missing_folder_fails_cleanly(
    shell_runs: Runs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys, "export", "plain/latest", "-o", str(tmp_path / "no" / "x.csv"), "--runs",
        str(shell_runs.runs),
    )  # fmt: skip
    assert code == 2 and "x.csv" in err


def test_export_into_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    writer = RunWriter.create(tmp_path / "runs", "long", run_id="r", device="cpu")
    for step in range(50_000):  # far more than a pipe holds
        writer.scalar("train/loss", 1.0 / (1 + step), step)
    writer.close()
    script = f"{sys.executable} -m dltui export long/r --runs {tmp_path / 'runs'} | head -1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        check=False,
    )
    assert done.stdout == "run,tag,step,epoch,time,value\n"
    assert done.stderr == "" and done.returncode == 1


# -- the package --------------------------------------------------------------------------


def test_the_shell_commands_import_no_textual_and_no_torch() -> None:
    code = (
        "import sys\n"
        "import dltui.report.commands, dltui.report.curves, dltui.report.export\n"
        "import dltui.report.listing, dltui.report.confusion_text, dltui.runs.filters\n"
        "print(' '.join(sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    modules = set(done.stdout.split())
    assert not {m for m in modules if m == "textual" or m.startswith("textual.")}
    assert "torch" not in modules


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("ls", "plot", "export"):
        assert re.search(rf"^\s+{command}\s", out, re.MULTILINE), out


def _braille(text: str) -> int:
    return sum(0x2801 <= ord(char) <= 0x28FF for char in text)


def test_plot_charts_a_gans_losses_and_no_per_epoch_twin_as_a_metric(tmp_path: Path) -> None:
    # A GAN records d_loss, g_loss, d_real, d_fake per step and their _epoch twins: the
    # same values once per epoch (dltui.run_format), none of them a metric of its own.
    from dltui.report.curves import default_charts
    from dltui.report.select import load_runs, resolve_runs

    writer = RunWriter.create(tmp_path / "runs", "gan", run_id="r", device="cpu")
    for step in range(1, 7):
        for name in ("d_loss", "g_loss", "d_real", "d_fake"):
            writer.scalar(f"train/{name}", 1.0 / step, step)
            if step % 3 == 0:
                writer.scalar(f"train/{name}_epoch", 1.0 / step, step, step / 3)
    writer.close()
    runs = load_runs(resolve_runs(["gan/r"], tmp_path / "runs"))
    charts = default_charts(runs)
    assert [chart.title for chart in charts] == ["GAN losses"]
