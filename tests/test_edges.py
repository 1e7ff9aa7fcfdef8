"""Issue 8's fixes around the engine: tokenizer versions and reindex, audit re-runs under an
older tokenizer, expansions in the audit log, version order and highlights of edited
messages, speaker names, refusals that search and show share, explain."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from discovery import audit, candidates, config
from discovery.cli import app
from discovery.index import open_engine
from discovery.matter import INDEX_DIR, STORE_FILE, TOKENIZER_KEY
from discovery.store import Store
from discovery.text import TOKENIZER_VERSION, Token
from tests.conftest import FIXTURES

RSMF = FIXTURES / "rsmf" / "manifest_v2.json"


def run(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


ROWS = [
    {"speaker": "Dana", "speaker_id": "u1", "time": "2023-01-02T10:00:00+00:00",
     "text": "Her re\u0301sume\u0301 is in"},
    {"speaker": "Dee", "speaker_id": "u1", "time": "2023-01-02T10:01:00+00:00",
     "text": "我们的数据来自Libgen"},
    {"speaker": "Raj", "speaker_id": "u2", "time": "2023-01-02T10:02:00+00:00",
     "text": "मैं हिन्दी बोलता हूँ"},
]  # fmt: skip


def _old_tokens(versions: object) -> Iterator[Token]:
    """Tokenizer version 1, as discovery read words before issue 8."""
    pos = 0
    for i, text in enumerate(versions):  # type: ignore[call-overload]
        if i:
            pos += 1000
        last = pos - 1
        for m in re.finditer(r"[^\W_]+", text):
            w = m.group().casefold()
            w = "".join(c for c in unicodedata.normalize("NFKD", w) if not unicodedata.combining(c))
            yield Token(w, pos, m.start(), m.end(), i)
            last = pos
            pos += 1
        pos = last + 1


def _old_positions(versions: object) -> tuple[dict[str, list[int]], int]:
    """What the index writer stores of a message (``text.word_positions``), read by
    tokenizer version 1."""
    where: dict[str, list[int]] = {}
    tokens = list(_old_tokens(versions))
    for t in tokens:
        where.setdefault(t.text, []).append(t.pos)
    return where, len(tokens)


@pytest.fixture
def old_matter(tmp_path: Path, discovery_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Matter ``old``: indexed with tokenizer version 1 and no version recorded."""
    src = write_jsonl(tmp_path / "chat.jsonl", ROWS)
    with monkeypatch.context() as mp:
        mp.setattr("discovery.index.segment.word_positions", _old_positions)
        assert run("ingest", str(src), "--matter", "old").exit_code == 0
    with Store(config.matter_dir("old") / STORE_FILE) as s:
        s.db.execute("DELETE FROM meta WHERE key = ?", (TOKENIZER_KEY,))
    return config.matter_dir("old")


def test_an_old_matter_opens_with_a_clear_message(old_matter: Path) -> None:
    result = run("search", "libgen", "--matter", "old")
    assert result.exit_code == 1
    assert "tokenizer version 1" in result.stderr
    assert "discovery reindex --matter old" in result.stderr
    assert result.stdout == ""


def test_reindex_keeps_control_numbers_and_gives_the_new_answers(old_matter: Path) -> None:
    engine = open_engine(old_matter / INDEX_DIR)
    assert engine.doc_count("libgen") == 0  # the old index glued it to the Han run
    engine.close()
    with Store(old_matter / STORE_FILE) as s:
        before = list(s.iter_index_rows(0))

    result = run("reindex", "--matter", "old")
    assert result.exit_code == 0, result.output
    assert f"3 messages indexed with tokenizer version {TOKENIZER_VERSION}" in result.stdout

    with Store(old_matter / STORE_FILE) as s:
        assert list(s.iter_index_rows(0)) == before
        assert s.get_meta(TOKENIZER_KEY) == str(TOKENIZER_VERSION)
    for query, control in (("libgen", "MSG-00000002"), ("resume", "MSG-00000001")):
        hits = [json.loads(line)["id"] for line in run(
            "search", query, "--matter", "old", "--json").stdout.splitlines()]  # fmt: skip
        assert hits == [control]
    assert run("search", "हिन्दी", "--matter", "old", "--count").stdout.strip() == "1"
    assert not (old_matter / "index.old").exists()


