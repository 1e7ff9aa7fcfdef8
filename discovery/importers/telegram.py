"""Telegram Desktop exports: JSON (one chat, or the whole account) and HTML.

JSON shapes::

    {"name": "Book Club", "type": "private_group", "id": 123, "messages": [...]}   # one chat
    {"chats": {"list": [{"name", "type", "id", "messages"}, ...]}, ...}              # account

A message: ``id``, ``type`` (``message`` | ``service``), ``date``
(``2023-12-31T21:05:09``, no zone) beside ``date_unixtime`` (``"1704056709"``),
``from``/``from_id``, ``text`` (a string, or a list of strings and entity
objects ``{"type": "bold", "text": "..."}``), ``edited``/``edited_unixtime``,
``reply_to_message_id``, ``action``/``actor``/``actor_id`` (service),
``photo``/``file``/``file_name``/``media_type``/``sticker_emoji``,
``reactions`` [{"emoji", "recent": [{"from"}]}].

Decisions worth knowing:

* **Times**: ``date_unixtime`` is preferred (``sent_at`` aware, UTC); without
  it ``date`` is read as a naive local time (``--tz`` applies). A
  ``date_unixtime`` of zero (scrubbed samples write ``"0000000000"``) is no
  time: ``date`` is used and the report counts it under "dated by"; with no
  ``date`` either the message is kept undated.
* **Repeated ids**: Telegram numbers a chat's messages uniquely; an id used
  by several records of one chat (scrubbed exports reuse one for all) is
  reported once. Records that differ in sender, time or text stay separate
  messages; records alike in all of these are duplicates, as everywhere.
* **Text**: a list is joined in order (entity objects contribute their
  ``text``); for a ``text_link`` entity whose ``href`` differs from its text,
  the link follows in parentheses so it is searchable.
* **Replies are not threads**: Telegram chats are flat and a reply quotes one
  earlier message (reply chains are not conversations of their own), so
  ``thread_key`` stays None. The exception is a forum topic: a reply to a
  ``topic_created`` service message files the message in that topic's thread
  (``thread_key`` = the topic's id).
* **Service messages** (``type: service``: joins, pins, calls, topic and
  title changes) are kept with ``system=True``; their text is the actor and
  action (``Ann invite members Bob``: the action with spaces) plus any text or title.
* ``edited`` set when ``edited``/``edited_unixtime`` is present (the export
  keeps no earlier text). Media (``photo``, ``file``, stickers, voice notes)
  give attachments named after the file, with its ``file_size`` when present.
* Conversations: key ``str(id)`` (else the chat's name, else the file name);
  kinds: ``personal_chat``/``bot_chat``/``saved_messages`` -> ``direct``,
  groups and supergroups -> ``group``, channels -> ``channel``.
* **HTML** (``messages.html``, ``messages2.html`` …, each a unit; sniffed by
  the page frame and message blocks, not the name): parsed with
  beautifulsoup4's own parser, nothing executed or fetched. ``div.message``
  blocks: the body's own ``.from_name`` (a "joined" block without one is by
  the previous sender), ``.date[title]`` (``31.12.2023 21:05:09 UTC+03:00``:
  aware with the offset; without one, naive), the body's own ``.text``.
  A forward (``div.forwarded``) keeps the forwarder as speaker and its text
  is prefixed ``Forwarded from NAME:`` (``extra["forwarded_from"]``); a reply
  records the answered id (``extra["reply_to"]``, from ``GoToMessage(N)``).
  Media: linked files are attachments by name; media not exported (``Voice
  message``, ``Photo`` with its ``status``) are attachments named
  ``Voice message (00:41, 65.2 KB)``. ``div.service`` -> system; Telegram
  writes no time on service lines, so one takes the time of the message
  above it (the first ones: the message below), counted in the report. Day
  separators (``id="message-1"``) are dropped. Key: the chat's name in the
  page header (the folder's name when absent), so the pages of one chat form
  one conversation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from bs4 import Tag

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.textio import decode_json, head, parse_html, read_bytes
from discovery.importers.times import from_epoch, parse_iso
from discovery.model import Attachment, ConversationKind, Participant, Reaction

PLATFORM = "telegram"
SNIFF_BYTES = 64 * 1024
_KINDS: dict[str, ConversationKind] = {
    "personal_chat": ConversationKind.DIRECT,
    "bot_chat": ConversationKind.DIRECT,
    "saved_messages": ConversationKind.DIRECT,
    "private_group": ConversationKind.GROUP,
    "private_supergroup": ConversationKind.GROUP,
    "public_supergroup": ConversationKind.GROUP,
    "private_channel": ConversationKind.CHANNEL,
    "public_channel": ConversationKind.CHANNEL,
}
_JSON_HINTS = (
    re.compile(rb'"date_unixtime"\s*:'),
    re.compile(rb'"chats"\s*:\s*\{\s*"about"|"chats"\s*:\s*\{\s*"list"'),
    re.compile(
        rb'"type"\s*:\s*"(?:personal_chat|private_group|private_supergroup|'
        rb'public_supergroup|private_channel|public_channel|saved_messages|bot_chat)"'
    ),
)
HTML_NAME_RE = re.compile(r"^messages\d*\.html?$", re.IGNORECASE)
HTML_DATE_RE = re.compile(
    r"(\d{1,2})\.(\d{1,2})\.(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"(?:\s*UTC\s*([+-])(\d{1,2}):?(\d{2}))?"
)
MEDIA_KEYS = ("photo", "file", "thumbnail")


def _s(v: Any) -> str:
    return v if isinstance(v, str) else ""


def flatten_text(text: Any) -> str:
    """A message's ``text`` (a string, or a list of strings and entity objects) as one string."""
    if isinstance(text, str):
        return text
    if not isinstance(text, list):
        return ""
    out: list[str] = []
    for part in text:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, dict):
            t = _s(part.get("text"))
            out.append(t)
            href = _s(part.get("href"))
            if part.get("type") == "text_link" and href and href != t:
                out.append(f" ({href})")
    return "".join(out)


