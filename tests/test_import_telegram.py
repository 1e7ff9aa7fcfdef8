"""The Telegram importer: single chat, full account, entity text, dates, service, HTML, samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.detect import detect
from discovery.importers.telegram import (
    TelegramImporter,
    flatten_text,
    message_time,
    parse_html_date,
)
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.model import Attachment, ConversationKind, Reaction
from discovery.search import Searcher
from tests.conftest import FIXTURES, SAMPLES
from tests.fuzzing import Edits, byte_edits, mutate, read_mutated

FIX = FIXTURES / "telegram"
HTML = FIX / "ChatExport_2024-01-02" / "messages.html"
SAMPLE_DIR = SAMPLES / "telegram"


def read(path: Path) -> list[ImportItem]:
    return list(TelegramImporter().read(path, ImportContext(UTC, path.name)))


def messages(items: list[ImportItem]) -> list[RawMessage]:
    return [i for i in items if isinstance(i, RawMessage)]


def by_id(items: list[ImportItem]) -> dict[str, RawMessage]:
    return {m.native_id: m for m in messages(items)}


def test_single_chat() -> None:
    items = read(FIX / "single_chat.json")
    (conv,) = [i for i in items if isinstance(i, RawConversation)]
    assert (conv.platform, conv.key, conv.name, conv.kind) == (
        "telegram",
        "1234567890",
        "Ledger Crew",
        ConversationKind.GROUP,
    )
    assert [(p.speaker_id, p.name) for p in conv.participants] == [
        ("user101", "Ann Lee"),
        ("user102", "Bob Ray"),
    ]
    ms = by_id(items)
    assert ms["2"].text == "Plain string text about the ledger"
    assert (ms["2"].speaker, ms["2"].speaker_id) == ("Ann Lee", "user101")
    assert ms["2"].sent_at == datetime(2023, 12, 31, 21, 5, tzinfo=UTC)  # date_unixtime wins
    reply = ms["3"]
    assert (
        reply.text == "See the vault and this memo (https://example.org/memo), ask for permission"
    )
    assert reply.edited and reply.thread_key is None  # a reply is not a thread
    assert reply.reactions == (Reaction("👍", ("Ann Lee",)),)
    assert ms["4"].attachments == (
        Attachment("photo_1@31-12-2023_21-09-00.jpg", url="photos/photo_1@31-12-2023_21-09-00.jpg"),
    )
    assert ms["5"].attachments == (Attachment("ledger.pdf", 2048, url="files/ledger.pdf"),)
    assert ms["1"].system and "create group" in ms["1"].text and "Ledger Crew" in ms["1"].text
    assert ms["6"].system
    assert ms["7"].thread_key == "6"  # forum topic: a thread
    assert ms["8"].sent_at == datetime(2023, 12, 31, 21, 13)  # bad unixtime: naive `date`
    problems = [i for i in items if isinstance(i, ImportProblem)]
    assert [p.line for p in problems] == [9, 10]


def test_full_account_export() -> None:
    items = read(FIX / "account.json")
    convs = [i for i in items if isinstance(i, RawConversation)]
    assert [(c.key, c.name, c.kind) for c in convs] == [
        ("102", "Bob Ray", ConversationKind.DIRECT),
        ("103", "Cy Diaz", ConversationKind.DIRECT),
    ]
    ms = messages(items)
    assert ms[0].sent_at == datetime(2024, 1, 1, 9, 0)  # only `date`: zone unknown
    assert ms[0].conversation_key == "102"
    assert ms[1].sent_at == datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    assert any(isinstance(i, ImportProblem) and "chat 3" in i.reason for i in items)


def test_html_export() -> None:
    items = read(HTML)
    (conv,) = [i for i in items if isinstance(i, RawConversation)]
    assert conv.key == conv.name == "Ledger Crew"
    ms = messages(items)
    assert [(m.native_id, m.speaker, m.system) for m in ms] == [
        ("1", "", True),
        ("2", "Ann Lee", False),
        ("3", "Ann Lee", False),  # a "joined" block: the previous sender
        ("4", "Bob Ray", False),  # "via @bot" details dropped from the name
    ]
    plus3 = timezone(timedelta(hours=3))
    assert ms[1].sent_at == datetime(2023, 12, 31, 21, 5, tzinfo=plus3)
    assert ms[0].sent_at == ms[1].sent_at  # an undated event takes the next message's time
    assert ms[1].text == "Plain string text about the ledger\nsecond line"
    assert ms[2].attachments[0].name == "photo_1@31-12-2023_21-06-00.jpg"
    assert ms[3].sent_at == datetime(2023, 12, 31, 21, 7)  # no offset: naive
    (problem,) = [i for i in items if isinstance(i, ImportProblem)]
    assert "no readable date" in problem.reason


def test_helpers() -> None:
    assert flatten_text("a") == "a"
    assert flatten_text(["a", {"type": "bold", "text": "b"}, 3, None]) == "ab"
    assert flatten_text(None) == ""
    assert message_time({"date_unixtime": "1"}) == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
    # A zero date_unixtime is a scrubbed time, not 1970: the naive 'date' is used.
    assert message_time({"date_unixtime": "0000000000", "date": "2022-03-21T11:11:11"}) == (
        datetime(2022, 3, 21, 11, 11, 11)
    )
    assert message_time({"date_unixtime": "0"}) is None
    assert message_time({"date": "2024-01-01T09:00:00"}) == datetime(2024, 1, 1, 9)
    assert message_time({"date": "yesterday"}) is None
    assert parse_html_date("01.02.2024 03:04:05 UTC-05:30") == datetime(
        2024, 2, 1, 3, 4, 5, tzinfo=timezone(-timedelta(hours=5, minutes=30))
    )
    assert parse_html_date("32.01.2024 03:04:05") is None


def test_sniff() -> None:
    imp = TelegramImporter()
    for p in (FIX / "single_chat.json", FIX / "account.json", HTML):
        assert imp.sniff(p), p
        assert getattr(detect(p), "name", None) == "telegram"
    assert not imp.sniff(FIXTURES / "messenger" / "inbox" / "annlee_a1b2c3" / "message_1.json")
    assert not imp.sniff(FIXTURES / "slack" / "acme" / "users.json")


def test_ingest_naive_date_with_tz() -> None:
    with open_matter("tg", create=True) as m:
        ingest(m, [FIX / "account.json"], tz=ZoneInfo("Asia/Tokyo"), tz_name="Asia/Tokyo")
        (hit,) = Searcher(m).search('"zone unknown"').hits
        assert hit.message.sent_at == datetime(2024, 1, 1, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
        assert hit.message.utc_offset is None
        (hit,) = Searcher(m).search("vault").hits
        assert hit.message.sent_at == datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "name", ["chat-miner_single_export.json", "chat-miner_full_account_export.json"]
)
def test_real_samples(name: str) -> None:
    path = SAMPLE_DIR / name
    if not path.exists():
        pytest.skip("shared Telegram sample not present")
    with open_matter("s", create=True) as m:
        report = ingest(m, [path])
        assert (report.sources[0].format, report.sources[0].added) == ("telegram", 2)
        (hit,) = Searcher(m).search('"minimal message"').hits
        assert hit.message.speaker == "Author 1"
        assert hit.message.sent_at == datetime(2018, 12, 5, 10, 39, 10, tzinfo=UTC)
        (link,) = Searcher(m).search("telegram").hits
        assert link.message.speaker == "Author 2"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from(
        [
            "single_chat.json",
            "account.json",
            "ChatExport_2024-01-02/messages.html",
            "ChatExport_2024-03-05/messages.html",
        ]
    ),
    cut=st.integers(min_value=0, max_value=5000),
    edits=byte_edits(5000, 8),
)
def test_mutated_inputs_never_raise(which: str, cut: int, edits: Edits) -> None:
    data = mutate((FIX / which).read_bytes(), cut + 1, edits)
    assert read_mutated(TelegramImporter(), Path(which).name, data)


_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=6)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_KEYS = st.sampled_from(
    [
        "id",
        "type",
        "date",
        "date_unixtime",
        "from",
        "from_id",
        "text",
        "edited",
        "action",
        "actor",
        "reply_to_message_id",
        "photo",
        "file",
        "file_size",
        "reactions",
        "members",
    ]
)


@settings(max_examples=60, deadline=None)
@given(msgs=st.lists(st.dictionaries(_KEYS, _VALUES, max_size=8), max_size=4), single=st.booleans())
def test_odd_values_never_raise(msgs: list[dict[str, object]], single: bool) -> None:
    doc = {"name": "x", "messages": msgs} if single else {"chats": {"list": [{"messages": msgs}]}}
    read_mutated(TelegramImporter(), "result.json", json.dumps(doc).encode(), sniff=False)


DESKTOP = FIX / "ChatExport_2024-03-05"
EET = timezone(timedelta(hours=2))


def test_telegram_desktop_html_pages() -> None:
    one, two = read(DESKTOP / "messages.html"), read(DESKTOP / "messages2.html")
    conv1, conv2 = (next(i for i in x if isinstance(i, RawConversation)) for x in (one, two))
    assert conv1.key == conv2.key == "Harbor Deal Team"  # the pages are one conversation
    assert conv1.kind == ConversationKind.GROUP  # "created group"
    ms = by_id(one)
    assert "-1" not in ms  # the day separator is not a message
    assert (ms["1"].system, ms["1"].text) == (
        True,
        "Dana Whitfield created group «Harbor Deal Team»",
    )
    assert ms["1"].sent_at == ms["3"].sent_at and ms["1"].dated_by == "the next message's time"
    assert ms["3"].speaker == "Dana Whitfield"
    assert ms["3"].sent_at == datetime(2024, 3, 5, 9, 14, 7, tzinfo=EET)
    assert ms["3"].text == (
        "Morning all. The escrow figures came back from the bank.\n"
        "Please hold any forwarding until counsel signs off."
    )
    assert (ms["4"].speaker, ms["8"].speaker) == ("Dana Whitfield", "Dana Whitfield")  # joined
    assert (ms["5"].speaker, ms["5"].extra["reply_to"]) == ("Omar Haddad", "3")
    assert ms["6"].speaker == "Omar Haddad"  # the forwarder, not the original author
    assert ms["6"].extra["forwarded_from"] == "Priya Raman"
    assert ms["6"].text == "Forwarded from Priya Raman:\nThe valuation memo is final as of tonight."
    assert ms["7"].attachments == (Attachment("Voice message (00:41, 65.2 KB)"),)
    assert ms["8"].attachments == (Attachment("Photo (1280x960, 95.3 KB)"),)
    assert ms["8"].text == "Signed term sheet, page one."
    assert len([m for m in ms.values() if not m.system]) == 6
    ms2 = by_id(two)
    assert (ms2["10"].system, ms2["10"].sent_at) == (True, ms2["9"].sent_at)
    assert ms2["10"].dated_by == "the previous message's time"
    assert ms2["11"].sent_at == datetime(2024, 3, 6, 8, 7, 45, tzinfo=EET)


def test_telegram_desktop_html_is_claimed_by_content_only_by_telegram(tmp_path: Path) -> None:
    renamed = tmp_path / "chat export.html"
    renamed.write_bytes((DESKTOP / "messages.html").read_bytes())
    assert getattr(detect(renamed), "name", None) == "telegram"
    with open_matter("tg", create=True) as m:
        report = ingest(m, [DESKTOP])
        assert [(s.format, s.added) for s in report.sources] == [("telegram", 8), ("telegram", 3)]
        (hit,) = Searcher(m).search('"valuation memo"').hits
        assert hit.message.speaker == "Omar Haddad"


def test_scrubbed_export_repeated_ids_and_zero_unixtime(tmp_path: Path) -> None:
    """Scrubbed exports (tele_dashboard's sample) reuse one id and write date_unixtime 0."""
    rec = {"id": 7, "type": "message", "date_unixtime": "0000000000", "from": "Ann"}
    msgs = [
        {**rec, "date": "2022-03-21T11:11:11", "text": "Lorem ipsum"},
        {**rec, "date": "2022-03-21T11:11:11", "text": "Lorem ipsum"},  # the same record again
        {**rec, "date": "2022-08-18T11:11:11", "text": "Lorem ipsum"},  # another day: another
        {**rec, "text": "no date at all"},
    ]
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "G", "type": "private_group", "id": 1, "messages": msgs}))
    items = read(path)
    got = messages(items)
    assert [m.sent_at for m in got] == [
        datetime(2022, 3, 21, 11, 11, 11),
        datetime(2022, 3, 21, 11, 11, 11),
        datetime(2022, 8, 18, 11, 11, 11),
        None,
    ]
    assert [m.dated_by for m in got][:3] == ["its 'date' field (date_unixtime is 0)"] * 3
    problems = [i.reason for i in items if isinstance(i, ImportProblem)]
    assert len(problems) == 1 and problems[0].startswith("message id 7 is used by 4 records")
    with open_matter("scrubbed", create=True) as m:
        rep = ingest(m, [path]).sources[0]
    assert (rep.added, rep.duplicates, rep.undated) == (3, 1, 1)
