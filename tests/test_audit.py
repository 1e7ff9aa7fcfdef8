"""The audit log: an entry for every search, export, batch and exhibit list.

Re-runs reproduce the hashes, also after the matter is deleted and its sources
ingested again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from discovery import __version__, audit, config, search
from discovery.cli import app
from discovery.search import result_hash
from tests.conftest import FIXTURES

ACME = FIXTURES / "slack" / "acme"
TRANSCRIPT = FIXTURES / "transcript" / "us_12h.txt"


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


def ingest_all() -> None:
    for path, who in ((ACME, "Dana"), (TRANSCRIPT, "court")):
        assert invoke("ingest", str(path), "--custodian", who, "--tz", "America/New_York",
                      "--matter", "acme").exit_code == 0  # fmt: skip


def entries() -> list[dict[str, object]]:
    result = invoke("audit", "--json")
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_command_is_logged_with_its_facts(tmp_path: Path) -> None:
    ingest_all()
    terms = tmp_path / "terms.txt"
    terms.write_text("a: libgen\nb: pirat* w/2 books\n", encoding="utf-8")
    assert invoke("search", "LIBGEN", "--matter", "acme").exit_code == 0
    assert invoke("search", "libgen", "--matter", "acme", "--count").exit_code == 0
    assert invoke("search", "libgen", "--matter", "acme", "--json").exit_code == 0
    out = tmp_path / "hits.csv"
    assert invoke("export", "libgen", "--out", str(out), "--matter", "acme").exit_code == 0
    rep = tmp_path / "r.csv"
    assert invoke("batch", str(terms), "--report", str(rep), "--matter", "acme").exit_code == 0
    ex = tmp_path / "ex.csv"
    assert (
        invoke("exhibits", "--query", "libgen", "--prefix", "PX", "--out", str(ex), "-m", "acme")
        .exit_code == 0
    )  # fmt: skip
    log = entries()
    assert [e["command"] for e in log] == [
        "search", "search", "search", "export", "batch", "batch", "exhibits",
    ]  # fmt: skip
    first = log[0]
    assert first["query"] == "LIBGEN" and first["canonical"] == "libgen"
    assert first["hits"] == 5  # four in the Slack export, one in the transcript
    assert first["matter"] == "acme"
    assert first["user"] and isinstance(first["user"], str)
    assert str(first["at"]).endswith("+00:00")
    settings = first["settings"]
    assert isinstance(settings, dict)
    assert settings["discovery_version"] == __version__
    assert settings["tokenizer"]["stop_words"] == "none"
    assert settings["display_zone"] == "UTC"
    assert len({e["result_hash"] for e in log if e["canonical"] == "libgen"}) == 1
    assert log[4]["settings"]["term"] == "a"
    assert log[5]["canonical"] == "pirat* W/2 books"
    assert log[3]["settings"]["out"] == str(out)
    # the hash is the SHA-256 of the sorted hit ids
    hits = [
        json.loads(x)["id"]
        for x in invoke("search", "libgen", "-m", "acme", "--json").stdout.splitlines()
    ]
    ids = [int(h.split("-")[1]) for h in hits]
    assert first["result_hash"] == result_hash(ids)


def test_rerun_after_deleting_and_reingesting_the_matter(tmp_path: Path) -> None:
    ingest_all()
    terms = tmp_path / "terms.txt"
    terms.write_text(
        'libgen\n"ask forgiveness" w/5 permission\nsent:2023-03-07 AND data\nspeaker:marcus\n',
        encoding="utf-8",
    )
    assert invoke("batch", str(terms), "--report", str(tmp_path / "r.csv"), "-m", "acme",
                  "--tz", "America/New_York").exit_code == 0  # fmt: skip
    assert invoke("search", "pirat* OR forgiv*", "-m", "acme").exit_code == 0
    assert (
        invoke("export", "NOT libgen", "--out", str(tmp_path / "e.csv"), "-m", "acme").exit_code
        == 0
    )
    before = entries()
    fingerprint = before[0]["fingerprint"]

    shutil.rmtree(config.home() / "acme")
    assert (config.home() / audit.LOG_FILE).exists()  # the log lives outside the matter
    ingest_all()

    result = invoke("audit", "--rerun", "all")
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(before) == 6
    assert all("same as logged" in line for line in lines)
    again = [json.loads(x) for x in invoke("audit", "--rerun", "all", "--json").stdout.splitlines()]
    assert all(x["matches"] and x["same_matter"] for x in again)
    assert {x["fingerprint"] for x in again} == {fingerprint}


def test_rerun_tells_when_the_result_differs() -> None:
    ingest_all()
    assert invoke("search", "tag:hot", "-m", "acme").exit_code == 0
    (entry,) = audit.entries("acme")
    assert entry.hits == 0
    from discovery.matter import open_matter

    with open_matter("acme") as m:
        m.store.tag([16], "hot")
    result = invoke("audit", "--rerun", str(entry.id))
    assert result.exit_code == 1
    assert "DIFFERENT: logged 0 hits" in result.stdout and "now 1 hits" in result.stdout


def test_rerun_uses_the_logged_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    ingest_all()
    monkeypatch.setenv("DISCOVERY_TZ", "Asia/Tokyo")
    assert invoke("search", "sent:2023-03-08", "-m", "acme").exit_code == 0
    monkeypatch.setenv("DISCOVERY_TZ", "America/Los_Angeles")
    result = invoke("audit", "--rerun", "1")
    assert result.exit_code == 0 and "same as logged" in result.stdout


def test_a_different_matter_is_flagged() -> None:
    ingest_all()
    assert invoke("search", "libgen", "-m", "acme").exit_code == 0
    assert invoke("ingest", str(FIXTURES / "jsonl" / "messages.jsonl"), "-m", "acme").exit_code == 0
    result = invoke("audit", "--rerun", "1")
    assert "sources differ" in result.stdout


def test_audit_failure_does_not_hide_results() -> None:
    ingest_all()
    (config.home() / audit.LOG_FILE).mkdir()  # a folder where the log file should be
    result = invoke("search", "libgen", "-m", "acme", "--count")
    assert result.stdout.strip() == "5"
    assert result.exit_code == 1
    assert "NOT recorded in the audit log" in result.stderr
    assert "the results were shown, but this search was NOT recorded" in result.stderr


def test_bad_rerun_arguments() -> None:
    assert invoke("audit").stdout.startswith("no audit entries")
    assert invoke("audit", "--rerun", "x").exit_code == 2
    missing = invoke("audit", "--rerun", "99")
    assert missing.exit_code == 2 and "no audit entry 99" in missing.stderr


def test_os_user_has_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> str:
        raise OSError("no user")

    monkeypatch.setattr(audit.getpass, "getuser", boom)
    monkeypatch.setenv("USER", "paralegal")
    monkeypatch.delenv("USERNAME", raising=False)
    assert audit.os_user() == "paralegal"


def test_rerun_says_when_tags_changed() -> None:
    ingest_all()
    from discovery.matter import open_matter

    with open_matter("acme") as m:
        m.store.tag([16], "hot")
    assert invoke("search", "tag:hot", "-m", "acme").exit_code == 0
    assert invoke("search", "libgen", "-m", "acme").exit_code == 0
    logged = audit.entries("acme")
    assert logged[0].settings["tags_fingerprint"] == logged[1].settings["tags_fingerprint"]
    same = invoke("audit", "--rerun", "all")
    assert same.exit_code == 0 and "tags changed" not in same.stdout

    with open_matter("acme") as m:
        m.store.tag([30], "later")  # another tag: tag:hot still finds the same message
    result = invoke("audit", "--rerun", "all")
    first, second = result.stdout.strip().splitlines()
    assert "same as logged" in first and "[review tags changed since it was logged]" in first
    assert "same as logged" in second and "tags changed" not in second  # libgen needs no tags
    rows = [json.loads(x) for x in invoke("audit", "--rerun", "all", "--json").stdout.splitlines()]
    assert [r["same_tags"] for r in rows] == [False, False]
    assert all(r["same_matter"] for r in rows)  # the sources did not change

    with open_matter("acme") as m:  # the same tags again (tagging times differ): unchanged
        m.store.untag([30], "later")
        m.store.untag([16], "hot")
        m.store.tag([16], "hot")
    again = invoke("audit", "--rerun", "all", "--json").stdout.splitlines()
    assert [json.loads(x)["same_tags"] for x in again] == [True, True]


def test_tags_fingerprint_covers_tag_and_message() -> None:
    ingest_all()
    from discovery.matter import open_matter

    with open_matter("acme") as m:
        empty = audit.tags_fingerprint(m.store)
        m.store.tag([16], "hot")
        one = audit.tags_fingerprint(m.store)
        m.store.untag([16], "hot")
        m.store.tag([17], "hot")
        moved = audit.tags_fingerprint(m.store)
        m.store.untag([17], "hot")
        m.store.tag([17], "hot2")
        renamed = audit.tags_fingerprint(m.store)
    assert len({empty, one, moved, renamed}) == 4


def test_exhibits_by_tag_logs_a_query_that_names_the_tag(tmp_path: Path) -> None:
    ingest_all()
    from discovery.matter import open_matter
    from discovery.search import Searcher

    with open_matter("acme") as m:
        m.store.tag([16], "not hot")
        m.store.tag([17], 'say "hi"')
    out = tmp_path / "ex.csv"
    ok = invoke("exhibits", "--tag", "not hot", "--prefix", "PX", "--out", str(out), "-m", "acme")
    assert ok.exit_code == 0, ok.stderr
    (entry,) = audit.entries("acme")
    assert entry.query == 'tag:"not hot"' and entry.settings["tag"] == "not hot"
    with open_matter("acme") as m:
        assert Searcher(m).match(entry.query)[1] == {16}  # the logged query re-runs as logged
    bad = invoke(
        "exhibits",
        "--tag",
        'say "hi"',
        "--prefix",
        "PX",
        "--out",
        str(out),
        "-m",
        "acme",
        "--force",
    )
    assert bad.exit_code == 2
    assert "cannot be written as a query" in bad.stderr
    assert len(audit.entries("acme")) == 1  # nothing run, nothing logged


def test_tag_changes_are_logged_but_not_rerun() -> None:
    ingest_all()
    from discovery.matter import open_matter

    assert invoke("search", "libgen", "-m", "acme").exit_code == 0
    with open_matter("acme") as m:
        m.store.tag([16], "hot")
        audit.record(m, "tag", "hot", "hot", [16], tag="hot")
    tag_entry = audit.entries("acme")[-1]
    assert tag_entry.command == "tag" and tag_entry.result_hash == result_hash([16])
    refused = invoke("audit", "--rerun", str(tag_entry.id))
    assert refused.exit_code == 2 and "nothing to re-run" in refused.stderr
    everything = invoke("audit", "--rerun", "all")
    assert everything.exit_code == 0 and len(everything.stdout.strip().splitlines()) == 1
    listed = invoke("audit")
    assert listed.exit_code == 0 and "tag" in listed.stdout


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**63 - 1)) | st.lists(st.integers(0, 10**7)))
def test_the_result_hash_is_sha256_over_the_sorted_ids_one_decimal_a_line(ids: list[int]) -> None:
    """The hash's definition: audit logs written before it was computed with numpy must
    re-run to the same hash."""
    text = "\n".join(str(i) for i in sorted(ids))
    for in_python in (0, 10**9):  # written by numpy, then in Python
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(search, "HASH_IN_PYTHON", in_python)
            assert result_hash(ids) == hashlib.sha256(text.encode()).hexdigest()
            assert result_hash(tuple(ids)) == result_hash(iter(ids))
