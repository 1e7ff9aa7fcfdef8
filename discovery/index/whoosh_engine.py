"""The Whoosh implementation of :class:`discovery.index.TextEngine`.

One document per message. The ``body`` field holds every version of the text,
tokenised by :mod:`discovery.text` (no stop words, no minimum length, accents
folded, positions kept, versions ``VERSION_GAP`` positions apart). Documents
are only ever appended, in increasing message id, and commits never merge
segments, so document number ``d`` is message id ``d + 1``; the stored ``id``
field checks that at open and a full map is read if it ever does not hold.

A write that fails (a full disk, an interrupt) is cancelled and every file it
left is removed with Whoosh's own rule (segments no table of contents names,
the writer's temporary folder), so the index stays as it was committed and
takes no more space than before. Index files are owner-only (0600).
"""

from __future__ import annotations

import errno
import re
import shutil
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from whoosh import fields, index, query
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer
from whoosh.index import TOC, LockError, clean_files

from discovery import files
from discovery.errors import DiskFullError, IndexBusyError, StoreError
from discovery.text import version_tokens

VERSION_SEP = "\x1e"
"""Joins a message's versions in the indexed value (never part of a word)."""


class _Tokenizer(Tokenizer):  # type: ignore[misc]
    """Whoosh adapter for :func:`discovery.text.version_tokens`."""

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[WhooshToken]:
        t = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for tok in version_tokens(value.split(VERSION_SEP)):
            t.text = tok.text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = tok.text
            if positions:
                t.pos = start_pos + tok.pos
            if chars:
                t.startchar = start_char + tok.start
                t.endchar = start_char + tok.end
            yield t


def _schema() -> fields.Schema:
    return fields.Schema(
        id=fields.STORED(),
        body=fields.TEXT(analyzer=_Tokenizer(), phrase=True),
    )


class WhooshEngine:
    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        if index.exists_in(str(path)):
            self.ix = index.open_dir(str(path))
        elif create:
            files.private_dir(path)
            self.ix = index.create_in(str(path), _schema())
            self._restrict()
        else:
            raise StoreError(f"no index at {path}")
        self._searcher: Any = None
        self._docmap: list[int] | None = None

    # --- lifecycle ----------------------------------------------------------
    def _s(self) -> Any:
        """The one long-lived searcher, refreshed when the index changed."""
        if self._searcher is None:
            self._searcher = self.ix.searcher()
            self._check_docmap()
        elif not self._searcher.up_to_date():
            if self._searcher.reader().doc_count_all():
                self._searcher = self._searcher.refresh()
            else:  # whoosh cannot refresh a reader of an empty index
                self._searcher.close()
                self._searcher = self.ix.searcher()
            self._check_docmap()
        return self._searcher

    def _check_docmap(self) -> None:
        reader = self._searcher.reader()
        n = reader.doc_count_all()
        self._docmap = None
        if n == 0:
            return
        if reader.stored_fields(0)["id"] == 1 and reader.stored_fields(n - 1)["id"] == n:
            return
        self._docmap = [reader.stored_fields(d)["id"] for d in range(n)]

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
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self.ix.close()

    def indexed_through(self) -> int:
        s = self._s()
        n = s.reader().doc_count_all()
        if self._docmap is None:
            return int(n)
        return max(self._docmap, default=0)

    def add(self, rows: Iterable[tuple[int, Sequence[str]]]) -> int:
        """Index ``rows`` (see :class:`discovery.index.TextEngine`); only the matter's one
        writer (an ingest, under the matter's write lock) calls this."""
        last = self.indexed_through()
        self._clean()  # what a killed writer may have left
        try:
            writer = self.ix.writer(limitmb=256)
        except LockError:
            raise IndexBusyError(
                f"the index at {self.path} is being written by another discovery process"
                " (an ingest?); try again when it has finished"
            ) from None
        added = 0
        try:
            for mid, versions in rows:
                if mid <= last:
                    continue
                # A separator inside a text is just a non-word character there.
                body = VERSION_SEP.join(v.replace(VERSION_SEP, " ") for v in versions)
                writer.add_document(id=mid, body=body)
                last = mid
                added += 1
            if added:
                writer.commit(merge=False)
            else:
                writer.cancel()
        except BaseException as exc:
            self._undo(writer)
            if isinstance(exc, OSError):
                raise self._error(exc) from None
            raise
        self._restrict()
        return added

    def _undo(self, writer: Any) -> None:
        """Cancel a failed write and remove every file it left behind."""
        with suppress(Exception):  # it may be half-closed already; its files go below
            writer.cancel()
        lock = getattr(writer, "writelock", None)
        if lock is not None and getattr(lock, "fd", None) is not None:
            with suppress(Exception):
                lock.release()
        self._clean()
        self.ix = index.open_dir(str(self.path))
        self._restrict()

    def _clean(self) -> None:
        """Remove files no committed table of contents names, and the writer's temp folder."""
        storage, name = self.ix.storage, self.ix.indexname
        with suppress(Exception):
            gen = TOC._latest_generation(storage, name)
            clean_files(storage, name, gen, TOC.read(storage, name, gen).segments)
        shutil.rmtree(self.path / f"{name}.tmp", ignore_errors=True)

    def _error(self, exc: OSError) -> Exception:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return DiskFullError(str(self.path), 0, files.free_bytes(self.path))
        return StoreError(f"cannot write the index {self.path}: {exc.strerror or exc}")

    def _restrict(self) -> None:
        """Index files owner-only (Whoosh creates them with the default mode)."""
        for p in self.path.iterdir():
            files.restrict(p)

    # --- look-ups -----------------------------------------------------------
    def word_ids(self, words: Sequence[str]) -> set[int]:
        reader = self._s().reader()
        out: set[int] = set()
        for w in words:
            if ("body", w) in reader:
                out |= self._ids(reader.postings("body", w).all_ids())
        return out

    def doc_count(self, word: str) -> int:
        reader = self._s().reader()
        return int(reader.doc_frequency("body", word)) if ("body", word) in reader else 0

    def all_of(self, groups: Sequence[Sequence[str]]) -> set[int]:
        return self._ids(self._intersect([list(g) for g in groups]))

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
        reader = self._s().reader()
        terms = reader.expand_prefix("body", prefix) if prefix else reader.lexicon("body")
        for term in terms:
            yield term.decode("utf-8") if isinstance(term, bytes) else term

    def lexicon_between(self, first: str, last: str) -> Iterator[str]:
        for field, term in self._s().reader().terms_from("body", first):
            word = term.decode("utf-8") if isinstance(term, bytes) else term
            if field != "body" or word[:1] > last:
                return
            yield word

    def scores(self, words: Sequence[str], ids: set[int], limit: int | None) -> list[int]:
        """BM25 of ``words`` over just ``ids`` (probed with ``skip_to``); ties by id.

        Words held by more than a tenth of all messages are left out: their
        weight is close to nil and reading their postings is most of the cost.
        """
        s = self._s()
        docs = sorted(self._docnums(ids))
        total = dict.fromkeys(docs, 0.0)
        common = s.reader().doc_count_all() / 10
        for w in set(words):
            if not 0 < self.doc_count(w) <= common:
                continue
            for d, m in _probe(query.Term("body", w).matcher(s), docs):
                total[d] += m.score()
        ranked = sorted(docs, key=lambda d: -total[d])
        return [self._id(d) for d in (ranked if limit is None else ranked[:limit])]


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
