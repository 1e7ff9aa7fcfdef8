"""A production: select, slice, withhold, number, write every file, write the manifest.

Folder layout (paths as the manifest and the load files give them)::

    NATIVES/ABC-000001.rsmf      one RSMF 2.0 file per document     (--format rsmf)
    PDF/ABC-000001.pdf           Bates-stamped transcript           (--format pdf)
    TEXT/ABC-000001.txt          the transcript as UTF-8 text       (--format text)
    IMAGES/ABC-000001.tif        one TIFF per PDF page              (--format images)
    DATA/ABC.dat                 Concordance DAT, one record per document
    DATA/ABC.opt                 Opticon image load file            (--format images)
    PRIVILEGE_LOG.csv, PRIVILEGE_LOG.xlsx
    production_manifest.json     every file above with its SHA-256

Files are named by the document's first Bates number. The folder must be new
or empty: a production never mixes with files of another. It is written into
a private sibling folder (``.NAME.incomplete-XXXX``), the manifest last, and
renamed to ``NAME`` only when complete: a production that fails or is
interrupted leaves nothing at ``NAME`` (its staging folder is removed; after
a ``kill -9`` one named ``incomplete`` may remain, never taken for it).

**Same input, same bytes.** Every date a file must carry (the PDF creation
date, zip member times, the RSMF's ``Date``, the XLSX properties) is the
production's *as-of date*: the time of the newest message in it. Nothing
reads the clock, and nothing depends on the output folder's path.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from discovery import config
from discovery.errors import DiscoveryError, UsageError
from discovery.exhibits import select as select_ids
from discovery.files import private_dir
from discovery.matter import Matter, View
from discovery.model import UNDATED_US
from discovery.produce import fonts, loadfiles, manifest, pdf, privlog, rsmf
from discovery.produce.bates import BatesCounter, BatesRange, bates, check_prefix
from discovery.produce.document import Document, build_documents, parse_withhold_metadata
from discovery.produce.files import ZIP_EPOCH, FileRecord, Folder
from discovery.produce.images import page_images
from discovery.produce.slices import build_slices, parse_slice
from discovery.produce.transcript import as_text, document_lines
from discovery.query.unparse import unparse
from discovery.search import parse_query, result_hash
from discovery.store import from_us, tag_key

FORMATS = ("rsmf", "pdf", "text", "images")
DEFAULT_WITHHOLD = ("privileged",)
PRIVILEGE_LOG = "PRIVILEGE_LOG"


def parse_formats(text: str) -> tuple[str, ...]:
    """``rsmf,pdf,text,images`` (any subset, any order) as a tuple in :data:`FORMATS` order."""
    asked = {p.strip().lower() for p in text.split(",") if p.strip()}
    bad = sorted(asked - set(FORMATS))
    if bad or not asked:
        raise UsageError(f"--format takes a comma list of {', '.join(FORMATS)}; not {text!r}")
    return tuple(f for f in FORMATS if f in asked)


@dataclass(frozen=True, slots=True)
class Options:
    """What decides a production's bytes besides the selection (recorded in the manifest)."""

    prefix: str
    start: int = 1
    slice: str = "day"
    tz: str = "UTC"
    formats: tuple[str, ...] = ("rsmf", "pdf", "text")
    withhold_tags: tuple[str, ...] = DEFAULT_WITHHOLD
    withhold_metadata: tuple[str, ...] = ("speaker", "time")
    confidentiality: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Options:
        tuples = {"formats", "withhold_tags", "withhold_metadata"}
        return cls(**{k: tuple(v) if k in tuples else v for k, v in d.items()})  # type: ignore[arg-type]

    def checked(self) -> Options:
        """The options (withhold tags as stored: any case is the same tag), or a
        :class:`UsageError` for the first bad one."""
        check_prefix(self.prefix)
        if self.start < 1:
            raise UsageError("--start must be 1 or more")
        parse_slice(self.slice)
        config.zone(self.tz)
        if not self.formats:
            raise UsageError("--format needs at least one of rsmf, pdf, text")
        if "images" in self.formats and "pdf" not in self.formats:
            raise UsageError("--format images needs pdf too (the images are of its pages)")
        for tag in self.withhold_tags:
            if not tag.strip():
                raise UsageError("--withhold-tag is empty")
        parse_withhold_metadata(",".join(self.withhold_metadata) or "none")
        return replace(self, withhold_tags=tuple(dict.fromkeys(map(tag_key, self.withhold_tags))))


@dataclass(frozen=True, slots=True)
class Selection:
    kind: str
    """``tag`` or ``query``."""
    text: str
    """The tag, or the query as typed."""
    canonical: str
    ids: frozenset[int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "canonical": self.canonical,
            "messages": len(self.ids),
            "result_hash": result_hash(self.ids),
        }


def select(
    matter: Matter, *, tag: str | None = None, query: str | None = None, view: View | None = None
) -> Selection:
    """The messages a tag or a query selects (as :func:`discovery.exhibits.select`)."""
    ids, as_query = select_ids(matter, tag=tag, query=query, view=view)
    if tag is not None:
        return Selection("tag", tag, as_query, frozenset(ids))
    assert query is not None
    return Selection("query", query, unparse(parse_query(query)), frozenset(ids))


