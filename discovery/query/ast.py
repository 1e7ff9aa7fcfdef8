"""Query syntax tree (PRODUCT.md §3) and its canonical printed form.

Nodes are frozen dataclasses and know nothing of any index. Words are stored
folded (see :mod:`discovery.text`); a word may hold the wildcards ``*`` and
``?``. ``unparse(parse(q))`` is the canonical form saved in batches and the
audit log; parsing it again gives an equal tree.
"""

from __future__ import annotations

from dataclasses import dataclass

WILDCARDS = "*?"

TEXT_FIELDS = ("speaker", "conversation", "custodian", "platform", "tag")
"""Fields whose value is matched as words; ``channel`` is an alias of ``conversation``."""

DATE_FIELDS = ("sent", "after", "before")


def has_wildcard(word: str) -> bool:
    return any(c in word for c in WILDCARDS)


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

    Operands are Word, Phrase, Or of those, or another Near.
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


Node = Word | Phrase | And | Or | Not | Near | Field | DateRange
