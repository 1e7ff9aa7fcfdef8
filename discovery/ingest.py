"""Ingest: run importers over sources, normalise, store, index, report.

Sources are streamed: a source is read and normalised in batches, each staged
in a scratch database in the matter's private work folder as it comes
(:meth:`Store.staging`), so memory is bounded by a batch whatever the size of
the source. A large source whose importer can read it in parts (a Slack
export's day files) is read by worker processes, the batches coming back in
the source's order (:mod:`discovery.workers`). The staged source is then
stored in one transaction: a source that fails, or an ingest killed before
that commit, leaves nothing of it behind (the next ingest starts it again).
A source already imported for the same custodian (same SHA-256) adds
nothing. Messages already stored from another source (same dedup key) are not
added again; the new source and its custodian are recorded as holding them.
Within a source, new messages get control numbers in time order, ties in the
source's order (:meth:`Staging.store`, the one place ids are handed out).

Faults stay where they happen:

* a message that cannot be stored as read is repaired without loss where it
  can be (:mod:`discovery.repair`) or skipped, and reported either way with
  its path and location (:func:`_stored_message`, the one place for this);
* an exception while storing one source fails that source (reported, rolled
  back) and the ingest goes on with the next; only what no other source could
  get past either (a full disk, an unusable case store) stops the run;
* every source's report is kept in the case store (``discovery report``),
  failed ones too, and the caller's :class:`IngestReport` is filled as the
  run goes, so it can be printed however the run ends.

Only one ingest writes a matter at a time (:meth:`Matter.writing`); it is
also the only writer of the index.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

from discovery import family_store
from discovery.custodians import CustodianMap
from discovery.errors import (
    DiscoveryError,
    DiskFullError,
    DuplicateKeyError,
    ImportProblem,
    StoreError,
    UsageError,
)
from discovery.families import FamilyStats, family_rows, options_for
from discovery.importers.base import (
    DATE_ORDERS,
    ImportContext,
    Importer,
    ImportItem,
    RawConversation,
    RawMessage,
    SourceFact,
)
from discovery.importers.detect import IMPORTERS, Unit, iter_sources
from discovery.matter import Matter, Writer
from discovery.model import UNDATED, UNKNOWN_SENDER
from discovery.repair import describe, fix_path, repair
from discovery.store import NewMessage, Staging, staging_file, to_us
from discovery.workers import Workers, jobs, tuned

DEFAULT_CUSTODIAN = "unassigned"
FAILED = ("failed", "unrecognised")
UNDATED_US = to_us(UNDATED)

BATCH = 10_000
"""Messages read and staged at a time (``DISCOVERY_BATCH``) when a source is read here."""
PART_BYTES = 4 << 20
"""About how many bytes of a source one worker reads at a time (``DISCOVERY_PART_BYTES``)."""
PARALLEL_PARTS = 4
"""A source is read by worker processes when it has at least this many parts."""
STAGING_FILE = "staging.sqlite"
"""The scratch database of the source being stored, in the ingest's work folder."""
SPACE = 5
"""Bytes of disk a source needs per byte of it, about: staged, then stored as rows and
indexes, twice over for the write-ahead log."""


