"""Per-message columns (conversation, time) as arrays, for summaries of large hit sets.

Counting the conversations of 100,000 hits, or ordering them by time, means
one row per hit from SQLite, in chunks of 900 ids: 70 ms for 19,000 hits. A
process that searches again and again (the review screen, a report, a
benchmark) reads the two columns once, in id order, and then answers with
array indexing. The arrays are read again when the store has grown; a store
whose ids have gaps (none does: ids are handed out without gaps) is answered
from SQLite.

Reading the arrays reads every message (7 s at 10M messages), about what
reading an eighth of them by id costs. So a process answers from SQLite while
the ids it has asked about add up to no more than :data:`FROM_SQL` or an eighth
of the store (:data:`SQL_SHARE`), and only then reads the arrays: a fresh
``discovery search`` for a word in 10,000 of 10M messages reads 10,000 rows,
not 10M, and a long run of searches pays at most about twice the cheaper way.
A resident process (the review screen), which asks again and again, reads
them at its second ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from discovery.store import Store

if TYPE_CHECKING:
    import numpy as np

FROM_SQL = 5000
"""Up to this many ids asked about, a process answers from SQLite (see above)."""
SQL_SHARE = 8
"""... or up to this share (one in ``SQL_SHARE``) of the stored messages."""


class Columns:
    """Conversation ids and send times of every message, indexed by ``id - 1``.

    ``resident``: for a process that searches again and again (the arrays are read
    at its second ask)."""

    def __init__(self, store: Store, *, resident: bool = False) -> None:
        self.store = store
        self.resident = resident
        self._through = -1
        self._conv: np.ndarray | None = None
        self._sent: np.ndarray | None = None
        self._asked = 0
        self._read = 0
        """Ids asked about so far (answered from SQLite, as the arrays were not read)."""

    def _arrays(self, n: int) -> bool:
        """Whether to answer for ``n`` ids from the arrays (reading them if need be)."""
        if self._through < 0:
            self._asked += 1
            self._read += n
            if self.resident:
                sql = self._asked == 1 and n <= FROM_SQL
            else:
                sql = self._read <= max(FROM_SQL, self.store.max_message_id() // SQL_SHARE)
            if sql:
                return False
        return self._load()

    def _load(self) -> bool:
        import numpy as np

        top = self.store.max_message_id()
        if top != self._through:
            conv = np.fromstring(self.store.joined_column("conversation_id"), np.int64, sep=" ")
            sent = np.fromstring(self.store.joined_column("sent_us"), np.int64, sep=" ")
            ok = len(conv) == len(sent) == top
            self._conv, self._sent = (conv, sent) if ok else (None, None)
            self._through = top
        return self._conv is not None

    def conversations(self, ids: np.ndarray | Sequence[int]) -> int:
        """How many conversations ``ids`` (sorted, stored) fall in."""
        if not self._arrays(len(ids)):
            return len({r[1] for r in self.store.summary_rows(listed(ids))})
        import numpy as np

        assert self._conv is not None
        return int(np.unique(self._conv[np.asarray(ids, dtype=np.int64) - 1]).size)

    def by_time(self, ids: np.ndarray | Sequence[int]) -> list[int]:
        """``ids`` (sorted, stored) oldest first; ties in id order."""
        if not self._arrays(len(ids)):
            rows = self.store.summary_rows(listed(ids))
            return [r[0] for r in sorted(rows, key=lambda r: (r[2], r[0]))]
        import numpy as np

        assert self._sent is not None
        arr = np.asarray(ids, dtype=np.int64)
        return arr[np.argsort(self._sent[arr - 1], kind="stable")].tolist()

    def sent_between(
        self, lo: int | None, hi: int | None, within: set[int] | None
    ) -> set[int] | None:
        """The ids (of ``within``, or of all) sent in ``[lo, hi)`` (µs; None is open);
        None when SQLite should answer (see :data:`FROM_SQL`)."""
        import numpy as np

        if not self._arrays(FROM_SQL + 1 if within is None else len(within)):
            return None
        assert self._sent is not None
        if within is None:
            ids = np.arange(1, len(self._sent) + 1, dtype=np.int64)
        else:
            ids = np.fromiter(within, dtype=np.int64, count=len(within))
        sent = self._sent[ids - 1]
        keep = np.ones(len(ids), dtype=bool)
        if lo is not None:
            keep &= sent >= lo
        if hi is not None:
            keep &= sent < hi
        return set(ids[keep].tolist())


def listed(ids: np.ndarray | Sequence[int]) -> list[int]:
    """``ids`` as a list of ints (a numpy array's ``tolist``)."""
    return ids.tolist() if hasattr(ids, "tolist") else list(ids)
