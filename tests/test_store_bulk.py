"""Storing a staged source: ids in time order, duplicates, holders, indexes, rollback."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from discovery import store as store_module
from discovery.dedup import dedup_hash
from discovery.errors import DuplicateKeyError, StoreError
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


OLD_DEDUP = "dedup TEXT NOT NULL UNIQUE,"  # how the first stores declare the key
NUMBER = "    dedup_hash INTEGER NOT NULL"  # the column a store made before the numbers lacks
KINDS = ["new", "named", "old"]
KIND_IDS = ["store", "store with the unique key index", "store with the key unique in its table"]


def _made_before(path: Path, kind: str, stored: str = "") -> None:
    """A case store as made before the keys were numbered (``kind``: with the unique index
    ``messages_dedup``, or, older, the key ``UNIQUE`` in the table), holding the message
    ``stored`` if given."""
    schema = re.sub(r",\n" + NUMBER + r"[^\n]*", "", store_module._SCHEMA)
    assert "dedup_hash INTEGER" not in schema
    if kind == "old":
        schema = re.sub(r"dedup TEXT NOT NULL,[^\n]*", OLD_DEDUP, schema)
        assert OLD_DEDUP in schema
    else:
        schema += "CREATE UNIQUE INDEX messages_dedup ON messages (dedup);"
    db = sqlite3.connect(path)
    db.executescript(schema)
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    if stored:
        db.execute("INSERT INTO conversations VALUES (1, 'slack', 'C1', 'channel', 'general')")
        db.execute(
            "INSERT INTO messages (dedup, native_id, conversation_id, speaker_id, speaker,"
            " sent_us, text) VALUES (?, ?, 1, 'u', 'U', 9, 'old')",
            (stored, stored),
        )
    db.commit()
    db.close()


def _unique_indexes(st: Store) -> list[str]:
    return [n for _, n, unique, *_ in st.db.execute("PRAGMA index_list(messages)") if unique]


def _refusal(st: Store) -> type[Exception]:
    """What refuses a message stored twice: the number check, or in the oldest stores the
    table's unique key first."""
    return sqlite3.IntegrityError if st.kind == "old" else DuplicateKeyError  # type: ignore[attr-defined]


