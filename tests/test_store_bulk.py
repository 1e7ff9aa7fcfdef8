"""Storing a staged source: ids in time order, duplicates, holders, indexes, rollback."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from discovery import store as store_module
from discovery.store import NewMessage, Store


def _msg(dedup: str, location: str, sent: int = 0, conversation: str = "C1") -> NewMessage:
    return NewMessage(
        dedup=dedup,
        native_id=dedup,
        conversation=conversation,
        platform="slack",
        thread_key=None,
        speaker_id="u",
        speaker="U",
        sent_us=sent,
        utc_offset=None,
        text=f"text {dedup}",
        versions=(),
        edited=False,
        deleted=False,
        system=False,
        extra=None,
        location=location,
    )


def _indexes(st: Store) -> list[tuple[str, str]]:
    return st.db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    ).fetchall()


def _store(st: Store, work: Path, name: str, batches: list[list[NewMessage]]) -> tuple[int, int]:
    """Stage ``batches`` and store them as one source (as the ingest does)."""
    with st.staging(work / "staging.sqlite") as staged:
        for batch in batches:
            staged.add([m.row() for m in batch])
        with st.transaction():
            source = st.add_source(name, f"sha-{name}", 1, "slack", name, "UTC")
            conv = st.upsert_conversation("slack", "C1", "channel", "general")
            return staged.store(source, {"C1": conv})


OLD_DEDUP = "dedup TEXT NOT NULL UNIQUE,"  # how stores made before messages_dedup declare it


@pytest.fixture(params=["new", "old"], ids=["store", "store made before messages_dedup"])
def st(tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    path = tmp_path / "case.sqlite"
    if request.param == "old":
        schema = re.sub(r"dedup TEXT NOT NULL,[^\n]*", OLD_DEDUP, store_module._SCHEMA)
        assert OLD_DEDUP in schema
        sqlite3.connect(path).executescript(schema).close()
    made = Store(path, create=True)
    unique = [
        name
        for _, name, is_unique, *_ in made.db.execute("PRAGMA index_list(messages)")
        if is_unique
    ]
    # One unique index on the dedup key: the table's own in an old store (none added).
    own = "sqlite_autoindex_messages_1" if request.param == "old" else "messages_dedup"
    assert unique == [own]
    return made


@pytest.mark.parametrize("bulk", [1, 10**9], ids=["bulk", "row-by-row"])
def test_ids_follow_time_then_staged_order_and_duplicates_are_held(
    st: Store, tmp_path: Path, bulk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "BULK", bulk)
    indexes = _indexes(st)
    cache = st.db.execute("PRAGMA cache_size").fetchone()[0]
    # Staged in two batches: c (t=5) comes first in the source but is the latest;
    # a and b tie at t=1 and keep the source's order; b repeats: stored once.
    first = [_msg("c", "1", 5), _msg("a", "2", 1)]
    second = [_msg("b", "3", 1), _msg("b", "4", 1), _msg("d", "5", 3)]
    assert _store(st, tmp_path, "Ann", [first, second]) == (4, 1)
    assert _store(st, tmp_path, "Bob", [[_msg("e", "1", 0), _msg("a", "2", 1)]]) == (1, 1)
    rows = st.db.execute("SELECT id, dedup FROM messages ORDER BY id").fetchall()
    assert rows == [(1, "a"), (2, "b"), (3, "d"), (4, "c"), (5, "e")]  # no gap
    holders = st.db.execute(
        "SELECT ms.message_id, s.path, ms.location FROM message_sources ms"
        " JOIN sources s ON s.id = ms.source_id ORDER BY 1, 2, 3"
    ).fetchall()
    assert holders == [
        (1, "Ann", "2"),
        (1, "Bob", "2"),
        (2, "Ann", "3"),
        (2, "Ann", "4"),
        (3, "Ann", "5"),
        (4, "Ann", "1"),
        (5, "Bob", "1"),
    ]
    assert _indexes(st) == indexes
    assert st.db.execute("PRAGMA cache_size").fetchone()[0] == cache
    assert not (tmp_path / "staging.sqlite").exists()
    assert "stage" not in [r[1] for r in st.db.execute("PRAGMA database_list")]


def test_a_rolled_back_source_leaves_nothing_and_the_indexes(
    st: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "BULK", 1)
    indexes = _indexes(st)
    with pytest.raises(RuntimeError), st.staging(tmp_path / "staging.sqlite") as staged:
        staged.add([_msg("a", "1").row(), _msg("b", "2").row()])
        with st.transaction():
            source = st.add_source("a", "sha-a", 1, "slack", "Ann", "UTC")
            conv = st.upsert_conversation("slack", "C1", "channel", "general")
            assert staged.store(source, {"C1": conv}) == (2, 0)
            raise RuntimeError("killed")
    assert _indexes(st) == indexes
    assert st.max_message_id() == 0 and st.counts()["sources"] == 0
    assert not (tmp_path / "staging.sqlite").exists()


def test_a_value_the_store_cannot_take_fails_when_staged(st: Store, tmp_path: Path) -> None:
    """NOT NULL where the messages table has it: never a message silently skipped."""
    row = list(_msg("a", "1").row())
    row[4] = None  # speaker_id
    with st.staging(tmp_path / "staging.sqlite") as staged:
        with pytest.raises(sqlite3.IntegrityError):
            staged.add([tuple(row)])
        assert staged.count == 0


def test_staging_does_not_hold_the_case_store(st: Store, tmp_path: Path) -> None:
    """While a source is staged, another process can still write the case store (tags)."""
    other = sqlite3.connect(st.path, timeout=0)
    with st.staging(tmp_path / "staging.sqlite"):
        st.db.execute("BEGIN")  # as Staging.add does, held open
        st.db.execute(
            f"INSERT INTO stage.rows ({store_module._STAGED_COLUMNS}) VALUES"
            " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _msg("a", "1").row(),
        )
        other.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")  # no 'locked'
        other.commit()
        st.db.execute("COMMIT")
    other.close()


@pytest.mark.parametrize("bulk", [1, 10**9], ids=["bulk", "row-by-row"])
def test_a_duplicate_not_found_before_the_insert_fails_the_source(
    st: Store, tmp_path: Path, bulk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique dedup index refuses what finding the duplicates missed (here: all of
    them), also when it was dropped for the insert: the source fails, nothing is skipped."""
    monkeypatch.setattr(store_module, "BULK", bulk)
    monkeypatch.setattr(
        store_module.Staging,
        "_find_duplicates",
        lambda self, stored: self._store.db.execute(
            "CREATE TEMP TABLE stage_duplicates (seq INTEGER PRIMARY KEY)"
        ),
    )
    indexes = _indexes(st)
    with pytest.raises(sqlite3.IntegrityError, match=r"UNIQUE constraint failed: messages\.dedup"):
        _store(st, tmp_path, "Ann", [[_msg("a", "1", 1), _msg("b", "2", 2), _msg("a", "3", 3)]])
    assert st.max_message_id() == 0 and st.counts()["sources"] == 0
    assert _indexes(st) == indexes
