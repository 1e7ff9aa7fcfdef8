"""The whole search path (index candidates, store fields, verifier) against independent references.

A 20,000-message synthetic Slack export is ingested through the real
importer; every query's hit set must equal the naive reference evaluator's
(tests/reference_eval.py) over the same stored texts, and SQLite FTS5's where
FTS5 means the same thing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest

from discovery import candidates, columns, fewhits
from discovery.index import sidecar, whoosh_engine
from discovery.ingest import ingest
from discovery.matter import Matter, open_matter
from discovery.query.parser import parse
from discovery.search import Searcher
from discovery.synth import generate_slack_export
from tests.reference_eval import RefMessage, evaluate, refs_from_matter

N_MESSAGES = 20_000

# (query, may the reference set be empty?)
QUERIES: list[tuple[str, bool]] = [
    ("libgen", False),
    ("LIBGEN", False),
    ("linea", False),
    ("Línea", False),
    ('"ask forgiveness"', False),
    ("ask forgiveness", False),
    ('"ask for permission"', False),
    ('"need to ask for permission"', False),
    ("forgiveness w/5 permission", False),
    ("forgiveness W/1 permission", True),
    ("forgiveness w/2 permission", False),
    ("forgiveness pre/4 permission", False),
    ("permission pre/4 forgiveness", True),
    ('"ask forgiveness" w/3 permission', False),
    ('"pirat* books"', False),
    ("pirat*", False),
    ("book?", False),
    ("data AND model", False),
    ("data and model", False),
    ("data OR libgen", False),
    ("data AND NOT model", False),
    ("data NOT model", False),
    ("books AND model OR libgen AND data", False),
    ("books and model or libgen and data", False),
    ("NOT the", False),
    ("data not w/3 model", False),
    ("(data OR books) w/2 model", False),
    ("model w/2 (data OR books)", False),
    ('"of the" pre/5 data', False),
    ("data w/5 model w/5 the", False),
    ('"not" w/1 permission', False),
    ("th* w/1 data", False),
    ("speaker:u0000001*", False),
    ("speaker:U00000003 AND data", False),
    ("conversation:general AND data", False),
    ("channel:legal OR libgen", False),
    ("custodian:alice AND books", False),
    ("sent:2023-03-12 AND the", False),
    ("sent:2023-03-01..2023-03-31 AND books", False),
    ("after:2023-11-01 AND data", False),
    ("before:2023-02-01", False),
    ("tag:hot", False),
    ("tag:hot AND NOT data", False),
    ('(libgen OR "pirated books") AND NOT speaker:u0000001*', False),
]

# The same questions in FTS5's syntax (unicode61 with diacritics removed tokenises
# and folds these texts as discovery does).
FTS5: dict[str, str] = {
    "libgen": "libgen",
    "linea": "linea",
    '"ask forgiveness"': '"ask forgiveness"',
    '"ask for permission"': '"ask for permission"',
    "forgiveness w/5 permission": "NEAR(forgiveness permission, 4)",
    "forgiveness w/2 permission": "NEAR(forgiveness permission, 1)",
    "pirat*": "pirat*",
    "data AND model": "data AND model",
    "data OR libgen": "data OR libgen",
    "data AND NOT model": "data NOT model",
    "books AND model OR libgen AND data": "(books AND model) OR (libgen AND data)",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Matter, list[RefMessage]]]:
    base = tmp_path_factory.mktemp("engine")
    export = base / "export"
    generate_slack_export(export, N_MESSAGES, seed=11)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISCOVERY_HOME", str(base / "home"))
        mp.setenv("DISCOVERY_TZ", "America/New_York")  # date queries cross the DST change
        matter = open_matter("engine", create=True)
        report = ingest(matter, [export], custodian="Alice Example")
        assert report.added == N_MESSAGES
        matter.store.tag(range(5, N_MESSAGES, 97), "hot")
        refs = refs_from_matter(matter)
        yield matter, refs
        matter.close()


def _reference(matter: Matter, refs: list[RefMessage], query: str) -> set[int]:
    node = parse(query)
    return {i for i, r in enumerate(refs, 1) if evaluate(node, r, matter.tz)}


def _fast_path(monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    """Force the occurrence-array path (sidecar look-ups, discovery.positional) on or off."""
    monkeypatch.setattr(candidates, "FAST_POSITIONAL", on)
    monkeypatch.setattr(whoosh_engine, "USE_SIDECAR", on)


PATHS = {
    # every text query the plain-Python path can answer, answered there, its positions
    # read from each word's keys in a row, or bisected at each candidate
    "few": (True, 10**9, 10**9),
    "few-bisected": (True, 10**9, 0),
    "arrays": (True, 0, 12),  # numpy over the sidecar's arrays
    "verifier": (False, 0, 12),  # Whoosh's postings, each candidate checked by the verifier
}
"""Each way to a hit set: (occurrence arrays on, :data:`discovery.fewhits.LIMIT`,
:data:`discovery.index.sidecar.SCAN_RATIO`)."""


def _path(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    on, limit, ratio = PATHS[name]
    _fast_path(monkeypatch, on)
    monkeypatch.setattr(fewhits, "LIMIT", limit)
    monkeypatch.setattr(fewhits, "WITH_NUMPY", True)  # this process has numpy
    monkeypatch.setattr(sidecar, "SCAN_RATIO", ratio)
    monkeypatch.setattr(whoosh_engine, "FEW_KEYS", limit)
    monkeypatch.setattr(whoosh_engine, "FEW_PROBES", limit)


def _answered_by_few(matter: Matter, query: str) -> bool:
    searcher = Searcher(matter)
    planner = searcher.planner()
    return fewhits.matching_ids(searcher.prepare(query, planner), planner) is not None


@pytest.mark.slow
@pytest.mark.parametrize(("query", "may_be_empty"), QUERIES)
def test_hits_equal_reference(
    corpus: tuple[Matter, list[RefMessage]],
    query: str,
    may_be_empty: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through the plain-Python path, the occurrence arrays and the verifier, each forced
    in turn: the same set, the reference's. The plain-Python path answers every
    text-only query (no field, date, bare NOT or first/last word), and only those."""
    matter, refs = corpus
    expected = _reference(matter, refs, query)
    for name in PATHS:
        _path(monkeypatch, name)
        _, got = Searcher(matter).match(query, include_system=True)
        assert got == expected, f"{name} path"
    _path(monkeypatch, "few")
    assert _answered_by_few(matter, query) == candidates.array_shape(parse(query), chat=False)
    assert len(expected) < len(refs)
    if not may_be_empty:
        assert expected


