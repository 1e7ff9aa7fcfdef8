"""Discord: DiscordChatExporter (DCE) JSON, one file per channel (or per part of one).

Layout: ``{"guild": {...}, "channel": {...}, "messages": [...], "messageCount": N}``.

Decisions worth knowing:

* Conversation key = ``channel.id``, so the several part files DCE writes for
  one long channel merge into one conversation (and a message present in two
  parts is one message after the ingest's dedup). Name: the channel name,
  prefixed by the server (``Server / #general``) outside direct messages.
  ``DirectTextChat`` is ``direct``, ``DirectGroupTextChat`` ``group``, the rest
  ``channel``. A thread exported by DCE is a channel of its own.
* Speaker: ``author.nickname`` over ``author.name`` (what the server showed);
  ``speaker_id`` is ``author.id``.
* A message listed twice in one file (same ``id``) is yielded once (the first).
* ``type`` ``Default`` and ``Reply`` are messages; every other type (joins,
  pins, calls, thread created, channel renames, boosts...) is kept with
  ``system=True``; an empty content gets a readable text ("Ann pinned a message").
* Replies: a Discord reply is a quote of an earlier message shown above the
  new one, not a thread; the target id goes to ``extra['reply_to']`` and the
  message stays in the channel's flow (``thread_key`` None).
* A message whose ``timestamp`` is missing or unreadable is kept undated
  (``sent_at`` None) and reported at its index.
* ``timestampEdited`` sets ``edited`` (DCE keeps no prior text). Mentions
  still in raw form (``<@123>``, ``<@!123>``) become ``@Name`` from the
  ``mentions`` list; custom emoji ``<:name:id>`` become ``:name:``.
* Attachments: ``fileName``, ``fileSizeBytes``, ``url``. Reactions: the emoji
  name with the reacting users when DCE lists them (``users``); the bare
  counts go to ``extra['reaction_counts']``. Embeds' titles and descriptions
  go to ``extra['embeds']`` (link previews are not what the author wrote).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.jsondoc import integer, items, looks_like_json, mapping, text_of
from discovery.importers.textio import head_text, load_json
from discovery.importers.times import parse_iso
from discovery.model import Attachment, ConversationKind, Participant, Reaction

PLATFORM = "discord"
MESSAGE_TYPES = frozenset({"default", "reply", ""})
_KINDS = {
    "directtextchat": ConversationKind.DIRECT,
    "directgrouptextchat": ConversationKind.GROUP,
}
_MENTION_RE = re.compile(r"<@!?(\d+)>")
_EMOJI_RE = re.compile(r"<a?:(\w+):\d+>")
_SYSTEM_TEXT = {
    "guildmemberjoin": "{who} joined the server",
    "channelpinnedmessage": "{who} pinned a message",
    "threadcreated": "{who} started a thread",
    "recipientadd": "{who} added someone to the group",
    "recipientremove": "{who} removed someone from the group",
    "call": "{who} started a call",
    "channelnamechange": "{who} changed the channel name",
    "channeliconchange": "{who} changed the channel icon",
}


def _who(author: Mapping[str, Any]) -> tuple[str, str]:
    """(id, shown name): nickname over name."""
    aid = text_of(author.get("id")).strip()
    name = text_of(author.get("nickname")).strip() or text_of(author.get("name")).strip()
    return aid or name, name or aid  # neither: the ingest stores "(unknown sender)", flagged


class DiscordImporter:
    """Reads DiscordChatExporter JSON."""

    name = "discord"

    def sniff(self, path: Path) -> bool:
        """A JSON file whose head has DCE's ``guild``, ``channel`` and ``messages`` keys."""
        text = head_text(path)
        if not looks_like_json(text):
            return False
        return all(k in text for k in ('"guild"', '"channel"', '"messages"'))  # type: ignore[operator]

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        value, problems = load_json(path, ctx.display_path)
        yield from problems
        if value is None and problems:
            return
        yield from read_export(value, ctx.display_path)


