"""Safe handling of zip archives: limits, member names, extraction into a temporary folder.

A zip from a collection may be damaged, hostile or simply huge. Before any
importer sees a zip, :func:`refusal` checks it against these limits, read
from its central directory:

- :data:`MAX_TOTAL_BYTES` (4 GiB): the total uncompressed size of its members;
- :data:`MAX_RATIO` (200:1): the compression ratio of any member larger than
  :data:`RATIO_FLOOR` (1 MiB; small files of blanks legitimately compress
  further, and cannot hurt);
- :data:`MAX_MEMBERS` (100,000): the number of members;
- :data:`MAX_TOTAL_RATIO` (100:1): the total uncompressed size against the
  archive's own size, once the total passes :data:`TOTAL_RATIO_FLOOR`
  (64 MiB): a thousand 1 MiB members of zeros pass the per-member check one
  by one but not this one.

The extraction budget (:data:`MAX_TOTAL_BYTES`) is shared by every archive
one ingest opens, nested ones included.

Python's zipfile never inflates a member past the size its directory
declares, and checks each member's CRC, so the declared sizes are the sizes
read. :func:`extract` writes members only under the folder it is given (the
ingest's private work folder, :meth:`discovery.matter.Matter.workspace`):
names that are absolute, carry a drive letter, or climb with ``..`` are
refused and reported, never written; each target is checked to resolve
inside the folder before it is opened. Encrypted members, members that fail
their CRC ("damaged"), symbolic links stored as members (never created),
duplicate names and file/folder name clashes (``a`` and ``a/b.txt``) are
reported per member, and the rest is extracted. A file that starts like a
zip but cannot be opened as one is reported as damaged or truncated
(:func:`damage`), not as an unknown format. Operating-system litter
(``__MACOSX/``, ``.DS_Store``, ``Thumbs.db``) is skipped as it is when
walking a folder.

Office documents (``.docx``, ``.xlsx``, ``.odt``, ``.epub``, ``.jar``) are
zips too, but not collections: :func:`is_archive` says no to them, so they are
reported as unrecognised files rather than opened.
"""

from __future__ import annotations

import hashlib
import stat
import zipfile
import zlib
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

MAX_TOTAL_BYTES = 4 * 1024**3
"""Total uncompressed bytes allowed in one archive (and extracted by one ingest)."""
MAX_RATIO = 200
"""Largest compression ratio allowed for a member bigger than :data:`RATIO_FLOOR`."""
RATIO_FLOOR = 1024**2
"""Members up to this size are not ratio-checked."""
MAX_MEMBERS = 100_000
"""Most members allowed in one archive."""
MAX_TOTAL_RATIO = 100
"""Largest ratio of an archive's total uncompressed size to its size on disk ..."""
TOTAL_RATIO_FLOOR = 64 * 1024**2
"""... once the total uncompressed size passes this."""
MAX_DEPTH = 8
"""Most archives nested in one another that an ingest opens."""

JUNK_PARTS = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini", ".git"})
_OFFICE_MARKERS = frozenset({"[Content_Types].xml", "mimetype", "META-INF/MANIFEST.MF"})
_CHUNK = 1 << 20
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
DAMAGED = "damaged or truncated zip archive"

ZIP_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    KeyError,
    ValueError,
    zipfile.BadZipFile,
    zlib.error,
    RuntimeError,
    EOFError,
    NotImplementedError,
)
"""What opening or reading a damaged, encrypted or odd zip (or member) can raise."""


def sha256_stream(fh: IO[bytes]) -> tuple[int, str]:
    """Size and SHA-256 (hex) of a stream, read in blocks (members can be large).

    Raises what reading ``fh`` raises (for a zip member, one of :data:`ZIP_ERRORS`).
    """
    h = hashlib.sha256()
    size = 0
    while block := fh.read(_CHUNK):
        h.update(block)
        size += len(block)
    return size, h.hexdigest()


class ArchiveError(Exception):
    """A whole archive cannot be opened or is refused; ``str()`` is the reason."""


@dataclass
class Extraction:
    """What :func:`extract` wrote, and what it would not.

    Attributes:
        written: member name → extracted file, in archive order.
        problems: (member name, reason) for each member not written.
    """

    written: dict[str, Path] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(p.stat().st_size for p in self.written.values())


def is_archive(path: Path) -> bool:
    """True for a readable zip that is not an office document, e-book or Java archive."""
    try:
        if not path.is_file() or not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except ZIP_ERRORS:
        return False
    return not any(n in _OFFICE_MARKERS for n in names[:50])


def damage(path: Path) -> str | None:
    """Why a file that starts like a zip cannot be opened as one (None: not a zip, or fine).

    A zip cut short (an interrupted download or copy) loses its central
    directory, at the end: then it is no zip at all to Python, but it is
    damaged evidence, not an unknown format.
    """
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError:
        return None
    if head not in _ZIP_MAGIC:
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            zf.infolist()
    except ZIP_ERRORS as e:
        return f"{DAMAGED} ({e}): its list of members cannot be read; not imported"
    return None


