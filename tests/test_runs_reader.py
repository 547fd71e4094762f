"""RunWriter -> RunReader: round trips, incremental polling, torn data, resume."""

from __future__ import annotations

import json
import math
import struct
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dltui.runs import RunReader, RunWriter
from dltui.runs.layout import RECORD_DTYPE, RECORD_STRUCT


def make_writer(tmp_path, **kwargs):
    # A long flush interval: tests decide when bytes reach the disk.
    kwargs.setdefault("flush_interval", 60.0)
    return RunWriter.create(tmp_path / "runs", "exp", run_id="r1", **kwargs)


def test_round_trip_scalars_events_meta(tmp_path):
    with make_writer(tmp_path, experiment_text="seed = 1\n", config={"lr": 0.1}, device="cpu") as w:
        w.status("running")
        for step in range(50):
            w.scalar("train/loss", 1.0 / (step + 1), step, epoch=step / 10)
        w.scalars({"val/loss": math.nan, "lr": math.inf}, step=49)
        w.scalar("throughput", 12.5, 49)  # no epoch -> NaN
        w.event("epoch", epoch=1, step=49, metrics={"val/loss": math.nan}, epoch_time=1.5)
        w.event("mystery", payload=[1, 2])  # unknown kinds are kept
        w.flush()
        reader = RunReader(w.run_dir)
        loss = reader.series("train/loss")
        assert loss.step.dtype == np.int64 and loss.epoch.dtype == np.float32
        assert loss.time.dtype == np.float64 and loss.value.dtype == np.float64
        np.testing.assert_array_equal(loss.step, np.arange(50))
        np.testing.assert_allclose(loss.value, 1.0 / np.arange(1, 51))
        np.testing.assert_allclose(loss.epoch, np.arange(50, dtype=np.float32) / 10)
        assert math.isnan(reader.series("val/loss").value[0])
        assert reader.series("lr").value[0] == math.inf
        assert math.isnan(reader.series("throughput").epoch[0])
        assert reader.tags() == ["train/loss", "val/loss", "lr", "throughput"]
        kinds = [event["kind"] for event in reader.events]
        assert kinds[:2] == ["status", "status"] and kinds[-2:] == ["epoch", "mystery"]
        assert (
            reader.latest("epoch")["metrics"]["val/loss"]
            != reader.latest("epoch")["metrics"]["val/loss"]
        )  # NaN survives the JSON round trip
        assert reader.latest("mystery")["payload"] == [1, 2]
        assert [e["name"] for e in reader.events_of("tag")] == reader.tags()
        assert reader.latest("nothing") is None and reader.events_of("nothing") == []
        assert reader.meta["format"] == 1 and reader.meta["config"] == {"lr": 0.1}
        assert reader.meta["experiment"] == "exp" and reader.meta["device"] == "cpu"
        assert set(reader.meta["versions"]) == {"dltui", "torch", "python"}
        assert (w.run_dir / "experiment.toml").read_text() == "seed = 1\n"
        assert reader.status.state == "running" and reader.status.alive
    assert reader.poll().status
    assert reader.status.state == "finished" and not reader.status.alive
    assert reader.status.step == 49


def test_poll_reads_only_the_new_bytes(tmp_path):
    w = make_writer(tmp_path)
    for step in range(10):
        w.scalar("a", step, step)
    w.flush()
    reader = RunReader(w.run_dir)
    events_size = (w.run_dir / "events.jsonl").stat().st_size
    assert reader.offsets.scalars == 10 * 32
    assert reader.offsets.events == events_size
    buffer_before = reader.series("a")._arrays["value"]

    for step in range(10, 110):
        w.scalar("a", step, step)
    w.event("log", level="info", message="hello")
    w.flush()
    changes = reader.poll()
    assert changes.tags == {"a"} and changes.points == 100 and not changes.new_tags
    assert changes.kinds == {"log"} and changes.events == 1
    assert reader.offsets.scalars == 110 * 32
    np.testing.assert_array_equal(reader.series("a").step, np.arange(110))
    # Within capacity the buffer grows in place instead of being re-concatenated.
    assert reader.series("a")._arrays["value"] is buffer_before

    nothing = reader.poll()
    assert not nothing and nothing.points == 0 and nothing.events == 0
    w.close()


