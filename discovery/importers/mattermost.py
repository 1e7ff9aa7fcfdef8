"""Mattermost bulk export (JSONL: one object per line, ``{"type": "version", ...}`` first).

Object types read: ``team``, ``channel``, ``user``, ``post``, ``direct_channel``,
``direct_post``; others (``version``, ``role``, ``scheme``, ``emoji``, ``bot``...)
are skipped. A file holding ONE pretty-printed object, or a JSON array of
objects, is read too (Mattermost's own test samples look like that).

Decisions worth knowing:

* Posts name their team, channel and user by NAME. Conversation key
  ``team/channel`` for channels (names are unique per team) and
  ``dm:alice,bob`` (members sorted) for direct and group channels. Names:
  the channel's ``display_name``, else its name; DMs list their members.
  A post naming a team/channel pair the export does not list (zulip's real
  sample has one: a post of team A in a channel of team B) is kept in a
  conversation of its own, named by the channel, with a problem line saying
  so: filing it under the other team's channel would be a guess.
  ``O`` and ``P`` channels are ``channel``; a direct channel with two members
  is ``direct``, with more ``group``.
* Speakers: first and last name when the user object gives them, else the
  nickname, else the username; ``speaker_id`` is the username.
* Bulk export posts carry no id: ``native_id`` is ``<conversation>|<user>|<create_at>``,
  deterministic across re-exports. ``replies[]`` nested in a root post (in
  any order) become messages whose ``thread_key`` is the root's native id.
* ``create_at``/``edit_at``/``delete_at`` are epoch milliseconds (UTC);
  ``edit_at`` > 0 sets ``edited``, ``delete_at`` > 0 sets ``deleted``.
  A ``type`` starting ``system_`` sets ``system``. ``flagged_by`` is a
  per-user bookmark and is ignored.
* Reactions are grouped by ``emoji_name``; file attachments (``path``) keep
  their file name.
* A line that is not JSON, not an object, or a post without a readable
  ``create_at`` is one ImportProblem with its line number; the rest goes on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from discovery.errors import ImportProblem
from discovery.importers import textio
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.jsondoc import integer, items, mapping, text_of
from discovery.importers.textio import head_text
from discovery.importers.times import from_epoch
from discovery.model import Attachment, ConversationKind, Participant, Reaction

PLATFORM = "mattermost"
_TYPE_RE = re.compile(r'"type"\s*:\s*"(version|post|direct_post|channel|team|user)"')


@dataclass
class _Export:
    teams: dict[str, str] = field(default_factory=dict)
    channels: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (name, type)
    users: dict[str, str] = field(default_factory=dict)
    posts: list[tuple[int, str, Mapping[str, Any]]] = field(default_factory=list)


class MattermostImporter:
    """Reads a Mattermost bulk export (JSONL)."""

    name = "mattermost"

    def sniff(self, path: Path) -> bool:
        """JSONL whose first line is ``"type": "version"``, or a post object with ``create_at``."""
        text = head_text(path)
        if text is None:
            return False
        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        try:
            obj = json.loads(first)
        except (json.JSONDecodeError, RecursionError):
            obj = None
        if isinstance(obj, dict) and obj.get("type") == "version":
            return True
        stripped = text.lstrip()
        return (
            stripped[:1] in ("{", "[")
            and '"create_at"' in text
            and _TYPE_RE.search(text[:4096]) is not None
        )

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        where = ctx.display_path
        text, problems = textio.read_text(path, where)
        yield from problems
        if text is None:
            return
        yield from read_text(text, where)


def _objects(text: str, where: str) -> Iterator[tuple[int, Any] | ImportProblem]:
    """(line number, object) for each JSON line, or the whole text when it is one JSON value."""
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and "\n" in stripped:
        try:
            whole = json.loads(stripped)
        except (json.JSONDecodeError, RecursionError):
            whole = None
        if isinstance(whole, list):
            for obj in whole:
                yield 1, obj
            return
        if isinstance(whole, dict):
            yield 1, whole
            return
    for n, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as e:
            yield ImportProblem(where, f"not valid JSON: {e.msg} (column {e.colno}); skipped", n)
        except RecursionError:
            yield ImportProblem(where, "not valid JSON: nested too deeply; skipped", n)


def _user_name(u: Mapping[str, Any]) -> str:
    full = " ".join(
        p for p in (text_of(u.get("first_name")).strip(), text_of(u.get("last_name")).strip()) if p
    )
    return full or text_of(u.get("nickname")).strip() or text_of(u.get("username")).strip()


def _dm_key(members: list[str]) -> str:
    return "dm:" + ",".join(sorted(set(members)))


def read_text(text: str, where: str) -> Iterator[ImportItem]:
    """The items of a bulk export's text (see the module doc)."""
    ex = _Export()
    for got in _objects(text, where):
        if isinstance(got, ImportProblem):
            yield got
            continue
        n, obj = got
        if not isinstance(obj, Mapping):
            yield ImportProblem(where, "not a JSON object; skipped", n)
            continue
        kind = text_of(obj.get("type"))
        body = mapping(obj.get(kind))
        if kind == "team":
            name = text_of(body.get("name"))
            ex.teams[name] = text_of(body.get("display_name")) or name
        elif kind == "channel":
            key = f"{text_of(body.get('team'))}/{text_of(body.get('name'))}"
            shown = text_of(body.get("display_name")).strip() or text_of(body.get("name"))
            ex.channels[key] = (shown, text_of(body.get("type")))
        elif kind == "user":
            uname = text_of(body.get("username"))
            if uname:
                ex.users[uname] = _user_name(body) or uname
        elif kind == "direct_channel":
            members = [text_of(m) for m in items(body.get("members")) if text_of(m)]
            if members:
                ex.channels.setdefault(_dm_key(members), ("", "D" if len(members) <= 2 else "G"))
        elif kind in ("post", "direct_post"):
            if not body:
                yield ImportProblem(where, f"{kind} object has no {kind!r} body; skipped", n)
                continue
            ex.posts.append((n, kind, body))
    yield from _emit(ex, where)