@dataclass
class SourceReport:
    """What happened to one source (also what ``discovery report`` shows of it).

    Add a field here and to :meth:`as_dict` to report something new; stored
    reports are read back as dicts, so older ones simply lack the key.
    """

    path: str
    format: str = ""
    status: str = "imported"  # imported | already imported | failed | unrecognised
    added: int = 0
    duplicates: int = 0
    system: int = 0
    unthreaded: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    custodian: str = ""
    custodian_defaulted: bool = False  # no --custodian and no map entry: "unassigned"
    zone: str = ""
    zone_defaulted: bool = False  # no --tz given: UTC
    date_order: str = ""  # how ambiguous numeric dates were read, and why ('' if none)
    undated: int = 0  # messages stored without a time (they sort last)
    unknown_sender: int = 0  # messages stored as "(unknown sender)"
    dated_by: dict[str, int] = field(default_factory=dict)  # fallback -> messages dated by it
    recorded_problems: int = 0
    """For an already imported source: the problems recorded when it was imported."""
    family: FamilyStats = field(default_factory=FamilyStats)
    """Its attachments: held, not held, family members extracted, with problems, OCR'd."""
    attachments: int = 0
    """Family members stored (attachments and files nested in them)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "status": self.status,
            "added": self.added,
            "duplicates": self.duplicates,
            "system": self.system,
            "unthreaded": self.unthreaded,
            "custodian": self.custodian,
            "custodian_defaulted": self.custodian_defaulted,
            "zone": self.zone,
            "zone_defaulted": self.zone_defaulted,
            "date_order": self.date_order,
            "undated": self.undated,
            "unknown_sender": self.unknown_sender,
            "dated_by": dict(self.dated_by),
            "attachments": self.attachments,
            "attachments_not_held": self.family.not_held,
            "attachments_with_problems": self.family.with_problems,
            "attachments_ocr": self.family.ocr,
            "ocr_missing": self.family.ocr_missing,
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
        return any(s.status in FAILED for s in self.sources)

    @property
    def ocr_missing(self) -> tuple[str, int]:
        """OCR was needed and is not installed: the message (with the install command) and
        how many attachments hold text left unread, said once for the whole ingest."""
        message = next((s.family.ocr_missing for s in self.sources if s.family.ocr_missing), "")
        return message, sum(s.family.ocr_missing_count for s in self.sources)


ProgressFn = Callable[[str, int, int | None], None]
"""progress(stage, advance, total): stage is a short label; total None when unknown.

Stages: ``sources`` (one per source done, total known), ``messages`` (messages
read so far, as a source is read; total unknown) and ``indexing``.
"""


def sha256_of(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, or of a folder (over its regular files' paths and hashes).

    Inside a folder only regular files count (links are resolved: a folder
    handed over by :func:`~discovery.importers.detect.iter_sources` holds
    no link that leaves the collection); pipes and devices are never read.
    """
    if not path.is_dir():
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest(), path.stat().st_size
    h = hashlib.sha256()
    size = 0
    files = []
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            p = Path(dirpath) / name
            try:
                if stat.S_ISREG(p.stat().st_mode):
                    files.append(p)
            except OSError:
                continue
    for p in sorted(files):
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
    tz_defaulted: bool = False,
    date_order: str | None = None,
    report: IngestReport | None = None,
    wait: bool = False,
    on_wait: Callable[[Writer | None], None] | None = None,
    ocr: str = "auto",
    ocr_lang: str = "eng",
    stage: Stager | None = None,
) -> IngestReport:
    """Import ``paths`` into ``matter`` and bring its index up to date.

    Zips that no importer reads whole are extracted into the matter's private
    work folder, removed before returning however the run ends (see
    :meth:`Matter.workspace`). ``custodian_map`` places each source under a
    custodian by its path below the named path; sources it does not place get
    ``custodian``. ``tz_defaulted`` says the zone is the default, not the
    user's choice (the report says so); ``date_order`` (``DMY``/``MDY``/``YMD``)
    overrides how importers read ambiguous numeric dates. ``report``, when
    given, is filled source by source, so a caller can show it also when the
    run stops (interrupted, disk full). ``stage``, when given, reads and stages
    the sources elsewhere (a cluster's workers, :mod:`discovery.shards`), all
    at once; they are still stored here one by one in their order, so their
    ids are the ones this process would give them.

    Raises:
        MatterBusyError: another ingest is writing the matter and ``wait`` is False.
        DiskFullError, StoreError: the case store or index cannot be written
            (what was committed before stays; the report so far is in ``report``).
    """
    if fmt != "auto" and fmt not in IMPORTERS:
        choices = ", ".join(["auto", *sorted(IMPORTERS)])
        raise UsageError(f"unknown format {fmt!r}: use one of {choices}")
    if date_order is not None and date_order.upper() not in DATE_ORDERS:
        raise UsageError(f"unknown date order {date_order!r}: use one of {', '.join(DATE_ORDERS)}")
    order = None if date_order is None else date_order.upper()
    options_for(ocr, ocr_lang)  # a malformed --ocr or --ocr-lang is refused before anything
    for p in paths:
        if not p.exists() and not p.is_symlink():
            raise UsageError(f"no such file or folder: {fix_path(str(p))}")
    report = IngestReport() if report is None else report
    forced = None if fmt == "auto" else IMPORTERS[fmt]
    with matter.writing(wait=wait, on_wait=on_wait):
        matter.store.number_keys()  # a store made before the numbers: once
        _catch_up(matter, progress)  # what an earlier ingest stored but did not index
        with matter.workspace() as work:
            units = []
            for unit in iter_sources(list(paths), forced, work):
                placed = (
                    None if custodian_map is None else custodian_map.custodian_for(unit.relative)
                )
                if custodian_map is not None and placed is None and unit.importer is not None:
                    report.unplaced.append(unit.shown)
                units.append((unit, placed or custodian or DEFAULT_CUSTODIAN))
            readable = [u.problem is None and u.importer is not None for u, _ in units]
            known = {who: matter.store.source_hashes(who) for _, who in units if stage}
            jobs_ = [
                SourceJob(
                    u.path,
                    u.importer.name,
                    who,
                    tz,
                    tz_name,
                    fix_path(u.shown),
                    order,
                    known[who],
                    (ocr, ocr_lang),
                )
                for (u, who), ok in zip(units, readable, strict=True)
                if stage is not None and ok and u.importer is not None
            ]
            with closing(_nothing() if stage is None else stage(jobs_, work)) as ahead:
                for (unit, who), ok in zip(units, readable, strict=True):
                    _ingest_unit(
                        matter,
                        unit,
                        who,
                        tz,
                        tz_name,
                        report,
                        order,
                        tz_defaulted,
                        progress,
                        work,
                        next(ahead) if ok and stage is not None else None,
                        (ocr, ocr_lang),
                    )
                    if progress is not None:
                        progress("sources", 1, len(units))
        _catch_up(matter, progress)
    return report


