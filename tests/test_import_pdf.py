"""PDF exhibits: text layer, page locations, transcript lines, page furniture, scans."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from discovery.cli import app
from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.detect import detect
from discovery.importers.pdf import NO_TEXT, PdfImporter, page_furniture
from discovery.importers.transcript import match_header
from discovery.model import ConversationKind
from tests.conftest import FIXTURES
from tests.fuzzing import Edits, byte_edits, mutate, read_mutated
from tests.pdfmaker import FIXTURE_PAGES, make_pdf, write_fixtures

FIX = FIXTURES / "pdf"


def read(path: Path, shown: str | None = None) -> list[ImportItem]:
    return list(PdfImporter().read(path, ImportContext(UTC, shown or f"exhibits/{path.name}")))


def messages(items: list[ImportItem]) -> list[RawMessage]:
    return [i for i in items if isinstance(i, RawMessage)]


def problems(items: list[ImportItem]) -> list[ImportProblem]:
    return [i for i in items if isinstance(i, ImportProblem)]


def test_committed_fixtures_are_what_the_maker_writes(tmp_path: Path) -> None:
    for made in write_fixtures(tmp_path):
        assert made.read_bytes() == (FIX / made.name).read_bytes(), made.name
    assert {p.name for p in FIX.glob("*.pdf")} == set(FIXTURE_PAGES)


def test_sniff_by_content(tmp_path: Path) -> None:
    imp = PdfImporter()
    for p in FIX.glob("*.pdf"):
        assert imp.sniff(p), p
        found = detect(p)
        assert found is not None and found.name == "pdf"
    renamed = tmp_path / "exhibit.bin"
    renamed.write_bytes(b"junk before the header\n" + (FIX / "memo_exhibit.pdf").read_bytes())
    assert imp.sniff(renamed)
    (tmp_path / "fake.pdf").write_text("Ann (2/3/2023 10:15 AM): not a pdf")
    assert not imp.sniff(tmp_path / "fake.pdf")
    assert not imp.sniff(tmp_path)
    assert not imp.sniff(FIXTURES / "html" / "saved_chat.html")


def test_transcript_pdf_speakers_times_and_page_locations() -> None:
    items = read(FIX / "transcript_exhibit.pdf")
    conv = items[0]
    assert isinstance(conv, RawConversation)
    assert (conv.platform, conv.key, conv.kind) == (
        "pdf",
        "transcript_exhibit.pdf",
        ConversationKind.EXHIBIT,
    )
    assert [p.name for p in conv.participants] == ["Marcus Chen", "Tom Okafor", "Dana Whitfield"]
    chat = [m for m in messages(items) if not m.system]
    assert [(m.location, m.speaker, m.sent_at) for m in chat] == [
        ("page 1, line 3", "Marcus Chen", datetime(2023, 3, 7, 15, 12)),
        ("page 1, line 4", "Tom Okafor", datetime(2023, 3, 7, 15, 13)),
        ("page 1, line 5", "Marcus Chen", datetime(2023, 3, 7, 15, 14)),
        ("page 2, line 2", "Dana Whitfield", datetime(2023, 3, 7, 15, 20)),
    ]
    assert all(m.native_id == m.location for m in chat)
    assert chat[0].text == "Honestly? We should just ask forgiveness"
    # The message goes on across the page break; the page footer is not part of it.
    assert chat[2].text == (
        "Right. The datasets are on the shared drive,\nthe pirated books folder included."
    )
    assert problems(items) == []


def test_transcript_pdf_keeps_every_other_line_as_system_text() -> None:
    ms = messages(read(FIX / "transcript_exhibit.pdf"))
    system = [m for m in ms if m.system]
    by_loc = {m.location: m for m in system}
    cover = by_loc["page 1, line 1"]
    assert cover.text == "EXHIBIT 12\nTranscript of messages produced by Acme Corp."
    assert cover.extra == {"preamble": "true"}
    left = by_loc["page 2, line 3"]
    assert (left.text, left.speaker, left.sent_at) == (
        "Tom Okafor left",
        "",
        datetime(2023, 3, 7, 15, 21),
    )
    footers = {loc: (m.text, m.sent_at) for loc, m in by_loc.items() if m.extra.get("exhibit_text")}
    assert footers == {
        "page 1, line 6": ("CONFIDENTIAL - Exhibit 12 - Page 1", datetime(2023, 3, 7, 15, 14)),
        "page 2, line 4": ("CONFIDENTIAL - Exhibit 12 - Page 2", datetime(2023, 3, 7, 15, 21)),
    }
    # Every line of the text layer is somewhere: nothing silently dropped.
    kept = "\n".join(m.text for m in ms)
    for page in FIXTURE_PAGES["transcript_exhibit.pdf"][0]:
        assert page is not None
        for line in page:
            header = match_header(line)
            assert (line if header is None else header.text) in kept, line


def test_page_furniture_needs_repetition_at_page_edges() -> None:
    pages: list[list[str] | None] = [
        ["Page 1 of 3", "Ann (2/3/2023 10:15 AM): a", "CONFIDENTIAL"],
        ["Page 2 of 3", "the middle line CONFIDENTIAL", "CONFIDENTIAL"],
        None,
        ["Page 3 of 3", "Bob (2/3/2023 10:16 AM): b"],
    ]
    assert page_furniture(pages) == {"page # of #", "confidential"}
    assert page_furniture([["Page 1 of 1", "x"]]) == set()  # one page: nothing repeats


def test_document_pdf_without_chat_lines_is_one_message_per_page() -> None:
    items = read(FIX / "memo_exhibit.pdf")
    assert problems(items) == []
    ms = messages(items)
    assert [(m.location, m.speaker, m.system) for m in ms] == [
        ("page 1", "", False),
        ("page 2", "", False),
    ]
    assert ms[0].text == "MEMORANDUM\nTo: Legal review\nRe: training data sources (licensed only)"
    assert {m.sent_at for m in ms} == {datetime(2023, 2, 10, 9, 30, tzinfo=UTC)}


def test_document_pdf_without_any_date_is_kept_undated_not_guessed(tmp_path: Path) -> None:
    p = tmp_path / "letter.pdf"
    p.write_bytes(make_pdf([["Dear counsel,", "please find enclosed"]]))
    items = read(p)
    (page,) = messages(items)
    assert page.sent_at is None and "please find enclosed" in page.text
    (problem,) = problems(items)
    assert problem.path == "exhibits/letter.pdf"
    assert "no creation or modification date" in problem.reason and "1 page(s)" in problem.reason


def test_scanned_pdf_is_one_problem() -> None:
    items = read(FIX / "scanned.pdf", "box1/scanned.pdf")
    assert [str(p) for p in items] == [f"box1/scanned.pdf: {NO_TEXT}"]


def test_a_scanned_page_among_text_pages_is_reported_by_page() -> None:
    items = read(FIX / "partly_scanned.pdf")
    assert [str(p) for p in problems(items)] == [f"exhibits/partly_scanned.pdf: page 2: {NO_TEXT}"]
    assert [(m.location, m.text) for m in messages(items)] == [
        ("page 1, line 1", "first page"),
        ("page 1, line 2", "still first"),
        ("page 3, line 1", "third page"),
    ]


def test_unreadable_date_in_a_pdf_line_names_page_and_line(tmp_path: Path) -> None:
    p = tmp_path / "dates.pdf"
    p.write_bytes(
        make_pdf(
            [["Ann (2/3/2023 10:15 AM): fine"], ["Bob (2/31/2023 10:16 AM): no such day", "more"]]
        )
    )
    items = read(p)
    (problem,) = problems(items)
    assert str(problem).startswith("exhibits/dates.pdf: page 2, line 1: ")
    assert "dated by the message before it" in problem.reason
    ms = messages(items)
    assert [m.text for m in ms] == ["fine", "no such day\nmore"]
    assert ms[1].sent_at == ms[0].sent_at


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"%PDF-1.4\n",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF",
        b"%PDF-\x00\xff" * 50,
    ],
)
def test_broken_pdfs_are_problems(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "broken.pdf"
    p.write_bytes(data)
    items = read(p)
    assert items and all(isinstance(i, ImportProblem) for i in items)
    assert all(i.path == "exhibits/broken.pdf" for i in items if isinstance(i, ImportProblem))


def test_ingest_and_search_a_pdf_exhibit(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["ingest", str(FIX / "transcript_exhibit.pdf"), "--json"])
    assert r.exit_code == 0, r.output
    (rep,) = json.loads(r.stdout)
    assert (rep["format"], rep["status"], rep["added"], rep["system"]) == ("pdf", "imported", 8, 4)
    hits = runner.invoke(app, ["search", '"pirated books"', "--json"])
    (hit,) = [json.loads(line) for line in hits.stdout.splitlines()]
    assert (hit["speaker"], hit["platform"], hit["sent_at"]) == (
        "Marcus Chen",
        "pdf",
        "2023-03-07T15:14:00+00:00",
    )
    assert runner.invoke(app, ["search", "confidential", "--count"]).stdout.strip() == "0"
    assert (
        runner.invoke(app, ["search", "confidential", "--count", "--system"]).stdout.strip() == "2"
    )


def test_ingest_of_a_scan_fails_with_exit_1() -> None:
    r = CliRunner().invoke(app, ["ingest", str(FIX / "scanned.pdf")])
    assert r.exit_code == 1
    assert f"problem: {FIX / 'scanned.pdf'}: {NO_TEXT}" in r.stdout
    assert "Traceback" not in r.output


_VALID = (FIX / "transcript_exhibit.pdf").read_bytes()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cut=st.integers(min_value=0, max_value=len(_VALID)),
    flips=byte_edits(len(_VALID) - 1, 8),
)
def test_mutated_pdfs_never_raise(cut: int, flips: Edits) -> None:
    data = mutate(_VALID, len(_VALID) if flips else cut, flips)
    # always something: messages or a report of why not
    assert read_mutated(PdfImporter(), "mutant.pdf", data, sniff=False)
