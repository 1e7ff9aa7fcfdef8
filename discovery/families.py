"""Families: a message and the attachments whose bytes its source holds.

Importers hand over an attachment's bytes as a :class:`Held` locator on a
:class:`HeldAttachment` (the bytes are read only when extracted, in the
process reading the source, never kept for a whole export). The ingest calls
:func:`members_of` for each message it reads: every held attachment is
extracted (:mod:`discovery.extract`), and the attachment and every file
nested in it (zip members, attachments of attached mails) becomes a *family
member*, a :class:`Member`, numbered depth-first in the source's attachment
order (``A001``, ``A002``, ...). :mod:`discovery.family_store` stages and
stores them as messages of kind ``attachment`` after the source's messages.

Nothing here raises for bad attachment bytes: an unreadable, corrupt,
encrypted, oversized or unsupported attachment is still a member (its name,
size and hash when known) with its problems, and its parent imports.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from discovery.errors import ImportProblem
from discovery.extract import Extraction, Kind, Options, Problem, ProblemCode, extract
from discovery.model import Attachment


@dataclass(frozen=True, slots=True)
class Held:
    """Where an attachment's bytes are: a file, a zip member, or the bytes themselves.

    Plain data (pickled to and from worker processes with the message).
    """

    path: str = ""
    member: str | None = None
    data: bytes | None = field(default=None, repr=False)

    def size(self) -> int | None:
        """The size of the bytes without reading them (None: unknown)."""
        try:
            if self.data is not None:
                return len(self.data)
            if self.member is None:
                return Path(self.path).stat().st_size
            with zipfile.ZipFile(self.path) as zf:
                return zf.getinfo(self.member).file_size
        except (OSError, KeyError, zipfile.BadZipFile):
            return None

    def read(self) -> bytes:
        """The bytes (raises OSError, KeyError or zipfile errors when they cannot be read)."""
        if self.data is not None:
            return self.data
        if self.member is None:
            return Path(self.path).read_bytes()
        with zipfile.ZipFile(self.path) as zf:
            return zf.read(self.member)


@dataclass(frozen=True, slots=True)
class HeldAttachment(Attachment):
    """An attachment as an importer reads it, with where its bytes are."""

    held: Held | None = field(default=None, compare=False, repr=False)


def held(name: str, where: Held, size: int | None, sha256: str | None) -> HeldAttachment:
    """An attachment whose bytes the source holds at ``where``."""
    return HeldAttachment(name=name, size=size, sha256=sha256, held=where)


@dataclass(frozen=True, slots=True)
class Member:
    """One family member as staged: an attachment, or a file nested in one.

    ``ordinal`` numbers the members of one message from 1, depth first;
    ``container`` is the ordinal of the member holding this one (0: the
    message itself). ``path`` is the member's names from the message down,
    joined by ``!`` (part of its dedup key, and how problems name it).
    """

    ordinal: int
    container: int
    path: str
    name: str
    kind: str
    media_type: str
    size: int | None
    sha256: str | None
    ocr: bool
    ocr_confidence: float | None
    text: str
    sections: str
    """JSON: [[label, start, end, ocr confidence or null], ...] offsets into ``text``."""
    problems: str
    """JSON: [[code, message, where], ...]."""
    metadata: str
    """JSON: [[name, value], ...]."""


@dataclass
class FamilyStats:
    """What extracting the attachments of (part of) a source gave, for its report."""

    held: int = 0
    """Attachments whose bytes the source holds."""
    not_held: int = 0
    """Attachments listed without their bytes (a link, a file the export left out)."""
    members: int = 0
    with_problems: int = 0
    ocr: int = 0
    """Members whose text was (partly) read by OCR."""
    ocr_missing: str = ""
    """The OCR-missing message, when OCR was needed and is not installed (said once)."""
    ocr_missing_count: int = 0

    def add(self, other: FamilyStats) -> None:
        self.held += other.held
        self.not_held += other.not_held
        self.members += other.members
        self.with_problems += other.with_problems
        self.ocr += other.ocr
        self.ocr_missing = self.ocr_missing or other.ocr_missing
        self.ocr_missing_count += other.ocr_missing_count


def members_of(
    attachments: tuple[Attachment, ...],
    options: Options,
    where: str,
    stats: FamilyStats,
    problems: list[ImportProblem],
) -> list[Member]:
    """The family members of one message's ``attachments``, numbered depth first.

    ``where`` names the message in problems (``path`` and its location);
    problems found in the members are appended to ``problems`` (one per
    member and problem, OCR-missing ones only counted in ``stats``).
    """
    out: list[Member] = []
    for att in attachments:
        source = att.held if isinstance(att, HeldAttachment) else None
        if source is None:
            stats.not_held += 1
            continue
        stats.held += 1
        ext = _extraction(att.name, source, options)
        _flatten(ext, 0, "", out, options)
    for m in out:
        stats.members += 1
        stats.ocr += m.ocr
        found = json.loads(m.problems)
        reported = False
        for code, message, at in found:
            if code == ProblemCode.OCR_MISSING:
                stats.ocr_missing = stats.ocr_missing or message
                stats.ocr_missing_count += 1
                continue
            reported = True
            inside = f" ({at})" if at else ""
            problems.append(ImportProblem(f"{where}!{m.path}", f"{code}{inside}: {message}"))
        stats.with_problems += reported
    return out


def _extraction(name: str, source: Held, options: Options) -> Extraction:
    """``extract`` of the held bytes; a member that cannot be read is one with a problem."""
    size = source.size()
    if size is not None and size > options.max_bytes:
        problem = Problem(
            ProblemCode.OVERSIZED,
            f"{size} bytes, over the {options.max_bytes} byte limit of one attachment; not read",
        )
        return Extraction(name, Kind.UNKNOWN, "", size, None, problems=(problem,))
    try:
        data = source.read()
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError) as exc:
        problem = Problem(ProblemCode.CORRUPT, f"its bytes could not be read ({exc})")
        return Extraction(name, Kind.UNKNOWN, "", size or 0, None, problems=(problem,))
    return extract(name, data, options)


def _flatten(
    ext: Extraction, container: int, prefix: str, out: list[Member], options: Options
) -> None:
    ordinal = len(out) + 1
    path = f"{prefix}!{ext.name}" if prefix else ext.name
    text, sections, start = [], [], 0
    for s in ext.sections:
        if not s.text.strip():
            continue
        if text:
            start += 2  # the blank line between sections (Extraction.text)
        sections.append([s.label, start, start + len(s.text), s.ocr_confidence])
        text.append(s.text)
        start += len(s.text)
    out.append(
        Member(
            ordinal=ordinal,
            container=container,
            path=path,
            name=ext.name,
            kind=str(ext.kind),
            media_type=ext.media_type,
            size=ext.size,
            sha256=ext.sha256,
            ocr=ext.is_ocr,
            ocr_confidence=ext.ocr_confidence,
            text="\n\n".join(text),
            sections=json.dumps(sections, ensure_ascii=False),
            problems=json.dumps([[str(p.code), p.message, p.where] for p in ext.problems]),
            metadata=json.dumps([list(kv) for kv in ext.metadata], ensure_ascii=False),
        )
    )
    for nested in ext.members:
        _flatten(nested, ordinal, path, out, options)


def member_dedup(parent_dedup: str, member: Member) -> str:
    """A member's dedup key: its parent's, its path in the family and its hash."""
    key = "\x1f".join((parent_dedup, str(member.ordinal), member.path, member.sha256 or ""))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@lru_cache(maxsize=8)
def options_for(ocr: str, ocr_lang: str) -> Options:
    """The extraction options of ``--ocr`` and ``--ocr-lang`` (UsageError when malformed)."""
    return Options(ocr=ocr, ocr_lang=ocr_lang)  # type: ignore[arg-type]


def staged_rows(
    parent_dedup: str, location: str, members: Iterable[Member]
) -> list[tuple[object, ...]]:
    """The staging rows of one message's members."""
    return [
        (
            parent_dedup,
            member_dedup(parent_dedup, m),
            f"{location}!{m.path}" if location else m.path,
            m.ordinal,
            m.container,
            m.path,
            m.name,
            m.kind,
            m.media_type,
            m.size,
            m.sha256,
            m.ocr,
            m.ocr_confidence,
            m.text,
            m.sections,
            m.problems,
            m.metadata,
        )
        for m in members
    ]


def family_rows(
    attachments: tuple[Attachment, ...],
    parent_dedup: str,
    location: str,
    ctx_ocr: tuple[str, str],
    where: str,
    stats: FamilyStats,
    problems: list[ImportProblem],
) -> list[tuple[object, ...]]:
    """The staging rows of one message's family members (none when it holds no bytes)."""
    if not any(isinstance(a, HeldAttachment) and a.held is not None for a in attachments):
        stats.not_held += len(attachments)
        return []
    members = members_of(attachments, options_for(*ctx_ocr), where, stats, problems)
    return staged_rows(parent_dedup, location, members)
