"""The Whoosh implementation of :class:`discovery.index.TextEngine`.

One document per message. The ``body`` field holds every version of the text,
tokenised by :mod:`discovery.text` (no stop words, no minimum length, accents
folded, positions kept, versions ``VERSION_GAP`` positions apart). Documents
are only ever appended, in increasing message id, and commits never merge
segments, so document number ``d`` is message id ``d + 1``; the stored ``id``
field checks that at open and a full map is read if it ever does not hold.

Segments are written by :class:`discovery.index.segment.SegmentBuilder`, which
leaves a positions sidecar beside each (:mod:`discovery.index.sidecar`). When
every segment has one, word look-ups, wildcard expansion, positions and
ranking (Whoosh's BM25F, computed the same way) are read from the sidecars;
Whoosh's postings are what every look-up reads in an index written before the
sidecars existed.

A write that fails (a full disk, an interrupt) is cancelled and every file it
left is removed with Whoosh's own rule (segments no table of contents names,
the writer's temporary folder), so the index stays as it was committed and
takes no more space than before. Index files are owner-only (0600).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from math import log
from pathlib import Path
from typing import TYPE_CHECKING, Any

from discovery import files
from discovery.errors import DiskFullError, IndexBusyError, StoreError
from discovery.index.sidecar import SHIFT, Positions
from discovery.workers import Workers, tuned

if TYPE_CHECKING:
    import numpy as np

    from discovery.index.segment import SegmentBuilder

POSTINGS_PER_SEGMENT = 2_000_000
"""A segment is closed after this many postings (about 200,000 chat messages; the
writer's memory grows with it, ~150 MB at the end of a segment); the next rows go to
a new segment."""

INDEX_RANGE = 100_000
"""Message ids one worker process indexes at a time (``DISCOVERY_INDEX_RANGE``), into
a segment of their own (or more, past :data:`POSTINGS_PER_SEGMENT`); there are workers
when at least two ranges are to be indexed."""

BM25_B, BM25_K1 = 0.75, 1.2
"""Whoosh's default BM25F parameters (whoosh.scoring.BM25F; a test checks them)."""

USE_SIDECAR = True
"""Read look-ups from the positions sidecars when every segment has one (tests turn
it off to compare with Whoosh's postings)."""


MANIFEST = "positions.json"
"""What the sidecar path needs of Whoosh's table of contents (generation, segments,
their document counts and total lengths), so a search need not import Whoosh."""

_TOC = re.compile(r"\A_MAIN_([0-9]+)\.toc\Z")


def __getattr__(name: str) -> Any:
    # Tables of contents written before discovery.index.schema existed pickle
    # the analyzer as discovery.index.whoosh_engine._Tokenizer.
    if name in ("_Tokenizer", "VERSION_SEP"):
        from discovery.index import schema

        return getattr(schema, name)
    raise AttributeError(name)


@dataclass(frozen=True)
class _Contents:
    """One generation of the index: its segments in document order."""

    generation: int
    segments: tuple[str, ...]
    docs: tuple[int, ...]
    lengths: tuple[int, ...]
    """Total words of each segment (Whoosh's field length of ``body``)."""


def _latest_generation(path: Path) -> int:
    """The newest table of contents' generation, as Whoosh finds it; -1 for none."""
    found = [int(m.group(1)) for name in os.listdir(path) if (m := _TOC.match(name))]
    return max(found, default=-1)


class WhooshEngine:
    """Opened lazily, without importing Whoosh while the sidecars answer: the first
    look-up reads the manifest (or Whoosh's table of contents when the manifest is
    not of the newest generation) and the sidecars; Whoosh's readers are opened
    only when something needs the postings (an index without sidecars, a document
    map that is not ``id - 1``)."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        if not (path.is_dir() and _latest_generation(path) >= 0):
            if not create:
                raise StoreError(f"no index at {path}")
            from whoosh import index

            from discovery.index.schema import schema

            files.private_dir(path)
            index.create_in(str(path), schema()).close()
            _restrict(path)
        self._ix: Any = None
        self._contents: _Contents | None = None
        self._searcher: Any = None
        self._searcher_generation = -2
        self._docmap: list[int] | None = None
        self._docmap_known = False
        self._positions: Positions | None = None

    @property
    def ix(self) -> Any:
        """Whoosh's index object (imports Whoosh)."""
        if self._ix is None:
            from whoosh import index

            self._ix = index.open_dir(str(self.path))
        return self._ix

    # --- lifecycle ----------------------------------------------------------
    def _current(self) -> _Contents:
        """The index's segments, read again when a commit made a new generation."""
        generation = _latest_generation(self.path)
        if self._contents is not None and self._contents.generation == generation:
            return self._contents
        contents = _read_manifest(self.path, generation) or self._contents_from_toc()
        self._contents = contents
        if self._positions is not None:
            self._positions.close()
        self._positions = Positions.open(self.path, contents.segments)
        self._docmap_known = False
        if self._positions is not None:
            self._docmap = _docmap_of(self._positions, contents)
            self._docmap_known = True
        return contents

    def _contents_from_toc(self) -> _Contents:
        """Read Whoosh's table of contents and record it in the manifest."""
        toc = self.ix._read_toc()
        contents = _Contents(
            toc.generation,
            tuple(seg.segment_id() for seg in toc.segments),
            tuple(int(seg.doc_count_all()) for seg in toc.segments),
            tuple(int(seg._fieldlengths.get("body", 0)) for seg in toc.segments),
        )
        _write_manifest(self.path, contents)
        return contents

    def _doc_count_all(self) -> int:
        assert self._contents is not None
        return sum(self._contents.docs)

    def _s(self) -> Any:
        """Whoosh's searcher over the newest generation, opened when first needed."""
        from whoosh import searching

        contents = self._current()
        if self._searcher is None or self._searcher_generation != contents.generation:
            if self._searcher is not None:
                self._searcher.close()
            toc = self.ix._read_toc()
            if toc.generation != contents.generation:  # a commit in between
                self._contents = None
                contents = self._current()
                toc = self.ix._read_toc()
            reader = self.ix._reader(self.ix.storage, toc.schema, toc.segments, toc.generation)
            self._searcher = searching.Searcher(reader, fromindex=self.ix)
            self._searcher_generation = toc.generation
        if not self._docmap_known:
            reader = self._searcher.reader()
            n = reader.doc_count_all()
            self._docmap = None
            if n and not (
                reader.stored_fields(0)["id"] == 1 and reader.stored_fields(n - 1)["id"] == n
            ):
                self._docmap = [reader.stored_fields(d)["id"] for d in range(n)]
            self._docmap_known = True
        return self._searcher

    def _sidecar(self) -> Positions | None:
        self._current()
        return self._positions if USE_SIDECAR else None

    def _ids(self, docnums: Iterable[int]) -> set[int]:
        return {self._id(d) for d in docnums}

    def _id(self, docnum: int) -> int:
        return docnum + 1 if self._docmap is None else self._docmap[docnum]

    def _docnums(self, ids: Iterable[int]) -> set[int]:
        if self._docmap is None:
            return {i - 1 for i in ids}
        back = {v: d for d, v in enumerate(self._docmap)}
        return {back[i] for i in ids if i in back}

    def close(self) -> None:
        if self._positions is not None:
            self._positions.close()
            self._positions = None
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        if self._ix is not None:
            self._ix.close()

    def indexed_through(self) -> int:
        self._current()
        if not self._docmap_known:
            self._s()
        if self._docmap is None:
            return self._doc_count_all()
        return max(self._docmap, default=0)

    def add(self, rows: Iterable[tuple[int, Sequence[str]]]) -> int:
        """Append rows in id order, a new segment every :data:`POSTINGS_PER_SEGMENT`.

        Each segment is committed on its own, so an ingest that stops keeps the
        segments already written and the next catch-up goes on after them. Only
        the matter's one writer (an ingest or reindex, under the matter's write
        lock) calls this.
        """
        last = self.indexed_through()
        self._clean()  # what a killed writer may have left
        writer: SegmentBuilder | None = self._writer()  # refuse before reading any row
        added = 0
        try:
            for mid, versions in rows:
                if mid <= last:
                    continue
                if writer is None:
                    writer = self._writer()
                writer.add_message(mid, versions)
                last = mid
                added += 1
                if writer.postings >= POSTINGS_PER_SEGMENT:
                    writer.commit(merge=False)
                    self._contents_from_toc()
                    writer = None
            if writer is not None:
                if writer.doc_count():
                    writer.commit(merge=False)
                    self._contents_from_toc()
                else:
                    writer.cancel()
                writer = None
        except BaseException as exc:
            if writer is not None:
                self._undo(writer)
            else:
                self._clean()
            if isinstance(exc, OSError):
                raise self._error(exc) from None
            raise
        finally:
            _restrict(self.path)
        return added

    def add_range(
        self,
        read: Callable[[int, int], Iterable[tuple[int, Sequence[str]]]],
        through: int,
        progress: Callable[[int], None] | None = None,
        jobs: int = 1,
    ) -> int:
        """Index the rows ``read(after, through)`` gives, ``after`` being what is indexed.

        With ``jobs`` > 1 and at least two :data:`INDEX_RANGE` ranges of ids to
        index, the ranges are indexed by worker processes, each into segments of
        its own (``read`` must be picklable: it is called in the worker), and
        the segments of each range are committed as soon as every range before
        it is, in id order, so document numbers stay message ids minus one and
        an interrupted catch-up keeps the ranges it committed. Else as :meth:`add`.
        """
        last = self.indexed_through()
        span = tuned("INDEX_RANGE", INDEX_RANGE)
        if jobs <= 1 or through - last < 2 * span:
            return self.add(_counted(read(last, through), progress))
        self._clean()  # what a killed writer may have left
        lock = self.ix.lock("WRITELOCK")
        if not lock.acquire():
            raise IndexBusyError(
                f"the index at {self.path} is being written by another discovery process"
                " (an ingest?); try again when it has finished"
            )
        ranges = [(lo, min(lo + span, through)) for lo in range(last, through, span)]
        added = 0
        try:
            tasks = ((str(self.path), read, lo, hi) for lo, hi in ranges)
            with Workers(min(jobs, len(ranges)), fresh=True) as pool:
                for (lo, hi), (segments, count) in zip(
                    ranges, pool.ordered(_index_range, tasks), strict=False
                ):
                    if segments:
                        self._append(segments)
                    added += count
                    if progress is not None:
                        progress(hi - lo)
        except BaseException as exc:
            self._contents = None
            if isinstance(exc, OSError):
                raise self._error(exc) from None
            raise
        finally:
            self._clean()  # the workers are gone: what no table of contents names
            lock.release()
            _restrict(self.path)
        return added

    def _append(self, segments: list[Any]) -> None:
        """Commit ``segments`` (written by workers) after the index's, as Whoosh's commit does."""
        from whoosh.index import TOC

        toc = self.ix._read_toc()
        TOC(toc.schema, [*toc.segments, *segments], toc.generation + 1).write(
            self.ix.storage, self.ix.indexname
        )
        self._contents_from_toc()

    def _undo(self, writer: Any) -> None:
        """Cancel a failed write and remove every file it left behind."""
        with suppress(Exception):  # it may be half-closed already; its files go below
            writer.cancel()
        lock = getattr(writer, "writelock", None)
        if lock is not None and getattr(lock, "fd", None) is not None:
            with suppress(Exception):
                lock.release()
        self._clean()
        if self._ix is not None:
            with suppress(Exception):
                self._ix.close()
            self._ix = None
        self._contents = None

    def _clean(self) -> None:
        """Remove files no committed table of contents names, the writer's temp folder,
        and a table of contents half written (Whoosh writes it beside, then renames it)."""
        from whoosh.index import TOC, clean_files

        storage, name = self.ix.storage, self.ix.indexname
        with suppress(Exception):
            gen = TOC._latest_generation(storage, name)
            clean_files(storage, name, gen, TOC.read(storage, name, gen).segments)
        shutil.rmtree(self.path / f"{name}.tmp", ignore_errors=True)
        for half in self.path.glob(f"_{name}_*.toc.*"):
            half.unlink(missing_ok=True)

    def _error(self, exc: OSError) -> Exception:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return DiskFullError(str(self.path), 0, files.free_bytes(self.path))
        return StoreError(f"cannot write the index {self.path}: {exc.strerror or exc}")

    def _writer(self) -> SegmentBuilder:
        from whoosh.index import LockError

        from discovery.index.segment import SegmentBuilder

        try:
            return SegmentBuilder(self.ix)
        except LockError:
            raise IndexBusyError(
                f"the index at {self.path} is being written by another discovery process"
                " (an ingest?); try again when it has finished"
            ) from None

    # --- look-ups -----------------------------------------------------------
    def occurrences(self, words: Sequence[str]) -> np.ndarray | None:
        """Sorted keys (message id << 32 | position) of every occurrence of ``words``,
        or None when the index has no positions sidecar."""
        pos = self._sidecar()
        return None if pos is None else pos.keys(words)

    def few_occurrences(self, words: Sequence[str], limit: int) -> list[int] | None:
        """:meth:`occurrences` as a list, read without numpy; None when there are more
        than ``limit`` or the index has no positions sidecar."""
        pos = self._sidecar()
        return None if pos is None else pos.few_keys(words, limit)

    def few_positions(
        self, words: Sequence[str], ids: Sequence[int]
    ) -> dict[int, dict[str, list[int]]] | None:
        """:meth:`positions` at sorted ``ids``, read without numpy; None when the index
        has no positions sidecar."""
        pos = self._sidecar()
        return None if pos is None else pos.few_positions(words, ids)

    def word_ids(self, words: Sequence[str]) -> set[int]:
        pos = self._sidecar()
        if pos is not None:
            return set(pos.ids(words).tolist())
        reader = self._s().reader()
        out: set[int] = set()
        for w in words:
            if ("body", w) in reader:
                out |= self._ids(reader.postings("body", w).all_ids())
        return out

    def doc_count(self, word: str) -> int:
        pos = self._sidecar()
        if pos is not None:
            return pos.doc_count(word)
        reader = self._s().reader()
        return int(reader.doc_frequency("body", word)) if ("body", word) in reader else 0

    def all_of(self, groups: Sequence[Sequence[str]]) -> set[int]:
        pos = self._sidecar()
        if pos is None:
            return self._ids(self._intersect([list(g) for g in groups]))
        import numpy as np

        found = None
        for g in sorted(groups, key=lambda g: sum(pos.doc_count(w) for w in g)):
            ids = pos.ids(g)
            found = ids if found is None else np.intersect1d(found, ids, assume_unique=True)
            if not len(found):
                return set()
        return set() if found is None else set(found.tolist())

    def _intersect(self, groups: list[list[str]]) -> list[int]:
        """Sorted document numbers holding at least one word of every group.

        The rarest group is read in full; every other word is only probed at
        those documents with ``skip_to``, so a common word ("for", "the") in a
        phrase costs little more than a rare one.
        """
        reader = self._s().reader()
        df = self.doc_count
        sized = sorted((sum(df(w) for w in g), [w for w in g if df(w)]) for g in groups)
        if not sized or sized[0][0] == 0:
            return []
        base: set[int] = set()
        for w in sized[0][1]:
            base.update(reader.postings("body", w).all_ids())
        docs = sorted(base)
        for _, group in sized[1:]:
            found: set[int] = set()
            for w in group:
                found.update(d for d, _ in _probe(reader.postings("body", w), docs))
            docs = [d for d in docs if d in found]
            if not docs:
                break
        return docs

    def positions(self, words: Sequence[str], ids: set[int]) -> dict[int, dict[str, list[int]]]:
        pos = self._sidecar()
        if pos is not None:
            return _positions_of(pos, words, ids)
        reader = self._s().reader()
        docs = sorted(self._docnums(ids))
        out: dict[int, dict[str, list[int]]] = {self._id(d): {} for d in docs}
        for w in set(words):
            if ("body", w) not in reader:
                continue
            for d, m in _probe(reader.postings("body", w), docs):
                out[self._id(d)][w] = list(m.value_as("positions"))
        return out

    def expand(self, regex: str, prefix: str, limit: int) -> list[str] | None:
        pos = self._sidecar()
        if pos is not None:
            return pos.expand(regex, prefix, limit)
        pattern = re.compile(regex)
        reader = self._s().reader()
        found: list[str] = []
        terms = reader.expand_prefix("body", prefix) if prefix else reader.lexicon("body")
        for term in terms:
            word = term.decode("utf-8") if isinstance(term, bytes) else term
            if pattern.fullmatch(word):
                found.append(word)
                if len(found) > limit:
                    return None
        return found

    def lexicon(self, prefix: str) -> Iterator[str]:
        pos = self._sidecar()
        if pos is not None:
            yield from pos.lexicon(prefix)
            return
        reader = self._s().reader()
        terms = reader.expand_prefix("body", prefix) if prefix else reader.lexicon("body")
        for term in terms:
            yield term.decode("utf-8") if isinstance(term, bytes) else term

    def lexicon_between(self, first: str, last: str) -> Iterator[str]:
        pos = self._sidecar()
        if pos is not None:
            yield from pos.lexicon_between(first, last)
            return
        for field, term in self._s().reader().terms_from("body", first):
            word = term.decode("utf-8") if isinstance(term, bytes) else term
            if field != "body" or word[:1] > last:
                return
            yield word

    def scores(
        self, words: Sequence[str], ids: Collection[int] | np.ndarray, limit: int | None
    ) -> list[int]:
        """BM25 of ``words`` over just ``ids`` (probed with ``skip_to``); ties by id.

        Words held by more than a tenth of all messages are left out: their
        weight is close to nil and reading their postings is most of the cost.
        """
        pos = self._sidecar()
        if pos is not None and self._docmap is None:
            assert self._contents is not None
            n, length = sum(self._contents.docs), sum(self._contents.lengths)
            return bm25(n, length, pos, words, ids, limit)
        if _is_array(ids):
            ids = set(ids.tolist())  # type: ignore[union-attr]
        from whoosh.query import Term

        s = self._s()
        docs = sorted(self._docnums(ids))
        total = dict.fromkeys(docs, 0.0)
        common = s.reader().doc_count_all() / 10
        for w in set(words):
            if not 0 < self.doc_count(w) <= common:
                continue
            for d, m in _probe(Term("body", w).matcher(s), docs):
                total[d] += m.score()
        ranked = sorted(docs, key=lambda d: -total[d])
        return [self._id(d) for d in (ranked if limit is None else ranked[:limit])]


def _counted(
    rows: Iterable[tuple[int, Sequence[str]]], progress: Callable[[int], None] | None
) -> Iterator[tuple[int, Sequence[str]]]:
    """``rows``, telling ``progress`` every 1,000."""
    for n, row in enumerate(rows, 1):
        if progress is not None and n % 1000 == 0:
            progress(1000)
        yield row


def _index_range(
    path: str,
    read: Callable[[int, int], Iterable[tuple[int, Sequence[str]]]],
    after: int,
    through: int,
) -> tuple[list[Any], int]:
    """In a worker: index the ids in ``(after, through]`` into new segments of the index
    at ``path``, left for the parent to commit; return them, and how many rows."""
    from whoosh import index

    from discovery.index.segment import SegmentBuilder

    ix = index.open_dir(path)
    segments = []
    count = 0
    writer = SegmentBuilder(ix, _lk=False)
    for mid, versions in read(after, through):
        writer.add_message(mid, versions)
        count += 1
        if writer.postings >= POSTINGS_PER_SEGMENT:
            segments.append(writer.finish())
            writer = SegmentBuilder(ix, _lk=False)
    if writer.doc_count():
        segments.append(writer.finish())
    return segments, count


def _restrict(path: Path) -> None:
    """Index files owner-only (Whoosh creates them with the default mode)."""
    for p in path.iterdir():
        files.restrict(p)


def _read_manifest(path: Path, generation: int) -> _Contents | None:
    """The manifest, if it describes ``generation``."""
    try:
        data = json.loads((path / MANIFEST).read_text())
        if data["generation"] != generation:
            return None
        return _Contents(
            generation, tuple(data["segments"]), tuple(data["docs"]), tuple(data["lengths"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_manifest(path: Path, contents: _Contents) -> None:
    data = {
        "generation": contents.generation,
        "segments": contents.segments,
        "docs": contents.docs,
        "lengths": contents.lengths,
    }
    tmp = path / f".{MANIFEST}.{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path / MANIFEST)
    except OSError:  # a read-only matter: the table of contents is read each time
        tmp.unlink(missing_ok=True)


def _docmap_of(pos: Positions, contents: _Contents) -> list[int] | None:
    """The message id of each document number, None when it is ``number + 1``."""
    n = sum(contents.docs)
    by_id = {seg.path.name.split(".")[0]: seg for seg in pos.segments}
    segs = [by_id[sid] for sid in contents.segments]
    expected = 1
    for seg in segs:  # each segment's ids increase: its first, last and count tell
        if seg.first_id != expected or seg.last_id != expected + len(seg) - 1:
            return [i for s in segs for i in s.id_list()]
        expected += len(seg)
    return None if expected - 1 == n else [i for s in segs for i in s.id_list()]


def bm25(
    n: int,
    total_length: int,
    pos: Any,
    words: Sequence[str],
    ids: Collection[int] | np.ndarray,
    limit: int | None,
) -> list[int]:
    """Whoosh's BM25F scores of ``ids``, computed over the sidecar's arrays.

    The same formula (``whoosh.scoring.BM25F``: its idf, B and K1), statistics
    (document count ``n`` and ``total_length`` from the table of contents,
    document frequencies and lengths as Whoosh stores them) and order of
    operations as Whoosh's ``BM25FScorer``, and the same word order as
    :meth:`WhooshEngine.scores`, so the same float scores and ranking; the engine
    test compares them. ``pos`` is a :class:`Positions` (``doc_count``, ``keys``,
    ``lengths``), or the same over several shards (:mod:`discovery.index.sharded`).
    """
    if not _is_array(ids) and isinstance(pos, Positions):
        ranked = _few_bm25(n, total_length, pos, words, sorted(ids), limit)
        if ranked is not None:
            return ranked
    import numpy as np

    if _is_array(ids):
        wanted = ids  # sorted, distinct
    else:
        wanted = np.fromiter(ids, dtype=np.int64, count=len(ids))
        wanted.sort()
    total = np.zeros(len(wanted), dtype=np.float64)
    common = n / 10
    b, k1 = BM25_B, BM25_K1
    avgfl = total_length / (n or 1) or 1
    lengths: np.ndarray | None = None
    for w in set(words):
        if not 0 < pos.doc_count(w) <= common:
            continue
        if lengths is None:
            lengths = pos.lengths(wanted)
        keys = pos.keys([w])
        tf = np.searchsorted(keys, (wanted + 1) << SHIFT) - np.searchsorted(keys, wanted << SHIFT)
        has = tf > 0
        weight = tf[has].astype(np.float64)
        fl = lengths[has]
        idf = log(n / (pos.doc_count(w) + 1)) + 1  # whoosh.scoring.WeightingModel.idf
        total[has] += idf * ((weight * (k1 + 1)) / (weight + k1 * ((1 - b) + b * fl / avgfl)))
    ranked = wanted[np.argsort(-total, kind="stable")]
    return (ranked if limit is None else ranked[:limit]).tolist()


FEW_PROBES = 5_000
"""Up to this many messages, :func:`bm25` looks their words up without numpy ..."""
FEW_KEYS = 10_000
"""... and for more, it reads up to this many occurrences of a word without numpy."""


def _few_bm25(
    n: int,
    total_length: int,
    pos: Positions,
    words: Sequence[str],
    wanted: list[int],
    limit: int | None,
) -> list[int] | None:
    """:func:`bm25` in plain Python over sorted ``wanted``: the same operations on the
    same float64 values in the same order, so the same scores, bit for bit, and the
    same ranking. None past :data:`FEW_PROBES` messages when a word has more than
    :data:`FEW_KEYS` occurrences."""
    total = dict.fromkeys(wanted, 0.0)
    common = n / 10
    b, k1 = BM25_B, BM25_K1
    avgfl = total_length / (n or 1) or 1
    lengths: dict[int, float] | None = None
    for w in set(words):
        if not 0 < pos.doc_count(w) <= common:
            continue
        if len(wanted) <= FEW_PROBES:
            found = pos.few_positions([w], wanted)
            tf = {mid: len(held[w]) for mid, held in found.items() if w in held}
        else:
            keys = pos.few_keys([w], FEW_KEYS)
            if keys is None:
                return None
            tf = {}
            for key in keys:
                mid = key >> SHIFT
                if mid in total:
                    tf[mid] = tf.get(mid, 0) + 1
        if lengths is None:
            lengths = dict(zip(wanted, pos.length_list(wanted), strict=True))
        idf = log(n / (pos.doc_count(w) + 1)) + 1  # whoosh.scoring.WeightingModel.idf
        for mid, count in tf.items():
            weight, fl = float(count), lengths[mid]
            total[mid] += idf * ((weight * (k1 + 1)) / (weight + k1 * ((1 - b) + b * fl / avgfl)))
    ranked = sorted(wanted, key=lambda mid: -total[mid])  # stable: ties in id order
    return ranked if limit is None else ranked[:limit]


def _is_array(ids: object) -> bool:
    """Whether ``ids`` is a numpy array (told without importing numpy)."""
    return type(ids).__module__ == "numpy"


def _positions_of(
    pos: Positions, words: Sequence[str], ids: set[int]
) -> dict[int, dict[str, list[int]]]:
    import numpy as np

    wanted = np.fromiter(ids, dtype=np.int64, count=len(ids))
    wanted.sort()
    out: dict[int, dict[str, list[int]]] = {i: {} for i in wanted.tolist()}
    for w in set(words):
        keys = pos.keys([w])
        mids = keys >> SHIFT
        keep = keys[np.isin(mids, wanted, assume_unique=False)]
        for key in keep.tolist():
            out[key >> SHIFT].setdefault(w, []).append(key & 0xFFFFFFFF)
    return out


def _probe(m: Any, docs: Sequence[int]) -> Iterator[tuple[int, Any]]:
    """The documents of sorted ``docs`` that matcher ``m`` holds, with ``m`` positioned there.

    Whoosh's own ``skip_to`` walks a block one posting at a time in Python;
    for its leaf matchers (whoosh 2.7's W3LeafMatcher) we bisect the block's
    decoded ids instead. Any other matcher goes through ``skip_to``.
    """
    fast = hasattr(m, "_read_ids") and hasattr(m, "block_max_id")
    for d in docs:
        if not m.is_active():
            return
        if fast:
            if d > m.block_max_id():
                m._skip_to_block(lambda d=d: d > m.block_max_id())
                if not m.is_active():
                    return
            if m._ids is None:
                m._read_ids()
            m._i = bisect_left(m._ids, d, m._i)
            if m._i == m._blocklength:  # past this block's ids: continue in the next
                m._next_block()
                if not m.is_active():
                    return
        elif m.id() < d:
            m.skip_to(d)
            if not m.is_active():
                return
        if m.id() == d:
            yield d, m
