"""Words in every script and the dtSearch operators, on 20,000 generated multi-script messages.

The corpus (tests/multiscript.py) goes through the real JSONL importer and the
index; every query's hit set must equal the independent reference
evaluator's (tests/reference_eval.py: its own tokenizer, stemmer, edit
distance and pattern matcher) over the same stored texts.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator

import pytest

from discovery.ingest import ingest
from discovery.matter import Matter, open_matter
from discovery.query.parser import parse
from discovery.search import Searcher
from tests.multiscript import generate
from tests.reference_eval import RefMessage, evaluate, ref_words, refs_from_matter

N_MESSAGES = 20_000

# (query, may the reference set be empty?)
QUERIES: list[tuple[str, bool]] = [
    # folding and words in every script
    ("resume", False),
    ("résumé", False),
    ("re\u0301sume\u0301", False),
    ("lodz", False),
    ("odegaard", False),
    ("dokovic", False),
    ("diyarbakir", False),
    ("aesop", False),
    ("strasse", False),
    ("Straße", False),
    ("finance", False),
    ("cooperate", False),
    ("don't", False),
    ("donʼt", False),
    ("naive", False),
    ("zoe", False),
    ("creme AND oeuvre", False),
    ("thor", False),
    ("libgen", False),
    ("ＬＩＢＧＥＮ", False),
    ("αθηνα", False),
    ("σοφος", False),
    ("москва", False),
    ("елка", False),
    ("محمد", False),
    ("كتاب", False),
    ("שלום", False),
    ("ספר", False),
    ("हिन्दी", False),
    ("हिन्दी*", False),
    ("میخواهم", False),
    ("训练", False),
    ('"训 练 数 据"', False),
    ("数据", False),
    ("来自 libgen", False),
    ("カタカナ", False),
    ("ガ", False),
    ("한국어", False),
    ("สวัสดี", False),
    ('"xfirstword"', False),
    ('"and" w/3 "not"', False),
    # wildcards (* ? =)
    ("resum*", False),
    ("stra??e", False),
    ("stra?e", True),
    ("*nance", False),
    ("hind*", True),
    ("ban?n?", False),
    ("==", False),
    ("=", False),
    ("20==", False),
    ("1=", False),
    # stemming
    ("apply~", False),
    ("applied~", False),
    ("banana~", False),
    ("application~", False),
    ("apply~ w/2 banana~", False),
    # fuzzy
    ("ba%nana", False),
    ("ba%%nana", False),
    ("b%anana", False),
    ("%banana", False),
    ("lod%z", False),
    ("appl%y w/4 libgen", False),
    # numeric ranges
    ("10~~20", False),
    ("12~~24", False),
    ("0~~9", False),
    ("1000~~3000", False),
    ("0.5~~12.5", False),
    ("7~~7", False),
    ("10~~20 AND NOT 12", False),
    # regular expressions
    ('"##ba.*"', False),
    ('"##[0-9]{4}"', False),
    ('"##app(ly|lies|lied)"', False),
    ('"##كت.*"', False),
    ('"##b[ao]n.n.*" w/3 apply~', False),
    # xfirstword / xlastword
    ("apply w/3 xfirstword", False),
    ("xlastword w/2 libgen", False),
    ("banana pre/2 xlastword", False),
    ("xfirstword pre/1 apply~", False),
    ("10~~20 w/1 xlastword", False),
    # an AND group on one side
    ("(apply AND banana) w/5 libgen", False),
    ("libgen pre/8 (apply~ AND 10~~20)", False),
    ("(ba%nana AND 数) w/6 apply", False),
    ("(apply OR banana) pre/3 (libgen AND data)", False),
    # nesting is symmetric
    ("(apply w/5 banana) w/10 libgen", False),
    ("(apply w/5 libgen) w/10 banana", False),
    ("apply not w/3 banana~", False),
    # fields and combinations
    ("custodian:odegaard AND apply~", False),
    ("speaker:zoe AND 10~~20", False),
    ("speaker:odegaard", False),
    ("speaker:lukasz", False),
    ("channel:general AND ba%nana", False),
    ("conversation:全体 AND 北京", False),
    ('"apply~ ba%nana"', True),
    ('apply "##ban.*"', True),
    ("NOT (apply~ OR 10~~20 OR ba%nana)", False),
]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Matter, list[RefMessage]]]:
    base = tmp_path_factory.mktemp("multiscript")
    files = generate(base / "export", N_MESSAGES)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISCOVERY_HOME", str(base / "home"))
        matter = open_matter("scripts", create=True)
        added = ingest(matter, [files[0]], custodian="Zoë Ødegaard").added
        added += ingest(matter, [files[1]], custodian="Łukasz").added
        assert added == N_MESSAGES
        yield matter, refs_from_matter(matter)
        matter.close()


def test_the_corpus_mixes_the_scripts(corpus: tuple[Matter, list[RefMessage]]) -> None:
    _, refs = corpus
    scripts = {"LATIN", "GREEK", "CYRILLIC", "ARABIC", "HEBREW", "DEVANAGARI", "CJK", "HIRAGANA"}
    scripts |= {"KATAKANA", "HANGUL", "THAI"}
    seen = set()
    for r in refs[:2000]:
        for c in r.versions[0]:
            name = unicodedata.name(c, "")
            seen.update(s for s in scripts if name.startswith(s))
    assert seen == scripts


@pytest.mark.slow
@pytest.mark.parametrize(("query", "may_be_empty"), QUERIES)
def test_hits_equal_reference(
    corpus: tuple[Matter, list[RefMessage]], query: str, may_be_empty: bool
) -> None:
    matter, refs = corpus
    node = parse(query)
    expected = {i for i, r in enumerate(refs, 1) if evaluate(node, r, matter.tz)}
    _, got = Searcher(matter).match(query, include_system=True)
    assert got == expected
    assert len(expected) < len(refs)
    if not may_be_empty:
        assert expected


def test_queries_cover_every_operator() -> None:
    text = " ".join(q for q, _ in QUERIES)
    for needle in ("~ ", "%", "~~", "=", "##", "xfirstword", "xlastword", ") w/", "*", "?"):
        assert needle in text + " ", needle
    assert len(QUERIES) >= 60


def test_every_word_of_a_message_finds_it(corpus: tuple[Matter, list[RefMessage]]) -> None:
    """Searching any word of a message (as the reference reads it) finds that message."""
    matter, refs = corpus
    searcher = Searcher(matter)
    rng = random.Random(5)
    holders: dict[str, set[int]] = {}
    for i, r in enumerate(refs, 1):
        for _, t in r.tokens:
            holders.setdefault(t, set()).add(i)
    words = {w for i in rng.sample(range(len(refs)), 60) for w in ref_words(refs[i].versions[0])}
    for w in sorted(words):
        assert searcher.match(f'"{w}"', include_system=True)[1] == holders[w], w
