"""Facebook Messenger, Instagram and Workplace "Download your information" messages.

A thread is a folder (``messages/inbox/<thread>/``) holding ``message_1.json``,
``message_2.json`` … (or ``message_1.html`` …), parts of ONE conversation. The
folder is one unit; a part named on its own is read on its own (same
conversation key, so parts imported separately still land together).

JSON shape (old and new key spellings both read)::

    {"participants": [{"name": "Ann"}, ...] | ["Ann", ...],
     "messages": [{"sender_name"|"senderName": "Ann", "timestamp_ms"|"timestamp": 1700000000000,
                   "content"|"text": "hi",
                   "photos"/"videos"/"audio_files"/"gifs"/"files": [{"uri"}],
                   "sticker": {"uri"}, "share": {"link", "share_text"},
                   "reactions": [{"reaction", "actor"}], "is_unsent"|"isUnsent": false,
                   "type": "Generic" | "Share" | "Call" | "Subscribe" | "Unsubscribe"}, ...],
     "title"|"threadName": "...", "thread_path": "inbox/ann_1a2b3c", "thread_type": "Regular"}

Decisions worth knowing:

* **Mojibake**: Meta writes UTF-8 bytes as ``\\u00XX`` escapes. Every string
  (names, texts, reactions, titles) is repaired with
  ``s.encode("latin-1").decode("utf-8")`` ONLY when every character is below
  U+0100 and the repair decodes cleanly; otherwise it is kept as is (so real
  Latin-1 text such as ``café`` stays ``café``). A leading BOM is ignored.
* **Order**: parts and messages are newest-first; messages are yielded oldest
  first (ties keep the file order reversed).
* **Times**: ``timestamp_ms`` is epoch milliseconds, so ``sent_at`` is UTC.
  HTML exports print local times without a zone: those are naive (``--tz``).
  A message with no usable time is kept undated (``sent_at`` None, sorted
  last) and reported at its entry.
* **Platform**: ``instagram`` when a folder or file name on the path contains
  "instagram" (``your_instagram_activity/``), ``workplace`` when one contains
  "workplace"; otherwise ``messenger``.
* **Kinds**: ``thread_type`` ``RegularGroup``, or more than two participants,
  is ``group``; otherwise ``direct``.
* ``native_id``: the export carries no message id; it is ``timestamp_ms`` (the
  dedup key adds speaker and text). ``location``: ``message_2.json entry 7``.
* ``is_unsent`` -> ``deleted=True``; ``Call``/``Subscribe``/``Unsubscribe``
  messages are system events. Media give attachments named after the file,
  with the export's ``uri``; a shared link not already in the text is appended.
* Conversation key: ``thread_path`` when present, else the thread folder's
  name (the file's stem for a lone part); name: ``title``, else the
  participants' names.
* HTML parts are parsed with beautifulsoup4's own parser: nothing is executed
  or fetched. Two layouts are read: the current one (blocks ``div._a6-g`` with
  sender ``_a6-h``, text ``_a6-p``, time ``_a6-o``) and the old one
  (``div.message`` with ``span.user``, ``span.meta`` and the ``<p>`` after it).
  The legacy ``messages.htm`` holding every thread of an account is read by
  :mod:`discovery.importers.meta_legacy`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from bs4 import Tag

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.meta_legacy import read_legacy, sniff_legacy
from discovery.importers.textio import decode_json, head, parse_html, read_bytes
from discovery.importers.times import from_epoch, parse_loose, sort_key
from discovery.model import Attachment, ConversationKind, Participant, Reaction

PART_RE = re.compile(r"(?:^|_)message_(\d+)\.(json|html?)$", re.IGNORECASE)
SNIFF_BYTES = 64 * 1024
MEDIA_KEYS = ("photos", "videos", "audio_files", "gifs", "files")
SYSTEM_TYPES = frozenset({"call", "subscribe", "unsubscribe"})
_JSON_MARKERS = (
    re.compile(rb'"sender_name"\s*:'),
    re.compile(rb'"senderName"\s*:'),
)


def repair(s: str) -> str:
    """Undo Meta's mojibake (UTF-8 bytes written as ``\\u00XX``) when that is what it is."""
    if not s or s.isascii() or any(ord(c) > 0xFF for c in s):
        return s
    try:
        return s.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return s


def platform_of(path: Path) -> str:
    """``instagram``, ``workplace`` or ``messenger``, from the names on ``path``."""
    names = " ".join(p.lower() for p in path.parts)
    if "instagram" in names:
        return "instagram"
    if "workplace" in names:
        return "workplace"
    return "messenger"


def _part_number(path: Path) -> int:
    m = PART_RE.search(path.name)
    return int(m.group(1)) if m else 0


def _parts(folder: Path) -> list[Path]:
    parts = [p for p in folder.iterdir() if p.is_file() and PART_RE.search(p.name)]
    return sorted(parts, key=lambda p: (_part_number(p), p.name))


