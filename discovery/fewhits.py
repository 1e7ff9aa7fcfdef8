"""The hit set of a query whose words are rare, in plain Python, without numpy.

A fresh ``discovery search`` for a rare word or phrase spent more time
importing numpy than searching (docs/BENCHMARKS.md, "Fresh `discovery search`
process"). When every word of a text-only query, or the rarest word group of
each of its phrases and proximity groups, has at most :data:`LIMIT`
occurrences, its hit set is computed here from the occurrence keys read as
plain ints (:meth:`discovery.index.TextEngine.few_occurrences`):

* a word: the messages holding one of its index words;
* a phrase or proximity group: the messages holding a word of its rarest
  required group, each checked by :func:`discovery.query.verify.matches` on
  the positions of the group's words at those messages
  (:meth:`~discovery.index.TextEngine.few_positions`), as the verifier's path
  of :class:`discovery.candidates.Planner` does (the verifier stays the one
  definition of what a phrase or ``w/N`` means);
* AND, OR and NOT inside an AND: set algebra.

Anything else (fields, dates, a bare NOT, ``xfirstword``, a chat-aware group,
more occurrences than :data:`LIMIT`, an index without a positions sidecar), and
every query of a process that has imported numpy already (:data:`WITH_NUMPY`),
answers None and the caller takes the array path. The engine tests run every
query through this path, the array path and the verifier's path, each forced
in turn, against the reference evaluator.
"""

from __future__ import annotations

import sys

from discovery.candidates import Planner, array_shape, required_groups, word_groups
from discovery.index.sidecar import SHIFT
from discovery.query import verify
from discovery.query.ast import And, Near, Node, Not, Or, Phrase, Word
from discovery.store import EPOCH

LIMIT = 10_000
"""The most occurrences of a word (or of the rarest word group of a phrase or
proximity group) answered here: past about them, numpy's arrays answer faster than
this path by more than numpy's import costs (at 1M, "books", 29,290 occurrences:
this path 190 ms, the arrays 68 ms). 0 turns this path off."""


WITH_NUMPY = False
"""Whether this path answers in a process that has imported numpy already (the tests
force it). What it saves is numpy's import, so a fresh process gains; in one that
searches again and again (the review screen, a batch, the bench) the arrays answer a
rare phrase or ``w/N`` 10-20x faster (at 1M, warm: 0.4-1 ms against 7-12 ms)."""


def matching_ids(node: Node, planner: Planner) -> list[int] | None:
    """Sorted ids of the messages matching ``node``; None when this path cannot tell, or
    should not (:data:`WITH_NUMPY`)."""
    if LIMIT <= 0 or (not WITH_NUMPY and "numpy" in sys.modules):
        return None
    if not array_shape(node, chat=False):  # told before any occurrence is read
        return None
    found = _ids(node, planner)
    return None if found is None else sorted(found)


def _ids(node: Node, planner: Planner) -> set[int] | None:
    """The ids matching ``node``, of a shape :func:`array_shape` accepts (no edge word, a
    positive item in every AND); None past :data:`LIMIT` or without a sidecar."""
    if isinstance(node, Word):
        keys = _keys(planner.expand(node.text), planner)
        return None if keys is None else {k >> SHIFT for k in keys}
    if isinstance(node, Phrase | Near):
        return _positional(node, planner)
    if isinstance(node, Or):
        parts = [_ids(i, planner) for i in node.items]
        if any(p is None for p in parts):
            return None
        return set().union(*parts)  # type: ignore[arg-type]
    if isinstance(node, And):
        positives = [i for i in node.items if not isinstance(i, Not)]
        negatives = [i.item for i in node.items if isinstance(i, Not)]
        parts = [_ids(i, planner) for i in positives + negatives]
        if any(p is None for p in parts):
            return None
        result: set[int] = set.intersection(*parts[: len(positives)])  # type: ignore[arg-type]
        return result.difference(*parts[len(positives) :])  # type: ignore[arg-type]
    return None


def _keys(words: list[str], planner: Planner) -> list[int] | None:
    return planner.engine.few_occurrences(words, LIMIT)


def _positional(node: Phrase | Near, planner: Planner) -> set[int] | None:
    """The messages holding a word of the rarest group the match needs, each checked on
    its positions (the other words' positions are looked up at those messages only, so
    a common word beside a rare one costs little)."""
    engine = planner.engine
    required = {tuple(g): g for g in required_groups(node, planner)}.values()
    sized = sorted((sum(engine.doc_count(w) for w in g), g) for g in required)
    if not sized:
        return None
    if sized[0][0] == 0:
        return set()
    keys = _keys(sized[0][1], planner)
    if keys is None:
        return None
    candidates = sorted({k >> SHIFT for k in keys})
    words = list(dict.fromkeys(w for g in word_groups(node, planner) for w in g))
    positions = engine.few_positions(words, candidates)
    if positions is None:
        return None
    need = [g for _, g in sized[1:]]
    tz = planner.tz
    return {
        mid
        for mid, held in positions.items()
        if all(any(w in held for w in g) for g in need)  # cheaper than the verifier
        and verify.matches(node, _doc(held), tz)
    }


def _doc(positions: dict[str, list[int]]) -> verify.Doc:
    return verify.Doc(positions, {}, EPOCH)