@dataclass(frozen=True, slots=True)
class Production:
    out: Path
    first: str
    last: str
    documents: int
    pages: int
    produced: int
    withheld: int
    slip_sheets: int
    family: int
    files: tuple[FileRecord, ...]
    manifest: FileRecord
    missing_glyphs: frozenset[str] = field(default_factory=frozenset)

    @property
    def hashes(self) -> dict[str, str]:
        return {f.path: f.sha256 for f in (*self.files, self.manifest)}


Progress = Callable[[int, int], None]


def produce(
    matter: Matter,
    selection: Selection,
    options: Options,
    out: Path,
    progress: Progress | None = None,
) -> Production:
    """Write the production of ``selection`` into the new or empty folder ``out``."""
    options = options.checked()
    _check_folder(out)
    store = matter.store
    tz = config.zone(options.tz)
    slices = build_slices(store, selection.ids, parse_slice(options.slice), tz)
    if not slices:
        raise DiscoveryError("the selection holds no messages: nothing to produce")
    keep = parse_withhold_metadata(",".join(options.withhold_metadata) or "none")
    docs = build_documents(store, slices, withhold_tags=options.withhold_tags, keep=keep)
    every = sorted({i for s in slices for i in s.ids})
    dated = [from_us(r[2]) for r in store.summary_rows(every) if r[2] != UNDATED_US]
    asof = max([*dated, ZIP_EPOCH])
    staging = _staging(out)
    try:
        folder = Folder(staging)
        counter = BatesCounter(options.prefix, options.start)
        fontset = _fontset(docs, options, tz) if "pdf" in options.formats else None
        writer = _Writer(options, tz, counter, folder, asof, fontset)
        try:
            for n, doc in enumerate(docs, 1):
                writer.write(doc)
                if progress is not None:
                    progress(n, len(docs))
        finally:
            if fontset is not None:
                fontset.close()
        produced, places, missing = writer.produced, writer.places, writer.missing
        pages = sum(p.bates.count for p in produced) if fontset is not None else 0
        folder.write(
            f"DATA/{options.prefix}.dat", loadfiles.dat_bytes(produced, options.confidentiality)
        )
        if "images" in options.formats:
            folder.write(
                f"DATA/{options.prefix}.opt", loadfiles.opt_bytes(produced, options.prefix)
            )
        _write_privilege_log(matter, folder, places, options, tz, asof)
        produced_ids = {e.id for d in docs for e in d.entries if e.withheld is None}
        summary: dict[str, Any] = {
            "matter_fingerprint": _fingerprint(matter),
            "selection": selection.as_dict(),
            "options": options.as_dict(),
            "as_of": asof.astimezone(UTC).isoformat(),
            "counts": {
                "documents": len(docs),
                "bates_numbers": counter.next - options.start,
                "pages": pages,
                "messages_produced": len(produced_ids),
                "messages_withheld": len(places),
                "slip_sheets": sum(d.slip_sheet for d in docs),
                "thread_roots_added": len({i for s in slices for i in s.family}),
            },
            "first_bates": produced[0].bates.begin,
            "last_bates": produced[-1].bates.end,
        }
        files = tuple(folder.records)
        record = folder.write(manifest.MANIFEST_FILE, manifest.manifest_bytes(summary, files))
        _publish(staging, out)
    except BaseException:  # a failure, Ctrl-C: nothing half-written stays behind
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Production(
        out,
        produced[0].bates.begin,
        produced[-1].bates.end,
        len(docs),
        pages,
        len(produced_ids),
        len(places),
        summary["counts"]["slip_sheets"],
        summary["counts"]["thread_roots_added"],
        files,
        record,
        frozenset(missing),
    )


def _fontset(docs: Sequence[Document], options: Options, tz: Any) -> fonts.FontSet:
    """The fonts cut down to every character the production's PDFs draw."""
    chars: set[str] = set(options.confidentiality) | set("0123456789-")
    for doc in docs:
        chars.update(f"{doc.conversation.name} ({doc.conversation.platform})")
        for line in document_lines(doc, tz, "begins"):
            chars.update(line.text)
    return fonts.FontSet(chars)


