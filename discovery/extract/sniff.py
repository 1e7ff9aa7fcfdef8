"""What kind of file a name and its bytes are: the content decides, the name breaks ties.

A file's name can lie (an invoice.pdf that is a zip) and a mail part's name
can be missing, so the bytes are looked at first: PDF, zip and OLE markers,
image signatures, mail headers, HTML. Only what the bytes leave open is
taken from the name: CSV against plain text, and the kind to report for
bytes too damaged to tell (a truncated ``.docx`` is reported as a DOCX).
Zips are opened to tell Office documents (``[Content_Types].xml`` with
``word/``, ``xl/`` or ``ppt/``) from archives; OLE compound files to tell an
Outlook ``.msg`` from an encrypted Office document or a legacy one.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from discovery.archive import MAX_RATIO, MAX_TOTAL_BYTES, RATIO_FLOOR, ZIP_ERRORS
from discovery.extract.model import Kind, Problem, ProblemCode

PDF_WINDOW = 1024
"""``%PDF-`` must start within a PDF's first kilobyte (ISO 32000-1, 7.5.2)."""
SNIFF_BYTES = 64 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")

MEDIA_TYPES = {
    Kind.PDF: "application/pdf",
    Kind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Kind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Kind.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    Kind.HTML: "text/html",
    Kind.TEXT: "text/plain",
    Kind.CSV: "text/csv",
    Kind.EML: "message/rfc822",
    Kind.MSG: "application/vnd.ms-outlook",
    Kind.ZIP: "application/zip",
    Kind.UNKNOWN: "application/octet-stream",
}
_BY_SUFFIX = {
    ".pdf": Kind.PDF,
    ".docx": Kind.DOCX,
    ".docm": Kind.DOCX,
    ".xlsx": Kind.XLSX,
    ".xlsm": Kind.XLSX,
    ".pptx": Kind.PPTX,
    ".pptm": Kind.PPTX,
    ".html": Kind.HTML,
    ".htm": Kind.HTML,
    ".xhtml": Kind.HTML,
    ".txt": Kind.TEXT,
    ".csv": Kind.CSV,
    ".tsv": Kind.CSV,
    ".eml": Kind.EML,
    ".msg": Kind.MSG,
    ".zip": Kind.ZIP,
    ".png": Kind.IMAGE,
    ".jpg": Kind.IMAGE,
    ".jpeg": Kind.IMAGE,
    ".tif": Kind.IMAGE,
    ".tiff": Kind.IMAGE,
    ".heic": Kind.IMAGE,
    ".heif": Kind.IMAGE,
}
_BINARY = frozenset({Kind.PDF, Kind.DOCX, Kind.XLSX, Kind.PPTX, Kind.MSG, Kind.ZIP, Kind.IMAGE})
"""Kinds whose bytes are never plain text: a text file with such a name is damaged."""
_LABEL = {Kind.IMAGE: "image", Kind.MSG: "Outlook message", Kind.ZIP: "zip archive"}
_OOXML = (
    ("word/document.xml", Kind.DOCX),
    ("xl/workbook.xml", Kind.XLSX),
    ("ppt/presentation.xml", Kind.PPTX),
)
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_MAIL_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "received",
        "return-path",
        "reply-to",
        "in-reply-to",
        "references",
        "x-mailer",
        "delivered-to",
    }
)
_HEADER_LINE = re.compile(rb"^([A-Za-z][A-Za-z0-9-]{0,60}):[ \t]")
_HTML_START = re.compile(rb"^\s*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.I)
_MARKUP_START = re.compile(rb"^\s*<", re.S)


@dataclass(frozen=True, slots=True)
class Sniffed:
    """A sniffed kind, its media type, and why it cannot be read (None: it can)."""

    kind: Kind
    media_type: str
    refusal: Problem | None = None


def by_name(name: str) -> Kind:
    """The kind a file name suggests (UNKNOWN when it suggests none)."""
    return _BY_SUFFIX.get(PurePosixPath(name.replace("\\", "/")).suffix.lower(), Kind.UNKNOWN)


def sniff(name: str, data: bytes) -> Sniffed:
    """The kind of ``data`` (named ``name``), read from its bytes first."""
    head = data[:SNIFF_BYTES]
    named = by_name(name)
    if b"%PDF-" in head[:PDF_WINDOW]:
        return _of(Kind.PDF)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data, named)
    if head.startswith(OLE_MAGIC):
        return _ole_kind(data, named)
    image = image_type(head)
    if image:
        return Sniffed(Kind.IMAGE, image)
    other = _other_binary(head)
    if other:
        return _refuse(Kind.UNKNOWN, ProblemCode.UNSUPPORTED, other)
    if head.startswith(BOMS) or b"\x00" not in head:
        body = head.removeprefix(b"\xef\xbb\xbf")
        if _HTML_START.match(body) or (named is Kind.HTML and _MARKUP_START.match(body)):
            return _of(Kind.HTML)
        if named is Kind.EML or looks_like_mail(body):
            return _of(Kind.EML)
        if named is Kind.CSV:
            return _of(Kind.CSV)
        if named not in _BINARY or not data:
            return _of(Kind.TEXT)
    if named in _BINARY:
        return _refuse(
            named,
            ProblemCode.CORRUPT,
            f"not a readable {_LABEL.get(named, named.value.upper() + ' file')}: its contents"
            " do not match its name",
        )
    return _refuse(
        Kind.UNKNOWN, ProblemCode.UNSUPPORTED, "binary data of a kind discovery does not extract"
    )


