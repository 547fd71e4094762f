"""The experiment schema: defaults, normalisation and error details."""

from __future__ import annotations

from pathlib import Path

import pytest

from dltui.spec import SpecError, load_experiment, parse_experiment
from dltui.spec.early_stopping import auto_mode, metric_tag
from dltui.spec.errors import Problem, did_you_mean, format_path
from dltui.spec.locate import find_line, line_index

MINIMAL = """
[data]
source = "spirals"
[[model.layers]]
type = "dense"
out_features = 2
"""


def _problems(text: str) -> list[Problem]:
    with pytest.raises(SpecError) as info:
        parse_experiment(text, file="x.toml", check_files=False)
    return info.value.problems


def test_minimal_file_gets_defaults() -> None:
    experiment = parse_experiment(MINIMAL)
    assert experiment.model.kind == "sequential"
    assert experiment.training.optimizer.name == "adam"
    assert experiment.data.split.train == 0.8
    assert experiment.early_stopping is None
    assert experiment.display_name == "experiment"


def test_name_defaults_to_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "my-run.toml"
    path.write_text(MINIMAL)
    experiment = load_experiment(path)
    assert experiment.display_name == "my-run"
    assert experiment.file == path


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_experiment(tmp_path / "nope.toml")
    assert "no such file" in str(info.value)


def test_relative_data_paths_resolve_against_the_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "d.csv").write_text("a,label\n1,0\n")
    path = tmp_path / "exp.toml"
    path.write_text(
        '[data]\nsource = "csv"\npath = "data/d.csv"\ntarget = "label"\n'
        '[[model.layers]]\ntype = "dense"\nout_features = 2\n'
    )
    experiment = load_experiment(path)
    assert experiment.data.path == tmp_path / "data" / "d.csv"  # type: ignore[union-attr]


def test_early_stopping_monitor_names_are_normalised() -> None:
    experiment = parse_experiment(MINIMAL + '[early_stopping]\nmonitor = "val_accuracy"\n')
    assert experiment.early_stopping is not None
    assert experiment.early_stopping.monitor == "val/accuracy"
    assert experiment.early_stopping.resolved_mode == "max"
    assert metric_tag("train_loss") == "train/loss"
    assert metric_tag("grad_norm/total") == "grad_norm/total"
    assert auto_mode("val/loss") == "min"
    assert auto_mode("val/f1") == "max"


def test_optimizer_options_must_belong_to_the_optimizer() -> None:
    problems = _problems(MINIMAL + '[training.optimizer]\nname = "adam"\nnesterov = true\n')
    assert problems[0].path == "training.optimizer"
    assert "nesterov not an option of adam" in problems[0].message


def test_nesterov_needs_momentum() -> None:
    problems = _problems(MINIMAL + '[training.optimizer]\nname = "sgd"\nnesterov = true\n')
    assert "nesterov needs momentum" in problems[0].message


def test_schedule_options_must_belong_to_the_schedule() -> None:
    problems = _problems(MINIMAL + '[training.schedule]\nname = "cosine"\nstep_size = 3\n')
    assert "step_size not an option of cosine" in problems[0].message


def test_gan_kind_and_init_from_string() -> None:
    text = """
[data]
source = "gmm2d"
[model]
kind = "gan"
latent_dim = 4
[[model.generator]]
type = "dense"
out_features = 2
[[model.discriminator]]
type = "dense"
out_features = 1
"""
    experiment = parse_experiment(text)
    assert experiment.is_gan
    with pytest.raises(TypeError):
        _ = experiment.sequential
    assert parse_experiment(MINIMAL).sequential.init_from is None
    with_init = parse_experiment(
        '[data]\nsource = "spirals"\n[model]\ninit_from = "ckpt.pt"\nfreeze = [0]\n'
        '[[model.layers]]\ntype = "dense"\nout_features = 2\n',
        file="/tmp/x/exp.toml",
        check_files=False,
    )
    assert with_init.sequential.init_from is not None
    assert with_init.sequential.init_from.path == Path("/tmp/x/ckpt.pt")
    assert with_init.sequential.freeze == [0]


def test_init_from_needs_exactly_one_source() -> None:
    problems = _problems(
        '[data]\nsource = "spirals"\n[model.init_from]\ncheckpoint = "best"\n'
        '[[model.layers]]\ntype = "dense"\nout_features = 2\n'
    )
    assert any("exactly one of `path` and `experiment`" in p.message for p in problems)


def test_problem_formatting_and_helpers() -> None:
    problem = Problem("model.layers[3].out", "bad", file="f.toml", line=7, hint="did you mean `x`?")
    assert str(problem) == "f.toml:7: model.layers[3].out: bad (did you mean `x`?)"
    assert format_path(("model", "layers", 3, "out")) == "model.layers[3].out"
    assert did_you_mean("dropuot", ["dropout", "dense"]) == "did you mean `dropout`?"
    assert did_you_mean("Dense", ["dense"]) == "did you mean `dense`?"
    assert did_you_mean("zzz", ["dense"]) is None


def test_line_index_handles_arrays_of_tables_and_dotted_keys() -> None:
    text = (
        'name = "x"\n'
        "[training]\n"
        "optimizer.lr = 0.1\n"
        "[[model.layers]]\n"
        'type = "dense"\n'
        "[[model.layers]]\n"
        'type = "residual"\n'
        "[[model.layers.layers]]\n"
        'type = "relu"\n'
        'doc = """\n'
        "x = 1\n"
        '"""\n'
        "after = 2\n"
    )
    index = line_index(text)
    assert find_line(index, ("training", "optimizer", "lr")) == 3
    assert find_line(index, ("model", "layers", 1, "type")) == 7
    assert find_line(index, ("model", "layers", 1, "layers", 0, "type")) == 9
    assert find_line(index, ("model", "layers", 1, "layers", 0, "nope")) == 8
    assert ("model", "layers", 1, "layers", 0, "x") not in index
    assert find_line(index, ("model", "layers", 1, "layers", 0, "after")) == 13


def test_experiment_file_reference_is_up_to_date() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, str(root / "docs" / "gen_experiment.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_a_flood_of_problems_is_cut_and_counted() -> None:
    # 5,000 unknown keys: the first 50 are reported, the rest counted.
    text = "".join(f"k{i} = {i}\n" for i in range(5000)) + '[data]\nsource = "xor"\n'
    with pytest.raises(SpecError) as error:
        parse_experiment(text, file="flood.toml", check_files=False)
    problems = error.value.problems
    assert len(problems) <= 51 and problems[-1].file == "flood.toml"
    assert "more problems" in problems[-1].message and "4,9" in problems[-1].message


def test_huge_values_and_keys_are_cut_in_messages() -> None:
    text = 'seed = "' + "s" * 100_000 + '"\n' + "k" * 100_000 + ' = 1\n[data]\nsource = "xor"\n'
    with pytest.raises(SpecError) as error:
        parse_experiment(text, file="huge.toml", check_files=False)
    assert all(len(str(p)) < 300 for p in error.value.problems)
    assert any("seed" in str(p) and "…" in str(p) for p in error.value.problems)
