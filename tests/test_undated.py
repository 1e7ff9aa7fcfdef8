"""Messages without a time or a sender are kept and flagged, never dropped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.model import UNDATED, UNKNOWN_SENDER
from discovery.query.parser import parse
from discovery.render import local_time
from discovery.search import Searcher
from tests.reference_eval import evaluate, refs_from_matter

DATED = (
    "From: Ann Lee <ann@example.com>\nDate: Tue, 3 Jan 2023 10:00:00 +0000\n"
    "Subject: budget\nMessage-ID: <a1@example.com>\n\nThe budget is final.\n"
)


def _write(tmp_path: Path) -> tuple[Path, Path]:
    bare = tmp_path / "note.eml"
    bare.write_text("The budget note, no headers at all.\nSecond line.\n", encoding="utf-8")
    dated = tmp_path / "dated.eml"
    dated.write_text(DATED, encoding="utf-8")
    return bare, dated


def test_an_email_without_headers_is_one_undated_message_from_unknown_sender(
    tmp_path: Path,
) -> None:
    bare, dated = _write(tmp_path)
    with open_matter("u", create=True) as m:
        report = ingest(m, [bare, dated])
        first, second = report.sources
        assert (first.format, first.status, first.added) == ("email", "imported", 1)
        assert (first.undated, first.unknown_sender) == (1, 1)
        assert any("no readable Date; kept undated" in str(p) for p in first.problems)
        assert (second.undated, second.unknown_sender) == (0, 0)
        s = Searcher(m)
        (hit,) = s.search('"budget note"').hits
        msg = hit.message
        assert msg.undated and msg.sent_at == UNDATED
        assert msg.unknown_sender and msg.speaker == UNKNOWN_SENDER
        assert local_time(msg.sent_at, UTC) == "(undated)"
        # sorts last, and no date filter holds it
        assert [h.message.undated for h in s.search("budget", sort="time").hits] == [False, True]
        for q in (
            "budget AND after:2000-01-01",
            "budget AND before:2199-12-31",
            "budget AND sent:1900-01-01..2199-12-31",
        ):
            assert s.count(q) == 1, q
        assert s.count("budget AND sent:2023-01-03..2023-01-03") == 1
        # the reference evaluator agrees
        refs = refs_from_matter(m)
        node = parse("after:2000-01-01")
        assert sum(evaluate(node, r, UTC) for r in refs) == 1


def test_mbox_without_date_is_dated_by_its_from_line_and_the_report_says_so(
    tmp_path: Path,
) -> None:
    box = tmp_path / "list.mbox"
    box.write_text(
        "From alice at example.org  Tue Jan  3 10:00:00 2012\n"
        "From: alice at example.org (Alice =?utf-8?q?M=C3=BCller?=)\n"
        "Subject: [list] Plans\nMessage-ID: <1@example.org>\n\nNo date header here.\n",
        encoding="utf-8",
    )
    with open_matter("mb", create=True) as m:
        (src,) = ingest(m, [box]).sources
        assert src.dated_by == {"the mbox 'From ' line": 1} and src.undated == 0
        (hit,) = Searcher(m).search('"no date header"').hits
        assert hit.message.sent_at == datetime(2012, 1, 3, 10, tzinfo=UTC)
        # the name as the archive wrote it, encoded word decoded; the address rebuilt
        assert (hit.message.speaker, hit.message.speaker_id) == (
            "Alice Müller",
            "alice@example.org",
        )


def test_no_output_shows_an_undated_message_with_an_invented_date(tmp_path: Path) -> None:
    import csv
    import io
    import json

    from tests.conftest import invoke

    bare, dated = _write(tmp_path)
    assert invoke("ingest", str(bare), str(dated)).exit_code == 0
    assert invoke("tag", "budget", "--add", "hot").exit_code == 0
    (undated,) = [
        json.loads(line)
        for line in invoke("search", "budget", "--json").stdout.splitlines()
        if json.loads(line)["id"] == "MSG-00000001"
    ]
    assert (undated["sent_at"], undated["local_time"], undated["undated"]) == (None, None, True)
    rows = csv.DictReader(io.StringIO(invoke("search", "budget", "--csv").stdout))
    row = {r["control_number"]: r for r in rows}["MSG-00000001"]
    assert (row["sent_at_utc"], row["local_time"]) == ("", "(undated)")
    assert "── (undated) ──" in invoke("show", "1").stdout
    terms = tmp_path / "terms.txt"
    terms.write_text("budget\n")
    report = invoke("batch", str(terms), "--report", "-").stdout
    (first,) = [r for r in csv.DictReader(io.StringIO(report)) if r["term"] == "budget"]
    assert (first["first_hit"], first["last_hit"]) == ("2023-01-03T10:00:00+00:00",) * 2
    out = tmp_path / "ex"
    out.mkdir()
    args = ["--prefix", "PX", "--transcripts", str(out / "tr"), "--loadfile", str(out / "l.dat")]
    assert invoke("exhibits", "--tag", "hot", "--out", str(out / "x.csv"), *args).exit_code == 0
    written = [p for p in out.rglob("*") if p.is_file()]
    assert len(written) == 6 and not [p for p in written if b"9999" in p.read_bytes()]
    assert "Sent: (undated)" in (out / "tr" / "PX-000002.txt").read_text()


def _no_sender(tmp_path: Path, fmt: str) -> Path:
    """A real fixture of ``fmt`` with the sender of one message taken out."""
    import json
    import shutil

    from tests.conftest import FIXTURES

    if fmt == "discord":
        doc = json.loads((FIXTURES / "discord" / "deals_part1.json").read_text())
        doc["messages"][0]["author"] = {}
        path = tmp_path / "discord.json"
    elif fmt == "teams":
        doc = json.loads((FIXTURES / "teams" / "reply_edit_delete.json").read_text())
        doc[0]["from"] = None
        path = tmp_path / "teams.json"
    elif fmt == "google_chat":
        folder = tmp_path / "DM fictdm02"
        src = FIXTURES / "google_chat" / "Takeout" / "Google Chat" / "Groups" / "DM fictdm02"
        shutil.copytree(src, folder)
        doc = json.loads((folder / "messages.json").read_text())
        del doc["messages"][0]["creator"]
        (folder / "messages.json").write_text(json.dumps(doc))
        return folder
    else:  # mattermost: the first post's user is dropped
        lines = (FIXTURES / "mattermost" / "bulk_export.jsonl").read_text().splitlines()
        n = next(i for i, line in enumerate(lines) if '"type": "post"' in line)
        post = json.loads(lines[n])
        del post["post"]["user"]
        lines[n] = json.dumps(post)
        path = tmp_path / "bulk_export.jsonl"
        path.write_text("\n".join(lines) + "\n")
        return path
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("fmt", ["discord", "teams", "google_chat", "mattermost"])
def test_a_message_without_a_sender_is_kept_as_unknown_sender(tmp_path: Path, fmt: str) -> None:
    with open_matter("u", create=True) as m:
        (source,) = ingest(m, [_no_sender(tmp_path, fmt)], fmt=fmt).sources
        assert source.unknown_sender == 1, source.problems
        unknown = [
            x for x in m.store.messages(range(1, m.store.max_message_id() + 1)) if x.unknown_sender
        ]
    assert [x.speaker for x in unknown] == [UNKNOWN_SENDER]
