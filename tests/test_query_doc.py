"""Every example of docs/QUERY.md runs: its ``examples`` and ``errors`` blocks, and explain.

An ``examples`` line is ``query | message text | yes/no`` (``\\uXXXX`` escapes
in the text are read as the character); an ``errors`` line is ``query | words
the error message holds``. The expectations are the page's own.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from discovery.errors import QuerySyntaxError
from discovery.query.parser import parse
from discovery.query.verify import Doc, matches
from tests.conftest import ROOT
from tests.reference_eval import RefMessage, evaluate

DOC = (ROOT / "docs" / "QUERY.md").read_text(encoding="utf-8")
T0 = datetime(2023, 6, 1, 12, tzinfo=UTC)


def _block(kind: str) -> list[list[str]]:
    rows = []
    for body in re.findall(rf"```{kind}\n(.*?)```", DOC, re.DOTALL):
        for line in body.splitlines():
            if line.strip():
                rows.append(
                    [part.strip() for part in line.rsplit(" | ", 2 if kind == "examples" else 1)]
                )
    return rows


def _unescape(text: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


EXAMPLES = _block("examples")
ERRORS = _block("errors")


def test_the_page_has_examples_of_every_section() -> None:
    assert len(EXAMPLES) >= 60 and len(ERRORS) >= 30
    assert all(len(row) == 3 and row[2] in ("yes", "no") for row in EXAMPLES), EXAMPLES
    assert all(len(row) == 2 for row in ERRORS)


@pytest.mark.parametrize(("query", "text", "expected"), EXAMPLES)
def test_examples(query: str, text: str, expected: str) -> None:
    node = parse(query)
    message = _unescape(text)
    want = expected == "yes"
    assert matches(node, Doc.build([message], {}, T0), UTC) is want
    assert evaluate(node, RefMessage([message], {}, T0), UTC) is want


@pytest.mark.parametrize(("query", "words"), ERRORS)
def test_errors(query: str, words: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    assert words in info.value.message


def test_the_shown_error_is_what_discovery_prints() -> None:
    shown = re.search(r"\$ discovery search '(.*?)'\n(.*?)\n(.*?)\n(.*?)\n```", DOC, re.DOTALL)
    assert shown is not None
    query, first, echo, caret = shown.groups()
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    assert f"discovery: {info.value}" == f"{first}\n{echo}\n{caret}"


def test_examples_explain(acme_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from discovery.explain import explain
    from discovery.matter import open_matter
    from discovery.search import Searcher

    monkeypatch.setenv("DISCOVERY_HOME", str(acme_home))
    with open_matter("default") as m:
        for query, _, _ in EXAMPLES:
            assert explain(m, query).hits == Searcher(m).count(query), query