def message_time(msg: Mapping[str, Any]) -> datetime | None:
    """``date_unixtime`` as aware UTC, else ``date`` naive; None when neither reads.

    A ``date_unixtime`` of zero (``"0000000000"``, written by exports whose
    times were scrubbed) is no time at all: 1970 would be a silent wrong date.
    """
    when = _unixtime(msg)
    return when if when is not None and not _scrubbed(msg) else parse_iso(msg.get("date"))


def _unixtime(msg: Mapping[str, Any]) -> datetime | None:
    unix = msg.get("date_unixtime")
    return from_epoch(unix, 1) if isinstance(unix, int | str) else None


def _scrubbed(msg: Mapping[str, Any]) -> bool:
    """``date_unixtime`` is zero: the export's times were scrubbed."""
    when = _unixtime(msg)
    return when is not None and when.timestamp() == 0


class TelegramImporter:
    """Reads Telegram Desktop JSON (one chat or the account) and HTML exports."""

    name = "telegram"

    def sniff(self, path: Path) -> bool:
        """A ``.json`` with Telegram's keys, or a ``messagesN.html`` written by Telegram."""
        if not path.is_file():
            return False
        suffix = path.suffix.lower()
        if suffix == ".json":
            raw = head(path, SNIFF_BYTES)
            if raw is None or not raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
                return False
            return b'"messages"' in raw and any(r.search(raw) for r in _JSON_HINTS)
        if suffix in (".html", ".htm"):
            # By content, not name: Telegram's page frame and its message blocks.
            raw = head(path, SNIFF_BYTES)
            return (
                raw is not None
                and b'class="page_wrap"' in raw
                and b'class="history"' in raw
                and (b'class="message default' in raw or b'class="message service' in raw)
            )
        return False

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        raw, problems = read_bytes(path, ctx.display_path)
        yield from problems
        if raw is None:
            return
        if path.suffix.lower() in (".html", ".htm"):
            yield from read_html(raw, path, ctx.display_path)
            return
        data, problems = decode_json(raw, ctx.display_path)
        yield from problems
        if data is None and problems:
            return
        if not isinstance(data, dict):
            yield ImportProblem(ctx.display_path, "not a Telegram export (expected an object)")
            return
        chats = data.get("chats")
        if isinstance(chats, dict) and isinstance(chats.get("list"), list):
            for n, chat in enumerate(chats["list"], start=1):
                if not isinstance(chat, dict):
                    yield ImportProblem(ctx.display_path, f"chat {n} is not an object; skipped")
                    continue
                yield from _read_chat(chat, f"{path.stem} chat {n}", f"chat {n} ", ctx)
            return
        if "messages" in data:
            yield from _read_chat(data, ctx.file_key(path.name), "", ctx)
            return
        yield ImportProblem(ctx.display_path, "no 'messages' and no 'chats.list' in the file")


