"""WhatsApp exported chats ("Export chat"), Android and iOS, plain or zipped with media.

Line shapes (any locale's date order, 12- or 24-hour clock)::

    12/31/23, 9:05 PM - Ann Lee: text            # Android
    31/12/2023, 21:05 - Ann Lee: text
    2023/12/31, 21:05 - Ann Lee: text
    [31.12.23, 21:05:09] Ann Lee: text           # iOS
    [12/31/23 21:05] Ann Lee: text

``AM``/``a. m.``/``p. m.``, U+202F or U+2009 before AM/PM, leading U+200E marks
and CRLF are all accepted (header parsing and dates come from
:mod:`discovery.importers.transcript`). A line that is not a header continues
the message above it.

Decisions worth knowing:

* **Sniffing**: the first non-blank line must be a WhatsApp header (Android:
  date, comma, time, `` - ``; iOS: ``[date, time]`` or ``[date time]``). An
  exhibit with a cover page or ``2023-02-03 10:15 - Name:`` (no comma) is left
  to the transcript importer. A zip is WhatsApp when it holds ``_chat.txt``,
  a ``*WhatsApp*.txt`` or a single ``.txt`` whose first line is such a header.
* **Day/month order, per file**: year-first dates are unambiguous. Otherwise,
  if any date's first field is above 12 the file is day-first, if any second
  field is above 12 it is month-first (the majority wins should both occur).
  When every date is ambiguous, the reading under which the dates run in
  order (an export is chronological) wins; when both do, dotted or dashed
  dates (``31.12.23``) are day-first, slashed dates with a 12-hour clock are
  month-first (US), slashed dates with a 24-hour clock day-first (most other
  locales). Two-digit years are 20YY.
* **Times carry no zone**: ``sent_at`` is naive; the ingest applies ``--tz``.
* **Speakers**: the text before the first ``:`` after the header. A header
  with no ``:`` (``Ann added Bob``, the end-to-end notice, ``You were
  added``) is a system line with no speaker. iOS also writes system lines with
  the group's (or contact's) name as speaker and a U+200E before the text
  (``[…] Book Club: ‎Ann added Bob``): a text starting with U+200E that reads
  like a system event, the end-to-end notice, or any line whose "speaker" is
  the chat's own name (from ``WhatsApp Chat - NAME.txt``) is a system line too,
  with no speaker. A "speaker" holding a quotation mark is a system line
  (``Ann changed the subject to "Plan: B"``).
* **Media**: ``<attached: 00000001-PHOTO-….jpg>``, ``IMG-….jpg (file
  attached)``, ``<Media omitted>`` and iOS ``image omitted`` give attachments;
  the text is kept as exported. Inside a zip (or beside a plain chat file) the
  named file's size and SHA-256 are recorded.
* ``This message was deleted`` / ``You deleted this message`` are kept with
  ``deleted=True``; a trailing ``<This message was edited>`` sets ``edited``
  and is removed from the text.
* **One conversation per chat, keyed by the chat's own opening**: key =
  ``chat-`` + 16 hex digits of the SHA-256 of the chat's first five header
  lines as written (date, time, speaker and text; invisible marks and
  surrounding blanks dropped). Not the file name (every iOS export is
  ``_chat.txt``) and not the file's bytes (the zip and the ``_chat.txt``
  unpacked from it are different files holding the same chat): the same
  export read as a zip and as a loose file, or from two custodians, is one
  conversation, and a later export of the same chat (which begins the same
  way) joins it; two different chats never begin with the same five
  timestamped lines. name = the chat's name from ``WhatsApp Chat with NAME``
  / ``WhatsApp Chat - NAME`` (the zip's name, or the folder's for a loose
  ``_chat.txt``; else the file's stem); kind ``group`` when there are more
  than two speakers or group events, else ``direct``.
* **Message ids from content**: ``native_id`` = the message's time, speaker,
  the first 12 hex digits of its text's SHA-256 and the occurrence number of
  that triple in the chat (``2023-12-31T21:05:00 Ann 3f2a… #1``), so copies of
  a chat deduplicate whatever line the message sits on. ``location`` stays
  ``line N`` (``_chat.txt line N`` inside a zip).
* A zip is read in memory, never extracted.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from discovery.archive import ZIP_ERRORS, sha256_stream
from discovery.errors import ImportProblem
from discovery.families import Held, held
from discovery.importers.base import (
    ImportContext,
    ImportItem,
    RawConversation,
    RawMessage,
    SourceFact,
)
from discovery.importers.textio import decode_text, head, read_text
from discovery.importers.transcript import _LINE_SPLIT, _MARKS
from discovery.importers.whatsapp_dates import (
    Header,
    Order,
    decide_order,
    header_time,
    is_header,
    parse_header,
)
from discovery.model import Attachment, ConversationKind, Participant

PLATFORM = "whatsapp"
SNIFF_BYTES = 16 * 1024
MAX_SPEAKER = 80

_LRM = "\u200e"
_QUOTES = '"“”«»„'

E2E_RE = re.compile(
    r"^(?:Messages (?:and calls )?(?:to this (?:group|chat) )?are (?:now )?"
    r"(?:secured with|end-to-end encrypted)|Messages and calls are end-to-end encrypted)",
    re.IGNORECASE,
)
SYSTEM_TEXT_RE = re.compile(
    r"(?:created (?:the )?group|created this group|\badded\b|\bremoved\b|\bleft$|"
    r"joined using this group's invite link|changed (?:the subject|this group's icon|"
    r"the group description|the group name|their phone number|to \+)|"
    r"deleted this group's icon|security code (?:with .* )?changed|"
    r"(?:missed )?(?:voice|video|group) call|now an admin|disappearing messages|"
    r"were added$|is a contact|blocked this contact|unblocked this contact)",
    re.IGNORECASE,
)
ATTACHED_RE = re.compile(r"<attached:\s*([^>]+?)\s*>")
FILE_ATTACHED_RE = re.compile(r"^(?P<name>.+?)\s+\(file attached\)", re.IGNORECASE)
OMITTED_RE = re.compile(
    r"^(?:<Media omitted>|(?:image|video|audio|sticker|GIF|document|Contact card) omitted)$",
    re.IGNORECASE,
)
DELETED_TEXTS = frozenset(
    {"this message was deleted", "you deleted this message", "this message was deleted."}
)
EDITED_RE = re.compile(r"\s*<This message was edited>\s*$", re.IGNORECASE)
CHAT_NAME_RE = re.compile(r"^WhatsApp Chat(?: with | - )(?P<name>.+)$", re.IGNORECASE)


def is_whatsapp_header(line: str) -> bool:
    """Whether ``line`` has WhatsApp's own header shape (stricter than a transcript's)."""
    return is_header(line)


def _first_line_is_header(text: str) -> bool:
    for line in _LINE_SPLIT.split(text):
        if line.strip(_MARKS + " \t"):
            return is_whatsapp_header(line)
    return False


def chat_name(file_name: str) -> str:
    """The chat's name from an export file name (``WhatsApp Chat with Ann.txt`` -> ``Ann``)."""
    stem = PurePosixPath(file_name).stem
    m = CHAT_NAME_RE.match(stem)
    return m.group("name").strip() if m else stem