def test_torn_line_and_partial_record_wait_until_complete(tmp_path):
    w = make_writer(tmp_path)
    w.scalar("a", 1.0, 0)
    w.flush()
    reader = RunReader(w.run_dir)
    events = w.run_dir / "events.jsonl"
    scalars = w.run_dir / "scalars.bin"
    tag_id = reader.events_of("tag")[0]["id"]

    line = json.dumps({"kind": "log", "time": 1.0, "message": "half"}) + "\n"
    record = RECORD_STRUCT.pack(tag_id, math.nan, 1, 2.0, 42.0)
    with open(events, "ab") as handle:
        handle.write(line[:10].encode())
    with open(scalars, "ab") as handle:
        handle.write(record[:20])
    before = reader.offsets
    changes = reader.poll()
    assert changes.events == 0 and changes.points == 0
    assert reader.offsets == before
    assert len(reader.series("a")) == 1 and reader.latest("log") is None

    with open(events, "ab") as handle:
        handle.write(line[10:].encode())
    with open(scalars, "ab") as handle:
        handle.write(record[20:])
    changes = reader.poll()
    assert changes.events == 1 and changes.points == 1
    assert reader.latest("log")["message"] == "half"
    assert reader.series("a").value.tolist() == [1.0, 42.0]
    assert reader.offsets.events == events.stat().st_size
    w.close()


def test_invalid_complete_line_is_skipped_and_counted(tmp_path):
    w = make_writer(tmp_path)
    w.flush()
    events = w.run_dir / "events.jsonl"
    with open(events, "ab") as handle:
        handle.write(b'{"kind": "log", "message": "ok"}\n{not json\n[1, 2]\n\n')
        handle.write(b'{"kind": "log", "message": "after"}\n')
    reader = RunReader(w.run_dir)
    assert [e["message"] for e in reader.events_of("log")] == ["ok", "after"]
    assert reader.bad_lines == 2
    assert any("events.jsonl:3" in problem for problem in reader.problems)
    w.close()


def test_records_wait_for_a_torn_tag_declaration(tmp_path):
    w = make_writer(tmp_path)
    w.flush()
    reader = RunReader(w.run_dir)
    declaration = json.dumps({"kind": "tag", "time": 1.0, "id": 7, "name": "late"}) + "\n"
    with open(w.run_dir / "events.jsonl", "ab") as handle:
        handle.write(declaration[:-5].encode())
    with open(w.run_dir / "scalars.bin", "ab") as handle:
        handle.write(RECORD_STRUCT.pack(7, 0.0, 3, 1.0, 9.0))
    assert reader.poll().points == 0 and reader.offsets.scalars == 0
    with open(w.run_dir / "events.jsonl", "ab") as handle:
        handle.write(declaration[-5:].encode())
    changes = reader.poll()
    assert changes.new_tags == {"late"} and reader.series("late").value.tolist() == [9.0]
    w.close()


def test_undeclared_tag_gets_a_placeholder_name(tmp_path):
    w = make_writer(tmp_path)
    w.flush()
    with open(w.run_dir / "scalars.bin", "ab") as handle:
        handle.write(RECORD_STRUCT.pack(99, 0.0, 3, 1.0, 9.0))
    reader = RunReader(w.run_dir)
    assert reader.series("tag#99").value.tolist() == [9.0]
    assert any("never declared" in problem for problem in reader.problems)
    w.close()


