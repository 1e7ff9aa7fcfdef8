"""The command line: commands, exit statuses, error shapes, JSON and CSV output.

Most cases run in-process through typer's ``CliRunner``; a handful run the real
console entry (``python -m discovery``) in a subprocess, where stderr is a pipe
and no ``COLUMNS`` is set, as in a paralegal's shell script.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.cells import cell_len
from typer.testing import CliRunner, Result

from discovery import candidates
from discovery.cli import app
from discovery.export import HIT_COLUMNS, neutralise
from tests.conftest import FIXTURES

ACME = FIXTURES / "slack" / "acme"
MALFORMED = FIXTURES / "slack" / "malformed"
CONTROL = re.compile(r"MSG-\d{8}")
BOM = b"\xef\xbb\xbf"

# The four acme messages that mention Libgen (data-acquisition 03-07, model-training
# 03-08, legal-review 03-10, the group DM 03-11).
LIBGEN_HITS = 4

JSON_KEYS = {
    "id",
    "conversation",
    "thread",
    "speaker",
    "speaker_id",
    "sent_at",
    "text",
    "platform",
    "custodian",
    "source",
    "native_id",
    "deleted",
    "edited",
}


# --- helpers ----------------------------------------------------------------------------------


def run(*args: str) -> Result:
    """Invoke the typer app in-process; an exception escaping it fails the test."""
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real console entry in a subprocess, with ``home`` as $DISCOVERY_HOME."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["DISCOVERY_HOME"] = str(home)
    env["NO_COLOR"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, "-m", "discovery", *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def controls(text: str) -> list[str]:
    """Control numbers in the order they appear in ``text``."""
    return CONTROL.findall(text)


def msg(n: int) -> str:
    return f"MSG-{n:08d}"


@pytest.fixture
def acme(acme_home: Path, discovery_home: Path) -> Path:
    """This test's own copy of the acme matter, at its $DISCOVERY_HOME."""
    shutil.copytree(acme_home, discovery_home)
    return discovery_home


# --- help ---------------------------------------------------------------------------------------


def test_help_lists_every_command_and_each_has_help() -> None:
    group: Any = typer.main.get_command(app)
    commands: dict[str, Any] = dict(group.commands)
    assert {"ingest", "search", "show", "export", "matters"} <= set(commands)
    assert len(commands) == len(app.registered_commands)

    top = run("--help")
    assert top.exit_code == 0
    listed = re.findall(r"^  (\S+)\s", top.stdout.split("Commands:", 1)[1], re.MULTILINE)
    assert set(listed) == set(commands)

    for name, command in commands.items():
        assert (command.help or "").strip(), f"{name} has no help text"
        sub = run(name, "--help")
        assert sub.exit_code == 0, name
        first = command.help.strip().splitlines()[0]
        assert first[:30] in " ".join(sub.stdout.split()), name
        for param in command.params:
            assert (getattr(param, "help", None) or "").strip(), f"{name} {param.name}: no help"


# --- ingest -------------------------------------------------------------------------------------


def test_ingest_acme_reports_counts() -> None:
    result = run("ingest", str(ACME))
    assert result.exit_code == 0, result.stderr
    assert "50 messages added to matter 'default'" in result.stdout
    assert "imported" in result.stdout
    again = run("ingest", str(ACME), "--json")
    assert again.exit_code == 0
    (report,) = json.loads(again.stdout)
    assert report["status"] == "already imported"
    assert report["added"] == 0


def test_ingest_json_report_parses() -> None:
    result = run("ingest", str(ACME), "--matter", "m1", "--json")
    assert result.exit_code == 0, result.stderr
    (report,) = json.loads(result.stdout)
    assert report["path"] == str(ACME)
    assert report["format"] == "slack"
    assert report["status"] == "imported"
    assert report["added"] == 50
    assert report["duplicates"] == 0
    assert report["system"] > 0
    assert report["problems"] == []


