"""RSMF 2.0 writer: one ``.rsmf`` per document.

An ``.rsmf`` is an RFC 5322 message (Relativity, "Relativity Short Message
Format"): ``X-RSMF-*`` headers (Version, Generator, BeginDate, EndDate,
EventCount, Application, Custodian, Participants, AttachmentCount and
EventCollectionID), a ``text/plain`` body holding the transcript as text, and
exactly one attachment, ``rsmf.zip`` (base64), holding ``rsmf_manifest.json``
and the attachment files.

Manifest decisions (each checked by Relativity's validator in the tests):

* event ``id`` is the control number; a reply's ``parent`` is its root's. The
  platform's own id is kept in the custom field ``NativeID``; ``ControlNumber``
  and ``Bates`` (the page the message is on, or the document's number) too;
* every event's participant is declared and is in the conversation's list
  (a placeholder whose speaker is withheld has the participant ``withheld``);
* earlier versions are custom fields ``Edit1..EditN`` (oldest first) and an
  edited message has ``Edited: true``. RSMF 2.0's ``edits`` array needs the
  time of each edit, which no export we read records; inventing one would be
  worse than using the custom fields Relativity's own exports use;
* reactions carry the ids of the participants who reacted (a name not among
  the participants gets one of its own);
* the store holds what an attachment was (name, size, hash), not its bytes.
  Each is listed by ``id`` with a small text file in the zip saying so
  (name, size, SHA-256), ``not-held-MSG-…-1.txt`` (the validator wants the
  zip flat); its ``display`` ends in ``(not held)`` so no viewer takes it for
  the original. Our importer reads
  these back as the attachments they stand for, without hashing the placeholder;
* a withheld message is a placeholder event with the same id, speaker and time
  (unless withheld) and the body ``Withheld — Privileged``; nothing else;
* ``EventCollectionID`` (header and manifest) is a UUID derived from the
  conversation's platform and key, so every slice of one conversation shares it.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.header import Header
from typing import Any

from discovery.importers.rsmf import MANIFEST, NOT_HELD, NOT_HELD_SUFFIX
from discovery.model import ConversationKind
from discovery.produce.document import UNKNOWN_SPEAKER_ID, Document, Entry
from discovery.produce.files import zip_bytes
from discovery.produce.pdf import GENERATOR

VERSION = "2.0.0"
BOUNDARY = "discovery-rsmf-boundary"
_NAMESPACE = uuid.UUID("6c1d7a52-3f0e-4a8e-9b1e-5d0f2a6c8e11")


def collection_id(platform: str, key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{platform}\x1f{key}"))


def iso(dt: datetime, offset: int | None = None) -> str:
    """ISO 8601 with the sender's recorded offset when known, else UTC (``Z``)."""
    from datetime import timedelta, timezone

    if offset is None:
        text = dt.astimezone(UTC).isoformat()
        return text.replace("+00:00", "Z")
    return dt.astimezone(timezone(timedelta(minutes=offset))).isoformat()


def _custom(pairs: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs.items() if v]


class _People:
    """The participants of one document: ids as the platform gives them."""

    def __init__(self, doc: Document) -> None:
        self.names: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        for p in doc.conversation.participants:
            self.by_name.setdefault(p.name, p.speaker_id)
        for e in doc.entries:
            self.add(e.speaker_id, e.speaker)

    def add(self, pid: str, name: str) -> str:
        pid = pid or UNKNOWN_SPEAKER_ID
        self.names.setdefault(pid, name or pid)
        self.by_name.setdefault(name, pid)
        return pid

    def of_name(self, name: str) -> str:
        return self.add(self.by_name.get(name) or f"name:{name}", name)


