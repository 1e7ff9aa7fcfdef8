"""What an extraction returns: frozen values, problems included.

An :class:`Extraction` is the text of one file (an attachment, a zip member,
a file inside an attached email) split into :class:`Section` values (a page,
a sheet, a slide, a mail body), the files nested in it (zip members, mail
attachments, each an Extraction of its own with name, size and SHA-256), and
the :class:`Problem` values met on the way. Nothing here raises for bad
input: an encrypted, corrupt, unsupported or oversized file is an Extraction
with a problem and whatever text could still be read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from discovery import archive
from discovery.errors import UsageError


class Kind(StrEnum):
    """What a file was sniffed as (by content first, its name second)."""

    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    HTML = "html"
    TEXT = "text"
    CSV = "csv"
    EML = "eml"
    MSG = "msg"
    ZIP = "zip"
    IMAGE = "image"
    UNKNOWN = "unknown"


class OcrMode(StrEnum):
    """``--ocr``: when Tesseract reads pictures of text.

    ``auto`` reads images and PDF pages that are pictures (no text layer, or a
    picture covering most of the page under a few words); ``off`` never runs
    OCR (such pages and images are reported as not read); ``force`` also reads
    every PDF page that has a text layer (for a layer known to be wrong).
    """

    AUTO = "auto"
    OFF = "off"
    FORCE = "force"


class ProblemCode(StrEnum):
    """The kinds of :class:`Problem`; each is reported against the file it concerns."""

    ENCRYPTED = "encrypted"
    CORRUPT = "corrupt"
    UNSUPPORTED = "unsupported"
    OVERSIZED = "oversized"
    OCR_MISSING = "ocr-missing"
    OCR_FAILED = "ocr-failed"
    OCR_OFF = "ocr-off"
    NO_TEXT = "no-text"
    NOT_UTF8 = "not-utf8"
    UNSAFE_NAME = "unsafe-name"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that kept (part of) a file from being read.

    Attributes:
        code: what kind of problem (for counting and for the ingest's "say it once").
        message: one line for a paralegal, naming what to do where that helps.
        where: the part of the file it concerns (``page 3``, ``sheet Budget``,
            a member name), or ``""`` for the whole file.
    """

    code: ProblemCode
    message: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass(frozen=True, slots=True)
class Section:
    """One located piece of a file's text.

    Attributes:
        label: where it is (``page 3``, ``sheet Budget``, ``slide 2 notes``,
            ``body``); ``""`` for a file that is one piece.
        text: the text, lines separated by ``\\n``.
        ocr_confidence: None for text the file holds as text; for text read
            by OCR, Tesseract's mean word confidence (0-100).
    """

    label: str
    text: str
    ocr_confidence: float | None = None

    @property
    def is_ocr(self) -> bool:
        return self.ocr_confidence is not None


@dataclass(frozen=True, slots=True)
class Extraction:
    """The text, members and problems of one file.

    Attributes:
        name: the file name as given (for a member: its path inside the parent).
        kind: what it was sniffed as.
        media_type: its MIME type (``application/pdf``, ``image/png``, ...).
        size: its size in bytes (for a member that could not be read: the
            size its container declares).
        sha256: SHA-256 of its bytes (hex); None for a member whose bytes
            could not be read (an encrypted zip member).
        sections: its text in order, located.
        members: files nested in it (zip members, mail attachments), each
            extracted in turn.
        problems: what kept any of it from being read.
        metadata: (name, value) pairs the file carries (title, author, mail
            headers), in the file's order.
    """

    name: str
    kind: Kind
    media_type: str
    size: int
    sha256: str | None
    sections: tuple[Section, ...] = ()
    members: tuple[Extraction, ...] = ()
    problems: tuple[Problem, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()

    @property
    def text(self) -> str:
        """The searchable text: every non-empty section, a blank line apart."""
        return "\n\n".join(s.text for s in self.sections if s.text.strip())

    @property
    def is_ocr(self) -> bool:
        """True when any of the text was read by OCR (it may hold recognition errors)."""
        return any(s.is_ocr for s in self.sections)

    @property
    def ocr_confidence(self) -> float | None:
        """Mean confidence of the OCR sections, weighted by their words (None: no OCR)."""
        pairs = [(s.ocr_confidence, max(1, len(s.text.split()))) for s in self.sections]
        weighted = [(c, n) for c, n in pairs if c is not None]
        if not weighted:
            return None
        return sum(c * n for c, n in weighted) / sum(n for _, n in weighted)

    def walk(self) -> Iterator[Extraction]:
        """This extraction, then every nested member, depth first, in order."""
        stack: list[Extraction] = [self]
        while stack:
            item = stack.pop()
            yield item
            stack.extend(reversed(item.members))


DEFAULT_MAX_BYTES = 256 * 1024**2
"""Largest single file read (an attachment or a member); larger ones are reported."""
DEFAULT_MAX_TEXT = 64 * 1024**2
"""Most characters of text kept from one file; the rest is reported as cut."""
_LANG = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\+[A-Za-z][A-Za-z0-9_]*)*")


@dataclass(frozen=True, slots=True)
class Options:
    """How to extract: the ``--ocr`` and ``--ocr-lang`` flags, and limits.

    Attributes:
        ocr: when to run OCR (:class:`OcrMode`).
        ocr_lang: Tesseract languages, ``+``-joined (``eng``, ``eng+deu``);
            each needs its Debian package ``tesseract-ocr-<lang>``.
        ocr_dpi: resolution PDF pages are rendered at for OCR.
        ocr_timeout: seconds Tesseract may spend on one image or page.
        max_bytes: largest file read; also the largest zip member read.
        max_text: most characters of text kept per file.
        max_depth: most containers (zips, mails) nested in one another that are
            opened (the archive limit of an ingest).
        max_members: most members read in one extraction, nested ones included.
        max_total: most bytes read out of containers in one extraction.

    Raises:
        UsageError: an unknown OCR mode or a malformed language list.
    """

    ocr: OcrMode = OcrMode.AUTO
    ocr_lang: str = "eng"
    ocr_dpi: int = 300
    ocr_timeout: float = 120.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_text: int = DEFAULT_MAX_TEXT
    max_depth: int = archive.MAX_DEPTH
    max_members: int = archive.MAX_MEMBERS
    max_total: int = archive.MAX_TOTAL_BYTES

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "ocr", OcrMode(self.ocr))
        except ValueError:
            raise UsageError(f"--ocr must be auto, off or force (not {self.ocr!r})") from None
        if not _LANG.fullmatch(self.ocr_lang):
            raise UsageError(
                f"--ocr-lang must be Tesseract language codes joined by '+', such as"
                f" 'eng' or 'eng+deu' (not {self.ocr_lang!r})"
            )
        if self.ocr_dpi < 50 or self.ocr_dpi > 1200:
            raise UsageError(f"OCR resolution must be 50 to 1200 dpi (not {self.ocr_dpi})")
