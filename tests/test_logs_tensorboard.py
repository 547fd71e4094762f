"""TensorBoard event files: every value checked against TensorBoard's own reader.

The files are written in the test by the writers people use — torch's
SummaryWriter, tensorboardX and Lightning's TensorBoardLogger — and read by
`dltui.logs.tensorboard.TensorBoardLog` and by TensorBoard's EventAccumulator.
Then the failure cases: a torn last record, a corrupted CRC, a corrupted
header, a file that grows while it is read, two files in one folder.
"""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from dltui.logs.crc32c import crc32c, mask
from dltui.logs.events import decode_event
from dltui.logs.tensorboard import TensorBoardLog
from dltui.logs.tfrecord import scan_records

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
tensor_util = pytest.importorskip("tensorboard.util.tensor_util")


def _accumulator(folder: Path):
    acc = event_accumulator.EventAccumulator(
        str(folder), size_guidance={"scalars": 0, "tensors": 0}
    )
    acc.Reload()
    return acc


def _assert_same_as_tensorboard(folder: Path) -> TensorBoardLog:
    log = TensorBoardLog(folder)
    acc = _accumulator(folder)
    expected: dict[str, list[tuple[int, float, float]]] = {}
    for tag in acc.Tags()["scalars"]:
        expected[tag] = [(e.step, e.wall_time, e.value) for e in acc.Scalars(tag)]
    for tag in acc.Tags()["tensors"]:
        events = acc.Tensors(tag)
        array = tensor_util.make_ndarray(events[0].tensor_proto)
        if array.size == 1 and array.dtype.kind in "fiub":
            expected[tag] = [
                (e.step, e.wall_time, float(tensor_util.make_ndarray(e.tensor_proto).item()))
                for e in events
            ]
    assert expected, "the writer wrote no scalars"
    assert set(log.tags()) == set(expected)
    for tag, points in expected.items():
        series = log.series(tag)
        assert series.step.tolist() == [p[0] for p in points], tag
        assert series.time.tolist() == [p[1] for p in points], tag
        got = series.value.tolist()
        for a, (_, _, b) in zip(got, points, strict=True):
            assert a == b or (math.isnan(a) and math.isnan(b)), tag
    return log


def _write_torch(folder: Path) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder))
    for step in range(300):
        writer.add_scalar("loss/train", 1.0 / (step + 1), step)
        if step % 3 == 0:
            writer.add_scalar("loss/val", 2.0 / (step + 1), step)
        writer.add_scalar("lr", 0.1 if step < 100 else 0.01, step)
        writer.add_scalar("a" * 130, float(step), step)  # a tag past 127 bytes
        writer.add_scalar("new_style", step * 0.5, step, new_style=True)
    for step in (2**14, 2**21 + 5, 2**35):  # 3-, 4- and 6-byte step varints
        writer.add_scalar("loss/train", -0.0, step)
    writer.add_scalar("specials", float("nan"), 1)
    writer.add_scalar("specials", float("inf"), 2)
    writer.add_scalar("specials", -3.4e38, 3)
    writer.add_text("notes", "first line\nsecond line", 5)
    writer.add_histogram("weights", torch.arange(10.0), 1)
    writer.add_hparams({"lr": 0.01, "width": 64, "optimizer": "adam"}, {"hp/metric": 0.5})
    writer.close()


def test_torch_summary_writer_matches_tensorboard(tmp_path: Path) -> None:
    _write_torch(tmp_path)
    log = _assert_same_as_tensorboard(tmp_path)
    assert log.series("loss/train").step[-3:].tolist() == [2**14, 2**21 + 5, 2**35]
    assert [t.text for t in log.text] == ["first line\nsecond line"]
    assert log.text[0].tag.startswith("notes")
    assert log.other.get("weights") == "histogram"
    assert log.bad_records == 0 and log.skipped_bytes == 0


