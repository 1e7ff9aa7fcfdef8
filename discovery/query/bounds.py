"""Bounds on a query, checked where a query enters (:func:`discovery.search.parse_query`).

A query of 100 KB, or one phrase of thousands of words, would run for minutes;
a query holding bytes that are not UTF-8 (a mistyped shell argument) could be
run but not written to the audit log. Each is refused with a caret under the
spot, as a syntax error is (exit status 2).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from discovery.errors import QuerySyntaxError
from discovery.query.ast import Field, Node, Phrase

MAX_QUERY_CHARS = 10_000
"""Longest query accepted, in characters (a long list of terms belongs in a batch)."""
MAX_PHRASE_WORDS = 100
"""Most words in one phrase or field value."""

_NOT_TEXT = re.compile(r"[\ud800-\udfff]")
_WORDISH = re.compile(r"[^\s\"'()]+")


def check_text(query: str) -> None:
    """Refuse a query that is too long or holds bytes that are not UTF-8 text."""
    bad = _NOT_TEXT.search(query)
    if bad is not None:
        raise QuerySyntaxError(
            "the query holds bytes that are not UTF-8 text here; type it again",
            query,
            bad.start(),
        )
    if len(query) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            f"the query is {len(query):,} characters long; the limit is {MAX_QUERY_CHARS:,}"
            " (run a long list of terms as a batch)",
            query,
            MAX_QUERY_CHARS,
        )


def check_phrases(node: Node, query: str) -> None:
    """Refuse a phrase (or field value) of more than :data:`MAX_PHRASE_WORDS` words."""
    for words in _phrases(node):
        if len(words) > MAX_PHRASE_WORDS:
            start, length = _locate(query, len(words))
            raise QuerySyntaxError(
                f"a phrase of {len(words):,} words is longer than the {MAX_PHRASE_WORDS} words"
                " a phrase may have; shorten it",
                query,
                start,
                length,
            )


def _phrases(node: object) -> Iterator[tuple[str, ...]]:
    if isinstance(node, Phrase | Field):
        yield node.words
        return
    if isinstance(node, tuple | list):
        for item in node:
            yield from _phrases(item)
        return
    for name in getattr(type(node), "__slots__", ()):
        value = getattr(node, name)
        if not isinstance(value, str | int | bool) and value is not None:
            yield from _phrases(value)


def _locate(query: str, words: int) -> tuple[int, int]:
    """Column and length of the words past the limit, in the longest run of words.

    The phrase is found as the longest run of word-like pieces with nothing but
    spaces between them (quoted or not); without one, the whole query.
    """
    best: list[re.Match[str]] = []
    run: list[re.Match[str]] = []
    for m in _WORDISH.finditer(query):
        if run and query[run[-1].end() : m.start()].strip():
            run = []
        run.append(m)
        if len(run) > len(best):
            best = list(run)
    if len(best) <= MAX_PHRASE_WORDS:
        return 0, len(query)
    first = best[MAX_PHRASE_WORDS]
    return first.start(), best[-1].end() - first.start()
