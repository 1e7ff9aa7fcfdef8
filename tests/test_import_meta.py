"""The Messenger/Instagram/Workplace importer: parts, mojibake, BOM, order, HTML, samples."""

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
from discovery.importers.detect import detect, iter_sources
from discovery.importers.meta import MetaImporter, platform_of, repair
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.model import Attachment, ConversationKind, Reaction
from discovery.search import Searcher
from tests.conftest import FIXTURES, SAMPLES
from tests.fuzzing import Edits, byte_edits, mutate, read_mutated

FIX = FIXTURES / "messenger"
THREAD = FIX / "inbox" / "annlee_a1b2c3"
SAMPLE = SAMPLES / "messenger" / "chat-miner_instagram_message_1.json"


def read(path: Path) -> list[ImportItem]:
    return list(MetaImporter().read(path, ImportContext(UTC, str(path))))


def messages(items: list[ImportItem]) -> list[RawMessage]:
    return [i for i in items if isinstance(i, RawMessage)]


def test_repair_only_when_it_is_mojibake() -> None:
    assert repair("Ann L\u00c3\u00a9e") == "Ann Lée"
    assert repair("\u00f0\u009f\u0098\u0080") == "😀"
    assert repair("café") == "café"  # U+00E9 alone is not valid UTF-8: kept
    assert repair("Lée ☕") == "Lée ☕"  # a character above U+00FF: already decoded
    assert repair("plain") == "plain"


def test_thread_folder_parts_oldest_first() -> None:
    items = read(THREAD)
    (conv,) = [i for i in items if isinstance(i, RawConversation)]
    assert (conv.platform, conv.key, conv.name, conv.kind) == (
        "messenger",
        "inbox/annlee_a1b2c3",
        "Ann Lée",
        ConversationKind.DIRECT,
    )
    assert [p.name for p in conv.participants] == ["Ann Lée", "Bob Ray"]
    ms = messages(items)
    dated = [m.sent_at for m in ms[:-1]]
    assert dated == sorted(dated)
    # part 2's entry 4 has no timestamp: kept undated, sorted last
    assert (ms[-1].text, ms[-1].sent_at, ms[-1].speaker) == ("no time", None, "Bob Ray")
    assert [m.text for m in ms[:2]] == ["Hello Ann", "café stays café"]  # part 2 (BOM) is older
    coffee = ms[2]
    assert coffee.text == "Café at nine? 😀 ask for permission first"
    assert coffee.reactions == (Reaction("❤", ("Ann Lée",)),)
    assert coffee.native_id == "1704056000000"
    assert coffee.location == "message_1.json entry 5"
    photo = ms[3]
    assert photo.speaker == "Ann Lée"
    assert photo.attachments == (
        Attachment("scan_001.jpg", url="messages/inbox/annlee_a1b2c3/photos/scan_001.jpg"),
    )
    assert ms[4].text == "Look at this\nhttps://example.org/ledger"
    assert ms[5].deleted and ms[5].text == ""
    assert ms[6].system and not ms[5].system
    problems = [i for i in items if isinstance(i, ImportProblem)]
    assert [(p.path.endswith("message_2.json"), p.line) for p in problems] == [(True, 3), (True, 4)]
    assert problems[1].reason == "entry has no usable timestamp; kept undated"


def test_times_are_utc() -> None:
    ms = messages(read(THREAD))
    assert ms[0].sent_at == datetime.fromtimestamp(1704054000, UTC)
    assert all(m.sent_at.tzinfo is UTC for m in ms[:-1]) and ms[-1].sent_at is None


def test_entries_without_a_usable_timestamp_are_kept_undated(tmp_path: Path) -> None:
    part = tmp_path / "message_1.json"
    part.write_text(
        json.dumps(
            {
                "participants": [{"name": "Ann"}, {"name": "Bob"}],
                "messages": [  # newest first, as Meta writes them
                    {"sender_name": "Bob", "content": "no timestamp at all"},
                    {"sender_name": "Ann", "timestamp_ms": "1704054000000", "content": "text ts"},
                    {"sender_name": "Bob", "timestamp_ms": 1704054060000, "content": "dated"},
                    {"sender_name": "Ann", "timestamp_ms": 10**30, "content": "out of range"},
                ],
            }
        ),
        encoding="utf-8",
    )
    items = read(part)
    assert [(p.line, p.reason) for p in items if isinstance(p, ImportProblem)] == [
        (1, "entry has no usable timestamp; kept undated"),
        (2, "entry has no usable timestamp; kept undated"),
        (4, "entry has no usable timestamp; kept undated"),
    ]
    ms = messages(items)
    assert [(m.speaker, m.text, m.sent_at) for m in ms] == [
        ("Bob", "dated", datetime(2023, 12, 31, 20, 21, tzinfo=UTC)),
        ("Ann", "out of range", None),  # undated last, oldest (last listed) first
        ("Ann", "text ts", None),
        ("Bob", "no timestamp at all", None),
    ]
    assert [m.location for m in ms[1:]] == [
        "message_1.json entry 4",
        "message_1.json entry 2",
        "message_1.json entry 1",
    ]
    with open_matter("mundated", create=True) as matter:
        (rep,) = ingest(matter, [part]).sources
        assert (rep.added, rep.undated) == (4, 3)
        (hit,) = Searcher(matter).search('"no timestamp"').hits
        assert hit.message.undated