def _nothing() -> Iterator[Callable[[], Staged]]:
    yield from ()


def _catch_up(matter: Matter, progress: ProgressFn | None) -> None:
    todo = matter.store.max_message_id() - matter.engine.indexed_through()
    if todo > 0:
        matter.catch_up(None if progress is None else lambda n: progress("indexing", n, todo))


def _note_defaults(rep: SourceReport, custodian: str, zone: str, zone_defaulted: bool) -> None:
    """The custodian and zone a source was read with, and whether each was defaulted."""
    rep.custodian, rep.custodian_defaulted = custodian, custodian == DEFAULT_CUSTODIAN
    rep.zone, rep.zone_defaulted = zone, zone_defaulted


def _ingest_unit(
    matter: Matter,
    unit: Unit,
    custodian: str,
    tz: tzinfo,
    tz_name: str,
    report: IngestReport,
    order: str | None,
    tz_defaulted: bool = False,
    progress: ProgressFn | None = None,
    work: Path | None = None,
    ahead: Callable[[], Staged] | None = None,
    ocr: tuple[str, str] = ("auto", "eng"),
) -> None:
    """Import one unit and add its report; a failure is recorded in the store, nothing else.

    ``ahead`` waits for the unit read and staged elsewhere (:data:`Stager`)."""
    shown = fix_path(unit.shown)
    stop: DiscoveryError | None = None
    if unit.problem is not None:  # a refused or damaged archive, an unsafe member, a link
        rep = SourceReport(shown, status="failed", problems=[_shown(unit.problem, shown)])
    elif unit.importer is None:
        problem = ImportProblem(shown, "not a format discovery can read")
        rep = SourceReport(shown, status="unrecognised", problems=[problem])
    else:
        try:
            rep = _ingest_source(
                matter,
                unit.path,
                unit.importer,
                custodian,
                tz,
                tz_name,
                shown,
                order,
                tz_defaulted,
                progress,
                work,
                ahead,
                ocr,
            )
        except (DiskFullError, StoreError) as exc:
            # No other source would get past it either: the run stops, and says where.
            stop = exc
            problem = ImportProblem(shown, f"not imported: {exc}")
            rep = SourceReport(shown, unit.importer.name, "failed", problems=[problem])
        except DuplicateKeyError as exc:  # rolled back; the others go on
            problem = ImportProblem(shown, f"not imported: {exc}")
            rep = SourceReport(shown, unit.importer.name, "failed", problems=[problem])
        except Exception as exc:
            # A fault while storing this source (rolled back) must not reach the others.
            problem = ImportProblem(
                shown, f"could not be stored ({type(exc).__name__}); nothing of it was imported"
            )
            rep = SourceReport(shown, unit.importer.name, "failed", problems=[problem])
    _note_defaults(rep, custodian, rep.zone or tz_name, tz_defaulted)
    report.sources.append(rep)
    if stop is not None:
        raise stop
    if rep.status in FAILED:
        matter.store.record_failure(shown, custodian, rep.as_dict())


