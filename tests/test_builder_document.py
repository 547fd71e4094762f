"""The builder's domain: the editable document, forms from fields, templates, shapes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dltui.builder import (
    REMOVE,
    DocumentError,
    ExperimentDocument,
    FieldValueError,
    SaveConflict,
    fields_of,
    new_layer,
    settings_sections,
    template_text,
    templates,
)
from dltui.builder.fields import field_spec
from dltui.builder.history import EditHistory
from dltui.layers.registry import layer_kinds
from dltui.spec import Experiment, parse_experiment
from dltui.spec.training import OptimizerSpec

REPO = Path(__file__).resolve().parent.parent

CNN_TEXT = """\
# A small CNN.
description = "test"

[data]
source = "digits"  # 8x8 images
batch_size = 64

[[model.layers]]
type = "conv2d"
out_channels = 8
kernel_size = 3

[[model.layers]]
type = "relu"   # keep me

[[model.layers]]
type = "flatten"

[[model.layers]]
type = "dense"
out_features = 10

[training]
epochs = 3
"""


@pytest.fixture
def cnn_file(tmp_path: Path) -> Path:
    path = tmp_path / "cnn.toml"
    path.write_text(CNN_TEXT)
    return path


def types_of(doc: ExperimentDocument, stack: str = "layers") -> list[str]:
    return [layer["type"] for layer in doc.layers(stack)]


# ---- fields ---------------------------------------------------------------


def test_fields_come_from_the_pydantic_model() -> None:
    specs = {s.name: s for s in fields_of(OptimizerSpec)}
    assert specs["name"].kind == "choice" and "sgd" in specs["name"].choices
    assert specs["lr"].kind == "float" and specs["lr"].gt == 0 and specs["lr"].le == 10
    assert specs["nesterov"].kind == "bool"
    assert specs["betas"].kind == "list" and specs["betas"].length == 2
    conv = {s.name: s for s in fields_of(layer_kinds()["conv2d"])}
    assert conv["out_channels"].required and conv["out_channels"].ge == 1
    assert conv["padding"].kind == "int_or_choice" and "same" in conv["padding"].choices


def test_field_parse_checks_types_and_bounds() -> None:
    specs = {s.name: s for s in fields_of(OptimizerSpec)}
    assert specs["lr"].parse("0.01") == 0.01
    with pytest.raises(FieldValueError, match="> 0"):
        specs["lr"].parse("0")
    with pytest.raises(FieldValueError, match="number"):
        specs["lr"].parse("fast")
    assert specs["lr"].parse("") is REMOVE
    assert specs["betas"].parse("0.5, 0.999") == [0.5, 0.999]
    with pytest.raises(FieldValueError, match="2 comma-separated"):
        specs["betas"].parse("0.5")
    assert specs["nesterov"].parse("true") is True
    dense = {s.name: s for s in fields_of(layer_kinds()["dense"])}
    with pytest.raises(FieldValueError, match="required"):
        dense["out_features"].parse(" ")
    with pytest.raises(FieldValueError, match="whole number"):
        dense["out_features"].parse("3.5")
    padding = {s.name: s for s in fields_of(layer_kinds()["conv2d"])}["padding"]
    assert padding.parse("same") == "same" and padding.parse("2") == 2
    with pytest.raises(FieldValueError):
        padding.parse("-1")


def test_format_inverts_parse() -> None:
    spec = field_spec("betas", OptimizerSpec.model_fields["betas"])
    assert spec is not None
    assert spec.parse(spec.format([0.9, 0.999])) == [0.9, 0.999]


# ---- loading, saving, conflicts ----------------------------------------------


def test_load_and_save_without_edits_keeps_the_bytes(cnn_file: Path) -> None:
    doc = ExperimentDocument.load(cnn_file)
    assert doc.text() == CNN_TEXT and not doc.dirty
    doc.save()
    assert cnn_file.read_text() == CNN_TEXT


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"missing\.toml: no such file"):
        ExperimentDocument.load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[data]\nsource = \n")
    with pytest.raises(DocumentError, match=r"bad.toml:2: not valid TOML"):
        ExperimentDocument.load(bad)


def test_save_refuses_to_overwrite_an_outside_edit(cnn_file: Path) -> None:
    doc = ExperimentDocument.load(cnn_file)
    doc.set_field("training.epochs", 5)
    cnn_file.write_text(CNN_TEXT.replace("epochs = 3", "epochs = 7"))
    assert doc.disk_state() == "changed"
    with pytest.raises(SaveConflict, match="changed on disk"):
        doc.save()
    assert "epochs = 7" in cnn_file.read_text()  # their edit is intact
    doc.save(force=True)
    assert "epochs = 5" in cnn_file.read_text() and doc.disk_state() == "unchanged"


def test_save_as_an_existing_name_asks(cnn_file: Path, tmp_path: Path) -> None:
    doc = ExperimentDocument.from_template("mlp")
    with pytest.raises(DocumentError, match="no file yet"):
        doc.save()
    with pytest.raises(SaveConflict) as conflict:
        doc.save(cnn_file)
    assert conflict.value.exists
    saved = doc.save(tmp_path / "sub" / "mlp.toml")
    assert saved.read_text() == template_text("mlp") and doc.path == saved
    assert oct(saved.stat().st_mode & 0o777) == oct(0o644)
    assert [p.name for p in saved.parent.iterdir()] == ["mlp.toml"]  # no temporary left


def test_save_keeps_the_file_mode(cnn_file: Path) -> None:
    os.chmod(cnn_file, 0o600)
    doc = ExperimentDocument.load(cnn_file)
    doc.set_field("training.epochs", 4)
    doc.save()
    assert cnn_file.stat().st_mode & 0o777 == 0o600


def test_reload_takes_the_disk_version_and_is_undoable(cnn_file: Path) -> None:
    doc = ExperimentDocument.load(cnn_file)
    doc.set_field("training.epochs", 5)
    cnn_file.write_text(CNN_TEXT.replace("epochs = 3", "epochs = 9"))
    doc.reload()
    assert doc.get_field("training.epochs") == 9 and not doc.dirty
    assert doc.undo() and doc.get_field("training.epochs") == 5


def test_validate_returns_problems_with_paths() -> None:
    doc = ExperimentDocument(CNN_TEXT)
    assert isinstance(doc.validate(), Experiment)
    doc.set_layer_field("layers", (3,), "out_features", 0)
    problems = doc.validate()
    assert isinstance(problems, list)
    assert [p.path for p in problems] == ["model.layers[3].out_features"]


# ---- stack edits ---------------------------------------------------------------


def test_stack_operations_keep_comments() -> None:
    doc = ExperimentDocument(CNN_TEXT)
    doc.insert_layer("layers", (1,), "batchnorm")
    assert types_of(doc) == ["conv2d", "batchnorm", "relu", "flatten", "dense"]
    assert doc.duplicate_layer("layers", (2,)) == (3,)
    assert types_of(doc) == ["conv2d", "batchnorm", "relu", "relu", "flatten", "dense"]
    assert doc.move_layer("layers", (4,), -1) == (3,)
    assert types_of(doc) == ["conv2d", "batchnorm", "relu", "flatten", "relu", "dense"]
    assert doc.move_layer("layers", (0,), -1) == (0,)  # already at the top
    doc.delete_layer("layers", (4,))
    assert types_of(doc) == ["conv2d", "batchnorm", "relu", "flatten", "dense"]
    text = doc.text()
    assert "# keep me" in text and "# 8x8 images" in text and "# A small CNN." in text
    assert isinstance(parse_experiment(text), Experiment)
    with pytest.raises(IndexError, match=r"model.layers\[9\]"):
        doc.delete_layer("layers", (9,))


def test_new_layer_writes_type_and_required_fields_only() -> None:
    assert new_layer("dense") == {"type": "dense", "out_features": 32}
    assert new_layer("relu") == {"type": "relu"}
    conv = new_layer("conv2d")
    assert conv == {"type": "conv2d", "out_channels": 16, "kernel_size": 3}


@pytest.mark.parametrize("kind", sorted(layer_kinds()))
def test_every_new_layer_is_valid(kind: str) -> None:
    layer_kinds()[kind].model_validate(new_layer(kind))


def test_nested_residual_layers() -> None:
    doc = ExperimentDocument(template_text("residual"))
    flat = [(loc, raw["type"]) for loc, raw in doc.flat_layers()]
    assert flat[1:5] == [((1,), "residual"), ((1, 0), "dense"), ((1, 1), "relu"), ((1, 2), "dense")]
    doc.insert_layer("layers", (1, 1), "dropout")
    assert [x["type"] for x in doc.layer("layers", (1,))["layers"]] == [
        "dense",
        "dropout",
        "relu",
        "dense",
    ]
    doc.set_layer_field("layers", (1, 1), "p", 0.1)
    assert doc.layer("layers", (1, 1)) == {"type": "dropout", "p": 0.1}
    assert doc.layer_path("layers", (1, 1)) == "model.layers[1].layers[1]"
    assert isinstance(doc.validate(), Experiment)
    assert "[[model.layers.layers]]" in doc.text()


def test_inline_layer_arrays_stay_inline() -> None:
    text = '[data]\nsource = "spirals"\n\n[model]\nlayers = [{type = "dense", out_features = 2}]\n'
    doc = ExperimentDocument(text)
    doc.insert_layer("layers", (0,), "dense")
    doc.set_layer_field("layers", (0,), "out_features", 8)
    assert types_of(doc) == ["dense", "dense"]
    assert "[[" not in doc.text()
    assert isinstance(doc.validate(), Experiment)


def test_gan_has_two_stacks() -> None:
    doc = ExperimentDocument.from_template("gan")
    assert doc.stacks() == ("generator", "discriminator")
    doc.insert_layer("discriminator", (0,), "dropout")
    assert types_of(doc, "discriminator")[0] == "dropout"
    assert types_of(doc, "generator")[0] == "dense"


def test_setting_a_field_removing_it_and_typed_values() -> None:
    doc = ExperimentDocument(CNN_TEXT)
    doc.set_field("training.optimizer.lr", 0.01)
    doc.set_field("training.optimizer.weight_decay", 1e-4)
    doc.set_field("data.split.val", 0.25)
    doc.set_field("data.split.train", 0.75)
    doc.set_field("early_stopping.patience", 3)
    experiment = doc.validate()
    assert isinstance(experiment, Experiment)
    assert experiment.training.optimizer.lr == 0.01
    assert experiment.training.optimizer.weight_decay == 1e-4
    assert experiment.data.split.val == 0.25
    assert experiment.early_stopping is not None and experiment.early_stopping.patience == 3
    doc.set_field("training.optimizer.weight_decay", REMOVE)
    assert "weight_decay" not in doc.text()


def test_choosing_another_source_or_optimizer_drops_what_no_longer_applies() -> None:
    doc = ExperimentDocument.from_template("gan")
    assert doc.get_field("training.optimizer.betas") == [0.5, 0.999]
    doc.set_field("training.optimizer.name", "sgd")
    assert "betas" not in doc.get_field("training.optimizer")
    doc.set_field("data.source", "spirals")
    data = doc.get_field("data")
    assert "modes" not in data and data["batch_size"] == 128 and data["source"] == "spirals"


def test_early_stopping_switch() -> None:
    doc = ExperimentDocument(CNN_TEXT)
    doc.set_field("early_stopping", True)
    assert doc.get_field("early_stopping") == {"monitor": "val_loss", "patience": 5}
    doc.set_field("early_stopping", False)
    assert "early_stopping" not in doc.raw()


def test_settings_follow_the_source() -> None:
    doc = ExperimentDocument.from_template("lstm")
    sections = {s.title: [f.path for f in s.fields] for s in settings_sections(doc.raw())}
    assert "data.seq_len" in sections["Data"] and "data.batch_size" in sections["Data"]
    assert sections["Split"] == ["data.split.train", "data.split.val", "data.split.test"]
    assert "training.optimizer.lr" in sections["Training"]
    assert "early_stopping.patience" in sections["Early stopping"]
    doc.set_field("data.source", "digits")
    doc.set_field("early_stopping", False)
    sections = {s.title: [f.path for f in s.fields] for s in settings_sections(doc.raw())}
    assert "data.seq_len" not in sections["Data"] and "data.flatten" in sections["Data"]
    assert sections["Early stopping"] == ["early_stopping"]


# ---- undo / redo -------------------------------------------------------------------


def test_undo_redo_and_grouped_typing() -> None:
    doc = ExperimentDocument(CNN_TEXT)
    assert not doc.can_undo and not doc.undo()
    doc.insert_layer("layers", (0,), "dropout")
    for text in ("1", "12", "128"):
        doc.set_layer_field("layers", (1,), "out_channels", int(text), group="oc")
    assert doc.layer("layers", (1,))["out_channels"] == 128
    assert doc.undo()  # the three keystrokes are one step
    assert doc.layer("layers", (1,))["out_channels"] == 8
    assert doc.undo()
    assert doc.text() == CNN_TEXT and not doc.dirty
    assert doc.redo() and doc.redo()
    assert doc.layer("layers", (1,))["out_channels"] == 128 and not doc.can_redo
    doc.undo()
    doc.delete_layer("layers", (0,))  # a new edit drops the redo
    assert not doc.can_redo


def test_history_is_bounded() -> None:
    history = EditHistory(limit=3)
    for i in range(10):
        history.record(str(i))
    assert [history.undo("x") for _ in range(4)] == ["9", "8", "7", None]


def test_failed_edit_changes_nothing() -> None:
    doc = ExperimentDocument(CNN_TEXT)
    with pytest.raises(KeyError, match="unknown layer type 'dens'"):
        doc.insert_layer("layers", (0,), "dens")
    assert doc.text() == CNN_TEXT and not doc.can_undo


# ---- templates and round trips ---------------------------------------------------------


def test_templates_are_listed_valid_and_commented() -> None:
    names = [name for name, _ in templates()]
    assert names == ["perceptron", "mlp", "cnn", "residual", "lstm", "gru", "transformer", "gan"]
    for name, description in templates():
        text = template_text(name)
        assert description and text.lstrip().startswith("#")
        assert isinstance(parse_experiment(text), Experiment), name


def _round_trip_files() -> list[Path]:
    return sorted((REPO / "experiments").glob("*.toml"))


@pytest.mark.parametrize("path", _round_trip_files(), ids=lambda p: p.name)
def test_experiment_files_round_trip(path: Path, tmp_path: Path) -> None:
    original = path.read_text()
    copy = tmp_path / path.name
    copy.write_text(original)
    doc = ExperimentDocument.load(copy)
    assert doc.text() == original
    doc.save()
    assert copy.read_text() == original
    before = doc.validate()
    if isinstance(before, list):
        pytest.skip(f"{path.name} needs files absent here: {before[0]}")
    doc.set_field("training.epochs", 2)
    doc.save()
    after = ExperimentDocument.load(copy).validate()
    assert isinstance(after, Experiment)
    expected = before.model_dump()
    expected["training"]["epochs"] = 2
    assert after.model_dump() == expected
    text = copy.read_text()
    for line in original.splitlines():
        if line.lstrip().startswith("#"):
            assert line in text


@pytest.mark.parametrize("name", [n for n, _ in templates()])
def test_templates_round_trip_after_an_edit(name: str) -> None:
    doc = ExperimentDocument.from_template(name)
    original = template_text(name)
    assert doc.text() == original
    doc.insert_layer(doc.stacks()[0], (0,), "identity")
    comments = [line for line in original.splitlines() if line.lstrip().startswith("#")]
    assert all(line in doc.text() for line in comments)
    assert isinstance(doc.validate(), Experiment)


@pytest.mark.parametrize("reload", [False, True], ids=["in memory", "after a save"])
def test_a_field_set_on_a_new_layer_lands_with_that_layer(reload: bool) -> None:
    doc = ExperimentDocument(CNN_TEXT)
    doc.insert_layer("layers", (1,), "conv2d")
    if reload:
        doc = ExperimentDocument(doc.text())
    doc.set_layer_field("layers", (1,), "padding", 1)
    doc.set_layer_field("layers", (1,), "stride", 2)
    text = doc.text()
    start = text.index('type = "conv2d"\nout_channels = 1')
    block = text[start : text.index("[[model.layers]]", start)]
    # The new keys follow the layer's own, and the blank line stays before the next header.
    assert block.rstrip("\n").splitlines()[-2:] == ["padding = 1", "stride = 2"]
    assert block.endswith("\n\n")
    assert parse_experiment(text).sequential.layers[1].padding == 1