@pytest.fixture(scope="module")
def fts(
    corpus: tuple[Matter, list[RefMessage]], tmp_path_factory: pytest.TempPathFactory
) -> sqlite3.Connection:
    """FTS5 over the same texts; an edited message's earlier text in a column of its own,
    so that, as in discovery, no phrase spans two versions."""
    matter, _ = corpus
    db = sqlite3.connect(tmp_path_factory.mktemp("fts") / "fts.sqlite")
    db.execute(
        'CREATE VIRTUAL TABLE t USING fts5(body, earlier, tokenize="unicode61 remove_diacritics 2")'
    )
    rows = [
        (i, text, " ".join(json.loads(versions)) if versions else "")
        for i, text, versions in matter.store.iter_index_rows(0)
    ]
    assert len(rows) == N_MESSAGES
    assert all(len(json.loads(v)) == 1 for _, _, v in matter.store.iter_index_rows(0) if v)
    assert sum(1 for r in rows if r[2]) > 100  # edited messages are part of the comparison
    db.executemany("INSERT INTO t (rowid, body, earlier) VALUES (?, ?, ?)", rows)
    return db


@pytest.mark.slow
@pytest.mark.parametrize("query", sorted(FTS5))
def test_hits_equal_fts5(
    corpus: tuple[Matter, list[RefMessage]], fts: sqlite3.Connection, query: str
) -> None:
    matter, _ = corpus
    expected = {r[0] for r in fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (FTS5[query],))}
    _, got = Searcher(matter).match(query, include_system=True)
    assert got == expected
    assert expected


def test_system_events_are_left_out_unless_asked(corpus: tuple[Matter, list[RefMessage]]) -> None:
    matter, _ = corpus
    searcher = Searcher(matter)
    system = matter.store.system_ids()
    everything = searcher.match("NOT zzzzunused", include_system=True)[1]
    assert searcher.match("NOT zzzzunused")[1] == everything - system