def _check_folder(out: Path) -> None:
    """Refuse a folder holding anything (it is created with the first file)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} is not an empty folder: a production needs a new or empty one")


def _staging(out: Path) -> Path:
    """A new private folder beside ``out`` to write the production into.

    Its name says what it is (``.prod-001.incomplete-x1y2``): should the process
    be killed, what is left is never taken for the production.
    """
    try:
        parent = private_dir(out.parent)
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.incomplete-", dir=parent))
    except OSError as exc:
        raise DiscoveryError(f"cannot write {out}: {exc.strerror or exc}") from None


def _publish(staging: Path, out: Path) -> None:
    """Move the complete production (manifest written) into place, in one rename."""
    try:
        os.rename(staging, out)  # onto a missing or empty folder only
    except OSError as exc:
        raise DiscoveryError(
            f"cannot put the production in {out}: {exc.strerror or exc}"
            " (a new or empty folder is needed)"
        ) from None


def _fingerprint(matter: Matter) -> str:
    from discovery.audit import fingerprint

    return fingerprint(matter.store)


@dataclass
class _Writer:
    """Writes each document's files in turn, handing out Bates numbers as it goes."""

    options: Options
    tz: Any
    counter: BatesCounter
    folder: Folder
    asof: datetime
    fontset: fonts.FontSet | None
    produced: list[loadfiles.Produced] = field(default_factory=list)
    places: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    """Where each withheld message stands: (its page's or document's Bates, the document's)."""
    missing: set[str] = field(default_factory=set)

    def write(self, doc: Document) -> None:
        options, folder = self.options, self.folder
        paths: dict[str, str] = {}
        images: tuple[str, ...] = ()
        if self.fontset is not None:
            begin = self.counter.next
            rendered = pdf.render(
                document_lines(doc, self.tz, f"begins {bates(options.prefix, begin)}"),
                title=f"{doc.conversation.name} ({doc.conversation.platform})",
                page_number=lambda i: bates(options.prefix, begin + i),
                legend=options.confidentiality,
                created=self.asof,
                fontset=self.fontset,
            )
            rng = self.counter.take(rendered.pages)
            self.missing |= rendered.missing
            page_of = {mid: rng.page(page) for mid, page in rendered.anchors.items()}
            paths["pdf"] = folder.write(f"PDF/{rng.begin}.pdf", rendered.data).path
            if "images" in options.formats:
                images = tuple(
                    folder.write(f"IMAGES/{rng.page(i)}.tif", data).path
                    for i, data in enumerate(page_images(rendered.data))
                )
        else:
            rng = self.counter.take(1)
            page_of = {e.id: rng.begin for e in doc.entries}
        text = as_text(document_lines(doc, self.tz, _range_text(rng)), options.confidentiality)
        if "text" in options.formats:
            paths["text"] = folder.write(f"TEXT/{rng.begin}.txt", text.encode()).path
        if "rsmf" in options.formats:
            data = rsmf.rsmf_bytes(
                doc, bates=page_of, begin=rng.begin, end=rng.end, text=text, created=self.asof
            )
            paths["rsmf"] = folder.write(f"NATIVES/{rng.begin}.rsmf", data).path
        self.produced.append(
            loadfiles.Produced(
                doc,
                rng,
                text_path=paths.get("text", ""),
                native_path=paths.get("rsmf", ""),
                pdf_path=paths.get("pdf", ""),
                image_paths=images,
            )
        )
        for e in doc.withheld:
            self.places.setdefault(e.id, []).append((page_of.get(e.id, rng.begin), rng.begin))


def _range_text(rng: BatesRange) -> str:
    return rng.begin if rng.count == 1 else f"{rng.begin} - {rng.end}"


def _write_privilege_log(
    matter: Matter,
    folder: Folder,
    places: Mapping[int, list[tuple[str, str]]],
    options: Options,
    tz: Any,
    asof: datetime,
) -> None:
    store = matter.store
    ids = sorted(places)
    messages = store.messages(ids)
    participants = {
        cid: tuple(p.name for p in store.conversation(cid).participants)
        for cid in sorted({m.conversation_id for m in messages})
    }
    rows = privlog.build_rows(
        messages, places, participants, options.withhold_tags, store.privilege_descriptions(ids)
    )
    folder.write(f"{PRIVILEGE_LOG}.csv", privlog.csv_bytes(rows, tz))
    folder.write(f"{PRIVILEGE_LOG}.xlsx", privlog.xlsx_bytes(rows, tz, asof))


# --- the audit log -----------------------------------------------------------
def audit_settings(
    production: Production, selection: Selection, options: Options
) -> dict[str, Any]:
    """What the audit entry of a production records, so ``audit --rerun`` can rebuild it."""
    extra: dict[str, Any] = {
        "out": str(production.out),
        "production": options.as_dict(),
        "manifest_sha256": production.manifest.sha256,
        "files": production.hashes,
    }
    if selection.kind == "tag":
        extra.update(selection="tag", tag=selection.text)
    return extra


@dataclass(frozen=True, slots=True)
class Rebuilt:
    ids: frozenset[int]
    differences: tuple[manifest.Difference, ...]
    files: int
    error: str = ""
    """Why the production could not be rebuilt (empty when it was)."""


def rebuild(matter: Matter, query: str, settings: Mapping[str, Any]) -> Rebuilt:
    """Rebuild a logged production in a temporary folder and compare every file's hash."""
    options = Options.from_dict(settings["production"])
    if settings.get("selection") == "tag":
        selection = select(matter, tag=str(settings.get("tag", "")))
    else:
        selection = select(matter, query=query)
    logged: dict[str, str] = dict(settings.get("files", {}))
    error = ""
    with tempfile.TemporaryDirectory(prefix="discovery-rerun-") as tmp:
        try:
            again = produce(matter, selection, options, Path(tmp) / "production").hashes
        except DiscoveryError as exc:  # every logged file then differs; say why
            again, error = {}, str(exc)
    return Rebuilt(selection.ids, tuple(manifest.compare(logged, again)), len(logged), error)
