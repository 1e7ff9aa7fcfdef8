"""Sharded matters on a real Dask cluster give the answers of a one-shard matter.

One ``LocalCluster`` of two worker processes serves the module. The same
sources (bundled fixtures of several formats and two generated Slack exports,
one of them held by two custodians) are ingested twice in the same order:
into a one-shard matter in this process, and into a four-shard matter whose
sources are read and staged, and whose shards are indexed, on the cluster.
Every control number, every hit set of the engine's query test sets (ordered
by relevance and by time), the search term report, the exhibit list and the
audit hashes must be the same. Then a worker is killed while it reads a
source: the ingest still completes (or reports the source), and a re-run
leaves the matter a clean ingest makes.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from discovery import exhibits
from discovery.audit import entries
from discovery.batch import parse_terms, read_terms
from discovery.index.sharded import ShardedEngine
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.report import build_report
from discovery.search import Searcher, result_hash
from discovery.shards import local_workers, on_cluster
from discovery.synth import generate_slack_export
from tests.conftest import ACME, FIXTURES, invoke
from tests.test_chat_search import QUERIES as CHAT_QUERIES
from tests.test_search_engine import QUERIES as ENGINE_QUERIES

distributed = pytest.importorskip("distributed")
# One xdist worker runs the module: its cluster and matters are built once.
pytestmark = pytest.mark.xdist_group("shards")

ALICE, BOB = "Alice Example", "Bob Example"
QUERIES = [q for q, _ in ENGINE_QUERIES] + [q for q, _ in CHAT_QUERIES]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Two ingest runs: Alice's sources, then Bob's (one export is also Alice's)."""
    base = tmp_path_factory.mktemp("shard_sources")
    first, second = base / "first", base / "second"
    generate_slack_export(first, 5000, seed=11)
    generate_slack_export(second, 3000, seed=12)
    family = base / "family.eml"  # a message with an attachment: a family on a worker
    mail = EmailMessage()
    mail["From"], mail["To"] = "Dana <dana@example.com>", "Lee <lee@example.com>"
    mail["Date"], mail["Subject"] = "Tue, 07 Mar 2023 10:15:00 -0500", "notes"
    mail.set_content("the notes are attached")
    mail.add_attachment(b"wombat ledger totals", maintype="text", subtype="plain", filename="n.txt")
    family.write_bytes(mail.as_bytes())
    fixtures = [
        ACME,
        FIXTURES / "whatsapp" / "WhatsApp Chat - Book Club.txt",
        FIXTURES / "teams" / "reply_edit_delete.json",
        FIXTURES / "telegram" / "ChatExport_2024-01-02",
        FIXTURES / "discord" / "deals_part1.json",
        FIXTURES / "mattermost" / "bulk_export.jsonl",
        family,
    ]
    return {ALICE: [fixtures[0], first, *fixtures[1:]], BOB: [first, second, ACME]}


def _build(name: str, sources: dict[str, list[Path]], client: Any = None, **kw: Any) -> None:
    with open_matter(name, create=True, shards=4 if client is not None else 1) as m:
        stage = None if client is None else on_cluster(m, client)
        for who, paths in sources.items():
            report = ingest(m, paths, custodian=who, stage=stage, **kw)
            assert not report.failed, [(s.path, s.problems) for s in report.sources]
        m.store.tag(range(5, m.store.max_message_id(), 97), "hot")
        assert m.is_current()