def _read_chat(
    chat: Mapping[str, Any], fallback_key: str, where: str, ctx: ImportContext
) -> Iterator[ImportItem]:
    cid = chat.get("id")
    name = _s(chat.get("name"))
    key = str(cid) if isinstance(cid, int | str) and str(cid) else (name or fallback_key)
    messages = chat.get("messages")
    if not isinstance(messages, list):
        yield ImportProblem(ctx.display_path, f"{where}has no 'messages' list".strip())
        return
    topics = {
        str(m.get("id"))
        for m in messages
        if isinstance(m, dict) and m.get("type") == "service" and m.get("action") == "topic_created"
    }
    out: list[RawMessage] = []
    people: dict[str, str] = {}
    seen: dict[str, int] = {}  # native id -> records using it
    for n, msg in enumerate(messages, start=1):
        if not isinstance(msg, dict):
            yield ImportProblem(ctx.display_path, f"{where}message {n} is not an object", n)
            continue
        when, scrubbed = message_time(msg), _scrubbed(msg)
        if when is None and not scrubbed:
            yield ImportProblem(ctx.display_path, f"{where}message {n} has no readable date", n)
            continue
        raw = _message(msg, key, when, topics, f"{where}message {n}")
        if scrubbed and when is not None:
            raw = replace(raw, dated_by="its 'date' field (date_unixtime is 0)")
        if raw.native_id:
            seen[raw.native_id] = seen.get(raw.native_id, 0) + 1
        if not raw.system and raw.speaker_id:
            people.setdefault(raw.speaker_id, raw.speaker)
        out.append(raw)
    for mid, count in seen.items():
        if count > 1:
            yield ImportProblem(
                ctx.display_path,
                f"{where}message id {mid} is used by {count} records: its ids cannot tell"
                " messages apart (records alike in all else are counted as duplicates)".strip(),
            )
    kind = _KINDS.get(
        _s(chat.get("type")), ConversationKind.GROUP if len(people) > 2 else ConversationKind.DIRECT
    )
    yield RawConversation(
        platform=PLATFORM,
        key=key,
        name=name or (", ".join(people.values()) if people else key),
        kind=kind,
        participants=tuple(Participant(i, n) for i, n in people.items()),
    )
    yield from out


def _message(
    msg: Mapping[str, Any], key: str, when: datetime | None, topics: set[str], where: str
) -> RawMessage:
    system = msg.get("type") == "service"
    text = flatten_text(msg.get("text"))
    if system:
        actor = _s(msg.get("actor")) or _s(msg.get("from"))
        speaker_id = _s(msg.get("actor_id")) or _s(msg.get("from_id")) or actor
        speaker = actor
        bits = [actor, _s(msg.get("action")).replace("_", " ")]
        members = msg.get("members")
        if isinstance(members, list):
            bits.append(", ".join(m for m in members if isinstance(m, str)))
        for k in ("title", "message_id"):
            v = msg.get(k)
            if isinstance(v, str | int) and not isinstance(v, bool):
                bits.append(str(v))
        text = " ".join(b for b in [*bits, text] if b)
    else:
        speaker = _s(msg.get("from"))
        speaker_id = _s(msg.get("from_id")) or speaker
    reply = msg.get("reply_to_message_id")
    thread = str(reply) if reply is not None and str(reply) in topics else None
    mid = msg.get("id")
    native = str(mid) if isinstance(mid, int | str) and not isinstance(mid, bool) else ""
    return RawMessage(
        platform=PLATFORM,
        conversation_key=key,
        native_id=native,
        speaker_id=speaker_id,
        speaker=speaker,
        sent_at=when,
        text=text,
        thread_key=thread,
        location=where,
        edited=bool(msg.get("edited") or msg.get("edited_unixtime")),
        system=system,
        reactions=_reactions(msg.get("reactions")),
        attachments=_media(msg),
    )


