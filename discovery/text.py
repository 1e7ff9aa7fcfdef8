"""Word tokenization shared by the index, the query parser, the verifier and snippets.

One definition of "a word" keeps the index, the exact verifier and the query
parser in agreement (docs/QUERY.md, "Words", says the same for users):

* the text is NFKC-normalised first (``ﬁ`` -> ``fi``, full-width ``Ａ`` -> ``A``,
  a decomposed ``é`` -> ``é``), and invisible characters are dropped: the soft
  hyphen, ZWJ/ZWNJ, the direction marks, every other format character (Unicode
  category Cf) except the zero-width space (which separates words), the Arabic
  tatweel, the combining grapheme joiner and variation selectors;
* a word is a maximal run of letters, digits and combining marks (categories
  L, N, M), so Arabic harakat, Hebrew niqqud and Indic vowel signs stay inside
  their word. Everything else separates words, including the underscore and the
  apostrophes ``'`` ``’`` ``ʼ`` (U+02BC is a letter to Unicode and is read as an
  apostrophe here): ``don't`` is ``don`` + ``t``;
* Han, Hiragana, Katakana and Thai (:data:`SOLO_RANGES`, the ranges of
  Relativity's default ``CJKRanges`` plus the other Han blocks) are one word per
  character, with any marks that follow it; a Latin run glued to them is a word
  of its own: ``来自Libgen`` is ``来`` ``自`` ``libgen``;
* words are folded (:func:`fold`): case-folded, decomposed (NFKD), stripped of
  combining marks (canonical combining class > 0: accents, harakat, niqqud,
  virama, tone marks; the spacing vowel signs of Indic scripts stay), letters
  that do not decompose mapped by :data:`FOLD_TABLE` (``ł`` -> ``l``, ``ß`` ->
  ``ss``, ``æ`` -> ``ae`` ...), then recomposed (NFC);
* no word is ever dropped: no stop words, no minimum length;
* positions count words from 0. Prior versions of an edited message are
  indexed after the current text, each starting :data:`VERSION_GAP` positions
  after the previous one ends, so no phrase or proximity search can match
  across two versions.

Token offsets (``start``/``end``) index the text as given, before
normalisation, so snippets highlight the characters the reader sees.

:data:`TOKENIZER_VERSION` changes whenever these rules change what words a
text yields; each matter and each audit entry records it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import regex

TOKENIZER_VERSION = 2
"""1: runs of letters and digits, accents folded (before issue 8). 2: the rules above."""

VERSION_GAP = 1000
"""Positions left between the versions of one message (larger than any N in w/N)."""

SOLO_RANGES = (
    (0x0E01, 0x0E4E),  # Thai letters, vowels and tone marks
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x1B000, 0x1B16F),  # Kana supplement and extended
    (0x20000, 0x3134F),  # CJK extensions B-G
)
"""Scripts written without spaces: each letter (with its marks) is one word."""

FOLD_TABLE = {
    "ł": "l",
    "ø": "o",
    "đ": "d",
    "ð": "d",
    "ħ": "h",
    "ı": "i",
    "ŧ": "t",
    "ŋ": "n",
    "ƒ": "f",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "ß": "ss",
    "ĸ": "q",
}
"""Letters that NFKD leaves whole, and what they fold to (their capitals case-fold to them)."""

NEWER_LETTERS = (
    (0x558, 0x558), (0x58B, 0x58C), (0x5C8, 0x5C9), (0x88F, 0x88F), (0x897, 0x897),
    (0xB53, 0xB54), (0xC5C, 0xC5C), (0xCDC, 0xCDC), (0xCF3, 0xCF3), (0xECE, 0xECE),
    (0x1ACF, 0x1AF0), (0x1C89, 0x1C8A), (0x208F, 0x208F), (0x209D, 0x209F), (0xA7CB, 0xA7CF),
    (0xA7D2, 0xA7D2), (0xA7D4, 0xA7D4), (0xA7DA, 0xA7DD), (0xA7E2, 0xA7E2), (0xA7F1, 0xA7F1),
    (0xAB6C, 0xAB6D), (0x105C0, 0x105F3), (0x107BB, 0x107BF), (0x10940, 0x10959),
    (0x10D40, 0x10D65), (0x10D69, 0x10D6D), (0x10D6F, 0x10D85), (0x10EC2, 0x10EC7),
    (0x10ECB, 0x10ECF), (0x10ED9, 0x10EEE), (0x10EF0, 0x10EFF), (0x1123F, 0x11241),
    (0x11380, 0x11389), (0x1138B, 0x1138B), (0x1138E, 0x1138E), (0x11390, 0x113B5),
    (0x113B7, 0x113C0), (0x113C2, 0x113C2), (0x113C5, 0x113C5), (0x113C7, 0x113CA),
    (0x113CC, 0x113D3), (0x113E1, 0x113E2), (0x116D0, 0x116E3), (0x11B0A, 0x11B0A),
    (0x11B60, 0x11B67), (0x11BC0, 0x11BE0), (0x11BF0, 0x11BF9), (0x11DB0, 0x11DDB),
    (0x11DE0, 0x11DE9), (0x11DF0, 0x11DF1), (0x11F00, 0x11F10), (0x11F12, 0x11F3A),
    (0x11F3E, 0x11F42), (0x11F50, 0x11F5A), (0x1246F, 0x1246F), (0x12475, 0x1247F),
    (0x12550, 0x12686), (0x1342F, 0x1342F), (0x13440, 0x13455), (0x13460, 0x143FA),
    (0x16100, 0x16139), (0x16D40, 0x16D6C), (0x16D70, 0x16D79), (0x16EA0, 0x16EB8),
    (0x16EBB, 0x16ED3), (0x16FF2, 0x16FF6), (0x187F8, 0x187FF), (0x18CD6, 0x18CDA),
    (0x18CFF, 0x18CFF), (0x18D09, 0x18D20), (0x18D80, 0x18DF2), (0x18E00, 0x19191),
    (0x191A0, 0x191D2), (0x1B123, 0x1B128), (0x1B132, 0x1B132), (0x1B155, 0x1B155),
    (0x1B168, 0x1B168), (0x1CCF0, 0x1CCF9), (0x1D127, 0x1D128), (0x1D250, 0x1D252),
    (0x1D25B, 0x1D25C), (0x1D25F, 0x1D25F), (0x1D280, 0x1D281), (0x1D2C0, 0x1D2D3),
    (0x1D6A6, 0x1D6A6), (0x1DF1F, 0x1DF81), (0x1DF90, 0x1DF96), (0x1DFCD, 0x1DFFF),
    (0x1E030, 0x1E06D), (0x1E08F, 0x1E08F), (0x1E4D0, 0x1E4F9), (0x1E5D0, 0x1E5FA),
    (0x1E6C0, 0x1E6DE), (0x1E6E0, 0x1E6F5), (0x1E6FE, 0x1E6FF), (0x2B739, 0x2B73F),
    (0x2B81E, 0x2B81E), (0x2CEA2, 0x2CEAD), (0x2EBF0, 0x2EE5D), (0x31350, 0x33479),
    (0x3D000, 0x3FC3F),
)  # fmt: skip
"""Letters, digits and marks to the ``regex`` module that Python's ``unicodedata``
(Unicode 14.0 on Python 3.11) does not know as such. They are not word characters,
so words are found by the categories of the one Unicode version that also
normalises and folds them (a test recomputes this table)."""

_NEWER_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in NEWER_LETTERS)
_SOLO_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in SOLO_RANGES)


@cache
def _unicode_re(pattern: str) -> regex.Pattern[str]:
    """``pattern`` compiled with the ``regex`` module (version 1), on first use.

    Only text that is not ASCII needs these patterns (ASCII text has no invisible
    character, no ``ʼ`` and no letter outside ``[A-Za-z0-9]``), so the module
    itself (~15 ms) is imported then, not by every fresh ``discovery search``."""
    import regex

    return regex.compile(pattern, regex.V1)


@cache
def _word_re() -> regex.Pattern[str]:
    """What a word is (the module notes). Compiled on the first text that is not ASCII:
    it takes ~20 ms, a twentieth of a fresh ``discovery search``."""
    return _unicode_re(
        rf"[[{_SOLO_CLASS}]&&[\p{{L}}\p{{N}}\p{{M}}]--[{_NEWER_CLASS}]][\p{{M}}--[{_NEWER_CLASS}]]*"
        # A mark always stays with the letter before it, even a mark from a solo range
        # (a kana voicing mark after a Latin letter).
        rf"|[[\p{{L}}\p{{N}}\p{{M}}]--[{_SOLO_CLASS}{_NEWER_CLASS}]]"
        rf"(?:[[\p{{L}}\p{{N}}\p{{M}}]--[{_SOLO_CLASS}{_NEWER_CLASS}]]|[\p{{M}}--[{_NEWER_CLASS}]])*"
    )


_ASCII_WORD_RE = re.compile(r"[A-Za-z0-9]+")
""":func:`_word_re` on ASCII text: its only letters, digits and marks are these."""
_APOSTROPHE = "\u02bc"
_FOLD_TRANS = str.maketrans(FOLD_TABLE)
_INVISIBLE_CLASS = r"[\p{Cf}--\u200b]\u0640\u034f\ufe00-\ufe0f\U000e0100-\U000e01ef"
_INVISIBLE = f"[{_INVISIBLE_CLASS}]"
_SPECIAL = f"[{_INVISIBLE_CLASS}\u02bc]"
_KEPT_MARKS = frozenset("\u3099\u309a")
"""Kana voicing marks: ガ and カ are different letters, not an accent apart."""


def is_invisible(c: str) -> bool:
    """Whether ``c`` is dropped before words are found (see the module notes)."""
    return _unicode_re(_INVISIBLE).fullmatch(c) is not None


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: its folded form, position, character span, and version.

    ``version`` is 0 for a message's current text and n for its n-th prior
    version (see :func:`version_tokens`); ``start``/``end`` index that version
    as given (before normalisation).
    """

    text: str
    pos: int
    start: int
    end: int
    version: int = 0


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Fold one word: case-fold, drop combining marks, map :data:`FOLD_TABLE`, NFC."""
    folded = word.casefold()
    if folded.isascii():
        return folded
    # Repeat until stable: NFKD can expose letters that fold further ("ᴬ" -> "A"
    # -> "a"), and fold(fold(w)) must equal fold(w) so that a query word printed
    # in canonical form parses back to the same word.
    for _ in range(4):
        decomposed = unicodedata.normalize("NFKD", folded)
        bare = "".join(c for c in decomposed if c in _KEPT_MARKS or not unicodedata.combining(c))
        again = unicodedata.normalize("NFC", bare.translate(_FOLD_TRANS).casefold())
        if again == folded:
            break
        folded = again
    return folded


def normalize(text: str) -> str:
    """NFKC of ``text`` with invisible characters dropped and ``ʼ`` read as ``'``."""
    return _normalized(text)[0]


