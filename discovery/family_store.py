"""Family members in the case store: staged with their source, stored after its messages.

A family member is a row of ``messages`` (so the index, the verifier and
every field see it as they see a message) with its parent's conversation,
speaker, time and holders, and a row of ``family_members`` (additive table)
with its parent, its place in the family, its file name, kind, media type,
size, SHA-256, OCR flag and confidence, sections and problems.

Members of a source are stored after all of that source's messages, in
parent order then family order, so the messages of a source are numbered as
they would be without attachments. A member's control number is its
parent's with ``-A001``, ``-A002``, ... (:func:`discovery.model.control_number`
of the parent, :attr:`Message.control`).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence

from discovery.dedup import refuse_duplicates
from discovery.model import CONTROL_PREFIX, FamilyInfo, control_number

SCHEMA = """
CREATE TABLE IF NOT EXISTS family_members (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id),
    parent_id INTEGER NOT NULL REFERENCES messages(id),
    ordinal INTEGER NOT NULL,
    container INTEGER NOT NULL,
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER,
    sha256 TEXT,
    ocr INTEGER NOT NULL,
    ocr_confidence REAL,
    sections TEXT NOT NULL,
    problems TEXT NOT NULL,
    metadata TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS family_members_parent ON family_members (parent_id, ordinal);
"""

STAGE_TABLE = """
CREATE TABLE IF NOT EXISTS stage.members (
    seq INTEGER PRIMARY KEY,
    parent_dedup TEXT NOT NULL,
    dedup TEXT NOT NULL,
    location TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    container INTEGER NOT NULL,
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER,
    sha256 TEXT,
    ocr INTEGER NOT NULL,
    ocr_confidence REAL,
    text TEXT NOT NULL,
    sections TEXT NOT NULL,
    problems TEXT NOT NULL,
    metadata TEXT NOT NULL
)
"""

_MEMBER_RE = re.compile(rf"^\s*(?:{CONTROL_PREFIX})?(\d+)-A(\d+)\s*$", re.IGNORECASE)


def ensure(db: sqlite3.Connection) -> None:
    """Create the family table when the case store lacks it (additive)."""
    db.executescript(SCHEMA)


_PARENT = "p.dedup_hash = dedup_hash(s.parent_dedup) AND p.dedup = s.parent_dedup"
_MEMBER = "m.dedup_hash = dedup_hash(s.dedup) AND m.dedup = s.dedup"
"""A staged member's parent ``p`` and its stored self ``m``, found by the key's number."""

STAGE_INSERT = (
    "INSERT INTO stage.members (parent_dedup, dedup, location, ordinal, container, path,"
    " name, kind, media_type, size, sha256, ocr, ocr_confidence, text, sections,"
    " problems, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
"""Stages member rows in the attached staging database (:meth:`Staging.add_members`)."""


def store(db: sqlite3.Connection, source_id: int) -> int:
    """Store the staged members as source ``source_id``'s (inside its transaction, after
    its messages); return how many were added (the rest were already stored)."""
    has = db.execute(
        "SELECT 1 FROM stage.sqlite_master WHERE type = 'table' AND name = 'members'"
    ).fetchone()
    if has is None:
        return 0
    (before,) = db.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()
    # A member already stored, or staged twice (its parent held twice by the source),
    # is added once: the first in (parent, ordinal, staged order); it is the same
    # member (same parent, place, path and hash), so its first staging is its earliest.
    db.execute(
        "INSERT INTO main.messages (dedup, native_id, conversation_id, thread_key, speaker_id,"
        " speaker, sent_us, utc_offset, text, versions, edited, deleted, system, extra,"
        " dedup_hash)"
        " SELECT s.dedup, p.native_id || '!' || s.path, p.conversation_id, NULL, p.speaker_id,"
        " p.speaker, p.sent_us, p.utc_offset, s.text, NULL, 0, 0, 0, NULL, dedup_hash(s.dedup)"
        f" FROM stage.members s JOIN main.messages p ON {_PARENT}"
        " WHERE s.seq IN (SELECT min(seq) FROM stage.members GROUP BY dedup)"
        " AND NOT EXISTS (SELECT 1 FROM main.messages m"
        f" WHERE {_MEMBER}) ORDER BY p.id, s.ordinal, s.seq"
    )
    refuse_duplicates(db, before)
    (after,) = db.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()
    # A parent stored before with other members (the same mail held with another
    # attachment): the new ones are numbered after those, so no control number is reused.
    db.execute(
        "INSERT OR IGNORE INTO main.family_members (message_id, parent_id, ordinal, container,"
        " path, name, kind, media_type, size, sha256, ocr, ocr_confidence, sections, problems,"
        " metadata) SELECT m.id, p.id, s.ordinal + coalesce(o.top, 0),"
        " CASE WHEN s.container > 0 THEN s.container + coalesce(o.top, 0) ELSE 0 END,"
        " s.path, s.name, s.kind,"
        " s.media_type, s.size, s.sha256, s.ocr, s.ocr_confidence, s.sections, s.problems,"
        f" s.metadata FROM stage.members s JOIN main.messages p ON {_PARENT}"
        f" JOIN main.messages m ON {_MEMBER} LEFT JOIN (SELECT parent_id,"
        " max(ordinal) AS top FROM main.family_members WHERE message_id <= ? GROUP BY parent_id)"
        " o ON o.parent_id = p.id WHERE m.id > ?",
        (before, before),
    )
    db.execute(
        "INSERT OR IGNORE INTO main.message_sources (message_id, source_id, location)"
        " SELECT m.id, ?, s.location FROM stage.members s JOIN main.messages m"
        f" ON {_MEMBER}",
        (source_id,),
    )
    return int(after) - int(before)


def _has_table(db: sqlite3.Connection) -> bool:
    return (
        db.execute(
            "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'family_members'"
        ).fetchone()
        is not None
    )


def info(db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, FamilyInfo]:
    """The family facts of those of ``ids`` that are family members."""
    if not ids or not _has_table(db):
        return {}
    out: dict[int, FamilyInfo] = {}
    for i in range(0, len(ids), 900):
        chunk = list(ids[i : i + 900])
        marks = ",".join("?" * len(chunk))
        for r in db.execute(
            "SELECT message_id, parent_id, ordinal, container, path, name, kind, media_type,"
            " size, sha256, ocr, ocr_confidence, sections, problems FROM family_members"
            f" WHERE message_id IN ({marks})",
            chunk,
        ):
            out[r[0]] = FamilyInfo(
                parent_id=r[1],
                ordinal=r[2],
                container=r[3],
                path=r[4],
                name=r[5],
                kind=r[6],
                media_type=r[7],
                size=r[8],
                sha256=r[9],
                ocr=bool(r[10]),
                ocr_confidence=r[11],
                sections=tuple((str(s[0]), int(s[1]), int(s[2])) for s in json.loads(r[12])),
                problems=tuple(
                    f"{c}: {m}" if not w else f"{c} ({w}): {m}" for c, m, w in json.loads(r[13])
                ),
            )
    return out


def member_ids(db: sqlite3.Connection, parents: Sequence[int]) -> dict[int, list[int]]:
    """Parent id -> its members' ids in family order, for those of ``parents`` that have any."""
    if not parents or not _has_table(db):
        return {}
    out: dict[int, list[int]] = {}
    for i in range(0, len(parents), 900):
        chunk = list(parents[i : i + 900])
        marks = ",".join("?" * len(chunk))
        for pid, mid in db.execute(
            f"SELECT parent_id, message_id FROM family_members WHERE parent_id IN ({marks})"
            " ORDER BY parent_id, ordinal",
            chunk,
        ):
            out.setdefault(pid, []).append(mid)
    return out