def _reactions(raw: Any) -> tuple[Reaction, ...]:
    if not isinstance(raw, list):
        return ()
    out = []
    for r in raw:
        if not isinstance(r, dict):
            continue
        emoji = _s(r.get("emoji")) or _s(r.get("document_id"))
        if not emoji:
            continue
        recent = r.get("recent")
        users = (
            tuple(_s(u.get("from")) for u in recent if isinstance(u, dict) and _s(u.get("from")))
            if isinstance(recent, list)
            else ()
        )
        out.append(Reaction(emoji, users))
    return tuple(out)


def _media(msg: Mapping[str, Any]) -> tuple[Attachment, ...]:
    out = []
    size = msg.get("file_size") if isinstance(msg.get("file_size"), int) else None
    for k in MEDIA_KEYS[:2]:
        ref = _s(msg.get(k))
        if not ref:
            continue
        name = _s(msg.get("file_name")) if k == "file" else ""
        if ref.startswith("(") and ref.endswith(")"):  # "(File not included. ...)"
            out.append(Attachment(name or _s(msg.get("media_type")) or k))
        else:
            out.append(Attachment(name or PurePosixPath(ref).name or ref, size, url=ref))
    return tuple(out)


# --- HTML --------------------------------------------------------------------------------


def parse_html_date(title: str) -> datetime | None:
    """``31.12.2023 21:05:09 UTC+03:00`` -> aware; without ``UTC±hh:mm`` -> naive."""
    m = HTML_DATE_RE.search(title)
    if m is None:
        return None
    d, mo, y, h, mi, s = (int(g) if g else 0 for g in m.groups()[:6])
    try:
        when = datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None
    if m.group(7):
        delta = timedelta(hours=int(m.group(8)), minutes=int(m.group(9)))
        if delta >= timedelta(hours=24):
            return None
        when = when.replace(tzinfo=timezone(delta if m.group(7) == "+" else -delta))
    return when


def read_html(raw: bytes, path: Path, display: str) -> Iterator[ImportItem]:
    """The items of one Telegram ``messagesN.html`` page."""
    soup, problems = parse_html(raw, display)
    yield from problems
    if soup is None:
        return
    header = soup.select_one(".page_header .text")
    name = header.get_text(" ", strip=True) if isinstance(header, Tag) else ""
    key = name or path.parent.name or path.stem
    out: list[RawMessage] = []
    people: dict[str, None] = {}
    last = ""
    pending: list[tuple[str, str, int]] = []  # service lines before the first dated message
    for n, div in enumerate(soup.select("div.message"), start=1):
        classes: list[str] | str = div.get("class") or []
        service = "service" in (classes.split() if isinstance(classes, str) else classes)
        date_el = div.select_one(".date[title]")
        title = str(date_el.get("title", "")) if isinstance(date_el, Tag) else ""
        mid = str(div.get("id", "")).removeprefix("message")
        if service:
            body = div.select_one(".body")
            text = body.get_text(" ", strip=True) if isinstance(body, Tag) else ""
            if mid.startswith("-") or not text:
                continue  # a day separator ("31 December 2023"), not an event
            when = parse_html_date(title)
            if when is not None:
                out.append(_html_raw(key, mid, "", when, text, True, n))
            elif out:  # Telegram writes no time on service lines: the one above gives it
                prev = _html_raw(key, mid, "", out[-1].sent_at, text, True, n)
                out.append(replace(prev, dated_by="the previous message's time"))
            else:
                pending.append((mid, text, n))
            continue
        when = parse_html_date(title)
        if when is None:
            yield ImportProblem(display, f"message {n} has no readable date", n)
            continue
        body = div.find("div", class_="body", recursive=False)
        body = body if isinstance(body, Tag) else div
        from_el = body.find("div", class_="from_name", recursive=False)
        if isinstance(from_el, Tag):  # absent on "joined" messages: the sender above goes on
            last = _plain(from_el)
        text, extra = _html_text(body)
        atts = _html_media(body)
        if last:
            people.setdefault(last)
        for p_mid, p_text, p_n in pending:  # undated events take the next message's time
            first = _html_raw(key, p_mid, "", when, p_text, True, p_n)
            out.append(replace(first, dated_by="the next message's time"))
        pending.clear()
        out.append(_html_raw(key, mid, last, when, text, False, n, atts, extra))
    for _, _, p_n in pending:
        yield ImportProblem(display, "a service line with no dated message to place it by", p_n)
    if not out:
        yield ImportProblem(display, "no Telegram messages found in the HTML")
        return
    yield RawConversation(
        platform=PLATFORM,
        key=key,
        name=name or key,
        kind=ConversationKind.GROUP if len(people) > 2 or _group(out) else ConversationKind.DIRECT,
        participants=tuple(Participant(p, p) for p in people),
    )
    yield from out


