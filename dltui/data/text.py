"""Character language modelling: ``chars`` (a text shipped with dltui) and ``text`` (yours).

Tokens are characters; the vocabulary is the sorted set of characters in all
the text files given, so token ids are stable for a given text. ``x`` is a
window of ``seq_len`` tokens and ``y`` the same window moved on by one.

The text is split into consecutive parts (train first, then val, then test) as
nanoGPT does, so no validation window overlaps a training one. Without
``samples`` each part is cut into back-to-back windows; with it, that many
windows are drawn at random offsets (from the parts of ``path``; a set given by
its own file is always cut back to back).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dltui.data.arrays import ArraySet, ArraySplits, source_rng
from dltui.data.errors import DataError, quoted
from dltui.data.info import DataInfo
from dltui.data.limits import TEXT_FILE_LIMIT, decode_text, read_data_bytes
from dltui.data.splitting import split_counts
from dltui.spec.data import CharsData, TextData
from dltui.spec.errors import did_you_mean

CORPORA_DIR = Path(__file__).with_name("corpora")

_PART_NAMES = {"train": "training", "val": "validation", "test": "test"}


def shipped_corpora() -> list[str]:
    """Names usable as ``corpus`` in a ``chars`` source."""
    return sorted(p.stem for p in CORPORA_DIR.glob("*.txt"))


def corpus_path(name: str) -> Path:
    """The file of the shipped corpus ``name``; a DataError lists those that exist."""
    path = CORPORA_DIR / f"{name}.txt"
    if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        shipped = shipped_corpora()
        hint = did_you_mean(name, shipped)
        raise DataError(
            "data.corpus",
            f"no corpus {quoted(name)}; shipped: {', '.join(shipped) or 'none'}"
            + (f" ({hint})" if hint else ""),
        )
    return path


def read_text(path: Path, field: str) -> str:
    """The UTF-8 text of ``path`` (a regular file of at most `TEXT_FILE_LIMIT` bytes);
    unreadable, non-UTF-8, oversized or empty files are DataErrors."""
    text = decode_text(read_data_bytes(path, field, TEXT_FILE_LIMIT), path, field)
    if not text:
        raise DataError(field, "the file is empty; expected text", path)
    return text


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


class _Texts:
    """The files of a text source, their vocabulary and their split into parts."""

    def __init__(self, spec: CharsData | TextData):
        self.spec = spec
        if isinstance(spec, CharsData):
            self.file: Path = corpus_path(spec.corpus)
            main = read_text(self.file, "data.corpus")
            extra: dict[str, tuple[Path, str]] = {}
        else:
            self.file = spec.path
            main = read_text(spec.path, "data.path")
            extra = {
                name: (p, read_text(p, f"data.{name}_path"))
                for name, p in (("val", spec.val_path), ("test", spec.test_path))
                if p is not None
            }
        codes = {"main": _codes(main), **{k: _codes(t) for k, (_, t) in extra.items()}}
        vocab_codes = np.unique(np.concatenate(list(codes.values())))
        self.vocab = [chr(c) for c in vocab_codes]
        ids = {k: np.searchsorted(vocab_codes, c).astype(np.int64) for k, c in codes.items()}

        n_train, n_val, _ = split_counts(
            ids["main"].shape[0],
            spec.split,
            val_file="val" in extra,
            test_file="test" in extra,
            unit="characters",
            file=self.file,
        )
        main_ids = ids["main"]
        self.parts: dict[str, tuple[np.ndarray, Path, bool]] = {
            "train": (main_ids[:n_train], self.file, True),
            "val": (main_ids[n_train : n_train + n_val], self.file, True),
            "test": (main_ids[n_train + n_val :], self.file, True),
        }
        for name, (path, _) in extra.items():
            self.parts[name] = (ids[name], path, False)
        self.draws = self._draws()
        for name, (part, path, _) in self.parts.items():
            if self.windows(name) == 0 and (part.shape[0] > 0 or name == "train"):
                need = spec.seq_len + 1
                raise DataError(
                    "data.seq_len",
                    f"the {_PART_NAMES[name]} part has {part.shape[0]} characters; windows of "
                    f"seq_len {spec.seq_len} need at least {need} (use a shorter seq_len, "
                    "a longer text or a different split)",
                    path,
                )

    def _draws(self) -> dict[str, int] | None:
        """Random windows per part of ``path`` when ``samples`` is set, else None."""
        if self.spec.samples is None:
            return None
        from_main = [n for n, (_, _, is_main) in self.parts.items() if is_main]
        sizes = {n: self.parts[n][0].shape[0] for n in from_main}
        total = sum(sizes.values())
        draws = {n: round(self.spec.samples * sizes[n] / total) for n in from_main}
        draws["train"] += self.spec.samples - sum(draws.values())
        return draws

    def windows(self, name: str) -> int:
        """How many windows part ``name`` yields."""
        part, _, is_main = self.parts[name]
        length = self.spec.seq_len
        if part.shape[0] < length + 1:
            return 0
        if self.draws is not None and is_main:
            return self.draws[name]
        return (part.shape[0] - 1) // length

    def cut(self, name: str, rng: np.random.Generator) -> ArraySet:
        """Part ``name`` as ``(x, y)`` windows of token ids."""
        part, _, is_main = self.parts[name]
        length = self.spec.seq_len
        count = self.windows(name)
        if self.draws is not None and is_main:
            starts = rng.integers(0, part.shape[0] - length, count)
        else:
            starts = np.arange(count) * length
        if count == 0:
            empty = np.zeros((0, length), dtype=np.int64)
            return ArraySet(empty, empty.copy())
        windows = part[starts[:, None] + np.arange(length + 1)]
        return ArraySet(windows[:, :-1], windows[:, 1:])

    def info(self) -> DataInfo:
        length = self.spec.seq_len
        return DataInfo(
            input_shape=(length,),
            target_shape=(length,),
            task="language_model",
            num_classes=len(self.vocab),
            vocab=self.vocab,
            input_dtype="int64",
            samples=sum(self.windows(n) for n in self.parts),
        )


def describe(spec: CharsData | TextData) -> DataInfo:
    """Token windows ``(seq_len,)`` in and out; ``num_classes`` is the vocabulary size."""
    return _Texts(spec).info()


def load(spec: CharsData | TextData, seed: int) -> tuple[ArraySplits, DataInfo]:
    """Windows of every part of the text, in text order (the trainer shuffles)."""
    texts = _Texts(spec)
    rng = source_rng(seed)
    splits = ArraySplits(texts.cut("train", rng), texts.cut("val", rng), texts.cut("test", rng))
    return splits, texts.info()
