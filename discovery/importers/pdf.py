"""PDF exhibits, read from their text layer with pypdf.

Every page's text is split into lines located as ``page 3, line 12``. Lines
that follow a transcript layout (see :mod:`discovery.importers.transcript`:
``Name (2/3/2023 10:15 AM): text``, ``[03.02.23, 10:15:00] Name: text``, ...)
start messages with their speaker and time; the lines after a header continue
its message, also across a page break. Nothing else is dropped:

- text before the first message (a cover page, a caption) is one system
  message, as for plain-text transcripts;
- page furniture (a line at the top or bottom of a page that comes back on at
  least half of the pages, digits aside: ``Page 3 of 9``, ``CONFIDENTIAL``)
  is taken out of the messages and kept as one system message per page,
  marked ``extra["exhibit_text"] = "true"`` and dated at the last message
  begun on or before that page;
- a PDF with no transcript lines at all (a memo, a letter) is a document
  exhibit: each page is one message with no speaker, dated by the PDF's
  creation (or modification) date. Without any date its text cannot be
  placed in time, and that is reported rather than guessed.

A page without a text layer is reported (``page 4: no text layer; OCR it
first``); a PDF with no text layer at all is one problem of that kind. An
encrypted PDF is opened with the empty password when it has one, else reported.
pypdf raises many kinds of exceptions on broken files; each is caught at the
document or page it concerns and reported there, so a bad PDF never stops an
ingest. pypdf's log messages are kept off the terminal (the library never prints).

One conversation per file: key = the file name plus the start of its SHA-256
(``ImportContext.file_key``), name = the file name, kind ``exhibit``, platform ``pdf``.
Times carry no zone unless the PDF date does, so the ingest applies ``--tz``.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.textio import head
from discovery.importers.transcript import match_header, read_transcript_lines
from discovery.model import ConversationKind

PLATFORM = "pdf"
HEADER_WINDOW = 1024
"""A PDF's ``%PDF-`` marker must start within its first kilobyte (ISO 32000-1, 7.5.2)."""
EDGE_LINES = 2
"""How many non-blank lines at the top and at the bottom of a page may be page furniture."""
NO_TEXT = "no text layer; OCR it first"

_LINE_SPLIT = re.compile(r"\r\n|\r|\n")
_DIGITS = re.compile(r"\d+")
logging.getLogger("pypdf").addHandler(logging.NullHandler())
logging.getLogger("pypdf").propagate = False


class PdfImporter:
    """Reads PDF exhibits (one conversation per file)."""

    name = "pdf"

    def sniff(self, path: Path) -> bool:
        """True for a file whose first kilobyte holds the ``%PDF-`` marker, whatever follows.

        Real tools write binary bytes right after it (Word, Acrobat, linearised
        files and the ``%âãÏÓ`` comment line), so NULs there are no reason to refuse.
        """
        raw = head(path, HEADER_WINDOW, binary=True)
        return raw is not None and b"%PDF-" in raw

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pages, dated, problems = _extract(path, ctx.display_path)
        yield from problems
        if pages is None:
            return
        yield from _items(
            pages, dated, ctx.file_key(path.name), path.name, ctx.display_path, ctx.date_order
        )


def _extract(
    path: Path, display: str
) -> tuple[list[list[str] | None] | None, datetime | None, list[ImportProblem]]:
    """The lines of every page (None: a page without text), the PDF's date, and problems."""
    from pypdf import PdfReader  # imported here: only an ingest of a PDF pays for it

    problems: list[ImportProblem] = []
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return None, None, [ImportProblem(display, "encrypted PDF; supply a decrypted copy")]
        count = len(reader.pages)
    except Exception as e:  # pypdf raises anything from KeyError to RecursionError
        return None, None, [ImportProblem(display, f"not a readable PDF ({_why(e)})")]
    pages: list[list[str] | None] = []
    for n in range(1, count + 1):
        try:
            text = reader.pages[n - 1].extract_text() or ""
        except Exception as e:  # one broken page must not lose the others
            problems.append(ImportProblem(display, f"page {n}: text unreadable ({_why(e)})"))
            pages.append(None)
            continue
        lines = _LINE_SPLIT.split(text.replace("\x00", ""))
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            pages.append(None)
            continue
        pages.append(lines)
    if not any(pages):
        if not problems:
            problems.append(ImportProblem(display, NO_TEXT))
        return None, None, problems
    for n, page in enumerate(pages, start=1):
        if page is None and not any(p.reason.startswith(f"page {n}:") for p in problems):
            problems.append(ImportProblem(display, f"page {n}: {NO_TEXT}"))
    return pages, _pdf_date(reader), problems


