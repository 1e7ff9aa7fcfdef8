"""Plain-text chat transcripts, as attached to court filings and exhibits.

A message starts with a header line in one of these layouts::

    Name (2/3/2023 10:15 AM): text                 # name, then date and time in parentheses
    [03.02.23, 10:15:00] Name: text                # bracketed date and time, then the name
    2023-02-03 10:15 - Name: text                  # date and time, a dash, then the name
    02/03/2023, 10:15 - Name: text

A bracketed or dashed header with no ``Name:`` (``[03.02.23, 10:16] Ann added Bob``)
is a system line (``system=True``, no speaker). Any other line continues the
message above it (joined with ``"\\n"``; blank lines inside a message are kept,
trailing ones dropped).

Dates: ``YYYY-MM-DD`` (and ``YYYY/MM/DD``) is read year-first. Other dates are
read day-first or month-first for the WHOLE file: if any date's first field is
above 12 the file is day-first, if any second field is above 12 it is
month-first; when every date is ambiguous the file is month-first, except
dotted dates (``03.02.23``), which are day-first by the convention of every
locale that writes them. Two-digit years are 20YY. Times (12- or 24-hour,
``AM``/``a. m.``, U+202F before AM/PM) are read with python-dateutil.
Timestamps carry no zone, so ``sent_at`` is naive: the ingest applies ``--tz``.

Text before the first header (an exhibit's cover lines, "Transcript of ...")
is kept, not dropped: it becomes one system message with no speaker, located
at its first line, dated at the first message's time (the preamble precedes
it) and marked ``extra["preamble"] = "true"``. A header whose date cannot be
read is an ImportProblem at its line; its continuation lines are skipped with
it and counted in the problem.

One conversation per file: key = the file name plus the start of the file's
SHA-256 (``ImportContext.file_key``: two different ``chat.txt`` never merge,
the same file from two custodians does), name = the file name, kind
``exhibit``, platform ``transcript``. ``native_id`` and ``location`` are
``line N`` (the header line).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dateutil import parser as dateparser

from discovery.errors import ImportProblem
from discovery.importers.base import (
    ImportContext,
    ImportItem,
    RawConversation,
    RawMessage,
    SourceFact,
)
from discovery.importers.textio import head_text, read_text
from discovery.importers.times import infer_day_first
from discovery.model import ConversationKind, Participant

PLATFORM = "transcript"
SNIFF_LINES = 50
SNIFF_BYTES = 64 * 1024
MIN_HEADERS = 2

_SP = r"[ \u00a0\u202f\u2009]"
DATE = r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}"
TIME = rf"\d{{1,2}}[:.]\d{{2}}(?:[:.]\d{{2}})?(?:{_SP}?[AaPp]\.?{_SP}?[Mm]\.?)?"
_NAME = r"[^\s()\[\]:][^()\[\]:]{0,79}?"

NAME_FIRST_RE = re.compile(
    rf"^(?P<name>{_NAME}){_SP}+\((?P<date>{DATE}),?{_SP}+(?P<time>{TIME})\):(?:{_SP}?(?P<text>.*))?$"
)
BRACKET_RE = re.compile(rf"^\[(?P<date>{DATE}),?{_SP}+(?P<time>{TIME})\]{_SP}*(?P<rest>.*)$")
DASH_RE = re.compile(
    rf"^(?P<date>{DATE})(?:,?{_SP}+|T)(?P<time>{TIME}){_SP}+[-–]{_SP}+(?P<rest>.*)$"
)
SPEAKER_RE = re.compile(rf"^(?P<name>{_NAME}):(?:{_SP}(?P<text>.*))?$")
_MARKS = "\u200e\u200f\ufeff\u202a\u202c"
_LINE_SPLIT = re.compile(r"\r\n|\r|\n")


@dataclass(slots=True)
class _Header:
    """A parsed header line before its date is interpreted."""

    location: str
    date: str
    time: str
    speaker: str
    text: str
    system: bool
    body: list[str] = field(default_factory=list)


def match_header(line: str) -> _Header | None:
    """The header in ``line`` (no location yet), or None when it continues a message."""
    s = line.lstrip(_MARKS)
    m = NAME_FIRST_RE.match(s)
    if m:
        name = m.group("name").strip()
        return _Header("", m.group("date"), m.group("time"), name, m.group("text") or "", False)
    m = BRACKET_RE.match(s) or DASH_RE.match(s)
    if not m:
        return None
    rest = m.group("rest").lstrip(_MARKS)
    sp = SPEAKER_RE.match(rest)
    if sp:
        name = sp.group("name").strip()
        return _Header("", m.group("date"), m.group("time"), name, sp.group("text") or "", False)
    return _Header("", m.group("date"), m.group("time"), "", rest, True)


def _fields(date: str) -> list[str]:
    return re.split(r"[./-]", date)


def parse_datetime(date: str, time: str, day_first: bool) -> datetime:
    """A naive datetime from a header's date and time. Raises ValueError if unreadable."""
    f = _fields(date)
    if len(f) != 3:
        raise ValueError(f"unreadable date {date!r}")
    if len(f[0]) == 4:
        y, mo, d = int(f[0]), int(f[1]), int(f[2])
    else:
        a, b, y = int(f[0]), int(f[1]), int(f[2])
        d, mo = (a, b) if day_first else (b, a)
        if len(f[2]) <= 2:
            y += 2000
    clock = re.sub(r"[\u00a0\u202f\u2009]", " ", time)
    clock = re.sub(r"([AaPp])\.?\s?([Mm])\.?", r"\1\2", clock)
    clock = re.sub(
        r"^(\d{1,2})\.(\d{2})(?:\.(\d{2}))?", lambda m: ":".join(g for g in m.groups() if g), clock
    )
    try:
        t = dateparser.parse(clock, default=datetime(2000, 1, 1))
        return datetime(y, mo, d, t.hour, t.minute, t.second)
    except (ValueError, OverflowError, dateparser.ParserError) as e:
        raise ValueError(f"unreadable date or time '{date} {time}'") from e