def test_ingest_malformed_imports_what_it_can_and_reports_problems() -> None:
    """Per-entry problems are reported as path:line, but the source imported: exit 0."""
    result = run("ingest", str(MALFORMED))
    assert result.exit_code == 0, result.stdout + result.stderr
    problems = [line for line in result.stdout.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 4
    where = []
    for line in problems:
        m = re.match(r"^problem: (?P<path>\S+\.json):(?P<line>\d+): \S.*$", line)
        assert m, line
        assert Path(m["path"]).is_file()
        assert Path(m["path"]).is_relative_to(MALFORMED)
        where.append((Path(m["path"]).name, int(m["line"])))
    assert ("2023-01-05.json", 2) in where
    assert ("2023-01-05.json", 3) in where
    assert any(name == "2023-01-06.json" for name, _ in where)
    assert ("2023-01-07.json", 2) in where  # an unreadable ts: kept undated
    assert "6 messages added" in result.stdout
    assert run("search", '"good message"', "--count").stdout.strip() == "2"
    assert run("search", '"after the broken day"', "--count").stdout.strip() == "1"


def test_ingest_exits_1_when_a_source_is_unrecognised_but_imports_the_rest(
    tmp_path: Path,
) -> None:
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"\x00\x01 nothing any importer reads \xff")
    result = run("ingest", str(junk), str(ACME), "--json")
    assert result.exit_code == 1
    reports = {r["path"]: r for r in json.loads(result.stdout)}
    assert reports[str(junk)]["status"] == "unrecognised"
    assert reports[str(junk)]["problems"] and str(junk) in reports[str(junk)]["problems"][0]
    assert reports[str(ACME)]["added"] == 50
    human = run("ingest", str(junk))
    assert human.exit_code == 1
    assert f"problem: {junk}: " in human.stdout


def test_ingest_missing_path_is_usage_error(tmp_path: Path) -> None:
    result = run("ingest", str(tmp_path / "nope.zip"))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"discovery: no such file or folder: {tmp_path / 'nope.zip'}"
    ]


# --- search: query syntax errors ---------------------------------------------------------------

# (query, column of the caret counted in terminal cells, caret width)
BAD_QUERIES: list[tuple[str, int, int]] = [
    ('"unclosed', 0, 1),
    ("a AND", 2, 3),
    ("a OR", 2, 2),
    ("OR a", 0, 2),
    ("(a", 0, 1),
    ("a)", 1, 1),
    ("ask forgiveness)", 15, 1),
    ("((a OR b)", 0, 1),
    ("a (b", 2, 1),
    ("a w/ b", 2, 2),
    ("w/5 b", 0, 3),
    ("a w/5", 2, 3),
    ("a w/0 b", 2, 3),
    ("a w/1000 b", 2, 6),
    ("a pre/x b", 2, 5),
    ("a not w/5", 2, 7),
    ("(a AND b) w/5 (c w/2 d)", 14, 9),
    ("a pre/5 (b OR c AND d)", 8, 14),
    ("speaker:", 0, 8),
    ('speaker:"unclosed', 8, 1),
    ("foo:bar", 0, 3),
    ("sent:2023-13-01..2023-01-01", 5, 10),
    ("sent:2023-03-01..2023-01-01", 5, 22),
    ("after:notadate", 6, 8),
    ("before:2023-02-30", 7, 10),
    ("a OR OR b", 5, 2),
    ("a AND AND b", 6, 3),
    ("NOT", 0, 3),
    ("a AND NOT", 6, 3),
    ("()", 0, 2),
    ('""', 0, 2),
    ("*", 0, 1),
    ('"ask *"', 5, 1),
    # A tab shows as one space, so the caret stays under the problem.
    ("a\tAND", 2, 3),
    # Wide characters take two cells each: the caret is padded by cells, not characters.
    ("日本語 AND", 7, 3),
    # Longer than any terminal: must not be wrapped.
    ("word " * 30 + "AND", 150, 3),
]


def assert_caret_error(stderr: str, query: str, column: int, width: int) -> None:
    assert "Traceback" not in stderr
    lines = stderr.rstrip("\n").split("\n")
    assert len(lines) == 3, lines
    message, shown, caret = lines
    assert message.startswith("discovery: query error at column "), message
    assert shown == query.replace("\t", " ")
    assert caret.lstrip(" ") == "^" * width, caret
    assert len(caret) - len(caret.lstrip(" ")) == column
    # The caret is under the character the message names.
    named = int(re.match(r"discovery: query error at column (\d+):", message)[1])  # type: ignore[index]
    assert cell_len(shown[: named - 1]) == column


@pytest.mark.parametrize(("query", "column", "width"), BAD_QUERIES)
def test_search_syntax_error_points_at_the_problem(
    acme: Path, query: str, column: int, width: int
) -> None:
    result = run("search", query)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert_caret_error(result.stderr, query, column, width)


