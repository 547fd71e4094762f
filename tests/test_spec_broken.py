"""Every file in tests/broken/ fails validation with the messages its header expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from dltui.checks import check_file

BROKEN = sorted((Path(__file__).parent / "broken").glob("*.toml"))


def _expectations(path: Path) -> list[str]:
    return [
        line.removeprefix("# expect:").strip()
        for line in path.read_text().splitlines()
        if line.startswith("# expect:")
    ]


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_file_reports_expected_problems(path: Path) -> None:
    result = check_file(path)
    assert not result.ok, f"{path.name} should be invalid"
    report = "\n".join(str(p) for p in result.problems)
    for expected in _expectations(path):
        assert expected in report, f"{path.name}: missing {expected!r} in:\n{report}"
    # Every problem names the file it came from.
    assert all(p.file == str(path) for p in result.problems)


def test_every_broken_file_states_an_expectation() -> None:
    assert BROKEN
    for path in BROKEN:
        assert _expectations(path), f"{path.name} has no '# expect:' line"


def test_check_command_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    from dltui.checks import check_command

    assert check_command([str(BROKEN[0])], shapes=False) == 2
    out = capsys.readouterr().out
    assert "FAIL" in out
