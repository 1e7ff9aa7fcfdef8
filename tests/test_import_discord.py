"""The Discord (DiscordChatExporter) importer: fixtures per trap, the real sample, fuzzing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.detect import detect
from discovery.importers.discord import DiscordImporter
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.model import Attachment, ConversationKind, Reaction
from discovery.search import Searcher
from tests.conftest import FIXTURES, SAMPLES
from tests.fuzzing import json_values, read_mutated

PART1 = FIXTURES / "discord" / "deals_part1.json"
PART2 = FIXTURES / "discord" / "deals_part2.json"
SAMPLE = SAMPLES / "discord" / "chat-analytics_DCE_DM.json"


def read(path: Path) -> list[ImportItem]:
    return list(DiscordImporter().read(path, ImportContext(UTC, str(path))))


def msgs(path: Path) -> list[RawMessage]:
    return [m for m in read(path) if isinstance(m, RawMessage)]


def test_sniff() -> None:
    assert detect(PART1).name == "discord"  # type: ignore[union-attr]
    assert not DiscordImporter().sniff(FIXTURES / "teams" / "split_mention.json")


def test_channel_nickname_mentions_reactions() -> None:
    (conv,) = [c for c in read(PART1) if isinstance(c, RawConversation)]
    assert (conv.key, conv.name, conv.kind) == (
        "700000000000000001",
        "Fictional Corp / #deals",
        ConversationKind.CHANNEL,
    )
    first = msgs(PART1)[0]
    assert first.speaker == "Ruth Vega" and first.speaker_id == "900000000000000001"
    assert first.text == "Hello @kai.b, the numbers are :stonks: up"
    assert first.sent_at == datetime(2023, 2, 1, 9, 0, tzinfo=UTC)
    assert first.reactions == (Reaction("👍", ("kai.b", "Ruth Vega")),)
    assert json.loads(first.extra["reaction_counts"]) == {"👍": 2}


def test_duplicate_listed_once_reply_is_not_a_thread() -> None:
    got = msgs(PART1)
    assert [m.native_id for m in got] == [
        "600000000000000001",
        "600000000000000002",
        "600000000000000003",
        "600000000000000004",
    ]
    reply = got[1]
    assert reply.speaker == "kai.b"  # no nickname: the account name
    assert reply.thread_key is None and reply.extra["reply_to"] == "600000000000000001"
    assert reply.edited and reply.sent_at.utcoffset() == timedelta(hours=-5)
    assert reply.attachments == (
        Attachment("report.pdf", size=2048, url="https://cdn.example.invalid/a/report.pdf"),
    )


def test_system_types() -> None:
    got = msgs(PART1)
    assert got[2].system and got[2].text == "kai.b pinned a message"
    assert got[3].system and got[3].text == "Ruth Vega joined the server"
    assert not got[0].system and not got[1].system


def test_split_parts_merge_into_one_conversation() -> None:
    with open_matter("d", create=True) as matter:
        report = ingest(matter, [PART1, PART2])
        assert [s.added for s in report.sources] == [4, 1]
        assert [s.duplicates for s in report.sources] == [0, 1]  # the join listed in both parts
        assert matter.store.counts()["conversations"] == 1
        (hit,) = Searcher(matter).search("second part").hits
        assert hit.message.conversation == "Fictional Corp / #deals"
        assert Searcher(matter).count("joined") == 0  # system events stay out of hits
        assert Searcher(matter).count("joined", include_system=True) == 1


def test_message_without_a_readable_timestamp_is_kept_undated(tmp_path: Path) -> None:
    def message(mid: str, stamp: object, text: str) -> dict[str, object]:
        return {
            "id": mid,
            "type": "Default",
            "timestamp": stamp,
            "content": text,
            "author": {"id": "91", "name": "ruth"},
        }

    path = tmp_path / "undated.json"
    doc = {
        "guild": {"id": "1", "name": "Corp"},
        "channel": {"id": "71", "type": "GuildTextChat", "name": "ops"},
        "messages": [
            message("61", "2023-02-01T09:00:00+00:00", "dated"),
            message("62", None, "null timestamp"),
            message("63", "yesterday", "word timestamp"),
            {"id": "64", "type": "Default", "content": "no key", "author": {"id": "91"}},
        ],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    items = read(path)
    assert [(p.line, p.reason) for p in items if isinstance(p, ImportProblem)] == [
        (n, "message has no readable timestamp; kept undated") for n in (2, 3, 4)
    ]
    assert [(m.native_id, m.sent_at) for m in msgs(path)] == [
        ("61", datetime(2023, 2, 1, 9, tzinfo=UTC)),
        ("62", None),
        ("63", None),
        ("64", None),
    ]
    with open_matter("dundated", create=True) as matter:
        (rep,) = ingest(matter, [path]).sources
        assert (rep.added, rep.undated) == (4, 3)
        (hit,) = Searcher(matter).search('"word timestamp"').hits
        assert hit.message.undated


def test_not_an_export(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text('{"guild": 1, "channel": 2}')
    (problem,) = read(p)
    assert isinstance(problem, ImportProblem) and "messages" in problem.reason


@pytest.mark.skipif(not SAMPLE.exists(), reason="real samples not present")
def test_real_sample() -> None:
    items = read(SAMPLE)
    (conv,) = [c for c in items if isinstance(c, RawConversation)]
    assert conv.kind is ConversationKind.DIRECT and conv.name == "Someones name"
    got = msgs(SAMPLE)
    assert [m.speaker for m in got] == ["mlomb", "Someones nickname", "Someones nickname"]
    assert got[0].sent_at == datetime(2019, 1, 4, 17, 52, 39, 762000, tzinfo=UTC)
    assert got[2].system and got[2].extra["type"] == "Call"
    with open_matter("dsample", create=True) as matter:
        (rep,) = ingest(matter, [SAMPLE]).sources
        assert rep.format == "discord" and rep.added == 3 and rep.system == 1
        (hit,) = Searcher(matter).search('"something something"').hits
        assert hit.message.speaker == "Someones nickname"


_keys = st.sampled_from(
    [
        "id",
        "type",
        "timestamp",
        "timestampEdited",
        "content",
        "author",
        "attachments",
        "reactions",
        "mentions",
        "reference",
        "embeds",
        "isPinned",
    ]
)


@settings(max_examples=120, deadline=None)
@given(
    entries=st.lists(st.dictionaries(_keys, json_values, max_size=8), max_size=4),
    top=st.dictionaries(st.sampled_from(["guild", "channel", "messages"]), json_values, max_size=2),
    cut=st.integers(min_value=0, max_value=5000),
)
def test_fuzz_never_raises(
    entries: list[dict[str, object]], top: dict[str, object], cut: int
) -> None:
    base = json.loads(PART1.read_text())
    base["messages"] += [{**base["messages"][0], **e} for e in entries]
    if cut % 4 == 0:
        base.update(top)
    text = json.dumps(base)
    for variant in (text, text[: len(text) - cut % len(text)]):
        read_mutated(DiscordImporter(), "c.json", variant.encode(), sniff=False)