def test_search_too_broad_wildcard_is_a_caret_error(
    acme: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("search", "libgen OR a*", "--count").exit_code == 0
    monkeypatch.setattr(candidates, "MAX_EXPANSION", 3)
    result = run("search", "libgen OR a*")
    assert result.exit_code == 2
    assert_caret_error(result.stderr, "libgen OR a*", 10, 2)
    assert "more than 3 different words" in result.stderr
    assert run("search", "libgen OR a*", "--count").exit_code == 2


def test_search_too_broad_wildcard_caret_at_that_wildcard(
    acme: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(candidates, "MAX_EXPANSION", 3)
    result = run("search", "libgen OR ta* OR a*")
    assert result.exit_code == 2
    assert_caret_error(result.stderr, "libgen OR ta* OR a*", 17, 2)


# --- search: output -----------------------------------------------------------------------------


def test_search_missing_matter_is_one_line_exit_1() -> None:
    result = run("search", "libgen", "--matter", "nope")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("discovery: no matter 'nope'")


def test_search_count(acme: Path) -> None:
    result = run("search", "libgen", "--count")
    assert result.exit_code == 0
    assert result.stdout == f"{LIBGEN_HITS}\n"


def test_search_json_has_every_product_key(acme: Path) -> None:
    result = run("search", "libgen", "--json")
    assert result.exit_code == 0
    hits = json_lines(result.stdout)
    assert len(hits) == LIBGEN_HITS
    assert len({h["id"] for h in hits}) == LIBGEN_HITS
    for h in hits:
        assert set(h) >= JSON_KEYS, JSON_KEYS - set(h)
        assert CONTROL.fullmatch(h["id"])
        assert h["thread"] is None or CONTROL.fullmatch(h["thread"])
        sent = datetime.fromisoformat(h["sent_at"])
        assert sent.utcoffset() == timedelta(0)
        assert re.search(r"[+-]\d\d:\d\d$", h["sent_at"])
        assert "libgen" in h["text"].lower()
        assert h["platform"] == "slack"
        assert h["custodian"] == "unassigned"
        assert h["source"] == str(ACME)
        assert h["speaker"] and h["speaker_id"].startswith("U")
        assert h["native_id"] and h["conversation"]
        assert h["deleted"] is False and h["edited"] is False


def test_search_json_thread_is_root_control_number(acme: Path) -> None:
    (hit,) = json_lines(run("search", '"ping me when it lands"', "--json").stdout)
    (root,) = json_lines(run("search", '"thread for the download plan"', "--json").stdout)
    assert root["thread"] is None
    assert hit["thread"] == root["id"]


def test_search_limit_and_all(acme: Path) -> None:
    query = "the OR a OR to OR we"
    total = int(run("search", query, "--count").stdout)
    assert total > 20
    assert len(json_lines(run("search", query, "--json").stdout)) == total  # every hit
    assert len(json_lines(run("search", query, "--json", "--limit", "3").stdout)) == 3
    everything = json_lines(run("search", query, "--json", "--all").stdout)
    assert len(everything) == total
    human = run("search", query, "--limit", "2")
    assert human.exit_code == 0
    assert len(set(controls(human.stdout))) == 2
    assert human.stdout.splitlines()[-1].endswith("(showing 2; --all shows every hit)")
    assert run("search", query, "--limit", "0").exit_code == 2


def test_search_sort_time(acme: Path) -> None:
    hits = json_lines(run("search", "the OR a", "--json", "--all", "--sort", "time").stdout)
    times = [datetime.fromisoformat(h["sent_at"]) for h in hits]
    assert len(times) > 5
    assert times == sorted(times)
    relevance = json_lines(run("search", "the OR a", "--json", "--all").stdout)
    assert {h["id"] for h in relevance} == {h["id"] for h in hits}
    bad = run("search", "libgen", "--sort", "size")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("discovery: unknown sort 'size'")


def test_search_context_shows_neighbours_in_order(acme: Path) -> None:
    result = run("search", '"long tail"', "--context", "2")
    assert result.exit_code == 0
    shown = controls(result.stdout)
    assert shown == [msg(n) for n in (14, 15, 16, 17, 18)]
    focus = [line for line in result.stdout.splitlines() if line.startswith("▶")]
    assert len(focus) == 1 and msg(16) in focus[0]
    (hit,) = json_lines(run("search", '"long tail"', "--json", "--context", "2").stdout)
    assert [c["id"] for c in hit["context"]] == [msg(n) for n in (14, 15, 16, 17, 18)]


def test_search_summary_and_zero_hits(acme: Path) -> None:
    result = run("search", "libgen")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "4 messages in 4 conversations, 1 custodian"
    none = run("search", "zzqxv")
    assert none.exit_code == 0
    assert none.stdout.strip() == "0 messages in 0 conversations, 0 custodians"
    assert run("search", "zzqxv", "--count").stdout == "0\n"
    empty_json = run("search", "zzqxv", "--json")
    assert empty_json.exit_code == 0 and empty_json.stdout == ""


# --- show ---------------------------------------------------------------------------------------


def test_show_context_around_a_message(acme: Path) -> None:
    result = run("show", msg(16), "--context", "2", "--query", "libgen")
    assert result.exit_code == 0, result.stderr
    assert controls(result.stdout) == [msg(n) for n in (14, 15, 16, 17, 18)]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("data-acquisition")
    focus = [line for line in lines if line.startswith("▶")]
    assert len(focus) == 1 and msg(16) in focus[0]
    assert "Libgen is essential for this." in result.stdout
    # The same message by bare number, with less context.
    short = run("show", "16", "--context", "1")
    assert controls(short.stdout) == [msg(n) for n in (15, 16, 17)]


@pytest.mark.parametrize("bad", ["foo", "MSG-12x", "MSG-", "99999999999999999999999"])
def test_show_bad_control_number_is_usage_error(acme: Path, bad: str) -> None:
    result = run("show", bad)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"discovery: {bad!r} is not a control number (e.g. MSG-00000042)"
    ]


def test_show_unknown_message_exits_1(acme: Path) -> None:
    result = run("show", "MSG-00009999")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "discovery: no message MSG-00009999 in this matter"
    ]