def _normalized(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """The normalised text and, unless it equals ``text``, for each of its
    characters the start and end offset in ``text`` of the piece it came from."""
    if text.isascii():
        return text, None, None
    if unicodedata.is_normalized("NFKC", text) and not _unicode_re(_SPECIAL).search(text):
        return text, None, None
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for a, b in _pieces(text):
        piece = _unicode_re(_INVISIBLE).sub("", text[a:b])
        norm = unicodedata.normalize("NFKC", piece).replace(_APOSTROPHE, "'")
        out.append(norm)
        starts.extend([a] * len(norm))
        ends.extend([b] * len(norm))
    return "".join(out), starts, ends


def _pieces(text: str) -> Iterator[tuple[int, int]]:
    """Spans of ``text`` that NFKC can normalise one at a time.

    A piece starts at each character that nothing before it can compose with
    or reorder around (:func:`_starts_piece`), so the pieces' NFKC forms,
    joined, are the NFKC form of the whole text (a test checks this).
    """
    start = 0
    for i in range(1, len(text)):
        if _starts_piece(text[i]):
            yield start, i
            start = i
    if text:
        yield start, len(text)


SECOND_STARTERS = frozenset(
    chr(c)
    for c in (
        *range(0x1161, 0x1176),  # Hangul vowel jamo
        *range(0x11A8, 0x11C3),  # Hangul final jamo
        0x09BE, 0x09D7, 0x0B3E, 0x0B56, 0x0B57, 0x0BBE, 0x0BD7, 0x0CC2, 0x0CD5, 0x0CD6,
        0x0D3E, 0x0D57, 0x0DCF, 0x0DDF, 0x0FB5, 0x0FB7, 0x102E, 0x1B35, 0x11127, 0x1133E,
        0x11357, 0x114B0, 0x114BA, 0x114BD, 0x115AF, 0x11930,
    )
)  # fmt: skip
"""Characters of combining class 0 that compose with the character before them (NFC)."""


@lru_cache(maxsize=65536)
def _starts_piece(c: str) -> bool:
    if c.isascii() or c == _APOSTROPHE:
        return True
    if unicodedata.combining(c) or c in SECOND_STARTERS or _unicode_re(_INVISIBLE).match(c):
        # An invisible character is dropped, so what follows it may compose with
        # what came before it ("a", soft hyphen, combining acute is "á").
        return False
    first = unicodedata.normalize("NFKD", c)[:1]
    return not unicodedata.combining(first) and first not in SECOND_STARTERS


def tokenize(text: str, first_pos: int = 0, version: int = 0) -> Iterator[Token]:
    """Yield the words of ``text`` with positions starting at ``first_pos``."""
    norm, starts, ends = _normalized(text)
    pos = first_pos
    for m in (_ASCII_WORD_RE if norm.isascii() else _word_re()).finditer(norm):
        word = fold(m.group())
        if not word:  # a lone combining mark: nothing left to search
            continue
        if starts is None or ends is None:
            start, end = m.start(), m.end()
        else:
            start, end = starts[m.start()], ends[m.end() - 1]
        yield Token(word, pos, start, end, version)
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


_ASCII_WORD_RE = re.compile(r"[0-9A-Za-z]+")
"""The words of an ASCII text by the rules above: runs of letters and digits (no ASCII
character is a mark, a solo-range letter or invisible), folded by lower-casing."""


def word_positions(versions: Iterable[str]) -> tuple[dict[str, list[int]], int]:
    """The positions of each word of a message's versions, as :func:`version_tokens`
    numbers them, and how many words there are: what the index stores of a message,
    without a :class:`Token` per word (ASCII texts take a shorter path, same words)."""
    where: dict[str, list[int]] = {}
    pos = count = 0
    for i, text in enumerate(versions):
        if i:
            pos += VERSION_GAP
        if text.isascii():
            found = _ASCII_WORD_RE.findall(text.lower())
        else:
            found = [tok.text for tok in tokenize(text)]
        for p, word in enumerate(found, pos):
            ps = where.get(word)
            if ps is None:
                where[word] = [p]
            else:
                ps.append(p)
        pos += len(found)
        count += len(found)
    return where, count
