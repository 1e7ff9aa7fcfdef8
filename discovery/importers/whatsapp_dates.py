"""WhatsApp header lines: every layout seen in the wild, and their day/month order.

A header is a date, a time and a separator at the start of a line, written
in the phone's locale::

    12/31/23, 9:05 PM - Ann: text             # Android, US
    31/12/2023, 21:05 - Ann: text             # Android, most locales
    31.12.23, 21:05 - Ann: text               # Android, German and others
    9/24/2019 11:30 p.m. - Ann: text          # no comma (Latin America)
    2022/12/14, 13:34. - Ann: text            # a dot after the time (Japanese)
    21/8/19, 11:28:51 PM: Ann: text           # a colon instead of the dash
    31/12/2023 à 21:05 - Ann: text            # French
    31.12.2023 klo 21.05 - Ann: text          # Finnish: "klo", dotted time
    [31.12.23, 21:05:09] Ann: text            # iOS
    [12.3.2022 klo 14.08.18] Ann: text        # iOS, Finnish
    [09/10/22 11:37:00 p.m.] Ann: text        # iOS, no comma

Invisible marks (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069, BOM) are
ignored anywhere in the header and no-break, narrow no-break, thin and
figure spaces count as spaces; ``AM``/``am``/``a. m.``/``a.m.`` are all
12-hour markers. A year-first date joined to its time by a dash and a space
without a comma (``2023-02-03 10:15 - ``) is a transcript exhibit's layout,
not WhatsApp's (see :mod:`discovery.importers.transcript`).

**Day/month order per line layout.** One export can mix layouts (an Android
export that continued an iOS one), so the order is decided for each layout
(the header with its digits blanked: ``[9.9.9, 9:9:9]`` and ``9/9/9, 9:9 -``
are two layouts) on its own lines only:

1. ``--date-order`` decides, when given;
2. year-first dates (``2023/12/31``) are read year-first;
3. a first field above 12 means day-first, a second field above 12
   month-first (the majority wins should both occur);
4. when every date is ambiguous, the reading under which the layout's dates
   run in order wins (an export is chronological);
5. failing that, the locale convention: dotted or dashed dates are day-first,
   slashed dates with a 12-hour clock month-first (US), slashed 24-hour dates
   day-first; the report then says "ambiguous: read … ; use --date-order to
   change".

Two-digit years are 20YY. A 12-hour marker on an hour above 12
(``13:37:00 p.m.``) cannot be 12-hour: the time is read as 24-hour and the
line gets a problem saying so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_SPACES = "\u00a0\u202f\u2009\u2007"
_CLEAN = str.maketrans({**dict.fromkeys(_MARKS, None), **dict.fromkeys(_SPACES, " ")})
HEAD_CHARS = 72
"""A header (date, time, separator) fits in the first 72 characters of a line."""

_STAMP = (
    r"(?P<date>\d{1,4}[./-] ?\d{1,2}[./-] ?\d{1,4})"
    # between date and time: a comma, a space, or a locale's word ("klo", "à", "um", ...)
    r"(?P<join>,? ?(?:klo|kl\.|à|a las|um|om|alle) |, ?| )"
    r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
    r"(?: ?(?P<ampm>[AaPp]\.? ?[Mm]\.?))?"
)
_IOS_RE = re.compile(rf"^\[{_STAMP}\] ?")
_ANDROID_RE = re.compile(rf"^{_STAMP}\.? ?[-–:] ")
_FIELDS_RE = re.compile(r" ?[./-] ?")
_DIGITS_RE = re.compile(r"\d+")
_AMPM_RE = re.compile(r"[AaPp]\.? ?[Mm]\.?")


@dataclass(frozen=True, slots=True)
class Header:
    """The stamp at the start of a header line, before its date is interpreted.

    ``rest`` is the line after the header, as written (marks kept).
    """

    date: str
    hour: int
    minute: int
    second: int
    ampm: str  # "a", "p" or ""
    layout: str
    rest: str
    source: str  # the line as written, stripped of surrounding blanks


def _clean(head: str) -> tuple[str, list[int]]:
    """``head`` without marks and with plain spaces, and each kept char's index in ``head``."""
    out, idx = [], []
    for i, ch in enumerate(head):
        c = ch.translate(_CLEAN)
        if c:
            out.append(c)
            idx.append(i)
    return "".join(out), idx


