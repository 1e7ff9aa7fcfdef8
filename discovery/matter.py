"""A matter: one folder holding the SQLite case store and the full-text index."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from discovery import config
from discovery.errors import IndexBusyError, MatterNotFoundError, StoreError
from discovery.index import TextEngine, open_engine
from discovery.store import Store
from discovery.text import TOKENIZER_VERSION

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
        ingest stop between the two, the next open brings the index up to date.
        """
        rows = self.store.iter_index_rows(self.engine.indexed_through())

        def versions() -> Iterator[tuple[int, Sequence[str]]]:
            for n, (mid, text, prior) in enumerate(rows, 1):
                if progress is not None and n % 1000 == 0:
                    progress(1000)
                yield mid, (text, *json.loads(prior)) if prior else (text,)

        return self.engine.add(versions())

    def is_current(self) -> bool:
        return self.engine.indexed_through() >= self.store.max_message_id()


def open_matter(name: str | None = None, *, create: bool = False) -> Matter:
    """Open (or with ``create``, create) a matter under the home.

    ``name`` None is the default matter (:func:`discovery.config.default_matter`).
    """
    name = config.default_matter() if name is None else name
    path = config.matter_dir(name)
    if not (path / STORE_FILE).exists() and not create:
        raise MatterNotFoundError(missing_matter_message(name))
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
    engine = open_engine(path / INDEX_DIR, create=True)
    zone = config.zone(config.display_zone_name(store.get_meta(config.DISPLAY_TZ_KEY)))
    matter = Matter(name, path, store, engine, zone)
    if not matter.is_current():
        # If an ingest is writing, it brings the index up to date itself;
        # searches meanwhile answer from what is indexed (see search.py).
        with suppress(IndexBusyError):
            matter.catch_up()
    return matter


def missing_matter_message(name: str) -> str:
    """``no matter 'x' under HOME``, with the matters there are (or how to make one)."""
    known = list_matters()
    there = (
        f"matters there: {', '.join(known)}"
        if known
        else "there are no matters there yet: 'discovery ingest PATH --matter NAME' makes one"
    )
    return f"no matter {name!r} under {config.home()}; {there}"


def reindex(name: str, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild a matter's index from its case store with this tokenizer; returns messages indexed.

    Control numbers are the store's message ids, so they do not change. The
    new index is built beside the old one and swapped in when complete, so an
    interrupted rebuild leaves the old index (and the old version) in place.
    """
    path = config.matter_dir(name)
    if not (path / STORE_FILE).exists():
        raise MatterNotFoundError(missing_matter_message(name))
    fresh, old = path / "index.rebuild", path / "index.old"
    for leftover in (fresh, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    with Store(path / STORE_FILE) as store:
        zone = config.zone(config.display_zone_name(store.get_meta(config.DISPLAY_TZ_KEY)))
        engine = open_engine(fresh, create=True)
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
