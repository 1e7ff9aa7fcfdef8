"""Nothing lost (issue 13): a bad message, entry or source loses nothing else; reports last.

A lone surrogate (half an emoji, ``"\\ud83d"`` in the JSON) is what real Slack
and Telegram exports hold; each format below gets one in one message of a
fixture, and every other message must still be imported, with a problem line
naming the file and the message's place in it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from discovery.errors import DiskFullError
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.search import Searcher
from discovery.store import Staging, Store
from tests.conftest import ACME, FIXTURES, invoke

HALF_EMOJI = "\\ud83d"  # as the JSON file spells it


def with_half_emoji(src: Path, dest: Path, member: str, key: str, nth: int = 1) -> Path:
    """A copy of ``src`` at ``dest`` whose ``member`` file has a lone surrogate in the
    ``nth`` string value of ``key``."""
    if src.is_dir():
        shutil.copytree(src, dest)
        target = dest / member
    else:
        shutil.copy(src, dest)
        target = dest
    raw = target.read_text(encoding="utf-8")
    at = -1
    for _ in range(nth):
        at = raw.index(f'"{key}": "', at + 1)
    cut = at + len(f'"{key}": "')
    target.write_text(raw[:cut] + f"zqxj {HALF_EMOJI} " + raw[cut:], encoding="utf-8")
    return dest


# (fixture, member holding the damaged message, JSON key, expected place in the problem line)
CASES = {
    "slack": (
        ACME,
        "general/2023-03-06.json",
        "text",
        "general/2023-03-06.json entry 1",
    ),
    "teams (JSON)": (FIXTURES / "teams" / "reply_edit_delete.json", "", "content", "entry 1"),
    "jsonl": (FIXTURES / "jsonl" / "messages.jsonl", "", "content", "line 1"),
    "telegram": (FIXTURES / "telegram" / "single_chat.json", "", "text", "message 1"),
    "discord": (FIXTURES / "discord" / "deals_part1.json", "", "content", "message 1"),
    "rsmf": (FIXTURES / "rsmf" / "manifest_v2.json", "", "body", "event 1"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_lone_surrogate_loses_nothing_and_is_reported(case: str, tmp_path: Path) -> None:
    src, member, key, place = CASES[case]
    damaged = with_half_emoji(src, tmp_path / src.name, member, key)
    with open_matter("clean", create=True) as m:
        (clean,) = ingest(m, [src]).sources
        clean_texts = sorted(t for (t,) in m.store.db.execute("SELECT text FROM messages"))
    with open_matter("m", create=True) as m:
        (rep,) = ingest(m, [damaged]).sources
        texts = sorted(t for (t,) in m.store.db.execute("SELECT text FROM messages"))
        (repaired,) = m.store.db.execute(
            "SELECT text, extra FROM messages WHERE text LIKE '%zqxj \ufffd%'"
        ).fetchall()
    assert rep.status == "imported"
    assert rep.added == clean.added  # every message, the damaged one included
    assert len(rep.problems) == len(clean.problems) + 1
    new = str(rep.problems[-1])
    assert new.startswith(f"{damaged}: {place}")
    assert "lone surrogate" in new and "U+FFFD" in new and "zqxj" not in new  # no text quoted
    # only the repaired message differs from a clean import, by one U+FFFD
    assert [t for t in texts if t not in clean_texts] == [repaired[0]]
    # ... and its original text is kept in its raw record, surrogate and all
    original = json.loads(repaired[1])["original"]["text"]
    assert original == repaired[0].replace("\ufffd", "\ud83d")


def test_repaired_messages_that_differ_only_there_stay_two(tmp_path: Path) -> None:
    rows = [
        {"conversation": "c", "speaker": "A", "time": "2023-01-01T00:00:00Z", "text": t}
        for t in ("x \ud83d", "x \ud83e")  # two different halves, both shown as U+FFFD
    ]
    src = tmp_path / "two.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    with open_matter("m", create=True) as m:
        (rep,) = ingest(m, [src]).sources
        assert (rep.added, rep.duplicates, len(rep.problems)) == (2, 0, 2)
        assert Searcher(m).count("x") == 2


def test_a_file_name_that_is_not_utf8_is_recorded_readably(tmp_path: Path) -> None:
    name = b"caf\xe9 chat.jsonl".decode("utf-8", "surrogateescape")  # Latin-1 on disk
    src = tmp_path / name
    src.write_text(
        '{"conversation": "c", "speaker": "A", "time": "2023-01-01T00:00:00Z", "text": "hi"}\n'
    )
    with open_matter("m", create=True) as m:
        (rep,) = ingest(m, [src]).sources
        assert rep.status == "imported" and rep.added == 1
        (path,) = m.store.db.execute("SELECT path FROM sources").fetchone()
    assert path == f"{tmp_path}/caf\\xe9 chat.jsonl"


def test_a_fault_storing_one_source_reaches_no_other(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Store.upsert_conversation

    def fail_for_slack(self: Store, platform: str, *args: Any, **kwargs: Any) -> int:
        if platform == "slack":
            raise KeyError("a bug")
        return real(self, platform, *args, **kwargs)

    jsonl = FIXTURES / "jsonl" / "messages.jsonl"
    with open_matter("m", create=True) as m, monkeypatch.context() as patched:
        patched.setattr(Store, "upsert_conversation", fail_for_slack)
        report = ingest(m, [ACME, jsonl])
        assert [s.status for s in report.sources] == ["failed", "imported"]
        assert [str(p) for p in report.sources[0].problems] == [
            f"{ACME}: could not be stored (KeyError); nothing of it was imported"
        ]
        assert m.store.counts()["messages"] == 3  # the JSONL's; nothing of the export
    with open_matter("m") as m:  # the failure was recorded, and a retry imports it
        assert [r.report["status"] for r in m.store.source_reports()] == ["imported", "failed"]
        (again, _) = ingest(m, [ACME, jsonl]).sources
        assert again.status == "imported" and again.added == 50
        assert [r.report["status"] for r in m.store.source_reports()] == ["imported"] * 2


def test_the_report_is_printed_when_the_run_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Staging.store

    def full_disk(self: Staging, source_id: int, conversations: Any) -> tuple[int, int]:
        if self.count == 50:  # the Slack export: the second source
            raise DiskFullError(str(self._store.path), 0, 0)
        return real(self, source_id, conversations)

    monkeypatch.setattr(Staging, "store", full_disk)
    jsonl = FIXTURES / "jsonl" / "messages.jsonl"
    result = invoke("ingest", str(jsonl), str(ACME), str(FIXTURES / "transcript" / "us_12h.txt"))
    assert result.exit_code == 1
    out = result.stdout
    rows = [line.split() for line in out.splitlines()]
    assert ["1", "imported", "jsonl"] in [r[:3] for r in rows]  # the table, so far
    assert ["2", "failed", "slack"] in [r[:3] for r in rows]
    assert "us_12h" not in out  # the run stopped at the full disk
    assert f"problem: {ACME}: not imported: no space left on the disk holding" in out
    assert out.rstrip().endswith("3 messages added to matter 'default'")
    assert result.stderr.startswith("discovery: no space left on the disk holding")


def test_discovery_report_reads_back_every_source(tmp_path: Path) -> None:
    bad = FIXTURES / "jsonl" / "bad_row.jsonl"
    unknown = tmp_path / "notes.bin"
    unknown.write_bytes(b"\x00\x01\x02")
    first = invoke("ingest", str(ACME), str(bad), str(unknown), "--custodian", "Dana")
    assert first.exit_code == 1  # notes.bin is not a format
    problems = [line for line in first.stdout.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 5  # bad_row.jsonl's four, notes.bin's one

    again = invoke("ingest", str(ACME), str(bad), "--custodian", "Dana")
    assert again.exit_code == 0
    assert f"{bad}: already imported (4 problems recorded; see discovery report)" in again.stdout

    shown = invoke("report")
    assert shown.exit_code == 0
    assert [line for line in shown.stdout.splitlines() if line.startswith("problem: ")] == problems
    assert " 1  imported" in shown.stdout and "unrecognised" in shown.stdout

    rows = [json.loads(line) for line in invoke("report", "--json").stdout.splitlines()]
    assert [(r["id"], r["status"], r["custodian"], r["tz"]) for r in rows] == [
        (1, "imported", "Dana", "UTC"),
        (2, "imported", "Dana", "UTC"),
        (None, "unrecognised", "Dana", "UTC"),
    ]
    assert (rows[0]["added"], rows[0]["system"], rows[1]["added"]) == (50, 12, 2)
    assert [len(r["problems"]) for r in rows] == [0, 4, 1]
    assert "imported_at" in rows[0] and "attempted_at" in rows[2]

    one = [json.loads(x) for x in invoke("report", "--source", "2", "--json").stdout.splitlines()]
    assert [r["path"] for r in one] == [str(bad)]
    by_name = invoke("report", "--source", "bad_row", "--json").stdout.splitlines()
    assert [json.loads(x)["id"] for x in by_name] == [2]
    missing = invoke("report", "--source", "nothing-like-it")
    assert missing.exit_code == 2 and "no source 'nothing-like-it'" in missing.stderr

    matter = invoke("matters", "--matter", "default")
    assert matter.exit_code == 0
    assert "Sources and their ingest reports" in matter.stdout
    assert [x for x in matter.stdout.splitlines() if x.startswith("problem: ")] == problems
    assert invoke("matters", "--matter", "nope").exit_code == 1


def test_names_with_a_lone_surrogate_are_repaired_too(tmp_path: Path) -> None:
    row = {
        "conversation": "deal \ud83d room",
        "speaker": "Ann \udc00",
        "time": "2023-01-01T00:00:00Z",
        "text": "plain words",
    }
    src = tmp_path / "names.jsonl"
    src.write_text(json.dumps(row) + "\n", encoding="utf-8")  # written as \\ud83d escapes
    with open_matter("m", create=True) as m:
        (rep,) = ingest(m, [src]).sources
        (msg,) = m.store.messages([1])
    assert rep.added == 1
    assert (msg.conversation, msg.speaker, msg.text) == (
        "deal \ufffd room",
        "Ann \ufffd",
        "plain words",
    )
    reasons = [p.reason for p in rep.problems]
    assert reasons == [
        "conversation deal \ufffd room: half of an emoji or other character pair (a lone"
        " surrogate) in key, name: stored as U+FFFD, the original not kept",
        "line 1: half of an emoji or other character pair (a lone surrogate) in"
        " conversation_key, speaker, speaker_id: stored as U+FFFD, the original kept in the"
        " message's raw record",
    ]