def test_interleaved_tags_split_correctly_across_small_chunks(tmp_path):
    w = make_writer(tmp_path)
    rng = np.random.default_rng(0)
    expected: dict[str, list[int]] = {}
    for step in range(500):
        tag = f"t{rng.integers(0, 6)}"
        expected.setdefault(tag, []).append(step)
        w.scalar(tag, step * 0.5, step)
    w.flush()
    reader = RunReader(w.run_dir, chunk_records=7)
    assert set(reader.tags()) == set(expected)
    for tag, steps in expected.items():
        assert reader.series(tag).step.tolist() == steps
        np.testing.assert_array_equal(reader.series(tag).value, np.array(steps) * 0.5)
    w.close()


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=6))
def test_reading_in_arbitrary_pieces_equals_reading_at_once(tmp_path_factory, cuts):
    source = tmp_path_factory.mktemp("source")
    w = RunWriter.create(source, "exp", run_id="full", flush_interval=60.0)
    for step in range(60):
        w.scalars({"a": step, f"b{step % 3}": -step}, step)
        if step % 7 == 0:
            w.event("log", level="info", message=f"step {step} ünïcode")
    w.close()
    whole = RunReader(w.run_dir)

    target = tmp_path_factory.mktemp("target") / "run"
    target.mkdir()
    files = {name: (w.run_dir / name).read_bytes() for name in ("events.jsonl", "scalars.bin")}
    reader = RunReader(target)
    records = np.frombuffer(files["scalars.bin"], RECORD_DTYPE)
    for cut in [*sorted(cuts), 10**9]:
        # Prefixes as a writer caught mid-write leaves them: a record never
        # precedes its tag's declaration (the writer writes events first).
        events = files["events.jsonl"][:cut]
        declared = {
            json.loads(line)["id"]
            for line in events.split(b"\n")[:-1]
            if json.loads(line)["kind"] == "tag"
        }
        usable = next(
            (i for i, tag in enumerate(records["tag"]) if tag not in declared), len(records)
        )
        (target / "events.jsonl").write_bytes(events)
        (target / "scalars.bin").write_bytes(files["scalars.bin"][: min(cut, usable * 32 + 31)])
        reader.poll()
        assert reader.offsets.scalars % 32 == 0
    assert reader.tags() == whole.tags()
    for tag in whole.tags():
        np.testing.assert_array_equal(reader.series(tag).value, whole.series(tag).value)
    assert reader.events == whole.events and reader.bad_lines == 0


def test_resume_cuts_torn_tail_and_keeps_tag_ids(tmp_path):
    w = make_writer(tmp_path)
    w.scalar("a", 1.0, 0)
    w.scalar("b", 2.0, 0)
    w.close("stopped", reason="asked")
    with open(w.run_dir / "events.jsonl", "ab") as handle:
        handle.write(b'{"kind": "log", "mes')
    with open(w.run_dir / "scalars.bin", "ab") as handle:
        handle.write(b"\x00" * 13)
    (w.run_dir / "stop").write_text("{}")

    resumed = RunWriter.open(w.run_dir, flush_interval=60.0)
    assert not (w.run_dir / "stop").exists()
    resumed.scalar("a", 3.0, 1)
    resumed.scalar("c", 4.0, 1)
    resumed.close()
    reader = RunReader(w.run_dir)
    assert reader.bad_lines == 0
    assert reader.series("a").value.tolist() == [1.0, 3.0]
    assert reader.series("c").value.tolist() == [4.0]
    ids = [event["id"] for event in reader.events_of("tag")]
    assert ids == sorted(set(ids))
    assert reader.latest("resume") is not None
    statuses = [event["status"] for event in reader.events_of("status")]
    assert statuses == ["starting", "stopped", "starting", "finished"]


