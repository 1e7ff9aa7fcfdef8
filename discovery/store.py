"""The SQLite case store of one matter: sources, conversations, messages, tags.

The audit log lives beside the matters (:mod:`discovery.audit`), so it
survives deleting and re-ingesting a matter.

Message ids are SQLite rowids handed out in insertion order with no gaps
(a duplicate, left out of the insert, never consumes one), so the control
number of a message is fixed the moment it is first stored.
"""

from __future__ import annotations

import errno
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from discovery import family_store, files
from discovery.dedup import dedup_hash, refuse_duplicates
from discovery.errors import (
    DiscoveryError,
    DiskFullError,
    MessageNotFoundError,
    StoreBusyError,
    StoreError,
)
from discovery.model import (
    Attachment,
    Conversation,
    ConversationKind,
    FamilyInfo,
    Message,
    Participant,
    Reaction,
    Source,
    control_number,
)

SCHEMA_VERSION = 2
"""2: the dedup keys are numbered (``dedup_hash``). A store of version 1 is read as it is
and brought to 2 by its next ingest (:meth:`Store.number_keys`); a discovery that reads
only version 1 refuses a store of 2, so it never writes messages without their numbers."""
BUSY_TIMEOUT = 30.0
"""Seconds a write waits for another process's transaction (an ingest storing a
source) before giving up with :class:`~discovery.errors.StoreBusyError`."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

BULK = 50_000
"""A batch of at least this many messages, more than the store holds, is a bulk
insert: the secondary indexes are built once after it rather than row by row."""

BULK_CACHE_KIB = 65_536
"""SQLite's page cache during a bulk insert (the default is 2 MiB)."""

STAGE_CACHE_KIB = 16_384
"""The staging database's page cache (see :meth:`Store.staging`)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    format TEXT NOT NULL,
    custodian TEXT NOT NULL,
    tz TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    report TEXT NOT NULL DEFAULT '{}',
    UNIQUE (sha256, custodian)
);
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    native_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (platform, native_key)
);
CREATE TABLE IF NOT EXISTS participants (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    speaker_id TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (conversation_id, speaker_id)
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    dedup TEXT NOT NULL,  -- unique: checked by Staging.store (see dedup_hash)
    native_id TEXT NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    thread_key TEXT,
    thread_root INTEGER,
    speaker_id TEXT NOT NULL,
    speaker TEXT NOT NULL,
    sent_us INTEGER NOT NULL,
    utc_offset INTEGER,
    text TEXT NOT NULL,
    versions TEXT,
    edited INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    system INTEGER NOT NULL DEFAULT 0,
    extra TEXT,
    dedup_hash INTEGER NOT NULL  -- dedup_hash(dedup), indexed: messages_dedup_hash
);
CREATE INDEX IF NOT EXISTS messages_conv_time ON messages (conversation_id, sent_us, id);
CREATE INDEX IF NOT EXISTS messages_native ON messages (conversation_id, native_id);
CREATE INDEX IF NOT EXISTS messages_time ON messages (sent_us);
CREATE INDEX IF NOT EXISTS messages_speaker ON messages (speaker_id);
CREATE INDEX IF NOT EXISTS messages_system ON messages (id) WHERE system = 1;
CREATE INDEX IF NOT EXISTS messages_thread_root ON messages (thread_root)
    WHERE thread_root IS NOT NULL;
CREATE TABLE IF NOT EXISTS message_sources (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    source_id INTEGER NOT NULL REFERENCES sources(id),
    location TEXT NOT NULL,
    PRIMARY KEY (message_id, source_id, location)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS message_sources_source ON message_sources (source_id);
CREATE TABLE IF NOT EXISTS tags (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    tag TEXT NOT NULL,
    tagged_at TEXT NOT NULL,
    PRIMARY KEY (tag, message_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS privilege_descriptions (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id),
    description TEXT NOT NULL,
    described_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS failed_sources (
    path TEXT NOT NULL,
    custodian TEXT NOT NULL,
    attempted_at TEXT NOT NULL,
    report TEXT NOT NULL,
    PRIMARY KEY (path, custodian)
);
"""
# failed_sources: the last report of each source (path, custodian) that could not be
# imported (unreadable, unrecognised, refused); removed once that path imports.

_STAGED_COLUMNS = (
    "dedup, native_id, conversation, thread_key, speaker_id, speaker, sent_us, utc_offset,"
    " text, versions, edited, deleted, system, extra, location, dedup_hash"
)
_STAGE_SCHEMA = """
CREATE TABLE stage.rows (
    seq INTEGER PRIMARY KEY,  -- the source's order
    dedup TEXT NOT NULL,
    native_id TEXT NOT NULL,
    conversation TEXT NOT NULL,  -- the conversation's key in the source
    thread_key TEXT,
    speaker_id TEXT NOT NULL,
    speaker TEXT NOT NULL,
    sent_us INTEGER NOT NULL,
    utc_offset INTEGER,
    text TEXT NOT NULL,
    versions TEXT,
    edited INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    system INTEGER NOT NULL,
    extra TEXT,
    location TEXT NOT NULL,
    dedup_hash INTEGER NOT NULL
);
CREATE INDEX stage.rows_time ON rows (sent_us, seq);
"""
_REPEATS = (
    "CREATE TABLE stage.repeats (seq INTEGER PRIMARY KEY)",
    "INSERT INTO stage.repeats SELECT seq FROM (SELECT r.seq,"
    " row_number() OVER (PARTITION BY r.dedup ORDER BY r.sent_us, r.seq) AS n"
    " FROM stage.rows r WHERE r.dedup IN (SELECT dedup FROM stage.rows"
    " GROUP BY dedup HAVING count(*) > 1)) WHERE n > 1",
)
"""A staged source's own repeats (:meth:`Staging.finish`)."""
# The staged columns are NOT NULL where the messages table's are, so a value the
# store could not take fails the source when it is staged, as it did when stored.

_MESSAGE_COLUMNS = (
    "m.id, m.native_id, m.conversation_id, c.name, c.platform, m.thread_root, m.speaker_id,"
    " m.speaker, m.sent_us, m.utc_offset, m.text, m.versions, m.edited, m.deleted, m.system,"
    " m.extra"
)