def _of(kind: Kind) -> Sniffed:
    return Sniffed(kind, MEDIA_TYPES[kind])


def _refuse(kind: Kind, code: ProblemCode, message: str) -> Sniffed:
    return Sniffed(kind, MEDIA_TYPES.get(kind, MEDIA_TYPES[Kind.UNKNOWN]), Problem(code, message))


def image_type(head: bytes) -> str:
    """The media type of an image signature (``""`` when it is none we read)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"BM") and len(head) > 26 and head[6:10] == b"\x00\x00\x00\x00":
        return "image/bmp"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    return ""


def _other_binary(head: bytes) -> str:
    """Why a known binary format we do not read is not read (``""``: not one of them)."""
    for magic, what in (
        (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
        (b"Rar!\x1a\x07", "RAR archive"),
        (b"\x1f\x8b", "gzip file"),
        (b"BZh", "bzip2 file"),
        (b"\xfd7zXZ\x00", "xz file"),
        (b"{\\rtf", "RTF document"),
    ):
        if head.startswith(magic):
            return f"{what}: not extracted; unpack or convert it and import the result"
    if len(head) > 262 and head[257:262] == b"ustar":
        return "tar archive: not extracted; unpack it and import the result"
    return ""


def looks_like_mail(head: bytes) -> bool:
    """True when the first lines are RFC 5322 headers, two or more of them mail headers."""
    known = 0
    for raw in head.split(b"\n", 40)[:40]:
        line = raw.rstrip(b"\r")
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            continue
        m = _HEADER_LINE.match(line)
        if m is None:
            return False
        known += m.group(1).decode("ascii").lower() in _MAIL_HEADERS
    return known >= 2


def _zip_kind(data: bytes, named: Kind) -> Sniffed:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except ZIP_ERRORS as e:
        damaged = named if named in (Kind.DOCX, Kind.XLSX, Kind.PPTX) else Kind.ZIP
        return _refuse(damaged, ProblemCode.CORRUPT, f"damaged zip container ({e})")
    names = {i.filename for i in infos}
    if "[Content_Types].xml" in names:
        for part, kind in _OOXML:
            if part in names:
                return _office(kind, infos)
        return _refuse(
            Kind.UNKNOWN,
            ProblemCode.UNSUPPORTED,
            "an Office Open XML file that is not a Word, Excel or PowerPoint document:"
            " not extracted",
        )
    if "mimetype" in names or "META-INF/MANIFEST.MF" in names:
        return _refuse(
            Kind.UNKNOWN,
            ProblemCode.UNSUPPORTED,
            "an OpenDocument, EPUB or Java archive: not extracted; convert it to PDF or DOCX",
        )
    return _of(Kind.ZIP)


def _office(kind: Kind, infos: list[zipfile.ZipInfo]) -> Sniffed:
    """An Office document, unless its parts break the archive limits (a bomb in a .docx)."""
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        return _refuse(
            kind,
            ProblemCode.OVERSIZED,
            f"{total:,} bytes uncompressed (limit {MAX_TOTAL_BYTES:,}); not read",
        )
    for info in infos:
        bomb = bomb_member(info)
        if bomb:
            return _refuse(kind, ProblemCode.OVERSIZED, f"part {info.filename!r} {bomb}")
    return _of(kind)


def bomb_member(info: zipfile.ZipInfo) -> str:
    """Why a zip member looks like a zip bomb (``""``: it does not), by the archive ratio limit."""
    size, packed = info.file_size, max(info.compress_size, 1)
    if size > RATIO_FLOOR and size > MAX_RATIO * packed:
        return f"expands {size // packed:,}:1 (limit {MAX_RATIO}:1); a possible zip bomb; not read"
    return ""


_LEGACY = (
    ("WordDocument", "Word 97-2003 document (.doc)"),
    ("Workbook", "Excel 97-2003 workbook (.xls)"),
    ("Book", "Excel 5 workbook (.xls)"),
    ("PowerPoint Document", "PowerPoint 97-2003 presentation (.ppt)"),
)


def _ole_kind(data: bytes, named: Kind) -> Sniffed:
    """An OLE compound file: Outlook message, encrypted Office document or legacy Office."""
    import olefile  # a dependency of extract-msg

    try:
        with olefile.OleFileIO(data) as ole:
            streams = {"/".join(parts) for parts in ole.listdir(streams=True, storages=True)}
    except Exception as e:  # olefile raises OSError, struct.error, IndexError, ...
        return _refuse(
            named if named is not Kind.UNKNOWN else Kind.MSG,
            ProblemCode.CORRUPT,
            f"damaged OLE compound file ({type(e).__name__})",
        )
    if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
        return _refuse(
            named if named in (Kind.DOCX, Kind.XLSX, Kind.PPTX) else Kind.UNKNOWN,
            ProblemCode.ENCRYPTED,
            "password-protected Office document; supply a decrypted copy",
        )
    if any(s.startswith("__substg1.0_") for s in streams) or "__properties_version1.0" in streams:
        return _of(Kind.MSG)
    for stream, what in _LEGACY:
        if stream in streams:
            return _refuse(
                Kind.UNKNOWN,
                ProblemCode.UNSUPPORTED,
                f"{what}: not extracted; save it as PDF or in the current format",
            )
    return _refuse(
        Kind.UNKNOWN, ProblemCode.UNSUPPORTED, "OLE compound file of an unknown kind: not extracted"
    )
