"""Ingest: run importers over sources, normalise, store, index, report.

Each source is stored in one transaction: a source that fails leaves nothing
behind. A source already imported for the same custodian (same SHA-256) adds
nothing. Messages already stored from another source (same dedup key) are not
added again; the new source and its custodian are recorded as holding them.
Within a source, new messages get control numbers in time order.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path

from discovery.custodians import CustodianMap
from discovery.errors import DiscoveryError, ImportProblem, UsageError
from discovery.importers.base import ImportContext, Importer, RawConversation, RawMessage
from discovery.importers.detect import IMPORTERS, Unit, iter_sources
from discovery.matter import Matter
from discovery.store import NewMessage, to_us

DEFAULT_CUSTODIAN = "unassigned"


@dataclass
class SourceReport:
    """What happened to one source."""

    path: str
    format: str = ""
    status: str = "imported"  # imported | already imported | failed | unrecognised
    added: int = 0
    duplicates: int = 0
    system: int = 0
    unthreaded: int = 0
    problems: list[ImportProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "status": self.status,
            "added": self.added,
            "duplicates": self.duplicates,
            "system": self.system,
            "unthreaded": self.unthreaded,
            "problems": [str(p) for p in self.problems],
        }


@dataclass
class IngestReport:
    sources: list[SourceReport] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)
    """Sources a ``--custodian-map`` did not place (they got ``--custodian`` or the default)."""

    @property
    def added(self) -> int:
        return sum(s.added for s in self.sources)

    @property
    def failed(self) -> bool:
        return any(s.status in ("failed", "unrecognised") for s in self.sources)


ProgressFn = Callable[[str, int, int | None], None]
"""progress(stage, advance, total): stage is a short label; total None when unknown.

Stages: ``sources`` (one per source done, total known), ``messages`` (messages
read so far, as a source is read; total unknown) and ``indexing``.
"""
MESSAGE_STEP = 200
"""Messages read between two ``messages`` progress calls."""


def sha256_of(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, or of a folder (over its files' paths and hashes)."""
    if path.is_file():
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest(), path.stat().st_size
    h = hashlib.sha256()
    size = 0
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        digest, n = sha256_of(p)
        h.update(f"{p.relative_to(path).as_posix()}\0{digest}\n".encode())
        size += n
    return h.hexdigest(), size


def ingest(
    matter: Matter,
    paths: Sequence[Path],
    *,
    custodian: str | None = None,
    fmt: str = "auto",
    tz: tzinfo = UTC,
    tz_name: str = "UTC",
    progress: ProgressFn | None = None,
    custodian_map: CustodianMap | None = None,
) -> IngestReport:
    """Import ``paths`` into ``matter`` and bring its index up to date.

    Zips that no importer reads whole are extracted into a temporary folder
    removed before returning (see :func:`discovery.importers.detect.iter_sources`).
    ``custodian_map`` places each source under a custodian by its path below
    the named path; sources it does not place get ``custodian``.
    """
    if fmt != "auto" and fmt not in IMPORTERS:
        known = ", ".join(["auto", *sorted(IMPORTERS)])
        raise UsageError(f"unknown format {fmt!r}: use one of {known}")
    for p in paths:
        if not p.exists():
            raise UsageError(f"no such file or folder: {p}")
    report = IngestReport()
    forced = None if fmt == "auto" else IMPORTERS[fmt]
    with tempfile.TemporaryDirectory(prefix="discovery-ingest-") as work:
        units = list(iter_sources(list(paths), forced, Path(work)))
        for unit in units:
            placed = None if custodian_map is None else custodian_map.custodian_for(unit.relative)
            if custodian_map is not None and placed is None and unit.importer is not None:
                report.unplaced.append(unit.shown)
            who = placed or custodian or DEFAULT_CUSTODIAN
            report.sources.append(_ingest_unit(matter, unit, who, tz, tz_name, progress))
            if progress is not None:
                progress("sources", 1, len(units))
    todo = matter.store.max_message_id() - matter.engine.indexed_through()
    if todo > 0:
        matter.catch_up(None if progress is None else lambda n: progress("indexing", n, todo))
    return report


def _ingest_unit(
    matter: Matter,
    unit: Unit,
    custodian: str,
    tz: tzinfo,
    tz_name: str,
    progress: ProgressFn | None = None,
) -> SourceReport:
    if unit.problem is not None:  # a refused or damaged archive, an unsafe member
        return SourceReport(unit.shown, status="failed", problems=[unit.problem])
    if unit.importer is None:
        return SourceReport(
            unit.shown,
            status="unrecognised",
            problems=[ImportProblem(unit.shown, "not a format discovery can read")],
        )
    return _ingest_source(
        matter, unit.path, unit.importer, custodian, tz, tz_name, unit.shown, progress
    )


