"""Streaming ingest (issue 14): batches, worker processes, and what they must not change.

A source is read in batches and staged, large ones by worker processes in parts, and
the catch-up is indexed by workers a range of ids each. None of it may change what
is stored (control numbers, duplicates, holders, reports) or what the index answers.
The sizes are forced small through the ``DISCOVERY_*`` tuning variables.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, RawMessage
from discovery.importers.detect import IMPORTERS
from discovery.importers.slack import SlackImporter
from discovery.ingest import ingest
from discovery.matter import WORK_DIR, open_matter
from discovery.search import Searcher
from discovery.synth import generate_slack_export
from tests.conftest import ACME, FIXTURES, worker_pools

MALFORMED = FIXTURES / "slack" / "malformed"
JSONL = FIXTURES / "jsonl" / "messages.jsonl"
WHOLE = {"DISCOVERY_BATCH": str(10**9), "DISCOVERY_JOBS": "1"}
BATCHES = {"DISCOVERY_BATCH": "7", "DISCOVERY_JOBS": "1"}
WORKERS = {
    "DISCOVERY_BATCH": "7",
    "DISCOVERY_JOBS": "2",
    "DISCOVERY_PART_BYTES": "4000",  # the 600-message export in ~30 parts
    "DISCOVERY_INDEX_RANGE": "150",
}


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "slack"
    generate_slack_export(out, 600, seed=4)
    return out


@pytest.fixture(scope="module")
def ties(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small export whose messages tie in time across channels and repeat within one."""
    out = tmp_path_factory.mktemp("ties") / "slack"
    channels = [{"id": "C1", "name": "alpha"}, {"id": "C2", "name": "beta"}]
    days = {
        "alpha/2023-01-02.json": [
            {"ts": "1672660800.000100", "user": "U1", "text": "late in alpha"},
            {"ts": "1672617600.000000", "user": "U1", "text": "tie one"},
        ],
        "alpha/2023-01-01.json": [
            {"ts": "1672617600.000000", "user": "U2", "text": "tie zero"},
            {"ts": "1672531200.000000", "user": "U1", "text": "first of all"},
            {"ts": "1672531200.000000", "user": "U1", "text": "first of all"},
        ],
        "beta/2023-01-01.json": [
            {"ts": "1672617600.000000", "user": "U2", "text": "tie two"},
            {"ts": "1672531199.999999", "user": "U2", "text": "earliest"},
        ],
    }
    out.mkdir(parents=True)
    (out / "channels.json").write_text(json.dumps(channels))
    (out / "users.json").write_text(json.dumps([{"id": "U1", "name": "ann"}, {"id": "U2"}]))
    for member, entries in days.items():
        (out / member).parent.mkdir(exist_ok=True)
        (out / member).write_text(json.dumps(entries))
    return out


