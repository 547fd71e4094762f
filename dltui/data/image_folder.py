"""A folder of images, one subfolder per class: ``path/<class>/<image>``.

Images are read with Pillow, converted to RGB (or grayscale), resized to
``image_size`` = (height, width) and given as ``(C, H, W)`` float32 in 0..1.
Class names are the subfolder names, sorted; ``val_path``/``test_path`` folders
use the same names (a subset is fine). Hidden files and files that are not
images by their extension are skipped. Each image is read within
`IMAGE_FILE_LIMIT` bytes and `IMAGE_PIXEL_LIMIT` pixels, and only if it is a
regular file.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from dltui.data.arrays import ArraySet, ArraySplits, split_rng
from dltui.data.errors import DataError, near_miss, quoted
from dltui.data.info import DataInfo
from dltui.data.limits import IMAGE_FILE_LIMIT, IMAGE_PIXEL_LIMIT, read_data_bytes
from dltui.data.splitting import split_samples
from dltui.spec.data import ImageFolderData

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
)


def _class_folders(root: Path, field: str) -> list[Path]:
    if not root.is_dir():
        raise DataError(field, "expected a folder with one subfolder of images per class", root)
    folders = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    if not folders:
        raise DataError(
            field,
            "has no class subfolders; expected <folder>/<class name>/<image files>",
            root,
        )
    return folders


def _images_in(folder: Path, field: str) -> list[Path]:
    images = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )
    if not images:
        raise DataError(
            field,
            f"class folder {quoted(folder.name)} holds no images "
            f"({', '.join(sorted(IMAGE_SUFFIXES))})",
            folder,
        )
    return images


def _listing(spec: ImageFolderData) -> tuple[list[str], dict[str, list[tuple[Path, int]]]]:
    """Class names, and per set the image files with their class index."""
    classes = [p.name for p in _class_folders(spec.path, "data.path")]
    roots = {"main": (spec.path, "data.path")}
    if spec.val_path is not None:
        roots["val"] = (spec.val_path, "data.val_path")
    if spec.test_path is not None:
        roots["test"] = (spec.test_path, "data.test_path")
    listing: dict[str, list[tuple[Path, int]]] = {}
    for key, (root, field) in roots.items():
        files: list[tuple[Path, int]] = []
        for folder in _class_folders(root, field):
            if folder.name not in classes:
                raise DataError(
                    field,
                    f"class folder {quoted(folder.name)} is not one of the {len(classes)} "
                    "class folders of data.path (a subset of them is fine)"
                    + near_miss(folder.name, classes),
                    folder,
                )
            index = classes.index(folder.name)
            files.extend((image, index) for image in _images_in(folder, field))
        listing[key] = files
    if len(classes) < 2:
        raise DataError(
            "data.path",
            f"has one class folder ({quoted(classes[0])}); a classifier needs two or more",
            spec.path,
        )
    return classes, listing


def describe(spec: ImageFolderData) -> DataInfo:
    """``(C, H, W)`` from the spec; classes and counts from listing the folders."""
    classes, listing = _listing(spec)
    height, width = spec.image_size
    return DataInfo(
        input_shape=(1 if spec.grayscale else 3, height, width),
        target_shape=(),
        task="classification",
        num_classes=len(classes),
        class_names=classes,
        samples=sum(len(files) for files in listing.values()),
    )


def _read_images(files: list[tuple[Path, int]], spec: ImageFolderData, field: str) -> ArraySet:
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as err:
        raise DataError("data.source", "reading images needs Pillow: pip install pillow") from err
    height, width = spec.image_size
    mode = "L" if spec.grayscale else "RGB"
    pixels = np.empty((len(files), height, width, 1 if spec.grayscale else 3), dtype=np.uint8)
    for i, (path, _) in enumerate(files):
        data = read_data_bytes(path, field, IMAGE_FILE_LIMIT)
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > IMAGE_PIXEL_LIMIT:
                    raise DataError(
                        field,
                        f"the image is {image.width}x{image.height} pixels; the limit is "
                        f"{IMAGE_PIXEL_LIMIT:,} pixels",
                        path,
                    )
                resized = image.convert(mode).resize((width, height), Image.Resampling.BILINEAR)
                pixels[i] = np.asarray(resized).reshape(height, width, -1)
        except DataError:
            raise
        except UnidentifiedImageError:
            raise DataError(
                field, "not an image Pillow can read (expected PNG, JPEG, BMP, GIF, ...)", path
            ) from None
        except Image.DecompressionBombError:
            raise DataError(
                field, f"the image has more than {IMAGE_PIXEL_LIMIT:,} pixels", path
            ) from None
        except (OSError, ValueError, SyntaxError, EOFError) as err:
            # Pillow's decoders may quote bytes of the file in their messages.
            raise DataError(
                field, f"the image is damaged or truncated ({type(err).__name__})", path
            ) from None
    x = pixels.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    y = np.array([label for _, label in files], dtype=np.int64)
    return ArraySet(x, y)


def load(spec: ImageFolderData, seed: int) -> tuple[ArraySplits, DataInfo]:
    """Every image, resized, as float 0..1; split stratified by class."""
    info = describe(spec)
    _, listing = _listing(spec)
    fields = {"main": "data.path", "val": "data.val_path", "test": "data.test_path"}
    sets = {key: _read_images(files, spec, fields[key]) for key, files in listing.items()}
    splits = split_samples(
        sets["main"],
        spec.split,
        split_rng(seed),
        stratify=True,
        val=sets.get("val"),
        test=sets.get("test"),
        file=spec.path,
    )
    return splits, info
