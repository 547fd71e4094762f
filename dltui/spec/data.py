"""The ``[data]`` table: where samples come from, how they are split and batched.

``source`` picks a variant; each variant has its own fields, so a field that
does not apply to a source is reported as unknown. Relative paths are resolved
against the directory of the experiment file, and each must be the regular file
or folder its source reads (`dltui.spec.paths`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field, ValidationInfo, field_validator, model_validator

from dltui.spec.paths import Wanted, checks_files, path_problem, resolve_path
from dltui.spec_model import FROM_ARRAY, FilePath, SpecModel

PLAYGROUND_SOURCES = ("spirals", "circles", "xor", "gaussian", "moons", "plane")


class Split(SpecModel):
    """Fractions of the samples used for training, validation and test; they sum to 1."""

    train: float = Field(default=0.8, gt=0, le=1, description="Fraction used to fit weights.")
    val: float = Field(
        default=0.2, ge=0, lt=1, description="Fraction checked each epoch (early stopping)."
    )
    test: float = Field(
        default=0.0, ge=0, lt=1, description="Fraction held out for the final evaluation."
    )

    @model_validator(mode="after")
    def _sums_to_one(self) -> Split:
        total = self.train + self.val + self.test
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"train + val + test must be 1, got {total:g}")
        return self


class Augment(SpecModel):
    """Random image augmentation applied to training batches (plain torch ops)."""

    flip_horizontal: bool = Field(default=False, description="Mirror images left-right at random.")
    flip_vertical: bool = Field(default=False, description="Mirror images top-bottom at random.")
    shift: int = Field(default=0, ge=0, description="Largest random shift in pixels.")
    noise: float = Field(default=0.0, ge=0, description="Std of added Gaussian noise.")


class DataBase(SpecModel):
    """Fields every source has."""

    batch_size: int = Field(default=32, ge=1, description="Samples per optimizer step.")
    split: Split = Field(default=Split(), description="Train/validation/test fractions.")
    shuffle: bool = Field(default=True, description="Reshuffle the training set every epoch.")
    normalize: Literal["none", "standard", "minmax"] = Field(
        default="none",
        description="Scale features with statistics of the training split (standard: zero mean, "
        "unit variance; minmax: 0..1).",
    )
    augment: Augment | None = Field(
        default=None, description="Random augmentation of training batches."
    )
    seed: int | None = Field(default=None, description="Defaults to the experiment's seed.")
    num_workers: int = Field(
        default=0, ge=0, description="DataLoader workers, for data too large to keep on the device."
    )


class FileData(DataBase):
    """A source read from the user's files; ``val_path``/``test_path`` override the split."""

    reads: ClassVar[Wanted] = "file"
    """What each of the source's paths must be: a regular file, or a folder."""

    path: FilePath = Field(description="The data file or folder (relative to the experiment file).")
    val_path: FilePath | None = Field(default=None, description="A separate validation file.")
    test_path: FilePath | None = Field(default=None, description="A separate test file.")

    @field_validator("path", "val_path", "test_path")
    @classmethod
    def _resolve_and_check(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        path = resolve_path(value, info)
        if path is not None and checks_files(info):
            why = path_problem(path, cls.reads)
            if why is not None:
                raise ValueError(why)
        return path


class PlaygroundData(DataBase):
    """The TensorFlow-Playground sets: 2-D points; ``plane`` is regression."""

    source: Literal["spirals", "circles", "xor", "gaussian", "moons", "plane"]
    samples: int = Field(default=1000, ge=4, description="Points generated.")
    noise: float = Field(default=0.1, ge=0, description="Std of the Gaussian jitter on each point.")
    classes: int = Field(default=2, ge=2, le=10, description="spirals and gaussian only.")

    @model_validator(mode="after")
    def _classes_apply(self) -> PlaygroundData:
        if "classes" in self.model_fields_set and self.source not in ("spirals", "gaussian"):
            raise ValueError(f"`classes` applies to spirals and gaussian, not {self.source}")
        return self


class SineData(DataBase):
    """Noisy sums of sines; predict the next ``horizon`` values from ``seq_len`` steps."""

    source: Literal["sine"]
    samples: int = Field(default=2000, ge=4, description="Windows generated.")
    seq_len: int = Field(default=32, ge=2, description="Steps the model reads.")
    horizon: int = Field(default=1, ge=1, description="Steps it predicts.")
    noise: float = Field(default=0.05, ge=0, description="Std of the noise on the signal.")


class CharsData(DataBase):
    """Character language modelling on a text shipped with dltui (``corpus``)."""

    source: Literal["chars"]
    corpus: str = Field(default="sonnets", description="A text shipped with dltui.")
    seq_len: int = Field(default=64, ge=2, description="Characters per training window.")
    samples: int | None = Field(default=None, ge=4, description="Windows drawn; default all.")


class GaussianMixtureData(DataBase):
    """A ring of 2-D Gaussians: the classic GAN target."""

    source: Literal["gmm2d"]
    samples: int = Field(default=4000, ge=4, description="Points drawn.")
    modes: int = Field(default=8, ge=1, description="Gaussians on the ring.")
    radius: float = Field(default=2.0, gt=0, description="Radius of the ring.")
    std: float = Field(default=0.05, gt=0, description="Std of each Gaussian.")


class DigitsData(DataBase):
    """scikit-learn's 8x8 handwritten digits (1797 images, 10 classes), no download."""

    source: Literal["digits"]
    flatten: bool = Field(default=False, description="(64,) instead of (1, 8, 8).")
    classes: list[int] | None = Field(
        default=None, description="Keep only these digits (e.g. for transfer learning)."
    )

    @field_validator("classes")
    @classmethod
    def _digits(cls, value: list[int] | None) -> list[int] | None:
        if value is not None:
            bad = [c for c in value if not 0 <= c <= 9]
            if bad or not value:
                raise ValueError("classes must be a non-empty list of digits 0-9")
        return value


class CsvData(FileData):
    """A CSV file: feature columns and one target column, by name."""

    source: Literal["csv"]
    target: str = Field(description="Name of the column to predict.")
    features: list[str] | None = Field(default=None, description="Default: every other column.")
    task: Literal["auto", "classification", "regression"] = Field(
        default="auto",
        description="auto: classification for text labels or few distinct integers.",
    )
    delimiter: str = Field(default=",", description="Column separator.")


class NumpyData(FileData):
    """A ``.npz`` holding arrays ``x_key``/``y_key``, or a ``.npy`` of inputs with ``targets``."""

    source: Literal["numpy"]
    x_key: str = Field(default="x", description="Array of inputs in the .npz.")
    y_key: str = Field(default="y", description="Array of targets in the .npz.")
    targets: FilePath | None = Field(
        default=None, description="A .npy of targets, with a .npy path."
    )
    task: Literal["auto", "classification", "regression"] = "auto"

    @field_validator("targets")
    @classmethod
    def _resolve_targets(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        path = resolve_path(value, info)
        if path is not None and checks_files(info):
            why = path_problem(path, "file")
            if why is not None:
                raise ValueError(why)
        return path


class ImageFolderData(FileData):
    """A folder with one subfolder of images per class."""

    reads: ClassVar[Wanted] = "folder"

    source: Literal["image_folder"]
    image_size: Annotated[tuple[int, int], FROM_ARRAY] = Field(
        default=(32, 32), description="Images are resized to (H, W)."
    )
    grayscale: bool = Field(default=False, description="One channel instead of RGB.")


class TextData(FileData):
    """The user's own text file, for character language modelling."""

    source: Literal["text"]
    seq_len: int = Field(default=64, ge=2)
    samples: int | None = Field(default=None, ge=4)


DataSpec = Annotated[
    Union[  # noqa: UP007
        PlaygroundData,
        SineData,
        CharsData,
        GaussianMixtureData,
        DigitsData,
        CsvData,
        NumpyData,
        ImageFolderData,
        TextData,
    ],
    Field(discriminator="source"),
]

DATA_SOURCES: tuple[str, ...] = (
    *PLAYGROUND_SOURCES,
    "sine",
    "chars",
    "gmm2d",
    "digits",
    "csv",
    "numpy",
    "image_folder",
    "text",
)
