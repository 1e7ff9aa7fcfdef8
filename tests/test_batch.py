"""TERMS files: both layouts, names, comments, and every syntax error reported before any run."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from discovery.batch import BatchSyntaxError, parse_terms, read_terms
from discovery.cli import app
from tests.conftest import FIXTURES

BATCH = FIXTURES / "batch"


def test_text_layout_names_comments_and_canonical_form() -> None:
    terms = read_terms(BATCH / "terms.txt")
    assert [(t.name, t.canonical, t.line) for t in terms] == [
        ("forgiveness", '"ask forgiveness" W/5 permission', 4),
        ("libgen", "libgen", 5),
        ("pirated books", "pirat* W/2 books", 6),
        ("speaker:marcus AND permission", "speaker:marcus AND permission", 8),
    ]
    assert terms[0].query == '"ask forgiveness" w/5 permission'


def test_csv_layout_gives_the_same_terms() -> None:
    text = read_terms(BATCH / "terms.txt")
    rows = read_terms(BATCH / "terms.csv")
    assert [t.canonical for t in rows] == [t.canonical for t in text]
    assert rows[2].name == "pirated, books"
    assert rows[3].name == "speaker:marcus AND permission"  # empty name: the query


def test_every_problem_is_reported_with_line_and_column() -> None:
    with pytest.raises(BatchSyntaxError) as info:
        read_terms(BATCH / "bad.txt")
    problems = info.value.problems
    assert [(p.line, p.column) for p in problems] == [(3, 7), (5, 13), (6, 0)]
    assert "unbalanced" in problems[0].message
    assert "AND group" in problems[1].message
    assert "'ok' is used on line 2" in problems[2].message
    text = str(info.value)
    assert "3 problems; nothing was run" in text
    assert "line 3, column 7" in text and "line 5, column 13" in text


def test_a_field_name_is_not_a_term_name() -> None:
    # 'speaker: dana' is read as a query (and rejected), not as a term named speaker.
    with pytest.raises(BatchSyntaxError) as info:
        parse_terms("speaker: dana\n")
    assert info.value.problems[0].line == 1
    # a colon with no space is part of the query
    (term,) = parse_terms("speaker:dana\n")
    assert term.name == "speaker:dana" and term.canonical == "speaker:dana"


def test_names_are_unique_case_insensitively_and_queries_required() -> None:
    with pytest.raises(BatchSyntaxError) as info:
        parse_terms("A: libgen\na: books\nempty:\n")
    assert [p.line for p in info.value.problems] == [2, 3]
    assert "no query" in info.value.problems[1].message


def test_empty_and_malformed_files() -> None:
    with pytest.raises(BatchSyntaxError, match="no search terms"):
        parse_terms("# only a comment\n\n")
    with pytest.raises(BatchSyntaxError, match="no 'query' column"):
        parse_terms("name,term\nx,libgen\n", csv_layout=True)
    with pytest.raises(BatchSyntaxError) as info:
        parse_terms('name,query\nx,"libgen w/\n', csv_layout=True)
    assert info.value.problems


def test_csv_errors_give_the_column_within_the_query() -> None:
    with pytest.raises(BatchSyntaxError) as info:
        parse_terms('name,query\nok,libgen\nbad,"libgen OR"\n', csv_layout=True)
    (problem,) = info.value.problems
    assert problem.line == 3
    assert "column 8 of the query" in problem.message  # at the OR


def test_cli_reports_all_errors_and_runs_nothing(tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    result = CliRunner().invoke(app, ["batch", str(BATCH / "bad.txt"), "--report", str(report)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("discovery: ") and "3 problems" in lines[0]
    assert sum("bad.txt: line" in line for line in lines) == 3
    assert not report.exists()
    assert "Traceback" not in result.stderr


def test_unreadable_terms_file(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["batch", str(tmp_path / "nope.txt"), "--report", "r.csv"])
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    binary = tmp_path / "terms.txt"
    binary.write_bytes(b"\xff\xfe\x00libgen")
    bad = CliRunner().invoke(app, ["batch", str(binary), "--report", "r.csv"])
    assert bad.exit_code == 2 and "not UTF-8" in bad.stderr


def test_control_characters_are_refused_with_line_and_column() -> None:
    with pytest.raises(BatchSyntaxError) as info:
        parse_terms("libgen\nbe\x07ll: libgen\n  data \x0c x\n\x0c\n# co\x01mment\n")
    problems = info.value.problems
    assert [(p.line, p.column) for p in problems] == [(2, 3), (3, 8)]
    assert "U+0007" in problems[0].message and "U+000C" in problems[1].message
    with pytest.raises(BatchSyntaxError) as csv_info:
        parse_terms("name,query\nok,libgen\nb\x1bad,libgen\n", csv_layout=True)
    (problem,) = csv_info.value.problems
    assert problem.line == 3 and "U+001B" in problem.message and "name" in problem.message


def test_a_form_feed_does_not_start_a_new_line() -> None:
    with pytest.raises(BatchSyntaxError) as info:
        parse_terms("a: libgen\x0cb: books\nc: data\n")
    assert [p.line for p in info.value.problems] == [1]
