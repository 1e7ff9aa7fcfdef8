"""Reading ``sent:``, ``after:`` and ``before:`` values: days, timestamps, ranges.

``YYYY-MM-DD`` is a day of the display zone; a timestamp needs an offset
(``2023-01-05T10:00:00+02:00``, ``Z``). Bounds are stored normalised
(``isoformat``). A ``sent:A..B`` range that holds no instant in any zone is an
error (:func:`_always_empty`): two days reversed, two instants reversed
(offsets count), or a day and an instant that no zone from UTC-12 to UTC+14
could order.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from discovery.query.ast import DateRange
from discovery.query.terms import ErrorAt

MIN_YEAR, MAX_YEAR = 1900, 2199

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_STAMP_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})",
    re.IGNORECASE,
)


class DateReader:
    """Date field values; ``error(message, column, length)`` builds the error to raise."""

    def __init__(self, error: ErrorAt) -> None:
        self.error = error

    def date(self, name: str, value: str, at: int) -> DateRange:
        if name != "sent":
            bound = self.date_bound(value, at)
            return DateRange(name, bound, None) if name == "after" else DateRange(name, None, bound)
        if ".." not in value:
            bound = self.date_bound(value, at)
            return DateRange("sent", bound, bound)
        cut = value.index("..")
        left, right = value[:cut], value[cut + 2 :]
        if not left or not right:
            raise self.error(
                "sent: needs a date on both sides of '..' (use after: or before: for open ranges)",
                at,
                len(value),
            )
        lo = self.date_bound(left, at)
        hi = self.date_bound(right, at + cut + 2)
        if _always_empty(lo, hi):
            raise self.error(f"reversed date range: {left} is after {right}", at, len(value))
        return DateRange("sent", lo, hi)

    def date_bound(self, value: str, at: int) -> str:
        """Validate one date or timestamp and return its normalized text."""
        hint = "use YYYY-MM-DD or a timestamp with an offset like 2023-01-05T10:00:00+02:00"
        try:
            if _DATE_RE.fullmatch(value):
                d = date.fromisoformat(value)
                year, out = d.year, d.isoformat()
            elif _STAMP_RE.fullmatch(value):
                t = datetime.fromisoformat(value.upper())
                year, out = t.year, t.isoformat()
            else:
                raise ValueError(value)
        except ValueError:
            raise self.error(f"bad date {value!r}: {hint}", at, len(value)) from None
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise self.error(
                f"date {value!r} is out of range (years {MIN_YEAR}-{MAX_YEAR})", at, len(value)
            )
        return out


_EARLIEST = timezone(timedelta(hours=14))
_LATEST = timezone(timedelta(hours=-12))


def _always_empty(lo: str, hi: str) -> bool:
    """Whether ``sent:lo..hi`` holds no instant whatever the display zone."""
    lo_stamp, hi_stamp = "T" in lo, "T" in hi
    if not lo_stamp and not hi_stamp:
        return date.fromisoformat(lo) > date.fromisoformat(hi)
    if lo_stamp:
        start = datetime.fromisoformat(lo)
    else:
        d = date.fromisoformat(lo)
        start = datetime(d.year, d.month, d.day, tzinfo=_EARLIEST)
    if hi_stamp:
        return start > datetime.fromisoformat(hi)
    d = date.fromisoformat(hi) + timedelta(days=1)
    return start >= datetime(d.year, d.month, d.day, tzinfo=_LATEST).astimezone(UTC)
