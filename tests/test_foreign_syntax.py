"""Syntax of other search languages is refused with a caret and a hint, never read as words.

dtSearch, Relativity, Lucene/Elasticsearch, KQL, Westlaw and Lexis forms that
are not ours: each is a syntax error (exit 2, a caret under the form) whose
message names our form. The forms we do support (full-width operators,
typographic quotes, dtSearch's ``word~``) read as documented.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from discovery.cli import app
from discovery.errors import QuerySyntaxError
from discovery.query.ast import Near, Not, Or, Phrase, Word
from discovery.query.parser import parse

# (query, 0-based column of the caret, words the hint must contain)
REFUSED: list[tuple[str, int, str]] = [
    ("apple NEAR/5 pear", 6, "W/N"),
    ("apple near/5 pear", 6, "W/N"),
    ("apple NEAR pear", 6, "W/N"),
    ("apple NEAR(5) pear", 6, "W/N"),
    ("apple ONEAR/5 pear", 6, "PRE/N"),
    ("apple /5 pear", 6, "W/5"),
    ("apple /s pear", 6, "W/N"),
    ("apple /p pear", 6, "W/N"),
    ("apple w/s pear", 6, "W/N with a number of words"),
    ("apple w/p pear", 6, "W/N with a number of words"),
    ("apple w/seg pear", 6, "W/N with a number of words"),
    ("apple pre/s pear", 6, "PRE/N with a number of words"),
    ("apple wi/5 pear", 6, "W/N"),
    ("apple adj5 pear", 6, "W/N"),
    ("apple ADJ pear", 6, "PRE/N"),
    ("apple +5 pear", 6, "PRE/N"),
    ("apple +s pear", 6, "PRE/N"),
    ("+apple pear", 0, "AND"),
    ("apple -pear", 6, "NOT"),
    ("-libgen", 0, "NOT libgen"),
    ("apple -", 6, "NOT"),
    ("!apple", 0, "NOT"),
    ("negligen!", 0, "negligen*"),
    ("apple && pear", 6, "AND"),
    ("apple & pear", 6, "AND"),
    ("apple || pear", 6, "OR"),
    ("apple | pear", 6, "OR"),
    ("apple %  pear", 6, "AND NOT"),
    ("apple& pear", 5, "OR"),
    ("#smith", 0, "OR"),
    ("##199[0-9]", 0, '"##199[0-9]"'),
    ("@macro", 0, "the name"),
    ("apple^2", 5, "every term counts the same"),
    ("apple:5", 0, "every term counts the same"),
    ('"a b"~5', 5, "W/N"),
    ("apple~2", 0, "ba%nana"),
    ("apple~0.8", 0, "ba%nana"),
    ("apple AndAny pear", 6, "AND"),
    ("name contains smith", 5, "speaker:smith"),
    ("NAME CONTAINS smith", 5, "speaker:smith"),
    ("[1 TO 5]", 0, "12~~24"),
    ("{1 TO 5}", 0, "12~~24"),
    ("date>2020", 4, "after:/before:"),
    ("price<100", 5, "12~~24"),
    ("/ap.*le/", 0, '"##199[0-9]"'),
    ("FORMSOF(INFLECTIONAL, apply)", 0, "apply~"),
    ("apple XRANK pear", 6, "AND"),
    ("ATLEAST3(apple)", 0, "AND"),
    ("apple \\* pear", 6, "quote"),
    ("title:apple", 0, "known fields"),
    ("_exists_:title", 0, "known fields"),
    ("apple BUT NOT pear", 6, "AND NOT"),
    ("apple SAME pear", 6, "W/N"),
    ("apple WITHIN 5 pear", 6, "W/N"),
    ("apple ~ pear", 6, "apply~"),
    ("apple~~", 0, "12~~24"),
    ("apple w/ pear", 6, "W/5"),
    ("apple NOT/5 pear", 6, "NOT W/5"),
    ("apple AND/3 pear", 6, "W/3"),
    ("speaker=dana", 0, "speaker:dana"),
    ("author=smith", 0, "a field is NAME:value (speaker:"),
    ("kind=attachment", 0, "a field is NAME:value (e.g. kind:attachment)"),
    ("NOT b w/5 c", 0, "NOT (a W/5 b)"),
    ("a AND NOT b w/5 c", 6, "NOT (a W/5 b)"),
]


def test_at_least_forty_forms_are_listed() -> None:
    assert len({q for q, _, _ in REFUSED}) >= 40


@pytest.mark.parametrize(("query", "column", "hint"), REFUSED)
def test_refused_with_a_caret_and_a_hint(query: str, column: int, hint: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    assert info.value.column == column, str(info.value)
    assert hint in info.value.message, info.value.message
    assert info.value.caret_lines().splitlines()[1].startswith(" " * column + "^")


@pytest.fixture(scope="module")
def acme_copy(acme_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("foreign") / "home"
    shutil.copytree(acme_home, home)
    return home


def test_the_cli_exits_2_with_a_caret_for_every_form(
    acme_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCOVERY_HOME", str(acme_copy))
    runner = CliRunner()
    for query, column, _ in REFUSED:
        result = runner.invoke(app, ["search", "--", query])
        assert result.exit_code == 2, (query, result.output)
        lines = result.stderr.splitlines()
        assert lines[-1].startswith(" " * column + "^"), (query, result.stderr)
        assert result.stdout == ""


# Supported, with the meaning docs/QUERY.md gives them.
SUPPORTED = [
    ("ＮＯＴ libgen", Not(Word("libgen"))),
    ("apple ｗ／５ pear", Near(Word("apple"), Word("pear"), 5)),
    ("pirat＊", Word("pirat*")),
    ("book？", Word("book?")),
    ("（apple ＯＲ pear）", Or((Word("apple"), Word("pear")))),
    ("„ask forgiveness“", Phrase(("ask", "forgiveness"))),
    ("«ask forgiveness»", Phrase(("ask", "forgiveness"))),
    ("‚ask forgiveness‘", Phrase(("ask", "forgiveness"))),
    ("“ask forgiveness”", Phrase(("ask", "forgiveness"))),
    ("＂ask forgiveness＂", Phrase(("ask", "forgiveness"))),
    ("apply~", Word("apply~")),
    ("ba%nana", Word("ba%nana")),
    ("12~~24", Word("12~~24")),
    ("don’t", Phrase(("don", "t"))),
]


@pytest.mark.parametrize(("query", "expected"), SUPPORTED)
def test_supported_forms_read_as_documented(query: str, expected: object) -> None:
    assert parse(query) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["search", "-libgen"],
        ["search", "--count", "-libgen", "--matter", "default"],
        ["search", "-libgen", "-m", "default"],
        ["export", "-libgen", "--out", "-"],
        ["tag", "-libgen", "--add", "hot"],
        ["explain", "-libgen"],
    ],
)
def test_a_dash_word_typed_as_the_query_is_refused_with_our_caret(
    acme_copy: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    # typed without `--`, as a paralegal would: not read as an unknown option -l
    monkeypatch.setenv("DISCOVERY_HOME", str(acme_copy))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "-word is not our syntax: use NOT" in result.stderr
    assert result.stderr.splitlines()[-2:] == ["-libgen", "^^^^^^^"]