def test_reindex_beside_an_ingest_refuses_or_waits_with_wait(old_matter: Path) -> None:
    import threading

    from discovery.matter import write_lock

    with write_lock(old_matter, "old"):  # this test is the running ingest
        busy = run("reindex", "--matter", "old")
        assert busy.exit_code == 1 and "--wait" in busy.stderr
    held, released = threading.Event(), threading.Event()

    def hold() -> None:  # an ingest that finishes a moment after reindex starts waiting
        with write_lock(old_matter, "old"):
            held.set()
            released.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    threading.Timer(1.0, released.set).start()  # past the lock's half-second retry
    waited = run("reindex", "--matter", "old", "--wait")
    thread.join()
    assert waited.exit_code == 0, waited.output
    assert "waiting for the ingest writing matter 'old'" in waited.stderr
    assert "3 messages indexed" in waited.stdout


def test_audit_entries_carry_the_tokenizer_version_and_expansions(
    tmp_path: Path, discovery_home: Path
) -> None:
    src = write_jsonl(tmp_path / "chat.jsonl", ROWS)
    assert run("ingest", str(src)).exit_code == 0
    assert run("search", "libgen~ OR resum*").exit_code == 0
    (entry,) = audit.entries()
    assert entry.settings["tokenizer"]["version"] == TOKENIZER_VERSION
    assert entry.settings["expansions"] == {"libgen~": ["libgen"], "resum*": ["resume"]}

    # Pretend the entry was made under version 1, with another answer.
    with sqlite3.connect(audit.log_path()) as db:
        settings = dict(entry.settings, tokenizer={"version": 1})
        db.execute(
            "UPDATE audit SET settings = ?, result_hash = 'x', hits = 0 WHERE id = ?",
            (json.dumps(settings), entry.id),
        )
    result = run("audit", "--rerun", str(entry.id))
    assert result.exit_code == 1
    assert "logged under tokenizer version 1 (now 2)" in result.stdout
    obj = json.loads(run("audit", "--rerun", str(entry.id), "--json").stdout)
    assert obj["logged_tokenizer"] == 1 and obj["same_tokenizer"] is False


def test_speaker_matches_the_name_each_message_was_shown_with(
    tmp_path: Path, discovery_home: Path
) -> None:
    src = write_jsonl(tmp_path / "chat.jsonl", ROWS)
    assert run("ingest", str(src)).exit_code == 0
    assert run("search", "speaker:dana", "--count").stdout.strip() == "1"
    assert run("search", "speaker:dee", "--count").stdout.strip() == "1"
    assert run("search", "speaker:u1", "--count").stdout.strip() == "2"


@pytest.fixture
def rsmf(discovery_home: Path) -> None:
    assert run("ingest", str(RSMF)).exit_code == 0


def test_json_snippets_carry_highlights_and_version(rsmf: None) -> None:
    (hit,) = [json.loads(x) for x in run("search", '"first draft"', "--json").stdout.splitlines()]
    assert hit["snippet_version"] == 1
    assert hit["versions"][0] == "v1 first draft"  # oldest first
    spans = [hit["snippet"][a:b] for a, b in hit["snippet_highlights"]]
    assert spans == ["first", "draft"]
    (plain,) = [json.loads(x) for x in run("search", "kickoff", "--json").stdout.splitlines()]
    assert plain["snippet_version"] == 0
    assert [plain["snippet"][a:b] for a, b in plain["snippet_highlights"]] == ["kickoff"]


def test_show_numbers_versions_oldest_first_and_highlights_them(rsmf: None) -> None:
    control = json.loads(run("search", '"first draft"', "--json").stdout)["id"]
    out = run("show", control, "--query", "draft OR v10", "--context", "0").stdout
    lines = [line.strip() for line in out.splitlines() if "earlier version" in line]
    assert lines[0] == "(earlier version 1) v1 first draft"
    assert lines[9] == "(earlier version 10) v10"
    # the same numbers as the snippet and the load file
    snippet = run("search", '"first draft"').stdout
    assert "[earlier version 1] v1 first draft" in snippet


def test_show_marks_matches_in_earlier_versions(rsmf: None) -> None:
    from discovery.matter import open_matter
    from discovery.render import version_spans
    from discovery.search import Searcher

    with open_matter() as m:
        result = Searcher(m).search("draft", limit=1)
        (hit,) = result.hits
        spans = version_spans(hit)
    prior = hit.message.versions[0]
    assert [prior[a:b] for a, b in spans[1]] == ["draft"]
    assert 0 not in spans


