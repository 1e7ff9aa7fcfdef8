"""A matter: one folder holding the SQLite case store and the full-text index."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from discovery import config, files
from discovery.errors import (
    DiskFullError,
    MatterBusyError,
    MatterNotFoundError,
    StoreError,
)
from discovery.index import TextEngine, open_engine
from discovery.index.sharded import shard_count
from discovery.store import IndexRows, Store
from discovery.text import TOKENIZER_VERSION
from discovery.workers import jobs

try:
    import fcntl
except ImportError:  # not POSIX: no lock between processes (see docs/DESIGN.md)
    fcntl = None  # type: ignore[assignment]

STORE_FILE = "case.sqlite"
INDEX_DIR = "index"
TOKENIZER_KEY = "tokenizer_version"
"""Store meta key: the :data:`discovery.text.TOKENIZER_VERSION` the index was built with."""


class IndexVersionError(StoreError):
    """The matter's index was built with another tokenizer version: it must be rebuilt."""


def tokenizer_version(store: Store) -> int:
    """The tokenizer version a matter's index was built with (1: before versions were kept)."""
    value = store.get_meta(TOKENIZER_KEY)
    return int(value) if value is not None else 1


LOCK_FILE = "write.lock"
"""Held (``flock``, exclusive) by the one process writing the matter: an ingest."""
WORK_DIR = "ingest-work"
"""The ingest's private temporary folder (extracted archives), inside the matter."""
INDEX_SPACE = 5
"""Index bytes needed per byte of text, about (the postings, and the writer's sort runs)."""
_LOCK_RETRY = 0.5
"""Seconds a would-be writer keeps trying before it calls the matter busy (a reader
checking the lock holds it shared for a moment)."""


@dataclass(frozen=True, slots=True)
class Writer:
    """The process writing a matter (from its lock file)."""

    pid: int
    since: str
    """UTC, ISO 8601 to the second."""

    def describe(self) -> str:
        if not self.pid:
            return "just started"
        return f"process {self.pid}, since {self.since.replace('T', ' ')} UTC"


@dataclass(frozen=True, slots=True)
class View:
    """What a search sees of a matter: committed messages that are also indexed.

    Attributes:
        indexed: the highest message id in the index; a search answers over ids up to it.
        stored: the highest message id committed to the case store.
        writer: the ingest writing the matter now, if any.
    """

    indexed: int
    stored: int
    writer: Writer | None = None

    @property
    def partial(self) -> bool:
        """Whether the answer may miss messages: an ingest is running or stopped early."""
        return self.writer is not None or self.indexed < self.stored

    def warning(self) -> str:
        """One line for the reviewer when :attr:`partial` (else '')."""
        if self.writer is not None:
            return (
                f"an ingest is running in this matter ({self.writer.describe()}): this answer"
                f" covers the {self.indexed:,} messages indexed so far; search again when it"
                " has finished"
            )
        if self.indexed < self.stored:
            return (
                f"the index holds {self.indexed:,} of the {self.stored:,} stored messages (an"
                " ingest stopped early): this answer covers those; run discovery ingest again"
                " to finish indexing"
            )
        return ""


