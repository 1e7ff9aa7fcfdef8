"""Reading the terms of a word group: words, wildcards, stems, fuzzy words, ranges, regexes.

:class:`TermReader` turns the text of a bare run or of quotes into the terms
of :mod:`discovery.query.ast` (``term_kind``): words folded with
:mod:`discovery.text`, operators kept in canonical form (``ba%na%na`` ->
``ba%%nana``). Every problem is reported through the lexer's ``error``
callback, so it carries the column of the query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

from discovery import text
from discovery.errors import QuerySyntaxError

if TYPE_CHECKING:
    import regex

MAX_FUZZ = 3
"""Most ``%`` (differences) in one fuzzy term."""

MAX_REGEX = 200
"""Longest regular expression (characters after ``##``)."""

_TERM_CHARS = r"\p{L}\p{N}\p{M}\p{Cf}*?=%~"
_ASCII_CHUNK_RE = re.compile(r"[A-Za-z0-9*?=%~]+")
"""The chunks of an ASCII run: :data:`_TERM_CHARS` on ASCII (no ASCII character is a mark
or a format character), read without the ``regex`` module (start-up)."""
_WILD_SPLIT_RE = re.compile(r"([*?=]+)")
_RANGE_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)~~([0-9]+(?:\.[0-9]+)?)")


@cache
def _chunk_re() -> regex.Pattern[str]:
    """The chunks of a run that is not ASCII: letters, digits, marks, format characters
    and the operator characters."""
    import regex

    return regex.compile(f"[{_TERM_CHARS}]+")


ErrorAt = Callable[[str, int, int], QuerySyntaxError]


class TermReader:
    """The terms of query text; ``error(message, column, length)`` builds the error to raise."""

    def __init__(self, error: ErrorAt) -> None:
        self.error = error

    def regex_term(self, pattern: str, at: int) -> str:
        """Validate a regular expression (the text after ``##``) and return its term."""
        length = max(1, len(pattern))
        if not pattern:
            raise self.error('empty regular expression: write "##pattern"', at - 3, 3)
        if len(pattern) > MAX_REGEX:
            raise self.error(f"regular expression longer than {MAX_REGEX} characters", at, length)
        if any(c.isspace() for c in pattern):
            raise self.error(
                "a regular expression matches one word: it cannot hold a space", at, length
            )
        if "(?" in pattern.replace("(?:", ""):
            raise self.error(
                "(?...) groups and flags are not supported in a regular expression", at, length
            )
        bad = _unfolded_literal(pattern)
        if bad is not None:
            raise self.error(
                f"regular expressions match folded words (lower case, no accents): write"
                f" {text.fold(pattern[bad])!r} for {pattern[bad]!r}",
                at + bad,
                1,
            )
        import regex

        try:
            regex.compile(pattern)
        except regex.error as exc:
            raise self.error(f"bad regular expression: {exc.msg}", at, length) from None
        return "##" + pattern

    def terms(self, s: str, offset: int) -> tuple[str, ...]:
        """The terms of ``s`` (words folded, operators kept); ``offset`` is where ``s`` starts."""
        out: list[str] = []
        for run in re.finditer(r"\S+", s):
            if "~~" in run.group():
                out.append(self.range_term(run.group(), offset + run.start()))
                continue
            chunks = _ASCII_CHUNK_RE if run.group().isascii() else _chunk_re()
            for m in chunks.finditer(run.group()):
                out.extend(self.chunk_terms(m.group(), offset + run.start() + m.start()))
        return tuple(out)

    def range_term(self, s: str, at: int) -> str:
        m = _RANGE_RE.fullmatch(s)
        if m is None:
            raise self.error(
                "a numeric range is two numbers joined by ~~, like 12~~24 or 0.5~~2.5", at, len(s)
            )
        if Decimal(m.group(1)) > Decimal(m.group(2)):
            raise self.error(
                f"reversed numeric range: {m.group(1)} is above {m.group(2)}", at, len(s)
            )
        return s

    def chunk_terms(self, chunk: str, at: int) -> list[str]:
        n = len(chunk)
        if "~" in chunk:
            base = chunk[:-1]
            if not chunk.endswith("~") or "~" in base:
                raise self.error(
                    f"{chunk!r} is not our syntax: word~ finds the forms of a word (stemming);"
                    " for misspellings use fuzzy ba%nana (one % per difference)",
                    at,
                    n,
                )
            words = text.words(base)
            if len(words) != 1 or any(c in base for c in "*?=%"):
                raise self.error("stemming (~) works on one plain word, like apply~", at, n)
            return [words[0] + "~"]
        if "%" in chunk:
            return [self.fuzzy(chunk, at)]
        out: list[str] = []
        current = ""
        for seg in _WILD_SPLIT_RE.split(chunk):
            if not seg:
                continue
            if seg[0] in "*?=":
                current += seg
                continue
            parts = text.words(seg)
            if not parts:
                continue
            current += parts[0]
            for part in parts[1:]:
                out.append(current)
                current = part
        if current:
            out.append(current)
        for w in out:
            if not any(c not in "*?" for c in w):
                raise self.error("wildcard needs at least one letter or digit", at, n)
        return [re.sub(r"\*+", "*", w) for w in out]

    def fuzzy(self, chunk: str, at: int) -> str:
        n = len(chunk)
        if any(c in chunk for c in "*?="):
            raise self.error("fuzzy (%) and wildcards cannot be combined in one word", at, n)
        edits = chunk.count("%")
        if edits > MAX_FUZZ:
            raise self.error(f"fuzzy words allow at most {MAX_FUZZ} differences (%)", at, n)
        head = chunk[: chunk.index("%")]
        target = chunk.replace("%", "")
        if len(target) == len(head):
            raise self.error(
                "fuzzy needs letters after the %, like ba%nana (to search 50%, write 50)", at, n
            )
        exact = text.words(head) if head else [""]
        words = text.words(target)
        if len(exact) != 1 or len(words) != 1 or not words[0].startswith(exact[0]):
            raise self.error("fuzzy (%) works on one word, like ba%nana", at, n)
        if len(words[0]) == len(exact[0]):
            raise self.error(
                "fuzzy needs letters after the %, like ba%nana (to search 50%, write 50)", at, n
            )
        return exact[0] + "%" * edits + words[0][len(exact[0]) :]


def _unfolded_literal(pattern: str) -> int | None:
    """Index of a literal letter that no folded word holds (``A``, ``é``), or None."""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if pattern[i + 1 : i + 2] in ("p", "P") and pattern[i + 2 : i + 3] == "{":
                close = pattern.find("}", i)
                i = close + 1 if close > 0 else len(pattern)
            else:
                i += 2
            continue
        if c.isalpha() and text.fold(c) != c:
            return i
        i += 1
    return None