def _ingest_source(
    matter: Matter,
    path: Path,
    importer: Importer,
    custodian: str,
    tz: tzinfo,
    tz_name: str,
    display: str | None = None,
    progress: ProgressFn | None = None,
) -> SourceReport:
    shown = str(path) if display is None else display
    rep = SourceReport(shown, importer.name)
    try:
        sha, size = sha256_of(path)
    except OSError as exc:
        rep.status = "failed"
        rep.problems.append(ImportProblem(shown, f"cannot read: {exc.strerror or exc}"))
        return rep
    store = matter.store
    if store.find_source(sha, custodian) is not None:
        rep.status = "already imported"
        return rep
    ctx = ImportContext(tz=tz, display_path=shown, sha256=sha)
    conversations: dict[str, RawConversation] = {}
    raws: list[RawMessage] = []
    try:
        for item in importer.read(path, ctx):
            if isinstance(item, RawMessage):
                raws.append(item)
                if progress is not None and len(raws) % MESSAGE_STEP == 0:
                    progress("messages", MESSAGE_STEP, None)
            elif isinstance(item, RawConversation):
                conversations[item.key] = item
            else:
                rep.problems.append(item)
    except DiscoveryError as exc:  # an importer giving up on the whole source
        rep.status = "failed"
        rep.problems.append(
            exc if isinstance(exc, ImportProblem) else ImportProblem(shown, str(exc))
        )
        return rep
    except Exception as exc:
        # An importer bug (of any kind: reading stores nothing yet) must not lose
        # the rest of the ingest; say what happened.
        rep.status = "failed"
        rep.problems.append(ImportProblem(shown, f"unreadable ({type(exc).__name__}: {exc})"))
        return rep
    if progress is not None and len(raws) % MESSAGE_STEP:
        progress("messages", len(raws) % MESSAGE_STEP, None)
    if not raws and rep.problems:
        # Nothing readable, only problems (no text layer, not the format it looked
        # like): the source failed; nothing is recorded, so a fixed copy imports later.
        rep.status = "failed"
        return rep

    store.begin()
    try:
        source_id = store.add_source(shown, sha, size, importer.name, custodian, tz_name)
        conv_ids: dict[str, int] = {}
        for key, conv in conversations.items():
            conv_ids[key] = store.upsert_conversation(
                conv.platform, key, conv.kind.value, conv.name, conv.participants
            )
        news: list[NewMessage] = []
        for raw in raws:
            if raw.conversation_key not in conv_ids:
                # The importer named a conversation it never described: keep the
                # message under a conversation of that key rather than drop it.
                conv_ids[raw.conversation_key] = store.upsert_conversation(
                    raw.platform, raw.conversation_key, "channel", raw.conversation_key
                )
            try:
                news.append(normalize(raw, conv_ids[raw.conversation_key], tz))
            except (ValueError, OverflowError) as exc:  # e.g. an offset beyond ±24 h
                at = f"{raw.location}: " if raw.location else ""
                rep.problems.append(ImportProblem(shown, f"{at}unusable time ({exc}); skipped"))
        news.sort(key=lambda m: m.sent_us)  # stable: import order breaks ties
        since = store.max_message_id()
        rep.added, rep.duplicates = store.add_messages(source_id, news)
        rep.system = sum(1 for m in news if m.system)
        rep.unthreaded = store.resolve_threads(since)
        store.set_source_report(source_id, rep.as_dict())
        store.commit()
    except BaseException:
        store.rollback()
        raise
    return rep


def normalize(raw: RawMessage, conversation_id: int, tz: tzinfo) -> NewMessage:
    """One raw message as it is stored: UTC time, recorded offset, dedup key."""
    sent = raw.sent_at
    if sent.tzinfo is None or sent.utcoffset() is None:
        sent = sent.replace(tzinfo=tz)
        offset = None
    else:
        delta = sent.utcoffset()
        offset = int(delta.total_seconds() // 60) if delta is not None else None
    sent_us = to_us(sent.astimezone(UTC))
    native_id = raw.native_id or raw.location
    key = "\x1f".join(
        (
            raw.platform,
            raw.conversation_key,
            native_id,
            raw.speaker_id,
            str(sent_us),
            raw.text,
            *raw.versions,
        )
    )
    extra: dict[str, object] = {}
    if raw.extra:  # what the format had beyond the model (Slack subtype, CSV columns)
        extra["fields"] = dict(raw.extra)
    if raw.reactions:
        extra["reactions"] = [[r.emoji, list(r.users)] for r in raw.reactions]
    if raw.attachments:
        extra["attachments"] = [
            {
                k: v
                for k, v in (
                    ("name", a.name),
                    ("size", a.size),
                    ("sha256", a.sha256),
                    ("url", a.url),
                )
                if v is not None
            }
            for a in raw.attachments
        ]
    return NewMessage(
        dedup=hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest(),
        native_id=native_id,
        conversation_id=conversation_id,
        thread_key=raw.thread_key if raw.thread_key and raw.thread_key != native_id else None,
        speaker_id=raw.speaker_id,
        speaker=raw.speaker,
        sent_us=sent_us,
        utc_offset=offset,
        text=raw.text,
        versions=raw.versions,
        edited=raw.edited or bool(raw.versions),
        deleted=raw.deleted,
        system=raw.system,
        extra=json.dumps(extra, ensure_ascii=False) if extra else None,
        location=raw.location,
    )


def reports_as_json(reports: Iterable[SourceReport]) -> str:
    return json.dumps([r.as_dict() for r in reports], ensure_ascii=False)