def _emit(ex: _Export, where: str) -> Iterator[ImportItem]:
    declared: set[str] = set()
    for n, kind, post in ex.posts:
        if kind == "post":
            key = f"{text_of(post.get('team'))}/{text_of(post.get('channel'))}"
            name, _ctype = ex.channels.get(key, (text_of(post.get("channel")) or key, "O"))
            ckind = ConversationKind.CHANNEL
            members: list[str] = []
        else:
            members = [text_of(m) for m in items(post.get("channel_members")) if text_of(m)]
            key = _dm_key(members)
            ckind = ConversationKind.DIRECT if len(set(members)) <= 2 else ConversationKind.GROUP
            name = ", ".join(ex.users.get(m, m) for m in sorted(set(members))) or key
        if key not in declared:
            declared.add(key)
            if kind == "post" and ex.channels and key not in ex.channels:
                yield ImportProblem(where, _unlisted(key, ex), n)
            yield RawConversation(
                platform=PLATFORM,
                key=key,
                name=name,
                kind=ckind,
                participants=tuple(
                    Participant(m, ex.users.get(m, m)) for m in sorted(set(members))
                ),
            )
        root = _post(post, n, key, None, ex.users, where)
        yield root
        if not isinstance(root, RawMessage):
            continue
        for reply in items(post.get("replies")):
            if not isinstance(reply, Mapping):
                yield ImportProblem(where, "reply is not an object; skipped", n)
                continue
            yield _post(reply, n, key, root.native_id, ex.users, where)


def _unlisted(key: str, ex: _Export) -> str:
    """The problem line for posts whose team/channel pair the export does not list."""
    team, _, channel = key.partition("/")
    elsewhere = sorted(k.partition("/")[0] for k in ex.channels if k.partition("/")[2] == channel)
    also = f" (a channel of that name is in team {', '.join(elsewhere)})" if elsewhere else ""
    return (
        f"posts name channel {channel!r} of team {team!r}, which the export does not list{also};"
        " they are kept as a conversation of their own"
    )


def _post(
    p: Mapping[str, Any],
    n: int,
    key: str,
    root: str | None,
    users: Mapping[str, str],
    where: str,
) -> ImportItem:
    created = integer(p.get("create_at"))
    sent = from_epoch(created, 1000) if created is not None else None
    if sent is None:
        return ImportProblem(where, "post has no readable create_at; skipped", n)
    user = text_of(p.get("user")).strip()
    ptype = text_of(p.get("type")).strip()
    grouped: dict[str, list[str]] = {}
    for r in items(p.get("reactions")):
        r = mapping(r)
        emoji = text_of(r.get("emoji_name")).strip()
        if emoji:
            who = text_of(r.get("user")).strip()
            grouped.setdefault(emoji, []).extend([users.get(who, who)] if who else [])
    attachments = tuple(
        Attachment(name=PurePosixPath(text_of(mapping(a).get("path"))).name or "(attachment)")
        for a in items(p.get("attachments"))
    )
    extra = {"type": ptype} if ptype else {}
    if p.get("is_pinned") is True:
        extra["pinned"] = "true"
    return RawMessage(
        platform=PLATFORM,
        conversation_key=key,
        native_id=f"{key}|{user}|{created}",
        speaker_id=user,
        speaker=users.get(user, user),  # none: the ingest stores "(unknown sender)"
        sent_at=sent,
        text=text_of(p.get("message")),
        thread_key=root,
        location=f"line {n}",
        edited=(integer(p.get("edit_at")) or 0) > 0,
        deleted=(integer(p.get("delete_at")) or 0) > 0,
        system=ptype.startswith("system_"),
        reactions=tuple(Reaction(e, tuple(u)) for e, u in grouped.items()),
        attachments=attachments,
        extra=extra,
    )
