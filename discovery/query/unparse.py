"""Syntax tree -> canonical query text.

The canonical form is what saved batches and the audit log store, so it is
stable: ``parse(unparse(parse(q))) == parse(q)`` and printing twice gives the
same text. Spellings:

* connectors upper-case: ``AND``, ``OR``, ``NOT``, ``W/5``, ``PRE/5``,
  ``NOT W/5``; a ``Not`` inside an ``And`` prints as ``a AND NOT b``;
* a single word prints bare (``pirat*``, ``apply~``, ``ba%nana``, ``12~~24``)
  unless it is a connector word or ``xfirstword``/``xlastword`` as a word, which
  are quoted (``"not"``); the edge words print bare; a regular expression
  prints quoted (``"##199[0-9]"``); a phrase is quoted (``"ask forgiveness"``),
  except one holding a regular expression, which prints as its words side by
  side (``report "##199[0-9]"``);
* fields print as ``speaker:alice`` or, for several words,
  ``speaker:"alice smith"``; ``channel:`` prints as ``conversation:``;
* dates print as ``sent:A``, ``sent:A..B``, ``after:A``, ``before:B``;
* parentheses: every ``And``, ``Or`` or proximity group nested inside an
  ``And``, ``Or`` or ``NOT`` is parenthesized (clearer to a reader than the
  precedence rules); proximity chains print left-to-right without parentheses
  (``a W/5 b PRE/3 c``), a group on the right of a proximity connector and an
  ``Or`` or ``And`` operand are parenthesized;
* chat connectors print as ``W/3MSG``, ``PRE/10MIN``, ``NOT W/2H``, ``W/1D``,
  ``W/THREAD``, ``W/CONVERSATION``, with the parentheses of word proximity
  and a ``NOT`` operand always in parentheses (``(NOT a) W/3MSG b``).

``unparse(node, full=True)`` (for ``explain``) parenthesizes every group inside
another, proximity chains included: ``((a W/5 b) PRE/3 c)``.
"""

from __future__ import annotations

from discovery.query.ast import (
    FIRST_WORD,
    LAST_WORD,
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
from discovery.query.parser import CONNECTOR_WORDS, EDGE_WORDS, near_name

_EDGE_NAMES = {v: k for k, v in EDGE_WORDS.items()}


def unparse(node: Node, full: bool = False) -> str:
    """The canonical text of ``node`` (``full``: every nested group in parentheses)."""
    if full:
        return _full(node, top=True)
    if isinstance(node, Word):
        return term_text(node.text)
    if isinstance(node, Phrase):
        if any(term_kind(w) == "regex" for w in node.words):
            return " ".join(term_text(w) for w in node.words)
        return '"' + " ".join(node.words) + '"'
    if isinstance(node, And):
        parts = []
        for i, item in enumerate(node.items):
            if i and isinstance(item, Not):
                parts.append("AND " + unparse(item))
            elif i:
                parts.append("AND " + _grouped(item))
            else:
                parts.append(_grouped(item))
        return " ".join(parts)
    if isinstance(node, Or):
        return " OR ".join(_grouped(item) for item in node.items)
    if isinstance(node, Not):
        return "NOT " + _grouped(node.item)
    if isinstance(node, Near):
        left = _paren(node.left) if isinstance(node.left, Or | And) else unparse(node.left)
        right = (
            _paren(node.right) if isinstance(node.right, Or | Near | And) else unparse(node.right)
        )
        return f"{left} {near_name(node.distance, node.ordered, node.negated)} {right}"
    if isinstance(node, ChatNear):
        name = near_name(node.distance, node.ordered, node.negated, node.unit)
        left = _paren(node.left) if isinstance(node.left, Or | And | Not) else unparse(node.left)
        right = (
            _paren(node.right)
            if isinstance(node.right, Or | And | Not | Near | ChatNear)
            else unparse(node.right)
        )
        return f"{left} {name} {right}"
    if isinstance(node, Field):
        if len(node.words) == 1:
            return f"{node.name}:{node.words[0]}"
        return f'{node.name}:"{" ".join(node.words)}"'
    if isinstance(node, DateRange):
        if node.name == "after":
            return f"after:{node.start}"
        if node.name == "before":
            return f"before:{node.end}"
        if node.start == node.end:
            return f"sent:{node.start}"
        return f"sent:{node.start}..{node.end}"
    raise TypeError(f"not a query node: {type(node).__name__}")


def _paren(node: Node) -> str:
    return f"({unparse(node)})"


def _grouped(node: Node) -> str:
    """``node`` as an item of And/Or/Not: binary groups get parentheses."""
    if isinstance(node, And | Or | Near | ChatNear):
        return _paren(node)
    return unparse(node)


def term_text(term: str) -> str:
    """One term as written alone."""
    if term in (FIRST_WORD, LAST_WORD):
        return _EDGE_NAMES[term]
    if term in CONNECTOR_WORDS or term in EDGE_WORDS or term_kind(term) == "regex":
        return f'"{term}"'
    return term


def _full(node: Node, top: bool = False) -> str:
    """Every And, Or, Not and proximity group below the top in parentheses."""
    if isinstance(node, And):
        body = " AND ".join(_full(i) for i in node.items)
    elif isinstance(node, Or):
        body = " OR ".join(_full(i) for i in node.items)
    elif isinstance(node, Not):
        body = "NOT " + _full(node.item)
    elif isinstance(node, Near):
        name = near_name(node.distance, node.ordered, node.negated)
        body = f"{_full(node.left)} {name} {_full(node.right)}"
    elif isinstance(node, ChatNear):
        name = near_name(node.distance, node.ordered, node.negated, node.unit)
        body = f"{_full(node.left)} {name} {_full(node.right)}"
    else:
        return unparse(node)
    return body if top else f"({body})"
