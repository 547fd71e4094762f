"""Resuming a run: what a resume supersedes is dropped, every tag's steps increase.

The contract is docs/run-format.md's "Resuming": a ``resume`` event names the step
the new writer continues from and how many records came before it; readers drop
the points (and step-carrying events) after that step recorded before it, and
keep only later points past each tag's last kept step.
"""

from __future__ import annotations

import json
import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import dltui.tracking
from dltui.runs import RunReader, RunWriter, discover_runs


def segment(writer: RunWriter, first: int, last: int, *, epoch_every: int = 10) -> None:
    """Steps ``first..last`` as the trainer records them: losses each step, system
    samples every third step, an epoch's results, events and early stopping."""
    for step in range(first, last + 1):
        writer.scalars({"train/loss": 1.0 / step, "lr": 0.1}, step, epoch=step / epoch_every)
        if step % 3 == 0:
            writer.scalars({"system/cpu_percent": 50.0 + step}, step)
        if step % epoch_every == 0:
            epoch = step // epoch_every
            writer.scalars({"val/loss": 2.0 / step}, step, epoch=epoch)
            writer.event("epoch", epoch=epoch, step=step, lr=0.1)
            writer.event(
                "early_stopping", epoch=epoch, step=step, monitor="val/loss",
                value=2.0 / step, best=2.0 / step, best_epoch=epoch, mode="min",
            )  # fmt: skip
            writer.event("checkpoint", which="last", epoch=epoch, step=step)


def assert_increasing(reader: RunReader) -> None:
    for tag in reader.tags():
        steps = reader.series(tag).step
        assert np.all(np.diff(steps) > 0), (tag, steps.tolist())


def test_resume_drops_the_superseded_tail_of_every_tag_and_keeps_the_rest(tmp_path):
    # As gru-sine's kill left it: last.pt at step 40, records to step 55.
    w = RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0)
    w.status("running")
    segment(w, 1, 55)
    w.flush()  # then killed (no close)
    before = RunReader(w.run_dir)
    w._abandon()

    resumed = RunWriter.open(w.run_dir, step=40, flush_interval=60.0)
    resumed.status("running")
    resumed.scalars({"system/cpu_percent": 1.0}, 39)  # a sample at a step it has already
    segment(resumed, 41, 70)
    resumed.close()

    reader = RunReader(w.run_dir)
    assert_increasing(reader)
    loss = reader.series("train/loss")
    assert loss.step.tolist() == list(range(1, 71))
    # Nothing recorded up to the checkpoint is lost: the first segment's points are kept.
    kept = before.series("train/loss")
    np.testing.assert_array_equal(loss.value[:40], kept.value[:40])
    np.testing.assert_array_equal(loss.time[:40], kept.time[:40])
    cpu = reader.series("system/cpu_percent")
    assert cpu.step.tolist() == list(range(3, 71, 3))
    assert 1.0 not in cpu.value.tolist()  # the repeated sample at step 39 is dropped
    assert [e["epoch"] for e in reader.events_of("epoch")] == [1, 2, 3, 4, 5, 6, 7]
    assert [e["step"] for e in reader.events_of("checkpoint")] == [10, 20, 30, 40, 50, 60, 70]
    assert [e["epoch"] for e in reader.events_of("early_stopping")] == [1, 2, 3, 4, 5, 6, 7]
    # The run's history is kept whole: both status sequences, the resume itself.
    statuses = [e["status"] for e in reader.events_of("status")]
    assert statuses == ["starting", "running", "starting", "running", "finished"]
    (resume,) = reader.events_of("resume")
    assert (
        resume["step"] == 40 and resume["records"] == len(before.series("train/loss")) * 2 + 18 + 5
    )
    assert reader.superseded_points > 0 and reader.superseded_events == 3