# --- parsing ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Line:
    """A header line and the lines that continue its message."""

    line: int
    head: Header
    body: list[str] = field(default_factory=list)

    @property
    def rest(self) -> str:
        return self.head.rest


def _orders(headers: list[_Line], forced: str | None) -> dict[str, Order]:
    """The day/month order of each line layout (rules in :mod:`whatsapp_dates`)."""
    by_layout: dict[str, list[_Line]] = {}
    for h in headers:
        by_layout.setdefault(h.head.layout, []).append(h)
    return {
        layout: decide_order(
            [(h.line, h.head.date) for h in lines], any(h.head.ampm for h in lines), forced
        )
        for layout, lines in by_layout.items()
    }


def order_report(orders: dict[str, Order]) -> str:
    """The ``date_order`` line of the report: the order of each layout, and why."""
    if len(orders) == 1:
        (o,) = orders.values()
        return f"{o.order} ({o.why})"
    return "; ".join(f"'{layout}' lines: {o.order} ({o.why})" for layout, o in orders.items())


def _split_speaker(rest: str) -> tuple[str, str] | None:
    """(speaker, text) of a header's remainder, or None when it names no speaker."""
    s = rest.lstrip(_MARKS)
    i = s.find(":")
    if i <= 0:
        return None
    name = s[:i].strip().strip(_MARKS).strip()
    if not name or len(name) > MAX_SPEAKER or any(q in name for q in _QUOTES):
        return None
    text = s[i + 1 :]
    if text.startswith((" ", "\u00a0")):
        text = text[1:]
    return name, text


IDENTITY_LINES = 5
"""How many opening header lines identify a chat (see the module doc)."""


def chat_key(header_lines: list[str]) -> str:
    """The conversation key of a chat: a digest of its first header lines, as written."""
    h = hashlib.sha256()
    for line in header_lines[:IDENTITY_LINES]:
        h.update(line.strip(_MARKS + " \t").encode("utf-8", "surrogatepass") + b"\n")
    return f"chat-{h.hexdigest()[:16]}"


def content_id(when: datetime | None, speaker: str, text: str, seen: Counter[str]) -> str:
    """A message id from its time, speaker and text, numbered among identical ones.

    ``seen`` counts the (time, speaker, text) triples met so far in the chat,
    so two identical "ok" sent in the same minute get ``#1`` and ``#2``.
    """
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    stamp = "undated" if when is None else when.isoformat(timespec="seconds")
    base = f"{stamp} {speaker or '-'} {digest}"
    seen[base] += 1
    return f"{base} #{seen[base]}"


