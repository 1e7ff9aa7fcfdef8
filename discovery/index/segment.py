"""A faster writer of Whoosh segments, and the positions sidecar beside each.

Whoosh's own writer sends every posting through its ``PostingPool`` (pickled
run files, sorted and heap-merged at commit) and re-reads each document's
length from the segment it is writing. Messages arrive in id order, so each
word's postings are already in document order: this writer keeps them in
flat arrays, groups them by word with one stable sort at the end, memoises
the encoding of recurring position lists, and fills Whoosh's own postings
writer a block at a time. The segment files are the ones Whoosh's writer
makes for the same documents (tests/test_index_writer.py compares them byte
for byte), so Whoosh reads them as it always has.

Each message is tokenised once, by :func:`discovery.text.word_positions` (the
positions :func:`~discovery.text.version_tokens` gives); the same positions give
the sidecar (:mod:`discovery.index.sidecar`).

Segments are not compound: Whoosh copies a compound file into memory when it
opens one.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from itertools import accumulate, chain
from pathlib import Path
from pickle import dumps
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from discovery.index import sidecar
from discovery.text import word_positions

FIELD = "body"


class SegmentBuilder(SegmentWriter):  # type: ignore[misc]
    """Writes one new segment of (message id, versions) documents, in id order.

    Use :meth:`add_message` for each message, then Whoosh's ``commit(merge=False)``
    or ``cancel()``; or, in a worker process writing segments the parent commits
    (``_lk=False``: the parent holds the index's lock), :meth:`finish`.
    :attr:`postings` tells the caller when to start another segment.
    """

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, compound=False, **kwargs)
        self._body = self.schema[FIELD]
        self._words: dict[str, int] = {}
        self._p_word = array("I")  # per posting: word number
        self._p_doc = array("I")  # per posting: document number
        self._p_pos: list[tuple[int, ...]] = []  # per posting: positions (shared tuples)
        self._shared: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._ids = array("q")  # per document: message id
        self._lengths = array("I")  # per document: length as Whoosh reads it back
        self._length_bytes = bytearray()  # per document: the length as Whoosh stores it
        self._words_total = 0

    @property
    def postings(self) -> int:
        return len(self._p_doc)

    def add_message(self, mid: int, versions: Sequence[str]) -> None:
        docnum = self.docnum
        where, n = word_positions(versions)
        words = self._words
        shared = self._shared
        p_word = self._p_word
        p_pos = self._p_pos
        for word, ps in where.items():
            w = words.get(word)
            if w is None:
                w = words[word] = len(words)
            p_word.append(w)
            t = tuple(ps)
            p_pos.append(shared.setdefault(t, t))
        self._p_doc.extend([docnum] * len(where))
        self._ids.append(mid)
        lb = length_to_byte(n) if n else 0
        self._length_bytes.append(lb)
        self._lengths.append(byte_to_length(lb) if n else 0)
        self._words_total += n
        self._added = True
        self.docnum += 1

    def finish(self) -> Any:
        """Write the segment's files and return the segment, for a table of contents
        the caller writes (nothing is committed here)."""
        return self._finalize_segment()

    def _flush_segment(self) -> None:  # called by Whoosh's commit
        self._write_columns()
        self.perdocwriter.close()
        order, words, counts = self._grouped()
        docs = np.frombuffer(self._p_doc, dtype=np.uint32)[order]
        positions: list[tuple[int, ...]] = []
        for lo in range(0, len(order), 65_536):  # no list of every posting number at once
            positions.extend(map(self._p_pos.__getitem__, order[lo : lo + 65_536].tolist()))
        del order
        self._p_pos = []
        self._write_postings(docs, positions, words, counts)
        self.fieldwriter.close()
        self._write_sidecar(docs, positions, words, counts)

    def _write_columns(self) -> None:
        """The per-document columns as Whoosh's ``add_document`` leaves them (fields in
        name order: the body's length, unstored; the stored id), written at once."""
        pdw = self.perdocwriter
        pdw._doccount = len(self._ids)
        if self._words_total:
            pdw._fieldlengths[FIELD] += self._words_total
        # The stored fields: a pickle of each document's {"id": ...}, compressed (a
        # VarBytes column: the values, then their lengths and offsets at close).
        stored = pdw._get_column("_stored")._child
        values = [stored._compress(dumps({"id": mid}, 2), stored._level) for mid in self._ids]
        stored._dbfile.write(b"".join(values))
        sizes = list(map(len, values))
        stored._lengths.extend(sizes)
        stored._offsets.extend(accumulate(sizes[:-1], initial=0) if sizes else ())
        stored._offset_base = sum(sizes)
        stored._count = len(values)
        # The body's lengths: one byte each, up to the last that is not 0 (the default),
        # in a column made when the first document with words is added.
        if self._words_total:
            name = f"_{FIELD}_len"
            if not pdw._has_column(name):
                pdw._create_column(name, LENGTHS_COLUMN)
            kept = bytes(self._length_bytes).rstrip(b"\0")
            column = pdw._get_column(name)
            column._dbfile.write(kept)
            column._count = len(kept)

    def _grouped(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Posting numbers grouped by word (words sorted), document order kept."""
        words = sorted(self._words)
        rank = np.empty(len(words), dtype=np.int64)
        rank[[self._words[w] for w in words]] = np.arange(len(words))
        ranked = rank[np.frombuffer(self._p_word, dtype=np.uint32)]
        order = np.argsort(ranked, kind="stable")
        counts = np.bincount(ranked, minlength=len(words))
        return order, words, counts

    def _write_postings(
        self,
        docs_all: np.ndarray,
        pos_all: list[tuple[int, ...]],
        words: list[str],
        counts: np.ndarray,
    ) -> None:
        """Every word's postings (documents and positions in word order) through
        Whoosh's postings writer, a block at a time."""
        fw = self.fieldwriter
        fw.start_field(FIELD, self._body)
        pw = fw._postwriter
        fmt = self._body.format
        limit = pw._blocklimit
        encoded: dict[tuple[int, ...], bytes] = {}
        base = self.docbase
        lengths = self._lengths
        start = 0
        for word, count in zip(words, counts.tolist(), strict=True):
            fw.start_term(word.encode("utf-8"))
            for lo in range(start, start + count, limit):
                hi = min(lo + limit, start + count)
                if lo > start:
                    pw._write_block()
                docs = docs_all[lo:hi].tolist()
                values = []
                freqs = []
                for ps in pos_all[lo:hi]:
                    v = encoded.get(ps)
                    if v is None:
                        v = encoded[ps] = fmt.encode(list(ps))
                    values.append(v)
                    freqs.append(float(len(ps)))
                lens = [lengths[d - base] for d in docs]
                # The block as W3PostingsWriter.add_posting leaves it.
                pw._ids = array("I", docs)
                pw._weights = array("f", freqs)
                pw._values = values
                pw._maxweight = max(freqs)
                pw._minlength = min(lens)
                pw._maxlength = max(lens)
            fw.finish_term()
            start += count
        fw.finish_field()

    def _write_sidecar(
        self,
        docs: np.ndarray,
        positions: list[tuple[int, ...]],
        words: list[str],
        counts: np.ndarray,
    ) -> None:
        tokens = np.fromiter(map(len, positions), dtype=np.int64, count=len(positions))
        ids = np.frombuffer(self._ids, dtype=np.int64)
        keys = np.repeat(ids[docs.astype(np.int64) - self.docbase], tokens)
        keys <<= sidecar.SHIFT
        keys |= np.fromiter(chain.from_iterable(positions), dtype=np.int64, count=len(keys))
        starts = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        per_word = np.add.reduceat(tokens, starts[:-1]) if len(words) else tokens[:0]
        sidecar.write(
            Path(self.storage.folder) / self.newsegment.make_filename(sidecar.EXT),
            words,
            per_word,
            counts,
            keys,
            ids,
            np.frombuffer(self._lengths, dtype=np.uint32),
        )
