"""The entry point: :func:`extract` sniffs a file and hands it to the module for its kind.

Each kind module has one function ``read(data, walk) -> Body``. It may raise
anything a parsing library raises on a damaged file: :func:`extract` turns
that into a ``corrupt`` problem, so no exception escapes for bad input.
Containers (zips, mails) extract their members through :meth:`Walk.child`,
which applies the limits of the whole tree: nesting depth, member count and
bytes read out of containers (the archive limits of an ingest, from
:mod:`discovery.archive`).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from discovery.extract.model import (
    Extraction,
    Kind,
    Options,
    Problem,
    ProblemCode,
    Section,
)
from discovery.extract.sniff import MEDIA_TYPES, by_name, sniff

for _name in ("pypdf", "extract_msg", "openpyxl", "PIL", "pytesseract", "pypdfium2"):
    logging.getLogger(_name).addHandler(logging.NullHandler())
    logging.getLogger(_name).propagate = False  # the library never prints


CONTAINERS = frozenset({Kind.ZIP, Kind.EML, Kind.MSG})
"""Kinds holding other files; they count against the nesting limit."""


@dataclass(frozen=True, slots=True)
class Body:
    """What a kind module read: sections, members, problems, metadata."""

    sections: tuple[Section, ...] = ()
    members: tuple[Extraction, ...] = ()
    problems: tuple[Problem, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()


Reader = Callable[[bytes, "Walk"], Body]


@dataclass
class _Budget:
    members: int = 0
    bytes: int = 0


@dataclass
class Walk:
    """One extraction in progress: its options, depth, and the limits shared by the tree."""

    options: Options
    depth: int = 0
    budget: _Budget = field(default_factory=_Budget)

    def over_limits(self, size: int) -> Problem | None:
        """Why one more member of ``size`` bytes would break the tree's limits (None: it fits)."""
        opts = self.options
        if self.budget.members + 1 > opts.max_members:
            return Problem(
                ProblemCode.OVERSIZED,
                f"not read: more than {opts.max_members:,} nested files in one attachment",
            )
        if self.budget.bytes + size > opts.max_total:
            return Problem(
                ProblemCode.OVERSIZED,
                f"not read: more than {opts.max_total:,} bytes unpacked from one attachment",
            )
        return too_big(size, opts.max_bytes) if size > opts.max_bytes else None

    def child(self, name: str, data: bytes) -> Extraction:
        """Extract a member of the file being read (a zip member, a mail attachment).

        Past the tree's limits the member is still listed, with its size and
        hash, and a problem saying why it was not read; a container nested past
        the depth limit is listed but not opened.
        """
        problem = self.over_limits(len(data))
        self.budget.members += 1
        self.budget.bytes += len(data)
        if problem is not None:
            return refused(name, data, problem)
        return _extract(name, data, Walk(self.options, self.depth + 1, self.budget))


def extract(name: str, data: bytes, options: Options | None = None) -> Extraction:
    """The text, members and problems of one file.

    Args:
        name: the file name (an attachment's name, a member's path); used to
            break ties the bytes leave open and to name the kind of a file too
            damaged to tell.
        data: the file's bytes.
        options: OCR mode and languages, and limits (defaults: :class:`Options`).

    Never raises for bad input: encrypted, corrupt, unsupported and oversized
    files are returned with a problem saying so.
    """
    return _extract(name, data, Walk(options or Options()))


