"""From a query tree to its exact set of message ids, using the index and the case store.

Words come from the index; every other term (wildcard, stem, fuzzy, numeric
range, regular expression) is first expanded to the list of index words it
stands for (:meth:`Planner.expand`, with :func:`discovery.query.verify.term_matcher`
deciding each word), so what follows only ever sees lists of index words;
fields, custodians, tags and dates come from the case store; AND, OR and
NOT are set algebra. A phrase or a proximity group first takes the messages
holding its words, then :mod:`discovery.query.verify` checks each of them
against the words' positions, so what a phrase or ``w/N`` means is decided by
our verifier, never by the engine's span or slop rules.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Sequence
from datetime import tzinfo
from functools import cache
from typing import TYPE_CHECKING

from discovery import family_store
from discovery.errors import DiscoveryError
from discovery.index import TextEngine
from discovery.model import UNDATED
from discovery.query import verify
from discovery.query.ast import (
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
from discovery.store import EPOCH, Store, to_us

if TYPE_CHECKING:
    import numpy as np

    from discovery.chat import ChatOrder
    from discovery.columns import Columns

MAX_EXPANSION = 1000
"""The most index words one term (wildcard, stem, fuzzy, range, regex) may stand for."""

SELECTIVE = 20
"""A phrase word group this many times more common than the rarest is not intersected."""

FAST_POSITIONAL = True
"""Evaluate phrases and proximity over whole occurrence arrays (:mod:`discovery.positional`)
when the index has them; tests turn it off to compare with the verifier's path."""

FILTER_IN_SQL = 5000
"""Up to this many ids, a date range is checked on their times rather than over the matter."""

IdSet = set[int]


_KIND_NAMES = {
    "wildcard": "wildcard",
    "stem": "stemmed word",
    "fuzzy": "fuzzy word",
    "range": "numeric range",
    "regex": "regular expression",
}


class TooBroadError(DiscoveryError):
    """A term standing for more than :data:`MAX_EXPANSION` words."""

    def __init__(self, pattern: str) -> None:
        kind = _KIND_NAMES.get(term_kind(pattern), "wildcard")
        shown = f'"{pattern}"' if term_kind(pattern) == "regex" else pattern
        super().__init__(
            f"the {kind} {shown} matches more than {MAX_EXPANSION} different words;"
            " make it more specific"
        )
        self.pattern = pattern