def test_a_tag_first_recorded_at_the_checkpoint_step_after_the_resume_is_kept(tmp_path):
    # The final test runs after the last checkpoint: killed during it, it is redone at
    # the same step, and must then appear (no point of it was ever kept).
    w = RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0)
    segment(w, 1, 20)
    w.close("failed", reason="killed")
    resumed = RunWriter.open(w.run_dir, step=20, flush_interval=60.0)
    resumed.scalars({"test/loss": 0.5, "train/loss": 9.0}, 20)
    resumed.close()
    reader = RunReader(w.run_dir)
    assert reader.series("test/loss").value.tolist() == [0.5]
    assert reader.series("train/loss").value.tolist()[-1] == 1.0 / 20  # the original stays
    assert_increasing(reader)


def test_a_reader_following_across_the_resume_ends_as_one_reading_at_once(tmp_path):
    w = RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0)
    segment(w, 1, 55)
    w.flush()
    follower = RunReader(w.run_dir)
    old_view = follower.series("train/loss").step
    w._abandon()
    resumed = RunWriter.open(w.run_dir, step=40, flush_interval=60.0)
    resumed.flush()  # the resume event alone, before any new record
    changes = follower.poll()
    assert "train/loss" in changes.tags and "epoch" in changes.kinds
    assert follower.series("train/loss").step.tolist() == list(range(1, 41))
    assert old_view.tolist() == list(range(1, 56))  # a view taken before stays as it was
    segment(resumed, 41, 47)
    resumed.flush()
    follower.poll()
    segment(resumed, 48, 60)
    resumed.close()
    follower.poll()
    whole = RunReader(w.run_dir)
    assert follower.tags() == whole.tags()
    for tag in whole.tags():
        np.testing.assert_array_equal(follower.series(tag).step, whole.series(tag).step)
        np.testing.assert_array_equal(follower.series(tag).value, whole.series(tag).value)
    assert follower.events == whole.events
    assert_increasing(follower)


def test_resumes_apply_in_order_and_an_earlier_checkpoint_supersedes_more(tmp_path):
    w = RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0)
    segment(w, 1, 30)
    w.close("failed")
    second = RunWriter.open(w.run_dir, step=20, flush_interval=60.0)
    segment(second, 21, 45)
    second.close("failed")
    third = RunWriter.open(w.run_dir, step=10, flush_interval=60.0)  # an older checkpoint
    segment(third, 11, 25)
    third.close()
    reader = RunReader(w.run_dir)
    assert reader.series("train/loss").step.tolist() == list(range(1, 26))
    assert [e["epoch"] for e in reader.events_of("epoch")] == [1, 2]
    assert_increasing(reader)


def test_a_resume_without_a_step_continues_after_everything(tmp_path):
    w = RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0)
    segment(w, 1, 12)
    w.close()
    resumed = RunWriter.open(w.run_dir, flush_interval=60.0)
    assert resumed.resumed_from == 12
    segment(resumed, 13, 15)
    resumed.close()
    reader = RunReader(w.run_dir)
    assert reader.series("train/loss").step.tolist() == list(range(1, 16))
    assert reader.superseded_points == 0 and reader.superseded_events == 0


def test_tracking_resume_continues_the_step_counter(tmp_path):
    run = dltui.tracking.init("script", root=tmp_path)
    for _ in range(10):
        run.log({"loss": 1.0})
    run.writer.flush()
    run_dir = run.run_dir
    run.writer._abandon()  # the script crashed; its own checkpoint was at step 6
    again = dltui.tracking.resume(run_dir, step=6)
    assert again.step == 7
    again.log({"loss": 0.5})
    again.finish()
    reader = RunReader(run_dir)
    assert reader.series("loss").step.tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    assert reader.series("loss").value.tolist()[-1] == 0.5
    assert reader.status.status == "finished"


def test_discovery_shows_the_best_of_an_epoch_that_was_not_superseded(tmp_path):
    w = RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0)
    segment(w, 1, 30)  # best 2/30 at epoch 3, recorded after the checkpoint at 20
    w.close("failed", reason="killed")
    resumed = RunWriter.open(w.run_dir, step=20, flush_interval=60.0)
    resumed.close("failed", reason="killed again, before epoch 3 was redone")
    (run,) = discover_runs(tmp_path)
    assert run.best_epoch == 2 and run.best == 2.0 / 20


