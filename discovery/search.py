"""Run a query over a matter: exact hit sets, counts, ranking, snippets.

:mod:`discovery.candidates` computes the exact hit set; this module orders it,
summarises it and builds snippets. System events (joins, renames, calls) are
left out unless asked for.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from discovery import fewhits
from discovery.candidates import Planner, TooBroadError, positive_words
from discovery.columns import Columns, listed
from discovery.errors import QuerySyntaxError, UsageError, WildcardTooBroadError
from discovery.family_store import families
from discovery.matter import Matter, View
from discovery.model import Message
from discovery.query import verify
from discovery.query.ast import And, ChatNear, Field, Near, Node, Not, Or, terms
from discovery.query.bounds import check_phrases, check_text
from discovery.query.parser import lexemes, parse
from discovery.query.unparse import unparse
from discovery.query.verify import RegexTimeoutError
from discovery.text import Token, version_tokens

if TYPE_CHECKING:
    import numpy as np

    from discovery.chat import ChatOrder

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
    view: View | None = field(default=None, compare=False)
    """What the search saw of the matter (see :class:`discovery.matter.View`)."""

    @property
    def total(self) -> int:
        return len(self.ids)

    @property
    def partial(self) -> bool:
        """True when an ingest is running or stopped before indexing everything."""
        return self.view is not None and self.view.partial


def result_hash(ids: Iterable[int]) -> str:
    """SHA-256 over the sorted hit ids, one decimal a line: the same hits give the same
    hash. Past :data:`HASH_IN_PYTHON` ids the text is written by numpy (formatting
    96,000 ids one by one in Python took 20-30 ms of every common-word search,
    which logs its hash)."""
    held = ids if isinstance(ids, Collection) else list(ids)
    if len(held) <= HASH_IN_PYTHON:
        return hashlib.sha256("\n".join(map(str, sorted(held))).encode()).hexdigest()
    import numpy as np

    arr = np.sort(np.fromiter(held, dtype=np.int64, count=len(held)))
    return hashlib.sha256(_decimal_lines(arr)).hexdigest()


HASH_IN_PYTHON = 5000
"""Up to this many ids, :func:`result_hash` writes them in Python (no numpy to import)."""


def _decimal_lines(arr: np.ndarray) -> bytes:
    """``"\\n".join(str(i) for i in arr).encode()`` for sorted int64 ids. The ids being
    sorted, those of one digit count are a run: each run's digits are written as a grid of
    that width plus the newline, a digit place at a time, the grids' bytes joined (8x
    faster than one grid as wide as the largest id with its leading zeros masked out)."""
    import numpy as np

    if not len(arr) or arr[0] < 0:
        return "\n".join(map(str, arr.tolist())).encode()
    width = len(str(int(arr[-1])))
    ends = np.searchsorted(arr, 10 ** np.arange(1, width, dtype=np.int64)).tolist()
    parts = []
    start = 0
    for digits, end in enumerate([*ends, len(arr)], start=1):
        if end > start:
            rest = arr[start:end].astype(np.uint32 if digits <= 9 else np.uint64)
            grid = np.empty((end - start, digits + 1), dtype=np.uint8)
            grid[:, digits] = ord("\n")
            for place in range(digits - 1, -1, -1):
                grid[:, place] = rest % 10 + ord("0")
                rest //= 10
            parts.append(grid.tobytes())
        start = end
    return b"".join(parts)[:-1]


def parse_query(text: str) -> Node:
    """Parse ``text``; a syntax error is a :class:`QuerySyntaxError` with a caret.

    Too long a query or phrase, or bytes that are not UTF-8, are refused the
    same way (:mod:`discovery.query.bounds`).
    """
    check_text(text)
    node = parse(text)
    check_phrases(node, text)
    return node


class Searcher:
    """Runs queries against one open matter."""

    def __init__(self, matter: Matter, *, resident: bool = False) -> None:
        """``resident``: this process will search again and again (the review screen), so
        per-message columns are read into memory early (:mod:`discovery.columns`)."""
        self.matter = matter
        self._columns = Columns(matter.store, resident=resident)
        self._chat: ChatOrder | None = None

    def planner(self) -> Planner:
        return Planner(
            self.matter.engine, self.matter.store, self.matter.tz, self._columns, self._chat_order
        )

    def _chat_order(self) -> ChatOrder:
        """The chat order, kept for the next query (made when a chat-aware group first needs it)."""
        if self._chat is None:
            from discovery.chat import ChatOrder

            self._chat = ChatOrder(self.matter.store)
        return self._chat

    def prepare(self, query: str, planner: Planner | None = None) -> Node:
        """Parse ``query`` and expand every term, as a search would (same errors, same carets)."""
        node = parse_query(query)
        planner = planner or self.planner()
        with _caret(query):
            for term in terms(node):
                planner.expand(term)
        return node

    def match(
        self, query: str, *, include_system: bool = False, view: View | None = None
    ) -> tuple[Node, set[int]]:
        """The parsed query and its exact set of hit ids.

        The answer covers what ``view`` saw (taken now when not given): the
        committed messages that are indexed. An ingest running meanwhile is
        never waited for.
        """
        node, found, _ = self._match(query, include_system, view or self.matter.view())
        return node, set(listed(found))

    def _match(
        self, query: str, include_system: bool, view: View
    ) -> tuple[Node, np.ndarray | list[int], Planner]:
        """The parsed query, its hit ids (sorted) and the planner that expanded it.

        The ids are a list when every word of the query is rare
        (:mod:`discovery.fewhits`, no numpy), else a numpy array."""
        planner = self.planner()
        node = self.prepare(query, planner)
        with _caret(query):
            few = fewhits.matching_ids(node, planner)
        if few is not None:
            if not include_system and few:
                system = self.matter.store.system_ids()
                few = [i for i in few if i not in system]
            return node, few[: bisect_right(few, view.indexed)], planner
        import numpy as np

        with _caret(query):
            found = planner.id_array(node)
            if found is None:
                found = np.fromiter(planner.ids(node), dtype=np.int64)
                found.sort()
        if not include_system and len(found):
            system = self.matter.store.system_ids()
            if system:
                found = found[~np.isin(found, np.fromiter(system, dtype=np.int64))]
        # While an ingest is still indexing, answer only over what is indexed,
        # so a text query and a field or NOT query see the same messages.
        return node, found[: np.searchsorted(found, view.indexed, "right")], planner

    def count(self, query: str, *, include_system: bool = False) -> int:
        """How many messages match: no message, not even the ids as a set, is built."""
        return len(self._match(query, include_system, self.matter.view())[1])

    def search(
        self,
        query: str,
        *,
        limit: int | None = 20,
        offset: int = 0,
        sort: str = "relevance",
        include_system: bool = False,
        summary: bool = True,
        family: bool = False,
    ) -> SearchResult:
        """Hits of ``query``: all ids in order, and a page of full hits with snippets.

        With ``family``, the hits' whole families instead: each family once (at its
        first hit's place), parent first, then its members in family order."""
        if sort not in SORTS:
            raise UsageError(f"unknown sort {sort!r}: use relevance or time")
        view = self.matter.view()
        node, found, planner = self._match(query, include_system, view)
        store = self.matter.store
        if sort == "time":
            ordered = self._columns.by_time(found)
        else:
            words = sorted(set(positive_words(node, planner)))
            ordered = self.matter.engine.scores(words, found, None)
        if family:
            ordered = families(store.db, list(ordered))
            found = sorted(ordered)
        conversations = 0
        if (summary or sort == "time") and len(found):
            conversations = self._columns.conversations(found)
        custodians = 0
        if summary and len(found):
            names = store.custodian_names()  # one custodian: no need to list the ids
            custodians = (
                len(names) if len(names) <= 1 else len(store.custodians_among(listed(found)))
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
            view=view,
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
                doc = _doc(m, tokens, fielded)
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
    if isinstance(node, Near | ChatNear):
        return _has_fields(node.left) or _has_fields(node.right)
    return False


def _doc(m: Message, tokens: Sequence[Token], fielded: bool) -> verify.Doc:
    """The verifier's view of ``m`` from its ``tokens``; its field values only when the
    query has fields (tokenising them costs)."""
    fields = {
        "kind": (m.kind,),
        "attachment": () if m.family is None else (m.family.name,),
        "speaker": (m.speaker, m.speaker_id),
        "conversation": (m.conversation,),
        "platform": (m.platform,),
        "custodian": tuple(m.custodians),
        "tag": tuple(m.tags),
    }
    return verify.Doc.from_tokens(tokens, fields if fielded else {}, m.sent_at)


@contextmanager
def _caret(query: str) -> Iterator[None]:
    """Report a term too broad or too slow with a caret under it (exit 2)."""
    try:
        yield
    except (TooBroadError, RegexTimeoutError) as exc:
        start, end = find_term(query, exc.pattern.removeprefix("##"))
        raise WildcardTooBroadError(str(exc), query, start, end - start) from None


def find_term(query: str, term: str) -> tuple[int, int]:
    """Where in the query text the token holding ``term`` was written."""
    try:
        tokens = lexemes(query)
    except QuerySyntaxError:  # pragma: no cover - the query parsed before
        return 0, len(query)
    for lex in tokens:
        if term in lex.words or "##" + term in lex.words:
            return lex.start, lex.end
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