def _shown(problem: ImportProblem, shown: str) -> ImportProblem:
    """``problem`` with its path as recorded (file names that are not UTF-8 made readable)."""
    path = fix_path(problem.path)
    if path == problem.path:
        return problem
    return ImportProblem(path, fix_path(problem.reason), problem.line)


def _ingest_source(
    matter: Matter,
    path: Path,
    importer: Importer,
    custodian: str,
    tz: tzinfo,
    tz_name: str,
    display: str | None = None,
    order: str | None = None,
    tz_defaulted: bool = False,
    progress: ProgressFn | None = None,
    work: Path | None = None,
    ahead: Callable[[], Staged] | None = None,
    ocr: tuple[str, str] = ("auto", "eng"),
) -> SourceReport:
    shown = str(path) if display is None else display
    store = matter.store
    got = None if ahead is None else ahead()
    if got is not None:
        rep, sha, size = got.rep, got.sha, got.size
        _note_defaults(rep, custodian, tz_name, tz_defaulted)
        if rep.status in FAILED and not (sha and store.find_source(sha, custodian)):
            return rep
    else:
        rep = SourceReport(shown, importer.name)
        _note_defaults(rep, custodian, tz_name, tz_defaulted)  # before the report is stored
        try:
            sha, size = sha256_of(path)
        except OSError as exc:
            rep.status = "failed"
            rep.problems.append(ImportProblem(shown, f"cannot read: {exc.strerror or exc}"))
            return rep
    known = store.find_source(sha, custodian)
    if known is not None:
        if got is not None:  # as reported without reading it (the worker may have)
            rep = SourceReport(shown, importer.name)
            _note_defaults(rep, custodian, tz_name, tz_defaulted)
        rep.status = "already imported"
        rep.recorded_problems = len(store.source_report(known).get("problems", []))
        if got is not None:
            got.staging.unlink(missing_ok=True)
        return rep
    if got is not None and got.source is not None:  # read and staged by a worker
        with store.staging(got.staging, needed=SPACE * size, filled=True) as staged:
            _store_source(matter, rep, sha, size, got.source, staged)
        if progress is not None and got.source.read:
            progress("messages", got.source.read, None)
        return rep
    ctx = ImportContext(
        tz=tz, display_path=shown, sha256=sha, date_order=order, ocr=ocr[0], ocr_lang=ocr[1]
    )
    staging = (matter.path if work is None else work) / STAGING_FILE
    with store.staging(staging, needed=SPACE * size) as staged:
        source = _read_source(importer, path, ctx, size, staged, rep, progress)
        if source is not None:
            _store_source(matter, rep, sha, size, source, staged)
    return rep


def _read_source(
    importer: Importer,
    path: Path,
    ctx: ImportContext,
    size: int,
    staged: Staging,
    rep: SourceReport,
    progress: ProgressFn | None = None,
) -> _Source | None:
    """Read a source batch by batch into ``staged``; None when it failed (``rep`` says why)."""
    source = _Source()
    with closing(_batches(importer, path, ctx, size)) as batches:
        for batch in batches:
            if batch.rows:
                staged.add(batch.rows)
            staged.add_members(batch.members)
            rep.family.add(batch.family)
            source.take(batch, rep)
            if progress is not None and batch.read:
                progress("messages", batch.read, None)
            if batch.failure is not None:  # the importer gave up on the whole source
                rep.status = "failed"
                rep.problems.append(batch.failure)
                return None
    if not source.read and rep.problems:
        # Nothing readable, only problems (no text layer, not the format it looked
        # like): the source failed; only its report is kept, so a fixed copy imports later.
        rep.status = "failed"
        return None
    staged.finish()
    return source


@dataclass(frozen=True)
class SourceJob:
    """What reading and staging one source elsewhere takes (plain data, pickled)."""

    path: Path
    importer: str
    custodian: str
    tz: tzinfo
    tz_name: str
    shown: str
    order: str | None
    known: frozenset[str] = frozenset()
    """The SHA-256 of the sources already imported for ``custodian`` (not read again)."""
    ocr: tuple[str, str] = ("auto", "eng")
    """``--ocr`` and ``--ocr-lang`` for its attachments."""


