"""The README's promises hold: its snippets are valid, its test command is marked."""

from __future__ import annotations

import re
from pathlib import Path

from dltui.spec import parse_experiment

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_experiment_snippets_are_valid() -> None:
    snippets = re.findall(r"```toml\n(.*?)```", README, flags=re.S)
    experiments = [snippet for snippet in snippets if "[model" in snippet]
    assert experiments
    for snippet in experiments:
        parse_experiment(snippet, file="README.md")


def test_readme_keymap_snippet_is_valid(tmp_path: Path) -> None:
    from dltui.tui.keymap import binding_ids, load_keymap

    snippets = re.findall(r"```toml\n(.*?)```", README, flags=re.S)
    (snippet,) = [
        s for s in snippets if "[model" not in s and "[sweep" not in s and "logdirs" not in s
    ]
    path = tmp_path / "keymap.toml"
    path.write_text(snippet, encoding="utf-8")
    mapping, problems = load_keymap(path, binding_ids())
    assert len(mapping) == 3 and not problems


def test_readme_marks_the_test_command_ci_runs() -> None:
    after = README.split("<!-- test-command -->", 1)[1]
    command = next(line for line in after.splitlines() if line and not line.startswith("```"))
    assert "pytest" in command and "torch==2.13.0" in command


def test_readme_settings_snippet_is_valid(tmp_path: Path) -> None:
    from dltui.settings import load_settings

    snippets = re.findall(r"```toml\n(.*?)```", README, flags=re.S)
    (snippet,) = [s for s in snippets if s.startswith("logdirs")]
    path = tmp_path / "settings.toml"
    path.write_text(snippet, encoding="utf-8")
    settings = load_settings(path)
    assert settings.logdirs and not settings.problems
