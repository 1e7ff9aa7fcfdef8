"""A matter's index in shards: one Whoosh index per shard, each holding whole sources.

``index/shards.json`` (the manifest) names the shard folders (``index/shard-00``
...), how many messages each holds and how far every shard is indexed;
``index/runs.json`` which ids each shard holds (runs of ids, a source's new
messages being one run). :class:`ShardedEngine` answers
the :class:`~discovery.index.TextEngine` protocol over all of them: every
look-up is per message, so the union of the shards' answers is the answer of
one index over the same messages; wildcard expansions and lexicons are merged
and counted again; relevance is BM25 over the statistics of all the shards
summed, so the same floats and the same ranking as one index (see
:func:`discovery.index.whoosh_engine.bm25`).

Indexing (:meth:`ShardedEngine.add_range`) first gives each source that got
new ids a shard (the one holding the fewest messages, ties the lowest number),
then indexes every shard's new runs, each shard by one task: in worker
processes here, or on a Dask cluster's workers when a runner is set
(:mod:`discovery.shards`, which starts a source's task as soon as it is
stored, from :meth:`ShardedEngine.plan`). Only when every shard has its runs does the
manifest say so: a search answers over ids up to ``indexed_through``, so it
never sees a shard ahead of another, and a catch-up that stopped midway goes
on from what each shard committed.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from discovery import files
from discovery.errors import StoreError
from discovery.index.whoosh_engine import WhooshEngine, bm25
from discovery.workers import Workers

if TYPE_CHECKING:
    import numpy as np

MANIFEST = "shards.json"
RUNS = "runs.json"
"""Beside the manifest: the runs of ids each shard holds, ``[first, last, shard]`` in id
order (read only to index, so a search reads the small manifest alone)."""
MAX_SHARDS = 256
CACHE_BYTES = 256 << 20
"""Merged occurrence arrays kept for the words asked again (a batch, the next page)."""
Runner = Callable[[Callable[..., Any], list[tuple[Any, ...]]], Iterator[Any]]
"""Runs ``fn(*args)`` for every args tuple elsewhere; yields the results in order."""


def is_sharded(path: Path) -> bool:
    return (path / MANIFEST).is_file()


def shard_count(path: Path) -> int:
    """How many shards the index at ``path`` has (1: not sharded)."""
    return len(_read(path)["shards"]) if is_sharded(path) else 1


def create_sharded(path: Path, count: int) -> None:
    """Lay out an empty index of ``count`` shards at ``path``."""
    if not 2 <= count <= MAX_SHARDS:
        raise StoreError(f"a matter has from 2 to {MAX_SHARDS} shards, not {count}")
    files.private_dir(path)
    names = [f"shard-{k:02d}" for k in range(count)]
    for name in names:
        WhooshEngine(path / name, create=True).close()
    _write(path / RUNS, [])
    _write(
        path / MANIFEST,
        {"shards": names, "indexed_through": 0, "assigned_through": 0, "sizes": [0] * count},
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads((path / MANIFEST).read_text())
        if not isinstance(data.get("shards"), list) or not data["shards"]:
            raise ValueError("no shards")
        return data
    except (OSError, ValueError) as exc:
        raise StoreError(f"the shard manifest {path / MANIFEST} cannot be read: {exc}") from None


def _runs(path: Path) -> list[list[int]]:
    try:
        return json.loads((path / RUNS).read_text())
    except (OSError, ValueError) as exc:
        raise StoreError(f"the shard runs {path / RUNS} cannot be read: {exc}") from None


def _write(path: Path, data: object) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    files.restrict(tmp)
    os.replace(tmp, path)


def _local(jobs: int) -> Runner:
    """Runs the tasks in up to ``jobs`` worker processes of this machine (here for one)."""

    def run(fn: Callable[..., Any], tasks: list[tuple[Any, ...]]) -> Iterator[Any]:
        if jobs <= 1 or len(tasks) <= 1:
            yield from (fn(*args) for args in tasks)
            return
        with Workers(min(jobs, len(tasks))) as pool:
            yield from pool.ordered(fn, iter(tasks))

    return run


class ShardRows:
    """The rows of one shard's runs of ids in ``(after, through]`` (picklable: read in
    the task that indexes the shard)."""

    def __init__(
        self,
        read: Callable[[int, int], Iterable[tuple[int, Sequence[str]]]],
        runs: Sequence[tuple[int, int]],
    ) -> None:
        self.read = read
        self.runs = list(runs)

    def __call__(self, after: int, through: int) -> Iterator[tuple[int, Sequence[str]]]:
        for first, last in self.runs:
            lo, hi = max(first - 1, after), min(last, through)
            if hi > lo:
                yield from self.read(lo, hi)


def index_shard(folder: str, rows: ShardRows, through: int) -> int:
    """Index a shard's new rows up to ``through`` (in whichever process runs it): the
    shard's one writer, going on after what it committed."""
    engine = WhooshEngine(Path(folder))
    try:
        new = iter(rows(engine.indexed_through(), through))
        first = next(new, None)  # none: its earlier tasks indexed them all
        return 0 if first is None else engine.add(itertools.chain([first], new))
    finally:
        engine.close()


