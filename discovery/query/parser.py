"""Query text -> syntax tree (PRODUCT.md §3), with errors that point at a column.

A hand-written lexer keeps the character offsets of every token; a
precedence-climbing parser builds :mod:`discovery.query.ast` nodes. Tightest
first::

    or_expr   := and_expr (OR and_expr)*
    and_expr  := prox ((AND | AND NOT | NOT) prox)*     # 'a NOT b' = And(a, Not(b))
    prox      := unary ((W/N | PRE/N | NOT W/N) unary)*  # left-associative
    unary     := NOT unary | atom
    atom      := '(' or_expr ')' | field | date | text-run
    text-run  := adjacent words and quoted phrases -> ONE Phrase (one word -> Word)

Decisions, beyond PRODUCT.md:

* Words are folded with :mod:`discovery.text` (case and accents). ``*`` and
  ``?`` count as word characters while splitting query words, so ``pirat*`` is
  one pattern; a word that splits into several (``don't``, ``e-mail``) becomes a
  phrase. ``**`` is the same as ``*`` and is printed as ``*``. A pattern with no
  letter or digit (``*``, ``??``) is an error.
* Connectors are case-insensitive and only when bare: ``"not"`` is a word.
  ``w/N`` and ``pre/N`` need 1 <= N <= 999 (:data:`MAX_DISTANCE`; the gap between
  message versions is larger). A bare run starting ``w/`` or ``pre/`` is always
  read as a connector, so ``w/o`` is an error: quote it to search the words.
  ``NOT PRE/N`` does not exist (only ``NOT W/N``).
* Full-width forms (``ＮＯＴ``, ``＊``, ``？``, ``（``, ``＂``, the ideographic
  space) are read as their ASCII forms before anything else; the query is
  shown as typed in errors (the mapping keeps every column).
* Quotes: ``"`` and the typographic ``“ ” „ ‟ « » ‚ ‘`` (:data:`QUOTES`); any
  of them closes a quote opened by any other. ``’`` and ``'`` are apostrophes.
* Terms (:func:`discovery.query.ast.term_kind`): ``apply~`` (stem), ``ba%nana``
  (fuzzy: the letters before the first ``%`` exact, one difference per ``%``,
  at most :data:`discovery.query.terms.MAX_FUZZ`), ``12~~24`` (numeric range, bounds as written:
  whole numbers or decimals, low first), ``=`` (one digit, like ``?``),
  ``"##pattern"`` (a regular expression, quoted, over one folded word),
  ``xfirstword`` / ``xlastword`` (bare, only as an operand of ``w/N`` or
  ``pre/N``; quoted they are words).
* Syntax of other search languages that is not ours (:mod:`discovery.query.foreign`:
  ``NEAR/5``, ``/5``, ``w/s``, ``+word``, ``-word``, ``"a b"~5``, ``word^2``,
  ``#word``, ``&``, ``AndAny``, ``[1 TO 5]`` ...) is an error with a hint
  naming our form; it is never read as words.
* ``name:value`` is a field only at the start of a bare run and when ``name``
  is a known field (case-insensitive): ``speaker``, ``conversation`` (alias
  ``channel``), ``custodian``, ``platform``, ``tag``, or a date field ``sent``,
  ``after``, ``before``. Another name made of ASCII letters and followed by
  ``:`` and a letter, digit, wildcard or quote (``foo:bar``) is an "unknown
  field" error (quote it to search the words); anything else with a colon is
  just words (``http://x`` is the phrase ``http x``, ``10:30`` is ``10 30``).
  The value must follow the colon directly (a bare run or a quoted phrase).
* A field followed by a word with no connector (``speaker:alice smith``) is a
  "missing connector" error with a hint to quote the value. So are ``(a) b``
  and ``a (b)``.
* Dates: ``YYYY-MM-DD`` (a day in the display zone) or a timestamp with an
  offset ``YYYY-MM-DDTHH:MM[:SS[.ffffff]](Z|+HH:MM)``; years 1900-2199. They are
  stored normalized (``date.isoformat()`` / ``datetime.isoformat()``, so ``Z``
  prints as ``+00:00``). ``sent:A`` is ``DateRange('sent', A, A)``, ``after:A``
  is ``DateRange('after', A, None)``, ``before:B`` is
  ``DateRange('before', None, B)``. Open ranges (``sent:A..``) are errors: use
  ``after:``/``before:``. ``sent:B..A`` that is empty in every zone (B after
  A; with offsets, compared as instants) is an error.
* ``NOT`` binds tightest: ``NOT b w/5 c`` and ``a AND NOT b w/5 c`` are both
  errors (a NOT cannot be a proximity operand); write ``NOT (b w/5 c)``.
* Chat-aware proximity (:class:`~discovery.query.ast.ChatNear`): ``W/3MSG``,
  ``PRE/3MSG``, ``NOT W/3MSG``, ``W/10MIN``, ``W/2H``, ``W/1D`` (N from 1 to
  999, the unit glued to the number, case-insensitive), ``W/THREAD`` and
  ``W/CONVERSATION`` (also with ``NOT``; ``PRE/THREAD`` is refused: a unit on
  PRE/ needs a number). They have the precedence of ``w/N`` and chain with it
  left to right; their operands may be any query, but a NOT operand must be
  in parentheses (``(NOT a) W/3MSG b``: ``NOT a W/3MSG b`` is refused as
  ambiguous), and a chat group can never be an operand of word proximity
  (``w/N`` counts words inside one message). ``w/3 msg`` (a space before
  the unit) is refused rather than read as the word "msg".
* One side of ``w/N`` / ``pre/N`` may be an AND group when the other side is
  a word, phrase or OR group of those (dtSearch's rule); such a proximity
  group cannot itself be an operand of another proximity connector.
* Nested ``And``/``Or`` of the same kind are flattened, also through
  parentheses. Nesting (parentheses and ``NOT``) is limited to
  :data:`MAX_NESTING` levels.

Every problem raises :class:`~discovery.errors.QuerySyntaxError` with the
0-based column and length of the offending token; nothing else escapes
:func:`parse`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto

from discovery.errors import QuerySyntaxError
from discovery.query.ast import (
    DATE_FIELDS,
    FIRST_WORD,
    LAST_WORD,
    TEXT_FIELDS,
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
    has_chat,
    term_kind,
)
from discovery.query.dates import DateReader
from discovery.query.foreign import foreign
from discovery.query.terms import TermReader

MAX_DISTANCE = 999
"""Largest N in ``w/N`` (below :data:`discovery.text.VERSION_GAP`)."""

MAX_NESTING = 64
"""Deepest nesting of parentheses and NOTs (and longest proximity chain)."""

FIELD_ALIASES = {"channel": "conversation"}
"""Alternative field names and the field they stand for."""

QUOTES = '"“”„‟«»‚‘'
CONNECTOR_WORDS = frozenset({"and", "or", "not"})
EDGE_WORDS = {"xfirstword": FIRST_WORD, "xlastword": LAST_WORD}
"""Bare spellings of the built-in edge words (quoted, they are ordinary words)."""

_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_KNOWN_FIELDS = frozenset(TEXT_FIELDS) | frozenset(FIELD_ALIASES) | frozenset(DATE_FIELDS)
_FIELD_LIST = (
    "speaker, conversation (or channel), custodian, platform, tag, attachment, kind, sent,"
    " after, before"
)
_FIELD_RE = re.compile(r"([A-Za-z_]+):")
_PROX_RE = re.compile(r"(w|pre)/(.*)", re.IGNORECASE | re.DOTALL)
_UNITS = frozenset({"s", "p", "seg", "sent", "sentence", "para", "paragraph"})
_CHAT_RE = re.compile(r"([+-]?)([0-9]*)(.*)", re.DOTALL)
_NUMBER_UNITS = ("msg", "min", "h", "d")
_WHOLE_UNITS = ("thread", "conversation")
_SPACED_UNITS = frozenset({"msg", "msgs", "min", "mins"})
"""Unit spellings that, typed after ``w/N`` with a space, are refused rather than searched."""
_UNIT_HINT = "MSG (messages), MIN (minutes), H (hours) or D (days)"


def ascii_forms(query: str) -> str:
    """Full-width ASCII forms and the ideographic space as ASCII (one character each)."""
    return query.translate(_FULLWIDTH)


def parse(query: str) -> Node:
    """Parse ``query`` into a syntax tree.

    Raises:
        QuerySyntaxError: the query is not valid; ``column`` and ``length``
            point at the problem.
    """
    tokens = _Lexer(query).tokens()
    return _Parser(query, tokens).parse()


@dataclass(frozen=True, slots=True)
class Lexeme:
    """One token of a query as typed, for ``explain``: a connector, a word group, a field..."""

    kind: str
    """``word``, ``and``, ``or``, ``not``, ``near``, ``field``, ``lparen``, ``rparen``."""
    start: int
    end: int
    text: str
    quoted: bool = False
    words: tuple[str, ...] = ()


def lexemes(query: str) -> list[Lexeme]:
    """The tokens of a valid query with their spans (raises like :func:`parse`)."""
    return [
        Lexeme(t.kind.name.lower(), t.start, t.end, query[t.start : t.end], t.quoted, t.words)
        for t in _Lexer(query).tokens()
        if t.kind is not _Kind.EOF
    ]


# --------------------------------------------------------------------- tokens


class _Kind(Enum):
    WORD = auto()
    LPAREN = auto()
    RPAREN = auto()
    AND = auto()
    OR = auto()
    NOT = auto()
    NEAR = auto()
    FIELD = auto()
    EOF = auto()


_CONNECTORS = (_Kind.AND, _Kind.OR, _Kind.NOT, _Kind.NEAR)
_STARTERS = (_Kind.WORD, _Kind.LPAREN, _Kind.FIELD)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    start: int
    end: int
    words: tuple[str, ...] = ()
    distance: int = 0
    ordered: bool = False
    negated: bool = False
    node: Node | None = None
    quoted: bool = False
    unit: str = ""
    """For a chat-aware proximity connector, its unit (``msg``, ``min``, ``thread`` ...)."""

    def name(self) -> str:
        """The canonical spelling of a connector, for messages."""
        if self.kind is _Kind.NEAR:
            return near_name(self.distance, self.ordered, self.negated, self.unit)
        if self.kind is _Kind.FIELD:
            return "a field"
        return self.kind.name


def near_name(distance: int, ordered: bool, negated: bool, unit: str = "") -> str:
    """``W/5``, ``PRE/5``, ``NOT W/5``, ``W/3MSG``, ``W/THREAD``: the canonical spelling of a
    proximity connector (``unit`` empty for words)."""
    op = "PRE" if ordered else "W"
    amount = unit.upper() if unit in _WHOLE_UNITS else f"{distance}{unit.upper()}"
    return f"{'NOT ' if negated else ''}{op}/{amount}"


def _is_delim(c: str) -> bool:
    return c.isspace() or c in "()" or c in QUOTES


class _Lexer:
    def __init__(self, query: str) -> None:
        self.shown = query
        self.q = ascii_forms(query)
        self.n = len(query)
        self.out: list[_Token] = []
        self.terms_of = TermReader(self.error)
        self.dates = DateReader(self.error)

    def error(self, message: str, column: int, length: int = 1) -> QuerySyntaxError:
        return _error(message, self.shown, column, length)

    def tokens(self) -> list[_Token]:
        q, n = self.q, self.n
        i = 0
        while i < n:
            c = q[i]
            if c.isspace():
                i += 1
            elif c == "(":
                self.out.append(_Token(_Kind.LPAREN, i, i + 1))
                i += 1
            elif c == ")":
                self.out.append(_Token(_Kind.RPAREN, i, i + 1))
                i += 1
            elif c in QUOTES:
                content, end = self.quoted(i)
                if content.startswith("##"):
                    words: tuple[str, ...] = (self.terms_of.regex_term(content[2:], i + 3),)
                else:
                    words = self.terms_of.terms(content, i + 1)
                if not words:
                    raise self.error("empty quotes: put words between the quotes", i, end - i)
                self.out.append(_Token(_Kind.WORD, i, end, words=words, quoted=True))
                i = end
                if i < n and q[i] == "~":
                    j = self.run_end(i)
                    raise self.error(
                        f'phrase slop ("a b"{q[i:j]}) is not our syntax: use W/N between the'
                        ' words, e.g. "a" W/5 "b"',
                        i,
                        j - i,
                    )
            else:
                i = self.bare(i)
        self.out.append(_Token(_Kind.EOF, n, n))
        return self.out

    def quoted(self, i: int) -> tuple[str, int]:
        """The text between the quote at ``i`` and its partner, and the end offset."""
        j = i + 1
        while j < self.n and self.q[j] not in QUOTES:
            j += 1
        if j >= self.n:
            raise self.error('unterminated quote: add the closing "', i)
        return self.q[i + 1 : j], j + 1

    def run_end(self, i: int) -> int:
        j = i
        while j < self.n and not _is_delim(self.q[j]):
            j += 1
        return j

    def bare(self, i: int) -> int:
        q = self.q
        m = _FIELD_RE.match(q, i)
        if m:
            name = m.group(1).lower()
            after = q[m.end()] if m.end() < self.n else ""
            if name in _KNOWN_FIELDS:
                return self.field(i, name, m.end())
            if after and (after in QUOTES or after in "*?" or (after.isalnum())):
                value_end = self.run_end(m.end())
                if q[m.end() : value_end].replace(".", "").isdigit():
                    raise self.error(
                        f"term weighting ({q[i:value_end]}) is not supported: every term counts"
                        " the same",
                        i,
                        value_end - i,
                    )
                raise self.error(
                    f"unknown field {m.group(1)}: (known fields: {_FIELD_LIST});"
                    " quote it to search the words",
                    i,
                    len(m.group(1)),
                )
        j = self.run_end(i)
        raw = q[i:j]
        low = raw.lower()
        if low == "and":
            self.out.append(_Token(_Kind.AND, i, j))
        elif low == "or":
            self.out.append(_Token(_Kind.OR, i, j))
        elif low == "not":
            self.out.append(_Token(_Kind.NOT, i, j))
        elif pm := _PROX_RE.fullmatch(raw):
            self.proximity(i, j, pm)
        elif low in EDGE_WORDS:
            self.out.append(_Token(_Kind.WORD, i, j, words=(EDGE_WORDS[low],)))
        else:
            problem = foreign(raw)
            if problem is not None:
                at, length, message = problem
                raise self.error(message, i + at, length)
            words = self.terms_of.terms(raw, i)
            if not words:
                raise self.error(
                    f"{raw!r} is not a word or a connector (connectors: AND, OR, NOT, W/5, PRE/5)",
                    i,
                    j - i,
                )
            prev = self.out[-1] if self.out else None
            if low in _SPACED_UNITS and prev and prev.kind is _Kind.NEAR and not prev.unit:
                shown = prev.name().replace("NOT ", "")
                raise self.error(
                    f"{raw!r} right after {prev.name()}: write {shown}{low.rstrip('s').upper()}"
                    f' (no space) for chat proximity, or quote "{raw}" to search the word',
                    i,
                    j - i,
                )
            self.out.append(_Token(_Kind.WORD, i, j, words=words))
        return j

    def proximity(self, i: int, j: int, pm: re.Match[str]) -> None:
        op = pm.group(1).upper()
        digits = pm.group(2)
        if _is_chat_amount(digits):
            self.chat_proximity(i, j, op, digits)
            return
        if not digits:
            raise self.error(f"{op}/ needs a distance, like {op}/5", i, j - i)
        if digits.lower() in _UNITS:
            raise self.error(
                f"sentence and paragraph proximity ({pm.group(0)}) is not supported: use {op}/N"
                f" with a number of words, e.g. {op}/20",
                i,
                j - i,
            )
        if not (digits.isascii() and digits.isdigit()):
            raise self.error(
                f"{op}/ needs a whole number, like {op}/5 (quote {pm.group(0)!r} to search words)",
                i,
                j - i,
            )
        n = int(digits)
        if n < 1 or n > MAX_DISTANCE:
            raise self.error(f"{op}/N needs N between 1 and {MAX_DISTANCE}", i, j - i)
        self.near(i, j, op, n, "")

    def near(self, i: int, j: int, op: str, n: int, unit: str) -> None:
        ordered = op == "PRE"
        prev = self.out[-1] if self.out else None
        if not ordered and prev is not None and prev.kind is _Kind.NOT:
            self.out[-1] = _Token(_Kind.NEAR, prev.start, j, distance=n, negated=True, unit=unit)
        else:
            self.out.append(_Token(_Kind.NEAR, i, j, distance=n, ordered=ordered, unit=unit))

    def chat_proximity(self, i: int, j: int, op: str, amount: str) -> None:
        """``W/3MSG``, ``PRE/10MIN``, ``W/THREAD`` ... (``amount`` is what follows the slash)."""
        low = amount.lower()
        if low in _WHOLE_UNITS:
            if op == "PRE":
                raise self.error(
                    f"PRE/{amount.upper()} needs a number: a unit on PRE/ is a number of messages"
                    f" or a time (PRE/3MSG, PRE/10MIN); for the same {low} write W/{low.upper()}",
                    i,
                    j - i,
                )
            self.near(i, j, op, 0, low)
            return
        m = _CHAT_RE.fullmatch(amount)
        assert m is not None
        sign, digits, unit = m.group(1), m.group(2), m.group(3).lower()
        example = f"{op}/3MSG or {op}/10MIN"
        if unit not in _NUMBER_UNITS:
            hint = " (M is ambiguous: MIN or MSG?)" if unit == "m" else ""
            raise self.error(
                f"unknown unit {m.group(3)!r} in {op}/{amount.upper()}{hint}: use {_UNIT_HINT},"
                f" e.g. {example}",
                i,
                j - i,
            )
        if not digits:
            raise self.error(
                f"{op}/{amount.upper()} needs a number before the unit, like {op}/3{unit.upper()}",
                i,
                j - i,
            )
        n = int(digits)
        if sign or n < 1 or n > MAX_DISTANCE:
            same = " (for both in one message use AND)" if n == 0 and not sign else ""
            raise self.error(
                f"{op}/N{unit.upper()} needs N between 1 and {MAX_DISTANCE}{same}", i, j - i
            )
        self.near(i, j, op, n, unit)

    def field(self, i: int, name: str, v: int) -> int:
        q = self.q
        if v < self.n and q[v] in QUOTES:
            value, end = self.quoted(v)
            value_start = v + 1
        else:
            end = self.run_end(v)
            value, value_start = q[v:end], v
        if not value.strip():
            raise self.error(
                f"{name}: needs a value right after the colon, like {name}:"
                + ("2023-01-31" if name in DATE_FIELDS else "alice"),
                i,
                max(1, end - i),
            )
        if name in DATE_FIELDS:
            node: Node = self.dates.date(name, value, value_start)
        elif value.startswith("##"):
            raise self.error(f"{name}: takes words and wildcards (* ? =) only", v, end - v)
        else:
            words = self.terms_of.terms(value, value_start)
            if not words:
                raise self.error(f"{name}: needs a value with letters or digits", i, end - i)
            for w in words:
                if term_kind(w) not in ("word", "wildcard"):
                    raise self.error(
                        f"{name}: takes words and wildcards (* ? =) only", value_start, end - v
                    )
            node = Field(FIELD_ALIASES.get(name, name), words)
        self.out.append(_Token(_Kind.FIELD, i, end, node=node))
        return end


def _is_chat_amount(amount: str) -> bool:
    """Whether what follows ``w/`` or ``pre/`` is meant as a chat unit (``3msg``, ``thread``,
    ``msg``, ``3mg``), not a number of words or another language's unit (``s``, ``x``)."""
    m = _CHAT_RE.fullmatch(amount)
    assert m is not None
    sign, digits, unit = m.groups()
    low = unit.lower()
    return amount.lower() in _WHOLE_UNITS or low in _NUMBER_UNITS or bool((sign or digits) and unit)


