"""Google Chat and Hangouts Takeout: fixtures per trap (folders and files), fuzzing."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.detect import detect, iter_sources
from discovery.importers.google_chat import GoogleChatImporter, parse_chat_date
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.model import Attachment, ConversationKind, Reaction
from discovery.search import Searcher
from tests.conftest import FIXTURES
from tests.fuzzing import check_items, json_values

ROOT = FIXTURES / "google_chat"
CHAT = ROOT / "Takeout" / "Google Chat"
SPACE = CHAT / "Groups" / "Space AAAAfict01"
HANGOUTS = ROOT / "Hangouts.json"


def read(path: Path) -> list[ImportItem]:
    return list(GoogleChatImporter().read(path, ImportContext(UTC, str(path))))


def msgs(path: Path) -> dict[str, RawMessage]:
    return {m.native_id: m for m in read(path) if isinstance(m, RawMessage)}


def test_dates() -> None:
    assert parse_chat_date("Thursday, March 2, 2023 at 9:05:00\u202fAM UTC") == datetime(
        2023, 3, 2, 9, 5, tzinfo=UTC
    )
    assert parse_chat_date("Monday, January 6, 2020 at 12:04:05 AM UTC") == datetime(
        2020, 1, 6, 0, 4, 5, tzinfo=UTC
    )
    assert parse_chat_date("March 2, 2023 at 11:59:59 PM GMT+05:30") == datetime(
        2023, 3, 2, 23, 59, 59, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    assert parse_chat_date("Friday, March 3, 2023 at 12:00:00 PM") == datetime(2023, 3, 3, 12)
    assert parse_chat_date("2023-03-02T09:05:00Z") == datetime(2023, 3, 2, 9, 5, tzinfo=UTC)
    for bad in ("sometime soon", "March 40, 2023 at 1:00:00 PM UTC", "at 13:00:00 PM", None, []):
        assert parse_chat_date(bad) is None


def test_detection_takes_folders_whole() -> None:
    units = list(iter_sources([ROOT]))
    assert [(u.path.name, u.importer and u.importer.name) for u in units] == [
        ("Hangouts.json", "google_chat"),
        ("Google Chat", "google_chat"),
    ]
    assert detect(SPACE).name == "google_chat"  # type: ignore[union-attr]
    assert detect(SPACE / "messages.json").name == "google_chat"  # type: ignore[union-attr]


def test_space_threads_by_topic_reactions_attachments() -> None:
    items = read(CHAT)
    convs = {c.key: c for c in items if isinstance(c, RawConversation)}
    assert convs["Space AAAAfict01"].name == "Project Lantern"
    assert convs["Space AAAAfict01"].kind is ConversationKind.CHANNEL
    assert convs["DM fictdm02"].kind is ConversationKind.DIRECT
    assert convs["DM fictdm02"].name == "Mira Stone, Jonah Reyes"
    got = msgs(CHAT)
    root, reply = got["AAAAfict01/T1/M1"], got["AAAAfict01/T1/M2"]
    assert root.thread_key is None and reply.thread_key == "AAAAfict01/T1/M1"
    assert root.speaker == "Mira Stone" and root.speaker_id == "mira@example.invalid"
    assert root.reactions == (Reaction("🔥", ("jonah@example.invalid",)),)
    assert root.attachments == (Attachment("budget.xlsx"),)


def test_edits_deletions_quotes_zones() -> None:
    got = msgs(CHAT)
    edited = got["AAAAfict01/T2/M3"]
    assert edited.edited and edited.thread_key is None
    assert edited.text == "edited later\n> Jonah Reyes: what about the budget"
    gone = got["AAAAfict01/T3/M4"]
    assert gone.deleted and gone.text == "offset zone"
    assert gone.sent_at.astimezone(UTC) == datetime(2023, 3, 2, 18, 29, 59, tzinfo=UTC)
    naive = got["fictdm02/D1/D1"]
    assert naive.sent_at.tzinfo is None  # read later in --tz
    problems = [p for p in read(CHAT) if isinstance(p, ImportProblem)]
    assert [(Path(p.path).name, p.line, p.reason) for p in problems] == [
        ("messages.json", 5, "message has no readable created_date; kept undated")
    ]
    undated = got["T4#5"]  # "sometime soon": kept undated, never dropped
    assert (undated.sent_at, undated.text, undated.speaker) == (
        None,
        "unreadable date",
        "Jonah Reyes",
    )
    assert undated.thread_key is None


def test_hangouts() -> None:
    items = read(HANGOUTS)
    (conv,) = [c for c in items if isinstance(c, RawConversation)]
    assert conv.platform == "hangouts" and conv.name == "Old Crew"
    assert conv.kind is ConversationKind.GROUP
    got = msgs(HANGOUTS)
    first = got["EV1"]
    assert first.speaker == "Pia Lund"
    assert first.sent_at == datetime(2014, 5, 13, 16, 53, 20, 123456, tzinfo=UTC)
    assert first.text == "first line\nhttps://example.invalid"
    assert got["EV2"].system and got["EV2"].text == "Pia Lund added Cy Barros"
    assert got["EV3"].system and "renamed" in got["EV3"].text
    assert got["EV4"].system and got["EV4"].text == "Cy Barros started a call"
    (problem,) = [p for p in items if isinstance(p, ImportProblem)]
    assert problem.reason == "conversation 1 event 5 has no readable timestamp; kept undated"
    assert got["EV5"].sent_at is None  # "not a number": kept undated


def test_end_to_end_folder_ingest() -> None:
    with open_matter("gc", create=True) as matter:
        report = ingest(matter, [ROOT], tz=timezone(timedelta(hours=-5)), tz_name="-05:00")
        assert [s.format for s in report.sources] == ["google_chat", "google_chat"]
        # Hangouts: 5 events; Chat: 5 space messages and 1 DM; one undated in each
        assert [(s.added, s.undated) for s in report.sources] == [(5, 1), (6, 1)]
        (hit,) = Searcher(matter).search('"in the lantern thread"').hits
        assert hit.message.speaker == "Jonah Reyes" and hit.message.thread_root is not None
        (naive,) = Searcher(matter).search('"no zone"').hits
        assert naive.message.sent_at == datetime(2023, 3, 3, 17, tzinfo=UTC)
        assert naive.message.utc_offset is None
        assert Searcher(matter).count("platform:hangouts") == 2  # EV1 and the undated EV5


_keys = st.sampled_from(
    [
        "creator",
        "created_date",
        "text",
        "topic_id",
        "message_id",
        "updated_date",
        "deleted_date",
        "reactions",
        "attached_files",
        "quoted_message_metadata",
        "timestamp",
        "sender_id",
        "event_id",
        "chat_message",
        "membership_change",
        "conversation_rename",
        "hangout_event",
    ]
)


@settings(max_examples=120, deadline=None)
@given(
    entries=st.lists(st.dictionaries(_keys, json_values, max_size=8), max_size=4),
    info=json_values,
    cut=st.integers(min_value=0, max_value=5000),
)
def test_fuzz_never_raises(entries: list[dict[str, object]], info: object, cut: int) -> None:
    space = json.loads((SPACE / "messages.json").read_text())
    space["messages"] += [{**space["messages"][0], **e} for e in entries]
    hang = json.loads(HANGOUTS.read_text())
    hang["conversations"][0]["events"] += [
        {**hang["conversations"][0]["events"][0], **e} for e in entries
    ]
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "Space X"
        folder.mkdir()
        (folder / "group_info.json").write_text(json.dumps(info))
        texts = [json.dumps(space), json.dumps(hang)]
        for text in texts + [t[: len(t) - cut % len(t)] for t in texts]:
            (folder / "messages.json").write_text(text)
            h = Path(d) / "Hangouts.json"
            h.write_text(text)
            for path in (folder, folder / "messages.json", h):
                check_items(read(path))


def test_renamed_messages_json_is_claimed_by_its_keys(tmp_path: Path) -> None:
    """A space's messages.json saved under another name (a sample, a download) still reads."""
    data = {
        "messages": [
            {
                "creator": {"name": "Ann Lee", "email": "ann@example.com", "user_type": "Human"},
                "created_date": "Saturday, December 16, 2023 at 08:45:21 PM UTC",
                "text": "renamed file still read",
                "topic_id": "t1",
                "message_id": "space/t1/t1",
            }
        ]
    }
    renamed = tmp_path / "chat-2023.json"
    renamed.write_text(json.dumps(data))
    assert getattr(detect(renamed), "name", None) == "google_chat"
    (m,) = [i for i in read(renamed) if isinstance(i, RawMessage)]
    assert (m.speaker, m.text, m.conversation_key) == (
        "Ann Lee",
        "renamed file still read",
        "chat-2023",
    )
    assert m.sent_at == datetime(2023, 12, 16, 20, 45, 21, tzinfo=UTC)
    # Any JSON with "messages" but not Google Chat's keys is not claimed by name alone.
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"messages": [{"text": "x", "date": "2023-01-01"}]}))
    assert not GoogleChatImporter().sniff(other)