class TranscriptImporter:
    """Reads plain-text chat transcripts (one conversation per file)."""

    name = "transcript"

    def sniff(self, path: Path) -> bool:
        """True when at least two of the first 50 lines are message headers.

        A WhatsApp export (its first line a WhatsApp header) is not a transcript:
        that importer claims it, and no file is claimed by two importers.
        """
        text = head_text(path, SNIFF_BYTES)
        if text is None:
            return False
        from discovery.importers.whatsapp import _first_line_is_header  # imports this module

        if _first_line_is_header(text):
            return False
        lines = _LINE_SPLIT.split(text)[:SNIFF_LINES]
        return sum(1 for line in lines if match_header(line)) >= MIN_HEADERS

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        text, problems = read_text(path, ctx.display_path)
        yield from problems
        if text is None:
            return
        yield from read_transcript(
            text, ctx.file_key(path.name), ctx.display_path, name=path.name, order=ctx.date_order
        )


_LINE_LOCATION = re.compile(r"^line (\d+)$")


def problem_at(display_path: str, location: str, reason: str) -> ImportProblem:
    """A problem at ``location`` (``line N`` becomes its line; other places lead the reason)."""
    m = _LINE_LOCATION.match(location)
    if m:
        return ImportProblem(display_path, reason, int(m.group(1)))
    return ImportProblem(display_path, f"{location}: {reason}" if location else reason)


def read_transcript(
    text: str, key: str, display_path: str, name: str | None = None, order: str | None = None
) -> Iterator[ImportItem]:
    """The items of one transcript's text (``key`` identifies it, ``name`` shows it)."""
    lines = [(f"line {n}", s) for n, s in enumerate(_LINE_SPLIT.split(text), start=1)]
    yield from read_transcript_lines(lines, key, display_path, name=name, order=order)


