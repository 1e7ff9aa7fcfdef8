"""The Mattermost bulk export importer: fixtures per trap, the real sample, fuzzing."""

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
from discovery.importers.mattermost import MattermostImporter
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.model import Attachment, ConversationKind, Reaction
from discovery.search import Searcher
from tests.conftest import FIXTURES, SAMPLES
from tests.fuzzing import json_values, read_mutated

EXPORT = FIXTURES / "mattermost" / "bulk_export.jsonl"
SAMPLE = SAMPLES / "mattermost" / "zulip_mattermost_v11_post_with_replies.json"
ROOT_ID = "acme/deal-room|tess.h|1675245600000"


def read(path: Path) -> list[ImportItem]:
    return list(MattermostImporter().read(path, ImportContext(UTC, str(path))))


def msgs(path: Path) -> dict[str, RawMessage]:
    return {m.native_id: m for m in read(path) if isinstance(m, RawMessage)}


def test_sniff_before_jsonl() -> None:
    assert detect(EXPORT).name == "mattermost"  # type: ignore[union-attr]
    assert not MattermostImporter().sniff(FIXTURES / "jsonl" / "messages.jsonl")
    assert not MattermostImporter().sniff(FIXTURES / "discord" / "deals_part1.json")


def test_channels_and_direct_channels() -> None:
    convs = {c.key: c for c in read(EXPORT) if isinstance(c, RawConversation)}
    assert convs["acme/deal-room"].name == "Deal Room"
    assert convs["acme/deal-room"].kind is ConversationKind.CHANNEL
    dm = convs["dm:bram,tess.h"]
    assert dm.kind is ConversationKind.DIRECT and dm.name == "Bram the Builder, Tess Hale"


def test_root_post_names_edits_reactions_attachments() -> None:
    root = msgs(EXPORT)[ROOT_ID]
    assert root.speaker == "Tess Hale" and root.speaker_id == "tess.h"
    assert root.sent_at == datetime(2023, 2, 1, 10, 0, tzinfo=UTC)
    assert root.edited and not root.deleted and root.thread_key is None
    assert root.reactions == (Reaction("eyes", ("Bram the Builder", "quin")),)
    assert root.attachments == (Attachment("drafts.zip"),)


def test_nested_replies_out_of_order_join_the_root() -> None:
    got = msgs(EXPORT)
    replies = sorted((m for m in got.values() if m.thread_key == ROOT_ID), key=lambda m: m.sent_at)
    assert [(r.speaker, r.text.splitlines()[0]) for r in replies] == [
        ("Bram the Builder", "first reply"),
        ("Tess Hale", "second reply"),
        ("quin", "third reply, listed first"),
    ]
    assert replies[1].deleted and replies[1].text == "second reply\nwith a second line"


def test_system_post_direct_post_and_problems() -> None:
    items = read(EXPORT)
    got = msgs(EXPORT)
    join = got["acme/deal-room|bram|1675245000000"]
    assert join.system and join.extra["type"] == "system_join_channel"
    dm = got["dm:bram,tess.h|bram|1675332000000"]
    assert dm.text == "keep this between us" and dm.conversation_key == "dm:bram,tess.h"
    problems = sorted((p.line, p.reason) for p in items if isinstance(p, ImportProblem))
    assert [line for line, _ in problems] == [11, 12]
    assert "create_at" in problems[0][1] and "not valid JSON" in problems[1][1]


def test_threads_resolve_in_the_store() -> None:
    with open_matter("mm", create=True) as matter:
        (rep,) = ingest(matter, [EXPORT]).sources
        assert rep.added == 6 and rep.unthreaded == 0 and len(rep.problems) == 2
        (hit,) = Searcher(matter).search('"third reply"').hits
        assert hit.message.thread_root is not None
        root = matter.store.message(hit.message.thread_root)
        assert root.text == "root: shred the old drafts?"


@pytest.mark.skipif(not SAMPLE.exists(), reason="real samples not present")
def test_real_sample() -> None:
    got = list(msgs(SAMPLE).values())
    assert len(got) == 4
    root = got[0]
    assert root.speaker == "eugene.montgomery" and root.thread_key is None
    assert root.sent_at == datetime(2026, 1, 20, 13, 36, 41, 357000, tzinfo=UTC)
    assert all(m.thread_key == root.native_id for m in got[1:])
    with open_matter("mms", create=True) as matter:
        (rep,) = ingest(matter, [SAMPLE]).sources
        assert rep.format == "mattermost" and rep.added == 4 and rep.unthreaded == 0
        (hit,) = Searcher(matter).search('"repellat ut quo omnis"').hits
        assert hit.message.speaker == "user-1" and hit.message.thread_root is not None


_keys = st.sampled_from(
    [
        "team",
        "channel",
        "user",
        "type",
        "message",
        "create_at",
        "edit_at",
        "delete_at",
        "reactions",
        "replies",
        "attachments",
        "channel_members",
        "members",
    ]
)


@settings(max_examples=120, deadline=None)
@given(
    posts=st.lists(
        st.tuples(
            st.sampled_from(["post", "direct_post", "channel", "user", "direct_channel", "x"]),
            st.dictionaries(_keys, json_values, max_size=8),
        ),
        max_size=5,
    ),
    cut=st.integers(min_value=0, max_value=5000),
)
def test_fuzz_never_raises(posts: list[tuple[str, dict[str, object]]], cut: int) -> None:
    lines = EXPORT.read_text().splitlines()
    lines += [json.dumps({"type": t, t: body}) for t, body in posts]
    text = "\n".join(lines)
    for variant in (text, text[: len(text) - cut % len(text)], json.dumps(posts)):
        read_mutated(MattermostImporter(), "e.jsonl", variant.encode(), sniff=False)


def test_post_in_a_channel_its_team_lacks_is_kept_and_reported(tmp_path: Path) -> None:
    """zulip's real export has a post of team gryffindor in slytherin's channel."""
    lines = [
        {"type": "version", "version": 1},
        {"type": "team", "team": {"name": "a", "display_name": "A"}},
        {"type": "team", "team": {"name": "b", "display_name": "B"}},
        {"type": "channel", "channel": {"team": "b", "name": "quid", "display_name": "Quid"}},
        {"type": "user", "user": {"username": "sev", "first_name": "Sev", "last_name": "S"}},
        {"type": "post", "post": {"team": "b", "channel": "quid", "user": "sev",
                                  "message": "listed", "create_at": 1553166740759}},
        {"type": "post", "post": {"team": "a", "channel": "quid", "user": "sev",
                                  "message": "unlisted pair", "create_at": 1553166740760}},
    ]  # fmt: skip
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    items = read(path)
    by_text = {i.text: i for i in items if isinstance(i, RawMessage)}
    assert by_text["listed"].conversation_key == "b/quid"
    assert by_text["unlisted pair"].conversation_key == "a/quid"
    convs = {c.key: c.name for c in items if isinstance(c, RawConversation)}
    assert convs == {"b/quid": "Quid", "a/quid": "quid"}
    (problem,) = [i for i in items if isinstance(i, ImportProblem)]
    assert problem.line == 7
    assert "channel 'quid' of team 'a', which the export does not list" in problem.reason
    assert "(a channel of that name is in team b)" in problem.reason
