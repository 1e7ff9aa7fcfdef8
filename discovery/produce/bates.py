"""Bates numbering: ``ABC-000001``, one number per PDF page, or one per document.

Numbers are handed out in production order from ``--start`` (default 1),
contiguous and never reused within a production: when PDFs are produced a
document takes one number per page (its range is its first to last page);
otherwise one number per document. Six digits, more when the number needs
them (``ABC-1000000``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from discovery.errors import UsageError

_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]{0,31}$")
WIDTH = 6


_EXAMPLES = {"Bates": "ABC or DEF_PROD", "exhibit": "PX or DEF_EX"}


def check_prefix(prefix: str, kind: str = "Bates") -> str:
    """The prefix of Bates (or exhibit, ``kind="exhibit"``) numbers as given, or a
    :class:`UsageError` naming what is allowed."""
    if not _PREFIX_RE.match(prefix):
        raise UsageError(
            f"invalid {kind} prefix {prefix!r}: use 1-32 letters, digits, '.' or '_'"
            f" (e.g. {_EXAMPLES[kind]})"
        )
    return prefix


def bates(prefix: str, n: int) -> str:
    return f"{prefix}-{n:0{WIDTH}d}"


@dataclass(frozen=True, slots=True)
class BatesRange:
    prefix: str
    first: int
    last: int

    @property
    def begin(self) -> str:
        return bates(self.prefix, self.first)

    @property
    def end(self) -> str:
        return bates(self.prefix, self.last)

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    def page(self, index: int) -> str:
        """The number of page ``index`` (0-based) of the document."""
        return bates(self.prefix, self.first + index)


class BatesCounter:
    """Hands out contiguous ranges from a start number."""

    def __init__(self, prefix: str, start: int = 1) -> None:
        check_prefix(prefix)
        if start < 1:
            raise UsageError("--start must be 1 or more")
        self.prefix = prefix
        self.next = start

    def take(self, count: int) -> BatesRange:
        count = max(1, count)
        taken = BatesRange(self.prefix, self.next, self.next + count - 1)
        self.next += count
        return taken
