"""Names as people wrote them, ids as strings, rows' own platforms, PDF sniffing."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pytest

from discovery.importers.base import ImportContext, RawConversation, RawMessage
from discovery.importers.detect import IMPORTERS, _sniffs
from discovery.importers.mail import MailImporter
from discovery.importers.rsmf import RsmfImporter
from discovery.importers.tabular import CsvImporter
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.search import Searcher
from tests.pdfmaker import make_pdf


def _mail(tmp_path: Path, sender: str) -> RawMessage:
    p = tmp_path / "m.eml"
    p.write_text(
        f"From: {sender}\nDate: Tue, 3 Jan 2023 10:00:00 +0000\nSubject: s\n\nbody\n",
        encoding="utf-8",
    )
    (msg,) = [
        i for i in MailImporter().read(p, ImportContext(UTC, "m.eml")) if isinstance(i, RawMessage)
    ]
    return msg


@pytest.mark.parametrize(
    ("sender", "speaker", "address"),
    [
        ("jdoe@example.com (John Doe)", "John Doe", "jdoe@example.com"),
        ("jdoe at example.com (John Doe)", "John Doe", "jdoe@example.com"),
        ("Jdoe at Example.com (=?utf-8?q?Jos=C3=A9_D=C3=ADaz?=)", "José Díaz", "jdoe@example.com"),
        ("jdoe@example.com (=?iso-8859-1?q?Ren=E9?=)", "René", "jdoe@example.com"),
        ("Doe, John <jdoe@example.com>", "Doe, John", "jdoe@example.com"),
        ('"Doe, Jane" <JANE@example.com>', "Doe, Jane", "jane@example.com"),
        ("=?utf-8?b?w5xsbGEgTcO8bGxlcg==?= <u@example.com>", "Ülla Müller", "u@example.com"),
        ("plain@example.com", "plain@example.com", "plain@example.com"),
    ],
)
def test_email_display_names(tmp_path: Path, sender: str, speaker: str, address: str) -> None:
    msg = _mail(tmp_path, sender)
    assert (msg.speaker, msg.speaker_id) == (speaker, address)


def test_rsmf_numeric_ids_are_compared_as_strings(tmp_path: Path) -> None:
    manifest = {
        "version": "2.0.0",
        "participants": [{"id": 7, "display": "Ann Lee"}, {"id": "8", "display": "Bob Roe"}],
        "conversations": [{"id": 100, "display": "deal room", "participants": [7, "8"]}],
        "events": [
            {"id": 1, "type": "message", "participant": "7", "conversation": "100",
             "body": "numeric id referenced as a string", "timestamp": "2023-01-03T10:00:00Z"},
            {"id": "2", "type": "message", "participant": 8, "conversation": 100,
             "body": "string id referenced as a number", "timestamp": "2023-01-03T10:01:00Z",
             "parent": 1},
        ],
    }  # fmt: skip
    p = tmp_path / "rsmf_manifest.json"
    p.write_text(json.dumps(manifest), encoding="utf-8")
    items = list(RsmfImporter().read(p, ImportContext(UTC, p.name)))
    (conv,) = [i for i in items if isinstance(i, RawConversation)]
    assert conv.key == "100" and [x.name for x in conv.participants] == ["Ann Lee", "Bob Roe"]
    ms = [i for i in items if isinstance(i, RawMessage)]
    assert [(m.native_id, m.speaker, m.conversation_key) for m in ms] == [
        ("1", "Ann Lee", "100"),
        ("2", "Bob Roe", "100"),
    ]
    assert ms[1].thread_key == "1"


def test_csv_rows_of_one_conversation_keep_their_own_platform(tmp_path: Path) -> None:
    p = tmp_path / "mixed.csv"
    p.write_text(
        "conversation,platform,speaker,time,text\n"
        "general,slack,Ann,2023-01-03T10:00:00Z,from slack\n"
        "general,teams,Bob,2023-01-03T10:01:00Z,from teams\n"
        "general,,Cy,2023-01-03T10:02:00Z,from the sheet\n",
        encoding="utf-8",
    )
    items = list(CsvImporter().read(p, ImportContext(UTC, p.name)))
    convs = {(c.platform, c.name) for c in items if isinstance(c, RawConversation)}
    assert convs == {("slack", "general"), ("teams", "general"), ("csv", "general")}
    with open_matter("csv", create=True) as m:
        ingest(m, [p])
        s = Searcher(m)
        assert s.count("platform:slack") == 1 and s.count("platform:teams") == 1
        (hit,) = s.search('"from teams"').hits
        assert (hit.message.platform, hit.message.conversation) == ("teams", "general")


def test_a_pdf_is_its_marker_within_a_kilobyte_whatever_bytes_follow(tmp_path: Path) -> None:
    body = make_pdf([["Memo about the escrow account"]])
    cases = {
        "binary_comment.pdf": body.replace(b"\n", b"\n%\xe2\xe3\xcf\xd3\x00\x00\n", 1),
        "junk_before.pdf": b"\x00\x01junk " * 50 + body,
        "no_suffix": body,
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        assert [n for n, imp in IMPORTERS.items() if _sniffs(imp, p)] == ["pdf"], name
    late = tmp_path / "late.pdf"
    late.write_bytes(b" " * 1100 + body)
    assert not IMPORTERS["pdf"].sniff(late)