def test_hparams_from_summary_writer(tmp_path: Path) -> None:
    _write_torch(tmp_path)
    # add_hparams writes its own sub-folder (a run of its own), as TensorBoard shows it.
    (sub,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    log = TensorBoardLog(sub)
    assert log.hparams == {"lr": 0.01, "width": 64.0, "optimizer": "adam"}
    assert log.series("hp/metric").value.tolist() == [0.5]


def test_tensorboardx_matches_tensorboard(tmp_path: Path) -> None:
    tbx = pytest.importorskip("tensorboardX")
    writer = tbx.SummaryWriter(str(tmp_path))
    for step in range(200):
        writer.add_scalar("train/loss", math.exp(-step / 50), step)
        writer.add_scalars("pair", {"x": step, "y": -step}, step)
    writer.add_text("log", "hello", 0)
    writer.close()
    # add_scalars writes each member to a folder of its own: each its own run.
    folders = {p.parent for p in tmp_path.rglob("*tfevents*")}
    assert len(folders) == 3
    for folder in folders:
        _assert_same_as_tensorboard(folder)


def test_lightning_logger_matches_tensorboard(tmp_path: Path) -> None:
    loggers = pytest.importorskip("pytorch_lightning.loggers")
    logger = loggers.TensorBoardLogger(str(tmp_path), name="exp", version=0)
    logger.log_hyperparams({"lr": 0.001, "batch_size": 32})
    for step in range(150):
        logger.log_metrics({"train_loss": 1 / (step + 1), "epoch": step // 50}, step)
        if step % 50 == 49:
            logger.log_metrics({"val_acc": step / 150}, step)
    logger.finalize("success")
    folder = tmp_path / "exp" / "version_0"
    log = _assert_same_as_tensorboard(folder)
    assert log.hparams == {"lr": 0.001, "batch_size": 32.0}


# ----------------------------------------------------------------------------- framing faults


def _record(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return (
        header
        + struct.pack("<I", mask(crc32c(header)))
        + data
        + struct.pack("<I", mask(crc32c(data)))
    )


def _scalar_event(tag: str, step: int, value: float, wall: float = 1.7e9) -> bytes:
    from tensorboard.compat.proto import event_pb2, summary_pb2

    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
    return event_pb2.Event(wall_time=wall + step, step=step, summary=summary).SerializeToString()


def _version_event() -> bytes:
    from tensorboard.compat.proto import event_pb2

    return event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString()


def _file(path: Path, records: list[bytes]) -> Path:
    path.write_bytes(b"".join(records))
    return path


def test_a_torn_last_record_is_read_once_it_is_whole(tmp_path: Path) -> None:
    records = [_record(_version_event())] + [
        _record(_scalar_event("x", i, i * 0.5)) for i in range(10)
    ]
    whole = b"".join(records)
    path = tmp_path / "events.out.tfevents.1.host"
    path.write_bytes(whole[:-7])
    log = TensorBoardLog(tmp_path)
    assert log.series("x").step.tolist() == list(range(9))
    with path.open("ab") as handle:
        handle.write(whole[-7:])
    changes = log.poll()
    assert changes.points == 1
    assert log.series("x").step.tolist() == list(range(10))
    assert log.bad_records == 0 and log.skipped_bytes == 0


def test_a_corrupted_crc_skips_that_record_only(tmp_path: Path) -> None:
    records = [_record(_version_event())] + [
        _record(_scalar_event("x", i, float(i))) for i in range(20)
    ]
    bad = bytearray(records[5])
    bad[-6] ^= 0x40  # a byte of the value
    records[5] = bytes(bad)
    _file(tmp_path / "events.out.tfevents.1.host", records)
    log = TensorBoardLog(tmp_path)
    assert log.bad_records == 1
    assert log.series("x").step.tolist() == [i for i in range(20) if i != 4]


def test_a_corrupted_header_is_skipped_to_the_next_record(tmp_path: Path) -> None:
    records = [_record(_version_event())] + [
        _record(_scalar_event("x", i, float(i))) for i in range(20)
    ]
    bad = bytearray(records[8])
    bad[0] ^= 0x01  # the length: its CRC no longer holds
    records[8] = bytes(bad)
    _file(tmp_path / "events.out.tfevents.1.host", records)
    log = TensorBoardLog(tmp_path)
    assert log.series("x").step.tolist() == [i for i in range(20) if i != 7]
    assert log.skipped_bytes == len(records[8])


def test_garbage_between_records_and_a_garbage_tail(tmp_path: Path) -> None:
    records = [_record(_scalar_event("x", i, float(i))) for i in range(5)]
    path = _file(
        tmp_path / "events.out.tfevents.1.host",
        [records[0], b"\x09" * 40, *records[1:], b"\x00garbage at the end\x09\x09"],
    )
    log = TensorBoardLog(tmp_path)
    assert log.series("x").step.tolist() == list(range(5))
    assert log.skipped_bytes == 40
    with path.open("ab") as handle:  # a writer that carries on after the garbage
        handle.write(_record(_scalar_event("x", 5, 5.0)))
    log.poll()
    assert log.series("x").step.tolist() == list(range(6))


def test_a_growing_file_is_followed_by_its_new_bytes(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path), flush_secs=3600)
    for step in range(50):
        writer.add_scalar("loss", 1 / (step + 1), step)
    writer.flush()
    log = TensorBoardLog(tmp_path)
    assert len(log.series("loss")) == 50
    for step in range(50, 80):
        writer.add_scalar("loss", 1 / (step + 1), step)
    writer.flush()
    changes = log.poll()
    assert changes.points == 30 and "loss" in changes.tags
    writer.close()
    _assert_same_as_tensorboard(tmp_path)


def test_two_event_files_in_one_folder_are_one_run(tmp_path: Path) -> None:
    first = [_record(_version_event())] + [_record(_scalar_event("x", i, i)) for i in range(5)]
    second = [_record(_version_event())] + [_record(_scalar_event("x", i, i)) for i in range(5, 9)]
    _file(tmp_path / "events.out.tfevents.100.host.1", first)
    _file(tmp_path / "events.out.tfevents.200.host.2", second)
    log = _assert_same_as_tensorboard(tmp_path)
    assert log.series("x").step.tolist() == list(range(9))


def test_session_start_purges_later_steps_as_tensorboard_does(tmp_path: Path) -> None:
    from tensorboard.compat.proto import event_pb2

    start = event_pb2.Event(
        wall_time=1.7e9 + 100, step=3, session_log=event_pb2.SessionLog(status=1)
    ).SerializeToString()
    records = (
        [_record(_version_event())]
        + [_record(_scalar_event("x", i, i)) for i in range(6)]
        + [_record(start)]
        + [_record(_scalar_event("x", i, i * 10)) for i in range(3, 8)]
    )
    _file(tmp_path / "events.out.tfevents.1.host", records)
    log = _assert_same_as_tensorboard(tmp_path)
    assert log.series("x").step.tolist() == [0, 1, 2, 3, 4, 5, 6, 7]


def test_old_format_purges_a_tag_when_its_steps_go_back(tmp_path: Path) -> None:
    records = [_record(_scalar_event("x", i, i)) for i in range(6)] + [
        _record(_scalar_event("x", i, -i)) for i in range(2, 4)
    ]
    _file(tmp_path / "events.out.tfevents.1.host", records)
    _assert_same_as_tensorboard(tmp_path)


def test_fast_and_general_decoders_agree_on_every_record(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    tags = ["loss", "val/accuracy", "x" * 7, "y" * 8, "z" * 9, "layer/é", "t" * 120]
    records = [_version_event()]
    for _ in range(3000):
        tag = tags[int(rng.integers(len(tags)))]
        step = int(
            rng.choice([0, 1, 127, 128, 16383, 16384, 2**28, 2**49, int(rng.integers(10**6))])
        )
        value = float(rng.standard_normal() * 10 ** float(rng.integers(-30, 30)))
        records.append(_scalar_event(tag, step, value, wall=float(rng.uniform(0, 2e9))))
    path = _file(tmp_path / "events.out.tfevents.1.host", [_record(r) for r in records])
    log = TensorBoardLog(tmp_path)
    raw = path.read_bytes()
    buf = np.frombuffer(raw + bytes(64), dtype=np.uint8)
    framing = scan_records(buf[: len(raw)])
    expected: dict[str, list[tuple[int, float, float]]] = {}
    for s, n in zip(framing.starts.tolist(), framing.lengths.tolist(), strict=True):
        event = decode_event(raw[s : s + n])
        for v in event.values:
            expected.setdefault(v.tag, []).append((event.step, event.wall_time, v.value))
    for tag, points in expected.items():
        series = log.series(tag)
        assert list(zip(series.step.tolist(), series.time.tolist(), series.value.tolist(),
                        strict=True)) == points  # fmt: skip


def test_hostile_tag_names_are_kept_as_written(tmp_path: Path) -> None:
    tag = "loss\x1b]2;owned\x07[bold]x[/]"
    _file(tmp_path / "events.out.tfevents.1.host", [_record(_scalar_event(tag, 1, 1.0))])
    log = TensorBoardLog(tmp_path)
    assert log.tags() == [tag]  # shown safely by the dashboard, not altered here


def test_not_a_folder_and_empty_files_are_fine(tmp_path: Path) -> None:
    assert TensorBoardLog(tmp_path / "missing").tags() == []
    (tmp_path / "events.out.tfevents.1.host").write_bytes(b"")
    assert TensorBoardLog(tmp_path).tags() == []
    os.mkfifo(tmp_path / "events.out.tfevents.2.host")  # not a regular file: ignored
    assert TensorBoardLog(tmp_path).tags() == []
