"""The plain-text transcript importer: layouts, date order, continuations, preambles."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.transcript import (
    TranscriptImporter,
    infer_day_first,
    match_header,
    parse_datetime,
    read_transcript,
)
from discovery.model import ConversationKind
from tests.fuzzing import check_items

FIX = Path(__file__).parents[1] / "fixtures" / "transcript"


def read(name: str) -> list[ImportItem]:
    p = FIX / name
    return list(TranscriptImporter().read(p, ImportContext(UTC, f"exhibits/{name}")))


def messages(items: list[ImportItem]) -> list[RawMessage]:
    return [i for i in items if isinstance(i, RawMessage)]


def test_sniff_fixtures_and_not_others() -> None:
    imp = TranscriptImporter()
    for p in FIX.glob("*.txt"):
        # A first line in WhatsApp's iOS layout makes the file WhatsApp's, never both.
        assert imp.sniff(p) is (p.name != "european_bracket.txt"), p
    root = Path(__file__).parents[1] / "fixtures"
    assert not imp.sniff(root / "slack" / "acme" / "users.json")
    assert not imp.sniff(root / "slack" / "acme")
    assert not imp.sniff(root / "csv" / "bom_aliases.csv")


def test_us_12_hour() -> None:
    items = read("us_12h.txt")
    conv = items[0]
    assert isinstance(conv, RawConversation)
    assert (conv.platform, conv.key, conv.kind) == (
        "transcript",
        "us_12h.txt",
        ConversationKind.EXHIBIT,
    )
    assert [p.name for p in conv.participants] == ["Marcus Chen", "Tom Okafor", "Dana Whitfield"]
    ms = messages(items)
    assert [(m.speaker, m.sent_at, m.native_id) for m in ms] == [
        ("Marcus Chen", datetime(2023, 2, 3, 10, 15), "line 1"),
        ("Tom Okafor", datetime(2023, 2, 3, 10, 16), "line 2"),
        ("Marcus Chen", datetime(2023, 2, 3, 23, 2), "line 3"),  # U+202F before PM
        ("Dana Whitfield", datetime(2023, 2, 13, 9, 5), "line 4"),  # "a. m."
        ("Dana Whitfield", datetime(2023, 2, 13, 12, 0), "line 5"),
    ]
    assert ms[2].text == "We should just ask forgiveness, not for permission."
    assert all(m.sent_at.tzinfo is None for m in ms)
    assert all(m.location == m.native_id for m in ms)


def test_european_bracketed_dotted_dates_are_day_first() -> None:
    ms = messages(read("european_bracket.txt"))
    assert [(m.speaker, m.sent_at) for m in ms] == [
        ("Elena Lindqvist", datetime(2023, 2, 3, 10, 15, 0)),
        ("Tom Okafor", datetime(2023, 2, 3, 10, 15, 42)),
        ("", datetime(2023, 2, 3, 10, 16, 5)),
        ("Priya Raman", datetime(2023, 2, 4, 8, 1, 0)),
    ]
    assert ms[2].system and ms[2].text == "Elena Lindqvist added Priya Raman"
    assert ms[3].text == "Línea uno: we need to ask for permission."
    assert not any("\r" in m.text for m in ms)


def test_continuation_lines() -> None:
    ms = messages(read("continuation.txt"))
    assert ms[0].text == (
        "Plan for the weekend:\n1. mirror the archive\n2. strip the watermarks\n"
        "\n3. do not tell legal"
    )
    assert ms[1].text == "No."
    assert ms[2].text == "Absolutely not."  # trailing blank lines dropped
    assert ms[0].sent_at == datetime(2023, 2, 3, 10, 15)


def test_preamble_kept_as_system_message() -> None:
    items = read("preamble.txt")
    ms = messages(items)
    pre = ms[0]
    assert pre.system and pre.speaker == "" and pre.extra == {"preamble": "true"}
    assert pre.text.startswith("EXHIBIT 14\nTranscript of messages produced by Acme Reading Labs")
    assert pre.native_id == "line 1"
    assert pre.sent_at == ms[1].sent_at == datetime(2023, 2, 14, 21, 40)  # day-first: 14 > 12
    assert [m.native_id for m in ms[1:]] == ["line 4", "line 5", "line 6"]
    assert ms[3].sent_at == datetime(2023, 2, 15, 7, 30)


def test_bad_date_is_a_problem_with_line() -> None:
    items = read("bad_date.txt")
    problems = [i for i in items if isinstance(i, ImportProblem)]
    assert len(problems) == 1
    assert (problems[0].path, problems[0].line) == ("exhibits/bad_date.txt", 2)
    assert "dated by the message before it" in problems[0].reason
    ms = messages(items)  # never dropped: dated at the message before it
    assert [m.text for m in ms] == [
        "first",
        "the 30th of February\nand a continuation of it",
        "third",
    ]
    assert ms[1].sent_at == ms[0].sent_at


@pytest.mark.parametrize(
    ("dates", "day_first"),
    [
        (["2/3/2023", "2/13/2023"], False),
        (["13/2/2023", "2/3/2023"], True),
        (["2/3/2023", "4/5/2023"], False),  # ambiguous: month-first
        (["03.02.23", "04.02.23"], True),  # ambiguous dotted: day-first
        (["2023-02-03"], False),
    ],
)
def test_infer_day_first(dates: list[str], day_first: bool) -> None:
    assert infer_day_first(dates) is day_first


def test_header_forms() -> None:
    h = match_header("Ann Lee (2/3/2023 10:15 AM): hi: there")
    assert h is not None and (h.speaker, h.text, h.time) == ("Ann Lee", "hi: there", "10:15 AM")
    h = match_header("02/03/2023, 10:15 - Ann Lee: hello")
    assert h is not None and (h.speaker, h.date) == ("Ann Lee", "02/03/2023")
    h = match_header("2023-02-03 10:15 - Ann Lee: hello")
    assert h is not None and h.speaker == "Ann Lee"
    assert match_header("just a line: with a colon") is None
    assert match_header("") is None
    assert parse_datetime("2023-02-03", "10:15", False) == datetime(2023, 2, 3, 10, 15)
    assert parse_datetime("03.02.23", "22.15", True) == datetime(2023, 2, 3, 22, 15)


def test_no_messages_is_a_problem() -> None:
    items = list(read_transcript("nothing here\nat all\n", "x.txt", "x.txt"))
    assert len(items) == 1 and isinstance(items[0], ImportProblem)


def test_invalid_utf8(tmp_path: Path) -> None:
    p = tmp_path / "t.txt"
    p.write_bytes(b"Ann (2/3/2023 10:15 AM): caf\xe9\nBob (2/3/2023 10:16 AM): ok\n")
    items = list(TranscriptImporter().read(p, ImportContext(UTC, "t.txt")))
    assert isinstance(items[0], ImportProblem)
    assert [m.text for m in messages(items)] == ["caf\ufffd", "ok"]


_lines = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "Ann (2/3/2023 10:15 AM): hi",
                "[03.02.23, 10:15:00] Bob: yo",
                "[31.02.23, 10:15:00] Bob: bad",
                "2023-02-03 10:15 - Cy: hey",
                "99/99/9999, 99:99 - Dee: no",
                "0/0/0 0:00 - E: zero",
                "",
                "continuation",
            ]
        ),
        st.text(max_size=40),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(lines=_lines, cut=st.integers(min_value=0, max_value=50))
def test_mutated_transcripts_never_raise(lines: list[str], cut: int) -> None:
    text = "\n".join(lines)
    text = text[: len(text) - cut] if cut < len(text) else text
    check_items(read_transcript(text, "f.txt", "f.txt"))