@dataclass
class Matter:
    name: str
    path: Path
    store: Store
    engine: TextEngine
    tz: tzinfo

    def close(self) -> None:
        self.engine.close()
        self.store.close()

    def __enter__(self) -> Matter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Index every stored message the index does not hold yet.

        The store commits each source on its own; the index follows. Should an
        ingest stop between the two, the next ingest brings the index up to date
        (only an ingest calls this, under the write lock). A large catch-up is
        indexed by worker processes, a range of ids each (see
        :meth:`~discovery.index.TextEngine.add_range`).
        """
        after = self.engine.indexed_through()
        through = self.store.max_message_id()
        try:
            return self.engine.add_range(IndexRows(self.store.path), through, progress, jobs())
        except DiskFullError as exc:  # say how much room indexing the rest takes
            needed = INDEX_SPACE * self.store.text_bytes(after)
            raise DiskFullError(exc.path, needed, exc.free) from None

    def is_current(self) -> bool:
        return self.engine.indexed_through() >= self.store.max_message_id()

    def view(self) -> View:
        """What a search run now sees (index first, so ``stored >= indexed``)."""
        indexed = self.engine.indexed_through()
        return View(indexed, self.store.max_message_id(), self.writer())

    # --- one writer --------------------------------------------------------------------
    def writer(self) -> Writer | None:
        """The ingest writing this matter now, or None. Never waits, never writes."""
        return writer_of(self.path)

    def writing(
        self, *, wait: bool = False, on_wait: Callable[[Writer | None], None] | None = None
    ) -> AbstractContextManager[None]:
        """Hold the matter's write lock (:func:`write_lock`): one writer at a time."""
        return write_lock(self.path, self.name, wait=wait, on_wait=on_wait)

    @contextmanager
    def workspace(self) -> Iterator[Path]:
        """A private folder for the ingest's extracted archives, removed however it ends.

        It lives in the matter (owner-only) and is only used under the write lock,
        so whatever a killed ingest left there is removed by the next one.
        """
        work = self.path / WORK_DIR
        shutil.rmtree(work, ignore_errors=True)
        files.private_dir(work)
        try:
            yield work
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _try_lock(fd: int, patience: float) -> bool:
    deadline = time.monotonic() + patience
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def _read_writer(fd: int) -> Writer | None:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return Writer(int(info["pid"]), str(info["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def writer_of(path: Path) -> Writer | None:
    """The ingest holding the write lock of the matter folder ``path``, or None."""
    if fcntl is None:
        return None
    try:
        fd = os.open(path / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_writer(fd) or Writer(0, "?")
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def open_matter(name: str | None = None, *, create: bool = False, shards: int = 1) -> Matter:
    """Open (or with ``create``, create) a matter under the home.

    ``name`` None is the default matter (:func:`discovery.config.default_matter`).
    Opening never writes the index: only an ingest does (a search during one
    answers over what is indexed, see :meth:`Matter.view`). ``shards`` > 1 makes a
    new matter's index sharded (:mod:`discovery.index.sharded`).
    """
    name = config.default_matter() if name is None else name
    path = config.matter_dir(name)
    if not (path / STORE_FILE).exists() and not create:
        raise MatterNotFoundError(missing_matter_message(name))
    if create:
        files.private_dir(config.home())
    store = Store(path / STORE_FILE, create=create)
    if store.get_meta(TOKENIZER_KEY) is None and store.max_message_id() == 0:
        store.set_meta(TOKENIZER_KEY, str(TOKENIZER_VERSION))
    version = tokenizer_version(store)
    if version != TOKENIZER_VERSION:
        store.close()
        raise IndexVersionError(
            f"matter {name!r} was indexed with tokenizer version {version}; this discovery reads"
            f" words with version {TOKENIZER_VERSION} (docs/QUERY.md, Words), so its index"
            f" must be rebuilt first: discovery reindex --matter {name}"
        )
    try:
        engine = open_engine(path / INDEX_DIR, create=True, shards=shards)
    except BaseException:
        store.close()
        raise
    zone = config.zone(config.display_zone_name(store.get_meta(config.DISPLAY_TZ_KEY)))
    return Matter(name, path, store, engine, zone)


def missing_matter_message(name: str) -> str:
    """``no matter 'x' under HOME``, with the matters there are (or how to make one)."""
    known = list_matters()
    there = (
        f"matters there: {', '.join(known)}"
        if known
        else "there are no matters there yet: 'discovery ingest PATH --matter NAME' makes one"
    )
    return f"no matter {name!r} under {config.home()}; {there}"


@contextmanager
def write_lock(
    path: Path,
    name: str,
    *,
    wait: bool = False,
    on_wait: Callable[[Writer | None], None] | None = None,
) -> Iterator[None]:
    """Hold the write lock of the matter in ``path``: one ingest or reindex writes it at a time.

    Args:
        wait: wait for another ingest to finish (``on_wait`` is told once);
            otherwise a running ingest is a :class:`MatterBusyError`.

    The lock is an ``flock`` on ``write.lock``: the system releases it when the
    process ends, however it ends (``kill -9`` included), so it never goes stale.
    """
    if fcntl is None:
        yield
        return
    lock = path / LOCK_FILE
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, files.PRIVATE_FILE)
    try:
        if not _try_lock(fd, _LOCK_RETRY):
            holder = _read_writer(fd)
            if not wait:
                who = f" ({holder.describe()})" if holder else ""
                raise MatterBusyError(
                    f"matter {name!r} is being written by another ingest{who}; run"
                    " again when it has finished, or add --wait to wait for it"
                )
            if on_wait is not None:
                on_wait(holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        since = datetime.now(UTC).isoformat(timespec="seconds").removesuffix("+00:00")
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "since": since}).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def reindex(
    name: str,
    progress: Callable[[int], None] | None = None,
    *,
    wait: bool = False,
    on_wait: Callable[[Writer | None], None] | None = None,
) -> int:
    """Rebuild a matter's index from its case store with this tokenizer; returns messages indexed.

    Control numbers are the store's message ids, so they do not change. The
    new index is built beside the old one and swapped in when complete, so an
    interrupted rebuild leaves the old index (and the old version) in place.
    A running ingest is a :class:`MatterBusyError`, or waited for (``wait``).
    """
    path = config.matter_dir(name)
    if not (path / STORE_FILE).exists():
        raise MatterNotFoundError(missing_matter_message(name))
    fresh, old = path / "index.rebuild", path / "index.old"
    with (
        write_lock(path, name, wait=wait, on_wait=on_wait),  # never beside an ingest
        Store(path / STORE_FILE) as store,
    ):
        for leftover in (fresh, old):
            if leftover.exists():
                shutil.rmtree(leftover)
        zone = config.zone(config.display_zone_name(store.get_meta(config.DISPLAY_TZ_KEY)))
        engine = open_engine(fresh, create=True, shards=shard_count(path / INDEX_DIR))
        try:
            count = Matter(name, path, store, engine, zone).catch_up(progress)
        finally:
            engine.close()
        if (path / INDEX_DIR).exists():
            (path / INDEX_DIR).rename(old)
        fresh.rename(path / INDEX_DIR)
        store.set_meta(TOKENIZER_KEY, str(TOKENIZER_VERSION))
    shutil.rmtree(old, ignore_errors=True)
    return count


def list_matters() -> list[str]:
    home = config.home()
    if not home.is_dir():
        return []
    return sorted(p.name for p in home.iterdir() if (p / STORE_FILE).exists())
