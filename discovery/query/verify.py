"""Exact evaluation of a query tree over one message.

The index finds candidates; this module decides. It is the reference semantics
of the query language, so the index layer's quirks (stop words, slop, wildcard
expansion) never change a result.

Semantics:

* **Words** are matched in folded form (:mod:`discovery.text`). A wildcard
  pattern matches whole folded words: ``*`` is any run of letters/digits
  (possibly empty), ``?`` exactly one (:func:`wildcard_regex`, the one
  definition, shared with the index layer).
* **Spans.** Each text operand yields occurrence spans ``(start, end)``,
  inclusive word positions: a word ``(p, p)``; a phrase of k words
  ``(p, p+k-1)`` for k consecutive matching words; an ``Or`` the union of its
  items' spans; a proximity node, for each qualifying pair, the span from the
  smaller start to the larger end (for ``NOT W/N``: the left spans that
  qualified).
* ``A W/N B``: some span a of A and b of B are disjoint and
  ``later.start - earlier.end <= N`` (so ``W/1`` is adjacent words; a word is
  never near itself). ``A PRE/N B``: the same with a entirely before b.
  ``A NOT W/N B``: some span of A has no disjoint span of B within N.
  Versions of an edited message are :data:`discovery.text.VERSION_GAP`
  positions apart, so nothing matches across versions.
* **Fields** match when the value's words (wildcards allowed) occur
  consecutively in any one of the document's values for that field. A missing
  field never matches.
* **Dates** (:func:`date_bounds`) are half-open UTC intervals ``[lo, hi)``:
  ``sent:A..B`` is [start of day A, start of the day after B); ``sent:A`` is that
  whole day; ``after:A`` is [start of day A, ∞) -- **day A included**;
  ``before:B`` is (-∞, start of day B) -- day B excluded. Days are calendar days
  of the display zone ``tz`` (DST-safe via zoneinfo). A timestamp bound is
  that instant, except at the end of a ``sent:`` range where it is included
  (hi = instant + 1 µs).
* :func:`hit_positions` gives the positions of the words that made the positive
  text parts match (for highlighting): of an ``Or``, only the items that match;
  ``NOT`` parts, fields and dates contribute nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache

from discovery import text
from discovery.query.ast import And, DateRange, Field, Near, Node, Not, Or, Phrase, Word
from discovery.query.parser import FIELD_ALIASES

_Span = tuple[int, int, tuple[int, ...]]
"""start, end (inclusive) and, when asked for, the hit positions inside."""


@dataclass(slots=True)
class Doc:
    """One message as the verifier sees it.

    Attributes:
        positions: folded word -> its sorted positions over all versions.
        fields: field name -> the folded words of each of its values.
        sent_at: when the message was sent (UTC, aware).
    """

    positions: dict[str, list[int]]
    fields: dict[str, list[tuple[str, ...]]]
    sent_at: datetime

    @classmethod
    def build(
        cls, versions: Sequence[str], fields: Mapping[str, Sequence[str]], sent_at: datetime
    ) -> Doc:
        """Tokenize a message.

        Args:
            versions: the message text, current version first, then earlier ones.
            fields: field name (``speaker``, ``conversation`` or ``channel``,
                ``custodian``, ``platform``, ``tag``) -> its values as written.
            sent_at: an aware datetime.

        Raises:
            ValueError: ``sent_at`` is naive.
        """
        if sent_at.tzinfo is None or sent_at.utcoffset() is None:
            raise ValueError("sent_at must be timezone-aware")
        positions: dict[str, list[int]] = {}
        for tok in text.version_tokens(versions):
            positions.setdefault(tok.text, []).append(tok.pos)
        values: dict[str, list[tuple[str, ...]]] = {}
        for name, raw in fields.items():
            key = FIELD_ALIASES.get(name, name)
            items = [raw] if isinstance(raw, str) else raw
            values.setdefault(key, []).extend(tuple(text.words(v)) for v in items)
        return cls(positions, values, sent_at.astimezone(UTC))


@lru_cache(maxsize=4096)
def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """The anchored regex for a (folded) word pattern with ``*`` and ``?``."""
    parts = []
    for c in pattern:
        if c == "*":
            parts.append(r"[^\W_]*")
        elif c == "?":
            parts.append(r"[^\W_]")
        else:
            parts.append(re.escape(c))
    return re.compile(r"\A(?:" + "".join(parts) + r")\Z")


def _has_wildcard(word: str) -> bool:
    return "*" in word or "?" in word


def _word_matches(pattern: str, word: str) -> bool:
    if _has_wildcard(pattern):
        return wildcard_regex(pattern).match(word) is not None
    return pattern == word


def matches(node: Node, doc: Doc, tz: tzinfo) -> bool:
    """Whether ``doc`` matches ``node``; calendar days are those of ``tz``."""
    if isinstance(node, Word):
        if not _has_wildcard(node.text):
            return node.text in doc.positions
        rx = wildcard_regex(node.text)
        return any(rx.match(w) for w in doc.positions)
    if isinstance(node, And):
        return all(matches(item, doc, tz) for item in node.items)
    if isinstance(node, Or):
        return any(matches(item, doc, tz) for item in node.items)
    if isinstance(node, Not):
        return not matches(node.item, doc, tz)
    if isinstance(node, Phrase | Near):
        return bool(_spans(node, doc, False))
    if isinstance(node, Field):
        return _field_matches(node, doc)
    if isinstance(node, DateRange):
        lo, hi = date_bounds(node, tz)
        return (lo is None or lo <= doc.sent_at) and (hi is None or doc.sent_at < hi)
    raise TypeError(f"not a query node: {type(node).__name__}")


def hit_positions(node: Node, doc: Doc, tz: tzinfo) -> set[int]:
    """Positions of the words that made ``node``'s positive text parts match.

    Empty when ``doc`` does not match.
    """
    out: set[int] = set()
    if matches(node, doc, tz):
        _collect(node, doc, tz, out)
    return out


def _collect(node: Node, doc: Doc, tz: tzinfo, out: set[int]) -> None:
    if isinstance(node, Word | Phrase | Near):
        for span in _spans(node, doc, True):
            out.update(span[2])
    elif isinstance(node, And):
        for item in node.items:
            _collect(item, doc, tz, out)
    elif isinstance(node, Or):
        for item in node.items:
            if matches(item, doc, tz):
                _collect(item, doc, tz, out)
    # Not, Field, DateRange: no text positions.


def _positions(pattern: str, doc: Doc) -> Sequence[int]:
    if not _has_wildcard(pattern):
        return doc.positions.get(pattern, ())
    rx = wildcard_regex(pattern)
    found: list[int] = []
    for w, ps in doc.positions.items():
        if rx.match(w):
            found.extend(ps)
    found.sort()
    return found


def _spans(node: Node, doc: Doc, hits: bool) -> list[_Span]:
    """Occurrence spans of a proximity-capable node, sorted by start."""
    if isinstance(node, Word):
        return [(p, p, (p,) if hits else ()) for p in _positions(node.text, doc)]
    if isinstance(node, Phrase):
        first = _positions(node.words[0], doc)
        if not first:
            return []
        rest = []
        for w in node.words[1:]:
            ps = _positions(w, doc)
            if not ps:
                return []
            rest.append(set(ps))
        k = len(node.words)
        return [
            (p, p + k - 1, tuple(range(p, p + k)) if hits else ())
            for p in first
            if all(p + i in s for i, s in enumerate(rest, 1))
        ]
    if isinstance(node, Or):
        union: set[_Span] = set()
        for item in node.items:
            union.update(_spans(item, doc, hits))
        return sorted(union)
    if isinstance(node, Near):
        return _near_spans(node, doc, hits)
    raise TypeError(f"{type(node).__name__} is not a proximity operand")


def _near_spans(node: Near, doc: Doc, hits: bool) -> list[_Span]:
    left = _spans(node.left, doc, hits)
    if not left:
        return []
    right = _spans(node.right, doc, hits)
    n = node.distance
    if node.negated:
        return [a for a in left if not any(_close(a, b, n) for b in right)]
    if not right:
        return []
    out: set[_Span] = set()
    for a in left:
        a0, a1 = a[0], a[1]
        for b in right:  # sorted by start
            b0, b1 = b[0], b[1]
            if b0 > a1 + n:
                break
            if a1 < b0:
                ok = b0 - a1 <= n
            elif not node.ordered and b1 < a0:
                ok = a0 - b1 <= n
            else:
                ok = False
            if ok:
                joined = tuple(sorted(set(a[2]) | set(b[2]))) if hits else ()
                out.add((min(a0, b0), max(a1, b1), joined))
    return sorted(out)


def _close(a: _Span, b: _Span, n: int) -> bool:
    """Whether ``a`` and ``b`` are disjoint and at most ``n`` apart, either order."""
    if a[1] < b[0]:
        return b[0] - a[1] <= n
    if b[1] < a[0]:
        return a[0] - b[1] <= n
    return False


def _field_matches(node: Field, doc: Doc) -> bool:
    values = doc.fields.get(node.name)
    if not values:
        return False
    pattern = node.words
    k = len(pattern)
    for value in values:
        for i in range(len(value) - k + 1):
            if all(_word_matches(pattern[j], value[i + j]) for j in range(k)):
                return True
    return False


def date_bounds(node: DateRange, tz: tzinfo) -> tuple[datetime | None, datetime | None]:
    """The half-open UTC interval ``[lo, hi)`` of a date node; None is unbounded.

    Args:
        node: a parsed ``sent:``/``after:``/``before:`` node.
        tz: the display zone whose calendar days ``YYYY-MM-DD`` bounds name.
    """
    return _date_bounds(node, tz)


@lru_cache(maxsize=1024)
def _date_bounds(node: DateRange, tz: tzinfo) -> tuple[datetime | None, datetime | None]:
    if node.name == "after":
        return _instant(node.start, tz, False), None
    if node.name == "before":
        return None, _instant(node.end, tz, False)
    return _instant(node.start, tz, False), _instant(node.end, tz, True)


def _instant(bound: str | None, tz: tzinfo, end: bool) -> datetime | None:
    """The UTC instant a bound stands for; ``end`` means just after it."""
    if bound is None:
        return None
    try:
        if "T" in bound:
            t = datetime.fromisoformat(bound).astimezone(UTC)
            return t + timedelta(microseconds=1) if end else t
        d = date.fromisoformat(bound)
        if end:
            d += timedelta(days=1)
        return datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC)
    except OverflowError:  # pragma: no cover - the parser keeps years in range
        return None
