"""Concordance DAT load files: delimiters, encoding, escapes, one text file per message."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from discovery import loadfile
from discovery.cli import app
from discovery.ingest import ingest
from discovery.matter import open_matter
from tests.conftest import FIXTURES

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def acme() -> None:
    with open_matter("default", create=True) as m:
        ingest(m, [FIXTURES / "slack" / "acme"], custodian="Dana")


def exhibits(tmp_path: Path, dat: Path) -> Result:
    """Run ``discovery exhibits`` for "libgen", writing the load file to ``dat``."""
    return CliRunner().invoke(
        app,
        ["exhibits", "--query", "libgen", "--prefix", "PX", "--out", str(tmp_path / "ex.csv"),
         "--loadfile", str(dat)],
    )  # fmt: skip


def test_delimiters_are_the_concordance_defaults() -> None:
    assert loadfile.COLUMN == "\x14"  # ASCII 020, displayed as ¶ in code page 437
    assert loadfile.QUOTE == "þ" == "\u00fe"  # ASCII 254
    assert loadfile.NEWLINE == "®" == "\u00ae"  # ASCII 174
    assert loadfile.record(["a", "b"]) == "þaþ\x14þbþ\r\n"


def test_values_cannot_break_the_record() -> None:
    line = loadfile.record(["Þór þór", "two\r\nlines\nhere", "tab\x14bed"])
    assert line == "þÞór thórþ\x14þtwo®lines®hereþ\x14þtab bedþ\r\n"
    assert line.count("\x14") == 2 and line.count("\u00fe") == 6


def test_cli_writes_dat_and_text_files(acme: None, tmp_path: Path) -> None:
    dat = tmp_path / "prod" / "load.dat"
    result = exhibits(tmp_path, dat)
    assert result.exit_code == 0, result.stderr
    raw = dat.read_bytes()
    assert raw.startswith(BOM + "þCONTROLNUMBERþ\x14".encode())
    assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == 5  # header + 4 records
    records = loadfile.read_dat(dat)
    assert list(records[0]) == list(loadfile.FIELDS)
    assert [r["EXHIBIT"] for r in records] == ["PX-000001", "PX-000002", "PX-000003", "PX-000004"]
    first = records[0]
    assert first["CONTROLNUMBER"] == "MSG-00000016"
    assert first["CUSTODIAN"] == "Dana"
    assert first["SENTTIME_UTC"] == "2023-03-07 15:15:00"
    assert first["SPEAKER"] == "tom.o"
    assert first["CONVERSATION"] == "data-acquisition"
    assert "Marcus" in first["PARTICIPANTS"].split(";")
    assert first["TEXTPATH"] == "TEXT\\MSG-00000016.txt"
    for r in records:
        text_file = dat.parent / r["TEXTPATH"].replace("\\", "/")
        body = text_file.read_bytes()
        assert body.startswith(BOM)
        assert "libgen" in body.decode("utf-8-sig").lower()
    assert len(list((dat.parent / "TEXT").iterdir())) == 4


def test_earlier_versions_go_into_the_text_file(acme: None) -> None:
    with open_matter("default") as m:
        msg = replace(m.store.message(16), text="now\nsecond line", versions=("before",))
        body = loadfile.text_file_body(msg)
    assert body == "now\nsecond line\n\n--- earlier version 1 ---\nbefore\n"


def test_unwritable_target_is_a_clear_error(acme: None, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = exhibits(tmp_path, blocker / "load.dat")
    assert result.exit_code == 2  # refused before anything is written
    assert f"{blocker} is a file, not a folder" in result.stderr


def test_a_literal_newline_marker_is_not_read_as_a_line_break() -> None:
    assert loadfile.clean("Acme® Corp\nnext line") == "Acme(R) Corp®next line"
    # only the real line break survives as ®, so the importer restores one line break
    assert loadfile.clean("®\r\n®").count(loadfile.NEWLINE) == 1


def test_a_semicolon_inside_a_name_does_not_split_the_multi_value_field() -> None:
    assert loadfile.multi_value(["Doe; Jane", "Roe"]) == "Doe, Jane;Roe"
    assert loadfile.multi_value([]) == ""


def test_custodian_with_semicolon_and_mark_in_the_dat(tmp_path: Path) -> None:
    with open_matter("default", create=True) as m:
        ingest(m, [FIXTURES / "slack" / "acme"], custodian="Doe; Jane®")
    dat = tmp_path / "load.dat"
    result = exhibits(tmp_path, dat)
    assert result.exit_code == 0, result.stderr
    records = loadfile.read_dat(dat)
    assert {r["CUSTODIAN"] for r in records} == {"Doe, Jane(R)"}
    assert all(loadfile.NEWLINE not in r["CUSTODIAN"] for r in records)
