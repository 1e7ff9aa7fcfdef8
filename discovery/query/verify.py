"""Exact evaluation of a query tree over one message.

The index finds candidates; this module decides. It is the reference semantics
of the query language, so the index layer's quirks (stop words, slop, wildcard
expansion) never change a result.

Semantics:

* **Terms** are matched against folded words (:mod:`discovery.text`) by
  :func:`term_matcher`, the one definition, which the index layer uses to
  expand terms against the matter's words:

  - a word: equal; a wildcard: ``*`` any run of word characters (also none),
    ``?`` one character (a grapheme: a letter or digit with its marks), ``=``
    one decimal digit;
  - ``apply~``: the words whose English Snowball stem (PyStemmer) equals the
    stem of ``apply``;
  - ``ba%nana``: the words that begin with ``ba`` and are at most one edit
    (insertion, deletion or substitution of a character; rapidfuzz's
    Levenshtein distance) from ``banana``; one edit per ``%``;
  - ``12~~24``: the words made only of decimal digits whose value lies in the
    range, bounds included (a decimal such as 12.5 is two words in the text);
  - ``"##pattern"``: the words the regular expression matches in full
    (the ``regex`` module, each match bounded by :data:`REGEX_TIMEOUT`);
  - ``xfirstword`` / ``xlastword``: a virtual word just before the first word
    and just after the last word of each version.
* **Spans.** Each text operand yields occurrences ``(start, end, positions)``:
  inclusive word positions and the word positions used. A word ``(p, p)``; a
  phrase of k words ``(p, p+k-1)`` for k consecutive matching words; an
  ``Or`` the union of its items'; a proximity node, for each qualifying pair,
  the span from the smaller start to the larger end and both pairs'
  positions (for ``NOT W/N``: the left occurrences that qualified).
* ``A W/N B``: some occurrence a of A and b of B use no position in common and
  the gap between them, ``max(a.start, b.start) - min(a.end, b.end)``, is at
  most N. For two occurrences one after the other that is ``later.start -
  earlier.end`` (``W/1`` is adjacent words; a word is never near itself);
  one inside the other's span (``gamma`` in "alpha gamma beta" for
  ``(alpha W/5 beta) W/10 gamma``) is near it, so nesting is symmetric.
  ``A PRE/N B``: a entirely before b (``a.end < b.start``) and
  ``b.start - a.end <= N``. ``A NOT W/N B``: some occurrence of A has no
  occurrence of B near it in the ``W/N`` sense.
* ``(A AND B) W/N C``: some occurrence c of C has, for every item of the AND
  group, an occurrence of that item near it (``PRE/N``: before it when the
  group is on the left, after it when on the right).
* Versions of an edited message are :data:`discovery.text.VERSION_GAP`
  positions apart, so nothing matches across versions.
* **Fields** match when the value's words (wildcards allowed) occur
  consecutively in any one of the document's values for that field; a
  ``tag:`` value must be the whole tag (``tag:privileged`` is not the tag
  "not privileged"). A missing field never matches.
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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

import Stemmer

from discovery import text
from discovery.errors import DiscoveryError
from discovery.query.ast import (
    FIRST_WORD,
    And,
    ChatNear,
    DateRange,
    Field,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Word,
    term_kind,
)
from discovery.query.parser import FIELD_ALIASES

if TYPE_CHECKING:
    import regex

REGEX_TIMEOUT = 0.05
"""Seconds one regular expression may spend on one word before the search is refused."""

_Span = tuple[int, int, tuple[int, ...]]
"""start, end (inclusive) and the word positions used."""


class RegexTimeoutError(DiscoveryError):
    """A regular expression too slow to check against one word."""

    def __init__(self, pattern: str) -> None:
        super().__init__(
            f"the regular expression {pattern!r} takes too long on a word; make it simpler"
            " (avoid nested repeats such as (a+)+)"
        )
        self.pattern = pattern


@dataclass(slots=True)
class Doc:
    """One message as the verifier sees it.

    Attributes:
        positions: folded word -> its sorted positions over all versions.
        fields: field name -> the folded words of each of its values.
        sent_at: when the message was sent (UTC, aware).
        bounds: (first, last) word position of each version, for ``xfirstword``
            and ``xlastword``; None when the doc was built from index positions.
    """

    positions: dict[str, list[int]]
    fields: dict[str, list[tuple[str, ...]]]
    sent_at: datetime
    bounds: list[tuple[int, int]] | None = field(default=None)

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
        return cls.from_tokens(text.version_tokens(versions), fields, sent_at)

    @classmethod
    def from_tokens(
        cls,
        tokens: Iterable[text.Token],
        fields: Mapping[str, Sequence[str]],
        sent_at: datetime,
    ) -> Doc:
        """:meth:`build` from a message's :func:`~discovery.text.version_tokens`, when the
        caller has them already."""
        if sent_at.tzinfo is None or sent_at.utcoffset() is None:
            raise ValueError("sent_at must be timezone-aware")
        positions: dict[str, list[int]] = {}
        bounds: dict[int, list[int]] = {}
        for tok in tokens:
            positions.setdefault(tok.text, []).append(tok.pos)
            bounds.setdefault(tok.version, [tok.pos, tok.pos])[1] = tok.pos
        values: dict[str, list[tuple[str, ...]]] = {}
        for name, raw in fields.items():
            key = FIELD_ALIASES.get(name, name)
            items = [raw] if isinstance(raw, str) else raw
            values.setdefault(key, []).extend(tuple(text.words(v)) for v in items)
        edges = [(b[0], b[1]) for _, b in sorted(bounds.items())]
        return cls(positions, values, sent_at.astimezone(UTC), edges)


@lru_cache(maxsize=4096)
def wildcard_regex(pattern: str) -> regex.Pattern[str]:
    """The anchored regex for a (folded) word pattern with ``*``, ``?`` and ``=``."""
    import regex  # only wildcards and regular expressions need it (start-up)

    parts = []
    for c in pattern:
        if c == "*":
            parts.append(r"[\p{L}\p{N}\p{M}]*")
        elif c == "?":
            parts.append(r"(?:\P{M}\p{M}*|\p{M}+)")
        elif c == "=":
            parts.append(r"\d")
        else:
            parts.append(regex.escape(c))
    return regex.compile(r"\A(?:" + "".join(parts) + r")\Z")


_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The English Snowball stem of a folded word."""
    return str(_STEMMER.stemWord(word))