def read_transcript_lines(
    lines: Iterable[tuple[str, str]],
    key: str,
    display_path: str,
    *,
    platform: str = PLATFORM,
    name: str | None = None,
    order: str | None = None,
    undated_fallback: tuple[datetime, str] | None = None,
) -> Iterator[ImportItem]:
    """The items of a transcript given as ``(location, line)`` pairs, in reading order.

    ``location`` names where the line is (``line 12``, ``page 3, line 12``); it
    becomes the ``native_id`` and ``location`` of the message its header starts.
    PDF and HTML exhibits feed their text through here. ``name`` is the
    conversation's display name (default: ``key``). ``order`` is
    ``--date-order``. A header whose time cannot be read is kept, dated at the
    message before it, else at ``undated_fallback`` (a PDF's creation date, and
    what it is), else undated; the report counts each fallback.
    """
    preamble: list[tuple[str, str]] = []
    headers: list[_Header] = []
    for location, line in lines:
        h = match_header(line)
        if h is not None:
            h.location = location
            headers.append(h)
        elif headers:
            headers[-1].body.append(line)
        else:
            preamble.append((location, line))
    if not headers:
        yield ImportProblem(
            display_path, "no transcript messages found (no 'Name (date time): text' lines)"
        )
        return

    dates = [h.date for h in headers]
    if order is not None:
        day_first, why = order == "DMY", f"{order} (as --date-order says)"
    else:
        day_first = infer_day_first(dates)
        why = _order_why(dates, day_first)
    speakers: dict[str, None] = {}
    for h in headers:
        if h.speaker:
            speakers.setdefault(h.speaker)
    yield RawConversation(
        platform=platform,
        key=key,
        name=key if name is None else name,
        kind=ConversationKind.EXHIBIT,
        participants=tuple(Participant(s, s) for s in speakers),
    )
    if why:
        yield SourceFact("date_order", why)

    parsed: list[tuple[_Header, datetime | None, str]] = []
    for h in headers:
        try:
            parsed.append((h, parse_datetime(h.date, h.time, day_first), ""))
        except ValueError as e:
            parsed.append((h, None, str(e)))

    first_time = next((t for _, t, _ in parsed if t is not None), None)
    first_kept = next((i for i, (_, s) in enumerate(preamble) if s.strip()), None)
    if first_kept is not None and first_time is not None:
        start = preamble[first_kept][0]
        body = "\n".join(s for _, s in preamble[first_kept:]).strip("\n")
        yield RawMessage(
            platform=platform,
            conversation_key=key,
            native_id=start,
            speaker_id="",
            speaker="",
            sent_at=first_time,
            text=body,
            location=start,
            system=True,
            extra={"preamble": "true"},
        )
    elif first_kept is not None:
        yield problem_at(
            display_path, preamble[first_kept][0], "text before the first message was not imported"
        )

    previous: datetime | None = None
    for h, when, error in parsed:
        body_lines = [h.text, *h.body]
        while len(body_lines) > 1 and not body_lines[-1].strip():
            body_lines.pop()
        dated_by = ""
        if when is None:  # kept, never dropped
            if previous is not None:
                when, dated_by, fate = (
                    previous,
                    "the previous message's time",
                    "dated by the message before it",
                )
            elif undated_fallback is not None:
                when, dated_by = undated_fallback
                fate = f"dated by {dated_by}"
            else:
                fate = "kept undated"
            yield problem_at(display_path, h.location, f"{error}; {fate}")
        previous = when or previous
        yield RawMessage(
            platform=platform,
            conversation_key=key,
            native_id=h.location,
            speaker_id=h.speaker,
            speaker=h.speaker,
            sent_at=when,
            text="\n".join(body_lines),
            location=h.location,
            system=h.system,
            dated_by=dated_by,
        )


def _order_why(dates: list[str], day_first: bool) -> str:
    """The report line for how a transcript's ambiguous numeric dates were read ('' if none)."""
    numeric = [d for d in dates if len(_fields(d)) == 3 and len(_fields(d)[0]) != 4]
    if not numeric:
        return ""
    order = "DMY" if day_first else "MDY"
    for d in numeric:
        a, b = (int(x) if x.isdigit() else 0 for x in _fields(d)[:2])
        if (a > 12) == day_first and (a > 12 or b > 12):
            return f"{order} (a day above 12 in '{d}')"
    reading = "day-first" if day_first else "month-first"
    return f"{order} (ambiguous: read {reading}; use --date-order to change)"