def tag_key(tag: str) -> str:
    """A tag as stored and compared: lower case, runs of spaces as one, trimmed.

    Tags are case-insensitive everywhere (``--tag Hot`` is ``tag:hot``), so the
    store keeps one spelling of each.
    """
    return " ".join(tag.split()).lower()


def to_us(dt: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact, no float)."""
    delta = dt - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


class NewMessage(NamedTuple):
    """A normalised message ready to be staged (see :mod:`discovery.ingest`).

    ``conversation`` is the key of its conversation in the source (the store's
    conversation id is only known when the source is stored, see
    :meth:`Staging.store`); ``platform`` is the one its conversation gets should
    the source never describe it. (A named tuple: one is made per message read,
    and a frozen dataclass costs several times as much to make.)
    """

    dedup: str
    native_id: str
    conversation: str
    platform: str
    thread_key: str | None
    speaker_id: str
    speaker: str
    sent_us: int
    utc_offset: int | None
    text: str
    versions: tuple[str, ...]
    edited: bool
    deleted: bool
    system: bool
    extra: str | None
    location: str

    def row(self) -> tuple[object, ...]:
        """The message as a row of the staging table (:data:`_STAGED_COLUMNS`)."""
        return (
            self.dedup,
            self.native_id,
            self.conversation,
            self.thread_key,
            self.speaker_id,
            self.speaker,
            self.sent_us,
            self.utc_offset,
            self.text,
            json.dumps(self.versions) if self.versions else None,
            self.edited,
            self.deleted,
            self.system,
            self.extra,
            self.location,
            dedup_hash(self.dedup),
        )


@dataclass(frozen=True, slots=True)
class MessageFields:
    """What the verifier needs of a message besides its text."""

    id: int
    versions: tuple[str, ...]
    speaker: tuple[str, ...]
    conversation: str
    platform: str
    sent_us: int


class Store:
    """One matter's case store. Use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        if not create and not path.exists():
            raise StoreError(f"no case store at {path}")
        self.path = path
        with self.guarded():
            if create:
                files.private_dir(path.parent)
                files.private_file(path)  # SQLite gives -wal and -shm the same mode
            self.db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT
            )
            self.db.create_function("dedup_hash", 1, dedup_hash, deterministic=True)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(_SCHEMA)
            version = self.get_meta("schema_version")
            if version is None:  # a new store, made numbered
                self.set_meta("schema_version", str(SCHEMA_VERSION))
            elif not 1 <= int(version) <= SCHEMA_VERSION:
                raise StoreError(
                    f"{path} is a case store of version {version}; this discovery reads"
                    f" versions 1 to {SCHEMA_VERSION}"
                )
            if _numbered(self.db):  # made numbered: its index and version, once
                _dedup_index(self.db)
            family_store.ensure(self.db)
            self._fold_tags()

    @contextmanager
    def guarded(self, needed: int = 0) -> Iterator[None]:
        """Turn disk, lock and database-file errors into our one-line errors naming the store.

        ``needed`` is about how many bytes the write in progress needs (for a
        disk-full message). Errors of the data (a constraint, a wrong value) are
        left as they are: they belong to what was being written, not to the store.
        """
        try:
            yield
        except DiscoveryError:
            raise
        except OSError as exc:
            raise storage_error(exc, self.path, needed) from None
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError:
                raise storage_error(exc, self.path, needed) from None
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- meta -------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.guarded():
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- writing (inside a transaction opened by the caller) ----------------
    def begin(self) -> None:
        with self.guarded():
            self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        with self.guarded():
            self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            with self.guarded():
                self.db.execute("ROLLBACK")

    @contextmanager
    def transaction(self, needed: int = 0) -> Iterator[None]:
        """One write transaction: committed when the block ends, rolled back on any error.

        ``needed`` (bytes, about) goes into the message should the disk be full;
        then the space the rolled-back write took in the WAL is given back.
        """
        try:
            with self.guarded(needed):
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    yield
                    self.db.execute("COMMIT")
                except BaseException:
                    if self.db.in_transaction:
                        self.db.execute("ROLLBACK")
                    raise
        except DiskFullError:
            with suppress(sqlite3.Error):
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raise

    def number_keys(self) -> None:
        """Make the store ready to store sources: a store made before the dedup keys were
        numbered gets their numbers and their index, once (every message is rewritten:
        about 15 s at 5M messages; :func:`_dedup_index`). Only storing needs them, so an
        ingest does this, not every command that opens the store."""
        with self.guarded():
            _dedup_index(self.db)

    def source_hashes(self, custodian: str) -> frozenset[str]:
        """The SHA-256 of every source imported for ``custodian``."""
        rows = self.db.execute("SELECT sha256 FROM sources WHERE custodian = ?", (custodian,))
        return frozenset(r[0] for r in rows)

    def find_source(self, sha256: str, custodian: str) -> int | None:
        row = self.db.execute(
            "SELECT id FROM sources WHERE sha256 = ? AND custodian = ?", (sha256, custodian)
        ).fetchone()
        return row[0] if row else None

    def add_source(
        self, path: str, sha256: str, size: int, fmt: str, custodian: str, tz: str
    ) -> int:
        cur = self.db.execute(
            "INSERT INTO sources (path, sha256, size, format, custodian, tz, imported_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (path, sha256, size, fmt, custodian, tz, datetime.now(UTC).isoformat()),
        )
        return int(cur.lastrowid or 0)

    def set_source_report(self, source_id: int, report: dict[str, object]) -> None:
        self.db.execute(
            "UPDATE sources SET report = ? WHERE id = ?", (json.dumps(report), source_id)
        )

    # --- stored ingest reports ---------------------------------------------------------
    def source_report(self, source_id: int) -> dict[str, Any]:
        row = self.db.execute("SELECT report FROM sources WHERE id = ?", (source_id,)).fetchone()
        return dict(json.loads(row[0])) if row else {}

    def source_reports(self) -> list[StoredReport]:
        """Every imported source's report, in ingest order, then every failed one's."""
        out = [
            StoredReport(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]))
            for r in self.db.execute(
                "SELECT id, path, custodian, format, tz, imported_at, sha256, report"
                " FROM sources ORDER BY id"
            )
        ]
        for path, custodian, at, report in self.db.execute(
            "SELECT path, custodian, attempted_at, report FROM failed_sources"
            " ORDER BY attempted_at, path"
        ):
            rep = json.loads(report)
            fmt, zone = str(rep.get("format", "")), str(rep.get("zone", ""))
            out.append(StoredReport(None, path, custodian, fmt, zone, at, "", rep))
        return out

    def record_failure(self, path: str, custodian: str, report: dict[str, object]) -> None:
        """Keep the report of a source that could not be imported (its own transaction)."""
        with self.guarded():
            self.db.execute(
                "INSERT OR REPLACE INTO failed_sources (path, custodian, attempted_at, report)"
                " VALUES (?, ?, ?, ?)",
                (path, custodian, datetime.now(UTC).isoformat(), json.dumps(report)),
            )

    def clear_failure(self, path: str, custodian: str) -> None:
        self.db.execute(
            "DELETE FROM failed_sources WHERE path = ? AND custodian = ?", (path, custodian)
        )

    def visible_sources(self, through: int) -> list[Source]:
        """The sources all of whose messages have ids up to ``through`` (see audit)."""
        rows = self.db.execute(
            "SELECT s.id FROM sources s WHERE coalesce((SELECT max(message_id)"
            " FROM message_sources ms WHERE ms.source_id = s.id), 0) <= ?",
            (through,),
        ).fetchall()
        keep = {r[0] for r in rows}
        return [s for s in self.sources() if s.id in keep]

    def upsert_conversation(
        self,
        platform: str,
        key: str,
        kind: str,
        name: str,
        participants: Iterable[Participant] = (),
    ) -> int:
        self.db.execute(
            "INSERT OR IGNORE INTO conversations (platform, native_key, kind, name)"
            " VALUES (?, ?, ?, ?)",
            (platform, key, kind, name),
        )
        (conv_id,) = self.db.execute(
            "SELECT id FROM conversations WHERE platform = ? AND native_key = ?", (platform, key)
        ).fetchone()
        self.db.executemany(
            "INSERT OR IGNORE INTO participants (conversation_id, speaker_id, name)"
            " VALUES (?, ?, ?)",
            [(conv_id, p.speaker_id, p.name) for p in participants],
        )
        return int(conv_id)

    @contextmanager
    def staging(
        self, path: Path, needed: int = 0, *, filled: bool = False, keep: bool = False
    ) -> Iterator[Staging]:
        """A scratch database at ``path`` for one source's messages on their way in.

        ``path`` is in the ingest's private work folder: the messages of a source
        are staged there batch by batch as it is read (memory stays bounded by a
        batch), then stored by :meth:`Staging.store` in the source's one write
        transaction. A source killed midway leaves nothing in the case store,
        and the next ingest removes the work folder, so it starts that source
        again from the beginning. ``needed`` is about how many bytes storing the
        source takes (for a disk-full message). ``filled``: the file was staged
        elsewhere (:func:`staging_file`, by a worker of a sharded ingest) and is
        taken as it is; ``keep``: the file is left in place for that.
        """
        if not filled:
            path.unlink(missing_ok=True)
        with self.guarded(needed):
            if not filled:
                files.private_file(path)
            self.db.execute("ATTACH DATABASE ? AS stage", (str(path),))
        try:
            with self.guarded(needed):
                # Scratch: nothing in it outlives a failure, so no journal and no sync.
                self.db.execute("PRAGMA stage.journal_mode = OFF")
                self.db.execute("PRAGMA stage.synchronous = OFF")
                self.db.execute(f"PRAGMA stage.cache_size = -{STAGE_CACHE_KIB}")
                if not filled:
                    self.db.executescript(_STAGE_SCHEMA)
            staged = Staging(self, needed)
            if filled:
                staged.count = self.db.execute("SELECT count(*) FROM stage.rows").fetchone()[0]
            yield staged
        finally:
            with suppress(sqlite3.Error):
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                self.db.execute("DETACH DATABASE stage")
            if not keep:
                path.unlink(missing_ok=True)

    def _drop_message_indexes(self) -> list[str]:
        """Drop the secondary indexes of ``messages`` (in the open transaction, so a
        rollback restores them); return the statements that build them again."""
        rows = self.db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'"
            " AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in rows:
            self.db.execute(f'DROP INDEX main."{name}"')
        return [sql for _, sql in rows]

    def resolve_threads(self, since_id: int) -> int:
        """Link replies to their roots by native id; returns replies still without a root.

        Looks at every unlinked reply, so a root that arrives in a later source
        adopts the replies stored before it. The unlinked replies have an index of
        their own (``messages_unlinked``, made by the first ingest that needs it), so
        this reads them alone, not every message of the store at every source.
        """
        self.db.execute(
            "CREATE INDEX IF NOT EXISTS main.messages_unlinked ON messages (id)"
            " WHERE thread_key IS NOT NULL AND thread_root IS NULL"
        )
        self.db.execute(
            "UPDATE messages SET thread_root = ("
            "  SELECT r.id FROM messages r WHERE r.conversation_id = messages.conversation_id"
            "  AND r.native_id = messages.thread_key ORDER BY r.id LIMIT 1)"
            " WHERE thread_key IS NOT NULL AND thread_root IS NULL"
        )
        (orphans,) = self.db.execute(
            "SELECT count(*) FROM messages WHERE thread_key IS NOT NULL AND thread_root IS NULL"
            " AND id > ?",
            (since_id,),
        ).fetchone()
        return int(orphans)

    # --- reading ----------------------------------------------------------
    def max_message_id(self) -> int:
        (n,) = self.db.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()
        return int(n)

    def counts(self) -> dict[str, int]:
        def one(sql: str) -> int:
            return int(self.db.execute(sql).fetchone()[0])

        return {
            "messages": one("SELECT count(*) FROM messages"),
            "conversations": one("SELECT count(*) FROM conversations"),
            "custodians": one("SELECT count(DISTINCT custodian) FROM sources"),
            "sources": one("SELECT count(*) FROM sources"),
        }

    def sources(self) -> list[Source]:
        rows = self.db.execute(
            "SELECT id, path, sha256, size, format, custodian, tz, imported_at FROM sources"
            " ORDER BY id"
        ).fetchall()
        return [
            Source(r[0], r[1], r[2], r[3], r[4], r[5], r[6], datetime.fromisoformat(r[7]))
            for r in rows
        ]

    def conversation(self, conv_id: int) -> Conversation:
        row = self.db.execute(
            "SELECT id, platform, native_key, kind, name FROM conversations WHERE id = ?",
            (conv_id,),
        ).fetchone()
        parts = self.db.execute(
            "SELECT speaker_id, name FROM participants WHERE conversation_id = ? ORDER BY name",
            (conv_id,),
        ).fetchall()
        return Conversation(
            row[0],
            row[1],
            row[2],
            ConversationKind(row[3]),
            row[4],
            tuple(Participant(p[0], p[1]) for p in parts),
        )

    def messages(self, ids: Sequence[int]) -> list[Message]:
        """Full messages for ``ids``, in the order given; unknown ids are skipped."""
        found: dict[int, Message] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages m JOIN conversations c"
                f" ON c.id = m.conversation_id WHERE m.id IN ({marks})",
                chunk,
            ).fetchall()
            holders = self._holders(chunk)
            tags = self.tags_of(chunk)
            family = family_store.info(self.db, chunk)
            for r in rows:
                custodians, paths = holders.get(r[0], ((), ()))
                found[r[0]] = _message(r, custodians, paths, tags.get(r[0], ()), family.get(r[0]))
        return [found[i] for i in ids if i in found]

    def message(self, message_id: int) -> Message:
        found = self.messages([message_id])
        if not found:
            raise MessageNotFoundError(f"no message {control_number(message_id)} in this matter")
        return found[0]

    def context_ids(self, message_id: int, before: int, after: int) -> list[int]:
        """Ids of up to ``before``/``after`` messages around one, in conversation time order."""
        row = self.db.execute(
            "SELECT conversation_id, sent_us FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None:
            raise MessageNotFoundError(f"no message {control_number(message_id)} in this matter")
        conv, sent = row
        earlier = self.db.execute(
            "SELECT id FROM messages WHERE conversation_id = ? AND (sent_us, id) < (?, ?)"
            " ORDER BY sent_us DESC, id DESC LIMIT ?",
            (conv, sent, message_id, before),
        ).fetchall()
        later = self.db.execute(
            "SELECT id FROM messages WHERE conversation_id = ? AND (sent_us, id) > (?, ?)"
            " ORDER BY sent_us, id LIMIT ?",
            (conv, sent, message_id, after),
        ).fetchall()
        return [r[0] for r in reversed(earlier)] + [message_id] + [r[0] for r in later]

    def text_bytes(self, after_id: int = 0) -> int:
        """Bytes of text (all versions, about) of the messages with ids above ``after_id``."""
        (n,) = self.db.execute(
            "SELECT coalesce(sum(length(CAST(text AS BLOB)) + coalesce(length(versions), 0)), 0)"
            " FROM messages WHERE id > ?",
            (after_id,),
        ).fetchone()
        return int(n)

    def iter_index_rows(self, after_id: int) -> Iterator[tuple[int, str, str | None]]:
        """(id, text, versions JSON) of every message with an id above ``after_id``."""
        yield from self.db.execute(
            "SELECT id, text, versions FROM messages WHERE id > ? ORDER BY id", (after_id,)
        )

    def verify_rows(self, ids: Sequence[int]) -> list[MessageFields]:
        """The fields the exact verifier needs, for ``ids`` (any order)."""
        out: list[MessageFields] = []
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for r in self.db.execute(
                "SELECT m.id, m.text, m.versions, m.speaker, m.speaker_id, c.name, c.platform,"
                " m.sent_us FROM messages m JOIN conversations c ON c.id = m.conversation_id"
                f" WHERE m.id IN ({marks})",
                chunk,
            ):
                versions = (r[1], *json.loads(r[2])) if r[2] else (r[1],)
                out.append(MessageFields(r[0], versions, (r[3], r[4]), r[5], r[6], r[7]))
        return out

    def summary_rows(self, ids: Sequence[int]) -> list[tuple[int, int, int]]:
        """(id, conversation id, sent_us) for ``ids``."""
        out: list[tuple[int, int, int]] = []
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            out.extend(
                self.db.execute(
                    f"SELECT id, conversation_id, sent_us FROM messages WHERE id IN ({marks})",
                    chunk,
                )
            )
        return out

    def joined_column(self, column: str) -> str:
        """One column of every message in id order, as decimal numbers joined by spaces
        (``conversation_id`` or ``sent_us``: one statement, no row objects)."""
        if column not in ("conversation_id", "sent_us"):
            raise ValueError(f"not a numeric message column: {column}")
        (joined,) = self.db.execute(
            f"SELECT coalesce(group_concat({column}, ' '), '')"
            f" FROM (SELECT {column} FROM messages ORDER BY id)"
        ).fetchone()
        return str(joined)

    def source_refs(self, ids: Sequence[int]) -> dict[int, list[tuple[str, str, str]]]:
        """(custodian, source path, source SHA-256) of every source holding each message."""
        acc: dict[int, list[tuple[str, str, str]]] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for mid, custodian, path, sha in self.db.execute(
                "SELECT DISTINCT ms.message_id, s.custodian, s.path, s.sha256 FROM message_sources"
                f" ms JOIN sources s ON s.id = ms.source_id WHERE ms.message_id IN ({marks})"
                " ORDER BY s.id",
                chunk,
            ):
                acc.setdefault(mid, []).append((custodian, path, sha))
        return acc

    def custodians_among(self, ids: Sequence[int]) -> set[str]:
        """The custodians holding any of ``ids`` (one query, not one row per message)."""
        names = self.custodian_names()
        if len(names) <= 1:
            return set(names) if ids else set()
        return {
            r[0]
            for r in self.db.execute(
                "SELECT DISTINCT s.custodian FROM json_each(?) p JOIN message_sources ms"
                " ON ms.message_id = p.value JOIN sources s ON s.id = ms.source_id",
                (json.dumps(list(ids)),),
            )
        }

    def custodians_of(self, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        return {k: v[0] for k, v in self._holders(ids).items()}

    def _holders(self, ids: Sequence[int]) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
        acc: dict[int, tuple[list[str], list[str]]] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for mid, custodian, path in self.db.execute(
                "SELECT DISTINCT ms.message_id, s.custodian, s.path FROM message_sources ms"
                f" JOIN sources s ON s.id = ms.source_id WHERE ms.message_id IN ({marks})"
                " ORDER BY s.id",
                chunk,
            ):
                cs, ps = acc.setdefault(mid, ([], []))
                if custodian not in cs:
                    cs.append(custodian)
                if path not in ps:
                    ps.append(path)
        return {k: (tuple(v[0]), tuple(v[1])) for k, v in acc.items()}

    def tags_of(self, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        acc: dict[int, list[str]] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for mid, tag in self.db.execute(
                f"SELECT message_id, tag FROM tags WHERE message_id IN ({marks}) ORDER BY tag",
                chunk,
            ):
                acc.setdefault(mid, []).append(tag)
        return {k: tuple(v) for k, v in acc.items()}

    # --- field look-ups for queries ------------------------------------------
    def distinct_speakers(self) -> list[tuple[str, str]]:
        return self.db.execute("SELECT DISTINCT speaker_id, speaker FROM messages").fetchall()

    def conversation_names(self) -> list[tuple[int, str, str]]:
        return self.db.execute("SELECT id, name, platform FROM conversations").fetchall()

    def custodian_names(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT custodian FROM sources")]

    def tag_names(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT tag FROM tags ORDER BY tag")]

    def tag_counts(self) -> list[tuple[str, int]]:
        """Every tag with the number of messages carrying it, by name."""
        return self.db.execute(
            "SELECT tag, count(*) FROM tags GROUP BY tag ORDER BY tag"
        ).fetchall()

    def ids_where(self, where: str, params: Sequence[object]) -> set[int]:
        """Message ids matching a SQL condition over ``messages m`` (internal use)."""
        return {r[0] for r in self.db.execute(f"SELECT m.id FROM messages m WHERE {where}", params)}

    def ids_of_custodians(self, custodians: Sequence[str]) -> set[int]:
        marks = ",".join("?" * len(custodians))
        return {
            r[0]
            for r in self.db.execute(
                "SELECT DISTINCT ms.message_id FROM message_sources ms JOIN sources s"
                f" ON s.id = ms.source_id WHERE s.custodian IN ({marks})",
                list(custodians),
            )
        }

    def ids_of_tags(self, tags: Sequence[str]) -> set[int]:
        """Messages carrying any of ``tags`` (in any case)."""
        marks = ",".join("?" * len(tags))
        return {
            r[0]
            for r in self.db.execute(
                f"SELECT message_id FROM tags WHERE tag IN ({marks})", [tag_key(t) for t in tags]
            )
        }

    def system_ids(self) -> set[int]:
        return {r[0] for r in self.db.execute("SELECT id FROM messages WHERE system = 1")}

    # --- tags ---------------------------------------------------------------
    def tag(self, message_ids: Iterable[int], tag: str) -> int:
        """Put ``tag`` on messages (those that have it keep it); returns how many got it."""
        now = datetime.now(UTC).isoformat()
        key = tag_key(tag)
        before = self.db.total_changes
        with self.guarded():
            self.db.executemany(
                "INSERT OR IGNORE INTO tags (message_id, tag, tagged_at) VALUES (?, ?, ?)",
                [(i, key, now) for i in message_ids],
            )
        return self.db.total_changes - before

    def untag(self, message_ids: Iterable[int], tag: str) -> int:
        """Take ``tag`` off messages; returns how many had it."""
        key = tag_key(tag)
        before = self.db.total_changes
        with self.guarded():
            self.db.executemany(
                "DELETE FROM tags WHERE message_id = ? AND tag = ?",
                [(i, key) for i in message_ids],
            )
        return self.db.total_changes - before

    def _fold_tags(self) -> None:
        """Bring tags stored before tags were case-insensitive to their one spelling."""
        odd = [t for (t,) in self.db.execute("SELECT DISTINCT tag FROM tags") if tag_key(t) != t]
        if not odd:
            return
        self.begin()
        try:
            for t in odd:
                self.db.execute(
                    "INSERT OR IGNORE INTO tags (message_id, tag, tagged_at)"
                    " SELECT message_id, ?, tagged_at FROM tags WHERE tag = ?",
                    (tag_key(t), t),
                )
                self.db.execute("DELETE FROM tags WHERE tag = ?", (t,))
            self.commit()
        except BaseException:
            self.rollback()
            raise

    # --- privilege descriptions (for the privilege log) ----------------------
    def set_privilege_description(self, message_ids: Iterable[int], description: str) -> None:
        """Store a reviewer's privilege description for each message (replacing any earlier one).

        An empty (or blank) description removes the stored one.
        """
        ids = list(message_ids)
        if not description.strip():
            self.db.executemany(
                "DELETE FROM privilege_descriptions WHERE message_id = ?", [(i,) for i in ids]
            )
            return
        now = datetime.now(UTC).isoformat()
        self.db.executemany(
            "INSERT OR REPLACE INTO privilege_descriptions (message_id, description, described_at)"
            " VALUES (?, ?, ?)",
            [(i, description, now) for i in ids],
        )

    def privilege_descriptions(self, message_ids: Sequence[int]) -> dict[int, str]:
        """The stored privilege description of each of ``message_ids`` that has one."""
        out: dict[int, str] = {}
        for chunk in _chunks(message_ids):
            marks = ",".join("?" * len(chunk))
            out.update(
                self.db.execute(
                    "SELECT message_id, description FROM privilege_descriptions"
                    f" WHERE message_id IN ({marks})",
                    chunk,
                )
            )
        return out

    # --- conversation slices (productions) ----------------------------------
    def extra_fields(self, ids: Sequence[int]) -> dict[int, dict[str, str]]:
        """What each message's format had beyond the model (Slack subtype, RSMF type, ...)."""
        out: dict[int, dict[str, str]] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for mid, extra in self.db.execute(
                f"SELECT id, extra FROM messages WHERE id IN ({marks}) AND extra IS NOT NULL",
                chunk,
            ):
                fields = json.loads(extra).get("fields")
                if fields:
                    out[mid] = fields
        return out

    def conversation_rows(
        self, conv_id: int, start_us: int | None = None, end_us: int | None = None
    ) -> list[tuple[int, int]]:
        """(id, sent_us) of a conversation's messages in time order (ties by id), optionally
        only those sent in ``[start_us, end_us)``."""
        lo = -(2**63) if start_us is None else start_us
        hi = 2**63 - 1 if end_us is None else end_us
        return self.db.execute(
            "SELECT id, sent_us FROM messages WHERE conversation_id = ? AND sent_us >= ?"
            " AND sent_us < ? ORDER BY sent_us, id",
            (conv_id, lo, hi),
        ).fetchall()

    def thread_ids(self, root_ids: Sequence[int]) -> dict[int, list[int]]:
        """For each thread root, the ids of its replies (time order, ties by id)."""
        out: dict[int, list[int]] = {r: [] for r in root_ids}
        for chunk in _chunks(root_ids):
            marks = ",".join("?" * len(chunk))
            for root, mid in self.db.execute(
                f"SELECT thread_root, id FROM messages WHERE thread_root IN ({marks})"
                " ORDER BY sent_us, id",
                chunk,
            ):
                out[root].append(mid)
        return out

    # --- chat order (chat-aware proximity and context windows) ------------------
    def order_columns(self) -> tuple[str, str, str, str]:
        """``conversation_id``, ``sent_us``, ``thread_root`` (0: none) and ``system`` of every
        message in id order, each as decimal numbers joined by spaces (one statement)."""
        row = self.db.execute(
            "SELECT coalesce(group_concat(conversation_id, ' '), ''),"
            " coalesce(group_concat(sent_us, ' '), ''),"
            " coalesce(group_concat(coalesce(thread_root, 0), ' '), ''),"
            " coalesce(group_concat(system, ' '), '')"
            " FROM (SELECT conversation_id, sent_us, thread_root, system FROM messages ORDER BY id)"
        ).fetchone()
        return str(row[0]), str(row[1]), str(row[2]), str(row[3])

    def places(self, ids: Sequence[int]) -> dict[int, tuple[int, int, int | None, bool]]:
        """(conversation id, sent_us, thread root or None, system) of each of ``ids``."""
        out: dict[int, tuple[int, int, int | None, bool]] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for mid, conv, sent, root, system in self.db.execute(
                "SELECT id, conversation_id, sent_us, thread_root, system FROM messages"
                f" WHERE id IN ({marks})",
                chunk,
            ):
                out[mid] = (conv, sent, root, bool(system))
        return out

    def main_line(
        self, conv_id: int, sent_us: int, message_id: int, n: int, later: bool
    ) -> list[int]:
        """Up to ``n`` ids of the conversation's main line (no thread replies, no system
        events) just before (or, ``later``, after) the message at (``sent_us``, ``message_id``),
        nearest first. A thread reply's attachments are in its thread, not the main line."""
        op, order = (">", "ASC") if later else ("<", "DESC")
        return [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM messages WHERE conversation_id = ? AND thread_root IS NULL"
                f" AND system = 0 AND (sent_us, id) {op} (?, ?) AND NOT EXISTS (SELECT 1"
                " FROM family_members f JOIN messages p ON p.id = f.parent_id"
                " WHERE f.message_id = messages.id AND p.thread_root IS NOT NULL)"
                f" ORDER BY sent_us {order}, id {order} LIMIT ?",
                (conv_id, sent_us, message_id, n),
            )
        ]

    def conversation_times(
        self, conv_ids: Sequence[int], include_system: bool, through: int
    ) -> Iterator[tuple[int, int]]:
        """(conversation id, sent_us) of every message of those conversations with an id up
        to ``through`` (system events only when ``include_system``)."""
        for chunk in _chunks(conv_ids):
            marks = ",".join("?" * len(chunk))
            yield from self.db.execute(
                f"SELECT conversation_id, sent_us FROM messages WHERE conversation_id IN ({marks})"
                f" AND id <= ?{'' if include_system else ' AND system = 0'}",
                [*chunk, through],
            )

    def system_between(self, conv_id: int, first_id: int, last_id: int) -> list[int]:
        """System events of a conversation placed (by time, then id) between two of its
        messages, both ends included."""
        return [
            r[0]
            for r in self.db.execute(
                "SELECT m.id FROM messages a, messages b, messages m WHERE a.id = ? AND b.id = ?"
                " AND m.conversation_id = ? AND m.system = 1"
                " AND (m.sent_us, m.id) >= (a.sent_us, a.id)"
                " AND (m.sent_us, m.id) <= (b.sent_us, b.id)"
                " ORDER BY m.sent_us, m.id",
                (first_id, last_id, conv_id),
            )
        ]

    def thread_members(self, root_id: int) -> list[int]:
        """The thread of ``root_id`` without system events: the root (when it is not one) and
        its replies, in time order (ties by id)."""
        return [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM messages WHERE (id = ? OR thread_root = ?) AND system = 0"
                " ORDER BY sent_us, id",
                (root_id, root_id),
            )
        ]

    def thread_roots(self, ids: Sequence[int]) -> dict[int, int]:
        """The thread root of each of ``ids`` that is a reply in a thread whose root is stored."""
        out: dict[int, int] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            out.update(
                self.db.execute(
                    f"SELECT id, thread_root FROM messages WHERE id IN ({marks})"
                    " AND thread_root IS NOT NULL AND thread_root != id",
                    chunk,
                )
            )
        return out


class Staging:
    """One source's messages staged by :meth:`Store.staging`, then stored at once."""

    def __init__(self, store: Store, needed: int = 0) -> None:
        self._store = store
        self.needed = needed
        """Bytes the source needs on disk, about (for a disk-full message)."""
        self.count = 0
        """Messages staged so far."""

    def add(self, rows: Sequence[tuple[object, ...]]) -> None:
        """Stage a batch of rows (:meth:`NewMessage.row`), in the source's order."""
        self._write(
            f"INSERT INTO stage.rows ({_STAGED_COLUMNS}) VALUES"
            " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self.count += len(rows)

    def add_members(self, rows: Sequence[tuple[object, ...]]) -> None:
        """Stage a batch of family members (:func:`discovery.families.family_rows`)."""
        if rows:
            self._write(family_store.STAGE_INSERT, rows, family_store.STAGE_TABLE)

    def finish(self) -> None:
        """Note the source's own repeats once it is all staged (``stage.repeats``): the
        messages whose dedup key comes earlier in the source, in (time, staged order).
        They depend on the source alone, so a worker of a sharded ingest finds them
        where it staged it, not the one process storing every source
        (:meth:`_find_duplicates` reads them; it finds them itself if need be)."""
        with self._writing() as db:
            for statement in _REPEATS:
                db.execute(statement)

    def _write(self, insert: str, rows: Sequence[tuple[object, ...]], table: str = "") -> None:
        """Insert ``rows``, creating ``table`` first when given."""
        with self._writing() as db:
            if table:
                db.execute(table)
            db.executemany(insert, rows)

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction (deferred: only the staging database is written), or the
        store's when one is open (storing the source)."""
        db = self._store.db
        own = not db.in_transaction
        with self._store.guarded(self.needed):
            if own:
                db.execute("BEGIN")
            try:
                yield db
                if own:
                    db.execute("COMMIT")
            except BaseException:
                if own and db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def store(self, source_id: int, conversations: dict[str, int]) -> tuple[int, int]:
        """Store every staged message as source ``source_id``'s; return (added, duplicates).

        This is where messages get their ids, so their control numbers: the
        new messages of a source get the next ids in time order, ties in the
        source's order (the staged order), with no gap. A message whose dedup
        key is already stored, or comes earlier in that order, is not added
        again; the source is recorded as holding it (with its location).
        ``conversations`` maps each staged conversation key to its stored id.

        Call it inside the source's write transaction (:meth:`Store.transaction`),
        so no other writer takes those ids meanwhile (one that did would make
        the insert fail, never share an id). The duplicates are found first
        (:meth:`_find_duplicates`) and left out of the insert, and the insert is
        checked to have added none (:func:`refuse_duplicates`). A batch of at least
        :data:`BULK` messages, more than the store holds, drops the secondary
        indexes of ``messages`` and builds them once afterwards, in the same
        transaction.
        """
        db = self._store.db
        before = self._store.max_message_id()
        db.execute(
            "CREATE TEMP TABLE stage_conversations (key TEXT PRIMARY KEY, id INTEGER NOT NULL)"
            " WITHOUT ROWID"
        )
        db.executemany("INSERT INTO temp.stage_conversations VALUES (?, ?)", conversations.items())
        bulk = self.count >= BULK and self.count > before
        old_cache = db.execute("PRAGMA main.cache_size").fetchone()[0]
        db.execute(f"PRAGMA main.cache_size = -{BULK_CACHE_KIB}")
        try:
            self._find_duplicates(before)
            rebuild = self._store._drop_message_indexes() if bulk else []
            db.execute(
                "INSERT INTO main.messages (dedup, native_id, conversation_id, thread_key,"
                " speaker_id, speaker, sent_us, utc_offset, text, versions, edited, deleted,"
                " system, extra, dedup_hash) SELECT r.dedup, r.native_id, (SELECT c.id FROM"
                " temp.stage_conversations c WHERE c.key = r.conversation), r.thread_key,"
                " r.speaker_id, r.speaker, r.sent_us, r.utc_offset, r.text, r.versions, r.edited,"
                " r.deleted, r.system, r.extra, r.dedup_hash FROM stage.rows r"
                " WHERE r.seq NOT IN (SELECT seq FROM temp.stage_duplicates)"
                " ORDER BY r.sent_us, r.seq"
            )
            for statement in rebuild:
                db.execute(statement)
            refuse_duplicates(db, before)
            added = self._store.max_message_id() - before
            if added == self.count:
                # No duplicate: the n-th staged message in that order is message before + n.
                db.execute(
                    "INSERT INTO main.message_sources (message_id, source_id, location)"
                    " SELECT ? + row_number() OVER (ORDER BY r.sent_us, r.seq), ?, r.location"
                    " FROM stage.rows r",
                    (before, source_id),
                )
            else:  # each staged message's id by its dedup key (in id order: appends)
                db.execute(
                    "INSERT OR IGNORE INTO main.message_sources (message_id, source_id, location)"
                    " SELECT m.id, ?, r.location FROM stage.rows r JOIN main.messages m"
                    " ON m.dedup_hash = r.dedup_hash AND m.dedup = r.dedup"
                    " ORDER BY r.sent_us, r.seq",
                    (source_id,),
                )
            db.execute("DROP TABLE temp.stage_conversations")
            db.execute("DROP TABLE temp.stage_duplicates")
        finally:
            db.execute(f"PRAGMA main.cache_size = {int(old_cache)}")
        return added, self.count - added

    def _find_duplicates(self, stored: int) -> None:
        """The staged messages not to add, in ``temp.stage_duplicates``: those whose dedup
        key is stored (when ``stored``, messages, are), and those whose key comes earlier
        in (time, staged order). Found before any index is dropped, with one sort of the
        staged keys: the insert that follows takes every other staged message, and
        :func:`refuse_duplicates` fails the source should this have missed one (it
        never skips one)."""
        db = self._store.db
        db.execute("CREATE TEMP TABLE stage_duplicates (seq INTEGER PRIMARY KEY)")
        if stored:
            db.execute(
                "INSERT INTO temp.stage_duplicates SELECT r.seq FROM stage.rows r"
                " WHERE EXISTS (SELECT 1 FROM main.messages m"
                " WHERE m.dedup_hash = r.dedup_hash AND m.dedup = r.dedup)"
            )
        if not db.execute(
            "SELECT 1 FROM stage.sqlite_master WHERE type = 'table' AND name = 'repeats'"
        ).fetchone():
            self.finish()
        db.execute("INSERT OR IGNORE INTO temp.stage_duplicates SELECT seq FROM stage.repeats")


def _numbered(db: sqlite3.Connection) -> bool:
    """Whether the messages hold their dedup keys' numbers (stores made since they do)."""
    return any(r[1] == "dedup_hash" for r in db.execute("PRAGMA main.table_info(messages)"))


def _dedup_index(db: sqlite3.Connection) -> None:
    """Index the dedup keys by their numbers (``messages_dedup_hash``), numbering them first
    in a store made before (one transaction, once), whose unique index of the full
    keys (``messages_dedup``) then goes (:func:`refuse_duplicates` keeps them unique),
    and whose version becomes :data:`SCHEMA_VERSION`.
    (A store made before that index declares the key ``UNIQUE`` in its table: that
    one cannot be dropped, and stays beside the numbers.)"""

    def ready() -> bool:
        names = {r[0] for r in db.execute("SELECT name FROM main.sqlite_master WHERE type='index'")}
        (version,) = db.execute(
            "SELECT coalesce(max(value), '') FROM main.meta WHERE key = 'schema_version'"
        ).fetchone()
        done = version == str(SCHEMA_VERSION)
        return done and "messages_dedup_hash" in names and "messages_dedup" not in names

    if ready():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if not ready():  # another process may have done it meanwhile
            columns = {r[1] for r in db.execute("PRAGMA main.table_info(messages)")}
            if "dedup_hash" not in columns:  # numbered first, then indexed once, sorted
                db.execute("ALTER TABLE main.messages ADD COLUMN dedup_hash INTEGER")
            # Every message without its number: all in a store being numbered; any an older
            # discovery stored meanwhile, as it could before version 2 refused it.
            db.execute(
                "UPDATE main.messages SET dedup_hash = dedup_hash(dedup) WHERE dedup_hash IS NULL"
            )
            db.execute(
                "CREATE INDEX IF NOT EXISTS main.messages_dedup_hash ON messages (dedup_hash)"
            )
            db.execute("DROP INDEX IF EXISTS main.messages_dedup")
            db.execute(
                "INSERT OR REPLACE INTO main.meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


class _StageOnly(Store):
    """No case store: only a connection to attach a staging file to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)


@contextmanager
def staging_file(path: Path, needed: int = 0) -> Iterator[Staging]:
    """Stage a source's messages into the file ``path`` away from any case store (a
    worker of a sharded ingest does), for :meth:`Store.staging` ``(filled=True)``."""
    scratch = _StageOnly(path)
    try:
        with scratch.staging(path, needed, keep=True) as staged:
            yield staged
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        scratch.db.close()


class IndexRows:
    """Reads (message id, versions) rows of a case store in id order, in any process.

    Picklable, and each call opens a connection of its own (that only reads),
    so index workers (:mod:`discovery.workers`) each read the range of ids
    they index.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, after: int, through: int) -> Iterator[tuple[int, tuple[str, ...]]]:
        """The rows with ids in ``(after, through]``, current text first."""
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT)
        try:
            for mid, text, prior in db.execute(
                "SELECT id, text, versions FROM messages WHERE id > ? AND id <= ? ORDER BY id",
                (after, through),
            ):
                yield mid, (text, *json.loads(prior)) if prior else (text,)
        finally:
            db.close()

    def owner_runs(self, after: int, through: int) -> list[tuple[int, int, int]]:
        """(first id, last id, source) of each run of ids in ``(after, through]`` brought in by
        one source (the least source id holding the message), in id order; a run holds no
        gap (a sharded index gives each source's new messages one shard). A source's new
        messages take consecutive ids, so one look per source usually says it all; where a
        source's ids are not all its own (never in an ingest), they are read one by one."""
        owned = (
            "SELECT message_id AS mid, min(source_id) AS src FROM message_sources"
            " WHERE message_id > ? AND message_id <= ? GROUP BY message_id"
        )
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT)
        try:
            spans = db.execute(
                f"SELECT min(mid), max(mid), src, count(*) FROM ({owned}) GROUP BY src ORDER BY 1",
                (after, through),
            ).fetchall()
            if all(last - first + 1 == n for first, last, _, n in spans):
                return [(first, last, src) for first, last, src, _ in spans]
            runs: list[tuple[int, int, int]] = []
            for mid, src in db.execute(f"{owned} ORDER BY message_id", (after, through)):
                if runs and runs[-1][2] == src and runs[-1][1] == mid - 1:
                    runs[-1] = (runs[-1][0], mid, src)
                else:
                    runs.append((mid, mid, src))
            return runs
        finally:
            db.close()


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A source's ingest report as kept in the case store (``id`` None: not imported)."""

    id: int | None
    path: str
    custodian: str
    format: str
    tz: str
    at: str
    """When it was imported (or, for a failed source, last attempted), UTC ISO 8601."""
    sha256: str
    report: dict[str, Any]


def storage_error(exc: BaseException, path: Path, needed: int = 0) -> DiscoveryError:
    """Our error for a failed SQLite or file operation on ``path``."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if (
        name == "SQLITE_FULL"
        or "disk is full" in text
        or getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
    ):
        return DiskFullError(str(path), needed, files.free_bytes(path))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return StoreBusyError(
            f"the case store {path} is busy: another discovery process (an ingest?) kept it"
            f" locked for more than {BUSY_TIMEOUT:g} s; try again when it has finished"
        )
    if isinstance(exc, OSError):
        return StoreError(f"cannot write {path}: {exc.strerror or exc}")
    return StoreError(f"the case store {path} cannot be used: {text or type(exc).__name__}")


def _chunks(ids: Sequence[int], size: int = 900) -> Iterator[list[int]]:
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _message(
    r: Sequence[object],
    custodians: tuple[str, ...],
    paths: tuple[str, ...],
    tags: tuple[str, ...],
    family: FamilyInfo | None = None,
) -> Message:
    extra = json.loads(str(r[15])) if r[15] else {}
    return Message(
        id=int(r[0]),  # type: ignore[call-overload]
        native_id=str(r[1]),
        conversation_id=int(r[2]),  # type: ignore[call-overload]
        conversation=str(r[3]),
        platform=str(r[4]),
        thread_root=r[5],  # type: ignore[arg-type]
        speaker_id=str(r[6]),
        speaker=str(r[7]),
        sent_at=from_us(int(r[8])),  # type: ignore[call-overload]
        utc_offset=r[9],  # type: ignore[arg-type]
        text=str(r[10]),
        versions=tuple(json.loads(str(r[11]))) if r[11] else (),
        edited=bool(r[12]),
        deleted=bool(r[13]),
        system=bool(r[14]),
        reactions=tuple(Reaction(e, tuple(u)) for e, u in extra.get("reactions", [])),
        attachments=tuple(Attachment(**a) for a in extra.get("attachments", [])),
        custodians=custodians,
        sources=paths,
        tags=tags,
        family=family,
    )