# --- bounds on numbers -------------------------------------------------------------------------


def test_every_int_option_has_bounds() -> None:
    """An unbounded int reaches SQLite's LIMIT and overflows there (OverflowError)."""
    group: Any = typer.main.get_command(app)
    ints = [  # an int option is click's INT or IntRange ("int", "int range" in typer < 0.29)
        (name, param.name, getattr(param.type, "min", None), getattr(param.type, "max", None))
        for name, command in group.commands.items()
        for param in command.params
        if param.type.name.startswith("int")
    ]
    assert {(n, p) for n, p, _, _ in ints} >= {("search", "limit")}
    assert all(lo is not None and hi is not None for _, _, lo, hi in ints), ints
    # --context takes N, a time, thread or day: bounded by its own parser (docs/QUERY.md)
    contexts = {
        name
        for name, command in group.commands.items()
        for param in command.params
        if param.name == "context"
    }
    assert contexts >= {"search", "show", "export", "exhibits"}


HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "args",
    [
        ("search", "libgen", "--context", HUGE),
        ("search", "libgen", "--json", "--context", HUGE),
        ("search", "libgen", "--limit", HUGE),
        ("show", "16", "--context", HUGE),
        ("exhibits", "--query", "libgen", "--prefix", "PX", "--out", "x.csv", "--context", HUGE),
        ("search", "libgen", "--context", "101"),
        ("show", "16", "--context", "-1"),
    ],
)
def test_huge_numbers_are_usage_errors_not_crashes(acme: Path, args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.stdout + result.stderr
    if "--limit" in args:  # click's range check (typer < 0.29)
        said = r"Invalid value for '--limit': -?[0-9]+ is not in the range [0-9]+<=x<=[0-9]+"
    else:  # the context spec's own parser
        said = r"Invalid value for '--context': Input should be 0 to [0-9]+ \(messages each side\)"
    assert re.search(said, result.stderr), result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


def test_the_largest_allowed_numbers_work(acme: Path) -> None:
    from discovery.cli import MAX_CONTEXT, MAX_LIMIT, MAX_SHOW_CONTEXT

    assert run("search", "libgen", "--limit", str(MAX_LIMIT)).exit_code == 0
    wide = run("search", "libgen", "--json", "--context", str(MAX_CONTEXT))
    assert wide.exit_code == 0 and len(json_lines(wide.stdout)) == LIBGEN_HITS
    assert controls(run("show", "16", "--context", str(MAX_SHOW_CONTEXT)).stdout)


# --- export -------------------------------------------------------------------------------------


def read_csv(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.reader(f))


def test_export_writes_one_row_per_hit(acme: Path, tmp_path: Path) -> None:
    out = tmp_path / "hits.csv"
    result = run("export", "libgen", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert f"{LIBGEN_HITS} hits written to" in result.stderr
    raw = out.read_bytes()
    assert not raw.startswith(BOM)
    rows = read_csv(out)
    assert rows[0] == list(HIT_COLUMNS)
    body = [dict(zip(HIT_COLUMNS, r, strict=True)) for r in rows[1:]]
    assert len(body) == LIBGEN_HITS
    ids = {h["id"] for h in json_lines(run("search", "libgen", "--json").stdout)}
    assert {r["control_number"] for r in body} == ids
    times = [r["sent_at_utc"] for r in body]
    assert times == sorted(times)
    for r in body:
        assert "libgen" in r["text"].lower()
        assert r["source_paths"] == str(ACME)
        assert re.fullmatch(r"[0-9a-f]{64}", r["source_sha256"])
        assert r["platform"] == "slack"


def test_export_bom(acme: Path, tmp_path: Path) -> None:
    out = tmp_path / "hits.csv"
    assert run("export", "libgen", "--out", str(out), "--bom").exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(BOM) and not raw.startswith(BOM * 2)
    assert read_csv(out, "utf-8-sig")[0] == list(HIT_COLUMNS)


def test_export_unwritable_path_is_one_line(acme: Path, tmp_path: Path) -> None:
    made = tmp_path / "no" / "such" / "dir.csv"  # missing folders are created
    assert run("export", "libgen", "--out", str(made)).exit_code == 0
    assert len(read_csv(made)) == 5  # the header and the four libgen hits
    result = run("export", "libgen", "--out", str(made / "under-a-file.csv"))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"discovery: cannot write {made / 'under-a-file.csv'}: {made} is a file, not a folder"
    ]


def test_export_neutralises_formulas_and_keeps_utf8(tmp_path: Path) -> None:
    source = tmp_path / "evil.csv"
    texts = [
        '=HYPERLINK("http://x.test","payload click")',
        "+1+2 payload",
        "-2+3 payload",
        "@SUM(A1) payload",
        "Línea payload ünïcödé ✓",
    ]
    with source.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["conversation", "speaker", "time", "text"])
        for i, text in enumerate(texts):
            w.writerow(["general", "=Mallory" if i == 0 else "Ann", f"2023-01-05 09:0{i}", text])
    assert run("ingest", str(source), "--matter", "inj").exit_code == 0
    out = tmp_path / "out.csv"
    result = run("export", "payload", "--matter", "inj", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    out.read_bytes().decode("utf-8")  # strict UTF-8
    rows = [dict(zip(HIT_COLUMNS, r, strict=True)) for r in read_csv(out)[1:]]
    assert [r["text"] for r in rows] == ["'" + t if t[0] in "=+-@" else t for t in texts]
    assert rows[0]["speaker"] == "'=Mallory"
    for r in rows:
        for column, value in r.items():
            assert not value.startswith(("=", "+", "-", "@")), (column, value)
            if r["text"].startswith("'"):
                assert r["snippet"].startswith("'")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        (" =1", "' =1"),  # spreadsheets skip leading spaces
        ("", ""),
        ("'=1", "'=1"),
        ("Línea", "Línea"),
    ],
)
def test_neutralise(value: str, expected: str) -> None:
    assert neutralise(value) == expected


