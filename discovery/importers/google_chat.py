"""Google Chat and classic Hangouts, from Google Takeout.

Google Chat Takeout::

    Google Chat/Groups/<DM or Space id>/messages.json     {"messages": [...]}
    Google Chat/Groups/<DM or Space id>/group_info.json   {"name": ..., "members": [...]}
    Google Chat/Groups/<...>/File-....png                 (attachments)
    Google Chat/Users/<User id>/user_info.json

Hangouts Takeout: ``Hangouts/Hangouts.json`` with ``conversations[]``, each a
``conversation`` header (participants, name) and ``events[]`` (older dumps:
``conversation_state[]``); timestamps are epoch MICROseconds.

Units: the ``Google Chat`` folder (or any folder with ``Groups/*/messages.json``),
one space folder (with ``messages.json``), a lone ``messages.json`` (or one
saved under another name, recognised by its ``creator``/``created_date``/
``message_id`` keys; its conversation is named after the file), or
``Hangouts.json``. A folder is read whole, so ``group_info.json``,
``user_info.json`` and attachment files are not reported as unknown formats.

Decisions worth knowing:

* Platforms ``google_chat`` and ``hangouts``.
* Google Chat conversation key = the space folder name (``Space AAAA...``,
  ``DM xyz``), which is the space id; name from ``group_info.json`` (a DM's is
  its members' names). ``DM`` folders are ``direct`` (two members) or
  ``group``; spaces are ``channel``.
* ``created_date`` reads like ``Monday, January 6, 2020 at 3:04:05 PM UTC``
  (U+202F before PM in newer exports): UTC when it says ``UTC``/``GMT`` (with
  an offset when given), otherwise naive (read in ``--tz``). ISO strings and
  epoch numbers are accepted too.
* Threads: messages sharing a ``topic_id`` form a thread; its earliest message
  is the root, the others get the root's ``message_id`` as ``thread_key``. In
  an unthreaded DM every message has its own topic, so no threads arise.
* A message (or Hangouts event) whose time is missing or unreadable is kept
  undated (``sent_at`` None) and reported; it roots a thread only when no
  message of its topic has a time.
* ``updated_date`` sets ``edited``; ``deleted_date`` or a ``message_state`` of
  ``DELETED`` sets ``deleted``. A quoted message (``quoted_message_metadata``)
  is appended as ``> Name: text``. Attachments (``attached_files``) and
  reactions (``emoji.unicode`` with ``reactor_emails``) are recorded.
* Hangouts: segments TEXT/LINK joined, LINE_BREAK as a newline; membership
  changes, renames and call (hangout) events are kept with ``system=True``
  and a readable text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.jsondoc import integer, items, looks_like_json, mapping, text_of
from discovery.importers.textio import head_text, load_json
from discovery.importers.times import from_epoch, parse_iso, sort_key
from discovery.model import Attachment, ConversationKind, Participant, Reaction

CHAT = "google_chat"
HANGOUTS = "hangouts"
_MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
_DATE_RE = re.compile(
    r"^(?:[A-Za-z]+,\s*)?([A-Za-z]+)\s+(\d{1,2}),\s*(\d{4})\s+at\s+"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?[\s\u202f\u2009]*([AaPp])\.?\s*[Mm]\.?"
    r"(?:\s+(UTC|GMT)\s*(?:([+-])(\d{1,2})(?::?(\d{2}))?)?)?\s*$"
)


def parse_chat_date(value: Any) -> datetime | None:
    """A Google Chat ``created_date`` (see the module doc), or None when unreadable."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        n = int(value)
        return from_epoch(n)
    iso = parse_iso(value)
    if iso is not None:
        return iso
    if not isinstance(value, str):
        return None
    m = _DATE_RE.match(value.strip().replace("\u202f", " ").replace("\u2009", " "))
    if not m:
        return None
    month = _MONTHS.get(m.group(1).lower())
    if month is None:
        return None
    hour = int(m.group(4))
    if not 1 <= hour <= 12:
        return None
    hour = hour % 12 + (12 if m.group(7).lower() == "p" else 0)
    tz: timezone | None = None
    if m.group(8):
        tz = UTC
        if m.group(9):
            delta = timedelta(hours=int(m.group(10)), minutes=int(m.group(11) or 0))
            if delta >= timedelta(hours=24):
                return None
            tz = timezone(delta if m.group(9) == "+" else -delta)
    try:
        return datetime(
            int(m.group(3)),
            month,
            int(m.group(2)),
            hour,
            int(m.group(5)),
            int(m.group(6) or 0),
            tzinfo=tz,
        )
    except ValueError:
        return None