class ShardedEngine:
    """:class:`~discovery.index.TextEngine` over the shards of a sharded index."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.runner: Runner | None = None
        """Where shards are indexed (a Dask cluster); None: worker processes here."""
        self._engines: list[WhooshEngine] | None = None
        self._cache: dict[tuple[str, ...], np.ndarray | None] = {}
        self._cached_for: tuple[int, ...] = ()

    # --- the shards -------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        return _read(self.path)

    def engines(self) -> list[WhooshEngine]:
        if self._engines is None:
            self._engines = [WhooshEngine(self.path / n) for n in self.manifest()["shards"]]
        return self._engines

    def _live(self) -> list[WhooshEngine]:
        """The shards holding messages (from their tables of contents: cheap)."""
        return [e for e in self.engines() if sum(e._current().docs)]

    def close(self) -> None:
        for e in self._engines or ():
            e.close()
        self._engines = None

    # --- writing ------------------------------------------------------------
    def indexed_through(self) -> int:
        return int(self.manifest()["indexed_through"])

    def add(self, rows: Iterable[tuple[int, Sequence[str]]]) -> int:
        raise StoreError("a sharded index is written by source (add_range), not row by row")

    def add_range(
        self,
        read: Callable[[int, int], Iterable[tuple[int, Sequence[str]]]],
        through: int,
        progress: Callable[[int], None] | None = None,
        jobs: int = 1,
    ) -> int:
        """Give each newly stored source a shard, then index every shard's new runs.

        ``read`` is the case store's :class:`~discovery.store.IndexRows` (its
        ``owner_runs`` says which source brought each message in).
        """
        tasks = self.plan(read, through)
        self.close()  # the shards change under their engines
        added = 0
        for count in (self.runner or _local(jobs))(index_shard, tasks):
            added += count
            if progress is not None:
                progress(count)
        data = self.manifest()
        data["indexed_through"] = max(through, data["indexed_through"])
        _write(self.path / MANIFEST, data)
        return added

    def plan(
        self,
        read: Callable[[int, int], Iterable[tuple[int, Sequence[str]]]],
        through: int,
        since: int | None = None,
    ) -> list[tuple[str, ShardRows, int]]:
        """Give each source stored up to ``through`` and not yet placed a shard (recorded in
        the manifest); return the :func:`index_shard` tasks of the shards holding runs past
        ``since`` (None: past what every shard is indexed through), each up to ``through``.

        Nothing is marked indexed: :meth:`add_range` does that once every shard has its
        runs, so the tasks of an ingest's sources may run as they are stored, and the
        shards be brought up to date at its end."""
        data = self.manifest()
        done = data["assigned_through"]
        # Runs past what the manifest says was assigned were left by a stopped catch-up.
        runs = [[a, min(b, done), k] for a, b, k in _runs(self.path) if a <= done]
        if through > done:
            _assign(runs, data["sizes"], read.owner_runs(done, through))  # type: ignore[attr-defined]
            _write(self.path / RUNS, runs)
            data["assigned_through"] = through
            _write(self.path / MANIFEST, data)
        indexed = data["indexed_through"]
        after = indexed if since is None else since
        tasks = []
        for k, name in enumerate(data["shards"]):
            if any(s == k and b > after for a, b, s in runs):
                mine = [(a, b) for a, b, s in runs if s == k and b > indexed]
                tasks.append((str(self.path / name), ShardRows(read, mine), through))
        return tasks

    # --- look-ups -----------------------------------------------------------
    def occurrences(self, words: Sequence[str]) -> np.ndarray | None:
        """The shards' occurrence keys merged (kept while no shard changes)."""
        live = self._live()
        generations = tuple(e._current().generation for e in live)
        if generations != self._cached_for:
            self._cache.clear()
            self._cached_for = generations
        key = tuple(words)
        if key in self._cache:
            return self._cache[key]
        parts = [e.occurrences(words) for e in live]
        merged = None if any(p is None for p in parts) else _merged(parts)  # type: ignore[arg-type]
        held = sum(a.nbytes for a in self._cache.values() if a is not None)
        if merged is not None and held + merged.nbytes > CACHE_BYTES:
            self._cache.clear()
        self._cache[key] = merged
        return merged

    def few_occurrences(self, words: Sequence[str], limit: int) -> list[int] | None:
        """The shards' :meth:`WhooshEngine.few_occurrences` merged; None past ``limit``."""
        parts = [e.few_occurrences(words, limit) for e in self._live()]
        if any(p is None for p in parts) or sum(map(len, parts)) > limit:  # type: ignore[arg-type]
            return None
        return sorted(k for p in parts for k in p)  # type: ignore[union-attr]

    def few_positions(
        self, words: Sequence[str], ids: Sequence[int]
    ) -> dict[int, dict[str, list[int]]] | None:
        """Each shard's :meth:`WhooshEngine.few_positions` (a message is in one shard)."""
        out: dict[int, dict[str, list[int]]] = {i: {} for i in ids}
        for e in self._live():
            found = e.few_positions(words, ids)
            if found is None:
                return None
            for i, held in found.items():
                out[i].update(held)
        return out

    def word_ids(self, words: Sequence[str]) -> set[int]:
        return set().union(*(e.word_ids(words) for e in self._live()))

    def doc_count(self, word: str) -> int:
        return sum(e.doc_count(word) for e in self._live())

    def all_of(self, groups: Sequence[Sequence[str]]) -> set[int]:
        return set().union(*(e.all_of(groups) for e in self._live()))

    def positions(self, words: Sequence[str], ids: set[int]) -> dict[int, dict[str, list[int]]]:
        out: dict[int, dict[str, list[int]]] = {i: {} for i in ids}
        for e in self._live():
            for i, found in e.positions(words, ids).items():
                if found:
                    out[i] = found
        return out

    def expand(self, regex: str, prefix: str, limit: int) -> list[str] | None:
        found: set[str] = set()
        for e in self._live():
            words = e.expand(regex, prefix, limit)
            if words is None:
                return None
            found.update(words)
            if len(found) > limit:
                return None
        return sorted(found)

    def lexicon(self, prefix: str) -> Iterator[str]:
        yield from _distinct(heapq.merge(*(e.lexicon(prefix) for e in self._live())))

    def lexicon_between(self, first: str, last: str) -> Iterator[str]:
        merged = heapq.merge(*(e.lexicon_between(first, last) for e in self._live()))
        yield from _distinct(merged)

    def scores(
        self, words: Sequence[str], ids: Collection[int] | np.ndarray, limit: int | None
    ) -> list[int]:
        """BM25 over all the shards' statistics: the ranking of one index of them all."""
        shards = []
        for e in self._live():
            pos = e._sidecar()
            if pos is None or e._contents is None:
                raise StoreError(f"the shard at {e.path} has no positions sidecar: reindex it")
            shards.append((pos, e._contents))
        n = sum(sum(c.docs) for _, c in shards)
        length = sum(sum(c.lengths) for _, c in shards)
        return bm25(n, length, _AllShards(self, [p for p, _ in shards]), words, ids, limit)