def test_bad_arguments_are_named(tmp_path):
    w = make_writer(tmp_path)
    with pytest.raises(TypeError, match="'train/loss'"):
        w.scalar("train/loss", "high", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="step"):
        w.scalar("train/loss", 1.0, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status must be one of"):
        w.status("exploded")
    with pytest.raises(ValueError, match="'tag' events"):
        w.event("tag", id=1, name="x")
    with pytest.raises(FileExistsError, match=r"RunWriter\.open"):
        RunWriter.create(tmp_path / "runs", "exp", run_id="r1")
    with pytest.raises(ValueError, match="experiment"):
        RunWriter.create(tmp_path / "runs", "../escape")
    w.close()
    with pytest.raises(RuntimeError, match="closed"):
        w.scalar("a", 1.0, 1)
    with pytest.raises(FileNotFoundError, match=r"meta\.json"):
        RunWriter.open(tmp_path)


def test_writer_flushes_in_the_background(tmp_path):
    w = RunWriter.create(tmp_path, "exp", flush_interval=0.02)
    w.scalar("a", 1.0, 0)
    size = 0
    for _ in range(200):
        size = (w.run_dir / "scalars.bin").stat().st_size
        if size:
            break
        time.sleep(0.01)
    assert size == 32
    w.close()


def test_output_tail_and_incremental_output(tmp_path):
    w = make_writer(tmp_path)
    reader = RunReader(w.run_dir)
    log = w.run_dir / "output.log"
    lines = [f"line {i}" for i in range(5000)]
    log.write_text("\n".join(lines) + "\nepoch 1: 10%\repoch 1: 50%\rpartial")
    assert reader.poll().output
    tail = reader.output_tail(3)
    assert tail == ["line 4998", "line 4999", "partial"]
    assert reader.output_tail(10_000)[:2] == ["line 0", "line 1"]
    new = reader.read_output(max_bytes=100)
    assert new and new[-1] == "line 4999" and len(new) < 20  # skipped to the end
    with open(log, "a") as handle:
        handle.write(" done\nnext\n")
    assert reader.read_output() == ["partial done", "next"]
    assert reader.read_output() == []
    assert reader.poll().output  # it grew since the last poll
    assert not reader.poll().output
    w.close()


def test_reader_of_a_folder_that_is_still_empty(tmp_path):
    folder = tmp_path / "exp" / "r"
    folder.mkdir(parents=True)
    reader = RunReader(folder)
    assert reader.meta == {} and reader.tags() == [] and reader.events == []
    assert reader.status.status == "unknown" and not reader.status.alive
    assert reader.output_tail() == []


def test_record_layout_is_the_documented_one():
    assert RECORD_STRUCT.size == 32
    packed = RECORD_STRUCT.pack(3, 1.5, -2, 10.0, 0.25)
    assert struct.unpack("<I", packed[:4]) == (3,)
    assert struct.unpack("<f", packed[4:8]) == (1.5,)
    assert struct.unpack("<q", packed[8:16]) == (-2,)
    assert struct.unpack("<dd", packed[16:]) == (10.0, 0.25)


@pytest.mark.parametrize(
    ("content", "kept"),
    [
        (b"", b""),
        (b"a\n", b"a\n"),
        (b"a\nb", b"a\n"),
        (b"x" * 200_000, b""),
        (b"a\n" + b"x" * 200_000, b"a\n"),
    ],
)
def test_resume_cuts_torn_lines_of_any_length(tmp_path, content, kept):
    from dltui.runs.run_folder import cut_torn_tail

    (tmp_path / "events.jsonl").write_bytes(content)
    (tmp_path / "scalars.bin").write_bytes(b"\x01" * 70)
    cut_torn_tail(tmp_path / "events.jsonl", tmp_path / "scalars.bin")
    assert (tmp_path / "events.jsonl").read_bytes() == kept
    assert (tmp_path / "scalars.bin").stat().st_size == 64


def test_following_a_live_writer_thread_loses_nothing(tmp_path):
    w = RunWriter.create(tmp_path, "live", flush_interval=0.002)
    total = 30_000

    def train() -> None:
        for step in range(total):
            w.scalars({"train/loss": step, f"grad_norm/{step % 5}": -step}, step)
            if step % 3000 == 0:
                w.event("epoch", epoch=step // 3000, step=step)
        w.close()

    thread = threading.Thread(target=train)
    reader = RunReader(w.run_dir)
    thread.start()
    polls = 0
    deadline = time.time() + 30
    while (thread.is_alive() or reader.status.state != "finished") and time.time() < deadline:
        reader.poll()
        polls += 1
        time.sleep(0.001)
    thread.join()
    reader.poll()
    assert polls > 1
    np.testing.assert_array_equal(reader.series("train/loss").step, np.arange(total))
    for k in range(5):
        np.testing.assert_array_equal(reader.series(f"grad_norm/{k}").step, np.arange(k, total, 5))
    assert [e["epoch"] for e in reader.events_of("epoch")] == list(range(10))
    assert reader.bad_lines == 0 and not reader.problems
