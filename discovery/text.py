"""Word tokenization shared by the index, the query parser and the verifier.

One definition of "a word" keeps the index, the exact verifier and the query
parser in agreement:

* a word is a maximal run of letters and digits (Unicode aware); every other
  character, including the underscore, the apostrophe and the hyphen, separates
  words. ``don't`` is the two words ``don`` and ``t``;
* words are folded: lower-cased (``casefold``) and stripped of accents
  (``Línea`` -> ``linea``, ``Straße`` -> ``strasse``);
* no word is ever dropped: no stop words, no minimum length;
* positions count words from 0. Prior versions of an edited message are
  indexed after the current text, each starting :data:`VERSION_GAP` positions
  after the previous one ends, so no phrase or proximity search can match
  across two versions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

WORD_RE = re.compile(r"[^\W_]+")
VERSION_GAP = 1000
"""Positions left between the versions of one message (larger than any N in w/N)."""


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: its folded form, position, character span, and version.

    ``version`` is 0 for a message's current text and n for its n-th prior
    version (see :func:`version_tokens`); ``start``/``end`` index that version.
    """

    text: str
    pos: int
    start: int
    end: int
    version: int = 0


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Fold one word: case-fold, then drop combining accents."""
    folded = word.casefold()
    if folded.isascii():
        return folded
    # Repeat until stable: NFKD can expose letters that fold further ("ᴬ" -> "A"
    # -> "a", "ϲ" -> "ς" -> "σ"), and fold(fold(w)) must equal fold(w) so that a
    # query word printed in canonical form parses back to the same word.
    for _ in range(4):
        decomposed = unicodedata.normalize("NFKD", folded)
        again = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        if again == folded:
            break
        folded = again
    return folded


def tokenize(text: str, first_pos: int = 0, version: int = 0) -> Iterator[Token]:
    """Yield the words of ``text`` with positions starting at ``first_pos``."""
    pos = first_pos
    for m in WORD_RE.finditer(text):
        word = fold(m.group())
        # NFKD can split one character into several words' worth (e.g. "½"):
        # keep only letters and digits so the index and the verifier agree.
        if not word.isalnum():
            parts = WORD_RE.findall(word)
            for part in parts:
                yield Token(part, pos, m.start(), m.end(), version)
                pos += 1
            continue
        yield Token(word, pos, m.start(), m.end(), version)
        pos += 1


def words(text: str) -> list[str]:
    """The folded words of ``text`` in order."""
    return [t.text for t in tokenize(text)]


def version_tokens(versions: Iterable[str]) -> Iterator[Token]:
    """Tokens of a message's versions (current first), separated by the gap."""
    pos = 0
    for i, text in enumerate(versions):
        if i:
            pos += VERSION_GAP
        last = pos - 1
        for tok in tokenize(text, pos, i):
            last = tok.pos
            yield tok
        pos = last + 1