class Planner:
    """Computes the exact hit ids of query trees against one matter."""

    def __init__(
        self,
        engine: TextEngine,
        store: Store,
        tz: tzinfo,
        columns: Columns | None = None,
        chat: Callable[[], ChatOrder] | None = None,
    ) -> None:
        """``chat`` gives the chat order of the matter's messages (made when a chat-aware
        group first needs it, so that a caller can keep it for the next query)."""
        self.engine = engine
        self.store = store
        self.tz = tz
        self.columns = columns
        self._chat_order = chat
        self._all: IdSet | None = None
        self._expansions: dict[str, list[str]] = {}

    def all_ids(self) -> IdSet:
        if self._all is None:
            self._all = set(range(1, self.store.max_message_id() + 1))
        return self._all

    def expand(self, word: str) -> list[str]:
        """The index words a query term stands for (a word: itself; an edge word: none).

        Raises:
            TooBroadError: more than :data:`MAX_EXPANSION` words.
        """
        kind = term_kind(word)
        if kind == "word":
            return [word]
        if kind == "edge":
            return []
        if word not in self._expansions:
            match = verify.term_matcher(word)
            found: list[str] = []
            for w in self._scan(word):
                if match(w):
                    found.append(w)
                    if len(found) > MAX_EXPANSION:
                        raise TooBroadError(word)
            self._expansions[word] = found
        return self._expansions[word]

    def expansions(self) -> dict[str, list[str]]:
        """Every term expanded so far and its index words (for the audit log and explain)."""
        return dict(self._expansions)

    def _scan(self, term: str) -> Iterator[str]:
        """The index words that may match ``term``: those with its fixed prefix."""
        if term_kind(term) == "range":
            for zero, nine in _digit_blocks():
                yield from self.engine.lexicon_between(zero, nine)
            return
        yield from self.engine.lexicon(verify.term_prefix(term))

    def id_array(self, node: Node) -> np.ndarray | None:
        """Sorted ids of the messages matching ``node``, from the index's occurrence
        arrays; None when the index has none or ``node`` needs the case store
        (fields, dates) or the verifier (see :func:`positional.matching_ids`).
        A chat-aware proximity group is always answered as an array."""
        if isinstance(node, ChatNear):
            return self._chat(node)
        if not FAST_POSITIONAL or not array_shape(node) or self.engine.occurrences(()) is None:
            return None
        return self._array(node)

    def _array(self, node: Node) -> np.ndarray | None:
        import numpy as np

        from discovery import positional

        occurrences = self.engine.occurrences
        if isinstance(node, ChatNear):
            return self._chat(node)
        if isinstance(node, Word):
            return positional.message_ids(occurrences(self.expand(node.text)))
        if isinstance(node, Phrase | Near):
            return positional.matching_ids(node, occurrences, self.expand)
        if isinstance(node, Or):
            parts = [self._array(i) for i in node.items]
            if any(p is None for p in parts):
                return None
            return np.unique(np.concatenate(parts))  # type: ignore[arg-type]
        if isinstance(node, And):
            positives = [i for i in node.items if not isinstance(i, Not)]
            if not positives:
                return None
            result: np.ndarray | None = None
            for item in positives:
                part = self._array(item)
                if part is None:
                    return None
                result = part if result is None else np.intersect1d(result, part, True)
            for negative in node.items:
                if isinstance(negative, Not) and result is not None and len(result):
                    part = self._array(negative.item)
                    if part is None:
                        return None
                    result = np.setdiff1d(result, part, True)
            return result
        return None

    def _chat(self, node: ChatNear) -> np.ndarray:
        """Hits of a chat-aware proximity group (:mod:`discovery.chat`): each side is a
        whole query, answered over what is indexed."""
        if self._chat_order is None:
            from discovery.chat import ChatOrder

            made = ChatOrder(self.store)
            self._chat_order = lambda: made
        indexed = self.engine.indexed_through()
        left, right = (self._sorted_ids(side) for side in (node.left, node.right))
        return self._chat_order().near(node, left[left <= indexed], right[right <= indexed])

    def _sorted_ids(self, node: Node) -> np.ndarray:
        import numpy as np

        found = self.id_array(node)
        if found is None:
            found = np.fromiter(self.ids(node), dtype=np.int64)
            found.sort()
        return found

    def ids(self, node: Node) -> IdSet:
        """The ids of the messages matching ``node``."""
        found = self.id_array(node)
        if found is not None:
            return set(found.tolist())
        if isinstance(node, Word):
            return self.engine.all_of([self.expand(node.text)])
        if isinstance(node, Or):
            return set().union(*(self.ids(i) for i in node.items))
        if isinstance(node, And):
            return self._and(node)
        if isinstance(node, Not):
            return self.all_ids() - self.ids(node.item)
        if isinstance(node, Phrase | Near):
            return self._positional(node)
        if isinstance(node, Field):
            return self._field(node)
        if isinstance(node, DateRange):
            return self._dates(node)
        raise TypeError(f"not a query node: {type(node).__name__}")

    def _and(self, node: And) -> IdSet:
        # Text first, dates last: a date range then only filters the few ids left.
        positives = sorted(
            (i for i in node.items if not isinstance(i, Not)),
            key=lambda i: isinstance(i, DateRange),
        )
        result: IdSet | None = None
        for item in positives:
            if isinstance(item, DateRange) and result is not None:
                result = self._dates(item, within=result)
            else:
                ids = self.ids(item)
                result = ids if result is None else result & ids
            if not result:
                return set()
        if result is None:
            result = set(self.all_ids())
        for negative in node.items:
            if isinstance(negative, Not):
                result -= self.ids(negative.item)
        return result

    def _positional(self, node: Phrase | Near) -> IdSet:
        """Messages matching a phrase or proximity group.

        ``xfirstword``/``xlastword`` are checked on the stored texts
        (:meth:`_edge_positional`). Otherwise over the index's occurrence arrays
        when it has them and :mod:`discovery.positional` handles the node's
        shape; else the verifier checks candidates one by one (:meth:`_verified`).
        """
        if uses_edges(node):
            return self._edge_positional(node)
        if FAST_POSITIONAL:
            from discovery import positional

            occurrences = self.engine.occurrences
            if occurrences(()) is not None:
                found = positional.matching_ids(node, occurrences, self.expand)
                if found is not None:
                    return set(found.tolist())
        return self._verified(node)

    def _edge_positional(self, node: Phrase | Near) -> IdSet:
        """``xfirstword``/``xlastword`` need each version's first and last word:
        check the candidates on their stored texts."""
        groups = required_groups(node, self)
        if not groups or not all(groups):  # a term that matches no word of the matter
            return set()
        candidates = self.engine.all_of(groups)
        rows = self.store.verify_rows(sorted(candidates))
        return {
            r.id
            for r in rows
            if verify.matches(node, verify.Doc.build(r.versions, {}, EPOCH), self.tz)
        }

    def _verified(self, node: Phrase | Near) -> IdSet:
        """Messages holding the words that ``node`` needs, checked by position.

        Candidates come from the rarer word groups only: a group far more
        common than the rarest ("for" beside "permission") would cost a pass
        over its postings and remove little. Positions come from the index,
        or, when some word is far more common than the candidates are many,
        from the stored texts tokenised again (the same tokenizer built the
        index, so both give the same positions; the engine test runs both).
        """
        # A long phrase repeats its words: size and intersect each group once.
        required = {tuple(g): g for g in required_groups(node, self)}.values()
        sized = sorted((sum(self.engine.doc_count(w) for w in g), g) for g in required)
        if not sized or sized[0][0] == 0:
            return set()
        groups = [g for n, g in sized if n <= SELECTIVE * sized[0][0]]
        candidates = self.engine.all_of(groups)
        if not candidates:
            return set()
        words = list(dict.fromkeys(w for g in word_groups(node, self) for w in g))
        if sized[-1][0] > SELECTIVE * len(candidates):
            # A common word: re-reading the few candidates' texts is cheaper than
            # decoding that word's postings.
            docs = (
                (r.id, verify.Doc.build(r.versions, {}, EPOCH))
                for r in self.store.verify_rows(sorted(candidates))
            )
        else:
            positions = self.engine.positions(words, candidates)
            docs = ((mid, verify.Doc(pos, {}, EPOCH)) for mid, pos in positions.items())
        return {mid for mid, doc in docs if verify.matches(node, doc, self.tz)}

    def _field(self, node: Field) -> IdSet:
        def hit(values: Sequence[str]) -> bool:
            doc = verify.Doc.build((), {node.name: values}, EPOCH)
            return verify.matches(node, doc, self.tz)

        store = self.store
        if node.name == "speaker":
            # A message matches on its own speaker name or on the speaker's id:
            # a renamed speaker's earlier messages keep the name they were shown with.
            by_id: set[str] = set()
            by_name: list[tuple[str, str]] = []
            for sid, name in store.distinct_speakers():
                if sid in by_id:
                    continue
                if hit((sid,)):
                    by_id.add(sid)
                elif hit((name,)):
                    by_name.append((sid, name))
            found = _in(store, "m.speaker_id", sorted(by_id))
            for sid, name in by_name:
                if sid not in by_id:
                    found |= store.ids_where("m.speaker_id = ? AND m.speaker = ?", [sid, name])
            return found
        if node.name in ("conversation", "platform"):
            convs = sorted(
                conv_id
                for conv_id, name, platform in store.conversation_names()
                if hit((name,) if node.name == "conversation" else (platform,))
            )
            return _in(store, "m.conversation_id", convs)
        if node.name == "custodian":
            names = [c for c in store.custodian_names() if hit((c,))]
            return store.ids_of_custodians(names) if names else set()
        if node.name == "tag":
            tags = [t for t in store.tag_names() if hit((t,))]
            return store.ids_of_tags(tags) if tags else set()
        if node.name == "attachment":
            return {mid for mid, name in family_store.names(store.db) if hit((name,))}
        if node.name == "kind":
            members = family_store.all_member_ids(store.db)
            found = members if hit(("attachment",)) else set()
            if hit(("message",)):
                found = found | (set(self.all_ids()) - members)
            return found
        raise TypeError(f"unknown field {node.name}")

    def _dates(self, node: DateRange, within: IdSet | None = None) -> IdSet:
        lo, hi = verify.date_bounds(node, self.tz)
        lo_us = None if lo is None else to_us(lo)
        # Undated messages (stored at UNDATED) are outside every date range.
        hi_us = UNDATED_US if hi is None else min(to_us(hi), UNDATED_US)
        if self.columns is not None:
            found = self.columns.sent_between(lo_us, hi_us, within)
            if found is not None:
                return found
        if within is not None and len(within) <= FILTER_IN_SQL:
            return {
                mid
                for mid, _, sent in self.store.summary_rows(sorted(within))
                if (lo_us is None or sent >= lo_us) and (hi_us is None or sent < hi_us)
            }
        where: list[str] = []
        params: list[object] = []
        if lo_us is not None:
            where.append("m.sent_us >= ?")
            params.append(lo_us)
        if hi_us is not None:
            where.append("m.sent_us < ?")
            params.append(hi_us)
        found = self.store.ids_where(" AND ".join(where) or "1", params)
        return found if within is None else found & within