def _sniff_json(path: Path) -> bool:
    raw = head(path, SNIFF_BYTES)
    if raw is None or not raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return False
    return any(r.search(raw) for r in _JSON_MARKERS) or (
        b'"participants"' in raw and b'"thread_path"' in raw
    )


def _sniff_html(path: Path) -> bool:
    if not PART_RE.search(path.name):
        return False
    raw = head(path, SNIFF_BYTES)
    if raw is None:
        return False
    low = raw.lower()
    return b"<html" in low and (b"_a6-g" in low or b'class="message"' in low)


@dataclass(slots=True)
class _Msg:
    sender: str
    when: datetime | None  # None: the export gave no usable time (stored undated)
    text: str
    native_id: str
    location: str
    deleted: bool = False
    system: bool = False
    reactions: tuple[Reaction, ...] = ()
    attachments: tuple[Attachment, ...] = ()


@dataclass(slots=True)
class _Thread:
    title: str = ""
    thread_path: str = ""
    thread_type: str = ""
    participants: tuple[str, ...] = ()


class MetaImporter:
    """Reads Messenger/Instagram/Workplace message threads (JSON or HTML parts)."""

    name = "messenger"

    def sniff(self, path: Path) -> bool:
        """A thread folder with ``message_N`` parts, or one such JSON/HTML part."""
        if path.is_dir():
            parts = _parts(path)
            return bool(parts) and any(self._sniff_file(p) for p in parts[:1])
        return path.is_file() and self._sniff_file(path)

    def _sniff_file(self, path: Path) -> bool:
        suffix = path.suffix.lower()
        if suffix == ".json":
            return _sniff_json(path)
        if suffix in (".html", ".htm"):
            return _sniff_html(path) or sniff_legacy(path)
        return False

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        platform = platform_of(path)
        if path.is_file() and sniff_legacy(path):  # the whole account's threads in one page
            raw, problems = read_bytes(path, ctx.display_path)
            yield from problems
            if raw is not None:
                yield from read_legacy(raw, path, ctx, platform)
            return
        if path.is_dir():
            try:
                files = _parts(path)
            except OSError as e:
                yield ImportProblem(ctx.display_path, f"cannot read the folder ({e})")
                return
            default_key = path.name
            displays = [f"{ctx.display_path.rstrip('/')}/{p.name}" for p in files]
        else:
            files = [path]
            default_key = re.sub(r"_?message_\d+$", "", path.stem) or path.stem
            displays = [ctx.display_path]
        thread = _Thread()
        msgs: list[_Msg] = []
        for f, display in zip(files, displays, strict=True):
            raw, problems = read_bytes(f, display)
            yield from problems
            if raw is None:
                continue
            if f.suffix.lower() == ".json":
                yield from _read_json(raw, f.name, display, thread, msgs)
            else:
                yield from _read_html(raw, f.name, display, thread, msgs)
        if not msgs and not thread.participants:
            yield ImportProblem(ctx.display_path, "no messages found")
            return
        key = thread.thread_path or default_key
        names = dict.fromkeys(thread.participants)
        for m in msgs:
            if m.sender:
                names.setdefault(m.sender)
        group = thread.thread_type.lower() == "regulargroup" or len(names) > 2
        yield RawConversation(
            platform=platform,
            key=key,
            name=thread.title or ", ".join(names) or key,
            kind=ConversationKind.GROUP if group else ConversationKind.DIRECT,
            participants=tuple(Participant(n, n) for n in names),
        )
        # newest-first in the export: oldest first here, stable for equal times, undated last
        ordered = sorted(
            reversed(msgs),
            key=lambda m: (m.when is None, sort_key(m.when) if m.when else datetime.min),
        )
        for m in ordered:
            yield RawMessage(
                platform=platform,
                conversation_key=key,
                native_id=m.native_id,
                speaker_id=m.sender,
                speaker=m.sender,
                sent_at=m.when,
                text=m.text,
                location=m.location,
                deleted=m.deleted,
                system=m.system,
                reactions=m.reactions,
                attachments=m.attachments,
            )


# --- JSON --------------------------------------------------------------------------------


def _str(v: Any) -> str:
    return repair(v) if isinstance(v, str) else ""


def _read_json(
    raw: bytes, name: str, display: str, thread: _Thread, out: list[_Msg]
) -> Iterator[ImportProblem]:
    data, problems = decode_json(raw, display)
    yield from problems
    if data is None and problems:
        return
    if not isinstance(data, dict):
        yield ImportProblem(display, "not a message export (expected a JSON object)")
        return
    thread.title = thread.title or _str(data.get("title")) or _str(data.get("threadName"))
    thread.thread_path = thread.thread_path or _str(data.get("thread_path"))
    thread.thread_type = thread.thread_type or _str(data.get("thread_type"))
    people = data.get("participants")
    if isinstance(people, list) and not thread.participants:
        names = [_str(p.get("name")) if isinstance(p, dict) else _str(p) for p in people]
        thread.participants = tuple(n for n in names if n)
    messages = data.get("messages")
    if not isinstance(messages, list):
        yield ImportProblem(display, "no 'messages' list")
        return
    for n, entry in enumerate(messages, start=1):
        where = f"{name} entry {n}"
        if not isinstance(entry, dict):
            yield ImportProblem(display, "entry is not an object; skipped", n)
            continue
        msg = _json_message(entry, where)
        if msg.when is None:  # kept, never dropped: stored undated, sorted last
            yield ImportProblem(display, "entry has no usable timestamp; kept undated", n)
        out.append(msg)