def term_prefix(term: str) -> str:
    """Letters every word matching ``term`` begins with (for scanning the word list)."""
    kind = term_kind(term)
    if kind == "word":
        return term
    if kind == "wildcard":
        return term[: min(i for i in (term.find(c) for c in "*?=") if i >= 0)]
    if kind == "fuzzy":
        return term[: term.index("%")]
    if kind == "stem":
        # A Snowball stem keeps the word's start except for its last three letters
        # at most (y -> i, -ational -> -ate ...); the short exceptions (dying -> die)
        # leave no prefix, so the whole word list is read then.
        s = stem(term[:-1])
        return s[: max(0, len(s) - 3)]
    if kind == "regex":
        return _regex_prefix(term[2:])
    return ""


def _regex_prefix(pattern: str) -> str:
    """Leading literal letters of a regular expression that every match starts with."""
    if "|" in pattern:
        return ""
    out = ""
    for i, c in enumerate(pattern):
        if not (c.isalnum() and c == text.fold(c)):
            break
        if pattern[i + 1 : i + 2] in ("?", "*", "{"):
            break
        out += c
    return out


@lru_cache(maxsize=4096)
def term_matcher(term: str) -> Callable[[str], bool]:
    """Whether a folded word matches ``term`` (any kind but ``edge``)."""
    kind = term_kind(term)
    if kind == "word":
        return term.__eq__
    if kind == "wildcard":
        rx = wildcard_regex(term)
        return lambda w: rx.match(w) is not None
    if kind == "stem":
        target = stem(term[:-1])
        return lambda w: stem(w) == target
    if kind == "fuzzy":
        from rapidfuzz.distance import Levenshtein  # only fuzzy words need it (start-up)

        head = term[: term.index("%")]
        edits = term.count("%")
        whole = term.replace("%", "")
        return lambda w: (
            w.startswith(head) and (Levenshtein.distance(w, whole, score_cutoff=edits) <= edits)
        )
    if kind == "range":
        lo_text, hi_text = term.split("~~")
        lo, hi = Decimal(lo_text), Decimal(hi_text)
        return lambda w: w.isdecimal() and lo <= Decimal(w) <= hi
    if kind == "regex":
        import regex

        rx = regex.compile(term[2:])

        def match(w: str) -> bool:
            try:
                return rx.fullmatch(w, timeout=REGEX_TIMEOUT) is not None
            except TimeoutError:
                raise RegexTimeoutError(term[2:]) from None

        return match
    raise ValueError(f"{term!r} matches no word by itself")


def _word_matches(pattern: str, word: str) -> bool:
    return term_matcher(pattern)(word)


def matches(node: Node, doc: Doc, tz: tzinfo) -> bool:
    """Whether ``doc`` matches ``node``; calendar days are those of ``tz``."""
    if isinstance(node, Word):
        if term_kind(node.text) == "word":
            return node.text in doc.positions
        if term_kind(node.text) == "edge":
            return bool(_spans(node, doc))
        match = term_matcher(node.text)
        return any(match(w) for w in doc.positions)
    if isinstance(node, And):
        return all(matches(item, doc, tz) for item in node.items)
    if isinstance(node, Or):
        return any(matches(item, doc, tz) for item in node.items)
    if isinstance(node, Not):
        return not matches(node.item, doc, tz)
    if isinstance(node, Phrase | Near):
        return bool(_spans(node, doc))
    if isinstance(node, Field):
        return _field_matches(node, doc)
    if isinstance(node, DateRange):
        lo, hi = date_bounds(node, tz)
        return (lo is None or lo <= doc.sent_at) and (hi is None or doc.sent_at < hi)
    if isinstance(node, ChatNear):
        raise TypeError("chat-aware proximity is decided over a conversation (discovery.chat)")
    raise TypeError(f"not a query node: {type(node).__name__}")


