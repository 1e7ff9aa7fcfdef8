"""Query parser and canonical printing: valid trees, errors with columns, round trips."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from discovery.errors import QuerySyntaxError
from discovery.query.ast import And, DateRange, Field, Near, Node, Not, Or, Phrase, Word
from discovery.query.parser import MAX_NESTING, parse
from discovery.query.unparse import unparse

W = Word


def P(*words: str) -> Phrase:
    return Phrase(words)


VALID: list[tuple[str, Node]] = [
    ("apple", W("apple")),
    ("Línea", W("linea")),
    ("ᴬᴮc", W("abc")),  # folds to a fixed point (text.fold), so it prints back the same
    ("STRASSE OR Straße", Or((W("strasse"), W("strasse")))),
    ("ask forgiveness", P("ask", "forgiveness")),
    ('"ask forgiveness"', P("ask", "forgiveness")),
    ('"ask for permission"', P("ask", "for", "permission")),
    ('ask "for" permission', P("ask", "for", "permission")),
    ('"ask forgiveness not permission"', P("ask", "forgiveness", "not", "permission")),
    ('"and"', W("and")),
    ('"w/5"', P("w", "5")),
    ("don't", P("don", "t")),
    ("e-mail", P("e", "mail")),
    ("http://example.com", P("http", "example", "com")),
    ("10:30", P("10", "30")),
    ('"foo:bar"', P("foo", "bar")),
    ("“smart quotes”", P("smart", "quotes")),
    ("pirat*", W("pirat*")),
    ("p?rate", W("p?rate")),
    ("pi**te", W("pi*te")),
    ('"pirat* books"', P("pirat*", "books")),
    ("a AND b", And((W("a"), W("b")))),
    ("a and b", And((W("a"), W("b")))),
    ("a Or b", Or((W("a"), W("b")))),
    ("a AND b AND c", And((W("a"), W("b"), W("c")))),
    ("a AND (b AND c)", And((W("a"), W("b"), W("c")))),
    ("(a OR b) OR c", Or((W("a"), W("b"), W("c")))),
    (
        "a AND b OR c AND d",
        Or((And((W("a"), W("b"))), And((W("c"), W("d"))))),
    ),
    ("a AND (b OR c)", And((W("a"), Or((W("b"), W("c")))))),
    ("a NOT b", And((W("a"), Not(W("b"))))),
    ("a and not b", And((W("a"), Not(W("b"))))),
    ("NOT a", Not(W("a"))),
    ("NOT NOT a", Not(Not(W("a")))),
    ("NOT a AND b", And((Not(W("a")), W("b")))),
    ("a OR NOT b", Or((W("a"), Not(W("b"))))),
    ("(a AND b) w/5 c", Near(And((W("a"), W("b"))), W("c"), 5)),
    ("c pre/5 (a AND b)", Near(W("c"), And((W("a"), W("b"))), 5, ordered=True)),
    ("ask forgiveness not permission", And((P("ask", "forgiveness"), Not(W("permission"))))),
    ("a w/5 b", Near(W("a"), W("b"), 5)),
    ("a W/05 b", Near(W("a"), W("b"), 5)),
    ("a pre/3 b", Near(W("a"), W("b"), 3, ordered=True)),
    ("a not w/2 b", Near(W("a"), W("b"), 2, negated=True)),
    ("a NOT W/999 b", Near(W("a"), W("b"), 999, negated=True)),
    ("a w/5 b pre/3 c", Near(Near(W("a"), W("b"), 5), W("c"), 3, ordered=True)),
    ("a w/5 (b pre/3 c)", Near(W("a"), Near(W("b"), W("c"), 3, ordered=True), 5)),
    ("(a OR b) w/5 c", Near(Or((W("a"), W("b"))), W("c"), 5)),
    ('"ask forgiveness" w/2 permission', Near(P("ask", "forgiveness"), W("permission"), 2)),
    ("ask forgiveness w/2 permission", Near(P("ask", "forgiveness"), W("permission"), 2)),
    ("a w/5 b AND c", And((Near(W("a"), W("b"), 5), W("c")))),
    ("a OR b w/5 c", Or((W("a"), Near(W("b"), W("c"), 5)))),
    ("NOT (a w/5 b)", Not(Near(W("a"), W("b"), 5))),
    ("speaker:alice", Field("speaker", ("alice",))),
    ("Speaker:Alice", Field("speaker", ("alice",))),
    ('speaker:"Alice Smith"', Field("speaker", ("alice", "smith"))),
    ("speaker:o'brien", Field("speaker", ("o", "brien"))),
    ("channel:gen*", Field("conversation", ("gen*",))),
    ("conversation:Línea", Field("conversation", ("linea",))),
    (
        "custodian:bob AND platform:slack",
        And((Field("custodian", ("bob",)), Field("platform", ("slack",)))),
    ),
    ("tag:and", Field("tag", ("and",))),
    ("NOT tag:privileged", Not(Field("tag", ("privileged",)))),
    ("sent:2023-01-01..2023-03-31", DateRange("sent", "2023-01-01", "2023-03-31")),
    ("sent:2023-01-05", DateRange("sent", "2023-01-05", "2023-01-05")),
    ("sent:2023-01-05..2023-01-05", DateRange("sent", "2023-01-05", "2023-01-05")),
    ("after:2023-01-01", DateRange("after", "2023-01-01", None)),
    ("before:2023-04-01", DateRange("before", None, "2023-04-01")),
    (
        "after:2023-01-05T10:00:00+02:00",
        DateRange("after", "2023-01-05T10:00:00+02:00", None),
    ),
    ("before:2023-01-05t10:00z", DateRange("before", None, "2023-01-05T10:00:00+00:00")),
    (
        "sent:2023-01-05..2023-01-06T08:30:00.5-05:00",
        DateRange("sent", "2023-01-05", "2023-01-06T08:30:00.500000-05:00"),
    ),
    (
        "deal AND sent:2023-01-01..2023-01-31 NOT speaker:bob",
        And(
            (
                W("deal"),
                DateRange("sent", "2023-01-01", "2023-01-31"),
                Not(Field("speaker", ("bob",))),
            )
        ),
    ),
    ("((a))", W("a")),
    ("  a\tAND\nb  ", And((W("a"), W("b")))),
]


@pytest.mark.parametrize(("query", "expected"), VALID)
def test_valid_queries(query: str, expected: Node) -> None:
    node = parse(query)
    assert node == expected
    assert parse(unparse(node)) == node


CANONICAL = [
    ("a and b or c and d", "(a AND b) OR (c AND d)"),
    ("a not b", "a AND NOT b"),
    ("a not w/5 b", "a NOT W/5 b"),
    ("a w/5 b pre/3 c", "a W/5 b PRE/3 c"),
    ("a w/5 (b pre/3 c)", "a W/5 (b PRE/3 c)"),
    ("(a or b) w/5 c", "(a OR b) W/5 c"),
    ("x and a w/5 b", "x AND (a W/5 b)"),
    ("not (a w/5 b)", "NOT (a W/5 b)"),
    ("not (a or b)", "NOT (a OR b)"),
    ('"and" or "NOT"', '"and" OR "not"'),
    ("ask forgiveness", '"ask forgiveness"'),
    ('speaker:"alice smith"', 'speaker:"alice smith"'),
    ("channel:x", "conversation:x"),
    ("sent:2023-01-05..2023-01-05", "sent:2023-01-05"),
    ("after:2023-01-05T10:00Z", "after:2023-01-05T10:00:00+00:00"),
]


@pytest.mark.parametrize(("query", "canonical"), CANONICAL)
def test_canonical_form(query: str, canonical: str) -> None:
    assert unparse(parse(query)) == canonical
    assert unparse(parse(canonical)) == canonical


MALFORMED: list[tuple[str, int, str]] = [
    ("(", 0, "unbalanced '('"),
    ("a AND ( ", 6, "unbalanced '('"),
    # query, 0-based column of the caret, a fragment of the message
    ("", 0, "empty query"),
    ("   ", 0, "empty query"),
    ("a AND", 2, "AND has nothing after it"),
    ("OR b", 0, "OR needs a word"),
    ("a w/5", 2, "W/5 has nothing after it"),
    ("a AND OR b", 6, "OR cannot follow AND"),
    ("a w/5 AND b", 6, "AND cannot follow W/5"),
    ("(a AND b", 0, "unbalanced '('"),
    ("a AND (b OR (c)", 6, "unbalanced '('"),
    ("a AND b)", 7, "unbalanced ')'"),
    (")", 0, "unbalanced ')'"),
    ('a "ask for', 2, "unterminated quote"),
    ('a ""', 2, "empty quotes"),
    ('" - "', 0, "empty quotes"),
    ("a w/ b", 2, "needs a distance"),
    ("a w/x b", 2, "whole number"),
    ("a w/0 b", 2, "between 1 and 999"),
    ("a pre/99999 b", 2, "between 1 and 999"),
    ("(a AND b) w/5 (c AND d)", 14, "an AND group on one side of W/5 needs a word"),
    ("(a AND b) w/5 (c w/2 d)", 14, "an AND group on one side of W/5 needs a word"),
    ("c pre/2 (a OR b AND d)", 8, "an AND group inside an OR group cannot be an operand of PRE/2"),
    ("a NOT b w/5 c", 2, "NOT cannot be an operand of W/5"),
    ("a AND NOT b w/5 c", 6, "NOT cannot be an operand of W/5"),
    ("c w/5 NOT a", 6, "NOT cannot be an operand of W/5"),
    ("NOT a w/5 b", 0, "NOT cannot be an operand of W/5"),
    ("a not w/3 speaker:bob", 10, "a field cannot be an operand of NOT W/3"),
    ("sent:2023-01-01 w/5 b", 0, "a date cannot be an operand"),
    ("foo:bar", 0, "unknown field"),
    ('a AND Foo:"x"', 6, "unknown field"),
    ("speaker: alice", 0, "needs a value"),
    ("speaker:", 0, "needs a value"),
    ('tag:""', 0, "needs a value"),
    ("sent:2023-02-30", 5, "bad date"),
    ("sent:2023-01-01..2023-13-01", 17, "bad date"),
    ("after:2023-01-05T10:00", 6, "bad date"),
    ("before:1066-10-14", 7, "out of range"),
    ("sent:2023-03-01..2023-01-01", 5, "reversed"),
    ("sent:2023-03-01..", 5, "both sides"),
    ("a *", 2, "wildcard needs at least one letter"),
    ('"books ??"', 7, "wildcard needs at least one letter"),
    ("speaker:*", 8, "wildcard needs at least one letter"),
    ("a AND ( )", 6, "empty group"),
    ("(a) b", 4, "missing connector"),
    ("a (b)", 2, "missing connector"),
    ("speaker:alice smith", 14, "quote it"),
    ("a && b", 2, "&& is not our syntax: use AND"),
    ("a NOT pre/5 b", 6, "PRE/5 cannot follow NOT"),
    ("(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1), MAX_NESTING, "nested too deeply"),
]


@pytest.mark.parametrize(("query", "column", "message"), MALFORMED)
def test_malformed_queries_point_at_the_problem(query: str, column: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    err = info.value
    assert err.column == column
    assert message in err.message
    lines = str(err).split("\n")
    assert len(lines) == 3
    assert lines[0].startswith(f"query error at column {column + 1}: ")
    assert lines[1] == query.replace("\t", " ").replace("\n", " ")
    caret = lines[2]
    assert caret.index("^") == column
    assert set(caret[column:]) == {"^"} and len(caret) == column + err.length


def test_error_length_covers_the_token() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse("a w/99999 b")
    assert (info.value.column, info.value.length) == (2, 7)
    with pytest.raises(QuerySyntaxError) as info:
        parse("(a AND b) w/5 (c w/2 d)")
    assert (info.value.column, info.value.length) == (14, 9)


def test_newlines_in_query_keep_the_error_on_three_lines() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse("a AND\nOR b")
    assert str(info.value).count("\n") == 2
    assert info.value.column == 6


# ------------------------------------------------------------------ properties


def _check_round_trip(query: str) -> None:
    try:
        node = parse(query)
    except QuerySyntaxError:
        return
    text = unparse(node)
    again = parse(text)
    assert again == node, (query, text)
    assert unparse(again) == text


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
@example(":A=A")  # found by hypothesis: read as the word a=a, whose text is refused
def test_any_text_parses_or_raises_query_syntax_error(query: str) -> None:
    _check_round_trip(query)


PIECES = [
    "a", "B", "Línea", "pirat*", "p?t", "*", "??", "don't", "e-mail", "x1", "and", "AND",
    "Or", "or", "not", "NOT", "w/5", "W/1", "pre/3", "PRE/12", "w/0", "w/", "w/x", "not w/2",
    "(", ")", "()", '"ask for"', '"and or"', '""', '"', "“x”", "speaker:alice",
    'speaker:"a b"', "channel:x*", "tag:and", "foo:bar", "http://x", "10:30", "sent:2023-01-01",
    "sent:2023-01-01..2023-02-01", "sent:2023-02-01..2023-01-01", "after:2023-01-01T10:00Z",
    "before:2023-02-30", "&&", "-", ":", "speaker:", "a:b",
]  # fmt: skip


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from([" ", " ", ""])), max_size=12))
def test_grammar_like_queries_round_trip(parts: list[tuple[str, str]]) -> None:
    _check_round_trip("".join(piece + sep for piece, sep in parts))


_WORDS = st.sampled_from(["a", "b", "linea", "pirat*", "p?t", "and", "not", "or", "w5", "x1"])
_PROX_LEAF = st.one_of(
    _WORDS.map(Word),
    st.lists(_WORDS, min_size=2, max_size=3).map(lambda ws: Phrase(tuple(ws))),
)
_NEAR_KIND = st.sampled_from([(False, False), (True, False), (False, True)])


def _flat(kind: type[And] | type[Or], items: list[Node]) -> Node:
    out: list[Node] = []
    for item in items:
        out.extend(item.items if isinstance(item, kind) else [item])
    return kind(tuple(out))


def _near(left: Node, right: Node, n: int, kind: tuple[bool, bool]) -> Near:
    return Near(left, right, n, ordered=kind[0], negated=kind[1])


_PROX = st.recursive(
    _PROX_LEAF,
    lambda inner: st.one_of(
        st.builds(_near, inner, inner, st.integers(1, 999), _NEAR_KIND),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: _flat(Or, xs)),
    ),
    max_leaves=6,
)
_LEAF = st.one_of(
    _PROX,
    st.builds(Field, st.sampled_from(["speaker", "tag", "conversation"]), st.tuples(_WORDS)),
    st.just(Field("speaker", ("alice", "smith"))),
    st.just(DateRange("sent", "2023-01-01", "2023-02-01")),
    st.just(DateRange("after", "2023-01-05T10:00:00+00:00", None)),
    st.just(DateRange("before", None, "2023-04-01")),
)
_TREES = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: _flat(And, xs)),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: _flat(Or, xs)),
    ),
    max_leaves=10,
)


@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(_TREES)
def test_unparse_of_any_tree_parses_back(node: Node) -> None:
    text = unparse(node)
    assert parse(text) == node, text
    assert unparse(parse(text)) == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
@example("".join(map(chr, range(128))))  # every ASCII character
def test_ascii_query_text_is_cut_into_terms_as_the_full_pattern_cuts_it(s: str) -> None:
    """An ASCII run is cut into terms without the `regex` module (start-up): the same
    chunks, at the same offsets, as the pattern that reads every other run."""
    from discovery.query import terms

    def cut(rx: object) -> list[tuple[int, int]]:
        return [m.span() for m in rx.finditer(s)]  # type: ignore[attr-defined]

    assert cut(terms._ASCII_CHUNK_RE) == cut(terms._chunk_re())
