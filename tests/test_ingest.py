"""Ingest: idempotence, dedup across custodians, stable control numbers, threads,
atomic sources, zone-less timestamps, the real Slack sample, index catch-up."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from discovery.cli import app
from discovery.importers.base import ImportContext, ImportItem, RawMessage
from discovery.importers.detect import IMPORTERS
from discovery.ingest import ingest
from discovery.matter import Matter, open_matter
from discovery.search import Searcher
from discovery.store import Staging, Store
from tests.conftest import FIXTURES, SAMPLES

ACME = FIXTURES / "slack" / "acme"
JSONL = FIXTURES / "jsonl" / "messages.jsonl"
US_12H = FIXTURES / "transcript" / "us_12h.txt"
SLACK_SAMPLE = SAMPLES / "slack" / "slack-export-viewer_testarchive.zip"


def snapshot(store: Store) -> dict[int, tuple[str, str, str]]:
    """id -> (native id, conversation key, dedup key) of every stored message."""
    return {
        r[0]: (r[1], r[2], r[3])
        for r in store.db.execute(
            "SELECT m.id, m.native_id, c.native_key, m.dedup FROM messages m"
            " JOIN conversations c ON c.id = m.conversation_id ORDER BY m.id"
        )
    }


def table_counts(store: Store) -> dict[str, int]:
    return {
        t: int(store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
        for t in ("messages", "sources", "conversations", "participants", "message_sources")
    }


def by_native(m: Matter, native_id: str) -> Any:
    (mid,) = m.store.db.execute(
        "SELECT id FROM messages WHERE native_id = ?", (native_id,)
    ).fetchone()
    return m.store.message(mid)


# --- idempotence and dedup ----------------------------------------------------------------------


def test_reingest_adds_nothing_and_renumbers_nothing(tmp_path: Path) -> None:
    with open_matter("m", create=True) as m:
        first = ingest(m, [ACME])
        assert first.added == 50
        before = snapshot(m.store)
        assert sorted(before) == list(range(1, 51))

        again = ingest(m, [ACME])
        assert again.added == 0
        assert [s.status for s in again.sources] == ["already imported"]
        assert snapshot(m.store) == before

        # The same export grown by one day: a new source (new SHA-256), so every old
        # message goes through dedup; only the new one is added, numbered after the rest.
        grown = tmp_path / "acme-grown"
        shutil.copytree(ACME, grown)
        (grown / "general" / "2023-03-20.json").write_text(
            '[{"type": "message", "user": "U04ACME0MC", "text": "one more thing",'
            ' "ts": "1679300000.000900"}]',
            encoding="utf-8",
        )
        more = ingest(m, [grown])
        (rep,) = more.sources
        assert (rep.status, rep.added, rep.duplicates) == ("imported", 1, 50)
        after = snapshot(m.store)
        assert {k: after[k] for k in before} == before
        assert after[51][0] == "1679300000.000900"
        assert m.store.counts()["messages"] == 51


def test_same_export_from_second_custodian_is_one_message_with_both(tmp_path: Path) -> None:
    copy = tmp_path / "bob-acme"
    shutil.copytree(ACME, copy)
    with open_matter("m", create=True) as m:
        assert ingest(m, [ACME], custodian="alice").added == 50
        before = snapshot(m.store)
        second = ingest(m, [copy], custodian="bob")
        (rep,) = second.sources
        assert (rep.status, rep.added, rep.duplicates) == ("imported", 0, 50)
        assert snapshot(m.store) == before
        messages = m.store.messages(sorted(before))
        assert len(messages) == 50
        for msg in messages:
            assert msg.custodians == ("alice", "bob")
            assert msg.sources == (str(ACME), str(copy))
        assert m.store.counts()["custodians"] == 2
        # The very same path again under a third custodian is recorded too.
        third = ingest(m, [ACME], custodian="carol")
        assert third.sources[0].duplicates == 50
        assert m.store.message(1).custodians == ("alice", "bob", "carol")
        # Search sees one message per hit, holding every custodian.
        (hit,) = Searcher(m).search('"long tail"').hits
        assert hit.message.custodians == ("alice", "bob", "carol")


def test_control_numbers_are_stable_across_matters(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "acme"
    shutil.copytree(ACME, copy)
    with open_matter("one", create=True) as m1:
        ingest(m1, [ACME])
        ingest(m1, [JSONL])
        ingest(m1, [US_12H])
        one = snapshot(m1.store)
    # The same sources in the same order, in one call and from another place on disk.
    with open_matter("two", create=True) as m2:
        ingest(m2, [copy, JSONL, US_12H])
        two = snapshot(m2.store)
    assert len(one) == 50 + 3 + 5
    assert one == two
    # A different order gives other numbers (so the check above is not vacuous).
    with open_matter("three", create=True) as m3:
        ingest(m3, [JSONL, ACME, US_12H])
        assert snapshot(m3.store) != one
        assert {v for v in snapshot(m3.store).values()} == set(one.values())


# --- threads --------------------------------------------------------------------------------------


def test_a_root_in_a_later_source_adopts_the_replies_stored_before_it(tmp_path: Path) -> None:
    def jsonl(name: str, *rows: str) -> Path:
        path = tmp_path / name
        path.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
        return path

    conv = '"conversation": "deal", "platform": "teams"'
    replies = jsonl(
        "replies.jsonl",
        f'{{{conv}, "sender": "B", "timestamp": "2023-03-08T10:05:00Z", "content": "yes",'
        ' "id": "r1", "thread": "root"}',
        f'{{{conv}, "sender": "C", "timestamp": "2023-03-08T10:06:00Z", "content": "no",'
        ' "id": "r2", "thread": "gone"}',
    )
    root = jsonl(
        "root.jsonl",
        f'{{{conv}, "sender": "A", "timestamp": "2023-03-08T10:00:00Z", "content": "go?",'
        ' "id": "root"}',
    )
    later = jsonl(
        "later.jsonl",
        f'{{{conv}, "sender": "D", "timestamp": "2023-03-08T11:00:00Z", "content": "late",'
        ' "id": "r3", "thread": "root"}',
    )
    with open_matter("adopt", create=True) as m:
        first, second, third = ingest(m, [replies, root, later]).sources
        assert (first.unthreaded, second.unthreaded, third.unthreaded) == (2, 0, 0)
        top = by_native(m, "root")
        assert by_native(m, "r1").thread_root == top.id  # stored before its root
        assert by_native(m, "r3").thread_root == top.id  # stored after it
        assert by_native(m, "r2").thread_root is None  # its root is in no source
        # Each source looks at the unlinked replies alone, not at every message.
        (plan,) = {
            r[3]
            for r in m.store.db.execute(
                "EXPLAIN QUERY PLAN UPDATE messages SET thread_root = 1"
                " WHERE thread_key IS NOT NULL AND thread_root IS NULL"
            )
        }
        assert "messages_unlinked" in plan


def test_thread_roots_across_days_and_tombstones() -> None:
    with open_matter("m", create=True) as m:
        (rep,) = ingest(m, [ACME]).sources
        assert rep.unthreaded == 0
        root = by_native(m, "1678405800.000124")  # 2023-03-09
        assert root.thread_root is None
        for native in ("1678406280.000125", "1678407600.000126", "1678456800.000127"):
            reply = by_native(m, native)  # the last two are filed under 2023-03-10
            assert reply.thread_root == root.id, native
            assert reply.conversation_id == root.conversation_id
        tomb = by_native(m, "1678464000.000128")
        assert tomb.deleted is True
        assert tomb.thread_root is None
        reply = by_native(m, "1678464300.000129")
        assert reply.thread_root == tomb.id
        assert reply.deleted is False
        assert not (
            m.store.db.execute(
                "SELECT count(*) FROM messages WHERE thread_key IS NOT NULL AND thread_root IS NULL"
            ).fetchone()[0]
        )


# --- atomic sources ------------------------------------------------------------------------------


def test_source_failing_while_stored_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Staging.store

    def add_then_fail(self: Staging, source_id: int, conversations: Any) -> tuple[int, int]:
        real(self, source_id, conversations)
        assert self._store.max_message_id() > 3  # rows really were written before the failure
        raise RuntimeError("disk on fire")

    with open_matter("m", create=True) as m:
        ingest(m, [JSONL])
        before_rows, before_counts = snapshot(m.store), table_counts(m.store)
        monkeypatch.setattr(Staging, "store", add_then_fail)
        failed = ingest(m, [ACME])  # the fault fails its source (reported), not the run
        assert [s.status for s in failed.sources] == ["failed"]
        assert [str(p) for p in failed.sources[0].problems] == [
            f"{ACME}: could not be stored (RuntimeError); nothing of it was imported"
        ]
        assert snapshot(m.store) == before_rows
        assert table_counts(m.store) == before_counts
        assert not m.store.db.in_transaction
        monkeypatch.setattr(Staging, "store", real)
        again = ingest(m, [ACME])
        assert again.added == 50
        assert sorted(snapshot(m.store)) == list(range(1, 54))  # no gap where it failed
        assert Searcher(m).count("libgen") == 4 + 1  # acme's four and the JSONL's one


def test_importer_crashing_midway_fails_its_source_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken-acme"
    shutil.copytree(ACME, broken)
    slack = IMPORTERS["slack"]
    real_read = type(slack).read

    def crashing_read(self: Any, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        n = 0
        for item in real_read(self, path, ctx):
            yield item
            n += isinstance(item, RawMessage)
            if path == broken and n == 10:
                raise AttributeError("'NoneType' object has no attribute 'get'")

    monkeypatch.setattr(type(slack), "read", crashing_read)
    with open_matter("m", create=True) as m:
        report = ingest(m, [broken, JSONL])
        assert report.failed
        bad, good = report.sources
        assert bad.status == "failed" and bad.added == 0
        assert bad.problems and str(broken) in str(bad.problems[0])
        assert "AttributeError" in str(bad.problems[0])
        assert (good.status, good.added) == ("imported", 3)
        assert table_counts(m.store)["messages"] == 3
        assert table_counts(m.store)["sources"] == 1
        monkeypatch.setattr(type(slack), "read", real_read)
        assert ingest(m, [broken]).added == 50


def test_cli_exit_1_when_a_source_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_read(self: Any, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        raise IndexError("list index out of range")
        yield  # pragma: no cover

    monkeypatch.setattr(type(IMPORTERS["slack"]), "read", failing_read)
    result = CliRunner().invoke(app, ["ingest", str(ACME), str(JSONL)])
    assert result.exit_code == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert f"problem: {ACME}: unreadable (IndexError" in result.stdout
    assert "3 messages added" in result.stdout


# --- time zones -----------------------------------------------------------------------------------


def test_zoneless_timestamps_read_in_tz(tmp_path: Path) -> None:
    summer = tmp_path / "summer.txt"
    summer.write_text(
        "Ann Lee (7/4/2023 10:15 AM): fireworks at noon\n"
        "Bob Ray (7/4/2023 10:16 AM): see you there\n"
        "Ann Lee (7/4/2023 10:17 AM): bring the permits\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["ingest", str(US_12H), str(summer), "--tz", "America/New_York", "-m", "ny"]
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    with open_matter("ny") as m:
        assert {s.path: s.tz for s in m.store.sources()} == {
            str(US_12H): "America/New_York",
            str(summer): "America/New_York",
        }
        rows = m.store.messages(range(1, m.store.max_message_id() + 1))
        times = {r.text: r.sent_at for r in rows}
        assert times["Licensing every title would take years."] == datetime(
            2023, 2, 3, 15, 15, tzinfo=UTC
        )  # EST, UTC-5
        assert times["Who wrote that? Please ask for permission first."] == datetime(
            2023, 2, 13, 14, 5, tzinfo=UTC
        )
        assert times["fireworks at noon"] == datetime(2023, 7, 4, 14, 15, tzinfo=UTC)  # EDT
        assert all(r.utc_offset is None for r in rows)
        assert all(r.sent_at.utcoffset() is not None for r in rows)
    # Without --tz the same wall-clock times are read as UTC.
    assert CliRunner().invoke(app, ["ingest", str(US_12H), "-m", "utc"]).exit_code == 0
    with open_matter("utc") as m:
        (first,) = m.store.messages([1])
        assert first.sent_at == datetime(2023, 2, 3, 10, 15, tzinfo=UTC)
        assert m.store.sources()[0].tz == "UTC"


# --- the real Slack sample ---------------------------------------------------------------------


@pytest.mark.skipif(not SLACK_SAMPLE.exists(), reason="real Slack sample not present")
def test_real_slack_sample() -> None:
    with open_matter("sample", create=True) as m:
        (rep,) = ingest(m, [SLACK_SAMPLE]).sources
        # 158 entries in the archive; 8 channel joins and 3 integration adds are events.
        assert (rep.status, rep.added, rep.system, rep.problems) == ("imported", 158, 11, [])
        assert m.store.counts()["conversations"] == 2

        msg = by_native(m, "1452837352.000006")
        assert (msg.conversation, msg.speaker, msg.speaker_id) == ("enrique", "hamza", "U0BMQB6JE")
        assert msg.sent_at == datetime(2016, 1, 15, 5, 55, 52, 6, tzinfo=UTC)
        assert msg.text.startswith("@abilinski: Created an issue for a setup.py")
        assert msg.system is False

        msg = by_native(m, "1452845924.000009")
        assert (msg.speaker, msg.speaker_id) == ("hamza", "U0BMQB6JE")
        assert msg.sent_at == datetime(2016, 1, 15, 8, 18, 44, 9, tzinfo=UTC)
        assert msg.text == 'Nope. Just "install" the executor.'

        msg = by_native(m, "1452845865.000008")
        assert (msg.speaker, msg.speaker_id) == ("abilinski", "U0BMYT2FL")

        join = by_native(m, "1452837318.000005")
        assert join.system is True
        assert join.speaker == "heroeshannibal"  # no display name: the user name
        assert join.text == "@heroeshannibal has joined the channel"
        add = by_native(m, "1452988903.000006")
        assert (add.system, add.conversation) == (True, "traveling-sailor")
        bot = by_native(m, "1454892394.000004")  # a bot's commit notice is content
        assert bot.system is False
        assert "executor with simulated annealing" in bot.text

        searcher = Searcher(m)
        assert searcher.count('"has joined the channel"') == 0
        assert searcher.count('"has joined the channel"', include_system=True) == 8


# --- index catch-up -------------------------------------------------------------------------------


def test_index_catches_up_after_crash_between_store_and_index(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with open_matter("m", create=True) as m:
        engine_type = type(m.engine)
        with monkeypatch.context() as patched:

            def crash(self: Any, rows: Any) -> int:
                raise RuntimeError("killed while indexing")

            patched.setattr(engine_type, "add", crash)
            with pytest.raises(RuntimeError, match="killed while indexing"):
                ingest(m, [ACME])
        assert m.store.counts()["messages"] == 50  # the store committed
        assert m.engine.indexed_through() == 0  # the index did not
        assert not m.is_current()
    with open_matter("m") as m:  # opening (for a search) never writes the index
        assert not m.is_current()
        view = m.view()
        assert (view.indexed, view.stored, view.partial) == (0, 50, True)
        assert Searcher(m).count("libgen") == 0  # over what is indexed: nothing yet
    partial = CliRunner().invoke(app, ["search", "libgen", "--count", "-m", "m"])
    assert partial.exit_code == 0 and partial.stdout == "0\n"
    assert "the index holds 0 of the 50 stored messages" in partial.stderr
    with open_matter("m") as m:
        (again,) = ingest(m, [ACME]).sources  # the next ingest finishes the indexing
        assert again.status == "already imported"
        assert m.is_current() and m.engine.indexed_through() == 50
        searcher = Searcher(m)
        assert searcher.count("libgen") == 4
        assert searcher.count('"ask forgiveness"') > 0
    result = CliRunner().invoke(app, ["search", "libgen", "--count", "-m", "m"])
    assert result.stdout == "4\n" and result.stderr == ""


# --- review fixes: bad times, extra fields, separators, a busy index --------------------------


def write_jsonl(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_an_unusable_time_keeps_that_message_undated(tmp_path: Path) -> None:
    src = write_jsonl(
        tmp_path / "t.jsonl",
        [
            '{"conversation": "c", "speaker": "A", "time": "2023-01-01T00:00:00+25:00",'
            ' "text": "bad offset"}',
            '{"conversation": "c", "speaker": "A", "time": "2023-01-01T00:00:00+01:00",'
            ' "text": "good one"}',
        ],
    )
    with open_matter("m", create=True) as m:
        (rep,) = ingest(m, [src]).sources
        assert rep.status == "imported" and (rep.added, rep.undated) == (2, 1)
        assert any("unusable time" in str(p) and "kept undated" in str(p) for p in rep.problems)
        assert Searcher(m).count("good") == 1
        (bad,) = Searcher(m).search('"bad offset"').hits
        assert bad.message.undated


def test_a_time_with_no_utc_equivalent_keeps_that_message_undated(tmp_path: Path) -> None:
    """Year 1 at +01:00 and 31 December 9999 at -05:00 parse, but have no UTC time: both
    messages are kept, undated, with the time as read in their extra fields (they were
    dropped with only a report)."""
    src = write_jsonl(
        tmp_path / "t.jsonl",
        [
            '{"conversation": "c", "speaker": "A", "time": "0001-01-01T00:00:00+01:00",'
            ' "text": "tiny year"}',
            '{"conversation": "c", "speaker": "A", "time": "9999-12-31T23:30:00-05:00",'
            ' "text": "huge year"}',
            '{"conversation": "c", "speaker": "A", "time": "2023-01-01T00:00:00+01:00",'
            ' "text": "good one"}',
        ],
    )
    with open_matter("m", create=True) as m:
        (rep,) = ingest(m, [src]).sources
        assert (rep.added, rep.undated) == (3, 2)
        assert sum("line 1: unusable time" in str(p) for p in rep.problems) == 1
        assert sum("line 2: unusable time" in str(p) for p in rep.problems) == 1
        hits = Searcher(m).search("year").hits
        assert sorted(h.message.text for h in hits) == ["huge year", "tiny year"]
        assert all(h.message.undated for h in hits)
        extras = [
            json.loads(e)
            for (e,) in m.store.db.execute(
                "SELECT extra FROM messages WHERE extra IS NOT NULL ORDER BY id"
            )
        ]
        assert [e["fields"]["time_as_read"] for e in extras] == [
            "0001-01-01 00:00:00+01:00",
            "9999-12-31 23:30:00-05:00",
        ]


def one_message(path: Path, **fields: str) -> Path:
    """A JSONL file holding one message in conversation "c" by "A", plus ``fields``."""
    row = {"conversation": "c", "speaker": "A", "time": "2023-01-01T00:00:00Z", **fields}
    return write_jsonl(path, [json.dumps(row)])


def test_fields_beyond_the_model_are_kept(tmp_path: Path) -> None:
    src = one_message(tmp_path / "t.jsonl", text="hello", device="phone 7")
    with open_matter("m", create=True) as m:
        ingest(m, [src])
        (extra,) = m.store.db.execute("SELECT extra FROM messages").fetchone()
    assert "phone 7" in extra


def test_a_record_separator_inside_a_text_does_not_split_it(tmp_path: Path) -> None:
    src = one_message(tmp_path / "t.jsonl", text="ask\x1eforgiveness")
    with open_matter("m", create=True) as m:
        ingest(m, [src])
        assert Searcher(m).count('"ask forgiveness"') == 1


def test_search_answers_over_what_is_indexed_while_an_ingest_writes(tmp_path: Path) -> None:
    with open_matter("m", create=True) as m:
        ingest(m, [ACME])
    with open_matter("m") as writer, writer.writing():  # this test is the running ingest
        writer.store.db.execute(  # a stored but not yet indexed message
            "INSERT INTO messages (dedup, native_id, conversation_id, speaker_id, speaker,"
            " sent_us, text, dedup_hash) VALUES ('x', 'n', 1, 'u', 'U', 0, 'libgen extra',"
            " dedup_hash('x'))"
        )
        with open_matter("m") as m:  # opening does not wait for the writer
            view = m.view()
            assert view.writer is not None and view.writer.pid == os.getpid()
            assert (view.indexed, view.stored, view.partial) == (50, 51, True)
            searcher = Searcher(m)
            assert searcher.count("libgen") == 4
            assert max(searcher.match("NOT zzz")[1]) == 50
        result = CliRunner().invoke(app, ["ingest", str(US_12H), "--matter", "m"])
        assert result.exit_code == 1
        assert "matter 'm' is being written by another ingest (process" in result.stderr
        assert "--wait" in result.stderr
        found = CliRunner().invoke(app, ["search", "libgen", "--json", "-m", "m"])
        assert found.exit_code == 0
        assert [json.loads(line)["partial"] for line in found.stdout.splitlines()] == [True] * 4
        assert "an ingest is running in this matter" in found.stderr
    with open_matter("m") as m:  # the next ingest indexes what was stored before it
        ingest(m, [US_12H])
        # acme's 4, the inserted one, and the transcript's
        assert Searcher(m).count("libgen") == 6


def test_the_search_summary_counts_the_custodians_holding_the_hits() -> None:
    with open_matter("m", create=True) as m:
        ingest(m, [ACME], custodian="Dana")
        ingest(m, [ACME], custodian="Marcus")  # the same messages, a second holder
        ingest(m, [US_12H], custodian="Court")
        searcher = Searcher(m)
        assert searcher.search("libgen").custodians == 3
        assert searcher.search('"pirated books"').custodians == 2
        assert searcher.search("noon").custodians == 1
        assert searcher.search("zzzunknown").custodians == 0


def test_a_message_that_would_be_stored_twice_fails_its_source_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should finding the duplicates miss one, the check refuses the source by name and
    the ingest goes on (here it misses all: the second copy of acme repeats every one)."""
    with open_matter("m", create=True) as m:
        ingest(m, [ACME], custodian="Ann")
        monkeypatch.setattr(
            Staging,
            "_find_duplicates",
            lambda self, stored: self._store.db.execute(
                "CREATE TEMP TABLE stage_duplicates (seq INTEGER PRIMARY KEY)"
            ),
        )
        report = ingest(m, [ACME], custodian="Bob")
        (rep,) = report.sources
        assert rep.status == "failed"
        assert "would repeat message 1 (the same dedup key)" in rep.problems[0].reason
        assert m.store.max_message_id() == 50 and m.store.counts()["sources"] == 1
