"""Syntax of other search languages that is not ours, and the hint naming our form.

dtSearch, Relativity, Lucene/Elasticsearch, KQL, Westlaw and Lexis forms
(``NEAR/5``, ``/5``, ``+word``, ``-word``, ``word^2``, ``#word``, ``&``,
``AndAny``, ``[1 TO 5]`` ...): :func:`foreign` recognises one in a bare run
of a query so that the parser refuses it rather than reading it as words
(tests/test_foreign_syntax.py lists them).
"""

from __future__ import annotations

import re

_FOREIGN_WORDS = {
    "andany": "AndAny (optional words) is not supported: use AND for words that must be there,"
    " OR for either",
    "onear": "ONEAR is not our syntax: use PRE/N (in order), e.g. PRE/5",
    "xrank": "XRANK (ranking) is not supported; search the words with AND or OR",
    "formsof": "FORMSOF is not our syntax: use apply~ for the forms of a word",
    "contains": "'field CONTAINS value' is not our syntax: use a field, e.g. speaker:smith"
    ' (quote "contains" to search the word)',
}
_FOREIGN_UPPER = {
    "NEAR": "NEAR is not our syntax: use W/N (either order) or PRE/N (in order), e.g. W/5",
    "ADJ": "ADJ is not our syntax: use PRE/N, e.g. PRE/1 for the next word",
    "WITHIN": "WITHIN is not our syntax: use W/N, e.g. W/5",
    "SAME": "SAME is not our syntax: use W/N with a number of words, e.g. W/20",
    "BUT": "BUT NOT is not our syntax: use AND NOT",
}
_FOREIGN_RE: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"(?:not|and|or)/[0-9]+", re.I),
        "{raw} is not our syntax: use W/{num} (within {num} words), or NOT W/{num} (with"
        " none within {num} words)",
    ),
    (
        re.compile(r"(?:near|adj|within|wi|onear)\W*\d+|near\(\d*\)", re.I),
        "{raw} is not our syntax: use W/N (either order) or PRE/N (in order), e.g. W/5",
    ),
    (re.compile(r"atl(?:east)?\d+.*", re.I), "ATLEAST is not supported: use AND"),
    (re.compile(r"/[0-9]+"), "{raw} is not our syntax: use W/{num} (within {num} words)"),
    (
        re.compile(r"/(?:s|p|seg)", re.I),
        "sentence and paragraph proximity ({raw}) is not supported: use W/N with a number of"
        " words, e.g. W/20",
    ),
    (
        re.compile(r"/.+/"),
        "/regex/ is not our syntax: a regular expression goes in quotes after"
        ' ##, e.g. "##199[0-9]"',
    ),
    (re.compile(r"/.*"), "a bare / is not our syntax: use W/N or PRE/N, e.g. W/5"),
    (
        re.compile(r"\+(?:[0-9]+|s|p)", re.I),
        "{raw} (Westlaw) is not our syntax: use PRE/N, e.g. PRE/5",
    ),
    (
        re.compile(r"\+.*"),
        "+word is not our syntax: every word is required already; join words with AND",
    ),
    (re.compile(r"-+"), "a bare - is not our syntax: use NOT"),
    (re.compile(r"-.+"), "-word is not our syntax: use NOT (e.g. a AND NOT {rest})"),
    (re.compile(r"!.+"), "!word is not our syntax: use NOT (e.g. a AND NOT {rest})"),
    (
        re.compile(r"[^!]+!+"),
        "the root expander ! is not our syntax: use * (e.g. {stem}*)",
    ),
    (re.compile(r"&&?"), "{raw} is not our syntax: use AND"),
    (re.compile(r"\|\|?"), "{raw} is not our syntax: use OR"),
    (re.compile(r"%+"), "a bare % is not our syntax: use AND NOT (fuzzy words look like ba%nana)"),
]
_FOREIGN_CHARS: list[tuple[str, str]] = [
    ("&", "synonym searching (&) is not supported: list the words with OR"),
    ("##", 'a regular expression goes in quotes, e.g. "##199[0-9]"'),
    (
        "#",
        "phonic searching (#word) is not supported: search the spellings with OR; to search"
        " the word, leave out the # (a channel: channel:NAME)",
    ),
    ("^", "boosting (word^2) is not supported: every term counts the same"),
    ("\\", "backslash escapes are not supported: quote words to search them as words"),
    ("[", "ranges in brackets are not our syntax: use 12~~24 for numbers, sent:A..B for dates"),
    ("]", "ranges in brackets are not our syntax: use 12~~24 for numbers, sent:A..B for dates"),
    ("{", "ranges in braces are not our syntax: use 12~~24 for numbers, sent:A..B for dates"),
    ("}", "ranges in braces are not our syntax: use 12~~24 for numbers, sent:A..B for dates"),
    ("<", "comparisons (<, >) are not supported: use 12~~24 for numbers, after:/before: for dates"),
    (">", "comparisons (<, >) are not supported: use 12~~24 for numbers, after:/before: for dates"),
    ("|", "| is not our syntax: use OR"),
    ("!", "! is not our syntax: use NOT for a negation, * for word endings"),
]


# leading punctuation is no part of a word (`:author=smith` reads as the word author=smith)
_FIELD_EQUALS = re.compile(r"[\W_]*([^\W\d_]+)=([^\W\d_=].*)")
_FIELDS = (
    "speaker",
    "conversation",
    "channel",
    "custodian",
    "platform",
    "tag",
    "attachment",
    "kind",
)


def foreign(raw: str) -> tuple[int, int, str] | None:
    """A bare run that is syntax of another search language: (offset, length, message)."""
    low = raw.lower()
    if low in _FOREIGN_WORDS:
        return 0, len(raw), _FOREIGN_WORDS[low]
    if raw in _FOREIGN_UPPER:
        return 0, len(raw), _FOREIGN_UPPER[raw]
    field = _FIELD_EQUALS.fullmatch(raw)
    if field:  # KQL's author=smith; our = is a digit wildcard, never between two letters
        name, value = field.group(1).lower(), field.group(2)
        hint = (
            f"e.g. {name}:{value}"
            if name in _FIELDS
            else "speaker:, conversation:, custodian:, platform:, tag:, attachment:, kind:; for the"
            " words, leave out the ="
        )
        return 0, len(raw), f"{raw} is not our syntax: a field is NAME:value ({hint})"
    if raw.startswith("@"):
        return 0, len(raw), "macros (@name) are not supported; to find a mention, search the name"
    for rx, message in _FOREIGN_RE:
        if rx.fullmatch(raw):
            rest = raw.lstrip("-!")
            num = "".join(c for c in raw if c.isdigit()) or "5"
            return 0, len(raw), message.format(raw=raw, rest=rest, num=num, stem=raw.rstrip("!"))
    for chars, message in _FOREIGN_CHARS:
        at = raw.find(chars)
        if at >= 0:
            return at, len(chars), message
    return None
