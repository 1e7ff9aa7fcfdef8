"""The Teams importer: one fixture per trap, the real TeamsDataExport sample, fuzzing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.detect import detect
from discovery.importers.teams import TeamsImporter, html_to_text
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.model import Attachment, ConversationKind, Reaction
from discovery.search import Searcher
from tests.conftest import FIXTURES, SAMPLES
from tests.fuzzing import json_values, read_mutated

DIR = FIXTURES / "teams"
SAMPLE = SAMPLES / "teams" / "zulip_TeamsDataExport_channel_messages.json"


def read(path: Path) -> list[ImportItem]:
    return list(TeamsImporter().read(path, ImportContext(UTC, str(path))))


def msgs(path: Path) -> dict[str, RawMessage]:
    return {m.native_id: m for m in read(path) if isinstance(m, RawMessage)}


def test_sniff_and_detect() -> None:
    for f in DIR.glob("*.json"):
        assert detect(f) is not None and detect(f).name == "teams", f  # type: ignore[union-attr]
    assert not TeamsImporter().sniff(FIXTURES / "discord" / "deals_part1.json")
    assert not TeamsImporter().sniff(FIXTURES / "rsmf" / "manifest_v2.json")


def test_html_body_and_split_mentions() -> None:
    (m,) = msgs(DIR / "split_mention.json").values()
    assert m.speaker == "Nora Quist" and m.speaker_id == "u-nora"
    assert m.sent_at == datetime(2023, 11, 14, 22, 13, 20, 1000, tzinfo=UTC)
    assert m.text.splitlines() == [
        "Quarterly filing",
        "Thanks @Owen Pratt and @Nora Q. & team, the draft is ready",
        "see below",
        "",
        "Second paragraph 😀",
    ]
    assert m.extra["subject"] == "Quarterly filing"
    assert m.thread_key is None and not (m.edited or m.deleted or m.system)


def test_html_to_text_units() -> None:
    assert html_to_text('<at id="3">Ann</at> <at id="3">de</at> <at id="3">Vries</at>') == (
        "@Ann de Vries"
    )
    # different ids stay two mentions
    assert html_to_text('<at id="1">Ann</at> <at id="2">Bo</at>') == "@Ann @Bo"
    assert html_to_text("<script>alert(1)</script><p>a&lt;b</p>") == "a<b"
    assert html_to_text("plain") == "plain"


def test_replies_edits_deletions_reactions_attachments() -> None:
    got = msgs(DIR / "reply_edit_delete.json")
    root = got["1700000400000"]
    assert root.sent_at.astimezone(UTC) == datetime(2023, 11, 14, 21, 20, tzinfo=UTC)
    assert root.sent_at.utcoffset() is not None and root.sent_at.utcoffset().total_seconds() == 3600  # type: ignore[union-attr]
    assert root.reactions == (
        Reaction("like", ("Owen Pratt", "Nora Quist")),
        Reaction("heart", ("Owen Pratt",)),
    )
    assert root.attachments == (
        Attachment("Merger Plan.docx", url="https://example.invalid/sites/x/Merger%20Plan.docx"),
    )
    nested = got["1700000500000"]
    assert nested.thread_key == "1700000400000" and nested.text == "nested reply under the root"
    edited = got["1700000600000"]
    assert edited.thread_key == "1700000400000" and edited.edited and not edited.deleted
    gone = got["1700000700000"]
    assert gone.deleted and gone.text == "delete this before legal sees it"
    assert not root.edited  # reactions change lastModified, never lastEditedDateTime


def test_system_events_flagged_with_readable_text() -> None:
    got = msgs(DIR / "system_events.json")
    added = got["1700000100000"]
    assert added.system and added.text == "Nora Quist added Owen Pratt"
    assert added.speaker == "Nora Quist"  # initiator id resolved from another message
    call = got["1700000200000"]
    assert call.system and call.text == "Call ended (PT5M)" and call.speaker == "Calendar Bot"
    bot = got["1700000300000"]
    assert not bot.system and bot.speaker == "Calendar Bot" and bot.speaker_id == "app-1"


def test_quoted_and_forwarded_messages() -> None:
    items = read(DIR / "forwarded_quote.json")
    (conv,) = [i for i in items if isinstance(i, RawConversation)]
    assert conv.key == "19:fictchat01@thread.v2" and conv.kind is ConversationKind.GROUP
    got = msgs(DIR / "forwarded_quote.json")
    quote = got["1700000800000"]
    assert quote.text == "Agreed, see quote\n> Nora Quist: the draft is ready for signature"
    assert quote.extra["quoted_id"] == "1700000000001"
    fwd = got["1700000900000"]
    assert fwd.text == "plain text body, no html\n> Zed Ortiz: original forwarded words"
    assert fwd.extra["forwarded"] == "true"


def test_pascal_case_dotnet_serialisation() -> None:
    got = msgs(DIR / "pascal_chat.json")
    m = got["1700001000000"]
    assert m.text == "Pascal @Owen Pratt hello" and m.speaker == "Nora Quist"
    assert m.sent_at == datetime(2023, 11, 16, 10, 0, 0, 123456, tzinfo=UTC)
    assert m.conversation_key == "19:fictchat02@thread.v2"
    ev = got["1700001100000"]
    assert ev.system and ev.text == "Nora Quist renamed the chat to Deal room"


def test_bad_documents_are_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"value": [1, {"id": "x", "body": {}}]}')
    items = read(bad)
    assert not [i for i in items if isinstance(i, RawMessage)]
    assert [i.line for i in items if isinstance(i, ImportProblem)] == [1, 2]
    bad.write_text("[{")
    (p,) = read(bad)
    assert isinstance(p, ImportProblem) and "not valid JSON" in p.reason


@pytest.mark.skipif(not SAMPLE.exists(), reason="real samples not present")
def test_real_sample() -> None:
    got = msgs(SAMPLE)
    m = got["1758810613079"]
    assert m.speaker == "Will Begon"
    assert m.sent_at == datetime(2025, 9, 25, 14, 30, 13, 79000, tzinfo=UTC)
    assert m.text == "hello! this is a channel message\nasdad"
    events = [x for x in got.values() if x.system]
    assert len(events) == 2 and events[0].speaker == "Will Begon"  # resolved from his post
    with open_matter("teams", create=True) as matter:
        (rep,) = ingest(matter, [SAMPLE]).sources
        assert rep.format == "teams" and rep.added == 3 and rep.system == 2
        (hit,) = Searcher(matter).search('"channel message"').hits
        assert hit.message.speaker == "Will Begon" and hit.message.platform == "teams"
        assert Searcher(matter).count("asdad") == 1


_keys = st.sampled_from(
    [
        "id",
        "body",
        "from",
        "createdDateTime",
        "replyToId",
        "eventDetail",
        "attachments",
        "reactions",
        "mentions",
        "messageType",
        "deletedDateTime",
        "lastEditedDateTime",
        "chatId",
        "channelIdentity",
        "replies",
        "subject",
        "Body",
        "From",
    ]
)


@settings(max_examples=120, deadline=None)
@given(
    entries=st.lists(st.dictionaries(_keys, json_values, max_size=8), max_size=4),
    cut=st.integers(min_value=0, max_value=4000),
)
def test_fuzz_never_raises(entries: list[dict[str, object]], cut: int) -> None:
    base = json.loads((DIR / "reply_edit_delete.json").read_text())
    for e in entries:
        base.append({**base[0], **e})
    text = json.dumps(base)
    for variant in (text, text[: len(text) - cut % max(1, len(text))]):
        for item in read_mutated(TeamsImporter(), "t.json", variant.encode(), sniff=False):
            if isinstance(item, RawMessage):
                assert isinstance(item.text, str)