Lookup = Callable[[str], tuple[int, str, Held] | None]
"""Size, SHA-256 and where the bytes are of a media file by its name, when the export
holds it (the ingest extracts and OCRs it as a family member)."""


def _attachments(text: str, lookup: Lookup) -> tuple[Attachment, ...]:
    plain = text.strip().strip(_MARKS).strip()
    names = [n.strip(_MARKS) for n in ATTACHED_RE.findall(plain)]
    first = plain.split("\n", 1)[0].strip(_MARKS)
    m = FILE_ATTACHED_RE.match(first)
    if m:
        names.append(m.group("name").strip(_MARKS).strip())
    out = []
    for n in names:
        found = lookup(n)
        out.append(held(n, found[2], found[0], found[1]) if found else Attachment(n))
    if not names and OMITTED_RE.match(first.strip()):
        out.append(Attachment(first.strip()))
    return tuple(out)


def read_chat(
    text: str,
    name: str,
    display_path: str,
    lookup: Lookup,
    where: str = "",
    date_order: str | None = None,
) -> Iterator[ImportItem]:
    """The items of one chat's text.

    Args:
        text: the decoded chat file.
        name: the chat's display name (also recognised as a system "speaker").
        display_path: the path shown in problems.
        lookup: finds media files named in the chat.
        where: prefix of ``location`` (``"_chat.txt "`` in a zip).
        date_order: ``--date-order``, or None to infer it per line layout.
    """
    headers: list[_Line] = []
    leading = 0
    for n, line in enumerate(_LINE_SPLIT.split(text), start=1):
        stamp = parse_header(line)
        if stamp is not None:
            headers.append(_Line(n, stamp))
        elif headers:
            headers[-1].body.append(line)
        elif line.strip(_MARKS + " \t"):
            leading = leading or n
    if not headers:
        yield ImportProblem(display_path, "no WhatsApp messages found")
        return
    if leading:
        yield ImportProblem(display_path, "text before the first message was not imported", leading)
    key = chat_key([h.head.source for h in headers])
    orders = _orders(headers, date_order)

    messages: list[RawMessage] = []
    problems: list[ImportProblem] = []
    speakers: dict[str, None] = {}
    seen: Counter[str] = Counter()
    group_events = False
    previous: datetime | None = None
    for h in headers:
        lines = [h.rest, *h.body]
        while len(lines) > 1 and not lines[-1].strip():
            lines.pop()
        dated_by = ""
        when: datetime | None
        try:
            when, note = header_time(h.head, orders[h.head.layout].order)
        except ValueError as e:
            # Kept, never dropped: placed at the message before it (or undated).
            when, dated_by = previous, "the previous message's time" if previous else ""
            fate = "dated by the message before it" if previous else "kept undated"
            note = f"{e}; {fate}"
        if note:
            problems.append(ImportProblem(display_path, note, h.line))
        msg = _message(h, when, lines, key, name, lookup, where, seen, dated_by)
        previous = when or previous
        if msg.system:
            group_events = group_events or bool(re.search(r"group|added", msg.text, re.I))
        elif msg.speaker:
            speakers.setdefault(msg.speaker)
        messages.append(msg)

    kind = ConversationKind.GROUP if group_events or len(speakers) > 2 else ConversationKind.DIRECT
    yield RawConversation(
        platform=PLATFORM,
        key=key,
        name=name,
        kind=kind,
        participants=tuple(Participant(s, s) for s in speakers),
    )
    yield SourceFact("date_order", order_report(orders))
    yield from problems
    yield from messages


def _message(
    h: _Line,
    when: datetime | None,
    lines: list[str],
    key: str,
    chat: str,
    lookup: Lookup,
    where: str,
    seen: Counter[str],
    dated_by: str = "",
) -> RawMessage:
    split = _split_speaker(lines[0])
    speaker, system = "", True
    if split is not None:
        speaker, first = split
        lines = [first, *lines[1:]]
        starts_lrm = first.startswith(_LRM)
        bare = first.strip(_MARKS + " ")
        media = ATTACHED_RE.search(bare) or OMITTED_RE.match(bare)
        if E2E_RE.match(bare) or (
            starts_lrm
            and not media
            and bare.lower() not in DELETED_TEXTS
            and (speaker == chat or SYSTEM_TEXT_RE.search(bare))
        ):
            speaker = ""
        else:
            system = False
    else:
        lines = [lines[0].lstrip(_MARKS), *lines[1:]]
    text = "\n".join(lines)
    edited = bool(EDITED_RE.search(text))
    if edited:
        text = EDITED_RE.sub("", text)
    text = text.lstrip(_MARKS)
    deleted = not system and text.strip().strip(_MARKS).lower() in DELETED_TEXTS
    at = f"{where}line {h.line}"
    return RawMessage(
        platform=PLATFORM,
        conversation_key=key,
        native_id=content_id(when, speaker, text, seen),
        speaker_id=speaker,
        speaker=speaker,
        sent_at=when,
        text=text,
        location=at,
        edited=edited,
        deleted=deleted,
        system=system,
        attachments=() if system else _attachments(text, lookup),
        dated_by=dated_by,
    )


