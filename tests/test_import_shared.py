"""The helpers every importer shares (textio, times, zips), and the review fixes they carry.

Same-named files never merging, strict dates, one day/month order per CSV,
invalid UTF-8 always reported, unreadable and truncated files explained.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from discovery.archive import ZIP_ERRORS, sha256_stream
from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawMessage
from discovery.importers.detect import IMPORTERS, iter_sources
from discovery.importers.meta import _html_time
from discovery.importers.tabular import parse_time, read_csv, read_jsonl
from discovery.importers.textio import (
    NOT_UTF8,
    decode_html,
    decode_json,
    decode_text,
    head,
    read_bytes,
)
from discovery.importers.times import (
    from_epoch,
    infer_day_first,
    parse_iso,
    parse_loose,
    sort_key,
)
from discovery.ingest import ingest
from discovery.matter import open_matter
from tests.conftest import FIXTURES

# --- times -----------------------------------------------------------------------------------


def test_from_epoch_is_exact_for_seconds_milliseconds_and_microseconds() -> None:
    base = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert from_epoch(1_700_000_000) == base
    assert from_epoch(1_700_000_000_123) == base + timedelta(microseconds=123_000)
    assert from_epoch(1_700_000_000_123_457) == base + timedelta(microseconds=123_457)
    assert from_epoch("1700000000.000002") == base + timedelta(microseconds=2)
    assert from_epoch(1_700_000_000.5) == base + timedelta(microseconds=500_000)
    assert from_epoch(1_700_000_000_000, 1000) == base
    assert from_epoch(10**30) is None
    assert from_epoch(True) is None and from_epoch("soon") is None


@pytest.mark.parametrize("text", ["10:15", "Jan 5 10:15", "2023-05", "tuesday", "5 PM"])
def test_parse_loose_refuses_a_time_without_a_full_date(text: str) -> None:
    with pytest.raises(ValueError, match=r"full date|unreadable"):
        parse_loose(text)


def test_parse_loose_reads_full_dates_and_honours_the_order() -> None:
    assert parse_loose("Jan 17, 2020 9:49:00 pm") == datetime(2020, 1, 17, 21, 49)
    assert parse_loose("12/03/2023 10:00") == datetime(2023, 12, 3, 10, 0)
    assert parse_loose("12/03/2023 10:00", day_first=True) == datetime(2023, 3, 12, 10, 0)
    # "UTC+03:00" means three hours east, not dateutil's POSIX reading (west).
    got = parse_loose("12/03/2023 10:00 UTC+03:00")
    assert got.utcoffset() == timedelta(hours=3)


def test_offsets_beyond_a_day_are_refused_where_they_are_read() -> None:
    assert parse_iso("2023-01-01T00:00:00+25:00") is None
    assert parse_iso("2023-01-01T00:00:00.1234567+02:00") == datetime(
        2023, 1, 1, 0, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))
    )
    with pytest.raises(ValueError, match=r"\+25:00"):
        parse_loose("2023-01-01 10:00 +25:00")


def test_infer_day_first_and_sort_key() -> None:
    assert infer_day_first(["12/03/2023", "13/03/2023"])
    assert not infer_day_first(["12/03/2023", "12/13/2023"])
    assert not infer_day_first(["01/02/2023"]) and infer_day_first(["01.02.2023"])
    naive, aware = datetime(2023, 1, 1, 12), datetime(2023, 1, 1, 13, tzinfo=UTC)
    assert sorted([aware, naive], key=sort_key) == [naive, aware]


# --- textio and zips -------------------------------------------------------------------------


def test_head_read_bytes_and_decoding(tmp_path: Path) -> None:
    text, binary = tmp_path / "a.txt", tmp_path / "b.bin"
    text.write_bytes(b"\xef\xbb\xbfhello")
    binary.write_bytes(b"ab\x00cd")
    assert head(text) == b"\xef\xbb\xbfhello" and head(binary) is None
    assert head(tmp_path / "missing") is None and head(tmp_path) is None
    raw, problems = read_bytes(tmp_path, "folder")
    assert raw is None and "cannot read the file" in str(problems[0])
    assert decode_text(b"\xef\xbb\xbfok", "w") == ("ok", [])
    got, problems = decode_text(b"caf\xe9", "w")
    assert got == "caf\ufffd" and [p.reason for p in problems] == [NOT_UTF8]
    value, problems = decode_json(b'{"a": [1,\n 2,\n', "w")
    assert value is None and problems[-1].line == 3 and "not valid JSON" in problems[-1].reason
    value, problems = decode_json(b'{"a": "\xff"}', "w")
    assert value == {"a": "\ufffd"} and [p.reason for p in problems] == [NOT_UTF8]
    declared = b'<meta charset="windows-1252"><p>caf\xe9</p>'
    assert decode_html(declared, "w") == (declared, [])
    assert decode_html(b"<p>caf\xe9</p>", "w")[1][0].reason == NOT_UTF8


def test_sha256_stream_and_zip_errors() -> None:
    size, digest = sha256_stream(io.BytesIO(b"abc"))
    assert size == 3
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    with pytest.raises(ZIP_ERRORS):
        zipfile.ZipFile(io.BytesIO(b"PK\x03\x04 not a zip"))


# --- invalid UTF-8 is reported by every text importer ----------------------------------------


def _spoil(src: Path, dest: Path, marker: bytes) -> Path:
    raw = src.read_bytes()
    assert marker in raw, marker
    dest.write_bytes(raw.replace(marker, marker + b"\xff", 1))
    return dest


SPOILED = [
    ("mattermost", "mattermost/bulk_export.jsonl", b"Deal Room"),
    ("messenger", "messenger/html/message_1.html", b"See you at the archive"),
    ("messenger", "messenger/inbox/annlee_a1b2c3/message_1.json", b'"content": "'),
    ("telegram", "telegram/ChatExport_2024-01-02/messages.html", b"Plain string text"),
    ("telegram", "telegram/single_chat.json", b'"text": "'),
    ("transcript", "transcript/us_12h.txt", b"):"),
    ("whatsapp", "whatsapp/android_uk_24h.txt", b": "),
    ("csv", "csv/bom_aliases.csv", b"\n"),
    ("jsonl", "jsonl/messages.jsonl", b'"content": "'),
    ("html", "html/saved_chat.html", b"</p>"),
]


@pytest.mark.parametrize(("fmt", "fixture", "marker"), SPOILED, ids=[s[1] for s in SPOILED])
def test_every_importer_reports_invalid_utf8(
    tmp_path: Path, fmt: str, fixture: str, marker: bytes
) -> None:
    src = FIXTURES / fixture
    folder = tmp_path / src.parent.name
    folder.mkdir()
    spoiled = _spoil(src, folder / src.name, marker)
    items = list(IMPORTERS[fmt].read(spoiled, ImportContext(UTC, "spoiled")))
    assert any(isinstance(i, ImportProblem) and i.reason == NOT_UTF8 for i in items)
    assert any(isinstance(i, RawMessage) for i in items)


# --- CSV/JSONL: one date order per file, no date-less times ----------------------------------


def _csv(rows: list[str]) -> list[ImportItem]:
    text = "speaker,time,text\n" + "\n".join(rows) + "\n"
    return list(read_csv(text, "k", "c.csv"))


def _times(items: list[ImportItem]) -> list[datetime | None]:
    return [i.sent_at for i in items if isinstance(i, RawMessage)]


def test_csv_reads_every_row_in_the_files_day_month_order() -> None:
    day_first = _csv(["A,12/03/2023 10:00,one", "B,13/03/2023 10:00,two", "C,2023-03-14,iso"])
    assert _times(day_first) == [
        datetime(2023, 3, 12, 10),
        datetime(2023, 3, 13, 10),
        datetime(2023, 3, 14),
    ]
    month_first = _csv(["A,12/03/2023 10:00,one", "B,12/13/2023 10:00,two"])
    assert _times(month_first) == [datetime(2023, 12, 3, 10), datetime(2023, 12, 13, 10)]
    jsonl = "\n".join(
        f'{{"speaker": "A", "time": "{t}", "text": "x"}}' for t in ("12/03/2023", "31/03/2023")
    )
    assert _times(list(read_jsonl(jsonl, "k", "j.jsonl"))) == [
        datetime(2023, 3, 12),
        datetime(2023, 3, 31),
    ]


def test_a_time_without_a_date_is_a_problem_at_its_row_not_today() -> None:
    items = _csv(["A,10:15,no date", "B,2023-03-01 10:16,dated"])
    (problem,) = [i for i in items if isinstance(i, ImportProblem)]
    assert problem.line == 2 and "full date" in problem.reason
    assert problem.reason.endswith("; kept undated")
    assert _times(items) == [None, datetime(2023, 3, 1, 10, 16)]  # kept, never dated today
    with pytest.raises(ValueError):
        parse_time("10:15")
    assert parse_time(1_700_000_000_123_456) == datetime(
        2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="full date"):
        _html_time("9:49 pm")


# --- conversations that are one file: same name, different files ----------------------------


def _conversations(m_name: str) -> list[tuple[str, str]]:
    with open_matter(m_name) as m:
        return sorted((name, platform) for _, name, platform in m.store.conversation_names())


def _chat(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


WA_ALICE = ["[01/02/2023, 10:00:00] Ann: hello", "[01/02/2023, 10:01:00] Bob: hi Ann"]
WA_BOB = ["[03/02/2023, 09:00:00] Cy: morning", "[03/02/2023, 09:05:00] Di: hey Cy"]
TR_ALICE = ["Ann (2/1/2023 10:00 AM): hello", "Bob (2/1/2023 10:01 AM): hi"]
TR_BOB = ["Cy (2/3/2023 9:00 AM): morning", "Di (2/3/2023 9:05 AM): hey"]


@pytest.mark.parametrize(
    ("name", "alice", "bob", "platform"),
    [
        ("_chat.txt", WA_ALICE, WA_BOB, "whatsapp"),
        ("chat.txt", TR_ALICE, TR_BOB, "transcript"),
        ("chat.csv", ["speaker,time,text", "Ann,2023-02-01 10:00,hello"], None, "csv"),
    ],
)
def test_same_named_files_in_two_folders_stay_two_conversations(
    tmp_path: Path, name: str, alice: list[str], bob: list[str] | None, platform: str
) -> None:
    bob = bob or ["speaker,time,text", "Cy,2023-02-03 09:00,morning"]
    a = _chat(tmp_path / "alice" / name, alice)
    b = _chat(tmp_path / "bob" / name, bob)
    with open_matter("m", create=True) as m:
        report = ingest(m, [a, b])
        assert [s.status for s in report.sources] == ["imported", "imported"]
    convs = _conversations("m")
    assert len(convs) == 2 and {p for _, p in convs} == {platform}


@pytest.mark.parametrize(("name", "lines"), [("_chat.txt", WA_ALICE), ("chat.txt", TR_ALICE)])
def test_the_same_file_from_two_custodians_is_one_conversation(
    tmp_path: Path, name: str, lines: list[str]
) -> None:
    a = _chat(tmp_path / "alice" / name, lines)
    b = tmp_path / "bob" / name
    b.parent.mkdir()
    shutil.copy(a, b)
    with open_matter("m", create=True) as m:
        first = ingest(m, [a], custodian="alice").sources[0]
        second = ingest(m, [b], custodian="bob").sources[0]
        assert (first.added, second.added, second.duplicates) == (2, 0, 2)
    assert len(_conversations("m")) == 1


def test_a_whatsapp_zip_and_its_unpacked_chat_deduplicate(tmp_path: Path) -> None:
    lines = [*WA_ALICE, "[01/02/2023, 10:02:00] Ann: ok", "[01/02/2023, 10:02:00] Ann: ok"]
    loose = _chat(tmp_path / "WhatsApp Chat - Ann" / "_chat.txt", lines)
    zipped = tmp_path / "WhatsApp Chat - Ann.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.write(loose, "_chat.txt")
    with open_matter("m", create=True) as m:
        first = ingest(m, [zipped]).sources[0]
        second = ingest(m, [loose]).sources[0]
        assert (first.added, second.added, second.duplicates) == (4, 0, 4)
    assert _conversations("m") == [("Ann", "whatsapp")]


# --- the walker says why a file cannot be read ---------------------------------------------


def test_an_unreadable_file_says_cannot_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = _chat(tmp_path / "locked.txt", TR_ALICE)
    real_open = Path.open

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        if self == locked:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", refuse)
    (unit,) = iter_sources([tmp_path])
    assert unit.importer is None and unit.problem is not None
    assert unit.problem.reason == "cannot read: Permission denied"


def test_a_truncated_json_says_where_it_stops_being_json(tmp_path: Path) -> None:
    (tmp_path / "export.json").write_text('{"messages": [\n  {"text": "hi"},\n', encoding="utf-8")
    (tmp_path / "other.json").write_text('{"valid": "but unknown"}', encoding="utf-8")
    units = {u.path.name: u for u in iter_sources([tmp_path])}
    bad = units["export.json"].problem
    assert bad is not None and bad.reason.startswith("not valid JSON at line 3")
    assert units["other.json"].problem is None and units["other.json"].importer is None


def test_an_email_body_that_does_not_fit_its_charset_is_reported(tmp_path: Path) -> None:
    eml = tmp_path / "m.eml"
    eml.write_bytes(
        b"From: Ann <ann@example.invalid>\r\nTo: bob@example.invalid\r\n"
        b"Subject: hi\r\nDate: Mon, 2 Jan 2023 10:00:00 +0000\r\nMessage-ID: <1@x>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"caf\xe9 ok\r\n"
    )
    items = list(IMPORTERS["email"].read(eml, ImportContext(UTC, "m.eml")))
    assert [i.reason for i in items if isinstance(i, ImportProblem)] == [NOT_UTF8]
    (msg,) = [i for i in items if isinstance(i, RawMessage)]
    assert "caf\ufffd ok" in msg.text