def parents_of(db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, int]:
    """Member id -> parent id, for those of ``ids`` that are members."""
    return {mid: f.parent_id for mid, f in info(db, ids).items()}


def families(db: sqlite3.Connection, ids: Sequence[int]) -> list[int]:
    """Whole families of ``ids``, in the order of their first hit: each family once,
    parent first, members in family order."""
    parents = parents_of(db, ids)
    roots: list[int] = []
    seen: set[int] = set()
    for i in ids:
        root = parents.get(i, i)
        if root not in seen:
            seen.add(root)
            roots.append(root)
    members = member_ids(db, roots)
    return [x for r in roots for x in (r, *members.get(r, ()))]


def all_member_ids(db: sqlite3.Connection) -> set[int]:
    """Ids of every family member (``kind:attachment``)."""
    if not _has_table(db):
        return set()
    return {r[0] for r in db.execute("SELECT message_id FROM family_members")}


def parent_pairs(db: sqlite3.Connection) -> list[tuple[int, int]]:
    """(member id, parent id) of every family member, by member id."""
    if not _has_table(db):
        return []
    return list(db.execute("SELECT message_id, parent_id FROM family_members ORDER BY 1"))


def names(db: sqlite3.Connection) -> list[tuple[int, str]]:
    """(member id, file name) of every family member (``attachment:``)."""
    if not _has_table(db):
        return []
    return [(r[0], r[1]) for r in db.execute("SELECT message_id, name FROM family_members")]


def control(db: sqlite3.Connection, message_id: int) -> str:
    """The control number shown for a stored id: a member's family form, else MSG-…."""
    f = info(db, [message_id]).get(message_id)
    if f is None:
        return control_number(message_id)
    return f"{control_number(f.parent_id)}-A{f.ordinal:03d}"


def internal_row(db: sqlite3.Connection, message_id: int) -> str | None:
    """The member's own number when ``MSG-…`` of ``message_id`` is a member's internal row
    id (no message has that control number), else None."""
    shown = control(db, message_id)
    return None if shown == control_number(message_id) else shown


def is_member_number(text: str) -> bool:
    """Whether ``text`` is written as a member's control number (``MSG-00000042-A001``)."""
    return _MEMBER_RE.match(text) is not None


def resolve(db: sqlite3.Connection, text: str) -> int | None:
    """The message id of ``MSG-00000042-A001`` (a member's control number), or None."""
    m = _MEMBER_RE.match(text)
    if m is None or not _has_table(db):
        return None
    row = db.execute(
        "SELECT message_id FROM family_members WHERE parent_id = ? AND ordinal = ?",
        (int(m.group(1)), int(m.group(2))),
    ).fetchone()
    return None if row is None else int(row[0])
