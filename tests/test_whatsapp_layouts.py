"""WhatsApp header layouts of many locales, day/month order per layout, ``--date-order``.

Every expected time below is written from the line itself: what the phone
printed, read the way that locale writes dates.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from discovery.cli import app
from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, RawMessage, SourceFact
from discovery.importers.whatsapp import WhatsAppImporter
from discovery.ingest import ingest
from discovery.matter import open_matter

NBSP, NNBSP, LRM = "\u00a0", "\u202f", "\u200e"
END = datetime(2023, 12, 31, 21, 5)
END_S = datetime(2023, 12, 31, 21, 5, 9)

# (locale or quirk, first header line, the time it says). Each file is this line and
# one more, "1 January 2024 at 08:00" written in the same layout.
LAYOUTS = [
    ("US Android", "12/31/23, 9:05 PM - Ann: hi", "1/1/24, 8:00 AM - Bob: ok", END),
    ("UK Android", "31/12/2023, 21:05 - Ann: hi", "01/01/2024, 08:00 - Bob: ok", END),
    ("German Android", "31.12.23, 21:05 - Ann: hi", "01.01.24, 08:00 - Bob: ok", END),
    ("Spanish, p. m. with NBSP", f"31/12/23, 9:05 p.{NBSP}m. - Ann: hi", f"1/1/24, 8:00 a.{NBSP}m. - Bob: ok", END),  # noqa: E501
    ("Latin America, no comma", "12/31/2023 9:05 p.m. - Ann: hi", "1/1/2024 8:00 a.m. - Bob: ok", END),  # noqa: E501
    ("Japanese, dot after the time", "2023/12/31, 21:05. - Ann: hi", "2024/01/01, 08:00. - Bob: ok", END),  # noqa: E501
    ("colon instead of a dash", "31/12/23, 9:05:09 PM: Ann: hi", "1/1/24, 8:00:00 AM: Bob: ok", END_S),  # noqa: E501
    ("French, à", "31/12/2023 à 21:05 - Ann: salut", "01/01/2024 à 08:00 - Bob: ok", END),
    ("Finnish Android, klo and dotted time", "31.12.2023 klo 21.05 - Ann: moi", "1.1.2024 klo 8.00 - Bob: ok", END),  # noqa: E501
    ("Finnish iOS", "[31.12.2023 klo 21.05.09] Ann: moi", "[1.1.2024 klo 8.00.00] Bob: ok", END_S),
    ("German iOS", "[31.12.23, 21:05:09] Ann: hi", "[01.01.24, 08:00:00] Bob: ok", END_S),
    ("US iOS, NNBSP before PM", f"[12/31/23, 9:05:09{NNBSP}PM] Ann: hi", f"[1/1/24, 8:00:00{NNBSP}AM] Bob: ok", END_S),  # noqa: E501
    ("iOS without a comma", "[31/12/23 9:05:09 p.m.] Ann: hi", "[01/01/24 8:00:00 a.m.] Bob: ok", END_S),  # noqa: E501
    ("Dutch, dashed date", "31-12-2023 21:05 - Ann: hoi", "01-01-2024 08:00 - Bob: ok", END),
    ("Russian", "31.12.2023, 21:05 - Ann: привет", "01.01.2024, 08:00 - Bob: ok", END),
    ("Brazilian, no comma", "31/12/2023 21:05 - Ann: oi", "01/01/2024 08:00 - Bob: ok", END),
    ("U+200E inside the header", f"{LRM}[31.12.23,{LRM} 21:05:09] Ann: hi", f"[01.01.24, 08:00:00{LRM}] Bob: ok", END_S),  # noqa: E501
    ("Italian", "31/12/23, 21:05 - Ann: ciao", "01/01/24, 08:00 - Bob: ok", END),
]  # fmt: skip


def read(tmp_path: Path, text: str, order: str | None = None) -> list[object]:
    p = tmp_path / "WhatsApp Chat with Ann.txt"
    p.write_text(text, encoding="utf-8")
    assert WhatsAppImporter().sniff(p)
    return list(WhatsAppImporter().read(p, ImportContext(UTC, p.name, date_order=order)))


def msgs(items: list[object]) -> list[RawMessage]:
    return [i for i in items if isinstance(i, RawMessage)]


def fact(items: list[object]) -> str:
    (f,) = [i.value for i in items if isinstance(i, SourceFact) and i.name == "date_order"]
    return f


@pytest.mark.parametrize(("name", "first", "second", "when"), LAYOUTS, ids=[x[0] for x in LAYOUTS])
def test_header_layout(tmp_path: Path, name: str, first: str, second: str, when: datetime) -> None:
    ms = msgs(read(tmp_path, f"{first}\n{second}\n"))
    assert [(m.speaker, m.sent_at) for m in ms] == [
        ("Ann", when),
        ("Bob", datetime(2024, 1, 1, 8, 0)),
    ]
    assert ms[1].text == "ok"


def test_at_least_fifteen_layouts() -> None:
    assert len(LAYOUTS) >= 15


AMBIGUOUS = (
    "03/04/23, 10:00 - Ann: the fourth of March?\n03/04/23, 11:00 - Bob: or April the third\n"
)


def test_ambiguous_file_says_so_and_date_order_changes_the_times(tmp_path: Path) -> None:
    items = read(tmp_path, AMBIGUOUS)
    assert [m.sent_at for m in msgs(items)] == [datetime(2023, 4, 3, 10), datetime(2023, 4, 3, 11)]
    assert fact(items) == "DMY (ambiguous: read day-first; use --date-order to change)"
    mdy = read(tmp_path, AMBIGUOUS, "MDY")
    assert [m.sent_at for m in msgs(mdy)] == [datetime(2023, 3, 4, 10), datetime(2023, 3, 4, 11)]
    assert fact(mdy) == "MDY (as --date-order says)"
    ymd = read(tmp_path, AMBIGUOUS, "YMD")  # 03/04/23: the 23rd of April 2003
    assert msgs(ymd)[0].sent_at == datetime(2003, 4, 23, 10)


def test_dmy_and_mdy_files_name_the_line_that_decided(tmp_path: Path) -> None:
    dmy = read(tmp_path, "02/03/23, 10:00 - Ann: a\n13/03/23, 10:00 - Bob: b\n")
    assert msgs(dmy)[0].sent_at == datetime(2023, 3, 2, 10)
    assert fact(dmy) == "DMY (a first field above 12 (a day) at line 2)"
    mdy = read(tmp_path, "02/03/23, 10:00 AM - Ann: a\n02/13/23, 10:00 AM - Bob: b\n")
    assert msgs(mdy)[0].sent_at == datetime(2023, 2, 3, 10)
    assert fact(mdy) == "MDY (a second field above 12 (a day) at line 2)"
    # all ambiguous, but only month-first keeps the dates in order
    chrono = read(tmp_path, "01/12/23, 10:00 - Ann: a\n02/01/23, 10:00 - Bob: b\n")
    assert fact(chrono) == "MDY (every date ambiguous; MDY keeps them in date order)"
    assert msgs(chrono)[1].sent_at == datetime(2023, 2, 1, 10)


def test_mixed_layouts_lose_no_line_and_each_keeps_its_order(tmp_path: Path) -> None:
    text = (
        "[31.12.23, 21:05:09] Ann: from the iPhone\n"
        "[01.02.24, 10:00:00] Ann: dotted, day-first like the line above\n"
        "12/31/23, 9:05 PM - Bob: from the Android phone\n"
        "1/2/24, 9:00 PM - Bob: slashed, month-first like the line above\n"
        "and a continuation line\n"
    )
    items = read(tmp_path, text)
    assert [(m.speaker, m.sent_at) for m in msgs(items)] == [
        ("Ann", datetime(2023, 12, 31, 21, 5, 9)),
        ("Ann", datetime(2024, 2, 1, 10)),
        ("Bob", datetime(2023, 12, 31, 21, 5)),
        ("Bob", datetime(2024, 1, 2, 21)),
    ]
    assert msgs(items)[3].text.endswith("\nand a continuation line")
    assert fact(items) == (
        "'[9.9.9, 9:9:9]' lines: DMY (a first field above 12 (a day) at line 1); "
        "'9/9/9, 9:9 A -' lines: MDY (a second field above 12 (a day) at line 3)"
    )


def test_a_12_hour_time_past_12_is_read_as_24_hour_and_said(tmp_path: Path) -> None:
    items = read(
        tmp_path, "[31/10/22 12:37:00 p.m.] Ann: noon\n[31/10/22 13:37:00 p.m.] Bob: one\n"
    )
    assert [m.sent_at for m in msgs(items)] == [
        datetime(2022, 10, 31, 12, 37),
        datetime(2022, 10, 31, 13, 37),
    ]
    (problem,) = [i for i in items if isinstance(i, ImportProblem)]
    assert problem.line == 2
    assert "12-hour time '13:37 pm' is past 12; read as 24-hour" in problem.reason


def test_date_order_reaches_the_report_and_the_json(tmp_path: Path) -> None:
    p = tmp_path / "chat.txt"
    p.write_text(AMBIGUOUS, encoding="utf-8")
    with open_matter("wa", create=True) as m:
        report = ingest(m, [p], date_order="mdy")
        (src,) = report.sources
        assert src.date_order == "MDY (as --date-order says)"
        assert (src.custodian, src.custodian_defaulted) == ("unassigned", True)
        (stored,) = m.store.db.execute("SELECT report FROM sources").fetchone()
        kept = json.loads(stored)  # what `discovery report` shows later
        assert (kept["date_order"], kept["custodian"], kept["zone"]) == (
            "MDY (as --date-order says)",
            "unassigned",
            "UTC",
        )
    result = CliRunner().invoke(app, ["ingest", str(p), "--matter", "w2", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["date_order"] == "DMY (ambiguous: read day-first; use --date-order to change)"
    assert (row["zone"], row["zone_defaulted"]) == ("UTC", True)
    assert (row["custodian"], row["custodian_defaulted"], row["undated"]) == ("unassigned", True, 0)
    text = CliRunner().invoke(app, ["ingest", str(p), "--matter", "w3", "--date-order", "MDY"])
    assert "date order: " in text.output and "MDY (as --date-order says)" in text.output
    bad = CliRunner().invoke(app, ["ingest", str(p), "--matter", "w4", "--date-order", "DM"])
    assert bad.exit_code == 2
