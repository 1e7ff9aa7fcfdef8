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
        return _near(node, occurrences, expand)
    spans = _spans(node, occurrences, expand)
    return None if spans is None else message_ids(spans[0])


def message_ids(sorted_keys: np.ndarray) -> np.ndarray:
    """The distinct message ids of sorted keys, in order."""
    ids = sorted_keys >> 32
    if len(ids) < 2:
        return ids
    keep = np.empty(len(ids), dtype=bool)
    keep[0] = True
    np.not_equal(ids[1:], ids[:-1], out=keep[1:])
    return ids[keep]


def _spans(node: Node, occ: Occurrences, expand: Expand) -> _Spans | None:
    """(start keys, end keys) of ``node``'s spans, sorted by start."""
    if isinstance(node, Word):
        keys = occ(expand(node.text))
        return keys, keys
    if isinstance(node, Phrase):
        keys = occ(expand(node.words[0]))
        for i, word in enumerate(node.words[1:], 1):
            if not len(keys):
                break
            other = occ(expand(word))
            # Search the fewer keys in the more: k starts the phrase so far and
            # k + i is the next word's.
            if len(keys) <= len(other):
                keys = keys[_member(keys + i, other)]
            else:
                keys = other[_member(other - i, keys)] - i
        return keys, keys + (len(node.words) - 1)
    if isinstance(node, Or):
        parts = [_spans(item, occ, expand) for item in node.items]
        if any(p is None for p in parts):
            return None
        starts = np.concatenate([p[0] for p in parts if p is not None])
        ends = np.concatenate([p[1] for p in parts if p is not None])
        order = np.argsort(starts, kind="stable")
        return starts[order], ends[order]
    return None  # a proximity group inside another, or a node this module does not know


def _near(node: Near, occ: Occurrences, expand: Expand) -> np.ndarray | None:
    """Sorted ids of the messages where ``node`` matches.

    Some span a of the left and b of the right qualify when b starts within N
    after a ends, or (``w/N``) ends within N before a starts. The test runs
    from the side with fewer spans, searching the other side's sorted ends or
    starts; ``not w/N`` keeps the left spans with no such b at all.
    """
    left = _spans(node.left, occ, expand)
    right = None if left is None else _spans(node.right, occ, expand)
    if left is None or right is None:
        return None
    (a0, a1), (b0, b1) = left, right
    n = node.distance
    if node.negated:
        if not len(b0):
            return message_ids(a0)
        # As the verifier: either order counts, whatever ``ordered`` says.
        near = _within(_sorted(b0), a1 + 1, a1 + n) | _within(_sorted(b1), a0 - n, a0 - 1)
        return message_ids(a0[~near])
    if not len(a0) or not len(b0):
        return a0[:0]
    if len(b0) <= len(a0):
        if not node.ordered and a0 is a1 and b0 is b1:  # two words, either order
            return message_ids(b0[_around(a0, b0, n)])
        ok = _within(_sorted(a1), b0 - n, b0 - 1)  # a ends just before b starts
        if not node.ordered:
            ok |= _within(a0, b1 + 1, b1 + n)
        return message_ids(b0[ok])
    if not node.ordered and a0 is a1 and b0 is b1:
        return message_ids(a0[_around(b0, a0, n)])
    ok = _within(b0, a1 + 1, a1 + n)  # b starts just after a ends
    if not node.ordered:
        ok |= _within(_sorted(b1), a0 - n, a0 - 1)
    return message_ids(a0[ok])


def _within(sorted_keys: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """For each i, whether some key lies in ``[lo[i], hi[i]]``."""
    if not len(sorted_keys):
        return np.zeros(len(lo), dtype=bool)
    at = np.searchsorted(sorted_keys, lo)
    found = sorted_keys[np.minimum(at, len(sorted_keys) - 1)]
    return (at < len(sorted_keys)) & (found <= hi)


def _around(sorted_keys: np.ndarray, at: np.ndarray, n: int) -> np.ndarray:
    """For each key k of ``at``, whether some key lies in ``[k - n, k - 1]`` or in
    ``[k + 1, k + n]``: the two tests of ``_within`` for one-word spans, in one binary
    search (the first key from ``k - n`` on is within n of k and not k itself, or it is k
    and the keys after k are searched: only for those)."""
    if not len(sorted_keys):
        return np.zeros(len(at), dtype=bool)
    where = np.searchsorted(sorted_keys, at - n)
    first = sorted_keys[np.minimum(where, len(sorted_keys) - 1)]
    ok = (where < len(sorted_keys)) & (first <= at + n)
    same = np.flatnonzero(ok & (first == at))
    if len(same):
        ok[same] = _within(sorted_keys, at[same] + 1, at[same] + n)
    return ok


def _sorted(a: np.ndarray) -> np.ndarray:
    """``a`` sorted (itself when it already is: a word's or a phrase's ends)."""
    return a if bool(np.all(a[1:] >= a[:-1])) else np.sort(a)


def _member(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """For each of ``values``, whether it is in ``sorted_keys``."""
    return _within(sorted_keys, values, values)