# --- files and zips --------------------------------------------------------------------


MEDIA_NAME_RE = re.compile(r"^(?:\d{8}-|(?:IMG|VID|AUD|PTT|DOC|STK)-\d{8}-WA\d{4})")
"""How WhatsApp names the files it attaches (iOS ``00000004-…``, Android ``DOC-20230101-WA0001``):
such a member is media whatever its extension (a shared zip or PDF)."""
_NOT_MEDIA = (".txt", ".json", ".jsonl", ".csv", ".zip", ".eml", ".mbox", ".html", ".htm", ".rsmf")


def _chat_member(zf: zipfile.ZipFile) -> str | None:
    """The chat text inside a WhatsApp export zip, or None when the zip is not one.

    An export holds one chat text and its media, at most one folder deep. A
    collection zip (other exports beside a chat) is not claimed, so the
    archive handling reads each of its members instead of dropping them.
    """
    names = [n for n in zf.namelist() if "__MACOSX" not in n and not n.endswith("/")]
    txts = [n for n in names if n.lower().endswith(".txt")]
    if len(txts) != 1 or any(n.count("/") > 1 for n in names):
        return None
    if any(
        n.lower().endswith(_NOT_MEDIA) and not MEDIA_NAME_RE.match(PurePosixPath(n).name)
        for n in names
        if n != txts[0]
    ):
        return None
    return txts[0]


def _file_chat_name(path: Path) -> str:
    """The chat's name for a loose chat file: an iOS ``_chat.txt`` is named by its folder."""
    if path.name.lower() == "_chat.txt" and path.parent.name:
        return chat_name(path.parent.name)
    return chat_name(path.name)


class WhatsAppImporter:
    """Reads WhatsApp chat exports: the ``.txt``, or the zip with media."""

    name = "whatsapp"

    def sniff(self, path: Path) -> bool:
        """True for a chat file whose first line is a WhatsApp header, or such a zip."""
        if not path.is_file():
            return False
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                member = _chat_member(zf)
                if member is None:
                    return False
                with zf.open(member) as fh:
                    raw: bytes | None = fh.read(SNIFF_BYTES)
        else:
            raw = head(path, SNIFF_BYTES)
        if raw is None or b"\x00" in raw:
            return False
        return _first_line_is_header(raw.decode("utf-8-sig", errors="replace"))

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        try:
            is_zip = zipfile.is_zipfile(path)
        except OSError:
            is_zip = False
        if is_zip:
            try:
                yield from self._read_zip(path, ctx)
            except ZIP_ERRORS as e:
                yield ImportProblem(ctx.display_path, f"cannot read the zip ({e})")
            return
        text, problems = read_text(path, ctx.display_path)
        yield from problems
        if text is None:
            return
        folder = path.parent

        def beside(name: str) -> tuple[int, str, Held] | None:
            p = folder / name
            if "/" in name or "\\" in name or not p.is_file() or p == path:
                return None
            try:
                with p.open("rb") as fh:
                    return (*sha256_stream(fh), Held(str(p)))
            except OSError:
                return None

        yield from read_chat(
            text, _file_chat_name(path), ctx.display_path, beside, date_order=ctx.date_order
        )

    def _read_zip(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        with zipfile.ZipFile(path) as zf:
            member = _chat_member(zf)
            if member is None:
                yield ImportProblem(ctx.display_path, "no WhatsApp chat (.txt) inside the zip")
                return
            display = f"{ctx.display_path}!{member}"
            try:
                raw = zf.read(member)
            except ZIP_ERRORS as e:
                yield ImportProblem(display, f"cannot read the chat ({e})")
                return
            by_name = {
                PurePosixPath(n).name: n
                for n in zf.namelist()
                if n != member and not n.endswith("/") and "__MACOSX" not in n
            }

            def inside(name: str) -> tuple[int, str, Held] | None:
                full = by_name.get(name)
                if full is None:
                    return None
                try:
                    with zf.open(full) as fh:
                        return (*sha256_stream(fh), Held(str(path), full))
                except ZIP_ERRORS:
                    return None

            text, problems = decode_text(raw, display)
            yield from problems
            base = PurePosixPath(member).name
            name = chat_name(path.name if base == "_chat.txt" else base)
            yield from read_chat(text, name, display, inside, f"{base} ", ctx.date_order)