def _chat_messages_file(path: Path) -> bool:
    """A space's ``messages.json``, or one renamed (``chat-2023.json``) that holds its keys."""
    text = head_text(path)
    if not looks_like_json(text) or '"messages"' not in str(text):
        return False
    if path.name == "messages.json":
        return True
    return path.suffix.lower() == ".json" and all(f'"{k}"' in str(text) for k in _CHAT_KEYS)


_CHAT_KEYS = ("creator", "created_date", "message_id")


def _hangouts_file(path: Path) -> bool:
    text = head_text(path)
    if not looks_like_json(text):
        return False
    return ('"conversations"' in text or '"conversation_state"' in text) and (  # type: ignore[operator]
        '"participant_data"' in text or '"event_id"' in text or '"conversation_id"' in text  # type: ignore[operator]
    )


def _space_folders(root: Path) -> list[Path]:
    if (root / "messages.json").is_file():
        return [root]
    groups = root / "Groups"
    if not groups.is_dir():
        return []
    return sorted(p for p in groups.iterdir() if (p / "messages.json").is_file())


class GoogleChatImporter:
    """Reads Google Chat and Hangouts Takeout exports."""

    name = "google_chat"

    def sniff(self, path: Path) -> bool:
        """A Google Chat folder or space folder, a ``messages.json``, or ``Hangouts.json``."""
        if path.is_dir():
            return any(_chat_messages_file(p / "messages.json") for p in _space_folders(path)[:3])
        return _chat_messages_file(path) or _hangouts_file(path)

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        where = ctx.display_path.rstrip("/")
        if path.is_dir():
            for folder in _space_folders(path):
                rel = folder.relative_to(path).as_posix()
                yield from _read_space(folder, where if rel == "." else f"{where}/{rel}")
            return
        if path.name == "messages.json":
            yield from _read_space(path.parent, where, single=True)
            return
        value, problems = load_json(path, where)
        yield from problems
        if value is None and problems:
            return
        if _chat_messages_file(path):  # a renamed messages.json: no group_info beside it
            yield from read_space(value, {}, path.stem, where)
            return
        yield from read_hangouts(value, where)


# --- Google Chat ------------------------------------------------------------------------------


def _read_space(folder: Path, where: str, single: bool = False) -> Iterator[ImportItem]:
    msg_where = where if single else f"{where}/messages.json"
    key = folder.name
    info: Mapping[str, Any] = {}
    if (folder / "group_info.json").is_file():
        gi_where = (
            f"{where.rpartition('/')[0]}/group_info.json" if single else f"{where}/group_info.json"
        )
        value, problems = load_json(folder / "group_info.json", gi_where)
        yield from problems
        info = mapping(value)
    value, problems = load_json(folder / "messages.json", msg_where)
    yield from problems
    if value is None and problems:
        return
    yield from read_space(value, info, key, msg_where)


def _person(p: Any) -> tuple[str, str]:
    p = mapping(p)
    email = text_of(p.get("email")).strip()
    name = text_of(p.get("name")).strip()
    return email or name, name or email  # neither: the ingest stores "(unknown sender)"


