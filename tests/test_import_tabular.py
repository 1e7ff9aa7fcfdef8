"""Generic CSV and JSONL importers: aliases, BOM, times, bad rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.tabular import (
    CsvImporter,
    JsonlImporter,
    parse_time,
    read_csv,
    read_jsonl,
    resolve_columns,
)
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.search import Searcher
from tests.fuzzing import check_items

FIX = Path(__file__).parents[1] / "fixtures"


def read(importer: CsvImporter | JsonlImporter, path: Path) -> list[ImportItem]:
    return list(importer.read(path, ImportContext(UTC, path.name)))


def messages(items: list[ImportItem]) -> list[RawMessage]:
    return [i for i in items if isinstance(i, RawMessage)]


def problems(items: list[ImportItem]) -> list[tuple[int | None, str]]:
    return [(i.line, i.reason) for i in items if isinstance(i, ImportProblem)]


def test_aliases_case_insensitive() -> None:
    cols = resolve_columns(["\ufeffChannel", "FROM", "Sent-At", " Message ", "Thread ID", "extra"])
    assert cols == {
        "conversation": "\ufeffChannel",
        "speaker": "FROM",
        "time": "Sent-At",
        "text": " Message ",
        "thread": "Thread ID",
    }


def test_csv_with_bom_aliases_and_quoted_newline() -> None:
    items = read(CsvImporter(), FIX / "csv" / "bom_aliases.csv")
    assert problems(items) == []
    convs = [i for i in items if isinstance(i, RawConversation)]
    assert [(c.platform, c.key) for c in convs] == [
        ("csv", "data-acquisition"),
        ("csv", "legal-review"),
    ]
    ms = messages(items)
    assert [(m.speaker, m.speaker_id, m.native_id, m.thread_key, m.location) for m in ms] == [
        ("Marcus Chen", "U1", "m1", None, "line 2"),
        ("Tom Okafor", "U2", "m2", "m1", "line 3"),
        ("Priya Raman", "U3", "m3", "m1", "line 4"),
        ("Dana Whitfield", "U4", "m4", None, "line 6"),
    ]
    assert ms[0].sent_at == datetime(2023, 3, 7, 15, 12, tzinfo=UTC)
    assert ms[2].sent_at == datetime(2023, 3, 7, 10, 20)  # naive stays naive
    assert ms[3].sent_at == datetime(2023, 3, 7, 15, 0)  # dateutil, month-first
    assert ms[2].text == 'Are those "pirated books"?\nLegal will want to know.'
    assert ms[0].text == "We should just ask forgiveness, not for permission."
    assert ms[0].extra == {"Device": "laptop"}


def test_csv_bad_rows_reported_with_lines() -> None:
    items = read(CsvImporter(), FIX / "csv" / "bad_rows.csv")
    assert [line for line, _ in problems(items)] == [3, 4, 5]
    reasons = [r for _, r in problems(items)]
    assert reasons[0] == "column 'time': unreadable time (10 characters); kept undated"
    assert "3 cells" in reasons[1]
    assert reasons[2] == "column 'time': empty time; kept undated"
    ms = messages(items)
    # rows without a readable time are kept, undated, never dropped
    assert [(m.text, m.sent_at) for m in ms] == [
        ("first row", datetime(2023, 1, 5, 9, 0)),
        ("the time is unreadable", None),
        ("empty time", None),
        ("epoch seconds", datetime(2023, 1, 5, 9, 3, tzinfo=UTC)),
    ]
    assert ms[1].extra == {"time": "not a time"}  # the unreadable cell is kept
    assert (ms[1].speaker, ms[1].location) == ("Bob Ray", "line 3")
    assert ms[0].conversation_key == "general"


def test_csv_undated_rows_are_stored_and_counted_in_the_report() -> None:
    with open_matter("tundated", create=True) as matter:
        (rep,) = ingest(matter, [FIX / "csv" / "bad_rows.csv"]).sources
        # rows 2, 3, 5, 6 are kept (3 and 5 undated); row 4 has too few cells
        assert (rep.added, rep.undated, len(rep.problems)) == (4, 2, 3)
        hits = Searcher(matter).search("time", sort="time").hits
        assert [(h.message.text, h.message.undated) for h in hits] == [
            ("the time is unreadable", True),
            ("empty time", True),
        ]


def test_csv_missing_required_column_is_one_problem() -> None:
    items = read(CsvImporter(), FIX / "csv" / "no_text_column.csv")
    assert len(items) == 1
    assert isinstance(items[0], ImportProblem)
    assert items[0].path == "no_text_column.csv"
    assert "text" in items[0].reason


def test_csv_without_conversation_column_uses_file_name() -> None:
    items = list(read_csv("Sender,Date,Body\nAnn,2023-01-01 10:00,hi\n", "chat.csv", "chat.csv"))
    assert isinstance(items[0], RawConversation) and items[0].key == "chat.csv"
    assert messages(items)[0].conversation_key == "chat.csv"


def test_jsonl_messages() -> None:
    items = read(JsonlImporter(), FIX / "jsonl" / "messages.jsonl")
    assert problems(items) == []
    ms = messages(items)
    assert [(m.platform, m.native_id, m.thread_key) for m in ms] == [
        ("teams", "j1", None),
        ("teams", "j2", "j1"),
        ("teams", "3", "j1"),
    ]
    assert ms[0].text == "Línea base accuracy is 71%."
    assert ms[1].sent_at == datetime(2023, 3, 8, 22, 41, tzinfo=UTC)  # epoch number
    assert ms[2].sent_at == datetime(2023, 3, 8, 22, 43)


def test_jsonl_bad_rows() -> None:
    items = read(JsonlImporter(), FIX / "jsonl" / "bad_row.jsonl")
    assert [line for line, _ in problems(items)] == [2, 3, 5, 6]
    ms = messages(items)
    assert [(m.text, m.location) for m in ms] == [("first", "line 1"), ("last", "line 7")]
    assert ms[0].sent_at == datetime(2023, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=1)))


def test_jsonl_rows_without_time_or_speaker_are_kept() -> None:
    text = (
        '{"speaker": "Ann", "time": "2023-01-01T10:00:00Z", "text": "dated"}\n'
        '{"speaker": "Bob", "text": "no time key"}\n'
        '{"speaker": "Bob", "time": null, "text": "null time"}\n'
        '{"speaker": "Bob", "time": "10:15", "text": "time without a date"}\n'
        '{"time": "2023-01-01T10:05:00Z", "text": "no speaker"}\n'
    )
    items = list(read_jsonl(text, "f.jsonl", "f.jsonl"))
    assert problems(items) == [
        (2, "row has no time; kept undated"),
        (3, "column 'time': no time; kept undated"),
        (
            4,
            "column 'time': time (5 characters) has no full date (year, month and day);"
            " kept undated",
        ),
    ]
    assert [(m.text, m.speaker, m.sent_at) for m in messages(items)] == [
        ("dated", "Ann", datetime(2023, 1, 1, 10, tzinfo=UTC)),
        ("no time key", "Bob", None),
        ("null time", "Bob", None),
        ("time without a date", "Bob", None),
        ("no speaker", "", datetime(2023, 1, 1, 10, 5, tzinfo=UTC)),
    ]


def test_jsonl_missing_key_in_first_object_is_one_problem() -> None:
    text = (
        '{"speaker": "a", "time": "2023-01-01"}\n'
        '{"speaker": "a", "time": "2023-01-01", "text": "x"}\n'
    )
    items = list(read_jsonl(text, "f.jsonl", "f.jsonl"))
    assert len(items) == 1 and isinstance(items[0], ImportProblem) and items[0].line == 1


def test_parse_time_forms() -> None:
    assert parse_time("2023-03-07T15:12:00Z") == datetime(2023, 3, 7, 15, 12, tzinfo=UTC)
    assert parse_time("1678201920000") == datetime(2023, 3, 7, 15, 12, tzinfo=UTC)
    assert parse_time(1678201920.5) == datetime(2023, 3, 7, 15, 12, 0, 500000, tzinfo=UTC)
    assert parse_time("March 7, 2023 3:12 PM") == datetime(2023, 3, 7, 15, 12)


def test_sniff() -> None:
    assert CsvImporter().sniff(FIX / "csv" / "bom_aliases.csv")
    assert CsvImporter().sniff(FIX / "csv" / "no_text_column.csv")  # claimed, then reported
    assert not CsvImporter().sniff(FIX / "jsonl" / "messages.jsonl")
    assert JsonlImporter().sniff(FIX / "jsonl" / "messages.jsonl")
    assert not JsonlImporter().sniff(FIX / "csv" / "bom_aliases.csv")
    assert not JsonlImporter().sniff(FIX / "slack" / "acme" / "users.json")


def test_sniff_by_content_without_extension(tmp_path: Path) -> None:
    c = tmp_path / "export"
    c.write_text("user,timestamp,content\nann,2023-01-01,hi\n")
    assert CsvImporter().sniff(c)
    j = tmp_path / "export2"
    j.write_text(json.dumps({"user": "ann", "timestamp": "2023-01-01", "content": "hi"}) + "\n")
    assert JsonlImporter().sniff(j)
    assert not CsvImporter().sniff(j)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), cut=st.integers(min_value=0, max_value=400))
def test_mutated_csv_never_raises(text: str, cut: int) -> None:
    base = (FIX / "csv" / "bom_aliases.csv").read_text(encoding="utf-8-sig")
    mutated = base[: len(base) - cut % len(base)] + text
    check_items(read_csv(mutated, "f.csv", "f.csv"))
    check_items(read_csv(text, "f.csv", "f.csv"))


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=15),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.dictionaries(
            st.sampled_from(["speaker", "time", "text", "id", "thread", "chat", "platform", "x"]),
            _values,
        ),
        max_size=5,
    ),
    junk=st.text(max_size=30),
)
def test_mutated_jsonl_never_raises(rows: list[dict], junk: str) -> None:
    text = "\n".join(json.dumps(r) for r in rows) + "\n" + junk
    check_items(read_jsonl(text, "f.jsonl", "f.jsonl"))