def test_show_and_search_refuse_the_same_too_broad_term(
    rsmf: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(candidates, "MAX_EXPANSION", 2)
    for args in (("search", "v*"), ("show", "1", "--query", "kickoff OR v*")):
        result = run(*args)
        assert result.exit_code == 2, args
        assert "matches more than 2 different words" in result.stderr
        assert result.stderr.splitlines()[-1].lstrip() == "^^"


def test_stem_fuzzy_range_and_regex_report_their_bound(
    tmp_path: Path, discovery_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = {
        "speaker": "A",
        "time": "2023-01-02T10:00:00Z",
        "text": "10 12 15 banana bananas bananna",
    }
    assert run("ingest", str(write_jsonl(tmp_path / "n.jsonl", [row]))).exit_code == 0
    monkeypatch.setattr(candidates, "MAX_EXPANSION", 1)
    for query, kind in (
        ("10~~20", "numeric range 10~~20"),
        ('"##ban.*"', 'regular expression "##ban.*"'),
        ("ba%nana", "fuzzy word ba%nana"),
        ("banana~", "stemmed word banana~"),
    ):
        result = run("search", query)
        assert result.exit_code == 2, query
        assert f"the {kind} matches more than 1 different words" in result.stderr
        assert result.stderr.splitlines()[-1] == "^" * len(query)


def test_explain_json_and_text(rsmf: None) -> None:
    obj = json.loads(run("explain", "kickoff and ki%ckof w/3 xfirstword", "--json").stdout)
    assert obj["canonical"] == obj["parenthesized"] == "kickoff AND (ki%ckof W/3 xfirstword)"
    chain = json.loads(run("explain", "first w/5 draft pre/3 v1", "--json").stdout)
    assert chain["canonical"] == "first W/5 draft PRE/3 v1"
    assert chain["parenthesized"] == "(first W/5 draft) PRE/3 v1"
    assert [e["term"] for e in obj["expansions"]] == ["ki%ckof"]
    assert obj["expansions"][0]["words"] == [["kickoff", 1]]
    assert [c["hits"] for c in obj["clauses"]] == [1, 1, 1, 1]
    assert any("'and' at column 9 is read as the connector AND" in w for w in obj["warnings"])
    near = json.loads(run("explain", "kickoff near draft", "--json").stdout)["warnings"]
    assert any("'near' at column 9 is read as a word" in w for w in near)
    text = run("explain", '"zzz" OR kickoff').stdout
    assert "zzz occurs in no message" in text
    assert "one-word phrase" in text


def test_explain_warns_near_the_bound(rsmf: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("discovery.explain.MAX_EXPANSION", 4)
    obj = json.loads(run("explain", "v*", "--json").stdout)
    assert obj["expansions"][0]["word_count"] >= 4
    assert any("near the limit of 4" in w for w in obj["warnings"])


def test_explain_works_for_every_query_of_the_suites(acme_home: Path, discovery_home: Path) -> None:
    from discovery.explain import explain
    from discovery.matter import open_matter
    from discovery.search import Searcher
    from tests import test_foreign_syntax, test_multiscript, test_query_parser, test_search_engine
    from tests.test_query_verify import AGREEMENT_QUERIES

    shutil.copytree(acme_home, discovery_home)
    queries = [q for q, _ in test_search_engine.QUERIES]
    queries += [q for q, _ in test_multiscript.QUERIES]
    queries += [q for q, _ in test_query_parser.VALID]
    queries += [q for q, _ in test_query_parser.CANONICAL]
    queries += [q for q, _ in test_foreign_syntax.SUPPORTED]
    queries += [q if isinstance(q, str) else q[0] for q in AGREEMENT_QUERIES]
    assert len(queries) > 250
    with open_matter() as m:
        searcher = Searcher(m)
        for query in queries:
            assert explain(m, query).hits == searcher.count(query), query


def test_the_review_screen_explains_the_query(acme_home: Path, discovery_home: Path) -> None:
    import asyncio

    from discovery.matter import open_matter
    from discovery.tui.app import ReviewApp
    from discovery.tui.explain import ExplainScreen
    from discovery.tui.session import Session

    shutil.copytree(acme_home, discovery_home)
    with open_matter() as m:
        session = Session(m)
        review = ReviewApp(session, blink=False)

        async def main() -> None:
            async with review.run_test(size=(120, 40)) as pilot:
                await pilot.press("slash")
                review.query_bar.input.value = "libgen~ AND ba%nana"
                await pilot.press("escape", "e")
                await pilot.pause()
                assert isinstance(review.screen, ExplainScreen)
                shown = str(review.screen.body.renderables[1])  # type: ignore[attr-defined]
                assert "libgen~ AND ba%nana" in shown
                await pilot.press("escape")
                await pilot.pause()
                assert not isinstance(review.screen, ExplainScreen)

        asyncio.run(main())
        session.close()