def manifest(
    doc: Document, *, bates: Mapping[int, str], begin: str, end: str
) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The manifest of ``doc`` and the files to zip beside it (name, bytes)."""
    people = _People(doc)
    conv = doc.conversation
    files: list[tuple[str, bytes]] = []
    events = [_event(e, doc, people, bates, files) for e in doc.entries]
    participants = [{"id": pid, "display": name} for pid, name in people.names.items()]
    conversation = {
        "id": conv.native_key or str(conv.id),
        "display": conv.name,
        "platform": conv.platform,
        "type": "direct" if conv.kind is ConversationKind.DIRECT else "channel",
        "participants": list(people.names),
        "custom": _custom(
            {
                "BegBates": begin,
                "EndBates": end,
                "Slice": f"{doc.slice.kind}: {doc.slice.key}",
                "ConversationKind": conv.kind.value,
                "Custodians": "; ".join(doc.custodians),
            }
        ),
    }
    return (
        {
            "version": VERSION,
            "eventcollectionid": collection_id(conv.platform, conv.native_key),
            "participants": participants,
            "conversations": [conversation],
            "events": events,
        },
        files,
    )


def _event(
    e: Entry,
    doc: Document,
    people: _People,
    bates: Mapping[int, str],
    files: list[tuple[str, bytes]],
) -> dict[str, Any]:
    conv = doc.conversation
    event: dict[str, Any] = {
        "id": e.control,
        "type": e.kind,
        "participant": people.add(e.speaker_id, e.speaker),
        "conversation": conv.native_key or str(conv.id),
    }
    if e.sent_at is not None:
        event["timestamp"] = iso(e.sent_at, e.utc_offset)
    if e.thread_root is not None:
        event["parent"] = f"MSG-{e.thread_root:08d}"
    event["body"] = e.body
    custom = {"ControlNumber": e.control, "Bates": bates.get(e.id, "")}
    if e.withheld is not None:
        custom["Withheld"] = e.withheld
        event["custom"] = _custom(custom)
        return event
    if e.deleted:
        event["deleted"] = True
    if e.direction:
        event["direction"] = e.direction
    if e.reactions:
        event["reactions"] = [
            {
                "value": r.emoji,
                "count": max(1, len(r.users)),
                **({"participants": [people.of_name(u) for u in r.users]} if r.users else {}),
            }
            for r in e.reactions
        ]
    if e.attachments:
        listed = []
        for n, a in enumerate(e.attachments, 1):
            member = f"{NOT_HELD}{e.control}-{n}.txt"
            files.append((member, _not_held_text(e, a.name, a.size, a.sha256, a.url)))
            item: dict[str, Any] = {"id": member, "display": a.name + NOT_HELD_SUFFIX}
            if a.size is not None:
                item["size"] = a.size
            listed.append(item)
        event["attachments"] = listed
    custom["NativeID"] = e.native_id
    for n, earlier in enumerate(e.versions, 1):
        custom[f"Edit{n}"] = earlier
    if e.edited:
        custom["Edited"] = "true"
    if e.family:
        custom["Family"] = "thread root from outside this slice"
    event["custom"] = _custom(custom)
    return event


def _not_held_text(
    e: Entry, name: str, size: int | None, sha256: str | None, url: str | None
) -> bytes:
    lines = [
        "ATTACHMENT NOT HELD",
        f"The file attached to {e.control} is not part of this production:",
        f"name: {name}",
        f"size: {size if size is not None else 'unknown'}",
        f"sha256: {sha256 or 'unknown'}",
    ]
    if url:
        lines.append(f"url: {url}")
    return ("\n".join(lines) + "\n").encode()


def _header(name: str, value: str) -> str:
    charset = "us-ascii" if value.isascii() else "utf-8"
    folded = Header(value, charset, header_name=name).encode(linesep="\r\n")
    return f"{name}: {folded}\r\n"


def rsmf_bytes(
    doc: Document,
    *,
    bates: Mapping[int, str],
    begin: str,
    end: str,
    text: str,
    created: datetime,
) -> bytes:
    """The ``.rsmf`` of ``doc``: headers, the transcript text as body, ``rsmf.zip``."""
    data, files = manifest(doc, bates=bates, begin=begin, end=end)
    body = json.dumps(data, ensure_ascii=False, indent=1).encode()
    zipped = zip_bytes([(MANIFEST, body), *files], created)
    names = [p["display"] for p in data["participants"]]
    times = doc.times
    headers = [
        ("MIME-Version", "1.0"),
        ("X-RSMF-Version", VERSION),
        ("X-RSMF-Generator", GENERATOR),
    ]
    if times is not None:
        headers += [("X-RSMF-BeginDate", iso(times[0])), ("X-RSMF-EndDate", iso(times[1]))]
    headers += [
        ("X-RSMF-EventCount", str(len(data["events"]))),
        ("X-RSMF-Application", doc.conversation.platform),
        ("X-RSMF-Custodian", "; ".join(doc.custodians)),
        ("X-RSMF-Participants", ", ".join(names)),
        ("X-RSMF-AttachmentCount", str(doc.attachment_count)),
        ("X-RSMF-EventCollectionID", data["eventcollectionid"]),
        ("Subject", f"{doc.conversation.name} ({begin})"),
        ("From", names[0] if names else "(none)"),
        ("Date", created.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")),
        ("Message-ID", f"<{begin}@discovery.production>"),
        ("Content-Type", f'multipart/mixed; boundary="{BOUNDARY}"'),
    ]
    out = "".join(_header(k, v) for k, v in headers if v)
    parts = [
        out,
        "\r\n",
        f"--{BOUNDARY}\r\n",
        'Content-Type: text/plain; charset="utf-8"\r\n',
        "Content-Transfer-Encoding: base64\r\n\r\n",
        _b64(text.encode()),
        f"--{BOUNDARY}\r\n",
        'Content-Type: application/zip; name="rsmf.zip"\r\n',
        'Content-Disposition: attachment; filename="rsmf.zip"\r\n',
        "Content-Transfer-Encoding: base64\r\n\r\n",
        _b64(zipped),
        f"--{BOUNDARY}--\r\n",
    ]
    return "".join(parts).encode("ascii")


def _b64(data: bytes) -> str:
    text = base64.b64encode(data).decode("ascii")
    return "".join(text[i : i + 76] + "\r\n" for i in range(0, len(text), 76))
