"""Query syntax tree (PRODUCT.md §3) and its canonical printed form.

Nodes are frozen dataclasses and know nothing of any index. Words are stored
folded (see :mod:`discovery.text`). A word of a :class:`Word` or :class:`Phrase`
is a *term*; :func:`term_kind` tells which of these it is:

* ``word``: a folded word;
* ``wildcard``: with ``*`` (any run), ``?`` (one letter or digit) or ``=`` (one digit);
* ``stem``: a folded word and ``~`` (``apply~``);
* ``fuzzy``: a folded word with one ``%`` per allowed difference (``ba%nana``);
* ``range``: ``12~~24`` or ``0.5~~2``, two numbers as written, low first;
* ``regex``: ``##`` and a regular expression over one folded word;
* ``edge``: :data:`FIRST_WORD` or :data:`LAST_WORD` (``xfirstword``, ``xlastword``).

Every kind but ``word`` and ``edge`` stands for a list of index words
(``candidates.Planner.expand``). ``unparse(parse(q))`` is the canonical form
saved in batches and the audit log; parsing it again gives an equal tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

WILDCARDS = "*?="

FIRST_WORD = "<xfirstword>"
LAST_WORD = "<xlastword>"
"""The built-in words before a text's first word and after its last (never a folded word)."""

TermKind = Literal["word", "wildcard", "stem", "fuzzy", "range", "regex", "edge"]

TEXT_FIELDS = ("speaker", "conversation", "custodian", "platform", "tag", "attachment", "kind")
"""Fields whose value is matched as words; ``channel`` is an alias of ``conversation``.
``attachment`` is a family member's file name; ``kind`` is ``message`` or ``attachment``."""

DATE_FIELDS = ("sent", "after", "before")


def has_wildcard(word: str) -> bool:
    """Whether a term stands for a list of index words (any kind but ``word`` and ``edge``)."""
    return term_kind(word) not in ("word", "edge")


@lru_cache(maxsize=4096)
def term_kind(term: str) -> TermKind:
    """Which kind of term ``term`` is (see the module notes). Kept for the terms asked
    about again: the verifier asks about each term of a query at every candidate."""
    if term.startswith("##"):
        return "regex"
    if term in (FIRST_WORD, LAST_WORD):
        return "edge"
    if "~~" in term:
        return "range"
    if term.endswith("~"):
        return "stem"
    if "%" in term:
        return "fuzzy"
    if any(c in term for c in WILDCARDS):
        return "wildcard"
    return "word"


@dataclass(frozen=True, slots=True)
class Word:
    """One word (folded), possibly with wildcards."""

    text: str


@dataclass(frozen=True, slots=True)
class Phrase:
    """Two or more words (each possibly with wildcards) at consecutive positions."""

    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Messages not matching ``item`` (``a NOT b`` parses as ``And(a, Not(b))``)."""

    item: Node


@dataclass(frozen=True, slots=True)
class Near:
    """``left w/N right`` (ordered=False), ``left pre/N right`` (ordered=True),
    ``left not w/N right`` (negated=True).

    Operands are Word, Phrase, Or of those, or another Near; or, on one side
    only, an And of those (``(apple AND banana) w/10 pear``) with a Word, Phrase
    or Or of those on the other.
    """

    left: Node
    right: Node
    distance: int
    ordered: bool = False
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Field:
    """``speaker:alice``, ``conversation:"general chat"``, ``tag:hot``: words
    (with wildcards) found consecutively in the field's folded words."""

    name: str
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DateRange:
    """``sent:A..B``, ``after:A``, ``before:B`` as written (resolved later in a zone).

    ``start`` and ``end`` are the texts of the bounds (``2023-01-01`` or a full
    ISO timestamp with offset); either may be None for an open end.
    """

    name: str
    start: str | None
    end: str | None


CHAT_UNITS = ("msg", "min", "h", "d", "thread", "conversation")
"""Units of chat-aware proximity: messages, minutes, hours, days; and the same
thread or conversation (these two take no number)."""

ChatUnit = Literal["msg", "min", "h", "d", "thread", "conversation"]

UNIT_SECONDS = {"min": 60, "h": 3600, "d": 86400}
"""Seconds in one of each time unit."""


@dataclass(frozen=True, slots=True)
class ChatNear:
    """Chat-aware proximity between two message-level queries (docs/QUERY.md).

    ``left W/3MSG right``: a message matching ``left`` and one matching
    ``right`` at most 3 messages apart in one thread or in a conversation's
    main line; ``W/10MIN``, ``W/2H``, ``W/1D``: sent at most that long apart in
    one conversation; ``W/THREAD``, ``W/CONVERSATION``: in the same thread or
    conversation. ``ordered`` (``PRE/``): the left message at or before the
    right one. ``negated`` (``NOT W/``): messages of ``left`` with no message of
    ``right`` that near. ``distance`` is 0 for ``thread`` and ``conversation``.
    Each side is any query (words, fields, dates, booleans, word proximity,
    another chat group); the hits are the messages on either side of a pair.
    """

    left: Node
    right: Node
    unit: ChatUnit
    distance: int = 0
    ordered: bool = False
    negated: bool = False


Node = Word | Phrase | And | Or | Not | Near | Field | DateRange | ChatNear


def terms(node: Node) -> list[str]:
    """Every term of the text parts of ``node`` (NOT parts included), in order."""
    if isinstance(node, Word):
        return [node.text]
    if isinstance(node, Phrase):
        return list(node.words)
    if isinstance(node, And | Or):
        return [t for i in node.items for t in terms(i)]
    if isinstance(node, Not):
        return terms(node.item)
    if isinstance(node, Near | ChatNear):
        return terms(node.left) + terms(node.right)
    return []


def has_chat(node: Node) -> bool:
    """Whether ``node`` holds a chat-aware proximity group anywhere."""
    if isinstance(node, ChatNear):
        return True
    if isinstance(node, And | Or):
        return any(has_chat(i) for i in node.items)
    if isinstance(node, Not):
        return has_chat(node.item)
    if isinstance(node, Near):
        return has_chat(node.left) or has_chat(node.right)
    return False
