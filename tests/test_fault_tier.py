"""The fault tier: what must stay true when trainers are killed and run files are hostile.

1. A real (small, fast) training run is killed with SIGKILL at seeded random
   moments — mid-step, mid-flush, mid-checkpoint — and resumed each time. After
   the last resume: nothing recorded up to each checkpoint was lost, every tag's
   steps strictly increase, each epoch is recorded once, no temporary file is
   left, the final checkpoint loads with ``weights_only`` and holds the very
   weights an uninterrupted run ends with, and a reader that followed the whole
   time reads what a fresh one does.
2. Torn, truncated, garbage, deeply nested, huge and hostile-text versions of
   every run file (meta.json, status.json, events.jsonl, scalars.bin,
   output.log), generated with hypothesis, are fed to the reader, discovery and
   resume: no crash, no traceback, nothing dropped, the file named.

The figures of one run of this tier are in the README ("Reliability").
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_train import SPIRALS, write

from dltui.cli import main
from dltui.runs import RunReader, RunWriter, scan_runs
from dltui.runs.files import RunFileError

# -- 1. kill -9 at random moments, then resume ----------------------------------------------

KILLS = 5
SEED = 20_261_123
EPOCHS = 60

TRAIN = textwrap.dedent(
    """
    import sys
    import dltui.train.checkpoint as policy
    # last.pt at every epoch's end (not at most every 10 s): each resume has moved on,
    # and kills land in checkpoint writes too.
    policy.CHECKPOINT_INTERVAL = 0.0
    policy.CHECKPOINT_COST_RATIO = 0.0
    from dltui.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def experiment(tmp_path: Path) -> Path:
    text = SPIRALS.format(name="tier", epochs=EPOCHS, samples=1000, extra="")
    return write(tmp_path, text.replace("batch_size = 32", "batch_size = 16"), "tier.toml")


def start(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", TRAIN, "run", *args, "--quiet", "--threads", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def checkpoint_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns)


def kept_up_to(reader: RunReader, step: int) -> dict[str, tuple[list[int], list[float]]]:
    result = {}
    for tag in reader.tags():
        series = reader.series(tag)
        keep = series.step <= step
        result[tag] = (series.step[keep].tolist(), series.value[keep].tolist())
    return result


@pytest.mark.slow
def test_killed_at_random_moments_and_resumed_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    exp = experiment(tmp_path)
    run = tmp_path / "runs" / "tier" / "r"
    last = run / "checkpoints" / "last.pt"
    follower: RunReader | None = None
    snapshots: list[tuple[int, dict[str, tuple[list[int], list[float]]]]] = []
    kills = 0
    args = [str(exp), "--run-dir", str(run)]
    while kills < KILLS:
        before = checkpoint_identity(last)
        process = start(args)
        try:
            deadline = time.monotonic() + 90
            # Kill only once this process has written a checkpoint of its own.
            while checkpoint_identity(last) in (before, None) and process.poll() is None:
                assert time.monotonic() < deadline, "no checkpoint in time"
                time.sleep(0.005)
            if process.poll() is not None:
                break  # it finished first
            time.sleep(rng.uniform(0.0, 0.4))
            process.send_signal(signal.SIGKILL)
            process.wait()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode != -signal.SIGKILL:
            break  # it finished before the signal landed
        kills += 1
        step = torch.load(last, weights_only=True)["step"]
        seen = RunReader(run)
        assert seen.bad_lines == 0
        snapshots.append((step, kept_up_to(seen, step)))
        if follower is None:
            follower = RunReader(run)
        follower.poll()
        args = ["--resume", str(run)]
    final = start(["--resume", str(run)])
    _, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    assert kills >= 3, "the run was too quick to kill"

    reader = RunReader(run)
    assert reader.bad_lines == 0 and reader.status.status == "finished"
    for tag in reader.tags():
        steps = reader.series(tag).step
        assert np.all(np.diff(steps) > 0), (tag, steps.tolist())
    assert [e["epoch"] for e in reader.events_of("epoch")] == list(range(1, EPOCHS + 1))
    lost = 0
    for step, recorded in snapshots:
        now = kept_up_to(reader, step)
        for tag, points in recorded.items():
            lost += points != now.get(tag)
    assert lost == 0, "records up to a checkpoint were lost"
    assert sorted(p.name for p in run.rglob("*.tmp")) == []
    state = torch.load(last, weights_only=True)
    assert state["epoch"] == EPOCHS
    if follower is not None:
        follower.poll()
        assert follower.tags() == reader.tags()
        for tag in reader.tags():
            np.testing.assert_array_equal(follower.series(tag).step, reader.series(tag).step)
            np.testing.assert_array_equal(follower.series(tag).value, reader.series(tag).value)
        assert follower.events == reader.events

    # The same experiment trained without interruption ends with the same weights.
    threads = torch.get_num_threads()
    try:
        straight = ["run", str(exp), "--runs", str(tmp_path / "straight"), "--quiet"]
        assert main([*straight, "--threads", "1", "--name", "s"]) == 0
    finally:
        torch.set_num_threads(threads)
    reference = torch.load(tmp_path / "straight" / "tier" / "s" / "checkpoints" / "last.pt",
                           weights_only=True)  # fmt: skip
    assert reference["step"] == state["step"]
    for key, tensor in reference["model"].items():
        assert torch.equal(tensor, state["model"][key]), key
    print(f"\nfault tier: {kills} kills survived, records lost: {lost}")


# -- 2. hostile versions of every run file --------------------------------------------------

RUN_FILES = ("meta.json", "status.json", "events.jsonl", "scalars.bin", "output.log")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
ESCAPES = ["\x1b]2;pwned\x07", "\x1b[2J\x1b[H", "\x1b[31m", "\x9b", "\r", "\u202e", "\x00"]
TRIED = dict.fromkeys(RUN_FILES, 0)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template")
    w = RunWriter.create(root, "exp", run_id="r", flush_interval=60.0)
    w.status("running", step=0, epoch=0.0)
    for step in range(1, 41):
        w.scalars({"train/loss": 1.0 / step, "lr": 0.01}, step, epoch=step / 10)
        if step % 10 == 0:
            w.event("epoch", epoch=step // 10, step=step, lr=0.01)
            w.event("early_stopping", epoch=step // 10, step=step, monitor="val/loss",
                    best=0.5, best_epoch=1, mode="min")  # fmt: skip
    w.close("stopped", reason="asked")
    (w.run_dir / "output.log").write_text("epoch 1/4 loss 0.9\nepoch 2/4\r50%\rdone\n")
    return w.run_dir


def hostile_text() -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(ESCAPES), st.text(max_size=8)), max_size=6).map(
        "".join
    )


