"""A deliberately naive evaluator of query trees, to check discovery.query.verify.

Written from PRODUCT.md §3 without looking at the verifier's data structures:
it works over a flat list of (position, word) pairs, finds occurrences by
scanning every start index, enumerates all pairs with nested loops, matches
wildcards with :mod:`fnmatch`, and decides dates by converting the message's
time to the display zone and comparing calendar dates. Slow on purpose; must
not import ``discovery.query.verify``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING

from discovery.model import UNDATED
from discovery.query.ast import And, DateRange, Field, Near, Node, Not, Or, Phrase, Word
from discovery.text import version_tokens, words

if TYPE_CHECKING:
    from discovery.matter import Matter


@dataclass
class RefMessage:
    versions: list[str]
    fields: dict[str, list[str]]
    sent_at: datetime
    tokens: list[tuple[int, str]] = dataclass_field(default_factory=list)

    def __post_init__(self) -> None:
        self.tokens = [(t.pos, t.text) for t in version_tokens(self.versions)]


def refs_from_matter(matter: Matter) -> list[RefMessage]:
    """Every stored message of ``matter`` as a RefMessage, in id order (index = id - 1)."""
    return [
        RefMessage(
            list(m.searchable_versions()),
            {
                "speaker": [m.speaker, m.speaker_id],
                "conversation": [m.conversation],
                "platform": [m.platform],
                "custodian": list(m.custodians),
                "tag": list(m.tags),
            },
            m.sent_at,
        )
        for m in matter.store.messages(range(1, matter.store.max_message_id() + 1))
    ]


def _word_ok(pattern: str, word: str) -> bool:
    # Folded words hold only letters and digits, so fnmatch's '*' and '?'
    # (any characters) mean exactly "letters/digits" here.
    return fnmatch.fnmatchcase(word, pattern)


def _occurrences(node: Node, toks: list[tuple[int, str]]) -> list[tuple[int, int]]:
    """All (start, end) spans of a proximity-capable node, duplicates removed."""
    if isinstance(node, Word):
        return sorted({(p, p) for p, w in toks if _word_ok(node.text, w)})
    if isinstance(node, Phrase):
        k = len(node.words)
        found = set()
        for i in range(len(toks) - k + 1):
            window = toks[i : i + k]
            consecutive = all(window[j][0] == window[0][0] + j for j in range(k))
            if consecutive and all(_word_ok(node.words[j], window[j][1]) for j in range(k)):
                found.add((window[0][0], window[-1][0]))
        return sorted(found)
    if isinstance(node, Or):
        found = set()
        for item in node.items:
            found |= set(_occurrences(item, toks))
        return sorted(found)
    if isinstance(node, Near):
        lefts = _occurrences(node.left, toks)
        rights = _occurrences(node.right, toks)
        if node.negated:
            keep = []
            for a in lefts:
                near_any = False
                for b in rights:
                    if _within(a, b, node.distance, ordered=False):
                        near_any = True
                if not near_any:
                    keep.append(a)
            return keep
        found = set()
        for a in lefts:
            for b in rights:
                if _within(a, b, node.distance, node.ordered):
                    found.add((min(a[0], b[0]), max(a[1], b[1])))
        return sorted(found)
    raise AssertionError(f"bad proximity operand {node!r}")


def _within(a: tuple[int, int], b: tuple[int, int], n: int, ordered: bool) -> bool:
    a_positions = set(range(a[0], a[1] + 1))
    b_positions = set(range(b[0], b[1] + 1))
    if a_positions & b_positions:
        return False
    if a[1] < b[0]:
        return b[0] - a[1] <= n
    if ordered:
        return False
    return a[0] - b[1] <= n


def _local_day(bound: str) -> date:
    return date.fromisoformat(bound)


def _date_ok(node: DateRange, msg: RefMessage, tz: tzinfo) -> bool:
    if msg.sent_at == UNDATED:  # a message without a time is in no date range
        return False
    local_day = msg.sent_at.astimezone(tz).date()

    def at_or_after(bound: str) -> bool:
        if "T" in bound:
            return msg.sent_at >= datetime.fromisoformat(bound)
        return local_day >= _local_day(bound)

    def at_or_before(bound: str) -> bool:
        if "T" in bound:
            return msg.sent_at <= datetime.fromisoformat(bound)
        return local_day <= _local_day(bound)

    def strictly_before(bound: str) -> bool:
        if "T" in bound:
            return msg.sent_at < datetime.fromisoformat(bound)
        return local_day < _local_day(bound)

    if node.name == "after":
        assert node.start is not None
        return at_or_after(node.start)
    if node.name == "before":
        assert node.end is not None
        return strictly_before(node.end)
    assert node.start is not None and node.end is not None
    return at_or_after(node.start) and at_or_before(node.end)


def _field_ok(node: Field, msg: RefMessage) -> bool:
    name = "conversation" if node.name == "channel" else node.name
    values = list(msg.fields.get(name, []))
    if name == "conversation":
        values += msg.fields.get("channel", [])
    k = len(node.words)
    for value in values:
        ws = words(value)
        for i in range(len(ws)):
            if i + k <= len(ws) and all(_word_ok(node.words[j], ws[i + j]) for j in range(k)):
                return True
    return False


def evaluate(node: Node, msg: RefMessage, tz: tzinfo) -> bool:
    """Whether ``msg`` matches ``node``."""
    return _eval(node, msg, msg.tokens, tz)


def _eval(node: Node, msg: RefMessage, toks: list[tuple[int, str]], tz: tzinfo) -> bool:
    if isinstance(node, And):
        return all(_eval(item, msg, toks, tz) for item in node.items)
    if isinstance(node, Or):
        return any(_eval(item, msg, toks, tz) for item in node.items)
    if isinstance(node, Not):
        return not _eval(node.item, msg, toks, tz)
    if isinstance(node, Field):
        return _field_ok(node, msg)
    if isinstance(node, DateRange):
        return _date_ok(node, msg, tz)
    return len(_occurrences(node, toks)) > 0