@dataclass
class Staged:
    """A source read and staged by :func:`stage_source`, ready to be stored here."""

    rep: SourceReport
    sha: str
    size: int
    staging: Path
    source: _Source | None
    """None: nothing is staged (the source failed, ``rep`` says why, or was imported
    already; else it is read here after all)."""


Stager = Callable[[list[SourceJob], Path], Iterator[Callable[[], Staged]]]
"""Reads and stages every job elsewhere (the work folder given), into files of that
folder; yields, in the jobs' order, a call that waits for each one's
:class:`Staged` (raising what staging it raised)."""


def stage_source(job: SourceJob, staging: Path) -> Staged:
    """Read and stage one source into the file ``staging`` (in a worker of a sharded
    ingest): what :func:`_ingest_source` does before storing."""
    rep = SourceReport(job.shown, job.importer)
    try:
        sha, size = sha256_of(job.path)
    except OSError as exc:
        rep.status = "failed"
        rep.problems.append(ImportProblem(job.shown, f"cannot read: {exc.strerror or exc}"))
        return Staged(rep, "", 0, staging, None)
    if sha in job.known:  # already imported: the coordinator says so
        return Staged(rep, sha, size, staging, None)
    ctx = ImportContext(
        tz=job.tz,
        display_path=job.shown,
        sha256=sha,
        date_order=job.order,
        ocr=job.ocr[0],
        ocr_lang=job.ocr[1],
    )
    with staging_file(staging, needed=SPACE * size) as staged:
        source = _read_source(IMPORTERS[job.importer], job.path, ctx, size, staged, rep)
    if source is None:
        staging.unlink(missing_ok=True)
    return Staged(rep, sha, size, staging, source)


@dataclass
class Batch:
    """What reading (part of) a source gave, in the source's order, ready to be staged.

    Made by :func:`read_batches`, in this process or in a worker (so it is
    plain data, pickled back).
    """

    rows: list[tuple[object, ...]] = field(default_factory=list)
    """The messages as staged (:meth:`NewMessage.row`)."""
    conversations: list[RawConversation] = field(default_factory=list)
    refs: dict[str, str] = field(default_factory=dict)
    """Conversation key -> platform, of the messages read, first seen first."""
    problems: list[ImportProblem] = field(default_factory=list)
    """The importer's."""
    repairs: list[ImportProblem] = field(default_factory=list)
    """Messages repaired or skipped (:func:`_stored_message`)."""
    date_orders: list[str] = field(default_factory=list)
    read: int = 0
    """Messages read, stored or not."""
    system: int = 0
    undated: int = 0
    unknown_sender: int = 0
    dated_by: dict[str, int] = field(default_factory=dict)
    failure: ImportProblem | None = None
    """The importer gave up on the whole source here (nothing after it was read)."""
    members: list[tuple[object, ...]] = field(default_factory=list)
    """Family members of the messages read (:func:`discovery.families.family_rows`)."""
    family: FamilyStats = field(default_factory=FamilyStats)


@dataclass
class _Source:
    """The batches of one source taken so far (what is not staged)."""

    conversations: dict[str, RawConversation] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    repairs: list[ImportProblem] = field(default_factory=list)
    read: int = 0
    system: int = 0
    undated: int = 0
    unknown_sender: int = 0
    dated_by: dict[str, int] = field(default_factory=dict)

    def take(self, batch: Batch, rep: SourceReport) -> None:
        for conv in batch.conversations:
            self.conversations[conv.key] = conv
        for key, platform in batch.refs.items():
            self.refs.setdefault(key, platform)
        rep.problems.extend(batch.problems)
        if batch.date_orders:
            rep.date_order = "; ".join(x for x in (rep.date_order, *batch.date_orders) if x)
        self.repairs.extend(batch.repairs)
        self.read += batch.read
        self.system += batch.system
        self.undated += batch.undated
        self.unknown_sender += batch.unknown_sender
        for how, n in batch.dated_by.items():
            self.dated_by[how] = self.dated_by.get(how, 0) + n


