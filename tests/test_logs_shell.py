"""`dltui ls|plot|export` on other tools' logs (``--logdir`` and the settings file), and
the settings file itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dltui.cli import main
from dltui.settings import load_settings, merged_logdirs, settings_path

tensorboardX = pytest.importorskip("tensorboardX")


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TensorBoard run and a Keras CSV log under ``logs/``; no settings file around."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("COLUMNS", "120")
    root = tmp_path / "logs"
    writer = tensorboardX.SummaryWriter(str(root / "tb" / "run1"))
    for step in range(30):
        writer.add_scalar("Loss/train", 1.0 / (step + 1), step)
        writer.add_scalar("Loss/test", 1.5 / (step + 1), step)
    writer.close()
    keras = root / "keras" / "training.log"
    keras.parent.mkdir(parents=True)
    keras.write_text("epoch,loss,val_loss\n0,2.0,2.2\n1,1.5,1.8\n2,1.2,1.6\n")
    return root


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ls_lists_other_tools_runs_with_their_mark(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "ls", "--runs", str(tmp_path / "runs"), "--logdir", str(logs))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["EXPERIMENT", "RUN", "STATUS"]
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert rows["run1"][0] == "logs/tb" and rows["run1"][-1] == "tb"
    assert rows["training.log"][0] == "logs/keras" and rows["training.log"][-1] == "csv"
    code, out, _ = run_cli(capsys, "ls", "tb", "--logdir", str(logs), "--json")
    assert [(r["run_id"], r["source"]) for r in json.loads(out)] == [("run1", "tensorboard")]


def test_the_settings_file_gives_the_log_folders(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = settings_path()
    assert config == tmp_path / "config" / "dltui" / "settings.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'logdirs = ["{logs}"]\n')
    code, out, _ = run_cli(capsys, "ls", "--runs", str(tmp_path / "runs"), "--json")
    assert code == 0
    assert sorted(r["run_id"] for r in json.loads(out)) == ["run1", "training.log"]


def test_plot_and_export_take_another_tools_run(
    logs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "plot", "tb/run1", "--logdir", str(logs), "--width", "80",
                             "--height", "10")  # fmt: skip
    assert code == 0, err
    assert "Loss" in out and "Loss/train" in out and "Loss/test" in out
    code, out, err = run_cli(capsys, "export", str(logs / "keras" / "training.log"))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "run,tag,step,epoch,time,value"
    assert "keras/training.log,val_loss,2,2.0,nan,1.6" in lines
    code, out, err = run_cli(capsys, "export", "tb/run1", "--logdir", str(logs), "--format",
                             "json", "--tag", "Loss/test")  # fmt: skip
    assert code == 0, err
    document = json.loads(out)
    assert document["runs"][0]["run_id"] == "run1"
    values = [row for row in document["scalars"] if row["tag"] == "Loss/test"]
    assert len(values) == 30 and values[0]["value"] == 1.5 and values[0]["step"] == 0


def test_plot_overlays_another_tools_spelling_of_dltuis_loss(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui_runs import make_run

    make_run(tmp_path / "runs", "spirals", "20260101-000000-aaaa")
    code, out, err = run_cli(capsys, "plot", "spirals", "keras/training.log", "--runs",
                             str(tmp_path / "runs"), "--logdir", str(logs), "--width", "100",
                             "--height", "12")  # fmt: skip
    assert code == 0, err
    loss_chart = out.split("\n\n")[0]
    # Keras' `loss` and `val_loss` are dltui's train/loss and val/loss: one chart, four lines.
    assert "keras/training.log loss last 1.2" in loss_chart
    assert "keras/training.log val_loss last 1.6" in loss_chart
    assert "20260101-000000-aaaa train/loss" in loss_chart


def test_a_name_that_matches_nothing_says_so(logs: Path, capsys: pytest.CaptureFixture[str]):
    code, _, err = run_cli(capsys, "plot", "nothing-here", "--logdir", str(logs))
    assert code == 2 and "no run matches" in err


def test_settings_problems_name_the_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('# comment\nlogdirs = "x"\ncolour = 3\n')
    settings = load_settings(path)
    assert settings.logdirs == [tmp_path / "x"]  # relative to the file; one folder is fine
    assert settings.problems == [f"{path}: line 3: unknown key 'colour' (known: logdirs)"]
    path.write_text("logdirs = [1, 2]\n")
    assert load_settings(path).problems == [
        f"{path}: line 1: logdirs: expected a list of folder names (strings)"
    ]
    path.write_text('logdirs = ["a"\n\n')
    problem = load_settings(path).problems[0]
    assert problem.startswith(f"{path}: line 1:") and "array" in problem
    path.write_text('logdirs = ["~/tb", "/abs", "/abs"]\n')
    settings = load_settings(path)
    assert settings.logdirs == [Path("~/tb").expanduser(), Path("/abs")] and not settings.problems
    assert merged_logdirs(["/given"], settings) == [Path("/given"), *settings.logdirs]
    assert load_settings(tmp_path / "absent.toml").problems == []


def test_settings_path_honours_xdg_config_home(tmp_path: Path) -> None:
    assert settings_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "dltui/settings.toml"
    relative = settings_path({"XDG_CONFIG_HOME": "relative"})
    assert relative == Path.home() / ".config" / "dltui" / "settings.toml"


def test_logdir_before_the_command_leaves_the_command_alone(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `--logdir DIR...` takes several folders: the command name after them is not one more
    # (it was, and `dltui --logdir DIR ls` opened the dashboard on a folder named `ls`).
    def no_dashboard(**_: object) -> int:
        raise AssertionError("the dashboard started instead of the command")

    monkeypatch.setattr("dltui.tui.app.run_app", no_dashboard)
    runs = str(tmp_path / "runs")
    code, out, err = run_cli(capsys, "--runs", runs, "--logdir", str(logs), "ls", "tb")
    assert code == 0, err
    assert "run1" in out and "tb" in out
    code, out, err = run_cli(capsys, "--logdir", str(logs / "tb"), str(logs / "keras"), "ls")
    assert code == 0, err
    assert "run1" in out and "training" in out
