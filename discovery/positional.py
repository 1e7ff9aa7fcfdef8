"""Phrases and proximity over whole occurrence arrays at once, with numpy.

An occurrence is one int64 key, ``message id << 32 | position``; the index's
positions sidecar gives every occurrence of a word as a sorted array of keys
(:meth:`discovery.index.TextEngine.occurrences`). A span is a pair of keys
(first and last word). Then, for all messages together:

* a phrase ``"a b c"``: the keys ``k`` of ``a`` such that ``k + 1`` is a key
  of ``b`` and ``k + 2`` one of ``c`` (binary search of one sorted array in
  another); its spans are ``(k, k + 2)``;
* ``A w/N B``: spans of A with a span of B starting within N after their end
  (``searchsorted`` on B's starts), or, unordered, ending within N before their
  start (on B's sorted ends); ``pre/N`` only the first; ``not w/N`` the spans
  of A with neither;
* an ``Or`` the union of its items' spans.

These are the span rules of :mod:`discovery.query.verify`, which stays the
definition: this module handles the shapes above (operands that are words,
phrases, or an ``Or`` of those), and says ``None`` for anything else (a
proximity group as an operand of another, a node type it does not know), so
the caller falls back to the verifier. tests/test_search_engine.py runs the
reference queries with this path on and off.

Positions never reach 2**32, and no two messages' keys are closer than that,
so ``k + N`` never crosses into another message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from discovery.query.ast import Near, Node, Or, Phrase, Word

Occurrences = Callable[[Sequence[str]], np.ndarray]
"""Index words -> sorted keys of every occurrence of any of them."""

Expand = Callable[[str], list[str]]
"""A query word (maybe a wildcard) -> the index words it stands for."""

_Spans = tuple[np.ndarray, np.ndarray]


def matching_ids(node: Node, occurrences: Occurrences, expand: Expand) -> np.ndarray | None:
    """Sorted ids of the messages matching a phrase or proximity ``node``, or None
    when this module does not handle the node's shape."""
    if isinstance(node, Near):
        starts = _near(node, occurrences, expand)
    else:
        spans = _spans(node, occurrences, expand)
        starts = None if spans is None else spans[0]
    if starts is None:
        return None
    return np.unique(starts >> 32)


def _spans(node: Node, occ: Occurrences, expand: Expand) -> _Spans | None:
    if isinstance(node, Word):
        keys = occ(expand(node.text))
        return keys, keys
    if isinstance(node, Phrase):
        keys = occ(expand(node.words[0]))
        for i, word in enumerate(node.words[1:], 1):
            if not len(keys):
                break
            keys = keys[_member(keys + i, occ(expand(word)))]
        return keys, keys + (len(node.words) - 1)
    if isinstance(node, Or):
        parts = [_spans(item, occ, expand) for item in node.items]
        if any(p is None for p in parts):
            return None
        return (
            np.concatenate([p[0] for p in parts if p is not None]),
            np.concatenate([p[1] for p in parts if p is not None]),
        )
    return None  # a proximity group inside another, or a node this module does not know


def _near(node: Near, occ: Occurrences, expand: Expand) -> np.ndarray | None:
    """Start keys of the left spans that make ``node`` match (one per qualifying span)."""
    left = _spans(node.left, occ, expand)
    if left is None:
        return None
    right = _spans(node.right, occ, expand)
    if right is None:
        return None
    (a0, a1), (b0, b1) = left, right
    n = node.distance
    if not len(a0) or not len(b0):
        return a0 if node.negated else a0[:0]
    starts = np.sort(b0)
    # Some span of B starts within n after the end of a (so the two are disjoint).
    after = np.searchsorted(starts, a1 + n, "right") > np.searchsorted(starts, a1, "right")
    if node.ordered and not node.negated:
        return a0[after]
    ends = np.sort(b1)
    # Some span of B ends within n before the start of a.
    before = np.searchsorted(ends, a0, "left") > np.searchsorted(ends, a0 - n, "left")
    near = after | before
    return a0[~near] if node.negated else a0[near]


def _member(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """For each of ``values``, whether it is in ``sorted_keys``."""
    if not len(sorted_keys):
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_keys, values)
    at[at == len(sorted_keys)] = 0
    return sorted_keys[at] == values
