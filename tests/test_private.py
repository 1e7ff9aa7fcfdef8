"""Private by default, and bounded (issue 13).

Homes, matters, case stores, indexes, the audit log and every export are for
their owner only; queries and phrases have length bounds refused with a
caret; spreadsheet formulas are neutralised however they are disguised.
"""

from __future__ import annotations

import csv
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from openpyxl import load_workbook

from discovery.export import neutralise, xlsx_text
from discovery.query.bounds import MAX_PHRASE_WORDS, MAX_QUERY_CHARS
from tests.conftest import ACME, FIXTURES, invoke


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_homes_matters_and_exports_are_owner_only(discovery_home: Path, tmp_path: Path) -> None:
    with umask(0o022):  # the usual default, which would make everything world-readable
        assert invoke("ingest", str(ACME)).exit_code == 0
        assert invoke("search", "libgen").exit_code == 0  # writes the audit log
        out = tmp_path / "out"
        out.mkdir()
        assert invoke("export", "libgen", "--out", str(out / "hits.csv")).exit_code == 0
        terms = tmp_path / "terms.txt"
        terms.write_text("libgen\n")
        batch = ["batch", str(terms), "--report", str(out / "r.csv"), "--xlsx", str(out / "r.xlsx")]
        assert invoke(*batch).exit_code == 0
        exhibits = invoke(
            "exhibits", "--query", "libgen", "--prefix", "PX", "--out", str(out / "ex.csv"),
            "--transcripts", str(out / "tx"), "--loadfile", str(out / "load" / "load.dat"),
        )  # fmt: skip
        assert exhibits.exit_code == 0
    matter = discovery_home / "default"
    folders = [discovery_home, matter, matter / "index", out / "tx", out / "load" / "TEXT"]
    assert {str(p): mode(p) for p in folders} == {str(p): 0o700 for p in folders}
    made = [
        *matter.glob("case.sqlite*"),
        *(matter / "index").iterdir(),
        discovery_home / "audit.sqlite",
        *(p for p in out.rglob("*") if p.is_file()),
    ]
    assert len(made) > 10
    assert {str(p): mode(p) for p in made} == {str(p): 0o600 for p in made}
    assert invoke("matters").stderr == ""  # nothing to warn about


def test_a_stricter_umask_still_wins(discovery_home: Path, tmp_path: Path) -> None:
    assert invoke("ingest", str(ACME)).exit_code == 0
    with umask(0o277):
        assert invoke("export", "libgen", "--out", str(tmp_path / "hits.csv")).exit_code == 0
    assert mode(tmp_path / "hits.csv") == 0o400


def test_matters_warns_about_a_matter_others_can_read(discovery_home: Path) -> None:
    assert invoke("ingest", str(ACME)).exit_code == 0
    (discovery_home / "default").chmod(0o755)
    listed = invoke("matters")
    assert listed.exit_code == 0
    assert listed.stderr == (
        "discovery: warning: matter 'default' can be read by other users of this computer"
        f" (everyone); to make it private: chmod -R go= {discovery_home / 'default'}\n"
    )


# --- bounds -----------------------------------------------------------------------------------


@pytest.fixture
def acme(discovery_home: Path) -> Path:
    assert invoke("ingest", str(ACME)).exit_code == 0
    return discovery_home


