"""Syntax tree -> canonical query text.

The canonical form is what saved batches and the audit log store, so it is
stable: ``parse(unparse(parse(q))) == parse(q)`` and printing twice gives the
same text. Spellings:

* connectors upper-case: ``AND``, ``OR``, ``NOT``, ``W/5``, ``PRE/5``,
  ``NOT W/5``; a ``Not`` inside an ``And`` prints as ``a AND NOT b``;
* a single word prints bare (``pirat*``) unless it is a connector word, which is
  quoted (``"not"``); a phrase is always quoted (``"ask forgiveness"``);
* fields print as ``speaker:alice`` or, for several words,
  ``speaker:"alice smith"``; ``channel:`` prints as ``conversation:``;
* dates print as ``sent:A``, ``sent:A..B``, ``after:A``, ``before:B``;
* parentheses: every ``And``, ``Or`` or proximity group nested inside an
  ``And``, ``Or`` or ``NOT`` is parenthesized (clearer to a reader than the
  precedence rules); proximity chains print left-to-right without parentheses
  (``a W/5 b PRE/3 c``), a group on the right of a proximity connector and an
  ``Or`` operand are parenthesized.
"""

from __future__ import annotations

from discovery.query.ast import And, DateRange, Field, Near, Node, Not, Or, Phrase, Word
from discovery.query.parser import CONNECTOR_WORDS, near_name


def unparse(node: Node) -> str:
    """The canonical text of ``node``."""
    if isinstance(node, Word):
        return f'"{node.text}"' if node.text in CONNECTOR_WORDS else node.text
    if isinstance(node, Phrase):
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
        left = _paren(node.left) if isinstance(node.left, Or) else unparse(node.left)
        right = _paren(node.right) if isinstance(node.right, Or | Near) else unparse(node.right)
        return f"{left} {near_name(node.distance, node.ordered, node.negated)} {right}"
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
    if isinstance(node, And | Or | Near):
        return _paren(node)
    return unparse(node)