def test_top_hits_and_counts_agree(corpus: tuple[Matter, list[RefMessage]]) -> None:
    matter, _ = corpus
    searcher = Searcher(matter)
    result = searcher.search('"ask forgiveness"', limit=5, sort="time")
    assert result.total == searcher.count('"ask forgiveness"')
    assert len(result.hits) == 5
    times = [h.message.sent_at for h in result.hits]
    assert times == sorted(times)
    for hit in result.hits:
        marked = [hit.snippet.text[s:e].lower() for s, e in hit.snippet.highlights]
        assert marked == ["ask", "forgiveness"] * (len(marked) // 2)
        assert marked


POSITIONAL = [q for q, _ in QUERIES if any(k in q.lower() for k in ('"', "w/", "pre/"))]


@pytest.mark.slow
@pytest.mark.parametrize("selective", [1, 10**9], ids=["texts", "index-positions"])
def test_both_position_sources_equal_reference(
    corpus: tuple[Matter, list[RefMessage]], selective: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Phrases and proximity are checked on re-tokenised texts or on index positions;
    force each path in turn."""
    matter, refs = corpus
    _fast_path(monkeypatch, False)
    monkeypatch.setattr(candidates, "SELECTIVE", selective)
    searcher = Searcher(matter)
    for query in POSITIONAL:
        assert searcher.match(query, include_system=True)[1] == _reference(matter, refs, query)


@pytest.mark.slow
def test_the_plain_python_path_stands_aside_once_numpy_is_imported(
    corpus: tuple[Matter, list[RefMessage]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its gain is numpy's import: a process that has numpy (this one) takes the arrays.
    A shape it cannot answer is told before any occurrence is read."""
    matter, _ = corpus
    _path(monkeypatch, "few")
    assert _answered_by_few(matter, "libgen")
    monkeypatch.setattr(fewhits, "WITH_NUMPY", False)
    assert not _answered_by_few(matter, "libgen")
    monkeypatch.setattr(fewhits, "WITH_NUMPY", True)

    def unread(*args: object) -> None:
        raise AssertionError("occurrences read for a query the path cannot answer")

    monkeypatch.setattr(whoosh_engine.WhooshEngine, "few_occurrences", unread)
    for query in ('"pirated books" AND sent:2023-01-01..2023-12-31', "libgen OR speaker:ana"):
        assert not _answered_by_few(matter, query)


def test_ranking_is_the_same_with_and_without_the_sidecar(
    corpus: tuple[Matter, list[RefMessage]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relevance order computed over the sidecar's arrays, or over its keys in plain
    Python, is Whoosh's own."""
    matter, _ = corpus
    queries = ["libgen", "pirat* OR books", "books w/8 (the OR data)", "permission OR linea"]
    orders = {}
    for name in PATHS:
        _path(monkeypatch, name)
        orders[name] = [Searcher(matter).search(q, limit=None).ids for q in queries]
    _path(monkeypatch, "few")
    monkeypatch.setattr(whoosh_engine, "FEW_PROBES", 0)  # every word's keys read in a row
    orders["read"] = [Searcher(matter).search(q, limit=None).ids for q in queries]
    assert all(orders[name] == orders["arrays"] for name in orders)
    assert all(len(ids) > 20 for ids in orders["few"])


def test_a_one_shot_search_reads_no_arrays_until_it_has_asked_about_an_eighth(
    corpus: tuple[Matter, list[RefMessage]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the per-message arrays reads every message: a process answers from
    SQLite while the ids it asked about stay within an eighth of the store (a fresh
    search at 10M read 10M rows for a word in 10,000), then reads them once; the
    review screen's searcher reads them at its second ask."""
    matter, refs = corpus
    monkeypatch.setattr(columns, "FROM_SQL", 0)
    stored = matter.store.max_message_id()
    want = {q: _reference(matter, refs, q) for q in ("libgen", "the")}
    assert 0 < len(want["libgen"]) <= stored // 8 < len(want["the"])
    searcher = Searcher(matter)
    first = searcher.search("libgen", limit=1, include_system=True)
    assert searcher._columns._conv is None
    assert set(first.ids) == want["libgen"]
    assert set(searcher.search("the", limit=1, include_system=True).ids) == want["the"]
    assert searcher._columns._conv is not None
    monkeypatch.setattr(columns, "FROM_SQL", len(want["libgen"]))
    resident = Searcher(matter, resident=True)
    resident.search("libgen", limit=1, include_system=True)
    assert resident._columns._conv is None
    again = resident.search("libgen", limit=1, include_system=True)
    assert resident._columns._conv is not None
    assert (again.ids, again.conversations) == (first.ids, first.conversations)


def test_summaries_and_dates_from_arrays_equal_those_from_sqlite(
    corpus: tuple[Matter, list[RefMessage]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large hit sets are counted, time-ordered and date-filtered from arrays; small
    ones in SQLite: the same answers, and the reference's hit sets."""
    matter, refs = corpus
    dated = [
        "sent:2023-03-01..2023-03-31 AND books",
        "before:2023-02-01",
        '"of the" AND after:2023-11-01',
    ]
    got = {}
    monkeypatch.setattr(columns, "FROM_SQL", 0)
    monkeypatch.setattr(columns, "SQL_SHARE", 10**9)
    for arrays in (True, False):
        if not arrays:
            monkeypatch.setattr(columns.Columns, "_load", lambda self: False)
        searcher = Searcher(matter)
        got[arrays] = [
            (r.ids, r.conversations, r.custodians)
            for r in (searcher.search(q, sort="time", limit=3) for q in ("the", "data w/3 model"))
        ]
        for q in dated:
            assert searcher.match(q, include_system=True)[1] == _reference(matter, refs, q)
    assert got[True] == got[False]
    assert got[True][0][1] > 1