def test_workplace_camel_case_variant() -> None:
    items = read(FIX / "workplace_chat")
    (conv,) = [i for i in items if isinstance(i, RawConversation)]
    assert (conv.platform, conv.name, conv.kind) == (
        "workplace",
        "Ledger review",
        ConversationKind.GROUP,
    )
    ms = messages(items)
    assert [(m.speaker, m.text) for m in ms] == [
        ("Cy Diaz", "Where is the ledger?"),
        ("Dee Park", "Moved to the vault"),
    ]
    assert ms[0].reactions == (Reaction("👍", ("Eli Moss",)),)
    assert ms[1].attachments == (Attachment("ledger.pdf", url="files/ledger.pdf"),)


def test_html_part_is_parsed_not_executed() -> None:
    items = read(FIX / "html" / "message_1.html")
    ms = messages(items)
    assert [(m.speaker, m.sent_at, m.text) for m in ms] == [
        ("Gus Vega", datetime(2024, 1, 1, 23, 59), "Will do"),
        ("Fay Lind", datetime(2024, 1, 2, 9, 15), "See you at the archive & bring the key"),
        ("Gus Vega", None, "broken"),  # its time is unreadable: kept undated, last
    ]
    assert all(m.sent_at.tzinfo is None for m in ms[:2])  # printed local times: zone unknown
    (problem,) = [i for i in items if isinstance(i, ImportProblem)]
    assert problem.line == 3 and problem.reason == "unreadable time 'not a date'; kept undated"
    assert not any("never run" in m.text for m in ms)


def test_platform_from_path() -> None:
    assert platform_of(Path("x/your_instagram_activity/messages/inbox/a/message_1.json")) == (
        "instagram"
    )
    assert platform_of(Path("dl/workplace/messages/message_1.json")) == "workplace"
    assert platform_of(Path("facebook-ann/messages/inbox/a/message_1.json")) == "messenger"


def test_sniff_and_walk() -> None:
    imp = MetaImporter()
    assert imp.sniff(THREAD) and imp.sniff(THREAD / "message_1.json")
    assert imp.sniff(FIX / "html" / "message_1.html")
    assert not imp.sniff(FIXTURES / "slack" / "acme")
    assert not imp.sniff(FIXTURES / "slack" / "acme" / "users.json")
    assert getattr(detect(THREAD), "name", None) == "messenger"
    units = [u for u in iter_sources([FIX]) if u.importer is not None]
    assert {u.path.name for u in units} >= {"annlee_a1b2c3", "workplace_chat"}


def test_ingest_thread_and_search() -> None:
    with open_matter("fb", create=True) as m:
        report = ingest(m, [THREAD], tz=ZoneInfo("Europe/Berlin"), tz_name="Europe/Berlin")
        assert (report.sources[0].added, report.sources[0].undated) == (8, 1)
        (hit,) = Searcher(m).search("cafe w/3 nine").hits  # accent-folded
        assert hit.message.speaker == "Bob Ray"
        assert hit.message.sent_at == datetime.fromtimestamp(1704056000, UTC)  # --tz ignored
        assert hit.message.utc_offset == 0