UNDATED_US = to_us(UNDATED)


@cache
def _digit_blocks() -> tuple[tuple[str, str], ...]:
    """The runs of ten decimal digits (0-9 of each script): a number word starts in one."""
    zeros = (c for c in map(chr, range(0x20000)) if c.isdecimal() and unicodedata.decimal(c) == 0)
    return tuple((z, chr(ord(z) + 9)) for z in zeros)


def uses_edges(node: Node) -> bool:
    if isinstance(node, Word):
        return term_kind(node.text) == "edge"
    if isinstance(node, Near):
        return uses_edges(node.left) or uses_edges(node.right)
    if isinstance(node, And | Or):
        return any(uses_edges(i) for i in node.items)
    return False


def array_shape(node: Node, *, chat: bool = True) -> bool:
    """Whether :meth:`Planner.id_array` may answer ``node`` (text only, no bare NOT, no
    ``xfirstword``/``xlastword``, which need each version's first and last word); with
    ``chat`` False, no chat-aware group either (what :mod:`discovery.fewhits` answers)."""
    if isinstance(node, Word | Phrase | Near):
        return not uses_edges(node)
    if isinstance(node, ChatNear):
        return chat
    if isinstance(node, Or):
        return all(array_shape(i, chat=chat) for i in node.items)
    if isinstance(node, And):
        return any(not isinstance(i, Not) for i in node.items) and all(
            array_shape(i.item if isinstance(i, Not) else i, chat=chat) for i in node.items
        )
    return False