def _batches(importer: Importer, path: Path, ctx: ImportContext, size: int) -> Iterator[Batch]:
    """The source in batches, in its order: from worker processes when it is large and
    its importer reads it in parts, else read here."""
    workers = jobs()
    part_bytes = tuned("PART_BYTES", PART_BYTES)
    split = getattr(importer, "parts", None)
    if workers > 1 and split is not None and size >= PARALLEL_PARTS * part_bytes:
        parts = split(path, ctx, part_bytes)
        if parts is not None and len(parts) >= PARALLEL_PARTS:
            tasks = ((importer.name, path, ctx, part) for part in parts)
            with Workers(min(workers, len(parts))) as pool:
                yield from pool.ordered(read_part, tasks)
            return
    yield from read_batches(importer.read(path, ctx), ctx, tuned("BATCH", BATCH))


def read_part(name: str, path: Path, ctx: ImportContext, part: object) -> Batch:
    """One part of a source (in a worker process): all of it as one batch."""
    importer = IMPORTERS[name]
    (batch,) = read_batches(importer.read_part(path, ctx, part), ctx, None)  # type: ignore[attr-defined]
    return batch


def read_batches(
    items: Iterable[ImportItem], ctx: ImportContext, size: int | None
) -> Iterator[Batch]:
    """What an importer yields, normalised, in batches of ``size`` messages read (None: one).

    Only the importer's own faults while reading end the batches early (as the
    last batch's :attr:`Batch.failure`); anything else raised is a fault of
    storing the source.
    """
    shown = ctx.display_path
    batch = Batch()
    it = iter(items)
    while True:
        try:
            item = next(it)
        except StopIteration:
            break
        except DiscoveryError as exc:  # an importer giving up on the whole source
            problem = exc if isinstance(exc, ImportProblem) else ImportProblem(shown, str(exc))
            batch.failure = _shown(problem, shown)
            break
        except Exception as exc:
            # An importer bug (of any kind: reading stores nothing yet) must not lose
            # the rest of the ingest; say what happened (never the message text).
            batch.failure = ImportProblem(shown, f"unreadable ({type(exc).__name__})")
            break
        if isinstance(item, RawMessage):
            batch.read += 1
            if item.dated_by and item.sent_at is not None:
                batch.dated_by[item.dated_by] = batch.dated_by.get(item.dated_by, 0) + 1
            m = _stored_message(item, ctx.tz, shown, batch)
            if m is not None:
                batch.rows.append(m.row())
                if item.attachments:
                    at = f"{shown}!{item.location}" if item.location else shown
                    batch.members += family_rows(
                        item.attachments,
                        m.dedup,
                        item.location,
                        (ctx.ocr, ctx.ocr_lang),
                        at,
                        batch.family,
                        batch.problems,
                    )
                batch.system += m.system
                batch.undated += m.sent_us == UNDATED_US
                batch.unknown_sender += m.speaker == UNKNOWN_SENDER
            if size is not None and batch.read >= size:
                yield batch
                batch = Batch()
        elif isinstance(item, RawConversation):
            batch.conversations.append(item)
        elif isinstance(item, SourceFact):
            if item.name == "date_order":
                batch.date_orders.append(item.value)
        else:
            batch.problems.append(_shown(item, shown))
    yield batch


def _store_source(
    matter: Matter, rep: SourceReport, sha: str, size: int, source: _Source, staged: Staging
) -> None:
    """Store one staged source with its conversations in one transaction (the one place)."""
    store = matter.store
    with store.transaction(needed=SPACE * size):
        source_id = store.add_source(rep.path, sha, size, rep.format, rep.custodian, rep.zone)
        conv_ids: dict[str, int] = {}
        for key, conv in source.conversations.items():
            fixed, originals = repair(conv)
            if originals:
                rep.problems.append(
                    ImportProblem(
                        rep.path, f"conversation {fixed.key}: {describe(originals, kept=False)}"
                    )
                )
            conv_ids[key] = store.upsert_conversation(
                fixed.platform, fixed.key, fixed.kind.value, fixed.name, fixed.participants
            )
        for key, platform in source.refs.items():
            if key not in conv_ids:
                # The importer named a conversation it never described: keep the
                # messages under a conversation of that key rather than drop them.
                conv_ids[key] = store.upsert_conversation(platform, key, "channel", key)
        rep.problems.extend(source.repairs)
        since = store.max_message_id()
        # The keys the messages name (repaired, so the store can take them).
        named = {key: conv_ids[key] for key in source.refs}
        rep.added, rep.duplicates = staged.store(source_id, named)
        rep.attachments = family_store.store(store.db, source_id)
        rep.system, rep.undated = source.system, source.undated
        rep.unknown_sender, rep.dated_by = source.unknown_sender, dict(source.dated_by)
        rep.unthreaded = store.resolve_threads(since)
        store.clear_failure(rep.path, rep.custodian)
        store.set_source_report(source_id, rep.as_dict())