@pytest.fixture(params=KINDS, ids=KIND_IDS)
def st(tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    path = tmp_path / "case.sqlite"
    if request.param != "new":
        _made_before(path, request.param)
    made = Store(path, create=True)
    made.number_keys()  # as an ingest does first
    made.kind = request.param  # type: ignore[attr-defined]
    # The keys are indexed by number; only the oldest stores keep a unique index too
    # (the table's own, which cannot be dropped).
    names = [r[1] for r in made.db.execute("PRAGMA index_list(messages)")]
    assert "messages_dedup_hash" in names and "messages_dedup" not in names
    old = request.param == "old"
    assert _unique_indexes(made) == (["sqlite_autoindex_messages_1"] if old else [])
    return made


@pytest.mark.parametrize("kind", ["named", "old"])
def test_a_store_made_before_numbers_its_keys_once_and_still_finds_them(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "case.sqlite"
    _made_before(path, kind, stored="z")
    with Store(path) as st:
        # Opening it numbers nothing (a search need not wait): only storing needs numbers.
        columns = [r[1] for r in st.db.execute("PRAGMA table_info(messages)")]
        assert "dedup_hash" not in columns and "messages_dedup_hash" not in str(_indexes(st))
        assert st.get_meta("schema_version") == "1"
        st.number_keys()
        assert st.db.execute("SELECT dedup, dedup_hash FROM messages").fetchall() == [
            ("z", dedup_hash("z"))
        ]
        assert st.get_meta("schema_version") == "2"  # a discovery reading 1 refuses it now
        # The stored message is found by its number: held, not added again.
        assert _store(st, tmp_path, "Ann", [[_msg("y", "1", 1), _msg("z", "2", 2)]]) == (1, 1)
        holders = st.db.execute("SELECT message_id FROM message_sources ORDER BY 1").fetchall()
        assert holders == [(1,), (2,)]
    schema = sqlite3.connect(path).execute("SELECT sql FROM sqlite_master").fetchall()
    with Store(path) as again:  # numbered once: opening and numbering again change nothing
        again.number_keys()
        assert again.db.execute("SELECT sql FROM sqlite_master").fetchall() == schema


def test_the_number_of_a_key_is_fixed_and_spreads() -> None:
    """Written into stores: it must never change between versions or processes."""
    key = "e1d7d61e7ef4295d1f68006abb92e52f0ef56b07a0239b4a69462ea22e2038de"
    assert dedup_hash(key) == 0x31A4857A3DF89BCD  # BLAKE2b, 8 bytes, of the key's UTF-8
    assert dedup_hash("ask forgiveness") == 0x983748D3C9C5AEC2 - (1 << 64)  # signed
    numbers = {dedup_hash(f"key {i}") for i in range(10_000)}
    assert len(numbers) == 10_000 and min(numbers) < 0 < max(numbers)
    assert dedup_hash("a\udc80") != dedup_hash("a")  # a lone surrogate is a key too


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
        row = _msg("a", "1").row()
        st.db.execute(
            f"INSERT INTO stage.rows ({store_module._STAGED_COLUMNS}) VALUES"
            f" ({', '.join('?' * len(row))})",
            row,
        )
        other.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")  # no 'locked'
        other.commit()
        st.db.execute("COMMIT")
    other.close()


@pytest.mark.parametrize("bulk", [1, 10**9], ids=["bulk", "row-by-row"])
def test_a_duplicate_not_found_before_the_insert_fails_the_source(
    st: Store, tmp_path: Path, bulk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What finding the duplicates missed (here: all of them) is refused after the insert,
    also when the indexes were dropped for it: the source fails, nothing is skipped."""
    monkeypatch.setattr(store_module, "BULK", bulk)
    monkeypatch.setattr(
        store_module.Staging,
        "_find_duplicates",
        lambda self, stored: self._store.db.execute(
            "CREATE TEMP TABLE stage_duplicates (seq INTEGER PRIMARY KEY)"
        ),
    )
    indexes = _indexes(st)
    with pytest.raises(_refusal(st), match=r"messages\.dedup|would repeat message 1"):
        _store(st, tmp_path, "Ann", [[_msg("a", "1", 1), _msg("b", "2", 2), _msg("a", "3", 3)]])
    assert st.max_message_id() == 0 and st.counts()["sources"] == 0
    assert _indexes(st) == indexes


def test_a_source_notes_its_own_repeats_where_it_is_staged(st: Store, tmp_path: Path) -> None:
    """finish() (run where the source is read: a worker of a sharded ingest) lists the
    repeats; storing takes that list, and what it lacks is refused, not stored twice."""
    rows = [_msg("b", "1", 2), _msg("a", "2", 1), _msg("b", "3", 1), _msg("b", "4", 1)]
    with st.staging(tmp_path / "staging.sqlite") as staged:
        staged.add([m.row() for m in rows])
        staged.finish()
        # In (time, staged order): b@3 comes first, so b@4 and b@1 repeat it.
        repeats = st.db.execute("SELECT seq FROM stage.repeats ORDER BY 1").fetchall()
        assert repeats == [(1,), (4,)]
        st.db.execute("DELETE FROM stage.repeats WHERE seq = 4")  # as if the worker missed it
        with pytest.raises(_refusal(st)), st.transaction():
            source = st.add_source("Ann", "sha-Ann", 1, "slack", "Ann", "UTC")
            staged.store(source, {"C1": st.upsert_conversation("slack", "C1", "channel", "g")})
    assert st.max_message_id() == 0 and st.counts()["sources"] == 0


def test_messages_an_older_discovery_stored_without_numbers_get_them(tmp_path: Path) -> None:
    """A store numbered while still of version 1 (so a discovery reading only 1 could open
    it and store messages without numbers): they get theirs, and the version 2."""
    path = tmp_path / "case.sqlite"
    _made_before(path, "named", stored="z")
    db = sqlite3.connect(path)  # numbered, yet still of version 1 (as an interim build left it)
    db.execute("ALTER TABLE messages ADD COLUMN dedup_hash INTEGER")
    db.execute("CREATE INDEX messages_dedup_hash ON messages (dedup_hash)")
    db.execute("DROP INDEX messages_dedup")
    db.commit()
    db.close()
    with Store(path) as st:
        assert st.db.execute("SELECT dedup_hash FROM messages").fetchall() == [(dedup_hash("z"),)]
        assert st.get_meta("schema_version") == "2"
        assert _store(st, tmp_path, "Ann", [[_msg("z", "1", 1)]]) == (0, 1)


def test_a_store_of_a_later_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "case.sqlite"
    Store(path, create=True).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    db.execute("DROP INDEX messages_dedup_hash")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="version 3; this discovery reads versions 1 to 2"):
        Store(path)
    names = [r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")]
    assert "messages_dedup_hash" not in names