def _extract(name: str, data: bytes, walk: Walk) -> Extraction:
    opts = walk.options
    if len(data) > opts.max_bytes:
        return refused(name, data, too_big(len(data), opts.max_bytes))
    if not data:
        kind = by_name(name)
        return Extraction(
            name,
            kind,
            MEDIA_TYPES.get(kind, MEDIA_TYPES[Kind.UNKNOWN]),
            0,
            hashlib.sha256(b"").hexdigest(),
            problems=(Problem(ProblemCode.NO_TEXT, "empty file (0 bytes)"),),
        )
    sniffed = sniff(name, data)
    digest = hashlib.sha256(data).hexdigest()
    refusal = sniffed.refusal
    if refusal is None and sniffed.kind in CONTAINERS and walk.depth >= opts.max_depth:
        refusal = Problem(
            ProblemCode.OVERSIZED, f"not opened: nested more than {opts.max_depth} containers deep"
        )
    if refusal is not None:
        return Extraction(
            name, sniffed.kind, sniffed.media_type, len(data), digest, problems=(refusal,)
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # libraries warn about odd files; problems say it
            body = _reader(sniffed.kind)(data, walk)
    except RecursionError:
        body = Body(problems=(Problem(ProblemCode.CORRUPT, "not readable: nested too deeply"),))
    except Exception as e:  # parsing libraries raise anything on damaged files
        body = Body(problems=(Problem(ProblemCode.CORRUPT, f"not readable ({why(e)})"),))
    sections, cut = _capped(body.sections, opts.max_text)
    problems = body.problems
    if cut:
        problems += (
            Problem(
                ProblemCode.OVERSIZED,
                f"text cut at {opts.max_text:,} characters; the rest is not searchable",
            ),
        )
    return Extraction(
        name,
        sniffed.kind,
        sniffed.media_type,
        len(data),
        digest,
        sections,
        body.members,
        problems,
        body.metadata,
    )


def too_big(size: int, limit: int) -> Problem:
    """The problem of a file over the per-file size limit."""
    return Problem(
        ProblemCode.OVERSIZED, f"{size:,} bytes is over the {limit:,}-byte limit; not read"
    )


def refused(name: str, data: bytes | None, problem: Problem, size: int = 0) -> Extraction:
    """A file listed but not read: its name, its size and hash (when its bytes are at hand)."""
    kind = by_name(name)
    return Extraction(
        name,
        kind,
        MEDIA_TYPES.get(kind, MEDIA_TYPES[Kind.UNKNOWN]),
        len(data) if data is not None else size,
        hashlib.sha256(data).hexdigest() if data is not None else None,
        problems=(problem,),
    )


_PROPERTIES = (
    ("title", ("title",)),
    ("subject", ("subject",)),
    ("author", ("author", "creator")),
    ("last modified by", ("last_modified_by", "lastModifiedBy")),
    ("created", ("created",)),
    ("modified", ("modified",)),
)


def document_properties(props: Any) -> list[tuple[str, str]]:
    """An Office file's core properties (python-docx, python-pptx or openpyxl) as metadata."""
    out: list[tuple[str, str]] = []
    for label, attrs in _PROPERTIES:
        value = next((v for a in attrs if (v := getattr(props, a, None))), None)
        if value:
            out.append((label, value.isoformat() if hasattr(value, "isoformat") else str(value)))
    return out


def why(e: BaseException) -> str:
    """An exception as a short reason: its type and the first line of its message."""
    text = str(e).strip()
    first = text.splitlines()[0][:200] if text else ""
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def _capped(sections: tuple[Section, ...], limit: int) -> tuple[tuple[Section, ...], bool]:
    total = 0
    out: list[Section] = []
    for s in sections:
        if total + len(s.text) > limit:
            out.append(Section(s.label, s.text[: limit - total], s.ocr_confidence))
            return tuple(out), True
        total += len(s.text)
        out.append(s)
    return tuple(out), False


_MODULES = {
    Kind.PDF: "pdf",
    Kind.DOCX: "word",
    Kind.XLSX: "sheet",
    Kind.PPTX: "slides",
    Kind.HTML: "markup",
    Kind.TEXT: "plain",
    Kind.CSV: "plain",
    Kind.EML: "mail",
    Kind.MSG: "outlook",
    Kind.ZIP: "zips",
    Kind.IMAGE: "image",
}


def _reader(kind: Kind) -> Reader:
    """The module function that reads ``kind`` (imported on first use: each pays for its own)."""
    read: Reader = importlib.import_module(f"discovery.extract.{_MODULES[kind]}").read
    return read
