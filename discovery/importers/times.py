"""Timestamps as chat exports write them: epochs, ISO 8601, loose dates, and ordering.

Every reader here turns bad input into ``None`` or a ``ValueError`` whose
message is meant for an ImportProblem; none returns a datetime the ingest
cannot store later:

* :func:`from_epoch` reads seconds, milliseconds or microseconds (by
  magnitude, or by the ``unit`` given) with exact integer arithmetic, so
  ``1700000000123456`` keeps its microseconds (a float would round them).
* :func:`parse_iso` reads ISO 8601 (``Z``, an offset, or none: naive), .NET's
  seven fractional digits included.
* :func:`parse_loose` reads anything python-dateutil reads, strictly: a value
  without a year, a month or a day (``10:15``, ``Jan 5``, ``2023-05``) is
  refused rather than completed from today's date.
* Every aware result has an offset strictly inside ±24 h (:func:`check_offset`);
  ``+25:00`` is a ValueError here, never a failure at storage time.
* :func:`sort_key` orders naive and aware datetimes together (aware ones by
  their UTC wall time).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from dateutil import parser as dateparser

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_OFFSET = timedelta(hours=24)
_NUMBER_RE = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
# Two defaults that differ in year, month and day: a component the text lacks
# shows up as a difference between the two parses.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2004, 2, 2))
# dateutil reads "UTC+03:00"/"GMT+3" the POSIX way (sign inverted); chat exports
# mean the ordinary way, so the zone name before a signed offset is dropped.
_ZONE_PREFIX_RE = re.compile(r"\b(?:UTC|GMT)(?=\s*[+-]\d)", re.IGNORECASE)

SECONDS_BELOW = 10**11
"""Epoch values below this are seconds (10^11 s is the year 5138)."""
MILLIS_BELOW = 10**14
"""Epoch values below this (and not seconds) are milliseconds; above, microseconds."""


def check_offset(when: datetime) -> datetime:
    """``when`` itself, or ValueError when its UTC offset is not strictly inside ±24 h."""
    try:
        delta = when.utcoffset()
    except ValueError as e:  # a tzinfo that refuses its own offset
        raise ValueError(f"unusable UTC offset ({e})") from None
    if delta is not None and abs(delta) >= _MAX_OFFSET:
        hours, rest = divmod(int(abs(delta).total_seconds()) // 60, 60)
        sign = "-" if delta < timedelta(0) else "+"
        raise ValueError(f"UTC offset {sign}{hours:02d}:{rest:02d} is beyond ±24:00")
    return when


def from_epoch(value: Any, unit: int | None = None) -> datetime | None:
    """A UTC datetime from an epoch number, or None when ``value`` is not one or out of range.

    Args:
        value: an int, a float, or a decimal string (``"1452837318.000002"``).
        unit: ticks per second (1: seconds, 1000: ms, 10**6: µs); None decides by
            magnitude (:data:`SECONDS_BELOW`, :data:`MILLIS_BELOW`).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        number = Decimal(repr(value))
    elif isinstance(value, str) and _NUMBER_RE.match(value.strip()):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    if unit is None:
        size = abs(number)
        unit = 1 if size < SECONDS_BELOW else 1000 if size < MILLIS_BELOW else 1_000_000
    micros = int((number * 1_000_000 / unit).to_integral_value())
    try:
        return EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        return None


def parse_iso(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` or an offset; naive when it has none), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    v = value.strip()
    try:
        return check_offset(datetime.fromisoformat(v))
    except ValueError:
        pass
    # .NET writes 7 fractional digits; some tools write more still.
    if "." in v:
        base, _, rest = v.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        try:
            return check_offset(
                datetime.fromisoformat(f"{base}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}")
            )
        except ValueError:
            return None
    return None


def parse_loose(text: str, day_first: bool = False) -> datetime:
    """A date and time in any layout python-dateutil reads, refusing incomplete dates.

    Args:
        text: the value (``"12/03/2023 10:15"``, ``"Jan 17, 2020 9:49 pm"``).
        day_first: how to read an all-numeric date whose order is ambiguous.

    Raises:
        ValueError: unreadable, missing a year, month or day, or with an
            offset beyond ±24 h. The message quotes the value.
    """
    v = _ZONE_PREFIX_RE.sub("", text.strip())
    shown = text.strip()[:40]
    try:
        a, b = (dateparser.parse(v, default=d, dayfirst=day_first) for d in _DEFAULTS)
    except (ValueError, OverflowError, dateparser.ParserError):
        raise ValueError(f"unreadable time {shown!r}") from None
    if a.date() != b.date():
        raise ValueError(f"time {shown!r} has no full date (year, month and day)")
    try:
        return check_offset(a)
    except ValueError as e:
        raise ValueError(f"unusable time {shown!r}: {e}") from None


_NUMERIC_DATE_RE = re.compile(r"^\s*(\d{1,4})([./-])(\d{1,2})[./-](\d{1,4})(?!\d)")


def numeric_date(text: str) -> str | None:
    """The leading all-numeric date of ``text`` (``12/03/2023`` of ``12/03/2023 10:15``)."""
    m = _NUMERIC_DATE_RE.match(text)
    return m.group(0).strip() if m else None


def infer_day_first(dates: list[str]) -> bool:
    """Whether one file's all-numeric, not year-first dates are day-first.

    Decided once per file, so that every row reads the same way: if any
    date's first field is above 12 the file is day-first, if any second field
    is above 12 it is month-first (the majority wins should both occur).
    When every date is ambiguous the file is month-first, except dotted dates
    (``03.02.23``), which are day-first by the convention of every locale that
    writes them. Year-first dates (``2023-02-03``) are ignored: they are never
    ambiguous.
    """
    first_big = second_big = 0
    dotted = slashed = 0
    for d in dates:
        f = re.split(r"[./-]", d)
        if len(f) != 3 or len(f[0]) == 4 or not all(x.isdigit() for x in f):
            continue
        a, b = int(f[0]), int(f[1])
        first_big += a > 12
        second_big += b > 12
        if "." in d:
            dotted += 1
        else:
            slashed += 1
    if first_big or second_big:
        return first_big > second_big
    return dotted > slashed


def sort_key(when: datetime) -> datetime:
    """A naive key ordering naive and aware datetimes together (aware by their UTC wall time)."""
    if when.tzinfo is None or when.utcoffset() is None:
        return when.replace(tzinfo=None)
    return when.astimezone(UTC).replace(tzinfo=None)
