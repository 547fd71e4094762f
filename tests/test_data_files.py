"""The user's files as data: CSV, NumPy, image folders and text, and every way they fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pydantic import TypeAdapter

from dltui.data import DataError, describe, load_data
from dltui.spec.data import DataSpec

_ADAPTER: TypeAdapter[Any] = TypeAdapter(DataSpec)


def spec(**fields: Any) -> Any:
    """A validated ``[data]`` table (paths must exist, as in a real experiment)."""
    return _ADAPTER.validate_python(fields)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def iris_like(path: Path, rows: int = 60) -> Path:
    """A CSV with two numeric features and a three-species string target."""
    rng = np.random.default_rng(0)
    species = ["setosa", "versicolor", "virginica"]
    lines = ["length,width,species"]
    for i in range(rows):
        k = i % 3
        lines.append(f"{k + rng.normal(0, 0.1):.3f},{2 * k + rng.normal(0, 0.1):.3f},{species[k]}")
    return write(path, "\n".join(lines) + "\n")


# ------------------------------------------------------------------ csv


def test_csv_string_labels_are_sorted_classes(tmp_path: Path) -> None:
    data = spec(source="csv", path=iris_like(tmp_path / "iris.csv"), target="species")
    info = describe(data)
    assert info.task == "classification" and info.class_names == [
        "setosa",
        "versicolor",
        "virginica",
    ]
    assert info.input_shape == (2,) and info.samples == 60
    splits = load_data(data, seed=0)
    assert splits.train.x.shape == (48, 2) and splits.train.y.dtype == torch.int64
    # Stratified: each class keeps its share of the validation set.
    assert torch.bincount(splits.val.y).tolist() == [4, 4, 4]
    # Label k was written with length ~k: the mapping from names to indices holds.
    assert torch.all((splits.train.x[:, 0] - splits.train.y.float()).abs() < 0.5)


def test_describe_reads_a_file_again_only_when_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from dltui.data import tabular

    reads: list[Path] = []
    real = tabular.describe
    monkeypatch.setattr(tabular, "describe", lambda s: reads.append(s.path) or real(s))
    path = iris_like(tmp_path / "iris.csv")
    data = spec(source="csv", path=path, target="species")
    assert describe(data).samples == 60
    assert describe(spec(source="csv", path=path, target="species")).samples == 60
    assert len(reads) == 1  # the same spec and file: remembered (the builder asks often)
    iris_like(path, rows=90)
    os.utime(path, ns=(1, 1))  # a different stamp even within the clock's resolution
    assert describe(data).samples == 90
    assert len(reads) == 2


def test_csv_numeric_target_is_regression_unless_few_integers(tmp_path: Path) -> None:
    floats = write(
        tmp_path / "r.csv", "a,b,y\n" + "".join(f"{i},{i * 2},{i * 0.5}\n" for i in range(30))
    )
    assert describe(spec(source="csv", path=floats, target="y")).task == "regression"
    ints = write(
        tmp_path / "c.csv", "a,b,y\n" + "".join(f"{i},{i * 2},{i % 3}\n" for i in range(30))
    )
    info = describe(spec(source="csv", path=ints, target="y"))
    assert info.task == "classification" and info.class_names == ["0", "1", "2"]
    many = write(tmp_path / "m.csv", "a,y\n" + "".join(f"{i},{i}\n" for i in range(30)))
    assert describe(spec(source="csv", path=many, target="y")).task == "regression"
    forced = describe(spec(source="csv", path=ints, target="y", task="regression"))
    assert forced.task == "regression" and forced.target_shape == (1,)
    splits = load_data(spec(source="csv", path=floats, target="y", features=["b"]), seed=0)
    assert splits.train.x.shape[1:] == (1,) and splits.train.y.shape[1:] == (1,)
    assert torch.allclose(splits.train.y[:, 0] * 4, splits.train.x[:, 0])


def test_csv_delimiter_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_bytes("\ufeffx;label\n1;a\n2;b\n3;a\n4;b\n5;a\n".encode())
    info = describe(spec(source="csv", path=path, target="label", delimiter=";"))
    assert info.class_names == ["a", "b"] and info.input_shape == (1,)


def test_csv_normalisation_statistics_come_from_train(tmp_path: Path) -> None:
    path = write(tmp_path / "n.csv", "x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(100)))
    splits = load_data(spec(source="csv", path=path, target="y", normalize="minmax"), seed=0)
    raw = load_data(spec(source="csv", path=path, target="y"), seed=0)
    assert float(splits.train.x.min()) == 0.0 and float(splits.train.x.max()) == 1.0
    low, high = raw.train.x.min(), raw.train.x.max()
    assert torch.allclose(splits.val.x, (raw.val.x - low) / (high - low))


def test_csv_val_and_test_files_override_the_fractions(tmp_path: Path) -> None:
    train = iris_like(tmp_path / "train.csv", 60)
    val = iris_like(tmp_path / "val.csv", 9)
    test = iris_like(tmp_path / "test.csv", 6)
    data = spec(source="csv", path=train, val_path=val, test_path=test, target="species")
    splits = load_data(data, seed=0)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (60, 9, 6)
    assert describe(data).samples == 75
    only_val = spec(
        source="csv",
        path=train,
        val_path=val,
        target="species",
        split={"train": 0.5, "val": 0.25, "test": 0.25},
    )
    splits = load_data(only_val, seed=0)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (40, 9, 20)


@pytest.mark.parametrize(
    ("text", "field", "needle"),
    [
        ("", "data.path", "empty"),
        ("a,b,y\n", "data.path", "no data rows"),
        ("1,2,3\n4,5,6\n", "data.path", "header"),
        ("a,b,y\n1,2,0\n3,4\n5,6,1\n", "data.path", "line 3 has 2 cells"),
        ("a,b,y\n1,2,0\n3,oops,1\n", "data.path", "line 3, column 2: 'oops' is not a number"),
        ("a,b,y\n1,,0\n", "data.path", "line 2, column 2: an empty cell"),
        ("a,a,y\n1,2,0\n", "data.path", "'a' twice"),
        ("a,b,y\n1,2,\n", "data.path", "the target is empty"),
    ],
)
def test_csv_bad_files_name_line_and_column(
    tmp_path: Path, text: str, field: str, needle: str
) -> None:
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(DataError) as err:
        describe(spec(source="csv", path=path, target="y"))
    assert err.value.field == field and err.value.file == str(path)
    assert needle in str(err.value)


def test_csv_unknown_columns_suggest_a_near_miss(tmp_path: Path) -> None:
    path = iris_like(tmp_path / "iris.csv")
    with pytest.raises(DataError) as err:
        describe(spec(source="csv", path=path, target="specis"))
    assert err.value.field == "data.target" and "did you mean `species`" in str(err.value)
    with pytest.raises(DataError) as err:
        describe(spec(source="csv", path=path, target="species", features=["length", "widht"]))
    assert err.value.field == "data.features[1]" and "`width`" in str(err.value)
    with pytest.raises(DataError) as err:
        describe(spec(source="csv", path=path, target="species", features=["species"]))
    assert "target" in str(err.value)


def test_csv_regression_target_must_be_numeric(tmp_path: Path) -> None:
    path = iris_like(tmp_path / "iris.csv")
    with pytest.raises(DataError, match="'setosa' is not a number"):
        describe(spec(source="csv", path=path, target="species", task="regression"))


def test_csv_val_file_missing_a_column(tmp_path: Path) -> None:
    train = iris_like(tmp_path / "train.csv")
    val = write(tmp_path / "val.csv", "length,species\n1,setosa\n")
    with pytest.raises(DataError) as err:
        describe(spec(source="csv", path=train, val_path=val, target="species"))
    assert err.value.field == "data.val_path" and err.value.file == str(val)
    assert "'width'" in str(err.value)


# ------------------------------------------------------------------ numpy


def test_npz_classification_and_npy_regression(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(50, 3, 4)).astype(np.float64)
    labels = np.arange(50) % 5
    np.savez(tmp_path / "d.npz", x=x, y=labels)
    data = spec(source="numpy", path=tmp_path / "d.npz")
    info = describe(data)
    assert info.input_shape == (3, 4) and info.task == "classification" and info.num_classes == 5
    splits = load_data(data, seed=0)
    assert splits.train.x.dtype == torch.float32 and splits.train.x.shape == (40, 3, 4)

    np.save(tmp_path / "x.npy", x.reshape(50, 12))
    np.save(tmp_path / "t.npy", x[:, 0, :2])
    reg = spec(source="numpy", path=tmp_path / "x.npy", targets=tmp_path / "t.npy")
    info = describe(reg)
    assert info.task == "regression" and info.target_shape == (2,) and info.input_shape == (12,)
    splits = load_data(reg, seed=0)
    assert splits.train.y.shape == (40, 2) and splits.train.y.dtype == torch.float32


def test_npz_custom_keys_and_string_labels(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", inputs=np.ones((6, 2)), names=np.array(["b", "a"] * 3))
    data = spec(source="numpy", path=tmp_path / "d.npz", x_key="inputs", y_key="names")
    info = describe(data)
    assert info.class_names == ["a", "b"]


def test_npz_missing_key_lists_the_keys_it_has(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", inputs=np.ones((4, 2)), y=np.zeros(4))
    with pytest.raises(DataError) as err:
        describe(spec(source="numpy", path=tmp_path / "d.npz"))
    assert err.value.field == "data.x_key" and "'inputs'" in str(err.value)


def test_numpy_length_mismatch_and_npy_without_targets(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=np.ones((4, 2)), y=np.zeros(3))
    with pytest.raises(DataError, match="4 input samples but 3 targets") as err:
        describe(spec(source="numpy", path=tmp_path / "d.npz"))
    assert err.value.field == "data.y_key"
    np.save(tmp_path / "x.npy", np.ones((4, 2)))
    with pytest.raises(DataError) as err:
        describe(spec(source="numpy", path=tmp_path / "x.npy"))
    assert err.value.field == "data.targets"


def test_numpy_file_that_is_not_numpy(tmp_path: Path) -> None:
    path = write(tmp_path / "d.npz", "not a zip")
    with pytest.raises(DataError, match="not a readable NumPy file"):
        describe(spec(source="numpy", path=path))


# ------------------------------------------------------------------ images


def make_images(root: Path, classes: dict[str, int], size: tuple[int, int] = (10, 6)) -> Path:
    """``classes[name]`` images per class; class k is filled with grey level 40*k."""
    from PIL import Image

    for k, (name, count) in enumerate(classes.items()):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", size, (40 * (k + 1), 0, 0)).save(folder / f"{i}.png")
    return root


def test_image_folder_loads_resized_chw_images(tmp_path: Path) -> None:
    root = make_images(tmp_path / "img", {"cat": 6, "dog": 4})
    (root / "cat" / "notes.txt").write_text("not an image")
    data = spec(
        source="image_folder", path=root, image_size=[4, 5], split={"train": 0.5, "val": 0.5}
    )
    info = describe(data)
    assert info.input_shape == (3, 4, 5) and info.class_names == ["cat", "dog"]
    assert info.samples == 10
    splits = load_data(data, seed=0)
    assert splits.train.x.shape == (5, 3, 4, 5) and splits.train.x.dtype == torch.float32
    red = splits.train.x[:, 0, 0, 0]
    assert torch.allclose(red, (40 * (splits.train.y + 1)).float() / 255)
    gray = load_data(spec(source="image_folder", path=root, grayscale=True), seed=0)
    assert gray.train.x.shape[1:] == (1, 32, 32)


def test_image_folder_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no class subfolders"):
        describe(spec(source="image_folder", path=empty))
    root = make_images(tmp_path / "img", {"cat": 2, "dog": 2})
    (root / "bird").mkdir()
    with pytest.raises(DataError, match="'bird' holds no images"):
        describe(spec(source="image_folder", path=root))
    (root / "bird").rmdir()
    broken = write(root / "dog" / "broken.png", "this is no png")
    with pytest.raises(DataError) as err:
        load_data(spec(source="image_folder", path=root), seed=0)
    assert err.value.file == str(broken) and "not an image Pillow can read" in str(err.value)


def test_image_folder_val_folder_with_an_unknown_class(tmp_path: Path) -> None:
    root = make_images(tmp_path / "train", {"cat": 2, "dog": 2})
    val = make_images(tmp_path / "val", {"cta": 1})
    with pytest.raises(DataError) as err:
        describe(spec(source="image_folder", path=root, val_path=val))
    assert err.value.field == "data.val_path" and "did you mean `cat`" in str(err.value)


def test_image_augment_shift_must_fit_the_image(tmp_path: Path) -> None:
    root = make_images(tmp_path / "img", {"a": 2, "b": 2})
    data = spec(source="image_folder", path=root, image_size=[8, 8], augment={"shift": 8})
    with pytest.raises(DataError) as err:
        describe(data)
    assert err.value.field == "data.augment.shift"


# ------------------------------------------------------------------ text


def test_text_file_language_model(tmp_path: Path) -> None:
    path = write(tmp_path / "t.txt", "abcabcabc" * 50)
    data = spec(source="text", path=path, seq_len=8)
    info = describe(data)
    assert info.vocab == ["a", "b", "c"] and info.input_shape == (8,)
    splits = load_data(data, seed=0)
    assert torch.equal(splits.train.y, (splits.train.x + 1) % 3)
    assert (len(splits.train), len(splits.val)) == (359 // 8, 89 // 8)


def test_text_too_short_for_seq_len_and_other_text_errors(tmp_path: Path) -> None:
    short = write(tmp_path / "short.txt", "hello world")
    with pytest.raises(DataError) as err:
        describe(spec(source="text", path=short, seq_len=32))
    assert err.value.field == "data.seq_len" and "seq_len 32 need at least 33" in str(err.value)
    empty = write(tmp_path / "empty.txt", "")
    with pytest.raises(DataError, match="empty"):
        describe(spec(source="text", path=empty))
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00abc" * 40)
    with pytest.raises(DataError, match="not UTF-8"):
        describe(spec(source="text", path=binary, seq_len=4))


def test_text_val_file_shares_the_vocabulary(tmp_path: Path) -> None:
    train = write(tmp_path / "train.txt", "ab" * 100)
    val = write(tmp_path / "val.txt", "xy" * 20)
    splits = load_data(spec(source="text", path=train, val_path=val, seq_len=4), seed=0)
    assert splits.info.vocab == ["a", "b", "x", "y"]
    assert len(splits.train) == 199 // 4 and len(splits.val) == 39 // 4
    assert set(splits.val.x.unique().tolist()) == {2, 3}


def test_non_finite_values_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "nan.csv", "a,y\n1,0\nnan,1\n")
    with pytest.raises(DataError, match="line 3, column 1: 'nan' is not a finite number"):
        describe(spec(source="csv", path=path, target="y"))
    x = np.ones((5, 2))
    x[3, 1] = np.inf
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(5) % 2)
    with pytest.raises(DataError, match="the first at index 3") as err:
        load_data(spec(source="numpy", path=tmp_path / "d.npz"), seed=0)
    assert err.value.field == "data.x_key"