def read_export(doc: Any, where: str) -> Iterator[ImportItem]:
    """The items of a parsed DCE export (see the module doc)."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("messages"), list):
        yield ImportProblem(where, "not a DiscordChatExporter export (no messages list)")
        return
    guild, channel = mapping(doc.get("guild")), mapping(doc.get("channel"))
    key = text_of(channel.get("id")).strip() or text_of(channel.get("name")).strip() or where
    kind = _KINDS.get(text_of(channel.get("type")).strip().lower(), ConversationKind.CHANNEL)
    name = text_of(channel.get("name")).strip() or key
    if kind is ConversationKind.CHANNEL and text_of(guild.get("name")).strip():
        name = f"{text_of(guild.get('name')).strip()} / #{name}"
    authors: dict[str, str] = {}
    for m in doc["messages"]:
        if isinstance(m, Mapping):
            aid, shown = _who(mapping(m.get("author")))
            authors.setdefault(aid, shown)
    yield RawConversation(
        platform=PLATFORM,
        key=key,
        name=name,
        kind=kind,
        participants=tuple(Participant(a, n) for a, n in sorted(authors.items())),
    )
    seen: set[str] = set()
    for n, m in enumerate(doc["messages"], start=1):
        if not isinstance(m, Mapping):
            yield ImportProblem(where, "message is not an object; skipped", n)
            continue
        mid = text_of(m.get("id")).strip()
        if mid and mid in seen:
            continue
        if mid:
            seen.add(mid)
        msg = _message(m, n, key)
        if msg.sent_at is None:  # kept, never dropped: stored undated, sorted last
            yield ImportProblem(where, "message has no readable timestamp; kept undated", n)
        yield msg


def _message(m: Mapping[str, Any], n: int, key: str) -> RawMessage:
    sent = parse_iso(m.get("timestamp"))
    aid, speaker = _who(mapping(m.get("author")))
    mtype = text_of(m.get("type")).strip()
    system = mtype.lower() not in MESSAGE_TYPES
    names = {}
    for who in items(m.get("mentions")):
        wid, shown = _who(mapping(who))
        names[wid] = shown
    text = text_of(m.get("content"))
    if "<" in text:
        text = _MENTION_RE.sub(lambda x: f"@{names.get(x.group(1), x.group(1))}", text)
        text = _EMOJI_RE.sub(lambda x: f":{x.group(1)}:", text)
    if system and not text.strip():
        text = _SYSTEM_TEXT.get(mtype.lower(), "{who}: " + (mtype or "system event")).format(
            who=speaker
        )
    extra: dict[str, str] = {}
    if mtype:
        extra["type"] = mtype
    ref = text_of(mapping(m.get("reference")).get("messageId")).strip()
    if ref:
        extra["reply_to"] = ref
    if m.get("isPinned") is True:
        extra["pinned"] = "true"
    reactions, counts = [], {}
    for r in items(m.get("reactions")):
        r = mapping(r)
        emoji = text_of(mapping(r.get("emoji")).get("name")).strip() or "(emoji)"
        users = tuple(_who(mapping(u))[1] for u in items(r.get("users")))
        reactions.append(Reaction(emoji, users))
        if integer(r.get("count")) is not None:
            counts[emoji] = integer(r.get("count"))
    if counts:
        extra["reaction_counts"] = json.dumps(counts, ensure_ascii=False)
    embeds = [
        " - ".join(
            x
            for x in (text_of(mapping(e).get("title")), text_of(mapping(e).get("description")))
            if x
        )
        for e in items(m.get("embeds"))
    ]
    if any(embeds):
        extra["embeds"] = "\n".join(e for e in embeds if e)
    attachments = tuple(
        Attachment(
            name=text_of(mapping(a).get("fileName")).strip()
            or text_of(mapping(a).get("url")).strip()
            or "(attachment)",
            size=integer(mapping(a).get("fileSizeBytes")),
            url=text_of(mapping(a).get("url")).strip() or None,
        )
        for a in items(m.get("attachments"))
    )
    return RawMessage(
        platform=PLATFORM,
        conversation_key=key,
        native_id=text_of(m.get("id")).strip(),
        speaker_id=aid or speaker,
        speaker=speaker,
        sent_at=sent,
        text=text,
        location=f"message {n}",
        edited=parse_iso(m.get("timestampEdited")) is not None,
        system=system,
        reactions=tuple(reactions),
        attachments=attachments,
        extra=extra,
    )
