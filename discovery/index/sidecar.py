"""The positions sidecar: every word occurrence of a segment as sorted int64 keys.

Beside each Whoosh segment the writer (:mod:`discovery.index.segment`) leaves
``<segment id>.dpos``, made from the same tokens as the segment's postings:

* the segment's distinct words, sorted (UTF-8 bytes, which sort as the words do),
  one blob with an offsets array, so a word is found by binary search;
* for each word, its occurrences as ``message id << 32 | position``, sorted, and
  the number of messages holding it.

Segments hold increasing, disjoint ranges of message ids, so concatenating a
word's keys over the segments in order keeps them sorted. Phrases and
proximity are then evaluated over whole arrays (:mod:`discovery.positional`).

The file is written under a temporary name and renamed before Whoosh writes
the table of contents that makes the segment visible; a sidecar of a segment
that never became current matches Whoosh's segment file pattern and is
deleted with the other leftovers at the next commit. A segment without a
sidecar (an index written by an earlier discovery) turns the sidecar off for
the whole index: every look-up then goes through Whoosh's postings.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import sys
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

EXT = ".dpos"
MAGIC = b"DPOS\x01\x00\x00\x00"
SHIFT = 32
"""Bits of a key below the message id: the position."""
_POSITION = (1 << SHIFT) - 1
SCAN_RATIO = 12
"""A word's keys are read in a row when at most this many times as many as the messages
asked about (:meth:`SegmentPositions.positions_at`), else bisected at each message (at
1M messages the two cost the same at about 12)."""

_ARRAYS = (
    ("terms", "u1"),
    ("term_off", "<i8"),
    ("key_off", "<i8"),
    ("df", "<i4"),
    ("keys", "<i8"),
    ("doc_ids", "<i8"),
    ("lengths", "<i4"),
)
_CASTS = {"u1": ("B", 1), "<i8": ("q", 8), "<i4": ("i", 4)}
"""Each array type's ``memoryview.cast`` code and item size (little-endian machines)."""


def write(
    path: Path,
    terms: Sequence[str],
    counts: np.ndarray,
    df: np.ndarray,
    keys: np.ndarray,
    doc_ids: np.ndarray,
    lengths: np.ndarray,
) -> None:
    """Write one segment's sidecar atomically.

    Args:
        terms: the segment's words, sorted.
        counts: occurrences of each word (keys per word, in ``terms`` order).
        df: messages holding each word.
        keys: every occurrence, grouped by word in ``terms`` order, sorted within a word.
        doc_ids: the segment's message ids, increasing.
        lengths: each message's length as Whoosh's ranking reads it (words, rounded
            to the byte Whoosh keeps).
    """
    import numpy as np

    blobs = [t.encode("utf-8") for t in terms]
    term_off = np.zeros(len(blobs) + 1, dtype="<i8")
    np.cumsum([len(b) for b in blobs], out=term_off[1:])
    key_off = np.zeros(len(terms) + 1, dtype="<i8")
    np.cumsum(counts, out=key_off[1:])
    arrays = {
        "terms": np.frombuffer(b"".join(blobs), dtype="u1"),
        "term_off": term_off,
        "key_off": key_off,
        "df": np.asarray(df, dtype="<i4"),
        "keys": np.asarray(keys, dtype="<i8"),
        "doc_ids": np.asarray(doc_ids, dtype="<i8"),
        "lengths": np.asarray(lengths, dtype="<i4"),
    }
    layout: dict[str, list[Any]] = {}
    offset = 0
    for name, dtype in _ARRAYS:
        layout[name] = [dtype, offset, len(arrays[name])]
        offset += _aligned(arrays[name].nbytes)
    header = json.dumps({"version": 1, "arrays": layout}).encode()
    head = MAGIC + len(header).to_bytes(8, "little") + header
    head += b"\0" * (_aligned(len(head)) - len(head))
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        f.write(head)
        for name, _ in _ARRAYS:
            data = arrays[name].tobytes()
            f.write(data + b"\0" * (_aligned(len(data)) - len(data)))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _aligned(n: int) -> int:
    return (n + 7) & ~7