def test_real_sample() -> None:
    if not SAMPLE.exists():
        pytest.skip("shared Messenger sample not present")
    with open_matter("s", create=True) as m:
        report = ingest(m, [SAMPLE])
        assert (report.sources[0].format, report.sources[0].added) == ("messenger", 2)
        (hit,) = Searcher(m).search('"hello jane"').hits
        assert hit.message.speaker == "John Doe"
        assert hit.message.platform == "instagram"
        assert hit.message.sent_at == datetime(2020, 1, 17, 20, 49, tzinfo=UTC)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from(
        [
            "inbox/annlee_a1b2c3/message_1.json",
            "workplace_chat/message_1.json",
            "html/message_1.html",
            "legacy/messages.htm",
        ]
    ),
    cut=st.integers(min_value=0, max_value=4000),
    edits=byte_edits(4000, 8),
)
def test_mutated_inputs_never_raise(which: str, cut: int, edits: Edits) -> None:
    data = mutate((FIX / which).read_bytes(), cut + 1, edits)
    assert read_mutated(MetaImporter(), Path(which).name, data)


@settings(max_examples=40, deadline=None)
@given(
    entries=st.lists(
        st.dictionaries(
            st.sampled_from(
                [
                    "sender_name",
                    "timestamp_ms",
                    "content",
                    "photos",
                    "reactions",
                    "share",
                    "is_unsent",
                    "type",
                ]
            ),
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(-(2**70), 2**70),
                st.text(max_size=5),
                st.lists(
                    st.one_of(
                        st.text(max_size=3),
                        st.dictionaries(st.text(max_size=3), st.text(max_size=3)),
                    ),
                    max_size=2,
                ),
            ),
        ),
        max_size=4,
    )
)
def test_odd_json_values_never_raise(entries: list[dict[str, object]]) -> None:
    doc = {"participants": [1, {"name": 2}], "messages": entries}
    read_mutated(MetaImporter(), "message_1.json", json.dumps(doc).encode(), sniff=False)


LEGACY = FIX / "legacy" / "messages.htm"
PDT, PST, CET = (timezone(timedelta(hours=h)) for h in (-7, -8, 1))


def test_legacy_messages_htm_threads_times_and_order() -> None:
    items = read(LEGACY)
    convs = [i for i in items if isinstance(i, RawConversation)]
    assert [(c.name, c.kind) for c in convs] == [
        ("Rosa Vidal, Tomás Ibarra", ConversationKind.DIRECT),
        ("Rosa Vidal, Tomás Ibarra, Kai Okafor", ConversationKind.GROUP),
        ("Rosa Vidal, Tomás Ibarra", ConversationKind.DIRECT),
    ]
    assert len({c.key for c in convs}) == 3  # the repeated participant list is its own thread
    ms = messages(items)
    assert len(ms) == 8  # every message block kept, the one without a <p> too
    first = [m for m in ms if m.conversation_key == convs[0].key]
    # written newest first, yielded oldest first
    assert [(m.speaker, m.text) for m in first] == [
        ("Rosa Vidal", "Morning! Back from the audit."),
        ("Tomás Ibarra", "Check with accounts first."),
        ("Rosa Vidal", "Which box are the invoices in?"),
        ("Tomás Ibarra", "Shred the old invoices before Friday."),
    ]
    assert first[0].sent_at == datetime(2015, 6, 15, 9, 2, tzinfo=PDT)
    assert first[3].sent_at == datetime(2015, 6, 16, 16, 43, tzinfo=PDT)
    # "sometime last week": kept, dated by the message before it
    assert first[1].sent_at == first[0].sent_at
    assert first[1].dated_by == "the previous message's time"
    group = {m.speaker: m for m in ms if m.conversation_key == convs[1].key}
    assert group["Tomás Ibarra"].sent_at == datetime(2008, 11, 12, 20, 50, tzinfo=CET)
    assert group["Rosa Vidal"].text == ""
    assert group["Rosa Vidal"].sent_at == datetime(2008, 11, 12, 20, 53)  # unknown zone: --tz
    last = [m for m in ms if m.conversation_key == convs[2].key]
    assert last[0].sent_at == datetime(2009, 1, 3, 11, 15, tzinfo=PST)
    problems = [str(p) for p in items if isinstance(p, ImportProblem)]
    assert len(problems) == 2
    assert "thread 1 message 3" in problems[0] and "dated by the message before it" in problems[0]
    assert "thread 2 message 2" in problems[1] and "unknown zone 'XYZ'" in problems[1]


def test_legacy_messages_htm_is_messenger_not_an_html_exhibit() -> None:
    assert detect(LEGACY) is not None and detect(LEGACY).name == "messenger"
    with open_matter("legacy", create=True) as m:
        report = ingest(m, [LEGACY])
        assert (report.sources[0].format, report.sources[0].added) == ("messenger", 8)
        (hit,) = Searcher(m).search('"shred the old invoices"').hits
        assert (hit.message.speaker, hit.message.platform) == ("Tomás Ibarra", "messenger")