def read_space(doc: Any, info: Mapping[str, Any], key: str, where: str) -> Iterator[ImportItem]:
    """The items of one space's parsed ``messages.json`` and ``group_info.json``."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("messages"), list):
        yield ImportProblem(where, "not a Google Chat messages.json (no messages list)")
        return
    members = [_person(m) for m in items(info.get("members"))]
    is_dm = key.upper().startswith("DM")
    if is_dm:
        kind = ConversationKind.DIRECT if len(members) <= 2 else ConversationKind.GROUP
    else:
        kind = ConversationKind.CHANNEL
    name = text_of(info.get("name")).strip() or ", ".join(n for _, n in members) or key
    yield RawConversation(
        platform=CHAT,
        key=key,
        name=name,
        kind=kind,
        participants=tuple(Participant(i, n) for i, n in members),
    )
    parsed: list[tuple[int, Mapping[str, Any], datetime | None]] = []
    for n, m in enumerate(doc["messages"], start=1):
        if not isinstance(m, Mapping):
            yield ImportProblem(where, "message is not an object; skipped", n)
            continue
        sent = parse_chat_date(m.get("created_date"))
        if sent is None:  # kept, never dropped: stored undated, sorted last
            yield ImportProblem(where, "message has no readable created_date; kept undated", n)
        parsed.append((n, m, sent))
    roots: dict[str, tuple[Any, str]] = {}  # topic -> (sort key, root native id)
    for n, m, sent in parsed:
        topic = text_of(m.get("topic_id")).strip()
        if not topic:
            continue
        # an undated message roots its topic only when no message of it is dated
        order = (sent is None, sort_key(sent) if sent else datetime.min, n)
        if topic not in roots or order < roots[topic][0]:
            roots[topic] = (order, _native(m, n))
    for n, m, sent in parsed:
        yield _chat_message(m, n, sent, key, roots, where)


def _native(m: Mapping[str, Any], n: int) -> str:
    return text_of(m.get("message_id")).strip() or f"{text_of(m.get('topic_id'))}#{n}"


def _chat_message(
    m: Mapping[str, Any],
    n: int,
    sent: datetime | None,
    key: str,
    roots: Mapping[str, tuple[Any, str]],
    where: str,
) -> RawMessage:
    sid, speaker = _person(m.get("creator"))
    native = _native(m, n)
    topic = text_of(m.get("topic_id")).strip()
    root = roots.get(topic, (None, native))[1]
    text = text_of(m.get("text"))
    quoted = mapping(m.get("quoted_message_metadata"))
    if text_of(quoted.get("text")).strip():
        _, qname = _person(quoted.get("creator"))
        line = f"> {qname}: {text_of(quoted.get('text')).strip()}"
        text = f"{text}\n{line}" if text else line
    reactions = []
    for r in items(m.get("reactions")):
        r = mapping(r)
        emoji = mapping(r.get("emoji"))
        symbol = (
            text_of(emoji.get("unicode"))
            or text_of(mapping(emoji.get("custom_emoji")).get("name"))
            or "(emoji)"
        )
        reactions.append(
            Reaction(
                symbol, tuple(text_of(u) for u in items(r.get("reactor_emails")) if text_of(u))
            )
        )
    attachments = tuple(
        Attachment(
            name=text_of(mapping(a).get("original_name")).strip()
            or text_of(mapping(a).get("export_name")).strip()
            or "(attachment)"
        )
        for a in items(m.get("attached_files"))
    )
    extra = {"topic_id": topic} if topic else {}
    if text_of(mapping(m.get("creator")).get("user_type")):
        extra["user_type"] = text_of(mapping(m.get("creator")).get("user_type"))
    deleted = bool(text_of(m.get("deleted_date")).strip()) or (
        text_of(m.get("message_state")).upper() == "DELETED"
    )
    return RawMessage(
        platform=CHAT,
        conversation_key=key,
        native_id=native,
        speaker_id=sid or speaker,
        speaker=speaker,
        sent_at=sent,
        text=text,
        thread_key=root if root != native else None,
        location=f"message {n}",
        edited=bool(text_of(m.get("updated_date")).strip()),
        deleted=deleted,
        reactions=tuple(reactions),
        attachments=attachments,
        extra=extra,
    )


# --- Hangouts ---------------------------------------------------------------------------------


def _gaia(value: Any) -> str:
    v = mapping(value)
    return text_of(v.get("gaia_id")).strip() or text_of(v.get("chat_id")).strip()


def read_hangouts(doc: Any, where: str) -> Iterator[ImportItem]:
    """The items of a parsed ``Hangouts.json`` (current and older layouts)."""
    doc = mapping(doc)
    convs: list[tuple[Mapping[str, Any], list[Any]]] = []
    if isinstance(doc.get("conversations"), list):
        for c in doc["conversations"]:
            c = mapping(c)
            header = mapping(mapping(c.get("conversation")).get("conversation")) or mapping(
                c.get("conversation")
            )
            convs.append((header, items(c.get("events"))))
    elif isinstance(doc.get("conversation_state"), list):
        for c in doc["conversation_state"]:
            state = mapping(mapping(c).get("conversation_state"))
            convs.append((mapping(state.get("conversation")), items(state.get("event"))))
    else:
        yield ImportProblem(where, "not a Hangouts.json (no conversations list)")
        return
    for ci, (header, events) in enumerate(convs, start=1):
        key = text_of(mapping(header.get("id")).get("id")).strip() or f"conversation {ci}"
        people: dict[str, str] = {}
        for p in items(header.get("participant_data")):
            p = mapping(p)
            pid = _gaia(p.get("id"))
            if pid:
                people[pid] = text_of(p.get("fallback_name")).strip() or pid
        ctype = text_of(header.get("type")).upper()
        kind = ConversationKind.GROUP if ctype == "GROUP" else ConversationKind.DIRECT
        name = text_of(header.get("name")).strip() or ", ".join(people.values()) or key
        yield RawConversation(
            platform=HANGOUTS,
            key=key,
            name=name,
            kind=kind,
            participants=tuple(Participant(i, n) for i, n in people.items()),
        )
        for n, e in enumerate(events, start=1):
            item = _hangouts_event(e, ci, n, key, people, where)
            if isinstance(item, RawMessage) and item.sent_at is None:  # kept: stored undated
                yield ImportProblem(
                    where, f"{item.location} has no readable timestamp; kept undated"
                )
            yield item


def _hangouts_event(
    e: Any, ci: int, n: int, key: str, people: Mapping[str, str], where: str
) -> ImportItem:
    loc = f"conversation {ci} event {n}"
    if not isinstance(e, Mapping):
        return ImportProblem(where, f"{loc} is not an object; skipped")
    sent = from_epoch(integer(e.get("timestamp")), 10**6)
    sid = _gaia(e.get("sender_id"))
    speaker = people.get(sid, sid)  # none: the ingest stores "(unknown sender)"
    etype = text_of(e.get("event_type")).upper()
    system = False
    attachments: list[Attachment] = []
    content = mapping(mapping(e.get("chat_message")).get("message_content"))
    parts: list[str] = []
    for seg in items(content.get("segment")):
        seg = mapping(seg)
        if text_of(seg.get("type")).upper() == "LINE_BREAK":
            parts.append(text_of(seg.get("text")) or "\n")
        else:
            parts.append(text_of(seg.get("text")))
    for att in items(content.get("attachment")):
        embed = mapping(mapping(att).get("embed_item"))
        photo = mapping(embed.get("plus_photo"))
        url = text_of(photo.get("url")) or text_of(mapping(photo.get("thumbnail")).get("url"))
        attachments.append(
            Attachment(name=url.rsplit("/", 1)[-1] or "(attachment)", url=url or None)
        )
    text = "".join(parts)
    change = mapping(e.get("membership_change"))
    rename = mapping(e.get("conversation_rename"))
    hangout = mapping(e.get("hangout_event"))
    if change:
        system = True
        who = ", ".join(people.get(_gaia(p), _gaia(p)) for p in items(change.get("participant_id")))
        verb = "added" if text_of(change.get("type")).upper() == "JOIN" else "removed"
        text = f"{speaker} {verb} {who or 'someone'}"
    elif rename:
        system = True
        text = f"{speaker} renamed the conversation to {text_of(rename.get('new_name'))}"
    elif hangout:
        system = True
        htype = text_of(hangout.get("event_type")).upper()
        text = f"{speaker} started a call" if htype == "START_HANGOUT" else "Call ended"
    elif etype and etype != "REGULAR_CHAT_MESSAGE" and not text:
        system = True
        text = f"{speaker}: {etype.lower().replace('_', ' ')}"
    return RawMessage(
        platform=HANGOUTS,
        conversation_key=key,
        native_id=text_of(e.get("event_id")).strip(),
        speaker_id=sid or speaker,
        speaker=speaker,
        sent_at=sent,
        text=text,
        location=loc,
        system=system,
        attachments=tuple(attachments),
        extra={"event_type": etype} if etype else {},
    )
