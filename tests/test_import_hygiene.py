"""The domain imports no Textual, and the dashboard's start-up imports no torch.

Each check runs in a fresh interpreter, so what other tests imported cannot hide
an import (the way harlequin checks its core).
"""

from __future__ import annotations

import subprocess
import sys

DOMAIN = (
    "dltui.spec",
    "dltui.layers",
    "dltui.data",
    "dltui.runs",
    "dltui.train",
    "dltui.checks",
    "dltui.tracking",
)


def _modules_after(imports: str) -> set[str]:
    code = f"import sys\n{imports}\nprint('\\n'.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_domain_packages_do_not_import_textual() -> None:
    modules = _modules_after("\n".join(f"import {name}" for name in DOMAIN))
    assert not {m for m in modules if m == "textual" or m.startswith("textual.")}
    assert set(DOMAIN) <= modules


def test_dashboard_start_up_imports_no_torch() -> None:
    modules = _modules_after("import dltui.cli\nimport dltui.tui.app")
    assert "dltui.tui.app" in modules
    assert "torch" not in modules
    # The schema and the run reader load on a worker after the first paint.
    assert "numpy" not in modules
    assert "pydantic" not in modules


def test_schema_and_layers_import_from_two_threads_at_once() -> None:
    # The dashboard imports the schema on one worker while another (the builder's
    # shapes, a layer table) may import the layers: packages that import each other
    # deadlock in the import system then. Released together, many times over.
    code = """
import subprocess, sys
script = '''
import threading
barrier, errors = threading.Barrier(2), []
def load(name):
    barrier.wait()
    try:
        __import__(name)
    except Exception as error:
        errors.append(repr(error))
names = ("dltui.spec", "dltui.layers.registry")
threads = [threading.Thread(target=load, args=(name,)) for name in names]
for t in threads: t.start()
for t in threads: t.join()
print(errors or "ok")
'''
for _ in range(8):
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True).stdout
    print(out.strip())
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok"] * 8, result.stdout
