"""dltui.tracking: the logging API for people's own scripts."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import dltui.tracking
from dltui.runs import RunReader, discover_runs, request_stop


def test_log_auto_increments_the_step(tmp_path):
    with dltui.tracking.init("script", root=tmp_path, config={"lr": 0.01}) as run:
        run.log({"train/loss": 1.0, "lr": 0.01})
        run.log({"train/loss": 0.5})
        run.log({"val/loss": 0.7}, step=10, epoch=1)
        run.log({"train/loss": 0.25})
        assert run.step == 12
        run.event("sample", epoch=1, text="hello")
    reader = RunReader(run.run_dir)
    assert reader.series("train/loss").step.tolist() == [0, 1, 11]
    assert reader.series("lr").step.tolist() == [0]
    assert reader.series("val/loss").epoch.tolist() == [1.0]
    assert reader.latest("sample")["text"] == "hello"
    assert reader.meta["config"] == {"lr": 0.01} and reader.meta["experiment"] == "script"
    assert [e["status"] for e in reader.events_of("status")] == ["starting", "running", "finished"]
    assert reader.status.state == "finished"


def test_exception_inside_with_records_failed_and_traceback(tmp_path):
    with pytest.raises(ZeroDivisionError), dltui.tracking.init("x", root=tmp_path) as run:
        run.log({"a": 1.0})
        1 / 0  # noqa: B018
    reader = RunReader(run.run_dir)
    assert reader.status.state == "failed"
    assert reader.status.reason == "ZeroDivisionError: division by zero"
    assert "1 / 0" in reader.latest("status")["traceback"]
    assert reader.series("a").value.tolist() == [1.0]


def test_finish_is_idempotent_and_stop_requests_are_seen(tmp_path):
    run = dltui.tracking.init("x", root=tmp_path)
    assert not run.stop_requested()
    request_stop(run.run_dir)
    assert run.stop_requested()
    run.finish("stopped", reason="asked to stop")
    run.finish()
    assert RunReader(run.run_dir).status.state == "stopped"


SCRIPT = textwrap.dedent(
    """
    import sys
    import dltui.tracking

    run = dltui.tracking.init("exits", root=sys.argv[1])
    for step in range(1000):
        run.log({"train/loss": 1.0 / (step + 1)})
    if sys.argv[2] == "raise":
        raise RuntimeError("the script broke")
    """
)


@pytest.mark.parametrize(("how", "state"), [("return", "finished"), ("raise", "failed")])
def test_script_that_exits_without_finish_keeps_its_data(tmp_path, how, state):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), how], capture_output=True, text=True
    )
    assert result.returncode == (0 if how == "return" else 1)
    (info,) = discover_runs(tmp_path)
    assert info.state == state
    reader = RunReader(info.path)
    np.testing.assert_array_equal(reader.series("train/loss").step, np.arange(1000))
    if how == "raise":
        assert reader.status.reason == "RuntimeError: the script broke"
        assert "the script broke" in reader.latest("status")["traceback"]


def test_importing_tracking_does_not_import_torch_or_textual():
    code = (
        "import sys, dltui.tracking, dltui.runs; "
        "print('torch' in sys.modules, 'textual' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_log_grad_norms_per_child_and_total(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    model(torch.randn(16, 4)).pow(2).mean().backward()
    with dltui.tracking.init("grads", root=tmp_path) as run:
        run.log({"train/loss": 1.0}, step=5)
        norms = run.log_grad_norms(model)
        run.log_grad_norms(model, step=9, prefix="g/")
    expected = {
        "grad_norm/0": float(torch.cat([p.grad.flatten() for p in model[0].parameters()]).norm()),
        "grad_norm/2": float(torch.cat([p.grad.flatten() for p in model[2].parameters()]).norm()),
        "grad_norm/total": float(torch.cat([p.grad.flatten() for p in model.parameters()]).norm()),
    }
    assert norms == pytest.approx(expected, rel=1e-5)
    reader = RunReader(run.run_dir)
    assert reader.series("grad_norm/total").step.tolist() == [6]  # the next log() step
    assert reader.series("g/total").step.tolist() == [9]
    assert "grad_norm/1" not in reader.tags()  # ReLU has no parameters


def test_log_grad_norms_does_not_load_the_trainer(tmp_path):
    # A script recording its own gradient norms needs torch and the norms, not the
    # trainer's loop, data loaders and model summary.
    pytest.importorskip("torch")
    code = f"""
import sys, torch, dltui.tracking
model = torch.nn.Sequential(torch.nn.Linear(3, 2))
model(torch.randn(4, 3)).sum().backward()
with dltui.tracking.init("grads", root={str(tmp_path)!r}) as run:
    run.log_grad_norms(model)
print(" ".join(m for m in sys.modules if m.startswith("dltui.")))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    trainer = {m for m in result.stdout.split() if m.startswith(("dltui.train.", "dltui.data"))}
    assert trainer == {"dltui.train.grad_norms"}