def _error(message: str, query: str, column: int, length: int = 1) -> QuerySyntaxError:
    # Whitespace such as newlines and tabs becomes a space so the caret lines up
    # and the error stays three lines.
    shown = "".join(" " if c.isspace() else c for c in query)
    return QuerySyntaxError(message, shown, column, length)


# --------------------------------------------------------------------- parser


@dataclass(frozen=True, slots=True)
class _Parsed:
    node: Node
    start: int
    end: int
    grouped: bool = False
    """Written in parentheses."""


class _Parser:
    def __init__(self, query: str, tokens: list[_Token]) -> None:
        self.q = query
        self.toks = tokens
        self.i = 0
        self.depth = 0

    @property
    def peek(self) -> _Token:
        return self.toks[self.i]

    def advance(self) -> _Token:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def error(self, message: str, column: int, length: int = 1) -> QuerySyntaxError:
        return _error(message, self.q, column, length)

    def err_at(self, message: str, tok: _Token) -> QuerySyntaxError:
        return self.error(message, tok.start, tok.end - tok.start)

    def err_on(self, message: str, parsed: _Parsed) -> QuerySyntaxError:
        return self.error(message, parsed.start, parsed.end - parsed.start)

    def parse(self) -> Node:
        if self.peek.kind is _Kind.EOF:
            raise self.error("empty query: type some words", 0, max(1, len(self.q)))
        result = self.or_expr()
        tok = self.peek
        if tok.kind is _Kind.RPAREN:
            raise self.err_at("unbalanced ')': no '(' to close", tok)
        if tok.kind is not _Kind.EOF:  # pragma: no cover - and_expr reports these
            raise self.err_at("unexpected text", tok)
        return result.node

    def enter(self, tok: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.err_at(f"query is nested too deeply (more than {MAX_NESTING} levels)", tok)

    # or_expr := and_expr (OR and_expr)*
    def or_expr(self) -> _Parsed:
        first = self.and_expr()
        items = [first]
        while self.peek.kind is _Kind.OR:
            self.advance()
            items.append(self.and_expr())
        if len(items) == 1:
            return first
        return _Parsed(Or(_flatten(Or, items)), first.start, items[-1].end)

    # and_expr := prox ((AND | AND NOT | NOT) prox)*
    def and_expr(self) -> _Parsed:
        first = self.prox()
        items = [first]
        while True:
            tok = self.peek
            if tok.kind is _Kind.AND:
                self.advance()
                if self.peek.kind is _Kind.NOT:
                    items.append(self.negated(self.advance()))
                else:
                    items.append(self.prox())
            elif tok.kind is _Kind.NOT:
                items.append(self.negated(self.advance()))
            elif tok.kind in _STARTERS:
                prev = self.toks[self.i - 1]
                hint = ""
                if prev.kind is _Kind.FIELD and tok.kind is _Kind.WORD:
                    if isinstance(prev.node, DateRange):
                        hint = " (combine a date with words using AND)"
                    else:
                        hint = ' (to search a value with spaces, quote it: speaker:"alice smith")'
                raise self.err_at(f"missing connector: add AND, OR or NOT before this{hint}", tok)
            else:
                break
        if len(items) == 1:
            return first
        return _Parsed(And(_flatten(And, items)), first.start, items[-1].end)

    def negated(self, not_tok: _Token) -> _Parsed:
        """``NOT x`` after AND: NOT binds tighter than W/N, as everywhere."""
        self.enter(not_tok)
        operand = self.unary()
        self.depth -= 1
        parsed = _Parsed(Not(operand.node), not_tok.start, operand.end)
        if self.peek.kind is _Kind.NEAR:
            raise self.err_on(_not_operand(self.peek), parsed)
        self.no_edge(operand)
        return parsed

    # prox := unary ((W/N | PRE/N | NOT W/N) unary)*
    def prox(self) -> _Parsed:
        left = self.unary()
        chain = 0
        while self.peek.kind is _Kind.NEAR:
            op = self.advance()
            chain += 1
            if chain > MAX_NESTING:
                raise self.err_at(f"too many proximity connectors in a row (max {MAX_NESTING})", op)
            right = self.unary()
            if op.unit:
                self.check_chat_pair(left, right, op)
                node: Node = ChatNear(
                    left.node,
                    right.node,
                    op.unit,
                    op.distance,
                    op.ordered,
                    op.negated,  # type: ignore[arg-type]
                )
            else:
                self.check_pair(left, right, op)
                node = Near(left.node, right.node, op.distance, op.ordered, op.negated)
            left = _Parsed(node, left.start, right.end)
        if not chain:
            self.no_edge(left)
        return left

    def no_edge(self, parsed: _Parsed) -> None:
        if _is_edge(parsed.node):
            raise self.err_on(
                "xfirstword and xlastword work only as a side of W/N or PRE/N"
                " (e.g. apple W/5 xfirstword); quote it to search the word",
                parsed,
            )

    def check_chat_pair(self, left: _Parsed, right: _Parsed, op: _Token) -> None:
        """Operands of a chat connector: any query, a NOT only in parentheses, no edge word."""
        for operand in (left, right):
            if isinstance(operand.node, Not) and not operand.grouped:
                raise self.err_on(_not_operand(op), operand)
            if _is_edge(operand.node):
                raise self.err_on(
                    f"xfirstword and xlastword cannot be an operand of {op.name()}: they are"
                    " places inside one message (use them with W/N)",
                    operand,
                )

    def check_pair(self, left: _Parsed, right: _Parsed, op: _Token) -> None:
        name = op.name()
        for operand in (left, right):
            problem = _operand_problem(operand.node)
            if problem is not None:
                raise self.err_on(
                    f"{problem} cannot be an operand of {name} ({_PROBLEM_HINT[problem]})", operand
                )
            if isinstance(operand.node, Near) and _and_side(operand.node):
                raise self.err_on(
                    f"a proximity group with an AND group on one side cannot be an operand of"
                    f" {name}; combine them with AND",
                    operand,
                )
        for one, other in ((left, right), (right, left)):
            if isinstance(one.node, And):
                if op.negated:
                    raise self.err_on(f"an AND group cannot be a side of {name}", one)
                if _complex(other.node):
                    raise self.err_on(
                        f"an AND group on one side of {name} needs a word, phrase or OR group"
                        " on the other (both sides complex is ambiguous, as dtSearch warns)",
                        other,
                    )
        if _is_edge(left.node) and _is_edge(right.node):
            raise self.err_on(f"{name} needs a word on at least one side", right)
        if op.negated and _is_edge(left.node):
            raise self.err_on(f"xfirstword and xlastword cannot be the left side of {name}", left)

    # unary := NOT unary | atom
    def unary(self) -> _Parsed:
        tok = self.peek
        if tok.kind is _Kind.NOT:
            self.advance()
            self.enter(tok)
            operand = self.unary()
            self.depth -= 1
            self.no_edge(operand)
            return _Parsed(Not(operand.node), tok.start, operand.end)
        return self.atom()

    def atom(self) -> _Parsed:
        tok = self.peek
        prev = self.toks[self.i - 1] if self.i else None
        if tok.kind is _Kind.LPAREN:
            self.advance()
            if self.peek.kind is _Kind.RPAREN:
                close = self.peek
                raise self.error(
                    "empty group: put a query between ( and )", tok.start, close.end - tok.start
                )
            self.enter(tok)
            inner = self.or_expr()
            self.depth -= 1
            close = self.peek
            if close.kind is not _Kind.RPAREN:
                raise self.err_at("unbalanced '(': add the closing ')'", tok)
            self.advance()
            return _Parsed(inner.node, tok.start, close.end, grouped=True)
        if tok.kind is _Kind.FIELD:
            self.advance()
            assert tok.node is not None
            return _Parsed(tok.node, tok.start, tok.end)
        if tok.kind is _Kind.WORD:
            words: list[str] = []
            start = tok.start
            end = tok.end
            while self.peek.kind is _Kind.WORD:
                w = self.advance()
                words.extend(w.words)
                end = w.end
            if len(words) > 1 and any(w in (FIRST_WORD, LAST_WORD) for w in words):
                raise self.error(
                    "xfirstword and xlastword cannot be part of a phrase; use W/N or PRE/N",
                    start,
                    end - start,
                )
            node: Node = Word(words[0]) if len(words) == 1 else Phrase(tuple(words))
            return _Parsed(node, start, end)
        # Nothing we can start an operand with.
        prev_is_conn = prev is not None and prev.kind in _CONNECTORS
        if tok.kind in (_Kind.EOF, _Kind.RPAREN):
            if prev_is_conn:
                assert prev is not None
                raise self.err_at(f"{prev.name()} has nothing after it", prev)
            if prev is not None and prev.kind is _Kind.LPAREN and tok.kind is _Kind.EOF:
                raise self.err_at("unbalanced '(': add the closing ')'", prev)
            raise self.err_at("unbalanced ')': no '(' to close", tok)
        # A connector where an operand should be.
        if prev_is_conn:
            assert prev is not None
            raise self.err_at(f"{tok.name()} cannot follow {prev.name()}", tok)
        raise self.err_at(f"{tok.name()} needs a word or group before it", tok)


_PROBLEM_HINT = {
    "an AND group inside an OR group": "ambiguous",
    "NOT": "write NOT (a W/5 b) or a AND NOT b instead",
    "a field": "combine fields with AND",
    "a date": "combine dates with AND",
    "xfirstword or xlastword inside a group": "use it directly: apple W/5 xfirstword",
    "a chat proximity group": "W/N counts words inside one message; put the word proximity"
    " inside the chat group instead, e.g. (a W/5 b) W/3MSG c",
}


def _not_operand(op: _Token) -> str:
    """The error for a bare NOT as an operand of the proximity connector ``op``."""
    if not op.unit:
        return f"NOT cannot be an operand of {op.name()} ({_PROBLEM_HINT['NOT']})"
    return (
        f"NOT as an operand of {op.name()} is ambiguous: write (NOT a) {op.name()} b for"
        f" messages without a near b, or NOT (a {op.name()} b)"
    )


def _is_edge(node: Node) -> bool:
    return isinstance(node, Word) and node.text in (FIRST_WORD, LAST_WORD)


def _operand_problem(node: Node, top: bool = True) -> str | None:
    """Why ``node`` cannot be a proximity operand, or None if it can."""
    if isinstance(node, Word):
        return None if top or not _is_edge(node) else "xfirstword or xlastword inside a group"
    if isinstance(node, ChatNear):
        return "a chat proximity group"
    if isinstance(node, Phrase):
        return None
    if isinstance(node, Near):
        return next(
            (p for p in (_chat_inside(node.left), _chat_inside(node.right)) if p is not None),
            None,
        )
    if isinstance(node, Or | And):
        for item in node.items:
            if isinstance(item, And):
                return "an AND group inside an OR group"
            problem = _operand_problem(item, False)
            if problem is not None:
                return problem
        return None
    if isinstance(node, Not):
        return "NOT"
    if isinstance(node, Field):
        return "a field"
    return "a date"


def _chat_inside(node: Node) -> str | None:
    """The problem of a chat group nested in a word-proximity operand (None when none is)."""
    return "a chat proximity group" if has_chat(node) else None


def _complex(node: Node) -> bool:
    """An AND group, a proximity group, or an OR group holding one."""
    if isinstance(node, And | Near):
        return True
    return isinstance(node, Or) and any(_complex(i) for i in node.items)


def _and_side(node: Near) -> bool:
    return isinstance(node.left, And) or isinstance(node.right, And)


def _flatten(kind: type[And] | type[Or], items: list[_Parsed]) -> tuple[Node, ...]:
    out: list[Node] = []
    for item in items:
        if isinstance(item.node, kind):
            out.extend(item.node.items)
        else:
            out.append(item.node)
    return tuple(out)
