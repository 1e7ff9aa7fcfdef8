"""``explain``: how a query was read and what each part of it finds (PRODUCT.md §2).

For one query over one matter: the canonical form and the fully parenthesised
form, each typed word with the folded tokens it became, every expanded term
(wildcard, stem, fuzzy, numeric range, regular expression) with its index
words and their message counts, the hit count of every clause, and lint
warnings for what is easy to get wrong (a lower-case ``and`` read as a
connector, a lower-case ``near`` read as a word, a one-word phrase, an
expansion near its bound, a word that occurs in no message, a date range
empty in the display zone).

Counts are of messages, as ``search`` counts them: system events left out
unless asked for, and only what is indexed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from discovery.candidates import MAX_EXPANSION
from discovery.matter import Matter
from discovery.query import verify
from discovery.query.ast import (
    FIRST_WORD,
    LAST_WORD,
    And,
    ChatNear,
    DateRange,
    Near,
    Node,
    Not,
    Or,
    Word,
    term_kind,
    terms,
)
from discovery.query.parser import CONNECTOR_WORDS, lexemes
from discovery.query.unparse import term_text, unparse
from discovery.search import Searcher

NEAR_BOUND = 0.8
"""An expansion holding this share of :data:`MAX_EXPANSION` words or more is flagged."""

_OTHER_CONNECTORS = frozenset({"near", "adj", "within", "same"})
"""Connectors of other search languages that are ordinary words here (lower case)."""

SHOWN_WORDS = 50
"""Most index words listed per expanded term (the count covers all)."""


@dataclass(frozen=True, slots=True)
class Typed:
    """One word group as typed and the folded terms it became."""

    text: str
    column: int
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Expansion:
    """One term and the index words it stands for, each with its message count."""

    term: str
    kind: str
    words: tuple[tuple[str, int], ...]
    word_count: int
    messages: int
    """Messages holding any of the words."""


@dataclass(frozen=True, slots=True)
class Clause:
    """One node of the query tree (depth 0 is the whole query) and its hits."""

    text: str
    depth: int
    hits: int


@dataclass(frozen=True, slots=True)
class Explanation:
    query: str
    canonical: str
    parenthesized: str
    typed: tuple[Typed, ...]
    expansions: tuple[Expansion, ...]
    clauses: tuple[Clause, ...]
    warnings: tuple[str, ...]

    @property
    def hits(self) -> int:
        return self.clauses[0].hits

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "hits": self.hits}


def explain(matter: Matter, query: str, *, include_system: bool = False) -> Explanation:
    """Explain ``query`` over ``matter`` (raises the errors a search would)."""
    searcher = Searcher(matter)
    planner = searcher.planner()
    node = searcher.prepare(query, planner)
    engine = matter.engine
    hidden = set() if include_system else matter.store.system_ids()
    indexed = engine.indexed_through()

    def count(n: Node) -> int:
        return sum(1 for i in planner.ids(n) if i not in hidden and i <= indexed)

    typed: list[Typed] = []
    warnings: list[str] = []
    for lex in lexemes(query):
        if lex.kind in ("and", "or", "not") and lex.text.islower():
            warnings.append(
                f"{lex.text!r} at column {lex.start + 1} is read as the connector"
                f' {lex.text.upper()}; to search the word, quote it: "{lex.text}"'
            )
        if lex.kind == "near" and _CHAT_UNIT.search(lex.text):
            warnings.append(_chat_note(lex.text, lex.start))
        if lex.kind != "word":
            continue
        if lex.text.lower() in _OTHER_CONNECTORS:
            warnings.append(
                f"{lex.text!r} at column {lex.start + 1} is read as a word; for proximity"
                " write W/N (either order) or PRE/N (in order)"
            )
        typed.append(Typed(lex.text, lex.start + 1, tuple(_show(t) for t in lex.words)))
        if lex.quoted and len(lex.words) == 1 and term_kind(lex.words[0]) != "regex":
            warnings.append(f"{lex.text} is a one-word phrase: the quotes change nothing")
        elif not lex.quoted and len(lex.words) > 1:
            shown = " ".join(lex.words)
            warnings.append(f'{lex.text} is read as the phrase "{shown}" (its parts are words)')

    expansions: list[Expansion] = []
    seen: set[str] = set()
    for term in terms(node):
        if term in seen or term_kind(term) == "edge":
            continue
        seen.add(term)
        words = planner.expand(term)
        per_word = sorted(((w, engine.doc_count(w)) for w in words), key=lambda x: (-x[1], x[0]))
        holding = len(engine.word_ids(words)) if words else 0
        if term_kind(term) != "word":
            expansions.append(
                Expansion(
                    _show(term),
                    term_kind(term),
                    tuple(per_word[:SHOWN_WORDS]),
                    len(words),
                    holding,
                )
            )
            if len(words) >= NEAR_BOUND * MAX_EXPANSION:
                warnings.append(
                    f"{_show(term)} stands for {len(words)} words, near the limit of"
                    f" {MAX_EXPANSION}: make it more specific"
                )
        if not holding:
            what = "occurs in no message" if term_kind(term) == "word" else "matches no word"
            warnings.append(f"{_show(term)} {what} of this matter")

    clauses: list[Clause] = []
    for sub, depth in _walk(node):
        hits = count(sub)
        clauses.append(Clause(unparse(sub), depth, hits))
        if isinstance(sub, DateRange) and not hits:
            lo, hi = verify.date_bounds(sub, matter.tz)
            if lo is not None and hi is not None and lo >= hi:
                warnings.append(f"{unparse(sub)} is empty in the display zone {matter.tz}")
    return Explanation(
        query,
        unparse(node),
        unparse(node, full=True),
        tuple(typed),
        tuple(expansions),
        tuple(clauses),
        tuple(warnings),
    )


_CHAT_UNIT = re.compile(r"(?i)/([0-9]*)(msg|min|h|d|thread|conversation)$")


def _chat_note(text: str, start: int) -> str:
    """What a chat-aware connector counts (not a warning of a mistake: a reminder)."""
    m = _CHAT_UNIT.search(text)
    assert m is not None
    unit = m.group(2).lower()
    what = {
        "msg": "messages apart in one thread, or in the conversation's main line (system"
        " events not counted)",
        "min": "minutes apart in one conversation",
        "h": "hours apart in one conversation",
        "d": "days (24 hours) apart in one conversation",
        "thread": "in the same thread (a message in no thread is a thread of one)",
        "conversation": "in the same conversation",
    }[unit]
    return f"{text} at column {start + 1} pairs whole messages: {what}"


def _show(term: str) -> str:
    """A term as a user would type it alone (``xfirstword``, ``"##1[0-9]"``, ``"and"``)."""
    if term in (FIRST_WORD, LAST_WORD) or term in CONNECTOR_WORDS or term_kind(term) == "regex":
        return term_text(term)
    return term


def _walk(node: Node, depth: int = 0) -> list[tuple[Node, int]]:
    """Every clause, parents before children."""
    out = [(node, depth)]
    if isinstance(node, And | Or):
        for item in node.items:
            out.extend(_walk(item, depth + 1))
    elif isinstance(node, Not):
        out.extend(_walk(node.item, depth + 1))
    elif isinstance(node, ChatNear):
        out.extend(_walk(node.left, depth + 1))
        out.extend(_walk(node.right, depth + 1))
    elif isinstance(node, Near):
        for side in (node.left, node.right):
            if not (isinstance(side, Word) and term_kind(side.text) == "edge"):
                out.extend(_walk(side, depth + 1))
    return out
