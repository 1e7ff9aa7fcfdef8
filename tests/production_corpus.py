"""A small matter for production tests, written as an RSMF 2.0 manifest and ingested.

Three conversations around the 2023 US daylight-saving change: threads (a
reply filed on a later day than its root), an edit with its earlier text, a
deletion, reactions, an attachment, a join and a leave, eleven scripts, and
privileged messages (one day of the direct chat holds nothing else, so it is
a slip sheet). Every expectation of the tests is read from :data:`EVENTS`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from discovery.ingest import ingest
from discovery.matter import Matter

PEOPLE = {
    "dana": "Dana Whitfield",
    "marcus": "Marcus Chen",
    "priya": "Priya Raman",
    "olga": "Ольга Петрова",
    "yuki": "山田 由紀",
    "omar": "عمر الفاروق",
    "noa": "נועה כהן",
}
CONVERSATIONS = [
    ("legal", "legal-strategy", "slack", "channel", ["dana", "marcus", "priya"]),
    (
        "intl",
        "international",
        "teams",
        "channel",
        ["dana", "marcus", "priya", "olga", "yuki", "omar", "noa"],
    ),
    ("dm", "Dana / Marcus", "whatsapp", "direct", ["dana", "marcus"]),
]


@dataclass(frozen=True)
class Event:
    id: str
    conv: str
    who: str
    at: str
    body: str
    type: str = "message"
    parent: str | None = None
    edits: tuple[str, ...] = ()
    deleted: bool = False
    reactions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    attachments: tuple[tuple[str, int], ...] = ()
    tags: tuple[str, ...] = field(default=())
    direction: str = ""


EVENTS = [
    Event(
        "L1",
        "legal",
        "dana",
        "2023-03-11T09:00:00-05:00",
        "Kickoff: the licensing review starts Monday.",
        tags=("responsive",),
    ),
    Event(
        "L2",
        "legal",
        "marcus",
        "2023-03-11T09:05:00-05:00",
        "Agreed, I will pull the contracts.",
        parent="L1",
    ),
    Event(
        "L3",
        "legal",
        "priya",
        "2023-03-12T10:00:00-04:00",
        "Contracts attached for the review.",
        parent="L1",
        attachments=(("contracts.pdf", 2048),),
        tags=("responsive",),
    ),
    Event(
        "L4",
        "legal",
        "dana",
        "2023-03-12T10:30:00-04:00",
        "Counsel memo: the quokka indemnity theory is risky",
        tags=("privileged",),
    ),
    Event(
        "L5",
        "legal",
        "marcus",
        "2023-03-12T10:45:00-04:00",
        "Final numbers are 42",
        edits=("Final numbers are 41",),
        reactions=(("thumbsup", ("dana", "priya")),),
        tags=("responsive",),
    ),
    Event("L6", "legal", "priya", "2023-03-12T11:00:00-04:00", "oops wrong channel", deleted=True),
    Event("L7", "legal", "olga", "2023-03-12T11:05:00-04:00", "Ольга Петрова joined", type="join"),
    Event(
        "L8",
        "legal",
        "marcus",
        "2023-03-12T23:30:00-04:00",
        "Late note: numbers locked for the board.",
        parent="L4",
    ),
    Event("L9", "legal", "olga", "2023-03-13T09:00:00-04:00", "Ольга Петрова left", type="leave"),
    Event(
        "I1",
        "intl",
        "olga",
        "2023-03-14T08:00:00+03:00",
        "Привет, коллеги! Отчёт готов.",
        tags=("responsive",),
    ),
    Event("I2", "intl", "yuki", "2023-03-14T14:00:00+09:00", "会議は明日の午後三時です。"),
    Event("I3", "intl", "yuki", "2023-03-14T14:01:00+09:00", "合同审查已经完成"),
    Event(
        "I4",
        "intl",
        "omar",
        "2023-03-14T09:00:00+02:00",
        "مرحبا بالجميع التقرير جاهز",
        tags=("responsive",),
    ),
    Event("I5", "intl", "noa", "2023-03-14T09:05:00+02:00", "שלום לכולם הדוח מוכן"),
    Event("I6", "intl", "dana", "2023-03-14T07:10:00+00:00", "Καλημέρα σε όλους"),
    Event("I7", "intl", "priya", "2023-03-14T13:00:00+07:00", "สวัสดีครับ รายงานพร้อมแล้ว"),
    Event("I8", "intl", "priya", "2023-03-14T12:00:00+05:30", "नमस्ते रिपोर्ट तैयार है"),
    Event(
        "I9",
        "intl",
        "marcus",
        "2023-03-14T08:30:00-04:00",
        "Línea de crédito: ¿aprobada? Straße Łódź",
    ),
    Event("I10", "intl", "yuki", "2023-03-14T22:00:00+09:00", "회의는 내일입니다"),
    Event(
        "I11",
        "intl",
        "yuki",
        "2023-03-14T22:05:00+09:00",
        "秘密の弁護士助言です",
        tags=("privileged",),
    ),
    Event(
        "D1",
        "dm",
        "dana",
        "2023-03-15T10:00:00-04:00",
        "Privileged: the wombat settlement range",
        tags=("privileged", "responsive"),
    ),
    Event(
        "D2",
        "dm",
        "marcus",
        "2023-03-15T10:02:00-04:00",
        "Understood, keep the wombat figure between us",
        tags=("privileged",),
    ),
    Event(
        "D3",
        "dm",
        "marcus",
        "2023-03-16T12:00:00-04:00",
        "lunch tomorrow?",
        tags=("responsive",),
        direction="incoming",
    ),
]
DESCRIPTIONS = {"L4": "Legal advice from outside counsel on indemnity"}
"""Privilege descriptions a reviewer stored (the others have none)."""


def by_id() -> dict[str, Event]:
    return {e.id: e for e in EVENTS}


def manifest() -> dict[str, object]:
    events = []
    for e in EVENTS:
        ev: dict[str, object] = {
            "id": e.id,
            "type": e.type,
            "participant": e.who,
            "conversation": e.conv,
            "timestamp": e.at,
            "body": e.body,
        }
        if e.parent:
            ev["parent"] = e.parent
        if e.deleted:
            ev["deleted"] = True
        if e.direction:
            ev["direction"] = e.direction
        if e.edits:
            ev["custom"] = [{"name": f"Edit{n}", "value": v} for n, v in enumerate(e.edits, 1)]
        if e.reactions:
            ev["reactions"] = [{"value": v, "participants": list(p)} for v, p in e.reactions]
        if e.attachments:
            ev["attachments"] = [{"id": n, "display": n, "size": s} for n, s in e.attachments]
        events.append(ev)
    return {
        "version": "2.0.0",
        "participants": [{"id": k, "display": v} for k, v in PEOPLE.items()],
        "conversations": [
            {"id": cid, "display": name, "platform": plat, "type": kind, "participants": who}
            for cid, name, plat, kind, who in CONVERSATIONS
        ],
        "events": events,
    }


def build(matter: Matter, folder: Path) -> dict[str, int]:
    """Ingest the corpus into ``matter``, tag it and store descriptions; native id -> message id."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rsmf_manifest.json"
    path.write_text(json.dumps(manifest(), ensure_ascii=False), encoding="utf-8")
    report = ingest(matter, [path], custodian="Dana Whitfield")
    assert report.added == len(EVENTS), report
    store = matter.store
    ids = {nid: mid for mid, nid in store.db.execute("SELECT id, native_id FROM messages")}
    for e in EVENTS:
        for t in e.tags:
            store.tag([ids[e.id]], t)
    for nid, text in DESCRIPTIONS.items():
        store.set_privilege_description([ids[nid]], text)
    return ids