class SegmentPositions:
    """One segment's sidecar, memory-mapped.

    Its arrays are read through plain ``memoryview`` casts, so finding a word and
    reading a few of its keys needs no numpy (a rare-word search never imports it,
    :mod:`discovery.fewhits`); numpy views of the same bytes are made on first use.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as f:
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        mm = self._mm
        if mm[:8] != MAGIC:
            raise ValueError(f"{path} is not a positions sidecar")
        size = int.from_bytes(mm[8:16], "little")
        info = json.loads(mm[16 : 16 + size])
        base = _aligned(16 + size)
        self._layout: dict[str, tuple[str, int, int]] = {
            name: (dtype, base + offset, count)
            for name, (dtype, offset, count) in info["arrays"].items()
        }
        self._np: dict[str, np.ndarray] = {}
        self._ids = self._view("doc_ids")
        self._length_view = self._view("lengths")
        if not len(self._ids):
            raise ValueError(f"{path} holds no messages")
        self.first_id = int(self._ids[0])
        self.last_id = int(self._ids[-1])
        self._blob = mm
        self._blob_base = self._layout["terms"][1]
        self._term_off = self._view("term_off")
        self._key_off = self._view("key_off")
        self._df = self._view("df")
        self._key_view = self._view("keys")
        self.terms = _Terms(self)

    def _array(self, name: str) -> np.ndarray:
        """The named array as numpy reads it (made once)."""
        import numpy as np

        if name not in self._np:
            dtype, offset, count = self._layout[name]
            self._np[name] = np.frombuffer(self._mm, dtype=dtype, count=count, offset=offset)
        return self._np[name]

    def _view(self, name: str) -> Any:
        """The named array as a ``memoryview`` of native ints (numpy's on a big-endian
        machine, where the little-endian bytes cannot be cast)."""
        if sys.byteorder != "little":
            return self._array(name)
        dtype, offset, count = self._layout[name]
        code, size = _CASTS[dtype]
        return memoryview(self._mm)[offset : offset + count * size].cast(code)

    @property
    def doc_ids(self) -> np.ndarray:
        """The segment's message ids, increasing."""
        return self._array("doc_ids")

    def id_list(self) -> list[int]:
        """:attr:`doc_ids` as a list, read without numpy."""
        return list(self._ids.tolist())

    def __len__(self) -> int:
        """How many messages the segment holds."""
        return len(self._ids)

    def term_bytes(self, i: int) -> bytes:
        base = self._blob_base
        return self._blob[base + int(self._term_off[i]) : base + int(self._term_off[i + 1])]

    def find(self, word: bytes) -> int:
        """The index of ``word`` (UTF-8), or -1."""
        i = bisect_left(self.terms, word)
        return i if i < len(self.terms) and self.term_bytes(i) == word else -1

    def keys(self, i: int) -> np.ndarray:
        return self._array("keys")[int(self._key_off[i]) : int(self._key_off[i + 1])]

    def key_count(self, i: int) -> int:
        return int(self._key_off[i + 1]) - int(self._key_off[i])

    def positions_at(self, i: int, mids: Sequence[int]) -> dict[int, list[int]]:
        """Each of sorted ``mids`` holding word ``i`` -> its positions, read without
        numpy: from the word's keys in a row when they are few beside ``mids``, else
        by bisecting them at each of ``mids``."""
        view, lo, hi = self._key_view, int(self._key_off[i]), int(self._key_off[i + 1])
        held: dict[int, list[int]] = {}
        if hi - lo <= SCAN_RATIO * len(mids):
            wanted = set(mids)
            for key in view[lo:hi].tolist():
                if key >> SHIFT in wanted:
                    held.setdefault(key >> SHIFT, []).append(key & _POSITION)
            return held
        for mid in mids:
            if self.first_id <= mid <= self.last_id:
                lo = bisect_left(view, mid << SHIFT, lo, hi)
                end = bisect_left(view, (mid + 1) << SHIFT, lo, hi)
                if end > lo:
                    held[mid] = [k & _POSITION for k in view[lo:end].tolist()]
                lo = end
        return held

    def key_list(self, i: int) -> list[int]:
        """:meth:`keys` as a list, read without numpy."""
        return list(self._key_view[int(self._key_off[i]) : int(self._key_off[i + 1])].tolist())

    def df(self, i: int) -> int:
        return int(self._df[i])

    def prefixed(self, prefix: bytes) -> range:
        """Indexes of the words starting with ``prefix``."""
        lo = bisect_left(self.terms, prefix)
        if not prefix:
            return range(lo, len(self.terms))
        hi = bisect_left(self.terms, _after_prefix(prefix), lo)
        return range(lo, hi)

    def lengths(self, ids: np.ndarray) -> np.ndarray:
        """Lengths of sorted ``ids`` (all in this segment)."""
        import numpy as np

        return self._array("lengths")[np.searchsorted(self.doc_ids, ids)]

    def length_list(self, mids: Sequence[int]) -> list[float]:
        """:meth:`lengths` of sorted ``mids`` (all in this segment), read without numpy."""
        view, first = self._length_view, self.first_id
        if self.last_id - first + 1 == len(self._ids):  # no gap: each place is known
            return [float(view[mid - first]) for mid in mids]
        return [float(view[bisect_left(self._ids, mid)]) for mid in mids]

    def close(self) -> None:
        # Arrays still viewing the map keep it alive; closing would fail then.
        self._np.clear()
        self._term_off = self._key_off = self._df = self._key_view = memoryview(b"")


