"""A document as transcript lines: what the PDF draws and the TEXT/ file holds.

One list of :class:`Line` per document, so the PDF rendering and the
extracted text say the same thing. A header (conversation, slice, zone,
custodians, counts), then one block per message: a day line whenever the
local date changes, the head (local time with its UTC offset, speaker,
control number, markers), the text, earlier versions, attachments and
reactions. Thread replies are indented under ``↳ reply to MSG-…``. A withheld
message is one line (its placeholder), and a document whose every message is
withheld is a slip sheet. Hits are not marked: which messages a search found
is the producing party's work product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, tzinfo

from discovery.model import UNDATED_TEXT
from discovery.produce.document import Document, Entry
from discovery.safetext import visible

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
"""Day names in English whatever the machine's locale (the same bytes everywhere)."""


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    style: str = "body"
    """``title``, ``meta``, ``day``, ``head``, ``body``, ``note`` or ``withheld``."""
    indent: int = 0
    anchor: int | None = None
    """The message id whose block starts here (the PDF records its page)."""


def zone_name(tz: tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz)


def local_time(e: Entry, tz: tzinfo) -> str:
    if e.sent_at is None:
        return UNDATED_TEXT if e.undated else "(time withheld)"
    t = e.sent_at.astimezone(tz)
    offset = t.strftime("%z")
    shown = t.strftime("%Y-%m-%d %H:%M:%S") + f" {offset[:3]}:{offset[3:]}"
    return shown + (" (source zone unknown)" if e.utc_offset is None else "")


def _size(n: int | None) -> str:
    return "" if n is None else f"{n:,} bytes"


def header_lines(doc: Document, tz: tzinfo, bates_text: str) -> list[Line]:
    c = doc.conversation
    s = doc.slice
    produced = len(doc.entries) - len(doc.withheld)
    lines = [
        Line(f"{c.name} ({c.platform}, {c.kind.value})", "title"),
        Line(f"Bates {bates_text}", "meta"),
        Line(f"Slice: {s.kind}, {s.key}; times in {zone_name(tz)}", "meta"),
        Line(f"Custodians: {'; '.join(doc.custodians) or '(none recorded)'}", "meta"),
        Line(f"Messages: {produced} produced, {len(doc.withheld)} withheld", "meta"),
    ]
    if s.family:
        lines.append(
            Line(
                f"{len(s.family)} thread root(s) from outside this slice are included for"
                " context and marked [thread root from outside this slice]",
                "meta",
            )
        )
    return lines


def entry_lines(doc: Document, tz: tzinfo) -> list[Line]:
    lines: list[Line] = []
    day: date | None = None
    for e in doc.entries:
        if e.sent_at is not None:
            d = e.sent_at.astimezone(tz).date()
            if d != day:
                lines.append(Line(f"— {d.isoformat()} ({WEEKDAYS[d.weekday()]}) —", "day"))
                day = d
        lines.extend(_message_lines(e, tz))
    return lines


def _message_lines(e: Entry, tz: tzinfo) -> list[Line]:
    indent = 1 if e.thread_root is not None else 0
    out: list[Line] = []
    if e.thread_root is not None:
        out.append(Line(f"↳ reply to MSG-{e.thread_root:08d}", "note", indent))
    marks = []
    if e.family:
        marks.append("[thread root from outside this slice]")
    if e.withheld is None:
        if e.edited:
            marks.append("[edited]")
        if e.deleted:
            marks.append("[deleted]")
        if e.system:
            marks.append("[system]")
    head = f"{local_time(e, tz)}  {visible(e.speaker, one_line=True)}  {e.control}"
    out.append(Line(" ".join([head, *marks]), "head", indent, e.id))
    if e.withheld is not None:
        out.append(Line(e.withheld, "withheld", indent + 1))
        return out
    out.extend(Line(t, "body", indent + 1) for t in _text_lines(e.text))
    for n, earlier in enumerate(e.versions, 1):
        out.append(Line(f"earlier version {n}:", "note", indent + 1))
        out.extend(Line(t, "body", indent + 2) for t in _text_lines(earlier))
    for a in e.attachments:
        facts = ", ".join(
            x for x in (_size(a.size), f"SHA-256 {a.sha256}" if a.sha256 else "") if x
        )
        out.append(
            Line(
                f"Attachment: {visible(a.name, one_line=True)}" + (f" ({facts})" if facts else ""),
                "note",
                indent + 1,
            )
        )
    for r in e.reactions:
        who = ", ".join(visible(u, one_line=True) for u in r.users)
        out.append(Line(f"Reaction {r.emoji}" + (f" ({who})" if who else ""), "note", indent + 1))
    return out


def _text_lines(text: str) -> list[str]:
    shown = visible(text.replace("\r\n", "\n").replace("\r", "\n"))
    return shown.split("\n") if shown else [""]


def slip_sheet_lines(doc: Document, tz: tzinfo, bates_text: str) -> list[Line]:
    c = doc.conversation
    labels = sorted({e.withheld or "" for e in doc.entries})
    lines = [
        Line("DOCUMENT WITHHELD", "title"),
        Line(f"Bates {bates_text}", "meta"),
        Line(f"{c.name} ({c.platform}, {c.kind.value})", "meta"),
        Line(f"Slice: {doc.slice.kind}, {doc.slice.key}; times in {zone_name(tz)}", "meta"),
        Line(f"{len(doc.entries)} message(s): {'; '.join(labels)}", "withheld"),
        Line("See the privilege log.", "meta"),
    ]
    lines.extend(_slip_entries(doc, tz))
    return lines


def _slip_entries(doc: Document, tz: tzinfo) -> list[Line]:
    return [
        Line(
            f"{local_time(e, tz)}  {visible(e.speaker, one_line=True)}  {e.control}",
            "head",
            0,
            e.id,
        )
        for e in doc.entries
    ]


def document_lines(doc: Document, tz: tzinfo, bates_text: str) -> list[Line]:
    if doc.slip_sheet:
        return slip_sheet_lines(doc, tz, bates_text)
    return [*header_lines(doc, tz, bates_text), *entry_lines(doc, tz)]


def as_text(lines: Sequence[Line], legend: str = "") -> str:
    """The lines as the TEXT/ file's plain text (UTF-8, ``\\n`` line ends)."""
    out = [("    " * line.indent) + line.text for line in lines]
    if legend:
        out.insert(0, legend)
    return "\n".join(out) + "\n"
