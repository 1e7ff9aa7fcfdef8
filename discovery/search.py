"""Run a query over a matter: exact hit sets, counts, ranking, snippets.

:mod:`discovery.candidates` computes the exact hit set; this module orders it,
summarises it and builds snippets. System events (joins, renames, calls) are
left out unless asked for.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from discovery.candidates import Planner, TooBroadError, positive_words
from discovery.columns import Columns
from discovery.errors import UsageError, WildcardTooBroadError
from discovery.matter import Matter
from discovery.model import Message
from discovery.query import verify
from discovery.query.ast import And, Field, Near, Node, Not, Or
from discovery.query.parser import parse
from discovery.query.unparse import unparse
from discovery.text import Token, fold, version_tokens

Sort = Literal["relevance", "time"]
SORTS: tuple[str, ...] = ("relevance", "time")
SNIPPET_WORDS = 12
"""Words of context each side of the first matched word in a snippet."""


@dataclass(frozen=True, slots=True)
class Snippet:
    """A keyword-in-context excerpt; ``highlights`` are (start, end) offsets in ``text``."""

    text: str
    highlights: tuple[tuple[int, int], ...] = ()
    version: int = 0
    """0 when the hit is in the current text, n for the n-th prior version."""


@dataclass(frozen=True, slots=True)
class Hit:
    message: Message
    snippet: Snippet
    positions: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    canonical: str
    ids: tuple[int, ...]
    """Every hit, in the requested order."""
    hits: tuple[Hit, ...] = ()
    """The requested page of hits, with messages and snippets."""
    conversations: int = 0
    custodians: int = 0
    node: Node | None = field(default=None, compare=False)

    @property
    def total(self) -> int:
        return len(self.ids)


def result_hash(ids: Iterable[int]) -> str:
    """SHA-256 over the sorted hit ids: the same hits give the same hash."""
    text = "\n".join(str(i) for i in sorted(ids))
    return hashlib.sha256(text.encode()).hexdigest()


def parse_query(text: str) -> Node:
    """Parse ``text``; a syntax error is a :class:`QuerySyntaxError` with a caret."""
    return parse(text)


class Searcher:
    """Runs queries against one open matter."""

    def __init__(self, matter: Matter) -> None:
        self.matter = matter
        self._columns = Columns(matter.store)

    def match(self, query: str, *, include_system: bool = False) -> tuple[Node, set[int]]:
        """The parsed query and its exact set of hit ids."""
        node, ids = self._match(query, include_system)
        return node, set(ids.tolist())

    def _match(self, query: str, include_system: bool) -> tuple[Node, np.ndarray]:
        """The parsed query and its hit ids, sorted."""
        node = parse_query(query)
        planner = Planner(self.matter.engine, self.matter.store, self.matter.tz, self._columns)
        try:
            found = planner.id_array(node)
            if found is None:
                found = np.fromiter(planner.ids(node), dtype=np.int64)
                found.sort()
        except TooBroadError as exc:
            start, end = _find_pattern(query, exc.pattern)
            raise WildcardTooBroadError(str(exc), query, start, end - start) from None
        if not include_system and len(found):
            system = self.matter.store.system_ids()
            if system:
                found = found[~np.isin(found, np.fromiter(system, dtype=np.int64))]
        # While an ingest is still indexing, answer only over what is indexed,
        # so a text query and a field or NOT query see the same messages.
        indexed = self.matter.engine.indexed_through()
        return node, found[: np.searchsorted(found, indexed, "right")]

    def count(self, query: str, *, include_system: bool = False) -> int:
        """How many messages match: no message, not even the ids as a set, is built."""
        return len(self._match(query, include_system)[1])

    def search(
        self,
        query: str,
        *,
        limit: int | None = 20,
        offset: int = 0,
        sort: str = "relevance",
        include_system: bool = False,
        summary: bool = True,
    ) -> SearchResult:
        """Hits of ``query``: all ids in order, and a page of full hits with snippets."""
        if sort not in SORTS:
            raise UsageError(f"unknown sort {sort!r}: use relevance or time")
        node, found = self._match(query, include_system)
        store = self.matter.store
        if sort == "time":
            ordered = self._columns.by_time(found)
        else:
            planner = Planner(self.matter.engine, store, self.matter.tz)
            words = sorted(set(positive_words(node, planner)))
            ordered = self.matter.engine.scores(words, found, None)
        conversations = 0
        if (summary or sort == "time") and len(found):
            conversations = self._columns.conversations(found)
        custodians = 0
        if summary and len(found):
            names = store.custodian_names()  # one custodian: no need to list the ids
            custodians = (
                len(names) if len(names) <= 1 else len(store.custodians_among(found.tolist()))
            )
        page_ids = ordered[offset : None if limit is None else offset + limit]
        return SearchResult(
            query=query,
            canonical=unparse(node),
            ids=tuple(ordered),
            hits=tuple(self.hits(node, page_ids)),
            conversations=conversations,
            custodians=custodians,
            node=node,
        )

    def hits(self, node: Node | None, ids: Sequence[int]) -> list[Hit]:
        """Full hits (message, snippet, matched positions) for ``ids``, in that order.

        Each message is tokenised once, for its matched positions and its snippet.
        """
        messages = self.matter.store.messages(ids)
        fielded = node is not None and _has_fields(node)
        out = []
        for m in messages:
            versions = m.searchable_versions()
            tokens = list(version_tokens(versions))
            positions: frozenset[int] = frozenset()
            if node is not None:
                doc = _doc(m, fielded)
                for t in tokens:
                    doc.positions.setdefault(t.text, []).append(t.pos)
                positions = frozenset(verify.hit_positions(node, doc, self.matter.tz))
            out.append(Hit(m, snippet(m, positions, tokens=tokens), positions))
        return out


def _has_fields(node: Node) -> bool:
    if isinstance(node, Field):
        return True
    if isinstance(node, And | Or):
        return any(_has_fields(i) for i in node.items)
    if isinstance(node, Not):
        return _has_fields(node.item)
    if isinstance(node, Near):
        return _has_fields(node.left) or _has_fields(node.right)
    return False


def _doc(m: Message, fielded: bool) -> verify.Doc:
    """The verifier's view of ``m`` without its text (positions are added by the caller);
    its field values only when the query has fields (tokenising them costs)."""
    fields = {
        "speaker": (m.speaker, m.speaker_id),
        "conversation": (m.conversation,),
        "platform": (m.platform,),
        "custodian": tuple(m.custodians),
        "tag": tuple(m.tags),
    }
    return verify.Doc.build((), fields if fielded else {}, m.sent_at)


def _find_pattern(query: str, pattern: str) -> tuple[int, int]:
    """Where in the query text the (folded) wildcard pattern was written."""
    for m in re.finditer(r"[^\W_*?]*[*?][\w*?]*", query):
        if re.sub(r"\*+", "*", fold(m.group())) == pattern:
            return m.start(), m.end()
    return 0, len(query)


def snippet(
    message: Message,
    positions: frozenset[int],
    words: int = SNIPPET_WORDS,
    tokens: Sequence[Token] | None = None,
) -> Snippet:
    """A keyword-in-context excerpt around the first matched word, matches marked.

    The excerpt comes from the version that holds the first match (the current
    text when nothing matched there or no position is given). ``tokens`` are
    the message's :func:`~discovery.text.version_tokens`, when the caller has them.
    """
    versions = message.searchable_versions()
    spans: list[list[tuple[int, int, int]]] = [[] for _ in versions]
    for t in version_tokens(versions) if tokens is None else tokens:
        spans[t.version].append((t.pos, t.start, t.end))
    version = next(
        (v for v, toks in enumerate(spans) if any(p in positions for p, _, _ in toks)), 0
    )
    text = versions[version]
    toks = spans[version]
    marked = [(s, e) for p, s, e in toks if p in positions]
    if not toks:
        return Snippet(_one_line(text[:200]), (), version)
    first = next((i for i, (p, _, _) in enumerate(toks) if p in positions), 0)
    lo = max(0, first - words)
    hi = min(len(toks) - 1, first + words * 2)
    start = 0 if lo == 0 else toks[lo][1]
    end = len(text) if hi == len(toks) - 1 else toks[hi][2]
    prefix = "" if start == 0 else "…"
    suffix = "" if end == len(text) else "…"
    body = text[start:end]
    shift = len(prefix) - start
    highlights = tuple((s + shift, e + shift) for s, e in marked if s >= start and e <= end)
    return Snippet(_one_line(prefix + body + suffix), highlights, version)


def _one_line(text: str) -> str:
    """Newlines and tabs as spaces, keeping every offset."""
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
