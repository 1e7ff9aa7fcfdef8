"""The audit log: what was searched, when, by whom, and what came back (PRODUCT.md §6).

Every ``search``, ``export``, batch term and exhibit list appends one entry:
time (UTC), OS user, command, the query as typed and its canonical form, the
settings that decide what a query means (tokenizer rules and version
(:data:`discovery.text.TOKENIZER_VERSION`), discovery version,
display zone, whether system events count), the matter's fingerprint, the hit
count and :func:`discovery.search.result_hash` of the hit ids. A context
chosen with ``--context`` is recorded as ``context`` (``3``, ``10min``,
``thread``, ``day``) and, where it was written for every hit (``export``,
``exhibits``, ``search --json``/``--csv``), with ``context_hash`` over the
windows; ``--rerun`` works the windows out again and reports ``context``
among the differences when they changed.

**Where it lives.** ``$DISCOVERY_HOME/audit.sqlite``, one log for all
matters, *outside* the matter folders: deleting a matter and ingesting the
same sources again must leave the log in place, so that ``discovery audit
--rerun`` can prove the rebuilt matter answers the same.

**Fingerprint.** SHA-256 over the matter's sources in ingest order: each
source's SHA-256, custodian, format and the zone its times were read in.
Ingest order is part of it because control numbers (and so result hashes)
follow it; the same sources ingested in the same order give the same
fingerprint, whatever their paths or import times.

**Tags.** Review tags are not part of the fingerprint (tagging does not change
the evidence), but ``tag:`` queries and tag selections depend on them. Each
entry's settings carry ``tags_fingerprint``, a SHA-256 over the tags table
(tag, message id; not the tagging times), and :class:`Rerun` tells whether it
changed since. Tagging and untagging are logged too (commands ``tag`` and
``untag``): from the review screen, the tag as query, the message id hashed and
its ``control_number`` in the settings; from ``discovery tag QUERY``, the query
as typed, the hits hashed, and in the settings ``tag``, ``changed`` (how many
messages changed), ``changed_hash`` (:func:`~discovery.search.result_hash` of
the changed ids) and ``control_numbers`` (every changed message, sorted).
They record a change, so there is nothing to re-run.

**Reindex.** ``discovery reindex`` is logged as command ``reindex``: the hits
are every message the rebuilt index holds (count and hash), the settings say
what was rebuilt (``rebuilt``: ``index``), how many messages were indexed
(``indexed``), the tokenizer version the old index had (``tokenizer_before``)
and, as in every entry, the tokenizer it was rebuilt with. Nothing to re-run.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from discovery import __version__, config, files
from discovery.errors import DiscoveryError, UsageError
from discovery.matter import Matter, View, open_matter
from discovery.query.ast import Field
from discovery.search import Searcher, result_hash
from discovery.store import Store
from discovery.text import FOLD_TABLE, TOKENIZER_VERSION, VERSION_GAP

LOG_FILE = "audit.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    matter TEXT NOT NULL,
    command TEXT NOT NULL,
    query TEXT NOT NULL,
    canonical TEXT NOT NULL,
    settings TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    hits INTEGER NOT NULL,
    result_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_matter ON audit (matter, id);
"""
_COLUMNS = (
    "id, at, user, matter, command, query, canonical, settings, fingerprint, hits, result_hash"
)

TOKENIZER = {
    "version": TOKENIZER_VERSION,
    "normalize": "NFKC; soft hyphen, ZWJ/ZWNJ, direction marks, other Cf, tatweel dropped",
    "words": "maximal runs of letters, digits and combining marks; Han, kana, Thai one per"
    " character",
    "fold": "casefold, NFKD, combining marks removed (kana voicing kept), letter table, NFC",
    "fold_table": FOLD_TABLE,
    "stop_words": "none",
    "version_gap": VERSION_GAP,
}


RERUNNABLE = frozenset({"search", "export", "batch", "exhibits", "produce"})
"""Commands whose entries ``rerun`` can run again (not ``tag``/``untag``)."""


class AuditError(DiscoveryError):
    """The audit log cannot be read or written."""


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    at: str
    user: str
    matter: str
    command: str
    query: str
    canonical: str
    settings: dict[str, Any]
    fingerprint: str
    hits: int
    result_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "user": self.user,
            "matter": self.matter,
            "command": self.command,
            "query": self.query,
            "canonical": self.canonical,
            "settings": self.settings,
            "fingerprint": self.fingerprint,
            "hits": self.hits,
            "result_hash": self.result_hash,
        }