def _group(out: list[RawMessage]) -> bool:
    """Whether service lines show a group (created, invited, joined, left)."""
    return any(m.system and _GROUP_EVENT_RE.search(m.text) for m in out)


_GROUP_EVENT_RE = re.compile(r"created group|\binvited\b|joined group|\bleft the group", re.I)
_GO_TO_RE = re.compile(r"GoToMessage\((\d+)\)|#go_to_message(\d+)")


def _plain(el: Tag) -> str:
    """An element's own text, without the date and details spans inside it."""
    for extra in el.select(".details, .date"):
        extra.extract()
    return el.get_text(" ", strip=True)


def _html_text(body: Tag) -> tuple[str, dict[str, str]]:
    """A message's text and extras: a forward's origin, the message a reply answers.

    A forwarded message's own text is inside ``div.forwarded``; it is prefixed
    ``Forwarded from NAME:`` so that the origin is searchable, as the app shows it.
    """
    extra: dict[str, str] = {}
    reply = body.find("div", class_="reply_to", recursive=False)
    if isinstance(reply, Tag):
        m = _GO_TO_RE.search(str(reply))
        if m:
            extra["reply_to"] = m.group(1) or m.group(2)
    holder, prefix = body, ""
    fwd = body.find("div", class_="forwarded", recursive=False)
    if isinstance(fwd, Tag):
        origin = fwd.find("div", class_="from_name", recursive=False)
        who = _plain(origin) if isinstance(origin, Tag) else ""
        extra["forwarded_from"] = who
        holder, prefix = fwd, f"Forwarded from {who}:" if who else "Forwarded:"
    text_el = holder.find("div", class_="text", recursive=False)
    text = text_el.get_text("\n", strip=True) if isinstance(text_el, Tag) else ""
    return ("\n".join(x for x in (prefix, text) if x), extra)


def _html_media(body: Tag) -> tuple[Attachment, ...]:
    """Media files linked from a message, and placeholders for media not exported."""
    out = []
    for wrap in body.select("div.media_wrap"):
        for a in wrap.select("a[href]"):
            href = str(a.get("href"))
            if not href.startswith(("#", "http")):
                out.append(Attachment(PurePosixPath(href).name, url=href))
        for media in wrap.select("div.media"):
            if media.find_parent("a") is not None:
                continue  # a linked file, already counted
            title = media.select_one(".title")
            status = media.select_one(".status")
            name = title.get_text(" ", strip=True) if isinstance(title, Tag) else "media"
            info = status.get_text(" ", strip=True) if isinstance(status, Tag) else ""
            out.append(Attachment(f"{name} ({info})" if info else name))
    return tuple(out)


def _html_raw(
    key: str,
    mid: str,
    speaker: str,
    when: datetime | None,
    text: str,
    system: bool,
    n: int,
    atts: tuple[Attachment, ...] = (),
    extra: dict[str, str] | None = None,
) -> RawMessage:
    return RawMessage(
        platform=PLATFORM,
        conversation_key=key,
        native_id=mid,
        speaker_id=speaker,
        speaker=speaker,
        sent_at=when,
        text=text,
        location=f"message {n}",
        system=system,
        attachments=atts,
        extra=extra or {},
    )