class _AllShards:
    """What :func:`bm25` reads of a sidecar, over the sidecars of every shard."""

    def __init__(self, engine: ShardedEngine, shards: list[Any]) -> None:
        self.engine = engine
        self.shards = shards

    def doc_count(self, word: str) -> int:
        return sum(p.doc_count(word) for p in self.shards)

    def keys(self, words: Sequence[str]) -> np.ndarray:
        keys = self.engine.occurrences(words)
        assert keys is not None  # every shard has its sidecar (checked by scores)
        return keys

    def lengths(self, ids: np.ndarray) -> np.ndarray:
        """The ranking lengths of sorted ``ids``, each from the segment holding it."""
        import numpy as np

        out = np.zeros(len(ids), dtype=np.float64)
        for seg in (seg for p in self.shards for seg in p.segments):
            lo, hi = np.searchsorted(ids, [seg.first_id, seg.last_id + 1])
            if hi <= lo:
                continue
            part = ids[lo:hi]
            at = np.minimum(np.searchsorted(seg.doc_ids, part), len(seg.doc_ids) - 1)
            held = seg.doc_ids[at] == part
            if held.any():
                window = out[lo:hi]
                window[held] = seg.lengths(part[held])
        return out


def _assign(
    ranges: list[list[int]], sizes: list[int], owned: Iterable[tuple[int, int, int]]
) -> None:
    """Give each source's runs of new ids (``owned``: first, last, source, in id order) the
    shard holding the fewest messages when its first run comes."""
    shard_of: dict[int, int] = {}
    for first, last, source in owned:
        shard = shard_of.get(source)
        if shard is None:
            shard = shard_of[source] = min(range(len(sizes)), key=lambda k: (sizes[k], k))
        sizes[shard] += last - first + 1
        if ranges and ranges[-1][2] == shard and ranges[-1][1] == first - 1:
            ranges[-1][1] = last
        else:
            ranges.append([first, last, shard])


def _merged(parts: list[np.ndarray]) -> np.ndarray:
    """One sorted array of the shards' sorted ``parts`` (the sort merges their runs)."""
    import numpy as np

    kept = [p for p in parts if len(p)]
    if len(kept) <= 1:
        return kept[0] if kept else np.empty(0, dtype="<i8")
    return np.sort(np.concatenate(kept), kind="stable")


def _distinct(words: Iterable[str]) -> Iterator[str]:
    last = None
    for w in words:
        if w != last:
            yield w
            last = w