@dataclass(frozen=True, slots=True)
class Rerun:
    """The outcome of running a logged entry again."""

    entry: Entry
    hits: int
    result_hash: str
    fingerprint: str
    tags_fingerprint: str = ""
    uses_tags: bool = False
    """Whether the entry's result depends on review tags (a ``tag:`` field or a tag selection)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def matches(self) -> bool:
        """Same hits; for a production also the same bytes in every file (``extra``)."""
        return self.result_hash == self.entry.result_hash and not self.extra.get("differences")

    @property
    def same_matter(self) -> bool:
        return self.fingerprint == self.entry.fingerprint

    @property
    def logged_tokenizer(self) -> int:
        """The tokenizer version the entry was made under (1: before versions were logged)."""
        return int(self.entry.settings.get("tokenizer", {}).get("version", 1))

    @property
    def current_tokenizer(self) -> int:
        return TOKENIZER_VERSION

    @property
    def same_tokenizer(self) -> bool:
        return self.logged_tokenizer == TOKENIZER_VERSION

    @property
    def same_tags(self) -> bool | None:
        """Whether the tags table is as it was when logged (None: the entry predates the check)."""
        logged = self.entry.settings.get("tags_fingerprint")
        return None if logged is None else logged == self.tags_fingerprint


def log_path() -> Path:
    return config.home() / LOG_FILE


def os_user() -> str:
    """The OS account running discovery (``unknown`` when it cannot be told)."""
    try:
        return getpass.getuser()
    except Exception:  # getpass raises OSError, KeyError or ImportError by platform
        return os.environ.get("USERNAME") or os.environ.get("USER") or "unknown"


def fingerprint(store: Store, through: int | None = None) -> str:
    """SHA-256 over the sources in ingest order (see the module notes).

    With ``through``, only over the sources a search answering over message ids
    up to it saw in full: what a search during an ingest actually searched.
    """
    sources = store.sources() if through is None else store.visible_sources(through)
    parts = [[s.sha256, s.custodian, s.format, s.tz] for s in sources]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def tags_fingerprint(store: Store) -> str:
    """SHA-256 over the tags table: every (tag, message id), sorted; tagging times left out."""
    digest = hashlib.sha256()
    for tag, message_id in store.db.execute(
        "SELECT tag, message_id FROM tags ORDER BY tag, message_id"
    ):
        digest.update(json.dumps([tag, message_id], ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()


def settings(matter: Matter, *, include_system: bool, **extra: Any) -> dict[str, Any]:
    """What decides the meaning of a query, recorded with each entry."""
    return {
        "discovery_version": __version__,
        "tokenizer": TOKENIZER,
        "display_zone": _zone_name(matter),
        "include_system": include_system,
        "tags_fingerprint": tags_fingerprint(matter.store),
        **extra,
    }


def _expansions(matter: Matter, canonical: str) -> dict[str, list[str]]:
    """Each expanded term of a query -> its index words ({} for a tag selection)."""
    searcher = Searcher(matter)
    planner = searcher.planner()
    try:
        searcher.prepare(canonical, planner)
    except DiscoveryError:  # not a query (a tag name as logged), or it no longer expands
        return {}
    return planner.expansions()


def _zone_name(matter: Matter) -> str:
    return str(getattr(matter.tz, "key", None) or config.display_zone_name())


def _connect() -> sqlite3.Connection:
    path = log_path()
    try:
        files.private_file(files.private_dir(path.parent) / LOG_FILE)
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        db.executescript(_SCHEMA)
    except (OSError, sqlite3.Error) as exc:
        raise AuditError(f"cannot open the audit log {path}: {exc}") from None
    return db


def record(
    matter: Matter,
    command: str,
    query: str,
    canonical: str,
    ids: Iterable[int],
    *,
    include_system: bool = False,
    view: View | None = None,
    **extra: Any,
) -> Entry:
    """Append one entry for a result just produced; returns it with its id.

    For a query, each term that stands for several words (wildcard, stem,
    fuzzy, range, regex) is recorded with the index words it stood for
    (``settings["expansions"]``). ``view`` is what the search saw: when it was
    partial (an ingest running), the entry's fingerprint covers only the sources
    it saw in full, and its settings say ``partial`` and up to which message id
    it answered.
    """
    ids = list(ids)
    if command in RERUNNABLE and "expansions" not in extra:
        expanded = _expansions(matter, canonical)
        if expanded:
            extra["expansions"] = expanded
    through = None
    if view is not None and view.partial:
        through = view.indexed
        extra = {**extra, "partial": True, "indexed_through": view.indexed}
    values = (
        datetime.now(UTC).isoformat(timespec="seconds"),
        os_user(),
        matter.name,
        command,
        query,
        canonical,
        json.dumps(settings(matter, include_system=include_system, **extra)),
        fingerprint(matter.store, through),
        len(ids),
        result_hash(ids),
    )
    try:
        with closing(_connect()) as db:
            cur = db.execute(
                f"INSERT INTO audit ({_COLUMNS.split(', ', 1)[1]})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            new_id = int(cur.lastrowid or 0)
    except sqlite3.Error as exc:
        raise AuditError(f"cannot write the audit log {log_path()}: {exc}") from None
    return _entry((new_id, *values))


def entries(matter: str | None = None) -> list[Entry]:
    """Logged entries, oldest first; only one matter's when ``matter`` is given."""
    if matter:
        return _select("WHERE matter = ? ORDER BY id", (matter,))
    return _select("ORDER BY id", ())


