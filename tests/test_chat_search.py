"""Chat-aware proximity (W/3MSG, PRE/10MIN, NOT W/2H, W/THREAD ...) against the reference.

A 20,000-message generated Slack export with threads, system events, edits
and both 2023 daylight-saving changes (tests/conftest.py ``chat_corpus``);
every query's hit set must equal :func:`tests.reference_eval.evaluate_all`'s,
which writes each conversation's main line and each thread out as lists and
compares every pair of messages.
"""

from __future__ import annotations

import pytest

from discovery import candidates
from discovery.index import whoosh_engine
from discovery.matter import Matter
from discovery.query.parser import parse
from discovery.search import Searcher
from tests.reference_eval import RefMessage, evaluate_all, refs_from_matter

# (query, may the reference set be empty?)
QUERIES: list[tuple[str, bool]] = [
    # every operator, plain words on both sides
    ("libgen w/5msg permission", True),
    ("libgen w/20msg data", False),
    ("libgen pre/20msg data", False),
    ("data pre/20msg libgen", False),
    ("libgen not w/3msg permission", False),
    ("libgen not w/2msg data", False),
    ("libgen w/10min the", False),
    ("libgen w/30min the", False),
    ("libgen pre/2h the", False),
    ("pirated w/3d forgiveness", False),
    ("forgiveness not w/10min the", False),
    ("libgen w/thread (data OR model)", False),
    ("libgen not w/thread the", False),
    ("libgen w/conversation forgiveness", False),
    ("pirated not w/conversation speaker:U00000003", False),
    ("libgen w/1msg libgen", False),
    # fields on each side
    ("(speaker:u0000001* AND data) w/2msg (speaker:u0000002* AND model)", False),
    ("speaker:U00000003 w/3msg libgen", True),
    ("channel:general w/thread libgen", False),
    ("tag:hot pre/5msg forgiveness", False),
    ("libgen not w/5msg (speaker:U00000003 OR data)", False),
    ("custodian:alice w/conversation línea", False),
    # dates on a side, across the DST days in the display zone (New York)
    ("sent:2023-03-12 w/1d data", False),
    ("sent:2023-11-05 pre/2h the", False),
    ("(libgen AND after:2023-06-01) w/30msg books", False),
    # word proximity, phrases and wildcards inside a side
    ('("ask forgiveness" w/3 permission) w/5msg data', False),
    ("(forgiveness w/5 permission) w/1d the", False),
    ('"pirated books" not w/5msg libgen', False),
    ("pirat* w/30msg ask", False),
    ("(libgen OR pirated) w/10msg (forgiveness OR permission)", False),
    # nested inside booleans, and NOT sides
    ("the AND (libgen w/10msg model)", False),
    ("(libgen w/3msg model) OR (pirated w/10min books)", False),
    ("libgen AND NOT (libgen w/5msg data)", False),
    ("(libgen w/10msg data) AND NOT speaker:u0000001*", False),
    ("(NOT the) w/2msg libgen", False),
    ("libgen w/2msg (NOT the)", False),
    ("conversation:general AND (libgen w/10msg data)", False),
    # chat groups inside chat groups
    ("(libgen w/10msg data) w/2h model", False),
    ("libgen w/30msg (books w/thread data)", False),
    ("(línea OR libgen) pre/1d (books not w/1msg data)", False),
]


@pytest.fixture(scope="module")
def refs(chat_corpus: Matter) -> list[RefMessage]:
    return refs_from_matter(chat_corpus)


def test_the_corpus_has_threads_system_events_and_edits(
    chat_corpus: Matter, refs: list[RefMessage]
) -> None:
    assert sum(r.system for r in refs) > 300
    assert sum(1 for r in refs if r.thread_root) > 2000
    assert sum(1 for r in refs if len(r.versions) > 1) > 200
    assert len(QUERIES) >= 30


@pytest.mark.parametrize(("query", "may_be_empty"), QUERIES)
def test_chat_queries_equal_reference(
    chat_corpus: Matter,
    refs: list[RefMessage],
    query: str,
    may_be_empty: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = evaluate_all(parse(query), refs, chat_corpus.tz)
    for fast in (True, False):
        monkeypatch.setattr(candidates, "FAST_POSITIONAL", fast)
        monkeypatch.setattr(whoosh_engine, "USE_SIDECAR", fast)
        _, got = Searcher(chat_corpus).match(query, include_system=True)
        assert got == expected, f"fast path {'on' if fast else 'off'}"
    assert len(expected) < len(refs)
    if not may_be_empty:
        assert expected