def _why(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _pdf_date(reader: Any) -> datetime | None:
    """The creation date, else the modification date, of the document; None if neither reads."""
    for attr, raw_key in (("creation_date", "/CreationDate"), ("modification_date", "/ModDate")):
        try:
            meta = reader.metadata
            value = getattr(meta, attr) if meta is not None else None
        except Exception:  # a malformed date string or Info dictionary: read the raw string
            value = None
        if isinstance(value, datetime):
            return value
        try:
            raw = meta.get(raw_key) if meta is not None else None
        except Exception:
            raw = None
        value = parse_pdf_date(str(raw)) if raw else None
        if value is not None:
            return value
    return None


_PDF_DATE_RE = re.compile(
    r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"(?:(Z)|([+-])(\d{2})'?(\d{2})?'?)?(?:\d{2}'?\d{2}'?)?"
)


def parse_pdf_date(raw: str) -> datetime | None:
    """A PDF date string as real tools write it, the lenient way.

    ``D:20160405140805Z00'00'`` (macOS Quartz: ``Z`` and then an offset),
    ``D:20230621093027-04'00'``, ``D:2009`` (month and day default to 1 as
    ISO 32000 says). None when it is not one.
    """
    m = _PDF_DATE_RE.match(raw.strip())
    if m is None:
        return None
    y, mo, d, h, mi, sec = (
        int(g) if g else dflt for g, dflt in zip(m.groups()[:6], (0, 1, 1, 0, 0, 0), strict=True)
    )
    try:
        when = datetime(y, mo, d, h, mi, sec)
        if m.group(7):
            return when.replace(tzinfo=UTC)
        if m.group(8):
            delta = timedelta(hours=int(m.group(9)), minutes=int(m.group(10) or 0))
            return when.replace(tzinfo=timezone(delta if m.group(8) == "+" else -delta))
    except ValueError:
        return None
    return when


def _key(line: str) -> str:
    return _DIGITS.sub("#", " ".join(line.split()).casefold())


def _edges(lines: list[str]) -> set[int]:
    """Indexes of the first and last EDGE_LINES non-blank lines of a page."""
    filled = [i for i, s in enumerate(lines) if s.strip()]
    return set(filled[:EDGE_LINES] + filled[-EDGE_LINES:])


def page_furniture(pages: list[list[str] | None]) -> set[str]:
    """Keys of lines repeated at a page edge on at least half of the pages (two at least)."""
    texts = [p for p in pages if p]
    if len(texts) < 2:
        return set()
    seen: Counter[str] = Counter()
    for lines in texts:
        seen.update({_key(lines[i]) for i in _edges(lines) if match_header(lines[i]) is None})
    need = max(2, (len(texts) + 1) // 2)
    return {k for k, c in seen.items() if c >= need}


def _items(
    pages: list[list[str] | None],
    dated: datetime | None,
    key: str,
    name: str,
    display: str,
    order: str | None = None,
) -> Iterator[ImportItem]:
    furniture = page_furniture(pages)
    chat: list[tuple[str, str]] = []
    aside: dict[int, list[tuple[str, str]]] = {}
    for p, lines in enumerate(pages, start=1):
        if lines is None:
            continue
        edges = _edges(lines)
        for i, line in enumerate(lines):
            where = (f"page {p}, line {i + 1}", line)
            if i in edges and _key(line) in furniture:
                aside.setdefault(p, []).append(where)
            else:
                chat.append(where)
    if any(match_header(line) for _, line in chat):
        yield from _transcript(chat, aside, key, name, display, dated, order)
    else:
        yield from _document(pages, dated, key, name, display)


def _page_of(location: str) -> int:
    m = re.match(r"page (\d+)", location)
    return int(m.group(1)) if m else 0


def _transcript(
    chat: list[tuple[str, str]],
    aside: dict[int, list[tuple[str, str]]],
    key: str,
    name: str,
    display: str,
    dated: datetime | None = None,
    order: str | None = None,
) -> Iterator[ImportItem]:
    begun: list[tuple[int, datetime]] = []  # (page, time) of each message, in reading order
    fallback = None if dated is None else (dated, "the PDF creation date")
    for item in read_transcript_lines(
        chat, key, display, platform=PLATFORM, name=name, order=order, undated_fallback=fallback
    ):
        if isinstance(item, RawMessage) and not item.extra.get("preamble") and item.sent_at:
            begun.append((_page_of(item.location), item.sent_at))
        yield item
    for page, lines in sorted(aside.items()):
        before = [t for p, t in begun if p <= page]
        when = before[-1] if before else begun[0][1] if begun else None
        if when is None:
            yield ImportProblem(
                display, f"{lines[0][0]}: page text kept undated (no dated message to place it)"
            )
        yield RawMessage(
            platform=PLATFORM,
            conversation_key=key,
            native_id=lines[0][0],
            speaker_id="",
            speaker="",
            sent_at=when,
            text="\n".join(s for _, s in lines),
            location=lines[0][0],
            system=True,
            extra={"exhibit_text": "true"},
        )


def _document(
    pages: list[list[str] | None], dated: datetime | None, key: str, name: str, display: str
) -> Iterator[ImportItem]:
    filled = [(p, lines) for p, lines in enumerate(pages, start=1) if lines]
    if dated is None:
        yield ImportProblem(
            display,
            f"no transcript lines and no creation or modification date: {len(filled)} page(s)"
            " kept undated",
        )
    yield RawConversation(platform=PLATFORM, key=key, name=name, kind=ConversationKind.EXHIBIT)
    for p, lines in filled:
        yield RawMessage(
            platform=PLATFORM,
            conversation_key=key,
            native_id=f"page {p}",
            speaker_id="",
            speaker="",
            sent_at=dated,
            text="\n".join(lines).strip("\n"),
            location=f"page {p}",
            extra={"exhibit_text": "true"},
        )