def refusal(path: Path) -> str | None:
    """Why the zip at ``path`` must not be read (None: within the limits)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
        size = path.stat().st_size
    except ZIP_ERRORS as e:
        return f"{DAMAGED} ({e})"
    if len(infos) > MAX_MEMBERS:
        return f"archive refused: {len(infos):,} members (limit {MAX_MEMBERS:,})"
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        return (
            f"archive refused: {total:,} bytes uncompressed"
            f" (limit {MAX_TOTAL_BYTES:,}); unpack and import it in parts"
        )
    if total > TOTAL_RATIO_FLOOR and total > MAX_TOTAL_RATIO * max(size, 1):
        return (
            f"archive refused: {total:,} bytes uncompressed from {size:,} bytes"
            f" ({total // max(size, 1):,}:1, limit {MAX_TOTAL_RATIO}:1 over the whole archive);"
            " a possible zip bomb"
        )
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            return (
                f"archive refused: member {info.filename!r} expands"
                f" {info.file_size // max(info.compress_size, 1):,}:1 (limit {MAX_RATIO}:1);"
                " a possible zip bomb"
            )
    return None


def safe_name(name: str) -> PurePosixPath | None:
    """The member name as a relative path inside the archive, or None if it is unsafe.

    Backslashes are read as separators (zips written on Windows use them).
    Absolute names, drive letters, ``..`` and empty names are unsafe.
    """
    text = name.replace("\\", "/")
    if not text or text.startswith("/") or "\x00" in text:
        return None
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts) or ":" in parts[0]:
        return None
    return PurePosixPath(*parts)


def is_junk(member: PurePosixPath) -> bool:
    """Operating-system litter that is skipped, as when walking a folder."""
    return any(p in JUNK_PARTS for p in member.parts) or member.name.startswith("._")


def extract(path: Path, dest: Path, budget: int = MAX_TOTAL_BYTES) -> Extraction:
    """Write the members of the zip at ``path`` under ``dest`` (created if needed).

    Args:
        path: the zip (already checked with :func:`refusal`).
        dest: an empty folder inside the ingest's temporary folder.
        budget: bytes that may still be written; going past it stops the
            extraction with :class:`ArchiveError`.

    Raises:
        ArchiveError: the archive cannot be opened, or the budget ran out.
    """
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    out = Extraction()
    folders: set[str] = set()  # every folder holding an extracted file
    written = 0
    try:
        zf = zipfile.ZipFile(path)
    except ZIP_ERRORS as e:
        raise ArchiveError(f"damaged zip archive ({e})") from None
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            member = safe_name(info.filename)
            if member is None:
                out.problems.append(
                    (info.filename, "unsafe member name (absolute or outside the archive); skipped")
                )
                continue
            if is_junk(member):
                continue
            if info.flag_bits & 0x1:
                out.problems.append((info.filename, "encrypted member; supply it decrypted"))
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                out.problems.append(
                    (info.filename, "symbolic link stored in the archive: not followed")
                )
                continue
            clash = _clash(member, out.written, folders)
            if clash is not None:
                out.problems.append(
                    (
                        info.filename,
                        f"name clash: {clash!r} is both a file and a folder in the archive;"
                        " this member was not extracted",
                    )
                )
                continue
            target = root.joinpath(*member.parts)
            if not target.resolve().is_relative_to(root):
                out.problems.append((info.filename, "member resolves outside the archive; skipped"))
                continue
            if target.exists() or member.as_posix() in out.written:
                out.problems.append(
                    (info.filename, "duplicate member name; only the first copy was read")
                )
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("xb") as dst:
                    while block := src.read(_CHUNK):
                        written += len(block)
                        if written > budget:
                            raise ArchiveError(
                                f"archive refused: more than {budget:,} bytes uncompressed"
                            )
                        dst.write(block)
            except ArchiveError:
                _remove(target)
                raise
            except zipfile.BadZipFile as e:
                _remove(target)
                out.problems.append((info.filename, f"damaged member ({e}); not extracted"))
                continue
            except ZIP_ERRORS as e:
                _remove(target)
                out.problems.append((info.filename, f"cannot extract ({type(e).__name__}: {e})"))
                continue
            out.written[member.as_posix()] = target
            folders.update(p.as_posix() for p in member.parents if p.parts)
    return out


def _clash(member: PurePosixPath, files: dict[str, Path], folders: set[str]) -> str | None:
    """The name ``member`` shares with an extracted file or folder of another kind."""
    if member.as_posix() in folders:
        return member.as_posix()
    for parent in member.parents:
        if parent.parts and parent.as_posix() in files:
            return parent.as_posix()
    return None


def _remove(target: Path) -> None:
    with suppress(OSError):
        target.unlink(missing_ok=True)