@pytest.fixture(scope="module")
def home(
    tmp_path_factory: pytest.TempPathFactory, client: Any, sources: dict[str, list[Path]]
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("shard_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISCOVERY_HOME", str(home))
        mp.setenv("DISCOVERY_TZ", "America/New_York")  # date queries cross the DST change
        _build("one", sources)
        _build("four", sources, client)
        yield home


@pytest.fixture
def matters(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    monkeypatch.setenv("DISCOVERY_HOME", str(home))
    monkeypatch.setenv("DISCOVERY_TZ", "America/New_York")
    with open_matter("one") as one, open_matter("four") as four:
        yield one, four


def stored(m: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the case store holds of the sources, by table (import times left out)."""
    db = m.store.db
    out = {
        table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
        for table in (
            "messages",
            "conversations",
            "participants",
            "message_sources",
            "family_members",
        )
    }
    out["tags"] = db.execute("SELECT tag, message_id FROM tags ORDER BY 1, 2").fetchall()
    out["sources"] = [
        (r[0], r[1], r[2], r[4], r[5], json.loads(r[8]))
        for r in db.execute("SELECT * FROM sources ORDER BY id")
    ]
    return out


def test_control_numbers_and_dedup_are_those_of_one_shard(matters: tuple[Any, Any]) -> None:
    one, four = matters
    assert isinstance(four.engine, ShardedEngine) and not isinstance(one.engine, ShardedEngine)
    assert stored(four) == stored(one)
    # Each source's new messages went to one shard, and the shards share the work.
    sizes = four.engine.manifest()["sizes"]
    assert sum(sizes) == four.store.max_message_id() and sum(1 for s in sizes if s) >= 3
    # The export Alice and Bob both hold: one message each, with both custodians.
    both = four.store.db.execute(
        "SELECT count(DISTINCT ms.message_id) FROM message_sources ms"
        " JOIN sources s ON s.id = ms.source_id GROUP BY ms.message_id"
        " HAVING count(DISTINCT s.custodian) = 2"
    ).fetchall()
    assert len(both) >= 5000 + 50
    # The attachment read on a worker is a family member, found by its own word.
    (member,) = four.store.db.execute("SELECT message_id FROM family_members").fetchall()
    assert Searcher(four).match("wombat")[1] == Searcher(one).match("wombat")[1] == {member[0]}


@pytest.mark.parametrize("query", QUERIES)
def test_every_query_gives_the_same_hits_in_the_same_order(
    matters: tuple[Any, Any], query: str
) -> None:
    results = []
    for m in matters:
        s = Searcher(m)
        by_rank = s.search(query, limit=5, include_system=True)
        by_time = s.search(query, limit=None, sort="time", summary=False)
        results.append(
            (
                by_rank.ids,
                by_rank.conversations,
                by_rank.custodians,
                [(h.message.id, h.snippet, h.positions) for h in by_rank.hits],
                by_time.ids,
                s.count(query),
            )
        )
    assert results[0] == results[1]


def test_the_query_sets_find_something_in_both(matters: tuple[Any, Any]) -> None:
    """The comparison above is not of empty answers."""
    found = [bool(Searcher(matters[1]).count(q)) for q in QUERIES]
    assert sum(found) >= len(QUERIES) * 3 // 4


def test_search_term_report_and_exhibits_are_the_same(matters: tuple[Any, Any]) -> None:
    terms = [
        *read_terms(FIXTURES / "batch" / "terms.txt"),
        *parse_terms("pirat*\nlibgen w/3msg data\ncustodian:bob AND books\n"),
    ]
    reports, lists = [], []
    for m in matters:
        report = build_report(m, terms, m.tz, levels=("conversation", "conversation-day"))
        reports.append([row.cells() for row in report.all_rows()])
        ids, _ = exhibits.select(m, query="libgen OR forgiveness")
        built = exhibits.build(m, ids, "EX", 2)
        lists.append([(e.number, e.message.id, [c.id for c in e.context]) for e in built])
    assert reports[0] == reports[1] and any(row[2] for row in reports[0][:-1])
    assert lists[0] == lists[1] and len(lists[0]) > 10


def test_audit_fingerprints_and_result_hashes_are_the_same(matters: tuple[Any, Any]) -> None:
    for name in ("one", "four"):
        for query in ("libgen", "pirat* w/5msg books", "custodian:alice AND data"):
            assert invoke("search", query, "--matter", name, "--limit", "3").exit_code == 0
    logged = {
        name: [(e.query, e.fingerprint, e.hits, e.result_hash) for e in entries(name)]
        for name in ("one", "four")
    }
    assert logged["one"] == logged["four"] and all(e[2] for e in logged["one"])
    with open_matter("four") as four:
        assert logged["four"][0][3] == result_hash(Searcher(four).match("libgen")[1])


def test_cli_creates_a_sharded_matter_and_ingests_on_a_running_cluster(
    client: Any, discovery_home: Path
) -> None:
    result = invoke("matters", "--create", "big", "--shards", "3")
    assert result.exit_code == 0 and "3 shards" in result.stdout
    assert invoke("matters", "--create", "big", "--shards", "2").exit_code == 2
    assert invoke("matters", "--create", "x", "--shards", "many").exit_code == 2
    address = client.scheduler.address
    result = invoke("ingest", str(ACME), "--matter", "big", "--scheduler", address)
    assert result.exit_code == 0, result.stdout
    assert invoke("ingest", str(ACME), "--matter", "plain", "--workers", "0").exit_code == 2
    assert invoke("ingest", str(ACME), "--matter", "plain").exit_code == 0
    with open_matter("big") as big, open_matter("plain") as plain:
        assert isinstance(big.engine, ShardedEngine) and len(big.engine.engines()) == 3
        assert stored(big) == stored(plain)
        assert Searcher(big).match("libgen")[1] == Searcher(plain).match("libgen")[1]
    assert invoke("reindex", "--matter", "big").exit_code == 0  # rebuilt in as many shards
    with open_matter("big") as big, open_matter("plain") as plain:
        assert isinstance(big.engine, ShardedEngine) and len(big.engine.engines()) == 3
        for query in ("libgen", '"ask forgiveness"', "pirat* w/3msg books"):
            assert Searcher(big).search(query).ids == Searcher(plain).search(query).ids


def test_a_worker_killed_mid_ingest_loses_nothing(
    client: Any, sources: dict[str, list[Path]], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCOVERY_HOME", str(home))
    monkeypatch.setenv("DISCOVERY_TZ", "America/New_York")
    pids = client.run(os.getpid)
    killed: list[str] = []

    def kill_one_reading(stage: str, advance: int, total: int | None) -> None:
        if killed or stage != "messages":
            return
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            busy = [w for w, keys in client.processing().items() if keys and w in pids]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])
                return
            time.sleep(0.01)

    reports = []
    with open_matter("killed", create=True, shards=4) as m:
        stage = on_cluster(m, client)
        for n, (who, paths) in enumerate(sources.items()):
            hook = kill_one_reading if n == 0 else None
            reports.append(ingest(m, paths, custodian=who, stage=stage, progress=hook))
    assert killed, "no worker was reading a source when the first one was stored"
    for rep in (s for r in reports for s in r.sources):
        # completed, or reported as not imported (never stored in part, never silent)
        assert rep.status == "imported" or (
            rep.status == "failed" and "lost" in str(rep.problems[0])
        ), rep.as_dict()
    client.wait_for_workers(2, timeout=60)
    with open_matter("killed") as m:  # the re-run: whatever was reported failed imports now
        stage = on_cluster(m, client)
        for who, paths in sources.items():
            assert not ingest(m, paths, custodian=who, stage=stage).failed
        m.store.tag(range(5, m.store.max_message_id(), 97), "hot")
    with open_matter("killed") as m, open_matter("one") as one:
        assert stored(m) == stored(one)
        for query in ("libgen", '"ask forgiveness"', "pirat* w/5msg books", "NOT the"):
            assert Searcher(m).search(query).ids == Searcher(one).search(query).ids


def test_sources_are_indexed_as_they_are_stored_and_shown_when_every_shard_is(
    client: Any, sources: dict[str, list[Path]], discovery_home: Path
) -> None:
    first_three = sources[ALICE][:3]  # ACME, a 5,000-message export, a WhatsApp chat
    seen: list[tuple[int, int, int]] = []
    with open_matter("ahead", create=True, shards=4) as m:
        stage = on_cluster(m, client)
        indexer = m.engine.runner
        done = 0

        def note(step: str, advance: int, total: int | None) -> None:
            nonlocal done
            if step != "sources":
                return
            done += 1
            if done == 3:  # the first two are stored; their index tasks were started
                distributed.wait(indexer.started, timeout=60)
                shards = ShardedEngine(m.engine.path)
                held = sum(sum(e._current().docs) for e in shards.engines())
                seen.append((held, shards.indexed_through(), Searcher(m).count("the")))
                shards.close()
            elif done == 2:
                seen.append((m.store.max_message_id(), 0, 0))

        assert not ingest(m, first_three, custodian=ALICE, stage=stage, progress=note).failed
        assert m.is_current() and m.store.max_message_id() > seen[0][0]
    (stored_two, _, _), (held, indexed, found) = seen
    # The shards held the first two sources while the third was read; searches saw
    # none of it until every shard was indexed (one shard is never ahead of another).
    assert stored_two > 5000 and held == stored_two and indexed == 0 and found == 0


def test_shards_are_indexed_only_by_workers_on_this_host() -> None:
    workers = {
        "tcp://10.0.0.7:4000": {"host": "10.0.0.7"},
        "tcp://127.0.0.1:4001": {"host": "127.0.0.1"},
        "tcp://10.0.0.9:4002": {"host": "10.0.0.9"},
    }
    assert local_workers(workers, {"127.0.0.1", "10.0.0.9"}) == [
        "tcp://10.0.0.9:4002",
        "tcp://127.0.0.1:4001",
    ]
    assert local_workers(workers, {"192.168.1.2"}) == []


def test_owner_runs_are_each_sources_runs_of_ids_in_id_order(tmp_path: Path) -> None:
    import sqlite3

    from discovery.store import IndexRows

    path = tmp_path / "owners.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE message_sources (message_id, source_id, location)")
    # Source 1 brought 1-3, source 2 brought 4-5 and also holds 2 (a duplicate: still 1's);
    # 6 has no holder (a gap); source 3 brought 7-8.
    held = [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (2, 2), (7, 3), (8, 3)]
    db.executemany("INSERT INTO message_sources VALUES (?, ?, 'x')", held)
    db.commit()
    rows = IndexRows(path)
    assert rows.owner_runs(0, 8) == [(1, 3, 1), (4, 5, 2), (7, 8, 3)]
    assert rows.owner_runs(2, 7) == [(3, 3, 1), (4, 5, 2), (7, 7, 3)]
    # Interleaved (never in an ingest): read one by one, a run per change of source.
    db.executemany("INSERT INTO message_sources VALUES (?, ?, 'x')", [(9, 1), (10, 3), (11, 1)])
    db.commit()
    assert rows.owner_runs(6, 11) == [(7, 8, 3), (9, 9, 1), (10, 10, 3), (11, 11, 1)]
    db.close()