def parse_header(line: str) -> Header | None:
    """The header at the start of ``line``, or None when the line continues a message."""
    head = line[:HEAD_CHARS]
    clean, idx = _clean(head)
    clean = clean.lstrip()
    shift = len(idx) - len(clean)
    m = _IOS_RE.match(clean) or _ANDROID_RE.match(clean)
    if m is None:
        return None
    date, join = m.group("date"), m.group("join")
    bracket = clean.startswith("[")
    if not bracket and "," not in join and "-" in date and len(date.split("-")[0]) == 4:
        return None  # "2023-02-03 10:15 - ": a transcript exhibit's layout
    end = m.end() + shift
    rest = line[idx[end] :] if end < len(idx) else line[len(head) :]
    ampm = (m.group("ampm") or "")[:1].lower()
    layout = _DIGITS_RE.sub("9", _AMPM_RE.sub("A", m.group(0).strip()))
    return Header(
        date,
        int(m.group("h")),
        int(m.group("mi")),
        int(m.group("s") or 0),
        ampm,
        layout,
        rest,
        line.strip(),
    )


def is_header(line: str) -> bool:
    """Whether ``line`` starts with a WhatsApp header."""
    return parse_header(line) is not None


def _fields(date: str) -> list[str]:
    return _FIELDS_RE.split(date.strip())


def year_first(date: str) -> bool:
    return len(_fields(date)[0]) == 4


@dataclass(frozen=True, slots=True)
class Order:
    """How one layout's numeric dates are read: ``DMY``, ``MDY`` or ``YMD``, and why."""

    order: str
    why: str


def decide_order(dates: list[tuple[int, str]], twelve_hour: bool, forced: str | None) -> Order:
    """The order of one layout's dates, given as (line number, date) in file order."""
    if forced:
        return Order(forced, "as --date-order says")
    triples: list[tuple[int, int, int, int]] = []
    dotted = 0
    for line, d in dates:
        f = _fields(d)
        if len(f) != 3 or year_first(d) or not all(x.isdigit() for x in f):
            continue
        triples.append((line, int(f[0]), int(f[1]), int(f[2])))
        dotted += "/" not in d
    if not triples:
        return Order("YMD", "dates are year-first")
    first = [line for line, a, _, _ in triples if a > 12]
    second = [line for line, _, b, _ in triples if b > 12]
    if first or second:
        if len(first) > len(second):
            return Order("DMY", f"a first field above 12 (a day) at line {first[0]}")
        return Order("MDY", f"a second field above 12 (a day) at line {second[0]}")
    dmy = _inversions((y, b, a) for _, a, b, y in triples)
    mdy = _inversions((y, a, b) for _, a, b, y in triples)
    if dmy != mdy:
        order = "DMY" if dmy < mdy else "MDY"
        return Order(order, f"every date ambiguous; {order} keeps them in date order")
    order = "DMY" if dotted * 2 > len(triples) or not twelve_hour else "MDY"
    reading = "day-first" if order == "DMY" else "month-first"
    return Order(order, f"ambiguous: read {reading}; use --date-order to change")


def _inversions(days: Iterable[tuple[int, int, int]]) -> int:
    return sum(1 for x, y in pairwise(list(days)) if y < x)


def header_time(h: Header, order: str) -> tuple[datetime, str]:
    """The naive time of a header read in ``order``, and a problem ('' when none).

    Raises ValueError when the date or time does not exist.
    """
    f = [int(x) for x in _fields(h.date)]
    if len(f) != 3:
        raise ValueError(f"unreadable date {h.date!r}")
    if year_first(h.date):
        y, mo, d = f
    elif order == "YMD":
        y, mo, d = f
        y += 2000 if y < 100 else 0
    else:
        d, mo, y = (f[0], f[1], f[2]) if order == "DMY" else (f[1], f[0], f[2])
        y += 2000 if len(_fields(h.date)[2]) <= 2 else 0
    hour, note = h.hour, ""
    if h.ampm and hour > 12:
        note = f"the 12-hour time '{h.hour}:{h.minute:02d} {h.ampm}m' is past 12; read as 24-hour"
    elif h.ampm == "p" and hour < 12:
        hour += 12
    elif h.ampm == "a" and hour == 12:
        hour = 0
    try:
        return datetime(y, mo, d, hour, h.minute, h.second), note
    except ValueError:
        raise ValueError(f"unreadable date or time in {h.source[:40]!r}") from None