def hit_positions(node: Node, doc: Doc, tz: tzinfo) -> set[int]:
    """Positions of the words that made ``node``'s positive text parts match.

    Empty when ``doc`` does not match. Edge words add no position. A chat-aware
    proximity group is read as its sides, each over this message alone
    (:func:`message_form`): the words of either side that match here.
    """
    node = message_form(node)
    out: set[int] = set()
    if matches(node, doc, tz):
        _collect(node, doc, tz, out)
    return {p for p in out if p >= 0 and _is_word_position(p, doc)}


def message_form(node: Node) -> Node:
    """``node`` with every chat-aware group ``A W/3MSG B`` read as ``A OR B`` (``A NOT W/3MSG
    B`` as ``A``): what one message contributes to it, for highlighting."""
    if isinstance(node, ChatNear):
        left = message_form(node.left)
        return left if node.negated else Or((left, message_form(node.right)))
    if isinstance(node, And | Or):
        return type(node)(tuple(message_form(i) for i in node.items))
    if isinstance(node, Not):
        return Not(message_form(node.item))
    return node


def _is_word_position(p: int, doc: Doc) -> bool:
    if doc.bounds is None:
        return True
    return any(first <= p <= last for first, last in doc.bounds)


def _collect(node: Node, doc: Doc, tz: tzinfo, out: set[int]) -> None:
    if isinstance(node, Word | Phrase | Near):
        for span in _spans(node, doc):
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
    kind = term_kind(pattern)
    if kind == "word":
        return doc.positions.get(pattern, ())
    if kind == "edge":
        if doc.bounds is None:
            raise ValueError("xfirstword/xlastword need a doc built from its texts")
        first = pattern == FIRST_WORD
        return [b[0] - 1 if first else b[1] + 1 for b in doc.bounds]
    match = term_matcher(pattern)
    found: list[int] = []
    for w, ps in doc.positions.items():
        if match(w):
            found.extend(ps)
    found.sort()
    return found


def _spans(node: Node, doc: Doc) -> list[_Span]:
    """Occurrences of a proximity-capable node, sorted by start."""
    if isinstance(node, Word):
        return [(p, p, (p,)) for p in _positions(node.text, doc)]
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
            (p, p + k - 1, tuple(range(p, p + k)))
            for p in first
            if all(p + i in s for i, s in enumerate(rest, 1))
        ]
    if isinstance(node, Or):
        union: set[_Span] = set()
        for item in node.items:
            union.update(_spans(item, doc))
        return sorted(union)
    if isinstance(node, Near):
        if isinstance(node.left, And) or isinstance(node.right, And):
            return _and_side_spans(node, doc)
        return _near_spans(node, doc)
    raise TypeError(f"{type(node).__name__} is not a proximity operand")


def _near_spans(node: Near, doc: Doc) -> list[_Span]:
    left = _spans(node.left, doc)
    if not left:
        return []
    right = _spans(node.right, doc)
    n = node.distance
    if node.negated:
        return [a for a in left if not any(_close(a, b, n, False) for b in right)]
    if not right:
        return []
    out: set[_Span] = set()
    for a in left:
        for b in right:  # sorted by start
            if b[0] > a[1] + n:
                break
            if _close(a, b, n, node.ordered):
                out.add(_join(a, b))
    return sorted(out)


def _and_side_spans(node: Near, doc: Doc) -> list[_Span]:
    """``(A AND B) W/N C``: occurrences of C with every item of the group near them."""
    group, other, group_first = (
        (node.left, node.right, True)
        if isinstance(node.left, And)
        else (node.right, node.left, False)
    )
    assert isinstance(group, And)
    centres = _spans(other, doc)
    items = [_spans(item, doc) for item in group.items]
    if not centres or not all(items):
        return []
    n = node.distance
    out: list[_Span] = []
    for c in centres:
        joined = c
        for occurrences in items:
            near = [
                x
                for x in occurrences
                if (_close(x, c, n, True) if group_first else _close(c, x, n, True))
                or (not node.ordered and _close(x, c, n, False))
            ]
            if not near:
                break
            for x in near:
                joined = _join(joined, x)
        else:
            out.append(joined)
    return sorted(set(out))


def _join(a: _Span, b: _Span) -> _Span:
    return (min(a[0], b[0]), max(a[1], b[1]), tuple(sorted(set(a[2]) | set(b[2]))))


def _close(a: _Span, b: _Span, n: int, ordered: bool) -> bool:
    """Whether ``a`` and ``b`` use no common position and are at most ``n`` apart
    (``ordered``: ``a`` entirely before ``b``)."""
    if ordered:
        return a[1] < b[0] and b[0] - a[1] <= n
    if (a[1] >= b[0] and b[1] >= a[0]) and set(a[2]) & set(b[2]):
        return False
    return max(a[0], b[0]) - min(a[1], b[1]) <= n


def _field_matches(node: Field, doc: Doc) -> bool:
    values = doc.fields.get(node.name)
    if not values:
        return False
    pattern = node.words
    k = len(pattern)
    for value in values:
        if node.name == "tag" and len(value) != k:  # a tag is named whole
            continue
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
