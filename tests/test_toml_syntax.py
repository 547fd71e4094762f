"""TOML syntax errors always name a line, and hostile TOML is refused, not crashed on."""

from __future__ import annotations

import pytest

from dltui.toml_syntax import TomlError, parse_toml, unclosed


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        # tomllib says only "(at end of document)" for each of these.
        ("a = 1\nx = [1,\n2,\n", 2, "the file ends inside the array begun on line 2"),
        ("a = 1\nx = [\n  [1, 2],\n  [3,\n", 4, "inside the array begun on line 4"),
        ('x = """abc\n\n', 1, "inside the multi-line string begun on line 1"),
        ("a = 1\nb = 'abc", 2, "inside the string begun on line 2"),
        ("a = 1\nx = { b = 1", 2, "inside the inline table begun on line 2"),
        ("a = 1\n\n[table", 3, "inside the table header begun on line 3"),
        ("a = 1\n[[layers]]\nb = 2\n[[layers", 4, "inside the table header begun on line 4"),
        ("a = 1\nb =", 2, "(at the end of the file)"),
        ("a = 1\nb =\n\n\n", 2, "Invalid value"),
        # tomllib's own line and column are kept.
        ("a = 1\nb = [1, 2] junk\n", 2, "(column 12)"),
    ],
)
def test_every_syntax_error_names_a_line(text: str, line: int, words: str) -> None:
    with pytest.raises(TomlError) as error:
        parse_toml(text, source="f.toml")
    assert error.value.line == line
    assert words in error.value.reason and "not valid TOML" in error.value.reason
    assert "(at end of document)" not in error.value.reason


def test_brackets_in_strings_and_comments_do_not_count() -> None:
    text = 'a = "[[{"\nb = \'[\'\n# [ {\nc = """\n[\n"""\nd = [\n'
    assert unclosed(text) == ("array", 7)
    assert unclosed('a = "x\\"[" \nb = 1\n') is None
    assert unclosed('a = """x""""\nb = [') == ("array", 2)


def test_nesting_past_the_limit_is_refused_with_its_line() -> None:
    with pytest.raises(TomlError) as error:
        parse_toml("a = 1\nb = 2\nx = " + "[" * 600, source="f.toml")
    assert error.value.line == 3 and "nested more than 64 levels deep" in error.value.reason
    nested = "x = " + "{a = " * 100 + "1" + "}" * 100
    with pytest.raises(TomlError, match="nested more than 64"):
        parse_toml(nested, source="f.toml")
    assert parse_toml("x = " + "[" * 10 + "]" * 10, source="f.toml") == {"x": [[[[[[[[[[]]]]]]]]]]}


def test_a_number_too_long_for_python_is_an_error_not_a_crash() -> None:
    # int() refuses more than 4300 digits with a ValueError that tomllib lets through.
    with pytest.raises(TomlError) as error:
        parse_toml("a = 1\nb = 1" + "0" * 5000 + "\n", source="f.toml")
    assert error.value.line == 2 and "a number too long to read" in error.value.reason