def test_a_query_too_long_is_refused_with_a_caret(acme: Path) -> None:
    query = "libgen OR " * (MAX_QUERY_CHARS // 10) + "libgen"
    result = invoke("search", query)
    assert result.exit_code == 2
    first, shown, caret = result.stderr.rstrip("\n").split("\n")
    assert first == (
        f"discovery: query error at column {MAX_QUERY_CHARS + 1}: the query is"
        f" {len(query):,} characters long; the limit is {MAX_QUERY_CHARS:,} (run a long list"
        " of terms as a batch)"
    )
    assert shown == query and caret == " " * MAX_QUERY_CHARS + "^"


def test_a_phrase_too_long_is_refused_with_a_caret_under_the_extra_words(acme: Path) -> None:
    words = [f"w{i}" for i in range(MAX_PHRASE_WORDS + 3)]
    query = f'libgen AND "{" ".join(words)}"'
    result = invoke("search", query)
    assert result.exit_code == 2
    first, _, caret = result.stderr.rstrip("\n").split("\n")
    assert first == (
        f"discovery: query error at column {query.index(' w100 ') + 2}: a phrase of"
        f" {MAX_PHRASE_WORDS + 3} words is longer than the {MAX_PHRASE_WORDS} words a phrase"
        " may have; shorten it"
    )
    assert caret == " " * query.index("w100") + "^" * len("w100 w101 w102")
    at_limit = '"' + " ".join(words[:MAX_PHRASE_WORDS]) + '"'
    assert invoke("search", at_limit, "--count").stdout == "0\n"


def test_a_query_that_is_not_utf8_is_refused_and_not_run(acme: Path) -> None:
    query = "libgen \udcff"  # the byte 0xFF in a shell argument, as Python hands it over
    result = invoke("search", query)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "discovery: query error at column 8: the query holds bytes that are not UTF-8 text here"
    )
    assert result.stderr.splitlines()[1] == "libgen ⟨U+DCFF⟩"  # shown, never sent raw
    assert "audit" not in result.stderr and invoke("audit", "--json").stdout == ""


def test_a_matter_name_with_a_trailing_newline_is_refused(acme: Path) -> None:
    result = invoke("search", "libgen", "--matter", "default\n")
    assert result.exit_code == 2 and "invalid matter name" in result.stderr


@pytest.mark.parametrize(
    "value",
    [
        " =1+1",
        "\u00a0=1+1",  # no-break space
        "\n=1+1",
        "\u200b=1+1",  # zero-width space
        "\ufeff@SUM(A1)",  # a byte-order mark
        "\u2028-2+3",
        "\uff1d1+1",  # full-width =
        "\uff0b1",
        "\uff0d1",
        "\uff20SUM(A1)",
        "\ufe661+1",  # small =
        "  \t +cmd",
    ],
)
def test_disguised_formulas_are_neutralised(value: str) -> None:
    assert neutralise(value) == "'" + value
    assert xlsx_text(value).startswith("'")


@pytest.mark.parametrize("value", ["a=1", "x", "", "'=1", "Línea", " text", "\u00a0note"])
def test_plain_text_is_left_alone(value: str) -> None:
    assert neutralise(value) == value


def test_an_exported_message_with_a_disguised_formula_cannot_run(
    discovery_home: Path, tmp_path: Path
) -> None:
    src = tmp_path / "f.jsonl"
    src.write_text(
        '{"conversation": "c", "speaker": "A", "time": "2023-01-01T00:00:00Z",'
        ' "text": "\\u00a0=HYPERLINK(\\"http://x.invalid\\") libgen"}\n'
    )
    assert invoke("ingest", str(src)).exit_code == 0
    assert invoke("export", "libgen", "--out", str(tmp_path / "hits.csv")).exit_code == 0
    with (tmp_path / "hits.csv").open(encoding="utf-8", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["text"].startswith("'\u00a0=HYPERLINK")
    terms = tmp_path / "terms.txt"
    terms.write_text("libgen\n")
    xlsx = tmp_path / "r.xlsx"
    assert invoke("batch", str(terms), "--report", str(tmp_path / "r.csv"), "--xlsx", str(xlsx))
    assert load_workbook(xlsx).active["A2"].data_type == "s"


def test_csv_problem_lines_quote_no_cell_text(tmp_path: Path) -> None:
    src = tmp_path / "shifted.csv"
    src.write_text(
        "conversation,speaker,time,text\n"
        "general,Ann,2023-01-05 09:00,fine\n"
        "general,Bob,the merger is off do not tell anyone,2023-01-05 09:01\n"
    )
    result = invoke("ingest", str(src))
    (problem,) = [x for x in result.stdout.splitlines() if x.startswith("problem: ")]
    assert problem == (
        f"problem: {src}:3: column 'time': unreadable time (36 characters); kept undated"
    )
    assert "merger" not in result.stdout
    assert FIXTURES.exists()