# --- matters ------------------------------------------------------------------------------------


def test_matters_lists_each_matter_with_counts(acme: Path) -> None:
    assert run("ingest", str(FIXTURES / "jsonl" / "messages.jsonl"), "-m", "other").exit_code == 0
    result = run("matters", "--json")
    assert result.exit_code == 0
    rows = {
        o["matter"]: [o["messages"], o["conversations"], o["custodians"], o["sources"], o["zone"]]
        for o in json_lines(result.stdout)
    }
    assert rows == {"default": [50, 6, 1, 1, "UTC"], "other": [3, 1, 1, 1, "UTC"]}
    table = run("matters").stdout
    assert re.search(r"default \*\s+50\s+6\s+1\s+1\s+UTC", table)  # * the default matter
    assert re.search(r"other\s+3\s+1\s+1\s+1\s+UTC", table)


def test_a_matter_keeps_its_own_display_zone(acme: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # MSG 15 was sent 2023-03-07 15:12 UTC; 30 at 2023-03-09 02:10 UTC, the 8th in New York.
    assert run("search", "sent:2023-03-08 AND forgiveness", "--count").stdout.strip() == "0"
    result = run("matters", "--matter", "default", "--display-tz", "America/New_York")
    assert result.exit_code == 0 and "America/New_York" in result.stdout
    assert run("search", "sent:2023-03-08 AND forgiveness", "--count").stdout.strip() == "1"
    shown = run("show", "MSG-00000030", "--context", "0").stdout
    assert "21:10:00" in shown and "2023-03-08" in shown
    assert "America/New_York" in run("matters").stdout
    monkeypatch.setenv("DISCOVERY_TZ", "UTC")  # the environment still overrides
    assert run("search", "sent:2023-03-08 AND forgiveness", "--count").stdout.strip() == "0"


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["--matter", "default", "--display-tz", "Mars/Olympus"], 2),
        (["--matter", "nowhere", "--display-tz", "UTC"], 1),
    ],
)
def test_setting_a_display_zone_needs_a_matter_and_a_real_zone(
    acme: Path, args: list[str], status: int
) -> None:
    result = run("matters", *args)
    assert result.exit_code == status
    assert "Traceback" not in result.output