def _stored_message(raw: RawMessage, tz: tzinfo, shown: str, batch: Batch) -> NewMessage | None:
    """One raw message as stored, repaired if need be, or None (skipped); reported either way
    (in ``batch``, which also notes the conversation it names)."""
    at = f"{fix_path(raw.location)}: " if raw.location else ""
    fixed, originals = repair(raw)
    if originals:
        batch.repairs.append(ImportProblem(shown, at + describe(originals)))
    batch.refs.setdefault(fixed.conversation_key, fixed.platform)
    try:
        try:
            return normalize(raw, tz, repaired=(fixed, originals))
        except (ValueError, OverflowError) as exc:  # e.g. year 1 at +01:00 has no UTC time
            batch.repairs.append(ImportProblem(shown, f"{at}unusable time ({exc}); kept undated"))
            as_read = {"time_as_read": str(fixed.sent_at)}
            fixed = replace(fixed, sent_at=None, extra={**fixed.extra, **as_read})
            return normalize(replace(raw, sent_at=None), tz, repaired=(fixed, originals))
    except (TypeError, AttributeError) as exc:  # an importer handing over a wrong value
        batch.repairs.append(
            ImportProblem(shown, f"{at}unusable message ({type(exc).__name__}); skipped")
        )
    return None


def normalize(
    raw: RawMessage,
    tz: tzinfo,
    *,
    repaired: tuple[RawMessage, dict[str, Any]] | None = None,
) -> NewMessage:
    """One raw message as it is stored: UTC time, recorded offset, dedup key.

    ``raw`` is the message as read; ``repaired`` is :func:`discovery.repair.repair`
    of it (computed here when not given). What is stored and searched comes from
    the repaired copy; the dedup key from the message as read, so two messages
    that differ only in a repaired character stay two; the original fields go
    into the raw record (``extra["original"]``).

    A message without a time is stored at :data:`~discovery.model.UNDATED`
    (it sorts last, date filters leave it out); a non-system message without a
    sender gets the speaker ``(unknown sender)``. Neither is ever dropped.
    """
    source = raw
    raw, originals = repair(raw) if repaired is None else repaired
    sent = raw.sent_at
    speaker = raw.speaker or ("" if raw.system or raw.speaker_id else UNKNOWN_SENDER)
    if sent is None:
        sent = UNDATED
        offset = None
    elif sent.tzinfo is None or sent.utcoffset() is None:
        sent = sent.replace(tzinfo=tz)
        offset = None
    else:
        delta = sent.utcoffset()
        offset = int(delta.total_seconds() // 60) if delta is not None else None
    sent_us = to_us(sent.astimezone(UTC))
    native_id = raw.native_id or raw.location
    key = "\x1f".join(
        (
            source.platform,
            source.conversation_key,
            source.native_id or source.location,
            source.speaker_id,
            str(sent_us),
            source.text,
            *source.versions,
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
    if originals:  # the fields as read, lone surrogates written as JSON escapes
        extra["original"] = originals
    return NewMessage(
        dedup=hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest(),
        native_id=native_id,
        conversation=raw.conversation_key,
        platform=raw.platform,
        thread_key=raw.thread_key if raw.thread_key and raw.thread_key != native_id else None,
        speaker_id=raw.speaker_id,
        speaker=speaker,
        sent_us=sent_us,
        utc_offset=offset,
        text=raw.text,
        versions=raw.versions,
        edited=raw.edited or bool(raw.versions),
        deleted=raw.deleted,
        system=raw.system,
        extra=json.dumps(extra, ensure_ascii=bool(originals)) if extra else None,
        location=raw.location,
    )


def reports_as_json(reports: Iterable[SourceReport]) -> str:
    return json.dumps([r.as_dict() for r in reports], ensure_ascii=False)
