"""The Whoosh implementation of :class:`discovery.index.TextEngine`.

One document per message. The ``body`` field holds every version of the text,
tokenised by :mod:`discovery.text` (no stop words, no minimum length, accents
folded, positions kept, versions ``VERSION_GAP`` positions apart). Documents
are only ever appended, in increasing message id, and commits never merge
segments, so document number ``d`` is message id ``d + 1``; the stored ``id``
field checks that at open and a full map is read if it ever does not hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from whoosh import fields, index, query
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer

from discovery.errors import StoreError
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
            path.mkdir(parents=True, exist_ok=True)
            self.ix = index.create_in(str(path), _schema())
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
        if self._docmap is None:
            return {d + 1 for d in docnums}
        m = self._docmap
        return {m[d] for d in docnums}

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
        last = self.indexed_through()
        writer = self.ix.writer(limitmb=256)
        added = 0
        try:
            for mid, versions in rows:
                if mid <= last:
                    continue
                writer.add_document(id=mid, body=VERSION_SEP.join(versions))
                last = mid
                added += 1
        except BaseException:
            writer.cancel()
            raise
        if added:
            writer.commit(merge=False)
        else:
            writer.cancel()
        return added

    # --- look-ups -----------------------------------------------------------
    def word_ids(self, words: Sequence[str]) -> set[int]:
        reader = self._s().reader()
        out: set[int] = set()
        for w in words:
            if ("body", w) in reader:
                out |= self._ids(reader.postings("body", w).all_ids())
        return out

    def phrase_ids(self, words: Sequence[str]) -> set[int]:
        q = query.Phrase("body", list(words))
        return self._ids(self._s().docs_for_query(q))

    def near_ids(self, left: Sequence[str], right: Sequence[str], distance: int) -> set[int]:
        # Whoosh's span slop is measured differently from w/N; a wider slop keeps
        # it a superset, and the verifier decides exactly.
        if not left or not right:
            return set()
        q = query.spans.SpanNear2(
            [_any("body", left), _any("body", right)],
            slop=distance + 1,
            ordered=False,
            mindist=0,
        )
        return self._ids(self._s().docs_for_query(q))

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

    def scores(self, words: Sequence[str], ids: set[int], limit: int | None) -> list[int]:
        if not ids:
            return []
        s = self._s()
        q = query.Or([query.Term("body", w) for w in words]) if words else query.Every()
        results = s.search(q, filter=self._docnums(ids), limit=limit)
        ranked = [h["id"] for h in results]
        if limit is not None and len(ranked) >= limit:
            return ranked[:limit]
        seen = set(ranked)
        rest = sorted(ids - seen)
        ranked.extend(rest)
        return ranked if limit is None else ranked[:limit]


def _any(fieldname: str, words: Sequence[str]) -> Any:
    if len(words) == 1:
        return query.Term(fieldname, words[0])
    return query.spans.SpanOr([query.Term(fieldname, w) for w in words])
