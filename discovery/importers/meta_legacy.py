"""Facebook's legacy ``messages.htm``: every thread of an account in one page.

The "Download a copy of your Facebook data" archive of 2010-2017 held one
``html/messages.htm`` with all the account's threads::

    <div class="thread">Ann Lee, Bob Roe
      <div class="message"><div class="message_header">
        <span class="user">Bob Roe</span>
        <span class="meta">Tuesday, June 16, 2015 at 4:43pm PDT</span>
      </div></div>
      <p>the message text</p>
      ...
    </div>

Decisions:

* Each ``div.thread`` is one conversation, named by its participants as the
  page lists them; the key is that list (``messages.htm: Ann Lee, Bob Roe``,
  ``#2`` added when a list repeats), so the same thread from a second copy of
  the archive joins it. More than two participants make a group.
* A message is a ``div.message`` and the ``<p>`` after it (none: empty text).
  Threads and messages are written newest first; they are yielded oldest
  first (equal times keep the page order reversed).
* Times read with their zone: ``PDT``, ``CET``, ``UTC+01`` … (a table of
  the abbreviations Facebook printed, with their offsets as printed: ``PDT``
  is always -07:00). A zone not in the table is dropped and the time read in
  ``--tz``, with a problem saying so; an unreadable time keeps the message,
  dated by the message below it on the page (the next older one), else undated.
* No message ids: ``native_id`` is the time, sender and a digest of the text,
  numbered among identical ones (as for WhatsApp).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bs4 import NavigableString, Tag

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.textio import head, parse_html
from discovery.importers.times import parse_loose, sort_key
from discovery.importers.whatsapp import content_id
from discovery.model import ConversationKind, Participant

SNIFF_BYTES = 64 * 1024

_ZONES = {
    "UTC": 0, "GMT": 0, "WET": 0, "BST": 60, "IST": 60, "WEST": 60, "CET": 60, "CEST": 120,
    "EET": 120, "EEST": 180, "MSK": 180, "EST": -300, "EDT": -240, "CST": -360, "CDT": -300,
    "MST": -420, "MDT": -360, "PST": -480, "PDT": -420, "AKST": -540, "AKDT": -480,
    "HST": -600, "AEST": 600, "AEDT": 660, "JST": 540, "KST": 540, "NZST": 720, "NZDT": 780,
}  # fmt: skip
_ZONE_RE = re.compile(r"\s+(?:(UTC|GMT)\s*([+-])(\d{1,2})(?::?(\d{2}))?|([A-Z]{2,5}))\s*$")
_WEEKDAY_RE = re.compile(r"^[^\W\d]+,\s+")


def sniff_legacy(path: Path) -> bool:
    """An HTML page holding Facebook's thread and message-header blocks (any name)."""
    if path.suffix.lower() not in (".htm", ".html"):
        return False
    raw = head(path, SNIFF_BYTES)
    return raw is not None and b'class="thread"' in raw and b'class="message_header"' in raw


def legacy_time(stamp: str) -> tuple[datetime, str]:
    """``Friday, October 4, 2013 at 10:05pm PDT`` -> aware time, and a problem ('' if none).

    Raises ValueError when there is no full date and time.
    """
    s = _WEEKDAY_RE.sub("", " ".join(stamp.split()))
    s = re.sub(r"\s+at\s+", " ", s)
    zone, note = None, ""
    m = _ZONE_RE.search(s)
    if m:
        s = s[: m.start()]
        if m.group(1):
            minutes = int(m.group(3)) * 60 + int(m.group(4) or 0)
            zone = timezone(timedelta(minutes=-minutes if m.group(2) == "-" else minutes))
        elif m.group(5) in _ZONES:
            zone = timezone(timedelta(minutes=_ZONES[m.group(5)]))
        else:
            note = f"unknown zone {m.group(5)!r} in {stamp.strip()!r}; read in --tz"
    when = parse_loose(s)
    if when.tzinfo is None and zone is not None:
        when = when.replace(tzinfo=zone)
    return when, note


def read_legacy(raw: bytes, path: Path, ctx: ImportContext, platform: str) -> Iterator[ImportItem]:
    """The conversations and messages of a legacy ``messages.htm``."""
    display = ctx.display_path
    soup, problems = parse_html(raw, display)
    yield from problems
    if soup is None:
        return
    threads = [t for t in soup.find_all("div", class_="thread") if isinstance(t, Tag)]
    if not threads:
        yield ImportProblem(display, "no threads found in messages.htm")
        return
    keys: Counter[str] = Counter()
    for t_no, thread in enumerate(threads, start=1):
        names = _participants(thread)
        base = f"messages.htm: {', '.join(names) or f'thread {t_no}'}"
        keys[base] += 1
        key = base if keys[base] == 1 else f"{base} #{keys[base]}"
        rows = _rows(thread)
        speakers = dict.fromkeys(names)
        speakers.update(dict.fromkeys(s for s, _, _ in rows if s))
        yield RawConversation(
            platform=platform,
            key=key,
            name=", ".join(names) or key,
            kind=ConversationKind.GROUP if len(speakers) > 2 else ConversationKind.DIRECT,
            participants=tuple(Participant(n, n) for n in speakers if n),
        )
        yield from _messages(rows, key, platform, display, t_no)


def _participants(thread: Tag) -> list[str]:
    first = next((c for c in thread.children if isinstance(c, NavigableString)), None)
    text = " ".join(str(first).split()) if first is not None else ""
    return [n.strip() for n in text.split(",") if n.strip()]


def _rows(thread: Tag) -> list[tuple[str, str, str]]:
    """(sender, stamp, text) of each message, in page order (newest first)."""
    rows: list[list[str]] = []
    has_body: list[bool] = []
    for child in thread.children:
        if not isinstance(child, Tag):
            continue
        if child.name == "div" and "message" in (child.get("class") or []):
            user, meta = child.find("span", class_="user"), child.find("span", class_="meta")
            rows.append(
                [
                    user.get_text(" ", strip=True) if isinstance(user, Tag) else "",
                    meta.get_text(" ", strip=True) if isinstance(meta, Tag) else "",
                    "",
                ]
            )
            has_body.append(False)
        elif child.name == "p" and rows and not has_body[-1]:
            rows[-1][2] = child.get_text("\n", strip=True)
            has_body[-1] = True
    return [(a, b, c) for a, b, c in rows]


def _messages(
    rows: list[tuple[str, str, str]], key: str, platform: str, display: str, t_no: int
) -> Iterator[ImportItem]:
    out: list[RawMessage] = []
    seen: Counter[str] = Counter()
    older: datetime | None = None
    # Read oldest first (the page is newest first), so a bad time takes the one before it.
    for n in range(len(rows), 0, -1):
        sender, stamp, text = rows[n - 1]
        where = f"thread {t_no} message {n}"
        dated_by = ""
        try:
            when: datetime | None
            when, note = legacy_time(stamp)
        except ValueError as e:
            when = older
            dated_by = "the previous message's time" if older else ""
            note = f"{e}; {'dated by the message before it' if older else 'kept undated'}"
        if note:
            yield ImportProblem(display, f"{where}: {note}")
        older = when or older
        out.append(
            RawMessage(
                platform=platform,
                conversation_key=key,
                native_id=content_id(when, sender, text, seen),
                speaker_id=sender,
                speaker=sender,
                sent_at=when,
                text=text,
                location=where,
                dated_by=dated_by,
            )
        )
    undated = datetime.max
    yield from sorted(out, key=lambda m: sort_key(m.sent_at) if m.sent_at else undated)
