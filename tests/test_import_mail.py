"""The email importer: encoded words, QP/base64, HTML bodies, mbox quoting, threads, samples."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.detect import detect
from discovery.importers.mail import (
    MailImporter,
    html_to_text,
    message_ids,
    normalise_subject,
    unquote_from,
)
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.model import ConversationKind
from discovery.search import Searcher
from tests.conftest import FIXTURES, SAMPLES
from tests.fuzzing import Edits, byte_edits, mutate, read_mutated

FIX = FIXTURES / "email"
SAMPLE_DIR = SAMPLES / "email"


def read(path: Path) -> list[ImportItem]:
    return list(MailImporter().read(path, ImportContext(UTC, path.name)))


def messages(items: list[ImportItem]) -> list[RawMessage]:
    return [i for i in items if isinstance(i, RawMessage)]


def test_encoded_words_quoted_printable_and_attachment() -> None:
    items = read(FIX / "encoded_words.eml")
    (conv,) = [i for i in items if isinstance(i, RawConversation)]
    assert (conv.platform, conv.key, conv.name, conv.kind) == (
        "email",
        "root-001@example.test",
        "Línea uno: the ledger",
        ConversationKind.EMAIL_THREAD,
    )
    assert [(p.speaker_id, p.name) for p in conv.participants] == [
        ("ann.lee@example.test", "Ann Lée"),
        ("bob@example.test", "Bob Ray"),
        ("cy@example.test", "Cy Díaz"),  # ISO-8859-1 encoded word
    ]
    (m,) = messages(items)
    assert (m.speaker, m.speaker_id, m.native_id) == (
        "Ann Lée",
        "ann.lee@example.test",
        "root-001@example.test",
    )
    assert m.thread_key is None  # the root
    assert m.sent_at == datetime(2023, 12, 31, 21, 5, tzinfo=timezone(timedelta(hours=-5)))
    assert m.text == (
        "Subject: Línea uno: the ledger\n\n"
        "Café at nine. We should ask for permission before we copy the whole archive."
    )  # text/plain preferred; the soft line break joined
    (att,) = m.attachments
    payload = b"%PDF-1.4 fictional ledger\n"
    assert (att.name, att.size, att.sha256) == (
        "lédger.pdf",
        len(payload),
        hashlib.sha256(payload).hexdigest(),
    )


def test_html_only_body_and_reply_thread() -> None:
    (m,) = messages(read(FIX / "html_only.eml"))
    assert (
        m.text
        == "Subject: Re: Línea uno: the ledger\n\nOnly HTML here: the vault&key\nsecond paragraph"
    )
    assert "alert" not in m.text and "color" not in m.text
    assert (m.speaker, m.speaker_id) == ("bob@example.test", "bob@example.test")
    assert m.conversation_key == "root-001@example.test"  # In-Reply-To names the root
    assert m.thread_key == "root-001@example.test"


def test_mbox_quoting_threads_and_dates() -> None:
    items = read(FIX / "thread.mbox")
    convs = {c.key: c for c in items if isinstance(c, RawConversation)}
    assert set(convs) == {"root-001@example.test", "subject:vault keys"}
    assert convs["subject:vault keys"].name == "Vault keys"
    reply, cy, dee = messages(items)
    assert reply.conversation_key == "root-001@example.test"  # first of References
    assert reply.thread_key == "root-001@example.test"
    assert reply.text.endswith(
        "Noted.\nFrom the archive: nothing leaves the building.\n>From here on, quoted twice."
    )
    assert reply.location == "message 1 (line 1)"
    assert cy.sent_at == datetime(2024, 1, 1, 11, 0)  # -0000: zone unknown, naive
    assert cy.native_id == "" and cy.location == "message 2 (line 15)"
    assert (dee.conversation_key, dee.sent_at) == ("subject:vault keys", datetime(2024, 1, 1, 12))
    assert not [i for i in items if isinstance(i, ImportProblem)]


def test_helpers() -> None:
    assert normalise_subject("RE: Fwd: AW:  Vault   keys") == "Vault keys"
    assert normalise_subject("Re[2]: x") == "x"
    assert message_ids("<a@x> <b@y>\n <c@z>") == ["a@x", "b@y", "c@z"]
    assert message_ids("bare@id") == ["bare@id"]
    assert message_ids(None) == []
    assert (
        unquote_from(b">From a\n>>From b\n> From c\nFrom d") == b"From a\n>From b\n> From c\nFrom d"
    )
    assert html_to_text("<div>a<b>b</b></div><p>c<br>d</p>") == "ab\nc\nd"


def test_sniff(tmp_path: Path) -> None:
    imp = MailImporter()
    for p in FIX.iterdir():
        assert imp.sniff(p), p
        assert getattr(detect(p), "name", None) == "email"
    rsmf = tmp_path / "chat.eml"
    rsmf.write_text("X-RSMF-Version: 2.0.0\nFrom: a@b\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nx")
    assert not imp.sniff(rsmf)
    notes = tmp_path / "notes.txt"
    notes.write_text("From: someone\nhello\n")
    assert not imp.sniff(notes)


def test_unreadable_messages_are_problems(tmp_path: Path) -> None:
    p = tmp_path / "x.mbox"
    p.write_text(
        "junk before\n\nFrom a Mon Jan  1 10:00:00 2024\nFrom: a@b\nSubject: no date\n\nbody\n\n"
        "From b nonsense\nFrom: b@c\nSubject: s\n\nneither\n"
    )
    items = read(p)
    problems = [i for i in items if isinstance(i, ImportProblem)]
    assert [(x.line, x.reason) for x in problems] == [
        (1, "text before the first message"),
        (9, "message has no readable Date; kept undated"),
    ]
    assert [m.sent_at for m in messages(items)] == [datetime(2024, 1, 1, 10), None]


def test_ingest_threads_across_files_and_tz() -> None:
    with open_matter("mail", create=True) as m:
        ingest(
            m,
            [FIX / "encoded_words.eml", FIX / "html_only.eml", FIX / "thread.mbox"],
            tz=ZoneInfo("America/Chicago"),
            tz_name="America/Chicago",
        )
        s = Searcher(m)
        (root,) = s.search('"copy the whole archive"').hits
        assert root.message.sent_at == datetime(2024, 1, 1, 2, 5, tzinfo=UTC)
        assert root.message.utc_offset == -300
        (reply,) = s.search('"nothing leaves the building"').hits
        assert reply.message.thread_root == root.message.id
        assert reply.message.conversation_id == root.message.conversation_id
        (cy,) = s.search('"vault keys" AND speaker:"cy diaz"').hits
        assert cy.message.sent_at == datetime(2024, 1, 1, 17, 0, tzinfo=UTC)  # 11:00 Chicago
        assert cy.message.utc_offset is None
        assert s.count("linea") == 3  # the subject is searchable


def test_real_samples() -> None:
    eml = SAMPLE_DIR / "mail-parser_8bit_alternative.eml"
    mbox = SAMPLE_DIR / "scutes_test.mbox"
    if not (eml.exists() and mbox.exists()):
        pytest.skip("shared email samples not present")
    with open_matter("s", create=True) as m:
        report = ingest(m, [eml, mbox])
        assert [(r.format, r.added) for r in report.sources] == [("email", 1), ("email", 1)]
        s = Searcher(m)
        (hit,) = s.search('"aircraft carrier"').hits
        assert hit.message.speaker == "Helicopter_flight_simulator"
        assert hit.message.sent_at == datetime(2017, 3, 7, 22, 29, 24, tzinfo=UTC)
        (pool,) = s.search('"from the wh"').hits
        assert pool.message.speaker == "Brockman, Kent"
        assert pool.message.speaker_id == "brockman@springfieldgazette.com"
        assert pool.message.sent_at == datetime(2022, 10, 31, 15, 17, 37, tzinfo=UTC)
        assert ">From" not in pool.message.text and "\nFrom the WH:" in pool.message.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from(["encoded_words.eml", "html_only.eml", "thread.mbox"]),
    cut=st.integers(min_value=0, max_value=2000),
    edits=byte_edits(2000, 10),
)
def test_mutated_inputs_never_raise(which: str, cut: int, edits: Edits) -> None:
    data = mutate((FIX / which).read_bytes(), cut + 1, edits)
    assert read_mutated(MailImporter(), which, data)


@settings(max_examples=60, deadline=None)
@given(
    headers=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "From",
                    "Date",
                    "Subject",
                    "Message-ID",
                    "References",
                    "In-Reply-To",
                    "To",
                    "Content-Type",
                    "Content-Transfer-Encoding",
                    "Thread-Topic",
                ]
            ),
            st.text(max_size=30),
        ),
        max_size=8,
    ),
    body=st.text(max_size=60),
)
def test_odd_headers_never_raise(headers: list[tuple[str, str]], body: str) -> None:
    text = "".join(f"{k}: {v.replace(chr(10), ' ').replace(chr(13), ' ')}\n" for k, v in headers)
    data = f"From: a@b\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n{text}\n{body}".encode()
    assert read_mutated(MailImporter(), "m.eml", data, sniff=False)
