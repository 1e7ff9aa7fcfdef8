"""The exact verifier: unit cases, and agreement with a brute-force reference."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discovery.query.ast import And, DateRange, Field, Near, Node, Not, Or, Phrase, Word
from discovery.query.parser import parse
from discovery.query.verify import Doc, date_bounds, hit_positions, matches, wildcard_regex
from discovery.text import VERSION_GAP
from tests.reference_eval import RefMessage, evaluate

NY = ZoneInfo("America/New_York")
T0 = datetime(2023, 6, 1, 12, 0, tzinfo=UTC)


def doc(*versions: str, sent_at: datetime = T0, **fields: list[str]) -> Doc:
    return Doc.build(list(versions), fields, sent_at)


def m(query: str, d: Doc, tz: ZoneInfo = NY) -> bool:
    return matches(parse(query), d, tz)


# ------------------------------------------------------------------ unit cases


def test_doc_build_folds_and_positions_versions() -> None:
    d = doc("Hola Línea línea", "old text")
    assert d.positions["linea"] == [1, 2]
    assert d.positions["old"] == [3 + VERSION_GAP]
    assert d.sent_at.tzinfo is UTC


def test_doc_build_fields_and_alias() -> None:
    d = doc("x", speaker=["Carol O'Brien"], channel=["Deal Room"], tag=["hot", "needs review"])
    assert d.fields["speaker"] == [("carol", "o", "brien")]
    assert d.fields["conversation"] == [("deal", "room")]
    assert d.fields["tag"] == [("hot",), ("needs", "review")]


def test_doc_build_rejects_naive_time() -> None:
    with pytest.raises(ValueError):
        Doc.build(["x"], {}, datetime(2023, 1, 1))


@pytest.mark.parametrize(
    ("pattern", "word", "expected"),
    [
        ("pirat*", "pirate", True),
        ("pirat*", "pirat", True),
        ("pirat*", "apirate", False),
        ("p?rate", "pirate", True),
        ("p?rate", "prate", False),
        ("*ate", "pirate", True),
        ("a.b", "axb", False),
    ],
)
def test_wildcard_regex(pattern: str, word: str, expected: bool) -> None:
    assert (wildcard_regex(pattern).match(word) is not None) is expected
    assert wildcard_regex(pattern) is wildcard_regex(pattern)  # cached


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("linea", "Línea directa", True),
        ("LÍNEA", "linea", True),
        ('"ask for permission"', "ask for permission", True),
        ('"ask for permission"', "ask permission", False),
        ("ask forgiveness", "we ask forgiveness", True),
        ("don't", "I don't know", True),
        ("don't", "don know t", False),
        ('"pirat* books"', "pirated books here", True),
        ('"pirat* books"', "pirated old books", False),
        ("a w/1 b", "a b", True),
        ("a w/1 b", "b a", True),
        ("a w/1 b", "a x b", False),
        ("a w/2 b", "a x b", True),
        ("a pre/2 b", "b x a", False),
        ("a pre/2 b", "a x b", True),
        ("a w/1 a", "a", False),
        ("a w/1 a", "a a", True),
        ('"a b" w/1 c', "a b c", True),
        ('"a b" w/1 c', "c a b", True),
        ('"a b" w/1 c', "a b x c", False),
        ('"a b" w/1 b', "a b", False),
        ('"a b" pre/1 c', "c a b", False),
        ("(a OR b) w/1 c", "b c", True),
        ("a w/1 b w/1 c", "a b c", True),
        ("a w/1 b w/1 c", "a b x c", False),
        ("a w/1 b w/1 c", "c a b", True),
        ("a not w/2 b", "a x b", False),
        ("a not w/2 b", "a x x b", True),
        ("a not w/2 b", "a x b x x a", True),
        ("a not w/2 b", "b", False),
        ("(a not w/2 b) w/1 c", "c a x b", False),
        ("(a not w/2 b) w/1 c", "c a x x b", True),
        ("a NOT b", "a", True),
        ("a NOT b", "a b", False),
        ("NOT b", "a", True),
    ],
)
def test_text_semantics(query: str, text: str, expected: bool) -> None:
    assert m(query, doc(text)) is expected


def test_never_matches_across_versions() -> None:
    d = doc("ask", "permission")
    assert m("ask", d) and m("permission", d)
    assert not m(f"ask w/{999} permission", d)
    assert not m('"ask permission"', d)


def test_fields() -> None:
    d = doc(
        "x",
        speaker=["Alice Smith"],
        conversation=["Línea directa"],
        custodian=["bob jones", "legal hold"],
        tag=["needs review"],
        platform=["Slack"],
    )
    assert m("speaker:alice", d)
    assert m('speaker:"alice smith"', d)
    assert not m('speaker:"smith alice"', d)
    assert m("channel:linea", d)
    assert m("conversation:lín*", d)
    assert m('custodian:"legal hold"', d)
    assert not m('custodian:"jones legal"', d)  # not across two values
    assert m('tag:"needs review"', d) and m('tag:"NEEDS rev*"', d)
    assert not m("tag:review", d) and not m("tag:needs*", d)  # a tag is named whole
    assert m("platform:SLACK", d)
    assert not m("tag:hot", d)
    assert not m("speaker:x", doc("x"))


def test_date_bounds_are_half_open_utc_in_the_display_zone() -> None:
    # 2023-03-12 is the US spring-forward day: only 23 hours long.
    lo, hi = date_bounds(DateRange("sent", "2023-03-12", "2023-03-12"), NY)
    assert lo == datetime(2023, 3, 12, 5, tzinfo=UTC)
    assert hi == datetime(2023, 3, 13, 4, tzinfo=UTC)
    assert date_bounds(DateRange("after", "2023-03-12", None), NY) == (lo, None)
    assert date_bounds(DateRange("before", None, "2023-03-13"), NY) == (None, hi)
    ts = DateRange("sent", "2023-01-05T10:00:00+02:00", "2023-01-05T10:00:00+02:00")
    t = datetime(2023, 1, 5, 8, tzinfo=UTC)
    assert date_bounds(ts, NY) == (t, t + timedelta(microseconds=1))
    assert date_bounds(DateRange("before", None, "2023-01-05T10:00:00+02:00"), NY) == (None, t)


@pytest.mark.parametrize(
    ("query", "sent_at", "expected"),
    [
        ("sent:2023-03-12", datetime(2023, 3, 12, 4, 59, tzinfo=UTC), False),
        ("sent:2023-03-12", datetime(2023, 3, 12, 5, 0, tzinfo=UTC), True),
        ("sent:2023-03-12", datetime(2023, 3, 13, 3, 59, tzinfo=UTC), True),
        ("sent:2023-03-12", datetime(2023, 3, 13, 4, 0, tzinfo=UTC), False),
        ("after:2023-03-12", datetime(2023, 3, 12, 5, 0, tzinfo=UTC), True),
        ("after:2023-03-12", datetime(2023, 3, 12, 4, 0, tzinfo=UTC), False),
        ("before:2023-03-12", datetime(2023, 3, 12, 4, 59, tzinfo=UTC), True),
        ("before:2023-03-12", datetime(2023, 3, 12, 5, 0, tzinfo=UTC), False),
        ("sent:2023-01-01..2023-01-31", datetime(2023, 2, 1, 4, 59, tzinfo=UTC), True),
        ("sent:2023-01-01..2023-01-31", datetime(2023, 2, 1, 5, 0, tzinfo=UTC), False),
        ("sent:2023-01-05T10:00:00Z", datetime(2023, 1, 5, 10, tzinfo=UTC), True),
        ("after:2023-01-05T10:00:00Z", datetime(2023, 1, 5, 9, 59, tzinfo=UTC), False),
    ],
)
def test_date_semantics(query: str, sent_at: datetime, expected: bool) -> None:
    assert m(query, doc("x", sent_at=sent_at)) is expected


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("b", "a b c b", {1, 3}),
        ('"b c"', "a b c b", {1, 2}),
        ("a w/2 c", "a b c x", {0, 2}),
        ('"a b" w/3 d', "a b c d", {0, 1, 3}),
        ("a AND NOT z", "a b", {0}),
        ("zz OR b", "a b", {1}),
        ("(a AND zz) OR b", "a b", {1}),
        ("a not w/1 b", "a b x x a", {4}),
        ("speaker:x OR c", "a b c", {2}),
        ("zz", "a b", set()),
    ],
)
def test_hit_positions(query: str, text: str, expected: set[int]) -> None:
    assert hit_positions(parse(query), doc(text, speaker=["nobody"]), NY) == expected


# ------------------------------------------------------- agreement with reference

VOCAB = [
    "the", "for", "of", "a", "to", "the", "for", "of", "a", "to", "ask", "forgiveness",
    "permission", "línea", "Línea", "LINEA", "linea", "pirate", "pirated", "piracy", "books",
    "book", "contract", "deal", "price", "meeting", "tomorrow", "and", "not", "or", "don't",
    "e-mail", "Straße", "strasse", "budget", "call", "ok", "yes", "no",
]  # fmt: skip
PLANTED = [
    "Ask forgiveness, not permission",
    "ask for permission",
    "pirated books",
    "Pirate Books",
    "the deal price",
]
SPEAKERS = ["Alice Smith", "Bob Jones", "Carol O'Brien", "Dave", "Élodie Martin"]
CONVERSATIONS = ["general", "deal-room", "Línea directa", "random chat"]
CUSTODIANS = ["Alice Smith", "Bob Jones", "Legal Hold"]
TAGS = ["hot", "privileged", "needs review"]
PLATFORMS = ["slack", "teams", "whatsapp"]


def _sentence(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(1, 12)):
        w = rng.choice(VOCAB)
        w = rng.choice([w, w, w.upper(), w.capitalize()])
        out.append(w + rng.choice(["", "", "", "", ",", ".", "!"]))
    if rng.random() < 0.08:
        out.insert(rng.randrange(len(out) + 1), rng.choice(PLANTED))
    return " ".join(out)


def _corpus(n: int = 5000, seed: int = 20230312) -> list[RefMessage]:
    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    seconds = 365 * 24 * 3600
    msgs = []
    for _ in range(n):
        versions = [_sentence(rng)]
        if rng.random() < 0.15:
            versions += [_sentence(rng) for _ in range(rng.randint(1, 2))]
        fields: dict[str, list[str]] = {
            "speaker": [rng.choice(SPEAKERS)],
            "conversation": [rng.choice(CONVERSATIONS)],
            "custodian": rng.sample(CUSTODIANS, rng.randint(1, 2)),
            "platform": [rng.choice(PLATFORMS)],
            "tag": rng.sample(TAGS, rng.choice([0, 0, 1, 2])),
        }
        sent_at = start + timedelta(seconds=rng.randrange(seconds))
        msgs.append(RefMessage(versions, fields, sent_at))
    return msgs


AGREEMENT_QUERIES = [
    "linea",
    "LÍNEA",
    "strasse",
    "pirat*",
    "p?rate",
    "*ook",
    "book*",
    '"ask for"',
    '"the for of"',
    "ask forgiveness",
    '"ask forgiveness not permission"',
    '"pirat* books"',
    "don't",
    "e-mail AND price",
    '"and" OR "not"',
    "deal AND price",
    "deal OR price",
    "deal AND NOT price",
    "deal NOT price",
    "NOT (deal OR price OR the OR a OR to)",
    "deal AND price OR book AND budget",
    "ask w/3 permission",
    "ask w/1 forgiveness",
    "ask pre/2 permission",
    "permission pre/2 ask",
    "ask not w/5 permission",
    '"ask forgiveness" w/2 permission',
    "(book OR books) w/2 pirat*",
    "deal w/3 price w/3 budget",
    "(deal pre/2 price) w/4 (meeting OR call)",
    "(ask not w/3 permission) pre/5 the",
    "linea w/1 linea",
    "speaker:alice",
    'speaker:"carol o brien"',
    "speaker:élodie",
    "channel:linea",
    'conversation:"random chat"',
    "custodian:legal",
    "custodian:b*",
    "platform:slack",
    "tag:hot",
    'tag:"needs review"',
    "NOT tag:*view AND tag:hot",
    "speaker:dave AND (deal OR price)",
    "sent:2023-03-12",
    "sent:2023-03-10..2023-03-14",
    "sent:2023-11-05",
    "after:2023-11-05",
    "before:2023-03-12",
    "sent:2023-06-01T00:00:00Z..2023-06-30T12:00:00+02:00",
    "after:2023-12-31T18:00:00-05:00",
    "budget AND sent:2023-01-01..2023-06-30 AND NOT speaker:bob",
    "ok OR yes OR no NOT w/2 the",
]


@pytest.fixture(scope="module")
def corpus() -> tuple[list[RefMessage], list[Doc]]:
    msgs = _corpus()
    docs = [Doc.build(msg.versions, msg.fields, msg.sent_at) for msg in msgs]
    return msgs, docs


@pytest.mark.slow
@pytest.mark.parametrize("query", AGREEMENT_QUERIES)
def test_verifier_agrees_with_reference(
    query: str, corpus: tuple[list[RefMessage], list[Doc]]
) -> None:
    msgs, docs = corpus
    node = parse(query)
    got = {i for i, d in enumerate(docs) if matches(node, d, NY)}
    want = {i for i, msg in enumerate(msgs) if evaluate(node, msg, NY)}
    assert got == want
    assert 0 < len(want) < len(msgs), f"{query!r} matches {len(want)} messages"


def test_corpus_has_what_the_queries_need(corpus: tuple[list[RefMessage], list[Doc]]) -> None:
    msgs, _ = corpus
    assert len(msgs) >= 5000
    assert sum(len(msg.versions) > 1 for msg in msgs) > 300
    assert len(AGREEMENT_QUERIES) >= 40


# ------------------------------------------------ random trees on random messages

_TINY = ["a", "b", "c", "ab", "ba"]
_PATTERNS = st.sampled_from([*_TINY, "a*", "?b", "*a*", "b?"])
_LEAF = st.one_of(
    _PATTERNS.map(Word),
    st.lists(_PATTERNS, min_size=2, max_size=3).map(lambda ws: Phrase(tuple(ws))),
)
_PROX = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.builds(
            lambda left, right, n, kind: Near(left, right, n, kind[0], kind[1]),
            inner,
            inner,
            st.integers(1, 4),
            st.sampled_from([(False, False), (True, False), (False, True)]),
        ),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
    ),
    max_leaves=5,
)
_TREES = st.recursive(
    st.one_of(_PROX, st.builds(Field, st.just("tag"), st.tuples(_PATTERNS))),
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
    ),
    max_leaves=6,
)
_SENTENCES = st.lists(st.sampled_from([*_TINY, "A", "Áb"]), max_size=8).map(" ".join)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    _TREES,
    st.lists(_SENTENCES, min_size=1, max_size=2),
    st.lists(_SENTENCES, max_size=2),
)
def test_random_trees_agree_with_reference(
    node: Node, versions: list[str], tags: list[str]
) -> None:
    msg = RefMessage(versions, {"tag": tags}, T0)
    d = Doc.build(versions, {"tag": tags}, T0)
    assert matches(node, d, NY) is evaluate(node, msg, NY)
    hits = hit_positions(node, d, NY)
    assert hits <= {p for ps in d.positions.values() for p in ps}