def test_records_read_in_pieces_meet_the_resume_at_its_record(tmp_path):
    """A reader whose chunks straddle the resume's record index still cuts there."""
    w = RunWriter.create(tmp_path, "exp", run_id="r", flush_interval=60.0)
    segment(w, 1, 55)
    w.close("failed")
    resumed = RunWriter.open(w.run_dir, step=40, flush_interval=60.0)
    segment(resumed, 41, 60)
    resumed.close()
    whole = RunReader(w.run_dir)
    for chunk in (1, 7, 64):
        pieces = RunReader(w.run_dir, chunk_records=chunk)
        for tag in whole.tags():
            np.testing.assert_array_equal(pieces.series(tag).step, whole.series(tag).step)
            np.testing.assert_array_equal(pieces.series(tag).value, whole.series(tag).value)


# -- the contract as a property ------------------------------------------------------------


def _model(segments: list[tuple[int | None, list[tuple[str, int, float]]]]) -> dict:
    """What a reader must return: the contract applied to the points as written."""
    series: dict[str, list[tuple[int, float]]] = {}
    for step, points in segments:
        if step is not None:
            floors = {}
            for tag, kept in series.items():
                series[tag] = [p for p in kept if p[0] <= step]
                if series[tag]:
                    floors[tag] = series[tag][-1][0]
        else:
            floors = {}
        for tag, at, value in points:
            if tag in floors:
                if at <= floors[tag]:
                    continue
                del floors[tag]
            series.setdefault(tag, []).append((at, value))
    return {tag: points for tag, points in series.items() if points}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), resumes=st.integers(0, 4), cut=st.integers(0, 10**6))
def test_any_sequence_of_resumes_reads_as_the_contract_says(tmp_path_factory, seed, resumes, cut):
    rng = random.Random(seed)
    root = tmp_path_factory.mktemp("runs")
    w = RunWriter.create(root, "exp", run_id="r", flush_interval=60.0)
    segments: list[tuple[int | None, list[tuple[str, int, float]]]] = []
    step = 0
    for number in range(resumes + 1):
        if number:
            w.close("failed")
            back = rng.choice([None, max(0, step - rng.randint(0, 15))])
            w = RunWriter.open(root / "exp" / "r", step=back, flush_interval=60.0)
            step = w.resumed_from if w.resumed_from is not None else -1
            segments.append((w.resumed_from, []))
        else:
            segments.append((None, []))
        for _ in range(rng.randint(0, 25)):
            step += rng.randint(1, 3)
            for tag in rng.sample(["a", "b", "c"], rng.randint(1, 3)):
                value = rng.random()
                w.scalar(tag, value, step)
                segments[-1][1].append((tag, step, value))
    w.close()
    expected = _model(segments)
    reader = RunReader(root / "exp" / "r", chunk_records=rng.randint(1, 50))
    assert set(reader.tags()) == set(expected)
    for tag, points in expected.items():
        got = reader.series(tag)
        assert got.step.tolist() == [p[0] for p in points]
        assert got.value.tolist() == [p[1] for p in points]
    assert_increasing(reader)

    # A follower that read a prefix of the files ends the same.
    run = root / "exp" / "r"
    copy = tmp_path_factory.mktemp("copy")
    events = (run / "events.jsonl").read_bytes()
    scalars = (run / "scalars.bin").read_bytes()
    (copy / "meta.json").write_bytes((run / "meta.json").read_bytes())
    at = cut % (len(scalars) // 32 + 1)
    records_before = at * 32
    # The writer writes the events describing a record before the record.
    lines = events.split(b"\n")[:-1]
    kept = []
    for line in lines:
        kept.append(line)
        event = json.loads(line)
        if event["kind"] == "resume" and event["records"] > at:
            kept.pop()
            break
    (copy / "events.jsonl").write_bytes(b"".join(line + b"\n" for line in kept))
    (copy / "scalars.bin").write_bytes(scalars[:records_before])
    follower = RunReader(copy)
    (copy / "events.jsonl").write_bytes(events)
    (copy / "scalars.bin").write_bytes(scalars)
    follower.poll()
    for tag, points in expected.items():
        assert follower.series(tag).step.tolist() == [p[0] for p in points]
