"""A deliberately naive evaluator of query trees, to check discovery's tokenizer and verifier.

Written from PRODUCT.md §3 and docs/QUERY.md without looking at discovery's
code or data structures, and importing none of it but the syntax tree
(``discovery.query.ast``):

* its own tokenizer: drop the invisible characters, NFKC the whole text, then
  walk it one character at a time by Unicode category (no regular
  expressions), with its own table of the one-word-per-character ranges and
  its own folding;
* occurrences found by scanning every start index and every pair with nested
  loops; wildcards matched by a recursive backtracking matcher; stemming by
  ``snowballstemmer`` (a second implementation of the Snowball English
  stemmer); fuzzy words by a Levenshtein table; numeric ranges with
  :class:`fractions.Fraction`; regular expressions with the standard ``re``;
* dates decided by converting the message's time to the display zone and
  comparing calendar dates;
* chat-aware proximity (``W/3MSG``, ``PRE/10MIN``, ``W/THREAD`` ...) by
  :func:`evaluate_all` over the whole corpus: each conversation's main line
  and each thread written out as Python lists, and every pair of a left and a
  right message compared, distances as list-index differences and times as
  ``timedelta`` differences (docs/QUERY.md, "Chat-aware proximity").

Slow on purpose; must not import ``discovery.text``, ``discovery.query.verify``
or ``discovery.candidates``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, timedelta, tzinfo
from fractions import Fraction
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import snowballstemmer

from discovery.model import UNDATED
from discovery.query.ast import (
    FIRST_WORD,
    LAST_WORD,
    And,
    ChatNear,
    DateRange,
    Field,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Word,
)

if TYPE_CHECKING:
    from discovery.matter import Matter

GAP = 1000
"""Positions between two versions of a message (docs/QUERY.md)."""

# ------------------------------------------------------------------ tokenizer

_ALONE = [
    (0x0E01, 0x0E4E),
    (0x3005, 0x3007),
    (0x3040, 0x30FF),
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x1B000, 0x1B16F),
    (0x20000, 0x3134F),
]
_LETTERS = {
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


def _dropped(c: str) -> bool:
    o = ord(c)
    if c == "\u200b":
        return False
    return (
        unicodedata.category(c) == "Cf"
        or o in (0x0640, 0x034F)
        or 0xFE00 <= o <= 0xFE0F
        or 0xE0100 <= o <= 0xE01EF
    )


def _alone(c: str) -> bool:
    return any(lo <= ord(c) <= hi for lo, hi in _ALONE)


def ref_fold(word: str) -> str:
    w = word
    for _ in range(5):
        low = w.casefold()
        kept = "".join(
            c
            for c in unicodedata.normalize("NFKD", low)
            if c in "\u3099\u309a" or unicodedata.combining(c) == 0
        )
        mapped = "".join(_LETTERS.get(c, c) for c in kept).casefold()
        nxt = unicodedata.normalize("NFC", mapped)
        if nxt == w:
            break
        w = nxt
    return w


def ref_words(text: str) -> list[str]:
    """The folded words of ``text``, found one character at a time."""
    kept = "".join(c for c in text if not _dropped(c))
    norm = unicodedata.normalize("NFKC", kept).replace("\u02bc", "'")
    found: list[str] = []
    current: list[str] = []
    current_alone = False

    def flush() -> None:
        if current:
            found.append("".join(current))
            current.clear()

    for c in norm:
        cat = unicodedata.category(c)[0]
        if cat == "M" and current:
            current.append(c)
        elif cat in "LNM" and _alone(c):
            flush()
            current.append(c)
            current_alone = True
        elif cat in "LNM":
            if current_alone:
                flush()
            current_alone = False
            current.append(c)
        else:
            flush()
            current_alone = False
    flush()
    out = []
    for w in found:
        f = ref_fold(w)
        if f:
            out.append(f)
    return out


def ref_tokens(versions: list[str]) -> tuple[list[tuple[int, str]], list[tuple[int, int]]]:
    """(position, word) of every version's words, and each version's first/last position."""
    toks: list[tuple[int, str]] = []
    edges: list[tuple[int, int]] = []
    nxt = 0
    for i, v in enumerate(versions):
        if i:
            nxt += GAP
        ws = ref_words(v)
        for k, w in enumerate(ws):
            toks.append((nxt + k, w))
        if ws:
            edges.append((nxt, nxt + len(ws) - 1))
            nxt += len(ws)
    return toks, edges


# ------------------------------------------------------------------ messages


@dataclass
class RefMessage:
    versions: list[str]
    fields: dict[str, list[str]]
    sent_at: datetime
    tokens: list[tuple[int, str]] = dataclass_field(default_factory=list)
    edges: list[tuple[int, int]] = dataclass_field(default_factory=list)
    id: int = 0
    conversation: int = 0
    thread_root: int | None = None
    system: bool = False
    parent: int | None = None
    """The parent message of a family member (an attachment's text), read from the store's
    ``family_members`` table; None for a message."""

    def __post_init__(self) -> None:
        self.tokens, self.edges = ref_tokens(self.versions)


def refs_from_matter(matter: Matter) -> list[RefMessage]:
    """Every stored message of ``matter`` as a RefMessage, in id order (index = id - 1).

    ``kind`` and ``attachment`` come from the case store's ``family_members`` rows
    (read here with SQL, not through discovery's model)."""
    members = {
        mid: (parent, name)
        for mid, parent, name in matter.store.db.execute(
            "SELECT message_id, parent_id, name FROM family_members"
        )
    }
    stored = matter.store.messages(range(1, matter.store.max_message_id() + 1))
    roots = {m.id: m.thread_root for m in stored}
    return [
        RefMessage(
            list(m.searchable_versions()),
            {
                "speaker": [m.speaker, m.speaker_id],
                "conversation": [m.conversation],
                "platform": [m.platform],
                "custodian": list(m.custodians),
                "tag": list(m.tags),
                "kind": ["attachment" if m.id in members else "message"],
                "attachment": [members[m.id][1]] if m.id in members else [],
            },
            m.sent_at,
            id=m.id,
            conversation=m.conversation_id,
            # an attachment sits where its parent does: a reply's attachments in its thread
            thread_root=roots[members[m.id][0]] if m.id in members else m.thread_root,
            system=m.system,
            parent=members[m.id][0] if m.id in members else None,
        )
        for m in stored
    ]


# ------------------------------------------------------------------ terms

_stemmer = snowballstemmer.stemmer("english")


def _units(word: str, i: int) -> list[int]:
    """End indexes of one character (a non-mark and the marks after it) starting at ``i``."""
    if i >= len(word):
        return []
    j = i + 1
    if unicodedata.category(word[i])[0] == "M":
        while j < len(word) and unicodedata.category(word[j])[0] == "M":
            j += 1
        return list(range(i + 1, j + 1))
    ends = [j]
    while j < len(word) and unicodedata.category(word[j])[0] == "M":
        j += 1
        ends.append(j)
    return ends


def _wild(pattern: str, word: str) -> bool:
    @cache
    def go(p: int, w: int) -> bool:
        if p == len(pattern):
            return w == len(word)
        c = pattern[p]
        if c == "*":
            return any(go(p + 1, k) for k in range(w, len(word) + 1))
        if c == "?":
            return any(go(p + 1, k) for k in _units(word, w))
        if w >= len(word):
            return False
        if c == "=":
            return word[w].isdecimal() and go(p + 1, w + 1)
        return word[w] == c and go(p + 1, w + 1)

    return go(0, 0)


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            cur = min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
            prev, row[j] = row[j], cur
    return row[-1]


@lru_cache(maxsize=1_000_000)
def term_ok(term: str, word: str) -> bool:
    """Whether folded ``word`` matches one query term (docs/QUERY.md, "Terms")."""
    if term.startswith("##"):
        return re.fullmatch(term[2:], word) is not None
    if "~~" in term:
        lo, hi = term.split("~~")
        if not word or not all(c.isdecimal() for c in word):
            return False
        value = 0
        for c in word:
            value = value * 10 + unicodedata.decimal(c)
        return Fraction(lo) <= value <= Fraction(hi)
    if term.endswith("~"):
        return _stemmer.stemWord(word) == _stemmer.stemWord(term[:-1])
    if "%" in term:
        head = term.split("%")[0]
        return word.startswith(head) and _levenshtein(word, term.replace("%", "")) <= term.count(
            "%"
        )
    if any(c in term for c in "*?="):
        return _wild(term, word)
    return term == word


# ------------------------------------------------------------------ occurrences

_Occ = tuple[int, int, frozenset[int]]


def _term_positions(term: str, msg: RefMessage) -> list[int]:
    if term == FIRST_WORD:
        return [first - 1 for first, _ in msg.edges]
    if term == LAST_WORD:
        return [last + 1 for _, last in msg.edges]
    return [p for p, w in msg.tokens if term_ok(term, w)]


def _occurrences(node: Node, msg: RefMessage) -> set[_Occ]:
    if isinstance(node, Word):
        return {(p, p, frozenset([p])) for p in _term_positions(node.text, msg)}
    if isinstance(node, Phrase):
        k = len(node.words)
        found = set()
        toks = msg.tokens
        for i in range(len(toks) - k + 1):
            window = toks[i : i + k]
            consecutive = all(window[j][0] == window[0][0] + j for j in range(k))
            if consecutive and all(term_ok(node.words[j], window[j][1]) for j in range(k)):
                found.add((window[0][0], window[-1][0], frozenset(p for p, _ in window)))
        return found
    if isinstance(node, Or):
        found = set()
        for item in node.items:
            found |= _occurrences(item, msg)
        return found
    if isinstance(node, Near):
        if isinstance(node.left, And) or isinstance(node.right, And):
            return _group_near(node, msg)
        lefts = _occurrences(node.left, msg)
        rights = _occurrences(node.right, msg)
        if node.negated:
            return {a for a in lefts if not any(_near(a, b, node.distance, False) for b in rights)}
        found = set()
        for a in lefts:
            for b in rights:
                if _near(a, b, node.distance, node.ordered):
                    found.add((min(a[0], b[0]), max(a[1], b[1]), a[2] | b[2]))
        return found
    raise AssertionError(f"bad proximity operand {node!r}")


def _group_near(node: Near, msg: RefMessage) -> set[_Occ]:
    group_left = isinstance(node.left, And)
    group = node.left if group_left else node.right
    assert isinstance(group, And)
    others = _occurrences(node.right if group_left else node.left, msg)
    per_item = [_occurrences(item, msg) for item in group.items]
    found = set()
    for c in others:
        ok = True
        for occs in per_item:
            if node.ordered:
                hit = (
                    any(_near(x, c, node.distance, True) for x in occs)
                    if group_left
                    else any(_near(c, x, node.distance, True) for x in occs)
                )
            else:
                hit = any(_near(x, c, node.distance, False) for x in occs)
            if not hit:
                ok = False
        if ok:
            found.add(c)
    return found


def _near(a: _Occ, b: _Occ, n: int, ordered: bool) -> bool:
    """a and b share no word and are within n (ordered: a wholly before b)."""
    if a[2] & b[2]:
        return False
    if a[1] < b[0]:
        return b[0] - a[1] <= n
    if ordered:
        return False
    if b[1] < a[0]:
        return a[0] - b[1] <= n
    return True  # their spans overlap without a common word


# ------------------------------------------------------------------ the rest


def _date_ok(node: DateRange, msg: RefMessage, tz: tzinfo) -> bool:
    if msg.sent_at == UNDATED:  # a message without a time is in no date range
        return False
    local_day = msg.sent_at.astimezone(tz).date()

    def at_or_after(bound: str) -> bool:
        if "T" in bound:
            return msg.sent_at >= datetime.fromisoformat(bound)
        return local_day >= date.fromisoformat(bound)

    def at_or_before(bound: str) -> bool:
        if "T" in bound:
            return msg.sent_at <= datetime.fromisoformat(bound)
        return local_day <= date.fromisoformat(bound)

    def strictly_before(bound: str) -> bool:
        if "T" in bound:
            return msg.sent_at < datetime.fromisoformat(bound)
        return local_day < date.fromisoformat(bound)

    if node.name == "after":
        assert node.start is not None
        return at_or_after(node.start)
    if node.name == "before":
        assert node.end is not None
        return strictly_before(node.end)
    assert node.start is not None and node.end is not None
    return at_or_after(node.start) and at_or_before(node.end)


def _field_ok(node: Field, msg: RefMessage) -> bool:
    name = "conversation" if node.name == "channel" else node.name
    values = list(msg.fields.get(name, []))
    if name == "conversation":
        values += msg.fields.get("channel", [])
    k = len(node.words)
    for value in values:
        ws = _value_words(value)
        if name == "tag" and len(ws) != k:  # the whole tag, never a word of a longer one
            continue
        for i in range(len(ws)):
            if i + k <= len(ws) and all(term_ok(node.words[j], ws[i + j]) for j in range(k)):
                return True
    return False


@lru_cache(maxsize=100_000)
def _value_words(value: str) -> tuple[str, ...]:
    """A field value's words (names repeat on every message of a speaker: read each once)."""
    return tuple(ref_words(value))


def evaluate(node: Node, msg: RefMessage, tz: tzinfo) -> bool:
    """Whether ``msg`` matches ``node``."""
    if isinstance(node, And):
        return all(evaluate(item, msg, tz) for item in node.items)
    if isinstance(node, Or):
        return any(evaluate(item, msg, tz) for item in node.items)
    if isinstance(node, Not):
        return not evaluate(node.item, msg, tz)
    if isinstance(node, Field):
        return _field_ok(node, msg)
    if isinstance(node, DateRange):
        return _date_ok(node, msg, tz)
    return len(_occurrences(node, msg)) > 0


# ------------------------------------------------------------------ chat-aware proximity


_ANSWERS: dict[tuple[int, Node, str], frozenset[int]] = {}
"""(id(refs), node, zone) -> the ids matching a message-level node (sides repeat across queries)."""


def evaluate_all(node: Node, refs: list[RefMessage], tz: tzinfo) -> set[int]:
    """The ids of every message of ``refs`` matching ``node``, chat-aware groups included."""
    if not _has_chat(node):
        key = (id(refs), node, str(tz))
        if key not in _ANSWERS:
            _ANSWERS[key] = frozenset(r.id for r in refs if evaluate(node, r, tz))
        return set(_ANSWERS[key])
    if isinstance(node, And):
        sets = [evaluate_all(item, refs, tz) for item in node.items]
        return set.intersection(*sets)
    if isinstance(node, Or):
        return set().union(*(evaluate_all(item, refs, tz) for item in node.items))
    if isinstance(node, Not):
        return {r.id for r in refs} - evaluate_all(node.item, refs, tz)
    assert isinstance(node, ChatNear)
    left = evaluate_all(node.left, refs, tz)
    right = evaluate_all(node.right, refs, tz)
    by_id = {r.id: r for r in refs}
    lefts = [by_id[i] for i in sorted(left) if not by_id[i].system]
    rights = [by_id[i] for i in sorted(right) if not by_id[i].system]
    if node.negated:
        return {
            a.id
            for a in lefts
            if _placed(a, node, refs) and not any(_pair(a, b, node, refs) for b in rights)
        }
    found: set[int] = set()
    for a in lefts:
        for b in rights:
            if _pair(a, b, node, refs):
                found.update((a.id, b.id))
    return found


def _has_chat(node: Node) -> bool:
    if isinstance(node, ChatNear):
        return True
    if isinstance(node, And | Or):
        return any(_has_chat(i) for i in node.items)
    if isinstance(node, Not):
        return _has_chat(node.item)
    return False  # word proximity never holds a chat group (the parser refuses it)


_SEQUENCES: dict[int, dict[int, list[tuple[int, int]]]] = {}
"""id(refs) -> message id -> (sequence number, index in it) of every sequence holding it."""


def _sequences(refs: list[RefMessage]) -> dict[int, list[tuple[int, int]]]:
    """Main lines and threads written out as lists: each message -> where it is in them."""
    key = id(refs)
    if key not in _SEQUENCES:
        live = [r for r in refs if not r.system]
        with_replies = {r.thread_root for r in live if r.thread_root}
        lines: dict[tuple[str, int], list[RefMessage]] = {}
        for r in live:
            if r.thread_root:
                lines.setdefault(("thread", r.thread_root), []).append(r)
            else:
                lines.setdefault(("main", r.conversation), []).append(r)
                if (r.parent or r.id) in with_replies:
                    lines.setdefault(("thread", r.id), []).append(r)
        holding: dict[int, list[tuple[int, int]]] = {}
        for number, members in enumerate(lines.values()):
            ordered = [m.id for m in sorted(members, key=lambda m: (m.sent_at, m.id))]
            for index, mid in enumerate(ordered):
                holding.setdefault(mid, []).append((number, index))
        _SEQUENCES[key] = holding
    return _SEQUENCES[key]


def _thread(r: RefMessage) -> int:
    return r.thread_root or r.parent or r.id


def _placed(a: RefMessage, node: ChatNear, refs: list[RefMessage]) -> bool:
    """Whether ``a`` can be near anything at all in ``node``'s unit."""
    if node.unit in ("min", "h", "d"):
        return a.sent_at != UNDATED
    return True


def _pair(a: RefMessage, b: RefMessage, node: ChatNear, refs: list[RefMessage]) -> bool:
    """Whether left message ``a`` and right message ``b`` qualify (docs/QUERY.md)."""
    if a.conversation != b.conversation:
        return False
    if node.unit == "conversation":
        return True
    if node.unit == "thread":
        return _thread(a) == _thread(b)
    if node.unit == "msg":
        places = _sequences(refs)
        for seq_a, at_a in places.get(a.id, []):
            for seq_b, at_b in places.get(b.id, []):
                gap = at_b - at_a
                lowest = 0 if node.ordered else -node.distance
                if seq_a == seq_b and lowest <= gap <= node.distance:
                    return True
        return False
    if a.sent_at == UNDATED or b.sent_at == UNDATED:
        return False
    span = timedelta(minutes=node.distance) * {"min": 1, "h": 60, "d": 1440}[node.unit]
    gap_t = b.sent_at - a.sent_at
    return (timedelta(0) <= gap_t if node.ordered else -span <= gap_t) and gap_t <= span
