"""Exhibit lists: numbering in time order, stable numbers, context excerpts, transcripts."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from discovery import exhibits
from discovery.cli import app
from discovery.errors import UsageError
from discovery.ingest import ingest
from discovery.matter import open_matter
from tests.conftest import FIXTURES

ACME = FIXTURES / "slack" / "acme"
# Tagged out of time order on purpose: 45 (03-11), 16 (03-07), 29 (03-08), 39 (03-10).
TAGGED = [45, 16, 29, 39]


@pytest.fixture
def acme() -> None:
    with open_matter("default", create=True) as m:
        ingest(m, [ACME], custodian="Dana")
        m.store.tag(TAGGED, "hot")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_numbered_in_time_order_with_context(acme: None, tmp_path: Path) -> None:
    out = tmp_path / "ex.csv"
    result = invoke("exhibits", "--tag", "hot", "--prefix", "PX", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    rows = read(out)
    assert [r["exhibit"] for r in rows] == [f"PX-00000{n}" for n in range(1, 5)]
    assert [r["control_number"] for r in rows] == [
        "MSG-00000016",
        "MSG-00000029",
        "MSG-00000039",
        "MSG-00000045",
    ]
    assert [r["sent_at_utc"] for r in rows] == sorted(r["sent_at_utc"] for r in rows)
    first = rows[0]["context"].splitlines()
    marked = [line for line in first if line.startswith(">>")]
    assert len(marked) == 1 and "MSG-00000016" in marked[0] and "Libgen is essential" in marked[0]
    assert len(first) == 7  # three before, the exhibit, three after (default --context 3)
    assert rows[0]["tags"] == "hot"


def test_numbers_are_stable_when_rebuilt(acme: None, tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert invoke("exhibits", "--tag", "hot", "--prefix", "PX", "--out", str(a)).exit_code == 0
    assert invoke("exhibits", "--tag", "hot", "--prefix", "PX", "--out", str(b)).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    # the same selection made by a query numbers the same messages the same way
    q = tmp_path / "q.csv"
    assert (
        invoke("exhibits", "--query", "tag:hot", "--prefix", "PX", "--out", str(q)).exit_code == 0
    )
    assert [r["exhibit"] + r["control_number"] for r in read(q)] == [
        r["exhibit"] + r["control_number"] for r in read(a)
    ]


def test_query_selection_context_and_transcripts(acme: None, tmp_path: Path) -> None:
    out, folder = tmp_path / "ex.csv", tmp_path / "transcripts"
    result = invoke(
        "exhibits", "--query", "libgen", "--prefix", "DEF_EX", "--out", str(out),
        "--context", "1", "--transcripts", str(folder),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = read(out)
    assert len(rows) == 4
    assert all(len(r["context"].splitlines()) <= 3 for r in rows)
    files = sorted(p.name for p in folder.iterdir())
    assert files == [f"DEF_EX-00000{n}.txt" for n in range(1, 5)]
    text = (folder / "DEF_EX-000001.txt").read_text(encoding="utf-8")
    assert text.startswith("Exhibit DEF_EX-000001\nControl number: MSG-00000016\n")
    assert ">> [" in text


def test_context_zero_is_the_message_alone(acme: None) -> None:
    with open_matter("default") as m:
        (e,) = exhibits.build(m, {16}, "PX", 0)
        assert [c.id for c in e.context] == [16]
        assert exhibits.context_text(e, m.tz).startswith(">> [")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--tag", "hot", "--query", "libgen"], "exactly one of --tag or --query"),
        ([], "exactly one of --tag or --query"),
        (["--tag", "hot", "--prefix", "P X"], "invalid exhibit prefix"),
        (["--tag", "hot", "--prefix", "=PX"], "invalid exhibit prefix"),
        (["--query", "libgen w/"], "query error"),
    ],
)
def test_bad_usage_exits_2(acme: None, tmp_path: Path, args: list[str], needle: str) -> None:
    if "--prefix" not in args:
        args = [*args, "--prefix", "PX"]
    result = invoke("exhibits", *args, "--out", str(tmp_path / "x.csv"))
    assert result.exit_code == 2
    assert needle in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_an_output_in_missing_folders_creates_them_owner_only(acme: None, tmp_path: Path) -> None:
    out = tmp_path / "case" / "exhibits" / "ex.csv"
    result = invoke("exhibits", "--tag", "hot", "--prefix", "PX", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert len(read(out)) == len(TAGGED)
    for folder in (tmp_path / "case", out.parent):
        assert folder.stat().st_mode & 0o777 == 0o700
    assert out.stat().st_mode & 0o777 == 0o600


def test_an_output_that_is_a_folder_or_under_a_file_is_refused(acme: None, tmp_path: Path) -> None:
    folder = invoke("exhibits", "--tag", "hot", "--prefix", "PX", "--out", str(tmp_path))
    assert folder.exit_code == 2 and folder.stdout == ""
    assert folder.stderr == (
        f"discovery: {tmp_path} is a folder: give the name of the file to write in it\n"
    )
    plain = tmp_path / "notes.txt"
    plain.write_text("x")
    under = invoke("exhibits", "--tag", "hot", "--prefix", "PX", "--out", str(plain / "ex.csv"))
    assert under.exit_code == 2
    assert under.stderr == (
        f"discovery: cannot write {plain / 'ex.csv'}: {plain} is a file, not a folder\n"
    )
    assert plain.read_text() == "x"


@pytest.mark.parametrize("ending", ["/", "/.", "/.."])
def test_a_missing_folder_given_as_the_output_file_is_refused(
    acme: None, tmp_path: Path, ending: str
) -> None:
    # "new/" names a folder; a Path of it is "new", so without this check a file named
    # like the folder would be written where the user expects a folder.
    out = tmp_path / "out"
    out.mkdir()
    typed = f"{out / 'new'}{ending}"
    for args in (
        ("exhibits", "--tag", "hot", "--prefix", "PX", "--out", typed),
        ("export", "libgen", "--out", typed),
        ("batch", str(FIXTURES / "batch" / "terms.txt"), "--report", typed),
    ):
        result = invoke(*args)
        assert result.exit_code == 2, args
        assert "names a folder: give the name of the file to write in it" in result.stderr
        assert result.stdout == ""
        assert list(out.iterdir()) == []


def test_an_unknown_tag_is_an_error_naming_the_tags_there_are(acme: None, tmp_path: Path) -> None:
    out = tmp_path / "ex.csv"
    result = invoke("exhibits", "--tag", "nothing", "--prefix", "PX", "--out", str(out))
    assert result.exit_code == 1
    assert "no message is tagged 'nothing'; the tags in this matter are: hot" in result.stderr
    assert not out.exists()


def test_an_empty_selection_writes_a_header_only(acme: None, tmp_path: Path) -> None:
    out = tmp_path / "ex.csv"
    result = invoke("exhibits", "--query", "zzznothing", "--prefix", "PX", "--out", str(out))
    assert result.exit_code == 0
    assert read(out) == []
    assert out.read_text(encoding="utf-8").startswith(",".join(exhibits.EXHIBIT_COLUMNS))


@pytest.mark.parametrize(
    ("tag", "query"),
    [("hot", "tag:hot"), ("not hot", 'tag:"not hot"'), ("a&b", 'tag:"a&b"'), ("x_y", 'tag:"x_y"')],
)
def test_tag_query_names_the_tag(tag: str, query: str) -> None:
    from discovery.query.parser import parse

    assert exhibits.tag_query(tag) == query
    parse(query)  # it is a valid query


@pytest.mark.parametrize("tag", ['say "hi"', "“quoted”", "hot*", "h?t", "!!!"])
def test_tags_a_query_cannot_name_are_refused(tag: str) -> None:
    with pytest.raises(UsageError, match="cannot be written as a query"):
        exhibits.tag_query(tag)


@pytest.mark.parametrize(
    "prefix", ["PX", "DEF_EX", "a.b", "X" * 32, "P X", "=PX", "", "X" * 33, "A-1"]
)
def test_exhibit_and_bates_prefixes_follow_one_rule(prefix: str) -> None:
    from discovery.produce.bates import check_prefix

    good = bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.]{0,31}", prefix))
    for kind in ("exhibit", "Bates"):
        if good:
            assert check_prefix(prefix, kind) == prefix
        else:
            with pytest.raises(UsageError, match=f"invalid {kind} prefix"):
                check_prefix(prefix, kind)