def _json_message(entry: Mapping[str, Any], where: str) -> _Msg:
    ts = entry.get("timestamp_ms", entry.get("timestamp"))
    usable = isinstance(ts, int | float) and not isinstance(ts, bool)
    when = from_epoch(ts, 1000) if usable else None
    text = _str(entry.get("content")) or _str(entry.get("text"))
    share = entry.get("share")
    if isinstance(share, dict):
        for k in ("link", "share_text"):
            extra = _str(share.get(k))
            if extra and extra not in text:
                text = f"{text}\n{extra}" if text else extra
    kind = _str(entry.get("type")).lower()
    unsent = entry.get("is_unsent", entry.get("isUnsent"))
    return _Msg(
        sender=_str(entry.get("sender_name")) or _str(entry.get("senderName")),
        when=when,
        text=text,
        native_id=str(int(ts)) if when is not None else "",  # '': located by its entry
        location=where,
        deleted=unsent is True,
        system=kind in SYSTEM_TYPES,
        reactions=_reactions(entry.get("reactions")),
        attachments=_media(entry),
    )


def _reactions(raw: Any) -> tuple[Reaction, ...]:
    if not isinstance(raw, list):
        return ()
    by_emoji: dict[str, list[str]] = {}
    for r in raw:
        if not isinstance(r, dict):
            continue
        emoji = _str(r.get("reaction"))
        if emoji:
            actor = _str(r.get("actor"))
            by_emoji.setdefault(emoji, [])
            if actor:
                by_emoji[emoji].append(actor)
    return tuple(Reaction(e, tuple(u)) for e, u in by_emoji.items())


def _media(entry: Mapping[str, Any]) -> tuple[Attachment, ...]:
    items: list[Any] = []
    for k in MEDIA_KEYS:
        v = entry.get(k)
        if isinstance(v, list):
            items.extend(v)
    for k in ("sticker", "media"):
        v = entry.get(k)
        if isinstance(v, dict):
            items.append(v)
        elif isinstance(v, list):
            items.extend(v)
    out = []
    for item in items:
        if isinstance(item, dict):
            uri = _str(item.get("uri"))
            if uri:
                out.append(Attachment(PurePosixPath(uri).name or uri, url=uri))
    return tuple(out)


# --- HTML --------------------------------------------------------------------------------


def _read_html(
    raw: bytes, name: str, display: str, thread: _Thread, out: list[_Msg]
) -> Iterator[ImportProblem]:
    soup, problems = parse_html(raw, display)
    yield from problems
    if soup is None:
        return
    if not thread.title and soup.title is not None:
        thread.title = soup.title.get_text(" ", strip=True)
    blocks = [b for b in soup.find_all("div", class_="_a6-g") if isinstance(b, Tag)]
    rows: list[tuple[str, str, str]] = []
    if blocks:
        for b in blocks:
            rows.append((_text_of(b, "_a6-h"), _text_of(b, "_a6-p", "\n"), _text_of(b, "_a6-o")))
    else:
        for header in soup.find_all("div", class_="message"):
            if not isinstance(header, Tag):
                continue
            user = header.find("span", class_="user")
            meta = header.find("span", class_="meta")
            body = header.find_next_sibling("p")
            rows.append(
                (
                    user.get_text(" ", strip=True) if isinstance(user, Tag) else "",
                    body.get_text("\n", strip=True) if isinstance(body, Tag) else "",
                    meta.get_text(" ", strip=True) if isinstance(meta, Tag) else "",
                )
            )
    if not rows:
        yield ImportProblem(display, "no messages found in the HTML")
        return
    for n, (sender, text, stamp) in enumerate(rows, start=1):
        when: datetime | None = None
        try:
            when = _html_time(stamp)
        except ValueError as e:  # kept, never dropped: stored undated, sorted last
            yield ImportProblem(display, f"{e}; kept undated", n)
        native = f"{name} #{n}"
        out.append(_Msg(sender=sender, when=when, text=text, native_id=native, location=native))


def _text_of(block: Tag, cls: str, sep: str = " ") -> str:
    el = block.find(class_=cls)
    return el.get_text(sep, strip=True) if isinstance(el, Tag) else ""


def _html_time(stamp: str) -> datetime:
    """A printed time (``Jan 17, 2020 9:49:00 pm``); naive unless it names an offset.

    Raises:
        ValueError: no time, or one without a full date (never completed from today).
    """
    s = re.sub(r"\s+at\s+", " ", stamp.strip())
    if not s:
        raise ValueError("no time")
    return parse_loose(s)
