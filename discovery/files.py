"""Files discovery creates: private by default, written whole or not at all.

Matters hold privileged evidence. Everything discovery creates (the home,
matter folders, case stores, indexes, the audit log, exports and reports) is
for its owner only: folders 0700, files 0600. The modes are given to the
system, so a stricter umask still wins; files written by a library (Whoosh,
openpyxl) are restricted after the fact with :func:`restrict`.

An output file (an export, a report, a load file) is written to a temporary
file beside it and renamed over it at the end (:func:`output`): a full disk
or an interrupt leaves the earlier file, or none, never half of one.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from discovery.errors import DiscoveryError, DiskFullError

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as folders only the owner can enter."""
    if not path.is_dir():
        for parent in reversed(path.parents):
            if not parent.exists():
                parent.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        path.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty as a file only the owner can read, unless it already exists."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE))
    return path


def restrict(path: Path) -> None:
    """Make ``path`` (written by a library) owner-only: at most 0600, or 0700 for a folder."""
    with suppress(OSError):
        st = path.stat()
        mode = st.st_mode & 0o777
        keep = mode & (PRIVATE_DIR if stat.S_ISDIR(st.st_mode) else PRIVATE_FILE)
        if mode != keep:
            path.chmod(keep)


def exposure(path: Path) -> int:
    """The group/other permission bits of ``path`` (0 when private or missing)."""
    try:
        return path.stat().st_mode & 0o077
    except OSError:
        return 0


@contextmanager
def output(path: Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """An open file that becomes ``path`` (owner-only) when the block ends without error.

    Raises:
        DiskFullError: the disk is full (the partial file is removed).
        DiscoveryError: ``path`` cannot be written (a missing folder, no permission).
    """
    tmp = path.with_name(f".{path.name}.part-{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        f = os.fdopen(fd, mode, **kwargs)
    except OSError as exc:
        raise output_error(exc, path) from None
    try:
        with f:
            yield f
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise output_error(exc, path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` owner-only and whole (see :func:`output`)."""
    with output(path, encoding=encoding, newline="") as f:
        f.write(text)


def output_error(exc: OSError, path: Path) -> DiscoveryError:
    """Our one-line error for an output file that could not be written."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(str(path), 0, free_bytes(path))
    return DiscoveryError(f"cannot write {path}: {exc.strerror or exc}")


def free_bytes(path: Path) -> int | None:
    """Bytes free on the disk holding ``path`` (or its nearest existing parent)."""
    for p in (path, *path.parents):
        try:
            return shutil.disk_usage(p).free
        except OSError:
            continue
    return None
