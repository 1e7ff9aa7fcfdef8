"""HTML exhibits: visible text line by line, transcript layouts, nothing executed or fetched."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from discovery.cli import app
from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.detect import IMPORTERS, detect
from discovery.importers.html_exhibit import HtmlExhibitImporter, html_lines
from discovery.model import ConversationKind
from tests.conftest import FIXTURES
from tests.fuzzing import read_mutated

FIX = FIXTURES / "html"


def read(path: Path) -> list[ImportItem]:
    return list(HtmlExhibitImporter().read(path, ImportContext(UTC, f"exhibits/{path.name}")))


def messages(items: list[ImportItem]) -> list[RawMessage]:
    return [i for i in items if isinstance(i, RawMessage)]


def test_sniff_html_by_suffix_and_by_content(tmp_path: Path) -> None:
    imp = HtmlExhibitImporter()
    assert imp.sniff(FIX / "saved_chat.html")
    assert imp.sniff(FIX / "transcript_pre.htm")
    (tmp_path / "page").write_bytes(b"\xef\xbb\xbf  <!DOCTYPE html><p>x</p>")
    assert imp.sniff(tmp_path / "page")  # no suffix: the content says HTML
    (tmp_path / "notes.html").write_text("just words, no markup")
    assert not imp.sniff(tmp_path / "notes.html")
    (tmp_path / "frag.txt").write_text("<p>a fragment in a text file</p>")
    assert not imp.sniff(tmp_path / "frag.txt")  # markup without a document start or suffix
    assert not imp.sniff(FIXTURES / "transcript" / "us_12h.txt")
    assert not imp.sniff(tmp_path)


def test_html_is_the_fallback_just_before_plain_transcripts() -> None:
    names = list(IMPORTERS)
    assert names.index("html") == names.index("transcript") - 1
    assert detect(FIX / "saved_chat.html") is IMPORTERS["html"]


def test_visible_lines_skip_script_style_and_comments() -> None:
    lines = html_lines((FIX / "saved_chat.html").read_bytes())
    assert lines == [
        ("line 5", "Exhibit 14 — chat log"),
        ("line 11", "Exhibit 14"),
        (
            "line 13",
            "Marcus Chen (3/7/2023 3:12 PM): we should just ask forgiveness, not for permission",
        ),
        ("line 15", "Tom Okafor (3/7/2023 3:13 PM): agreed"),
        ("line 15, part 2", "the books are in the shared folder"),
        ("line 17", "2023-03-07 15:20 - Dana Whitfield: Please stop & think."),
        ("line 20", "3/13/2023, 09:05 - Dana Whitfield: Línea de crédito approved"),
    ]
    text = " ".join(t for _, t in lines)
    assert "never run" not in text and "comments are not page text" not in text
    assert "display: none" not in text


def test_saved_chat_page_messages() -> None:
    items = read(FIX / "saved_chat.html")
    conv = items[0]
    assert isinstance(conv, RawConversation)
    assert (conv.platform, conv.key, conv.kind) == (
        "html",
        "saved_chat.html",
        ConversationKind.EXHIBIT,
    )
    ms = messages(items)
    assert [(m.location, m.speaker, m.sent_at, m.system) for m in ms] == [
        ("line 5", "", datetime(2023, 3, 7, 15, 12), True),
        ("line 13", "Marcus Chen", datetime(2023, 3, 7, 15, 12), False),
        ("line 15", "Tom Okafor", datetime(2023, 3, 7, 15, 13), False),
        ("line 17", "Dana Whitfield", datetime(2023, 3, 7, 15, 20), False),
        ("line 20", "Dana Whitfield", datetime(2023, 3, 13, 9, 5), False),
    ]
    assert ms[0].text == "Exhibit 14 — chat log\nExhibit 14"
    assert ms[2].text == "agreed\nthe books are in the shared folder"
    assert ms[3].text == "Please stop & think."
    assert not [i for i in items if isinstance(i, ImportProblem)]


def test_preformatted_transcript_keeps_lines_and_indentation() -> None:
    ms = messages(read(FIX / "transcript_pre.htm"))
    assert [(m.location, m.speaker, m.text) for m in ms] == [
        ("line 1", "", "Transcript prepared for deposition."),
        ("line 2", "Ann Lee", "hello\n   indented continuation kept as is"),
        ("line 4", "Bob Ray", "hi Ann"),
    ]


def test_a_page_without_transcript_lines_is_kept_undated(tmp_path: Path) -> None:
    p = tmp_path / "about.html"
    p.write_text("<html><body><h1>About us</h1><p>We make widgets.</p></body></html>")
    problem, _conv, page = read(p)
    assert isinstance(problem, ImportProblem) and isinstance(page, RawMessage)
    assert problem.path == "exhibits/about.html"
    assert "2 line(s) kept as one undated message" in problem.reason
    assert (page.sent_at, page.text) == (None, "About us\nWe make widgets.")


def test_a_bad_date_names_the_source_line(tmp_path: Path) -> None:
    p = tmp_path / "x.html"
    p.write_text(
        "<html><body>\n<p>Ann (2/3/2023 10:15 AM): ok</p>\n<p>Bob (2/30/2023 10:16 AM): no</p>\n"
    )
    items = read(p)
    (problem,) = [i for i in items if isinstance(i, ImportProblem)]
    assert (problem.path, problem.line) == ("exhibits/x.html", 3)


def test_deep_nesting_and_odd_markup_do_not_break(tmp_path: Path) -> None:
    p = tmp_path / "deep.html"
    p.write_text(
        "<html><body>"
        + "<div>" * 5000
        + "Ann (2/3/2023 10:15 AM): deep"
        + "</div>" * 5000
        + "<p>Bob (2/3/2023 10:16 AM): <b>bold<p>unclosed</body>"
    )
    ms = messages(read(p))
    assert [(m.speaker, m.text) for m in ms] == [("Ann", "deep"), ("Bob", "bold\nunclosed")]


def test_nothing_is_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the importer tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert messages(read(FIX / "saved_chat.html"))


def test_ingest_and_search_an_html_exhibit() -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["ingest", str(FIX), "--json"])
    assert r.exit_code == 0, r.output
    reports = {Path(x["path"]).name: x for x in json.loads(r.stdout)}
    assert {k: (v["format"], v["added"]) for k, v in reports.items()} == {
        "saved_chat.html": ("html", 5),
        "transcript_pre.htm": ("html", 3),
    }
    hits = runner.invoke(app, ["search", '"ask forgiveness" w/3 permission', "--json"])
    (hit,) = [json.loads(line) for line in hits.stdout.splitlines()]
    assert (hit["speaker"], hit["platform"]) == ("Marcus Chen", "html")
    assert runner.invoke(app, ["search", "linea", "--count"]).stdout.strip() == "1"


_VALID = (FIX / "saved_chat.html").read_bytes()


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cut=st.integers(min_value=0, max_value=len(_VALID)),
    insert=st.binary(max_size=40),
    at=st.integers(min_value=0, max_value=len(_VALID)),
)
def test_mutated_html_never_raises(cut: int, insert: bytes, at: int) -> None:
    data = _VALID[:cut]
    data = data[:at] + insert + data[at:]
    assert read_mutated(HtmlExhibitImporter(), "mutant.html", data, sniff=False)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_lines_or_nothing(text: str) -> None:
    for where, line in html_lines(text.encode("utf-8", "surrogatepass")):
        assert where.startswith("line ") and line.strip()
