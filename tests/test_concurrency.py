"""One writer, crash safety and searches during an ingest (issue 13), with real processes.

Every process here is the real command line (``python -m discovery``): the
kill points, locks and partial answers are those a paralegal meets.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from discovery import audit
from discovery.ingest import ingest
from discovery.matter import WORK_DIR, open_matter, writer_of
from discovery.synth import generate_slack_export
from tests.conftest import FIXTURES

US_12H = FIXTURES / "transcript" / "us_12h.txt"
BAD_ROWS = FIXTURES / "jsonl" / "bad_row.jsonl"


def cli(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "DISCOVERY_DEBUG")}
    env.update(DISCOVERY_HOME=str(home), NO_COLOR="1", PYTHONIOENCODING="utf-8")
    return subprocess.Popen(
        [sys.executable, "-m", "discovery", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(p: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def corpus(root: Path, exports: int, messages: int) -> list[Path]:
    """Several sources: Slack exports, a zip collection, and files with problems."""
    paths = []
    for seed in range(exports):
        out = root / f"slack-{seed}"
        generate_slack_export(out, messages, seed=seed)
        paths.append(out)
    collection = root / "collection.zip"
    with zipfile.ZipFile(collection, "w") as z:
        z.write(BAD_ROWS, "custodian/bad_row.jsonl")
        z.write(US_12H, "custodian/us_12h.txt")
        z.writestr("custodian/photo.bin", b"\x00\x01")  # not a format: a recorded failure
    return [*paths, collection]


def messages(matter: str) -> list[tuple[Any, ...]]:
    """Every message as stored: control number, conversation, native id, text, sources."""
    with open_matter(matter) as m:
        return m.store.db.execute(
            "SELECT m.id, c.native_key, m.native_id, m.text, m.versions, m.thread_root,"
            " (SELECT group_concat(source_id || ':' || location, ',') FROM (SELECT * FROM"
            "  message_sources ms WHERE ms.message_id = m.id ORDER BY source_id, location))"
            " FROM messages m JOIN conversations c ON c.id = m.conversation_id ORDER BY m.id"
        ).fetchall()


def stored_reports(matter: str) -> list[tuple[Any, ...]]:
    with open_matter(matter) as m:
        assert m.is_current()
        return [
            (r.id, r.path, r.report["status"], r.report.get("added"), r.report["problems"])
            for r in m.store.source_reports()
        ]


STREAMING = {
    "DISCOVERY_BATCH": "40",  # the transcript and JSONL in several batches
    "DISCOVERY_JOBS": "2",
    "DISCOVERY_PART_BYTES": "8000",  # each 300-message export read by workers, in ~7 parts
    "DISCOVERY_INDEX_RANGE": "150",  # the catch-up indexed by workers, 150 ids each
}


def ingests_running(home: Path) -> list[int]:
    """Processes started by an ingest with ``home`` as its ``$DISCOVERY_HOME``, still alive:
    the ingest and its workers, forked (its command) or spawned (another command, the same
    environment), and what multiprocessing starts beside them; not this process's own
    (an ``ingest`` run here starts workers too)."""
    mark = f"DISCOVERY_HOME={home}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            env = (proc / "environ").read_bytes().split(b"\0")
            stat = (proc / "stat").read_bytes()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        if mark in env and os.getpid() not in (int(proc.name), ppid):
            found.append(int(proc.name))
    return found


def kill_9(p: subprocess.Popen[str], home: Path) -> None:
    """SIGKILL the ingest; its workers must not outlive it (they would write on)."""
    p.send_signal(signal.SIGKILL)
    p.communicate()
    deadline = time.monotonic() + 5
    while ingests_running(home) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ingests_running(home) == []


def test_kill_9_at_ten_random_points_then_rerun_equals_a_clean_ingest(
    tmp_path: Path, discovery_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in STREAMING.items():  # here and in every command started
        monkeypatch.setenv(key, value)
    paths = corpus(tmp_path, exports=3, messages=300)
    args = [str(p) for p in paths]
    started = time.monotonic()
    with open_matter("clean", create=True) as m:
        ingest(m, paths)
    span = time.monotonic() - started + 0.6  # the clean run, plus a process's start-up
    # Once inside a source, as it is staged: after its first batch, before it is stored.
    staging = discovery_home / "killed" / WORK_DIR / "staging.sqlite"
    p = cli(discovery_home, "ingest", *args, "--matter", "killed")
    while not (staging.exists() and staging.stat().st_size > 3 * 4096):  # past the schema
        assert p.poll() is None, p.communicate()
        time.sleep(0.002)
    kill_9(p, discovery_home)
    with open_matter("killed") as m:
        assert m.store.counts()["messages"] == 0  # nothing of the half-staged source
    rng = random.Random(13)
    for _ in range(10):
        p = cli(discovery_home, "ingest", *args, "--matter", "killed")
        time.sleep(rng.uniform(0.1, span))
        kill_9(p, discovery_home)
    code, out, err = finished(cli(discovery_home, "ingest", *args, "--matter", "killed"))
    assert code == 1, err  # photo.bin is no format: reported, and the exit status says so
    assert "internal error" not in err and "photo.bin: not a format" in out
    assert messages("killed") == messages("clean")
    assert stored_reports("killed") == stored_reports("clean")
    assert not (discovery_home / "killed" / WORK_DIR).exists()  # no evidence left behind

    code, out, err = finished(cli(discovery_home, "report", "--matter", "killed", "--json"))
    assert code == 0, err
    shown = [json.loads(line) for line in out.splitlines()]
    assert [(r["id"], r["path"], r["status"], r.get("added"), r["problems"]) for r in shown] == [
        tuple(r) for r in stored_reports("clean")
    ]
    assert sum(len(r["problems"]) for r in shown) == 5  # bad_row's four, photo.bin's one


def hold_store(home: Path, matter: str) -> sqlite3.Connection:
    """Take the case store's write lock, so an ingest started now waits on it (busy timeout)
    while holding the matter: the test decides when it may go on."""
    with open_matter(matter, create=True):
        pass
    db = sqlite3.connect(
        home / matter / "case.sqlite", isolation_level=None, check_same_thread=False
    )
    db.execute("BEGIN IMMEDIATE")
    return db


def started_writing(home: Path, p: subprocess.Popen[str]) -> None:
    while writer_of(home / "m") is None:
        assert p.poll() is None, p.communicate()
        time.sleep(0.02)


def test_searches_during_an_ingest_answer_what_is_indexed_and_say_so(
    tmp_path: Path, discovery_home: Path
) -> None:
    first = tmp_path / "first"
    generate_slack_export(first, 300, seed=1)
    later = [tmp_path / f"later-{i}" for i in range(3)]
    for i, p in enumerate(later):
        generate_slack_export(p, 400, seed=10 + i)
    with open_matter("m", create=True) as m:
        ingest(m, [first])
    blocker = hold_store(discovery_home, "m")
    ingesting = cli(discovery_home, "ingest", *map(str, later), "--matter", "m")
    started_writing(discovery_home, ingesting)

    def search() -> tuple[tuple[int, str, str], tuple[int, str, str]]:
        count = cli(discovery_home, "search", "libgen OR forgiveness", "--count", "--matter", "m")
        hits = cli(discovery_home, "search", "libgen OR forgiveness", "--json", "--matter", "m")
        return finished(count), finished(hits)

    answers = [search()]  # while the ingest waits on the store: surely mid-ingest
    blocker.rollback()
    blocker.close()
    while ingesting.poll() is None:
        answers.append(search())
    answers.append(search())  # and once it has finished
    code, out, err = finished(ingesting)
    assert code == 0 and err == "", err
    assert "Ingest report" in out and "1200 messages added" in out
    with open_matter("m") as m:
        assert m.store.counts()["messages"] == 1500 and m.is_current()
        total = len(m.engine.word_ids(["libgen", "forgiveness"]))
    partial = []
    for (c_code, c_out, c_err), (h_code, h_out, h_err) in answers:
        assert (c_code, h_code) == (0, 0), (c_err, h_err)
        assert "internal error" not in c_err + h_err
        rows = [json.loads(line) for line in h_out.splitlines()]
        warned = "discovery: warning: an ingest is running in this matter" in h_err
        partial.append(warned)
        assert {r["partial"] for r in rows} <= {warned}
        if not warned:
            assert len(rows) == total  # no warning: the complete answer
        if "warning" not in c_err:
            assert int(c_out) == total
    assert partial[0] and not partial[-1]
    # every logged search carries the fingerprint of what it saw
    entries = audit.entries("m")
    assert len(entries) == 2 * len(answers)
    with open_matter("m") as m:
        for e in entries:
            through = e.settings.get("indexed_through")
            assert e.fingerprint == audit.fingerprint(m.store, through)
            assert e.settings.get("partial", False) == (through is not None)
        assert entries[0].fingerprint != audit.fingerprint(m.store)  # it saw one source of four
        assert entries[-1].fingerprint == audit.fingerprint(m.store)


def test_two_ingests_at_once_one_refuses_one_waits_and_the_result_is_one_ingest(
    tmp_path: Path, discovery_home: Path
) -> None:
    src = tmp_path / "export"
    generate_slack_export(src, 300, seed=5)
    with open_matter("one", create=True) as m:
        ingest(m, [src, US_12H])
    blocker = hold_store(discovery_home, "m")
    first = cli(discovery_home, "ingest", str(src), str(US_12H), "--matter", "m")
    started_writing(discovery_home, first)
    code, out, err = finished(cli(discovery_home, "ingest", str(src), "--matter", "m"))
    assert code == 1 and out == ""
    assert err.startswith("discovery: matter 'm' is being written by another ingest (process")
    assert err.rstrip().endswith("add --wait to wait for it")
    waiting = cli(discovery_home, "ingest", str(src), str(US_12H), "--matter", "m", "--wait")
    assert waiting.stderr is not None
    told = waiting.stderr.readline()
    assert told.startswith("discovery: waiting for the ingest writing matter 'm' (process")
    blocker.rollback()  # the first ingest goes on, then the waiting one
    blocker.close()
    code, out, err = finished(first)
    assert code == 0 and err == "", err
    code, out, err = finished(waiting)
    assert code == 0 and err == "", err
    assert out.count("already imported") == 2
    assert messages("m") == messages("one")


@pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="no SIGTERM here")
def test_sigterm_during_extraction_removes_the_extracted_evidence(
    tmp_path: Path, discovery_home: Path
) -> None:
    big = tmp_path / "big.zip"
    blob = os.urandom(1024**2)
    with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as z:  # 48 MiB: a while to extract
        for i in range(48):
            z.writestr(f"files/blob-{i:02d}.bin", blob)
    work = discovery_home / "m" / WORK_DIR
    p = cli(discovery_home, "ingest", str(big), "--matter", "m")
    while not (work.is_dir() and any(work.rglob("blob-*"))):
        assert p.poll() is None, p.communicate()
        time.sleep(0.005)
    p.send_signal(signal.SIGTERM)
    code, out, err = finished(p)
    assert code == 130 and err.strip().endswith("discovery: interrupted")
    assert out == ""  # stopped while unpacking: no source was read yet
    assert not work.exists()

    # A kill -9 cannot be caught: whatever it leaves, the next ingest removes first.
    p = cli(discovery_home, "ingest", str(big), "--matter", "m")
    while not (work.is_dir() and any(work.rglob("blob-*"))):
        assert p.poll() is None, p.communicate()
        time.sleep(0.005)
    p.send_signal(signal.SIGKILL)
    p.communicate()
    assert any(work.rglob("blob-*"))
    code, _, err = finished(cli(discovery_home, "ingest", str(US_12H), "--matter", "m"))
    assert code == 0 and err == "" and not work.exists()


# --- in one process: the store's busy timeout, the review screen during an ingest ----------


def test_a_store_kept_busy_past_the_timeout_is_a_clear_error(
    discovery_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from discovery import store
    from discovery.cli import app

    with open_matter("m", create=True) as m:
        ingest(m, [US_12H])
    monkeypatch.setattr(store, "BUSY_TIMEOUT", 0.2)
    blocker = hold_store(discovery_home, "m")
    try:
        result = CliRunner().invoke(app, ["matters", "-m", "m", "--display-tz", "Europe/Paris"])
    finally:
        blocker.rollback()
        blocker.close()
    assert result.exit_code == 1
    assert result.stderr == (
        f"discovery: the case store {discovery_home}/m/case.sqlite is busy: another discovery"
        " process (an ingest?) kept it locked for more than 0.2 s; try again when it has"
        " finished\n"
    )


@pytest.mark.tui
def test_the_review_screen_says_ingest_in_progress_and_tags_meanwhile(
    discovery_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import threading

    from discovery import store
    from discovery.tui import ReviewApp, Session

    with open_matter("m", create=True) as m:
        ingest(m, [FIXTURES / "slack" / "acme"])
    monkeypatch.setattr(store, "BUSY_TIMEOUT", 5.0)

    async def main() -> tuple[str, tuple[str, ...], list[str]]:
        with open_matter("m") as m, m.writing():  # as an ingest does
            session = Session(m)
            review = ReviewApp(session, blink=False, query="libgen")
            try:
                async with review.run_test(size=(120, 40)) as pilot:
                    await review.workers.wait_for_complete()
                    await pilot.pause()
                    totals = str(review.query_one("#totals").render())
                    blocker = hold_store(discovery_home, "m")  # an ingest storing a source
                    threading.Timer(0.3, blocker.rollback).start()
                    await pilot.press("h")  # waits for the store, then tags
                    await pilot.pause()
                    assert review.hit is not None
                    tags = review.hit.message.tags
                    blocker.close()
                    monkeypatch.setattr(store, "BUSY_TIMEOUT", 0.1)
                    stuck = hold_store(discovery_home, "m")
                    session.matter.store.db.execute("PRAGMA busy_timeout = 100")
                    await pilot.press("r")  # the store stays busy: a notice, no crash
                    await pilot.pause()
                    stuck.rollback()
                    stuck.close()
                    notes = [n.message for n in review._notifications]
                    return totals, tags, notes
            finally:
                session.close()

    totals, tags, notes = asyncio.run(main())
    assert "ingest in progress: hits so far" in totals
    assert tags == ("hot",)
    assert any("is busy: another discovery process" in n for n in notes), notes
