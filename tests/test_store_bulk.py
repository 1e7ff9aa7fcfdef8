"""The store's bulk insert: the same ids, duplicates and indexes as one row at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery import store as store_module
from discovery.store import NewMessage, Store


def _msg(dedup: str, location: str, sent: int = 0) -> NewMessage:
    return NewMessage(
        dedup=dedup,
        native_id=dedup,
        conversation_id=1,
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


@pytest.fixture
def st(tmp_path: Path) -> Store:
    st = Store(tmp_path / "case.sqlite", create=True)
    st.begin()
    st.upsert_conversation("slack", "C1", "channel", "general")
    st.commit()
    return st


@pytest.mark.parametrize("bulk", [1, 10**9], ids=["bulk", "row-by-row"])
def test_ids_duplicates_and_holders(st: Store, bulk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "BULK", bulk)
    indexes = _indexes(st)
    cache = st.db.execute("PRAGMA cache_size").fetchone()[0]
    st.begin()
    first = st.add_source("a", "sha-a", 1, "slack", "Ann", "UTC")
    # b repeats within the source: stored once, both locations recorded.
    assert st.add_messages(first, [_msg("a", "1"), _msg("b", "2"), _msg("b", "3")]) == (2, 1)
    st.commit()
    st.begin()
    second = st.add_source("b", "sha-b", 1, "slack", "Bob", "UTC")
    assert st.add_messages(second, [_msg("c", "1"), _msg("a", "2")]) == (1, 1)
    st.commit()
    rows = st.db.execute("SELECT id, dedup FROM messages ORDER BY id").fetchall()
    assert rows == [(1, "a"), (2, "b"), (3, "c")]
    holders = st.db.execute("SELECT * FROM message_sources ORDER BY 1, 2, 3").fetchall()
    assert holders == [
        (1, first, "1"),
        (1, second, "2"),
        (2, first, "2"),
        (2, first, "3"),
        (3, second, "1"),
    ]
    assert _indexes(st) == indexes
    assert st.db.execute("PRAGMA cache_size").fetchone()[0] == cache


def test_a_rolled_back_bulk_insert_leaves_the_indexes(
    st: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "BULK", 1)
    indexes = _indexes(st)
    st.begin()
    source = st.add_source("a", "sha-a", 1, "slack", "Ann", "UTC")
    st.add_messages(source, [_msg("a", "1"), _msg("b", "2")])
    st.rollback()
    assert _indexes(st) == indexes
    assert st.max_message_id() == 0
