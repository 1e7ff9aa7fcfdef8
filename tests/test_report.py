"""Search term reports: every number checked against an independent count from the raw texts.

A generated Slack corpus is ingested for three custodians (two exports, one of
them collected twice, so messages are shared between custodians). A 30-term
batch runs through ``discovery batch`` with days in America/New_York, where
2023-03-12 has 23 hours and 2023-11-05 has 25. The test counts everything
itself: hit sets with tests/reference_eval.py's naive evaluator over the
stored texts, then conversations, (conversation, local day) pairs with
zoneinfo, custodians and first/last hit in plain Python.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from discovery.batch import parse_terms
from discovery.cli import app
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.report import (
    REPORT_COLUMNS,
    Report,
    ReportRow,
    compare,
    read_report_csv,
    write_report_xlsx,
)
from discovery.synth import generate_slack_export
from tests.conftest import FIXTURES
from tests.reference_eval import RefMessage, evaluate, refs_from_matter

ZONE = "America/New_York"
TERMS = """\
# 30 terms with overlaps, fields, dates around both DST changes, and hostile names
=cmd: libgen
+plus: "ask forgiveness"
-minus: forgiveness w/5 permission
@at: pirat*
"pirated books"
books
model AND data
data OR model
data AND NOT model
legal w/3 contract
license*
publisher?
"for permission"
budget pre/4 meeting
speaker:u0000001*
conversation:general AND data
channel:legal OR libgen
custodian:bob AND books
custodian:carol
spring forward: sent:2023-03-12 AND the
around spring: sent:2023-03-10..2023-03-14
fall back: after:2023-11-04 AND before:2023-11-07
deadline
gpu w/2 cluster
review not w/5 legal
linea
(deal OR price) AND offer
ocr
mirror
"the model"
"""


@dataclass
class Corpus:
    home: Path
    refs: list[RefMessage]
    conv: list[int]
    custodians: list[tuple[str, ...]]
    system: list[bool]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    base = tmp_path_factory.mktemp("report")
    a, b = base / "a", base / "b"
    generate_slack_export(a, 3000, seed=5)
    generate_slack_export(b, 1500, seed=6)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISCOVERY_HOME", str(base / "home"))
        mp.setenv("DISCOVERY_TZ", ZONE)
        with open_matter("default", create=True) as m:
            ingest(m, [a], custodian="Alice")
            ingest(m, [b], custodian="Bob")
            ingest(m, [a], custodian="Carol")  # the same messages, now held by two custodians
            msgs = m.store.messages(range(1, m.store.max_message_id() + 1))
            refs = refs_from_matter(m)
    yield Corpus(
        base / "home",
        refs,
        [x.conversation_id for x in msgs],
        [x.custodians for x in msgs],
        [x.system for x in msgs],
    )


def _expected(c: Corpus) -> list[list[str]]:
    """The report, counted independently of discovery.report."""
    tz = ZoneInfo(ZONE)
    terms = parse_terms(TERMS)
    hits = [
        {i for i, r in enumerate(c.refs) if not c.system[i] and evaluate(t.node, r, tz)}
        for t in terms
    ]
    seen = Counter(i for h in hits for i in h)

    def row(name: str, query: str, ids: set[int], unique: int) -> list[str]:
        times = sorted(c.refs[i].sent_at for i in ids)
        days = {(c.conv[i], c.refs[i].sent_at.astimezone(tz).date()) for i in ids}
        holders = {name for i in ids for name in c.custodians[i]}
        first = times[0].astimezone(tz).isoformat(timespec="seconds") if times else ""
        last = times[-1].astimezone(tz).isoformat(timespec="seconds") if times else ""
        values = [len(ids), unique, len({c.conv[i] for i in ids}), len(days), len(holders)]
        # The corpus has no attachments: every message is a family of its own.
        members = [i for i in ids if c.refs[i].parent is not None]
        assert not members
        return [name, query, *map(str, values), first, last, str(len(ids)), "0"]

    rows = [
        row(t.name, t.canonical, h, sum(1 for i in h if seen[i] == 1))
        for t, h in zip(terms, hits, strict=True)
    ]
    union = set().union(*hits)
    rows.append(row("TOTAL", "", union, sum(1 for n in seen.values() if n == 1)))
    return rows


def _neutral(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell


@pytest.fixture(scope="module")
def run(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("out")
    (out / "terms.txt").write_text(TERMS, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISCOVERY_HOME", str(corpus.home))
        mp.delenv("DISCOVERY_TZ", raising=False)  # the zone comes from --tz
        result = CliRunner().invoke(
            app,
            [
                "batch",
                str(out / "terms.txt"),
                "--report",
                str(out / "r.csv"),
                "--xlsx",
                str(out / "r.xlsx"),
                "--tz",
                ZONE,
            ],
        )
    assert result.exit_code == 0, result.stderr
    return out / "r.csv", out / "r.xlsx"


@pytest.mark.slow
def test_every_number_equals_an_independent_count(corpus: Corpus, run: tuple[Path, Path]) -> None:
    with run[0].open(encoding="utf-8", newline="") as f:
        got = list(csv.reader(f))
    expected = _expected(corpus)
    assert got[0] == list(REPORT_COLUMNS)
    assert len(got) == 32  # header, 30 terms, TOTAL
    for g, e in zip(got[1:], expected, strict=True):
        assert g == [_neutral(e[0]), *e[1:]], e[0]


@pytest.mark.slow
def test_the_corpus_exercises_what_the_report_counts(corpus: Corpus) -> None:
    """Guard against a vacuous pass: overlaps, shared custodians and DST must all matter."""
    expected = {r[0]: r for r in _expected(corpus)}
    total = expected["TOTAL"]
    assert int(total[3]) < int(total[2])  # some messages are hit by several terms
    assert any(0 < int(r[3]) < int(r[2]) for r in expected.values())
    assert {r[6] for r in expected.values()} >= {"1", "2", "3"}
    assert int(expected["spring forward"][2]) > 0 and int(expected["fall back"][2]) > 0
    # Counting days in UTC would give other numbers: the zone is really used.
    tz = ZoneInfo(ZONE)
    utc_days = {(c, r.sent_at.date()) for c, r in zip(corpus.conv, corpus.refs, strict=True)}
    local_days = {
        (c, r.sent_at.astimezone(tz).date()) for c, r in zip(corpus.conv, corpus.refs, strict=True)
    }
    assert utc_days != local_days


@pytest.mark.slow
def test_xlsx_holds_the_same_numbers_with_header_and_frozen_panes(run: tuple[Path, Path]) -> None:
    with run[0].open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    ws = load_workbook(run[1]).active
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0] == list(REPORT_COLUMNS)
    assert ws.freeze_panes == "C2"
    assert len(values) == len(rows)
    for x, c in zip(values[1:], rows[1:], strict=True):
        assert ["" if v is None else v for v in x[:2]] == c[:2]  # openpyxl reads "" as None
        assert x[2:7] == [int(v) for v in c[2:7]]
        assert all(isinstance(v, int) for v in x[2:7])
        assert [v or "" for v in x[7:9]] == c[7:9]
        assert x[9:] == [int(v) for v in c[9:]]  # families, attachments: numbers


@pytest.mark.slow
def test_no_formula_reaches_the_csv_or_the_xlsx(run: tuple[Path, Path]) -> None:
    with run[0].open(encoding="utf-8", newline="") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    assert {"'=cmd", "'+plus", "'-minus", "'@at"} <= set(cells)
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    ws = load_workbook(run[1]).active
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert cell.value[:1] not in ("=", "+", "-", "@"), cell.value
    assert ws["A2"].value == "'=cmd"


@pytest.mark.slow
def test_compare_shows_what_changed(
    corpus: Corpus, run: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = read_report_csv(run[0])
    assert rows[0]["term"] == "=cmd"  # neutralisation undone when read back
    earlier = tmp_path / "earlier.csv"
    with earlier.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, REPORT_COLUMNS)
        w.writeheader()
        for r in rows:
            if r["term"] == "books":
                r = {**r, "messages": str(int(r["messages"]) + 5)}
            if r["term"] != "ocr":
                w.writerow(r)
        w.writerow({**rows[0], "term": "gone"})
    terms = tmp_path / "terms.txt"
    terms.write_text(TERMS, encoding="utf-8")
    monkeypatch.setenv("DISCOVERY_HOME", str(corpus.home))
    result = CliRunner().invoke(
        app,
        [
            "batch",
            str(terms),
            "--report",
            str(tmp_path / "now.csv"),
            "--tz",
            ZONE,
            "--compare",
            str(earlier),
        ],
    )
    assert result.exit_code == 0, result.stderr
    books = next(r for r in rows if r["term"] == "books")
    assert f"books: messages {int(books['messages']) + 5} -> {books['messages']}" in result.stdout
    assert "ocr: added" in result.stdout
    assert "gone: removed" in result.stdout
    assert "=cmd:" not in result.stdout  # unchanged rows are not listed
    changes = {c.term: c.status for c in compare(read_report_csv(earlier), _report_of(rows))}
    assert changes["books"] == "changed"
    assert changes["mirror"] == "same"
    assert changes["ocr"] == "added" and changes["gone"] == "removed"


def _report_of(rows: list[dict[str, str]]) -> Report:
    """A Report built from CSV rows (for :func:`compare` without a matter)."""

    def mk(r: dict[str, str]) -> ReportRow:
        n = [int(r[c]) for c in REPORT_COLUMNS[2:7]]
        families = [int(r[c]) for c in ("families", "attachments")]
        return ReportRow(r["term"], r["query"], *n, r["first_hit"], r["last_hit"], *families)

    body = [mk(r) for r in rows if r["term"] != "TOTAL"]
    total = mk(next(r for r in rows if r["term"] == "TOTAL"))
    return Report(tuple(body), total, (), ZONE)


def test_report_of_an_empty_hit_set(tmp_path: Path) -> None:
    with open_matter("default", create=True) as m:
        ingest(m, [FIXTURES / "slack" / "acme"], custodian="Dana")
    terms = tmp_path / "t.txt"
    terms.write_text("none: zzzznothing\nlibgen\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["batch", str(terms), "--report", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert rows[1] == ["none", "zzzznothing", "0", "0", "0", "0", "0", "", "", "0", "0"]
    assert rows[3][:4] == ["TOTAL", "", "4", "4"]


def test_control_characters_do_not_break_the_xlsx(tmp_path: Path) -> None:
    row = ReportRow("bell\x07name", "q\x00uery", 1, 1, 1, 1, 1, "", "")
    total = ReportRow("TOTAL", "=\x1bcmd", 1, 1, 1, 1, 1, "", "")
    path = tmp_path / "r.xlsx"
    write_report_xlsx(Report((row,), total, (), "UTC"), path)
    ws = load_workbook(path).active
    assert [c.value for c in ws[2]][:3] == ["bell\\x07name", "q\\x00uery", 1]
    assert ws.cell(3, 2).value == "'=\\x1bcmd"  # escaped, and still no formula


def test_batch_refuses_a_term_with_a_control_character(tmp_path: Path) -> None:
    with open_matter("default", create=True) as m:
        ingest(m, [FIXTURES / "slack" / "acme"], custodian="Dana")
    terms = tmp_path / "t.txt"
    terms.write_text("libgen\nbe\x07ll: libgen\n", encoding="utf-8")
    report, xlsx = tmp_path / "r.csv", tmp_path / "r.xlsx"
    result = CliRunner().invoke(
        app, ["batch", str(terms), "--report", str(report), "--xlsx", str(xlsx)]
    )
    assert result.exit_code == 2
    assert "line 2, column 3: a control character (U+0007)" in result.stderr
    assert not report.exists() and not xlsx.exists()
