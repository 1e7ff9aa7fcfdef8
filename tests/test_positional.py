"""The array evaluation of phrases and proximity against the verifier and the reference.

Random messages over a four-word vocabulary (so words meet often, repeat and
overlap), edited ones with earlier versions; random phrases, ``w/N``,
``pre/N`` and ``not w/N`` trees with words, wildcards, phrases and ORs as
operands. The keys come straight from the tokenizer here, not from an index,
so this checks :mod:`discovery.positional` alone: for every tree it handles,
the messages it finds must be exactly those :func:`discovery.query.verify.matches`
and ``tests/reference_eval.py`` accept; trees it does not handle (a proximity
group inside another) must be refused (None), never answered.
"""

from __future__ import annotations

import fnmatch
from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery import positional
from discovery.query import verify
from discovery.query.ast import Near, Node, Or, Phrase, Word
from discovery.text import version_tokens
from tests.reference_eval import RefMessage, evaluate

VOCAB = ["a", "b", "c", "ab"]
WHEN = datetime(2023, 5, 1, tzinfo=UTC)

texts = st.lists(st.sampled_from(VOCAB), max_size=9).map(" ".join)
messages = st.lists(
    st.tuples(texts, st.lists(texts, max_size=2)).map(lambda t: (t[0], *t[1])),
    min_size=1,
    max_size=12,
)
patterns = st.sampled_from([*VOCAB, "a*", "?", "*b", "zz"])
words = patterns.map(Word)
phrases = st.lists(patterns, min_size=2, max_size=3).map(lambda ws: Phrase(tuple(ws)))
atoms = words | phrases
operands = atoms | st.lists(atoms, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs)))
nears = st.builds(
    lambda left, right, n, kind: Near(left, right, n, kind == "pre", kind == "not"),
    operands,
    operands,
    st.integers(1, 4),
    st.sampled_from(["w", "pre", "not"]),
)
trees = (
    nears
    | phrases
    | st.builds(lambda inner, right, n: Near(inner, right, n), nears, operands, st.integers(1, 3))
)


def _index(msgs: list[tuple[str, ...]]) -> dict[str, np.ndarray]:
    keys: dict[str, list[int]] = {}
    for mid, versions in enumerate(msgs, 1):
        for tok in version_tokens(versions):
            keys.setdefault(tok.text, []).append(mid << 32 | tok.pos)
    return {w: np.array(k, dtype=np.int64) for w, k in keys.items()}


@settings(max_examples=300, deadline=None)
@given(messages, trees)
def test_arrays_equal_the_verifier_and_the_reference(
    msgs: list[tuple[str, ...]], node: Node
) -> None:
    index = _index(msgs)

    def occurrences(ws: object) -> np.ndarray:
        found = [index[w] for w in dict.fromkeys(ws) if w in index]  # type: ignore[attr-defined]
        return np.sort(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)

    def expand(pattern: str) -> list[str]:
        return sorted(w for w in index if fnmatch.fnmatchcase(w, pattern))

    got = positional.matching_ids(node, occurrences, expand)
    nested = isinstance(node, Near) and any(isinstance(s, Near) for s in (node.left, node.right))
    if nested:
        assert got is None
        return
    assert got is not None
    verified = {
        mid
        for mid, versions in enumerate(msgs, 1)
        if verify.matches(node, verify.Doc.build(versions, {}, WHEN), UTC)
    }
    reference = {
        mid
        for mid, versions in enumerate(msgs, 1)
        if evaluate(node, RefMessage(list(versions), {}, WHEN), UTC)
    }
    assert got.tolist() == sorted(verified) == sorted(reference)