def stored(matter: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the case store holds of the sources, by table (import times left out)."""
    with open_matter(matter) as m:
        db = m.store.db
        out = {
            table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
            for table in ("messages", "conversations", "participants", "message_sources")
        }
        out["sources"] = [
            (r[0], r[1], r[2], r[4], r[5], json.loads(r[8]))
            for r in db.execute("SELECT * FROM sources ORDER BY id")
        ]
        return out


def answers(matter: str) -> list[list[int]]:
    queries = ['"of the"', "libgen", "the w/5 for", "pirat*", "data AND NOT model", "tie"]
    with open_matter(matter) as m:
        searcher = Searcher(m)
        return [searcher.match(q, include_system=True)[1] for q in queries]  # type: ignore[misc]


def run(name: str, sources: list[Path], env: dict[str, str], mp: pytest.MonkeyPatch) -> None:
    for key, value in env.items():
        mp.setenv(key, value)
    with open_matter(name, create=True) as m:
        ingest(m, sources, custodian="Ann")
        ingest(m, sources, custodian="Bob")  # every message a duplicate of a stored one
        assert m.is_current()


def test_batches_and_workers_store_and_index_what_one_batch_does(
    export: Path, ties: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pools = worker_pools(monkeypatch)
    sources = [export, ties, ACME, MALFORMED, JSONL]
    run("whole", sources, WHOLE, monkeypatch)
    assert pools == []
    run("batches", sources, BATCHES, monkeypatch)
    assert pools == []
    run("workers", sources, WORKERS, monkeypatch)
    # The 600-message export read by workers (once per custodian), the catch-up indexed
    # by them (once: the second ingest adds only duplicates).
    assert len(pools) >= 3 and set(pools) == {2}
    whole = stored("whole")
    assert stored("batches") == whole
    assert stored("workers") == whole
    assert answers("batches") == answers("whole") == answers("workers")
    with open_matter("workers") as m:
        assert m.engine.indexed_through() == m.store.max_message_id() == len(whole["messages"])


def test_ids_follow_time_then_the_order_read(ties: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**WORKERS, "DISCOVERY_PART_BYTES": "1"}.items():  # a part per day
        monkeypatch.setenv(key, value)
    with open_matter("m", create=True) as m:
        (rep,) = ingest(m, [ties]).sources
        got = m.store.db.execute(
            "SELECT m.text, m.sent_us, group_concat(ms.location, ' | ') FROM messages m"
            " JOIN message_sources ms ON ms.message_id = m.id GROUP BY m.id ORDER BY m.id"
        ).fetchall()
    assert (rep.added, rep.duplicates) == (6, 1)
    # Read in folder order, then day-file order, then entry order: ties keep that order.
    assert [(text, where) for text, _, where in got] == [
        ("earliest", "beta/2023-01-01.json entry 2"),  # 1 µs before the next, read after it
        ("first of all", "alpha/2023-01-01.json entry 2 | alpha/2023-01-01.json entry 3"),
        ("tie zero", "alpha/2023-01-01.json entry 1"),
        ("tie one", "alpha/2023-01-02.json entry 2"),
        ("tie two", "beta/2023-01-01.json entry 1"),
        ("late in alpha", "alpha/2023-01-02.json entry 1"),
    ]
    assert [t for _, t, _ in got] == sorted(t for _, t, _ in got)


def _items(items: Iterator[Any]) -> list[Any]:
    return [str(i) if isinstance(i, ImportProblem) else i for i in items]


@pytest.mark.parametrize("size", [1, 3000, 10**9], ids=["a-day-each", "some-days", "one-part"])
def test_slack_parts_read_in_order_yield_what_reading_whole_does(
    export: Path, tmp_path: Path, size: int
) -> None:
    zipped = tmp_path / "acme.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for p in sorted(ACME.rglob("*")):
            if p.is_file():
                z.write(p, f"acme/{p.relative_to(ACME)}")
    slack = IMPORTERS["slack"]
    assert isinstance(slack, SlackImporter)
    for source in (export, ACME, MALFORMED, zipped):
        ctx = ImportContext(tz=UTC, display_path=str(source))
        whole = _items(slack.read(source, ctx))
        parts = slack.parts(source, ctx, size)
        assert parts is not None
        if size == 1:
            assert len(parts) > 3
        pieced = _items(i for part in parts for i in slack.read_part(source, ctx, part))
        assert pieced == whole
        assert sum(isinstance(i, RawMessage) for i in whole) > 0


def test_a_fault_in_a_worker_fails_its_source_only(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Faults in a part read by a worker are reported as when the source is read here:
    the importer giving up (and why), an importer bug, a fault of storing; the source
    fails whole, the next one is imported."""
    for key, value in WORKERS.items():
        monkeypatch.setenv(key, value)
    from discovery import ingest as ingest_module
    from discovery.importers import slack

    first_legal = sorted(p.name for p in (export / "legal").iterdir())[0]
    real_days, real_speaker = slack._read_days, slack._speaker

    def gives_up(tree: Any, plan: Any, folder: str, days: list[str], starts: bool) -> Any:
        if folder == "legal":
            raise ImportProblem(tree.where(f"{folder}/{days[0]}"), "unreadable on purpose")
        return real_days(tree, plan, folder, days, starts)

    def expect(reason: str) -> None:
        with open_matter(f"m{len(reason)}", create=True) as m:
            failed, fine = ingest(m, [export, JSONL]).sources
            assert (failed.status, fine.status) == ("failed", "imported")
            assert [str(p) for p in failed.problems] == [reason]
            assert m.store.counts()["messages"] == 3  # the JSONL's
            assert not (m.path / WORK_DIR).exists()

    with monkeypatch.context() as patched:  # forked workers inherit the patches
        patched.setattr(slack, "_read_days", gives_up)
        expect(f"{export}/legal/{first_legal}: unreadable on purpose")
    with monkeypatch.context() as patched:
        patched.setattr(slack, "_speaker", lambda *a: {}["importer bug"])
        expect(f"{export}: unreadable (KeyError)")
    real_normalize = ingest_module.normalize

    def storing_bug(raw: RawMessage, *args: Any, **kwargs: Any) -> Any:
        if raw.platform == "slack":
            raise KeyError("storing bug")
        return real_normalize(raw, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(ingest_module, "normalize", storing_bug)
        expect(f"{export}: could not be stored (KeyError); nothing of it was imported")
    assert (slack._read_days, slack._speaker) == (real_days, real_speaker)


def test_ranges_indexed_by_workers_are_the_index_one_writer_makes(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_index_writer import _read_back

    with open_matter("m", create=True) as m:
        ingest(m, [export])  # indexed by this process (600 < 2 ranges of 100,000)
        one = _read_back(m.engine.ix)  # type: ignore[attr-defined]
        keys = m.engine.occurrences(sorted(one["postings"]))
    monkeypatch.setenv("DISCOVERY_INDEX_RANGE", "70")
    monkeypatch.setenv("DISCOVERY_JOBS", "2")
    from discovery.matter import reindex

    assert reindex("m") == 600
    with open_matter("m") as m:
        engine: Any = m.engine
        assert len(engine._current().segments) == 9  # one per range of 70 ids, in id order
        many = _read_back(engine.ix)
        del one["stats"], many["stats"]  # per-word statistics are per segment
        assert many == one
        assert many["stored"] == [{"id": i} for i in range(1, 601)]  # document = id - 1
        assert engine.occurrences(sorted(one["postings"])).tolist() == keys.tolist()
        assert sorted(p.name for p in m.path.joinpath("index").glob("*.tmp")) == []
