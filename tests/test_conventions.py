"""Command-line habits (issue 10): where matters are found, pipes, output files,
--json/--csv, tags from the command line, tables at 80 columns, examples in --help."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from discovery import audit
from discovery.cli import app
from discovery.matter import open_matter
from discovery.search import result_hash
from tests.conftest import FIXTURES, ROOT

ACME = FIXTURES / "slack" / "acme"
LIBGEN = [16, 29, 39, 45]
"""The acme messages that mention Libgen."""


def run(*args: str, **env: str) -> Result:
    result = CliRunner().invoke(app, list(args), env=env or None)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


@pytest.fixture
def acme(acme_home: Path, discovery_home: Path) -> Path:
    shutil.copytree(acme_home, discovery_home)
    return discovery_home


def not_system(home: Path) -> list[int]:
    """Every acme message that is not a system event, read from the store (oldest first)."""
    with open_matter("default") as m:
        rows = m.store.db.execute(
            "SELECT id FROM messages WHERE system = 0 ORDER BY sent_us, id"
        ).fetchall()
    return [r[0] for r in rows]


# --- where matters live ---------------------------------------------------------------------------


def test_matters_are_found_from_another_folder_and_from_a_subfolder(
    acme_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discovery import config

    monkeypatch.delenv("DISCOVERY_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    # A name no folder above tmp_path has (an "indexes/" in /tmp would be found first).
    monkeypatch.setattr(config, "PROJECT_DIR", f"indexes-{tmp_path.name}")
    project = tmp_path / "case"
    shutil.copytree(acme_home, project / config.PROJECT_DIR)
    deep = project / "exhibits" / "day1"
    deep.mkdir(parents=True)

    for where in (project, deep):
        monkeypatch.chdir(where)
        listed = run("matters", "--json")
        assert listed.exit_code == 0, listed.stderr
        assert [json.loads(line)["matter"] for line in listed.stdout.splitlines()] == ["default"]
        said = run("matters").stdout
        assert (
            f"home: {project / config.PROJECT_DIR} (the nearest {config.PROJECT_DIR}/ folder)"
            in said
        )
        assert run("search", "libgen", "--count").stdout == "4\n"

    # Elsewhere, the per-user data folder: what is ingested from one folder is found from another.
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    monkeypatch.chdir(one)
    made = run("ingest", str(FIXTURES / "whatsapp" / "android_uk_24h.txt"), "-m", "chat")
    assert made.exit_code == 0, made.stderr
    monkeypatch.chdir(two)
    said = run("matters").stdout
    assert f"home: {tmp_path / 'xdg' / 'discovery'} (the per-user data folder)" in said
    assert "chat" in said
    # --use sets the default matter of that home, for every command without --matter.
    missing = run("search", "hello")
    assert missing.exit_code == 1
    assert "no matter 'default'" in missing.stderr and "matters there: chat" in missing.stderr
    assert run("matters", "--use", "chat").exit_code == 0
    monkeypatch.chdir(one)
    assert run("search", "zzznothing", "--count").stdout == "0\n"
    assert "chat *" in run("matters").stdout


def test_use_refuses_a_matter_that_does_not_exist(acme: Path) -> None:
    result = run("matters", "--use", "nosuch")
    assert result.exit_code == 1
    assert "no matter 'nosuch'" in result.stderr and "matters there: default" in result.stderr


def test_discovery_home_wins_and_matters_says_so(acme: Path) -> None:
    out = run("matters")
    assert out.stdout.startswith(f"home: {acme} ($DISCOVERY_HOME)")


# --- pipes and machine output ---------------------------------------------------------------------


def test_search_into_head_exits_quietly_with_a_real_pipe(acme: Path) -> None:
    env = {**os.environ, "DISCOVERY_HOME": str(acme), "PYTHONPATH": str(ROOT)}
    # Enough output (every hit with 50 messages of context) to outlast the pipe's buffer.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "discovery",
            "search",
            "platform:slack",
            "--json",
            "--context",
            "50",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    status = proc.wait(timeout=120)
    err = proc.stderr.read().decode()
    assert json.loads(first)["id"].startswith("MSG-")
    assert status == 0 and err == ""
    # The search was still logged.
    assert [e.command for e in audit.entries("default")] == ["search"]


@pytest.mark.parametrize(
    "args",
    [
        ("export", "libgen", "--out", "-"),
        ("exhibits", "--query", "libgen", "--prefix", "PX", "--out", "-"),
    ],
    ids=["export", "exhibits"],
)
def test_an_output_into_a_closed_pipe_is_logged_as_interrupted(acme: Path, args: tuple) -> None:
    env = {**os.environ, "DISCOVERY_HOME": str(acme), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "discovery", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first byte (`| head` that quit)
    status = proc.wait(timeout=120)
    err = proc.stderr.read().decode()
    assert status == 0 and "written" not in err  # quiet, and no claim that it was written
    (entry,) = audit.entries("default")
    assert entry.command == args[0] and entry.hits == len(LIBGEN)
    assert (
        entry.settings["interrupted"] == "standard output was closed by its reader before the end"
    )
    assert f"{args[0]} (interrupted)" in run("audit").stdout
    # read to the end, the same output is logged complete
    whole = run(*args)
    assert whole.exit_code == 0 and "written to standard output" in whole.stderr
    assert "interrupted" not in audit.entries("default")[-1].settings


def test_json_and_csv_give_every_hit_unless_limit_is_given(acme: Path) -> None:
    every = not_system(acme)
    assert len(every) > 20
    as_json = run("search", "platform:slack", "--json", "--sort", "time")
    assert [json.loads(line)["id"] for line in as_json.stdout.splitlines()] == [
        f"MSG-{i:08d}" for i in every
    ]
    limited = run("search", "platform:slack", "--json", "--limit", "3")
    assert len(limited.stdout.splitlines()) == 3
    rows = list(csv.reader(io.StringIO(run("search", "platform:slack", "--csv").stdout)))
    assert rows[0][0] == "control_number" and len(rows) == len(every) + 1
    screen = run("search", "platform:slack")
    assert "(showing 20; --all shows every hit)" in screen.stdout
    both = run("search", "x", "--json", "--csv")
    assert both.exit_code == 2


def test_dash_writes_to_stdout_and_existing_files_need_force(acme: Path, tmp_path: Path) -> None:
    to_stdout = run("export", "libgen", "--out", "-")
    assert to_stdout.exit_code == 0
    assert [r[0] for r in csv.reader(io.StringIO(to_stdout.stdout))][1:] == [
        f"MSG-{i:08d}" for i in LIBGEN
    ]
    assert not Path("-").exists()
    out = tmp_path / "hits.csv"
    out.write_text("earlier work", encoding="utf-8")
    refused = run("export", "libgen", "--out", str(out))
    assert refused.exit_code == 1 and "add --force" in refused.stderr
    assert out.read_text(encoding="utf-8") == "earlier work"
    assert run("export", "libgen", "--out", str(out), "--force").exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("control_number")
    ex = tmp_path / "ex.csv"
    ex.touch()
    assert run("exhibits", "--query", "libgen", "--prefix", "PX", "--out", str(ex)).exit_code == 1
    report = tmp_path / "str.csv"
    report.touch()
    terms = FIXTURES / "batch" / "terms.txt"
    assert run("batch", str(terms), "--report", str(report)).exit_code == 1
    batch = run("batch", str(terms), "--report", "-")
    assert batch.exit_code == 0 and batch.stdout.startswith("term,query,messages")


def test_every_data_command_has_json(acme: Path, tmp_path: Path) -> None:
    shown = [
        json.loads(line)
        for line in run("show", "16", "--context", "1", "--json").stdout.splitlines()
    ]
    assert [(o["id"], o["focus"]) for o in shown] == [
        ("MSG-00000015", False), ("MSG-00000016", True), ("MSG-00000017", False)
    ]  # fmt: skip
    matters = [json.loads(line) for line in run("matters", "--json").stdout.splitlines()]
    assert matters[0]["matter"] == "default" and matters[0]["messages"] == 50
    terms = FIXTURES / "batch" / "terms.txt"
    rows = run("batch", str(terms), "--report", str(tmp_path / "r.csv"), "--json").stdout
    assert json.loads(rows.splitlines()[-1])["term"] == "TOTAL"
    ex = run("exhibits", "--query", "libgen", "--prefix", "PX", "--out", str(tmp_path / "e.csv"),
             "--json").stdout  # fmt: skip
    assert [json.loads(line)["exhibit"] for line in ex.splitlines()] == [
        f"PX-00000{n}" for n in range(1, 5)
    ]
    group: Any = typer.main.get_command(app)
    for name in (
        "search",
        "show",
        "matters",
        "batch",
        "exhibits",
        "audit",
        "ingest",
        "tags",
        "tag",
    ):
        flags = {o for p in group.commands[name].params for o in getattr(p, "opts", [])}
        assert "--json" in flags, name


def test_version_and_shell_completion() -> None:
    from discovery import __version__

    assert run("--version").stdout == f"discovery {__version__}\n"
    top = run("--help").stdout
    assert "--install-completion" in top and "--show-completion" in top


# --- tags from the command line -------------------------------------------------------------------


def test_bulk_tag_and_untag_are_audited_and_case_insensitive(acme: Path, tmp_path: Path) -> None:
    tagged = run("tag", "libgen", "--add", "Hot")
    assert tagged.exit_code == 0, tagged.stderr
    assert "tagged 4 messages 'hot' (4 newly, 0 had it already)" in tagged.stdout
    assert run("search", "tag:HOT", "--count").stdout == "4\n"
    # exhibits --tag Hot selects what tag:hot finds.
    by_tag, by_query = tmp_path / "t.csv", tmp_path / "q.csv"
    assert run("exhibits", "--tag", "Hot", "--prefix", "PX", "--out", str(by_tag)).exit_code == 0
    assert (
        run("exhibits", "--query", "tag:hot", "--prefix", "PX", "--out", str(by_query)).exit_code
        == 0
    )
    assert by_tag.read_text(encoding="utf-8") == by_query.read_text(encoding="utf-8")
    # An unknown tag names the known ones.
    typo = run("exhibits", "--tag", "hott", "--prefix", "PX", "--out", str(tmp_path / "x.csv"))
    assert typo.exit_code == 1
    assert "no message is tagged 'hott'; the tags in this matter are: hot" in typo.stderr
    assert run("tag", "libgen", "--remove", "hott").exit_code == 1
    with open_matter("default") as m:
        (priya,) = m.store.db.execute(
            "SELECT count(*) FROM messages WHERE system = 0 AND speaker LIKE '%priya%'"
        ).fetchone()
    untagged = run("tag", "speaker:priya", "--remove", "HOT", "--json")
    assert json.loads(untagged.stdout) == {
        "tag": "hot", "action": "untag", "hits": priya, "changed": 1
    }  # fmt: skip
    with open_matter("default") as m:
        assert m.store.ids_of_tags(["hot"]) == {16, 29, 45}
    log = [e for e in audit.entries("default") if e.command in ("tag", "untag")]
    assert [(e.command, e.query, e.settings["tag"], e.settings["changed"]) for e in log] == [
        ("tag", "libgen", "hot", 4), ("untag", "speaker:priya", "hot", 1)
    ]  # fmt: skip
    assert log[0].result_hash == result_hash(LIBGEN)
    listed = [json.loads(line) for line in run("tags", "--json").stdout.splitlines()]
    assert listed == [{"tag": "hot", "messages": 3}]
    assert "hot" in run("tags").stdout


def test_a_bulk_tag_entry_names_every_message_it_changed(acme: Path) -> None:
    with open_matter("default") as m:
        m.store.tag([16, 29], "hot")  # two libgen hits had it already
    assert run("tag", "libgen", "--add", "hot").exit_code == 0
    assert run("tag", "libgen OR tag:hot", "--remove", "hot").exit_code == 0
    tagged, untagged = [e for e in audit.entries("default") if e.command in ("tag", "untag")]
    assert (tagged.hits, tagged.result_hash) == (4, result_hash(LIBGEN))  # what matched
    assert tagged.settings["changed"] == 2  # what changed: exactly these, reproducibly
    assert tagged.settings["control_numbers"] == ["MSG-00000039", "MSG-00000045"]
    assert tagged.settings["changed_hash"] == result_hash([39, 45])
    assert untagged.settings["control_numbers"] == [f"MSG-{i:08d}" for i in LIBGEN]
    assert untagged.settings["changed_hash"] == result_hash(LIBGEN)
    shown = json.loads(run("audit", "--json").stdout.splitlines()[-1])
    assert shown["settings"]["control_numbers"] == untagged.settings["control_numbers"]


def test_tag_field_names_a_whole_tag(acme: Path) -> None:
    # "Responsive" and "Not Responsive" are the usual pair of review calls.
    with open_matter("default") as m:
        m.store.tag([16, 29], "responsive")
        m.store.tag([39, 45], "not responsive")
    assert run("search", "tag:responsive", "--count").stdout == "2\n"
    assert run("search", 'tag:"not responsive"', "--count").stdout == "2\n"
    assert run("search", "tag:resp*", "--count").stdout == "2\n"
    assert run("search", "libgen AND NOT tag:responsive", "--count").stdout == "2\n"


def test_tag_description_fills_the_privilege_log_column(acme: Path) -> None:
    done = run("tag", "libgen", "--add", "privileged", "--description", " Legal advice ")
    assert done.exit_code == 0, done.stderr
    assert "description 'Legal advice' stored on 4 messages" in done.stdout
    with open_matter("default") as m:
        assert m.store.privilege_descriptions(LIBGEN) == dict.fromkeys(LIBGEN, "Legal advice")
    alone = run("tag", "speaker:priya AND libgen", "--description", "", "--json")
    assert json.loads(alone.stdout) == {"action": "describe", "hits": 1, "description": ""}
    with open_matter("default") as m:
        assert sorted(m.store.privilege_descriptions(LIBGEN)) == [16, 29, 45]  # 39 removed
    logged = [e for e in audit.entries("default") if e.command == "describe"]
    assert [(e.query, e.settings["description"], e.hits) for e in logged] == [
        ("libgen", "Legal advice", 4), ("speaker:priya AND libgen", "", 1)
    ]  # fmt: skip
    assert run("tag", "libgen").exit_code == 2  # nothing to do
    assert run("tag", "libgen", "--add", "a", "--remove", "b").exit_code == 2


def test_a_large_tag_change_asks_first(acme: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from discovery.cli import tags

    monkeypatch.setattr(tags, "CONFIRM_ABOVE", 10)
    refused = run("tag", "platform:slack", "--add", "responsive")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    with open_matter("default") as m:
        assert m.store.tag_names() == []
    done = run("tag", "platform:slack", "--add", "responsive", "--yes")
    assert done.exit_code == 0
    with open_matter("default") as m:
        assert m.store.ids_of_tags(["responsive"]) == set(not_system(acme))


def test_tags_stored_in_another_case_become_one_tag(acme: Path) -> None:
    from discovery.store import Store

    with open_matter("default") as m:
        path = m.path / "case.sqlite"
        m.store.db.execute(
            "INSERT INTO tags VALUES (16, 'Hot', 'x'), (16, 'hot', 'x'), (17, 'HOT', 'x')"
        )
    with Store(path) as s:
        assert s.tag_counts() == [("hot", 2)]


# --- ingest ---------------------------------------------------------------------------------------


def test_an_empty_folder_or_only_non_exports_exit_1_and_make_no_matter(
    discovery_home: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("ingest", str(empty), "-m", "nothing")
    assert result.exit_code == 1 and "no files to import" in result.stderr
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.md").write_text("call the client\n", encoding="utf-8")
    result = run("ingest", str(notes), "-m", "nothing")
    assert result.exit_code == 1 and "was not created" in result.stderr
    assert not (discovery_home / "nothing").exists()


def test_custodian_map_auto_reports_unplaced_sources(discovery_home: Path, tmp_path: Path) -> None:
    collection = tmp_path / "collection"
    (collection / "alice").mkdir(parents=True)
    shutil.copy(FIXTURES / "whatsapp" / "android_uk_24h.txt", collection / "alice" / "chat.txt")
    shutil.copy(FIXTURES / "email" / "thread.mbox", collection / "loose.mbox")
    result = run("ingest", str(collection), "--custodian-map", "auto", "-m", "c")
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "not placed" in line]
    assert lines == [
        f"not placed by --custodian-map (custodian 'unassigned'): {collection / 'loose.mbox'}"
    ]


def test_progress_counts_messages_as_a_source_is_read(discovery_home: Path) -> None:
    from discovery.ingest import ingest

    calls: list[tuple[str, int, int | None]] = []
    with open_matter("p", create=True) as m:
        report = ingest(m, [ACME], progress=lambda *c: calls.append(c))
    read = sum(n for stage, n, _ in calls if stage == "messages")
    assert read == report.added + sum(s.duplicates for s in report.sources)
    assert calls.index(next(c for c in calls if c[0] == "messages")) < calls.index(
        next(c for c in calls if c[0] == "sources")
    )


# --- tables at 80 columns, examples in help ------------------------------------------------------

DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def test_tables_fit_80_columns_without_cutting_numbers_or_dates(acme: Path, tmp_path: Path) -> None:
    run("tag", "libgen", "--add", "a tag with a rather long name for review")
    run("search", "libgen OR permission OR licensed OR books OR forgiveness OR pirated")
    terms = FIXTURES / "batch" / "terms.txt"
    at = [e.at[:19].replace("T", " ") for e in audit.entries()]
    outputs = {
        "matters": run("matters", COLUMNS="80").stdout,
        "audit": run("audit", COLUMNS="80").stdout,
        "tags": run("tags", COLUMNS="80").stdout,
        "batch": run("batch", str(terms), "--report", str(tmp_path / "r.csv"), COLUMNS="80").stdout,
    }
    for name, text in outputs.items():
        assert text.strip(), name
        for line in text.splitlines():
            if line.startswith("home: "):
                continue  # a path, on one unbroken line (the terminal folds it)
            assert len(line) <= 80, (name, line)
            assert "…" not in line, (name, line)
    assert at and all(a in outputs["audit"] for a in at)
    assert DATE.search(outputs["audit"])


def test_every_command_help_has_an_example() -> None:
    group: Any = typer.main.get_command(app)
    for name in group.commands:
        text = run(name, "--help").stdout
        assert re.search(rf"^\s+discovery {name}\b", text, re.MULTILINE), name


def test_the_ingest_report_fits_80_columns_and_keeps_paths_whole(discovery_home: Path) -> None:
    sources = [ACME, FIXTURES / "whatsapp" / "android_uk_24h.txt"]
    result = run("ingest", *map(str, sources), "-m", "r", "--custodian", "Dana", COLUMNS="80")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    table = lines[: next(i for i, line in enumerate(lines) if line.startswith("  1  "))]
    assert table and all(len(line) <= 80 for line in table)
    for n, path in enumerate(sources, 1):
        (line,) = [x for x in lines if x.startswith(f"{n:>3}  ")]
        assert line.endswith(str(path)) and "custodian Dana" in line and "zone UTC*" in line