def word_groups(node: Node, planner: Planner) -> list[list[str]]:
    """Every word group (one per query word, expanded) under a phrase or proximity node."""
    if isinstance(node, Word):
        return [planner.expand(node.text)]
    if isinstance(node, Phrase):
        return [planner.expand(w) for w in node.words]
    if isinstance(node, Or | And):
        return [g for i in node.items for g in word_groups(i, planner)]
    if isinstance(node, Near):
        return word_groups(node.left, planner) + word_groups(node.right, planner)
    raise TypeError(f"{type(node).__name__} cannot be inside a phrase or proximity group")


def required_groups(node: Node, planner: Planner) -> list[list[str]]:
    """Word groups a match must hold one word of each (a necessary condition)."""
    if isinstance(node, Word):
        return [] if term_kind(node.text) == "edge" else word_groups(node, planner)
    if isinstance(node, Phrase):
        return word_groups(node, planner)
    if isinstance(node, Or):
        # Any branch may match: the message holds some word of some branch.
        return [[w for g in word_groups(node, planner) for w in g]]
    if isinstance(node, And):
        return [g for i in node.items for g in required_groups(i, planner)]
    if isinstance(node, Near):
        left = required_groups(node.left, planner)
        return left if node.negated else left + required_groups(node.right, planner)
    raise TypeError(f"{type(node).__name__} cannot be inside a phrase or proximity group")


def _in(store: Store, column: str, values: Sequence[object]) -> IdSet:
    out: IdSet = set()
    for i in range(0, len(values), 900):
        chunk = list(values[i : i + 900])
        out |= store.ids_where(f"{column} IN ({','.join('?' * len(chunk))})", chunk)
    return out


def positive_words(node: Node, planner: Planner) -> list[str]:
    """Index words of the parts of ``node`` that must be present (for ranking)."""
    if isinstance(node, Word | Phrase):
        return [w for g in word_groups(node, planner) for w in g]
    if isinstance(node, And | Or):
        return [w for i in node.items for w in positive_words(i, planner)]
    if isinstance(node, Near | ChatNear):
        right = [] if node.negated else positive_words(node.right, planner)
        return positive_words(node.left, planner) + right
    return []