def test_matters_when_there_are_none() -> None:
    result = run("matters")
    assert result.exit_code == 0
    assert result.stdout.startswith("home: ")
    assert "no matters there yet" in result.stdout


# --- the real console entry ---------------------------------------------------------------------


def test_console_entry_end_to_end(tmp_path: Path) -> None:
    home = tmp_path / "sub_home"
    r = run_cli(home, "--help")
    assert r.returncode == 0 and "ingest" in r.stdout and "search" in r.stdout

    r = run_cli(home, "search", "libgen")
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr

    r = run_cli(home, "ingest", str(ACME), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["added"] == 50
    assert (home / "default").is_dir()

    r = run_cli(home, "search", "libgen", "--json", "--sort", "time")
    assert r.returncode == 0
    hits = json_lines(r.stdout)
    assert len(hits) == LIBGEN_HITS and all(set(h) >= JSON_KEYS for h in hits)

    # No COLUMNS and stderr a pipe: the long message must still be one line.
    r = run_cli(home, "search", "foo:bar AND libgen")
    assert r.returncode == 2
    assert_caret_error(r.stderr, "foo:bar AND libgen", 0, 3)
    assert len(r.stderr.splitlines()[0]) > 80

    r = run_cli(home, "show", "not-a-number")
    assert r.returncode == 2 and "Traceback" not in r.stderr

    out = tmp_path / "e.csv"
    r = run_cli(home, "export", "libgen", "--out", str(out), "--bom")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert len(rows) == LIBGEN_HITS + 1


ENTRY_REPORTING_MODULES = """
import atexit, sys
def loaded():
    heavy = ("pydantic", "whoosh", "textual", "regex")
    names = [m for m in sys.modules if m.startswith("discovery.cli.") or m.split(".")[0] in heavy]
    sys.stderr.write("loaded: " + " ".join(sorted(names)) + "\\n")
atexit.register(loaded)
sys.argv[0] = "discovery"
from discovery.cli import main
main()
"""
"""The console entry, telling on stderr which command modules and heavy packages it loaded."""


def run_entry(
    home: Path, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    r = subprocess.run(
        [sys.executable, "-c", ENTRY_REPORTING_MODULES, *args],
        env={**os.environ, "DISCOVERY_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = r.stderr.splitlines()
    assert lines and lines[-1].startswith("loaded:"), r.stderr
    return r, lines[-1].split()[1:]


def test_a_command_loads_only_its_own_module(acme: Path) -> None:
    """Start-up: `discovery search` builds the commands of cli/search.py alone, and loads
    neither pydantic (typer < 0.29 builds no model per option) nor Whoosh nor Textual,
    nor the `regex` module for an ASCII query over ASCII hits (only other text needs it)."""
    r, loaded = run_entry(acme, "search", "libgen")
    assert r.returncode == 0, r.stderr
    assert len(CONTROL.findall(r.stdout)) == LIBGEN_HITS
    assert loaded == ["discovery.cli.common", "discovery.cli.search"]
    r, loaded = run_entry(acme, "tags")
    assert r.returncode == 0 and loaded == ["discovery.cli.common", "discovery.cli.tags"]


ENTRY_REPORTING_NUMPY = """
import atexit, sys
atexit.register(lambda: sys.stderr.write(f"numpy: {'numpy' in sys.modules}\\n"))
sys.argv[0] = "discovery"
from discovery.cli import main
main()
"""


def numpy_loaded(home: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], bool]:
    """Run the console entry; whether numpy was imported by the time it exited."""
    r = subprocess.run(
        [sys.executable, "-c", ENTRY_REPORTING_NUMPY, *args],
        env={**os.environ, "DISCOVERY_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    return r, r.stderr.splitlines()[-1] == "numpy: True"


@pytest.mark.parametrize(
    "args",
    [
        ("libgen",),
        ("libgen", "--json"),
        ("libgen", "--sort", "time"),
        ('"ask forgiveness" OR pirat*',),
        ("forgiveness w/5 permission", "--count"),
    ],
)
def test_a_rare_word_search_does_not_import_numpy(acme: Path, args: tuple[str, ...]) -> None:
    """Start-up: a search whose words are rare (:mod:`discovery.fewhits`) is answered,
    ranked, summarised and logged without importing numpy."""
    r, loaded = numpy_loaded(acme, "search", *args)
    assert not loaded
    if args[0] == "libgen":
        assert len(CONTROL.findall(r.stdout)) == LIBGEN_HITS
    elif "--count" in args:
        assert int(r.stdout) > 0
    else:
        assert CONTROL.findall(r.stdout)


def test_a_date_range_search_still_imports_numpy(acme: Path) -> None:
    """What the probe above would see: a date range is answered over the arrays."""
    r, loaded = numpy_loaded(acme, "search", "libgen AND sent:2023-03-01..2023-03-31")
    assert loaded and CONTROL.findall(r.stdout)


def test_help_and_completion_still_see_every_command(acme: Path) -> None:
    from discovery.cli import COMMANDS, MODULES

    everything = sorted(f"discovery.cli.{m}" for m in ("common", *MODULES))
    r, loaded = run_entry(acme, "--help")
    listed = set(re.findall(r"^  (\w+) ", r.stdout.split("Commands:")[1], re.MULTILINE))
    assert r.returncode == 0 and listed == set(COMMANDS) and loaded == everything
    completion = {"_DISCOVERY_COMPLETE": "complete_bash", "COMP_CWORD": "1"}
    r, loaded = run_entry(acme, COMP_WORDS="discovery e", **completion)
    assert sorted(r.stdout.split()) == ["exhibits", "explain", "export"] and loaded == everything
    r, _ = run_entry(acme, COMP_WORDS="discovery search --co", **{**completion, "COMP_CWORD": "2"})
    assert r.stdout.split() == ["--count", "--context"]


def test_the_command_map_matches_what_the_modules_register() -> None:
    """cli/__init__.py names each command's module so that a run imports only that one."""
    from discovery.cli import COMMANDS, MODULES

    registered = {
        (c.name or c.callback.__name__): c.callback.__module__.rsplit(".", 1)[1]
        for c in app.registered_commands
        if c.callback is not None
    }
    assert registered == COMMANDS and set(COMMANDS.values()) == set(MODULES)


def test_console_entry_problem_lines_are_never_wrapped(tmp_path: Path) -> None:
    deep = tmp_path / ("a-folder-name-long-enough-to-pass-eighty-columns-" * 2) / "malformed"
    shutil.copytree(MALFORMED, deep)
    r = run_cli(tmp_path / "sub_home", "ingest", str(deep))
    assert r.returncode == 0, r.stderr
    problems = [line for line in r.stdout.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 4
    for line in problems:
        m = re.match(r"^problem: (?P<path>\S+\.json):(?P<line>\d+): \S.*$", line)
        assert m and Path(m["path"]).is_file() and Path(m["path"]).is_relative_to(deep), line
    assert "6 messages added to matter 'default'" in r.stdout.splitlines()


def test_console_entry_usage_errors_have_no_traceback(tmp_path: Path) -> None:
    home = tmp_path / "sub_home"
    for args, status in (
        (["search"], 2),
        (["ingest", str(tmp_path / "missing")], 2),
        (["ingest", str(ACME), "--tz", "Mars/Base"], 2),
        (["search", "x", "--matter", "bad/name"], 2),
        (["frobnicate"], 2),
    ):
        r = run_cli(home, *args)
        assert r.returncode == status, (args, r.stderr)
        assert "Traceback" not in r.stderr + r.stdout
        assert r.stderr.strip()
