"""From a query tree to candidate message ids, using the index and the case store.

Each node gives a set of message ids and whether that set is exact. Words,
wildcards (fully expanded), fields and dates give exact sets; phrases and
proximity give supersets (the index's own notion of a phrase or a span is not
trusted), which :mod:`discovery.query.verify` then settles message by message.
Nothing here knows which engine is behind :class:`~discovery.index.TextEngine`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo

from discovery.errors import DiscoveryError
from discovery.index import TextEngine
from discovery.query import verify
from discovery.query.ast import (
    And,
    DateRange,
    Field,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Word,
    has_wildcard,
)
from discovery.store import EPOCH, Store, to_us

MAX_EXPANSION = 1000
"""The most index words one wildcard may stand for."""

IdSet = set[int]


class TooBroadError(DiscoveryError):
    """A wildcard matching more than :data:`MAX_EXPANSION` words."""

    def __init__(self, pattern: str) -> None:
        super().__init__(
            f"the wildcard {pattern!r} matches more than {MAX_EXPANSION} different words;"
            " make it more specific"
        )
        self.pattern = pattern


class Planner:
    """Computes candidate ids for one query against one matter."""

    def __init__(self, engine: TextEngine, store: Store, tz: tzinfo) -> None:
        self.engine = engine
        self.store = store
        self.tz = tz
        self._all: IdSet | None = None
        self._expansions: dict[str, list[str]] = {}

    def all_ids(self) -> IdSet:
        if self._all is None:
            self._all = set(range(1, self.store.max_message_id() + 1))
        return self._all

    def expand(self, word: str) -> list[str]:
        """The index words a (possibly wildcard) query word stands for."""
        if not has_wildcard(word):
            return [word]
        if word not in self._expansions:
            prefix = word[: min(i for i in (word.find("*"), word.find("?")) if i >= 0)]
            regex = verify.wildcard_regex(word).pattern
            found = self.engine.expand(regex, prefix, MAX_EXPANSION)
            if found is None:
                raise TooBroadError(word)
            self._expansions[word] = found
        return self._expansions[word]

    def ids(self, node: Node) -> tuple[IdSet, bool]:
        """(candidate ids, exact) for ``node``."""
        method: Callable[[Node], tuple[IdSet, bool]] = getattr(self, "_" + type(node).__name__)
        return method(node)

    def _Word(self, node: Word) -> tuple[IdSet, bool]:
        return self.engine.word_ids(self.expand(node.text)), True

    def _Phrase(self, node: Phrase) -> tuple[IdSet, bool]:
        if not any(has_wildcard(w) for w in node.words):
            return self.engine.phrase_ids(node.words), False
        result: IdSet | None = None
        for w in sorted(node.words, key=has_wildcard):
            ids = self.engine.word_ids(self.expand(w))
            result = ids if result is None else result & ids
            if not result:
                break
        return result or set(), False

    def _Or(self, node: Or) -> tuple[IdSet, bool]:
        out: IdSet = set()
        exact = True
        for item in node.items:
            ids, ex = self.ids(item)
            out |= ids
            exact &= ex
        return out, exact

    def _And(self, node: And) -> tuple[IdSet, bool]:
        positives = [i for i in node.items if not isinstance(i, Not)]
        negatives = [i.item for i in node.items if isinstance(i, Not)]
        exact = True
        result: IdSet | None = None
        for item in positives:
            ids, ex = self.ids(item)
            exact &= ex
            result = ids if result is None else result & ids
            if not result:
                return set(), True
        if result is None:
            result = set(self.all_ids())
        for item in negatives:
            ids, ex = self.ids(item)
            if ex:
                result -= ids
            else:
                exact = False  # the verifier will settle these
        return result, exact

    def _Not(self, node: Not) -> tuple[IdSet, bool]:
        ids, exact = self.ids(node.item)
        if exact:
            return self.all_ids() - ids, True
        return set(self.all_ids()), False

    def _Near(self, node: Near) -> tuple[IdSet, bool]:
        if node.negated:
            return self.ids(node.left)[0], False
        left, right = self._plain_words(node.left), self._plain_words(node.right)
        if left is not None and right is not None:
            return self.engine.near_ids(left, right, node.distance), False
        a, _ = self.ids(node.left)
        b, _ = self.ids(node.right)
        return a & b, False

    def _plain_words(self, node: Node) -> list[str] | None:
        """The words of a Word or an OR of Words (expanded), else None."""
        if isinstance(node, Word):
            return self.expand(node.text)
        if isinstance(node, Or) and all(isinstance(i, Word) for i in node.items):
            return [w for i in node.items for w in self.expand(i.text)]  # type: ignore[union-attr]
        return None

    def _Field(self, node: Field) -> tuple[IdSet, bool]:
        def hit(values: Sequence[str]) -> bool:
            doc = verify.Doc.build((), {node.name: values}, EPOCH)
            return verify.matches(node, doc, self.tz)

        store = self.store
        if node.name == "speaker":
            wanted = sorted({sid for sid, name in store.distinct_speakers() if hit((name, sid))})
            return _in(store, "m.speaker_id", wanted), True
        if node.name in ("conversation", "platform"):
            pick = 1 if node.name == "conversation" else 2
            convs = sorted(r[0] for r in store.conversation_names() if hit((r[pick],)))
            return _in(store, "m.conversation_id", convs), True
        if node.name == "custodian":
            names = [c for c in store.custodian_names() if hit((c,))]
            return (store.ids_of_custodians(names) if names else set()), True
        if node.name == "tag":
            tags = [t for t in store.tag_names() if hit((t,))]
            return (store.ids_of_tags(tags) if tags else set()), True
        raise AssertionError(f"unknown field {node.name}")

    def _DateRange(self, node: DateRange) -> tuple[IdSet, bool]:
        lo, hi = verify.date_bounds(node, self.tz)
        where: list[str] = []
        params: list[object] = []
        if lo is not None:
            where.append("m.sent_us >= ?")
            params.append(to_us(lo))
        if hi is not None:
            where.append("m.sent_us < ?")
            params.append(to_us(hi))
        return self.store.ids_where(" AND ".join(where) or "1", params), True


def _in(store: Store, column: str, values: Sequence[object]) -> IdSet:
    if not values:
        return set()
    out: IdSet = set()
    for i in range(0, len(values), 900):
        chunk = list(values[i : i + 900])
        out |= store.ids_where(f"{column} IN ({','.join('?' * len(chunk))})", chunk)
    return out


def positive_words(node: Node, planner: Planner) -> list[str]:
    """Index words of the parts of ``node`` that must be present (for ranking)."""
    if isinstance(node, Word):
        return planner.expand(node.text)
    if isinstance(node, Phrase):
        return [x for w in node.words for x in planner.expand(w)]
    if isinstance(node, And | Or):
        return [w for i in node.items for w in positive_words(i, planner)]
    if isinstance(node, Near):
        right = [] if node.negated else positive_words(node.right, planner)
        return positive_words(node.left, planner) + right
    return []
