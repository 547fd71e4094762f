"""The domain imports no Textual, and the dashboard's start-up imports no torch.

Each check runs in a fresh interpreter, so what other tests imported cannot hide
an import (the way harlequin checks its core).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOMAIN = (
    "dltui.spec",
    "dltui.layers",
    "dltui.data",
    "dltui.runs",
    "dltui.train",
    "dltui.checks",
    "dltui.tracking",
    "dltui.model_summary",
    "dltui.run_format",
    "dltui.series",
    "dltui.report",
    "dltui.sweep",
    "dltui.logs",
    "dltui.builder",
)

PACKAGE = Path(__file__).resolve().parent.parent / "dltui"
NOT_DOMAIN = ("dltui.tui", "dltui.cli", "dltui.__main__")
"""The dashboard, and the entry points that start it (they import it lazily)."""


def domain_modules() -> list[str]:
    """Every module of the package outside the dashboard, found from the files."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if not name.startswith(tuple(f"{n}." for n in NOT_DOMAIN)) and name not in NOT_DOMAIN:
            names.append(name)
    return names


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


def test_no_domain_module_imports_the_dashboard() -> None:
    # Every module, not only the packages: a submodule that reaches into dltui.tui for
    # a helper (as the report once did for decimation) is found here.
    names = domain_modules()
    assert "dltui.report.curves" in names and "dltui.tui.app" not in names
    modules = _modules_after(
        "import importlib\n" + "".join(f"importlib.import_module({name!r})\n" for name in names)
    )
    assert set(names) <= modules
    assert not {m for m in modules if m == "dltui.tui" or m.startswith("dltui.tui.")}
    assert not {m for m in modules if m == "textual" or m.startswith("textual.")}


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
