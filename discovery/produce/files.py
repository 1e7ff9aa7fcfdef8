"""Writing a production's files so that the same input gives the same bytes.

Every file goes through :class:`Folder`, which records its path (relative,
``/``-separated), size and SHA-256 for the manifest. Zips (the RSMF's
``rsmf.zip``, the XLSX privilege log) are written with fixed member times
(the production's as-of date), fixed permissions and a fixed order, because
a zip normally stamps each member with the current time. Like every file
discovery writes, they are for their owner only (folders 0700, files 0600)
and written whole or not at all (:mod:`discovery.files`).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from discovery.errors import DiscoveryError
from discovery.files import output, private_dir

ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)
"""The earliest time a zip member can carry."""


@dataclass(frozen=True, slots=True)
class FileRecord:
    path: str
    size: int
    sha256: str


class Folder:
    """The production folder: writes files and remembers what it wrote."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.records: list[FileRecord] = []

    def write(self, rel: str, data: bytes) -> FileRecord:
        target = self.root / rel
        try:
            private_dir(target.parent)
        except OSError as exc:
            raise DiscoveryError(f"cannot write {target}: {exc.strerror or exc}") from None
        with output(target, "wb") as f:
            f.write(data)
        record = FileRecord(rel, len(data), hashlib.sha256(data).hexdigest())
        self.records.append(record)
        return record


def zip_bytes(members: Iterable[tuple[str, bytes]], when: datetime) -> bytes:
    """A zip of ``members`` (name, bytes), deflated, every member stamped ``when``."""
    stamp = max(when.astimezone(UTC), ZIP_EPOCH).timetuple()[:6]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compresslevel=6)
    return buf.getvalue()


def repack_zip(
    data: bytes, when: datetime, edit: Callable[[str, bytes], bytes] | None = None
) -> bytes:
    """The same zip with fixed member times (for files a library zips with the clock);
    ``edit(name, bytes)`` may rewrite a member (a clock time written inside one)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    if edit is not None:
        members = [(name, edit(name, body)) for name, body in members]
    return zip_bytes(members, when)