def entry(entry_id: int) -> Entry:
    found = _select("WHERE id = ?", (entry_id,))
    if not found:
        raise UsageError(f"no audit entry {entry_id} in {log_path()}")
    return found[0]


def _select(where: str, params: tuple[Any, ...]) -> list[Entry]:
    if not log_path().exists():
        return []
    try:
        with closing(_connect()) as db:
            return [_entry(r) for r in db.execute(f"SELECT {_COLUMNS} FROM audit {where}", params)]
    except sqlite3.Error as exc:
        raise AuditError(f"cannot read the audit log {log_path()}: {exc}") from None


def _entry(r: Any) -> Entry:
    return Entry(
        int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), r[8], int(r[9]), r[10]
    )


def rerun(entry_id: int) -> Rerun:
    """Run a logged entry again on its matter, as it was run then, and hash the result.

    The entry's display zone and system-event setting are used (not today's
    environment); a tag selection is read from the tags again.

    Raises:
        UsageError: no such entry, or one that records a change (``tag``, ``untag``).
    """
    e = entry(entry_id)
    if e.command not in RERUNNABLE:
        raise UsageError(
            f"audit entry {entry_id} records a {e.command}; there is nothing to re-run"
        )
    with open_matter(e.matter) as matter:
        zone = e.settings.get("display_zone")
        if zone:
            matter.tz = config.zone(str(zone))
        extra: dict[str, Any] = {}
        if e.command == "produce":
            # rebuilt in a temporary folder; every file's SHA-256 compared with the logged one
            from discovery.produce.production import rebuild

            rebuilt = rebuild(matter, e.query, e.settings)
            ids = set(rebuilt.ids)
            uses_tags = True  # withholding always reads the tags
            extra = {"files": rebuilt.files, "differences": [str(d) for d in rebuilt.differences]}
            if rebuilt.error:
                extra["error"] = rebuilt.error
        elif e.settings.get("selection") == "tag":
            ids = matter.store.ids_of_tags([str(e.settings.get("tag", ""))])
            uses_tags = True
        else:
            include_system = bool(e.settings.get("include_system", False))
            node, ids = Searcher(matter).match(e.query, include_system=include_system)
            uses_tags = _names_tags(node)
        if "context_hash" in e.settings and e.command != "produce":
            extra.update(_context_check(matter, ids, e.settings))
        return Rerun(
            e,
            len(ids),
            result_hash(ids),
            fingerprint(matter.store),
            tags_fingerprint(matter.store),
            uses_tags,
            extra,
        )


def _context_check(matter: Matter, ids: Iterable[int], logged: dict[str, Any]) -> dict[str, Any]:
    """The logged context (``--context``) worked out again for the hits: its windows' hash,
    and ``context`` among the differences when it is not the logged one."""
    from discovery.context import context_hash, parse_context, windows

    spec = parse_context(str(logged["context"]), max_messages=10**6)
    now = context_hash(windows(matter.store, sorted(ids), spec, matter.tz))
    return {
        "context_hash": now,
        "differences": [] if now == logged["context_hash"] else ["context"],
    }


def _names_tags(node: object) -> bool:
    """Whether a query tree has a ``tag:`` field anywhere."""
    if isinstance(node, Field):
        return node.name == "tag"
    if isinstance(node, tuple | list):
        return any(_names_tags(n) for n in node)
    slots = getattr(type(node), "__slots__", ())
    return any(_names_tags(getattr(node, name)) for name in slots)
