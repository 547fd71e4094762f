"""Data sources -> tensors: generated sets, shipped sets and the user's files.

``describe(spec)`` says what a source holds without loading it; ``load_data(spec,
seed)`` gives reproducible train/val/test tensors; ``augment_batch`` randomises
image batches on any device. Importing this package imports neither torch nor
numpy; the loaders do, when called.
"""

from dltui.data.augment import augment_batch
from dltui.data.errors import DataError
from dltui.data.info import DataInfo, Splits, TensorSplit
from dltui.data.loading import describe, load_data

__all__ = [
    "DataError",
    "DataInfo",
    "Splits",
    "TensorSplit",
    "augment_batch",
    "describe",
    "load_data",
]