def damaged(original: bytes, name: str) -> st.SearchStrategy[bytes]:
    """Torn, truncated, garbage, deeply nested, huge, hostile and bit-flipped contents."""
    torn = st.integers(0, max(0, len(original) - 1)).map(lambda n: original[:n])
    garbage = st.binary(max_size=3000)
    openers = st.sampled_from([b"[", b'{"a":', b'{"kind":"log","x":['])
    deep = st.tuples(openers, st.integers(500, 300_000)).map(lambda t: t[0] * t[1])
    at = st.integers(0, max(0, len(original) - 1))
    flips = st.lists(st.tuples(at, st.integers(0, 255)), min_size=1, max_size=8)
    flipped = flips.map(lambda chosen: _flip(original, chosen))
    huge = st.sampled_from([5 * 2**20, 17 * 2**20]).map(lambda n: _huge(original, name, n))
    text = hostile_text().map(lambda t: _hostile(original, name, t))
    return st.one_of(torn, st.just(b""), garbage, deep, flipped, huge, text)


def _flip(original: bytes, flips: list[tuple[int, int]]) -> bytes:
    data = bytearray(original)
    for at, value in flips:
        if data:
            data[at] = value
    return bytes(data)


def _huge(original: bytes, name: str, size: int) -> bytes:
    if name.endswith(".json"):
        return b'{"format": 1, "pad": "' + b"x" * size + b'"}'
    if name == "scalars.bin":
        return original * (size // max(1, len(original)) + 1)
    return original + b'{"kind": "log", "message": "' + b"y" * size + b'"}\n' + original[-200:]


def _hostile(original: bytes, name: str, text: str) -> bytes:
    if name == "meta.json":
        meta = json.loads(original)
        meta.update(experiment=text, run_id=text, device=text, host=text)
        return json.dumps(meta).encode()
    if name == "status.json":
        status = json.loads(original)
        status.update(status=text, reason=text, host=text)
        return json.dumps(status).encode()
    if name == "events.jsonl":
        lines = [{"kind": text or "log", "time": 1.0, "message": text},
                 {"kind": "early_stopping", "monitor": text, "best": 0.1, "step": 1},
                 {"kind": "tag", "id": 9, "name": text}]  # fmt: skip
        return original + b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    if name == "output.log":
        return text.encode("utf-8", "surrogatepass") + b"\n" + original
    return original + text.encode("utf-8", "surrogatepass")


def _assert_safe_text(value: object) -> None:
    if isinstance(value, str):
        assert not _CONTROL.search(value), repr(value)


@pytest.mark.parametrize("name", RUN_FILES)
def test_hostile_run_files_never_break_the_reader_discovery_or_resume(
    template: Path, tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    original = (template / name).read_bytes()

    slow = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]

    @settings(max_examples=60, deadline=None, suppress_health_check=slow)
    @given(content=damaged(original, name))
    def check(content: bytes) -> None:
        TRIED[name] += 1
        root = tmp_path_factory.mktemp("hostile")
        run = root / "exp" / "r"
        shutil.copytree(template, run)
        (run / name).write_bytes(content)
        reader = RunReader(run)
        reader.poll()
        for tag in reader.tags():
            series = reader.series(tag)
            assert len(series.step) == len(series.value)
        status = reader.status
        for text in (status.status, status.reason, status.host):
            _assert_safe_text(text)
        reader.output_tail(20)
        reader.read_output()
        for problem in reader.problems:
            assert any(file in problem for file in RUN_FILES), problem
        scan = scan_runs(root)
        assert [run_info.path for run_info in scan.runs] == [run]  # never dropped
        (info,) = scan.runs
        for text in (info.experiment, info.run_id, info.reason, info.device, info.monitor):
            _assert_safe_text(text)
        if info.broken:
            assert name in (info.reason or ""), info.reason
        try:
            writer = RunWriter.open(run, flush_interval=60.0)
        except (OSError, ValueError, RunFileError) as error:
            assert any(file in str(error) for file in RUN_FILES), str(error)
        else:
            writer.scalar("train/loss", 0.5, (writer.resumed_from or 0) + 1)
            writer.close()
            again = RunReader(run)
            assert len(again.series("train/loss")) >= 1
        shutil.rmtree(root)

    check()


def test_the_hostile_files_tried(request: pytest.FixtureRequest) -> None:
    """Runs last in this module (when the fuzz tests ran in this process): the figures."""
    if not all(TRIED.values()):
        pytest.skip("the fuzz tests ran elsewhere (another xdist worker)")
    total = sum(TRIED.values())
    print(f"\nfault tier: {total} hostile run files tried ({TRIED})")
    assert total >= 5 * 50
