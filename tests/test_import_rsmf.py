"""The RSMF importer: the manifest, the bare zip and the .rsmf email; the real sample; fuzzing."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.detect import detect
from discovery.importers.rsmf import RsmfImporter
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.model import Attachment, ConversationKind, Reaction
from discovery.search import Searcher
from tests.conftest import FIXTURES, SAMPLES
from tests.fuzzing import json_values, read_mutated, truncate_and_flip

MANIFEST = FIXTURES / "rsmf" / "manifest_v2.json"
SAMPLE = SAMPLES / "rsmf" / "relativity-slack-demo_rsmf_manifest.json"
TERM_SHEET = b"%PDF-fake\n\n"


def read(path: Path) -> list[ImportItem]:
    return list(RsmfImporter().read(path, ImportContext(UTC, str(path))))


def msgs(items: list[ImportItem]) -> dict[str, RawMessage]:
    return {m.native_id: m for m in items if isinstance(m, RawMessage)}


def make_zip(manifest: bytes, folder: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{folder}rsmf_manifest.json", manifest)
        zf.writestr(f"{folder}att-1.pdf", TERM_SHEET)
    return buf.getvalue()


def make_eml(zipped: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"] = "collector@example.invalid"
    msg["Subject"] = "RSMF export"
    msg["X-RSMF-Version"] = "2.0.0"
    msg["X-RSMF-Generator"] = "fixture script"
    msg.set_content("This is an RSMF file.")
    msg.add_attachment(zipped, maintype="application", subtype="zip", filename="rsmf.zip")
    return msg.as_bytes()


@pytest.fixture(scope="module")
def manifest_items() -> list[ImportItem]:
    return read(MANIFEST)


def test_conversations_platform_is_the_inner_platform(manifest_items: list[ImportItem]) -> None:
    convs = {c.key: c for c in manifest_items if isinstance(c, RawConversation)}
    assert convs["conv one"].platform == "teams" and convs["conv one"].name == "deal-team"
    assert convs["conv-dm"].platform == "rsmf" and convs["conv-dm"].kind is ConversationKind.DIRECT
    assert [p.name for p in convs["conv one"].participants] == ["Ida Marsh", "Lev Okafor"]


def test_unordered_events_threads_and_times(manifest_items: list[ImportItem]) -> None:
    got = msgs(manifest_items)
    assert list(got) == [  # file order kept (deterministic); the ingest sorts by time
        "reply two (free text id)",
        "ROOT 1: kickoff",
        "reply one",
        "join-1",
        "leave-1",
        "dm-1",
        "bad time",
    ]
    root = got["ROOT 1: kickoff"]
    assert root.thread_key is None
    assert got["reply one"].thread_key == "ROOT 1: kickoff"
    two = got["reply two (free text id)"]
    assert two.thread_key == "ROOT 1: kickoff" and two.speaker == "Ida Marsh"
    assert two.sent_at.astimezone(UTC) == datetime(2023, 5, 2, 14, 7, tzinfo=UTC)
    assert two.sent_at.utcoffset() == timedelta(hours=-4)
    assert two.extra["direction"] == "outgoing" and two.platform == "teams"
    assert root.sent_at == datetime(2023, 5, 2, 14, 0, 0, 250000, tzinfo=UTC)
    assert got["dm-1"].sent_at.tzinfo == timezone(timedelta(hours=2))


def test_edits_deleted_attachments_reactions(manifest_items: list[ImportItem]) -> None:
    root = msgs(manifest_items)["ROOT 1: kickoff"]
    assert root.text == "kickoff final wording"
    assert root.versions == ("v1 first draft", *(f"v{i}" for i in range(2, 11)))
    assert root.edited and root.deleted and not root.system
    assert root.extra["custom:Department"] == "Legal"
    assert root.attachments == (Attachment("Term Sheet.pdf", size=11),)
    assert root.reactions == (Reaction("thumbsup", ("Ida Marsh",)),)
    # an Edit1 equal to the body adds no version, but the message is still edited
    one = msgs(manifest_items)["reply one"]
    assert one.versions == () and one.edited


def test_system_events_and_problems(manifest_items: list[ImportItem]) -> None:
    got = msgs(manifest_items)
    assert got["join-1"].system and got["join-1"].text == "Ida Marsh joined"
    assert got["leave-1"].system and got["leave-1"].text == "Lev Okafor left"
    (problem,) = [p for p in manifest_items if isinstance(p, ImportProblem)]
    assert problem.line == 7 and "unreadable timestamp; kept undated" in problem.reason
    # event 7's timestamp is "yesterday": the message is kept, undated
    assert got["bad time"].sent_at is None


def test_events_without_a_time_or_participant_are_kept(tmp_path: Path) -> None:
    # As a production writes a placeholder whose speaker and time are withheld.
    manifest = {
        "version": "2.0.0",
        "participants": [{"id": "p1", "display": "Ann"}],
        "conversations": [{"id": "c1", "display": "chat", "participants": ["p1"]}],
        "events": [
            {"id": "e1", "type": "message", "conversation": "c1", "participant": "p1",
             "timestamp": "2023-05-02T10:00:00Z", "body": "dated"},
            {"id": "e2", "type": "message", "conversation": "c1", "body": "Withheld — Privileged"},
        ],
    }  # fmt: skip
    path = tmp_path / "rsmf_manifest.json"
    path.write_text(json.dumps(manifest))
    items = read(path)
    assert not [p for p in items if isinstance(p, ImportProblem)]
    placeholder = msgs(items)["e2"]
    assert (placeholder.sent_at, placeholder.speaker, placeholder.text) == (
        None, "", "Withheld — Privileged"
    )  # fmt: skip
    with open_matter("back", create=True) as m:
        report = ingest(m, [path])
        (stored,) = [x for x in m.store.messages([1, 2]) if x.native_id == "e2"]
    assert report.sources[0].undated == 1 and report.sources[0].unknown_sender == 1
    assert stored.undated and stored.unknown_sender


def test_bare_zip_and_email_carry_the_same_messages(tmp_path: Path) -> None:
    zipped = make_zip(MANIFEST.read_bytes(), folder="export/")
    zpath = tmp_path / "export.zip"
    zpath.write_bytes(zipped)
    eml = tmp_path / "export.rsmf"
    eml.write_bytes(make_eml(zipped))
    as_eml = tmp_path / "export.eml"
    as_eml.write_bytes(make_eml(zipped))
    plain = msgs(read(MANIFEST))
    for path in (zpath, eml, as_eml):
        assert detect(path) is not None and detect(path).name == "rsmf", path  # type: ignore[union-attr]
        got = msgs(read(path))
        assert {k: (m.text, m.sent_at, m.versions) for k, m in got.items()} == {
            k: (m.text, m.sent_at, m.versions) for k, m in plain.items()
        }
        (att,) = got["ROOT 1: kickoff"].attachments
        assert att.sha256 == hashlib.sha256(TERM_SHEET).hexdigest()


def test_broken_containers_are_problems(tmp_path: Path) -> None:
    no_manifest = tmp_path / "x.zip"
    with zipfile.ZipFile(no_manifest, "w") as zf:
        zf.writestr("other.json", "{}")
    (p,) = read(no_manifest)
    assert isinstance(p, ImportProblem) and "rsmf_manifest.json" in p.reason
    msg = EmailMessage()
    msg["X-RSMF-Version"] = "1.0.0"
    msg.set_content("no attachment")
    eml = tmp_path / "y.rsmf"
    eml.write_bytes(msg.as_bytes())
    (p,) = read(eml)
    assert isinstance(p, ImportProblem) and "rsmf.zip" in p.reason


@pytest.mark.skipif(not SAMPLE.exists(), reason="real samples not present")
def test_real_sample() -> None:
    items = read(SAMPLE)
    assert not [p for p in items if isinstance(p, ImportProblem)]
    got = msgs(items)
    assert len(got) == 148
    m = got["GHJQZ4YBH_1554219165.0152"]
    assert m.speaker == "anna.tsatsko (Анна Ц С)" and m.platform == "slack"
    assert m.sent_at == datetime(2019, 4, 2, 15, 32, 45, 15000, tzinfo=UTC)
    assert m.versions == (
        "Uploading a JPEG file named -->  AfricanElephant.png",
        "Uploading a JPEG file named -->  AfricanElephant.png --> Message is starred.",
    )
    assert got["GHJQZ4YBH_1554219087.0145"].thread_key == "GHJQZ4YBH_1554216034.0059"
    assert sum(1 for x in got.values() if x.system) == 23  # 20 joins and 3 disclaimers
    with open_matter("rsmf", create=True) as matter:
        (rep,) = ingest(matter, [SAMPLE]).sources
        assert rep.format == "rsmf" and rep.added == 148 and rep.unthreaded == 0
        (hit,) = Searcher(matter).search('"pirate’s favorite letter"').hits
        assert hit.message.speaker == "anna.tsatsko (Анна Ц С)"
        assert hit.message.thread_root is not None
        # an earlier version is searchable too; and platform:slack finds RSMF-delivered Slack
        assert Searcher(matter).count('"file name is DocumentAttachmentPPTX"') == 1
        assert Searcher(matter).count("platform:slack AND apples") >= 1


_keys = st.sampled_from(
    [
        "id",
        "type",
        "body",
        "participant",
        "timestamp",
        "conversation",
        "parent",
        "edits",
        "custom",
        "deleted",
        "attachments",
        "reactions",
        "direction",
    ]
)


@settings(max_examples=120, deadline=None)
@given(
    events=st.lists(st.dictionaries(_keys, json_values, max_size=8), max_size=4),
    top=st.dictionaries(st.sampled_from(["participants", "conversations", "events"]), json_values),
    cut=st.integers(min_value=0, max_value=5000),
    flip=st.integers(min_value=0, max_value=5000),
)
def test_fuzz_never_raises(
    events: list[dict[str, object]], top: dict[str, object], cut: int, flip: int
) -> None:
    base = json.loads(MANIFEST.read_text())
    base["events"] += [{**base["events"][0], **e} for e in events]
    base.update({k: v for k, v in top.items() if cut % 5 == 0})
    raw = json.dumps(base).encode()
    z = truncate_and_flip(make_zip(raw), cut, flip)
    for name, data in (
        ("m.json", raw),
        ("m2.json", raw[: len(raw) - cut % len(raw)]),
        ("x.zip", z),
        ("x.rsmf", make_eml(z)),
    ):
        read_mutated(RsmfImporter(), name, data, sniff=False)