class _Terms(Sequence[bytes]):
    """The sorted words of a segment as a sequence, for :func:`bisect.bisect_left`."""

    def __init__(self, seg: SegmentPositions) -> None:
        self._seg = seg
        self._n = len(seg._df)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: int) -> bytes:  # type: ignore[override]
        return self._seg.term_bytes(i)


def _after_prefix(prefix: bytes) -> bytes:
    """The smallest byte string greater than every string starting with ``prefix``."""
    p = prefix.rstrip(b"\xff")
    return p[:-1] + bytes([p[-1] + 1]) if p else b"\xff" * (len(prefix) + 1)


class Positions:
    """The sidecars of all of an index's segments, in message id order."""

    def __init__(self, segments: list[SegmentPositions]) -> None:
        self.segments = sorted(segments, key=lambda s: s.first_id)
        for a, b in zip(self.segments, self.segments[1:], strict=False):
            if a.last_id >= b.first_id:
                raise ValueError("positions sidecars overlap")
        self._cache: dict[str, np.ndarray] = {}
        self._places_of: dict[str, list[tuple[SegmentPositions, int]]] = {}
        self._at: dict[str, tuple[set[int], dict[int, list[int]]]] = {}

    @classmethod
    def open(cls, folder: Path, segment_ids: Sequence[str]) -> Positions | None:
        """The sidecars of ``segment_ids``; None when any segment has none."""
        found = []
        for sid in segment_ids:
            path = folder / (sid + EXT)
            if not path.exists():
                return None
            try:
                found.append(SegmentPositions(path))
            except (OSError, ValueError, KeyError):
                return None
        try:
            return cls(found)
        except ValueError:
            return None

    def _places(self, word: str) -> list[tuple[SegmentPositions, int]]:
        """The segments holding ``word``, in id order, and its index in each."""
        hit = self._places_of.get(word)
        if hit is None:
            b = word.encode("utf-8")
            hit = [(seg, i) for seg in self.segments if (i := seg.find(b)) >= 0]
            if len(self._places_of) > 4096:
                self._places_of.clear()
            self._places_of[word] = hit
        return hit

    def _lookup(self, word: str) -> np.ndarray:
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        import numpy as np

        parts = [seg.keys(i) for seg, i in self._places(word)]
        keys = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else _empty()
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[word] = keys
        return keys

    def keys(self, words: Sequence[str]) -> np.ndarray:
        """Sorted keys of every occurrence of any of ``words``."""
        import numpy as np

        distinct = list(dict.fromkeys(words))
        if len(distinct) == 1:
            return self._lookup(distinct[0])
        parts = [k for k in (self._lookup(w) for w in distinct) if len(k)]
        if not parts:
            return _empty()
        return parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts))

    def few_keys(self, words: Sequence[str], limit: int) -> list[int] | None:
        """:meth:`keys` as a list, read without numpy; None past ``limit`` keys."""
        distinct = list(dict.fromkeys(words))
        places = [p for w in distinct for p in self._places(w)]
        if sum(seg.key_count(i) for seg, i in places) > limit:
            return None
        keys = [k for seg, i in places for k in seg.key_list(i)]
        return keys if len(distinct) == 1 else sorted(keys)

    def few_positions(
        self, words: Sequence[str], mids: Sequence[int]
    ) -> dict[int, dict[str, list[int]]]:
        """For each of sorted ``mids``: each of ``words`` it holds -> its sorted positions
        (as :func:`discovery.index.whoosh_engine._positions_of`), read without numpy.
        The last look-up of each word is kept (ranking asks again at the hits of the
        search that asked first)."""
        out: dict[int, dict[str, list[int]]] = {mid: {} for mid in mids}
        asked = set(mids)
        for w in dict.fromkeys(words):
            kept = self._at.get(w)
            if kept is None or not asked <= kept[0]:
                found: dict[int, list[int]] = {}
                for seg, i in self._places(w):
                    found.update(seg.positions_at(i, mids))
                if len(self._at) > 64:
                    self._at.clear()
                kept = self._at[w] = (asked, found)
            for mid, held in kept[1].items():
                if mid in out:
                    out[mid][w] = held
        return out

    def doc_count(self, word: str) -> int:
        return sum(seg.df(i) for seg, i in self._places(word))

    def ids(self, words: Sequence[str]) -> np.ndarray:
        """Sorted distinct message ids holding any of ``words``."""
        return message_ids(self.keys(words))

    def lengths(self, ids: np.ndarray) -> np.ndarray:
        """The ranking lengths of sorted indexed message ``ids``."""
        import numpy as np

        out = np.zeros(len(ids), dtype=np.float64)
        for seg in self.segments:
            lo, hi = np.searchsorted(ids, [seg.first_id, seg.last_id + 1])
            if hi > lo:
                out[lo:hi] = seg.lengths(ids[lo:hi])
        return out

    def length_list(self, mids: Sequence[int]) -> list[float]:
        """:meth:`lengths` of sorted indexed message ``mids``, read without numpy."""
        out = [0.0] * len(mids)
        for seg in self.segments:
            lo = bisect_left(mids, seg.first_id)
            hi = bisect_right(mids, seg.last_id, lo)
            if hi > lo:
                out[lo:hi] = seg.length_list(mids[lo:hi])
        return out

    def expand(self, regex: str, prefix: str, limit: int) -> list[str] | None:
        pattern = re.compile(regex)
        found: set[str] = set()
        pb = prefix.encode("utf-8")
        for seg in self.segments:
            for i in seg.prefixed(pb):
                word = seg.term_bytes(i).decode("utf-8")
                if word not in found and pattern.fullmatch(word):
                    found.add(word)
                    if len(found) > limit:
                        return None
        return sorted(found)

    def lexicon(self, prefix: str) -> list[str]:
        """Every word starting with ``prefix`` (all words when empty), sorted, once each."""
        pb = prefix.encode("utf-8")
        found = {seg.term_bytes(i) for seg in self.segments for i in seg.prefixed(pb)}
        return [b.decode("utf-8") for b in sorted(found)]

    def lexicon_between(self, first: str, last: str) -> list[str]:
        """Every word whose first character is from ``first`` to ``last``, sorted, once each."""
        lo, hi = first.encode("utf-8"), _after_prefix(last.encode("utf-8"))
        found: set[bytes] = set()
        for seg in self.segments:
            i = bisect_left(seg.terms, lo)
            end = bisect_left(seg.terms, hi, i)
            found.update(seg.term_bytes(j) for j in range(i, end))
        return [b.decode("utf-8") for b in sorted(found)]

    def close(self) -> None:
        for seg in self.segments:
            seg.close()
        self._cache.clear()
        self._places_of.clear()
        self._at.clear()


def _empty() -> np.ndarray:
    import numpy as np

    return np.empty(0, dtype="<i8")


def message_ids(keys: np.ndarray) -> np.ndarray:
    """The sorted distinct message ids of sorted ``keys``."""
    import numpy as np

    if not len(keys):
        return _empty()
    ids = keys >> SHIFT
    keep = np.empty(len(ids), dtype=bool)
    keep[0] = True
    np.not_equal(ids[1:], ids[:-1], out=keep[1:])
    return ids[keep]
