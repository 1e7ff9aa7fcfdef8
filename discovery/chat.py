"""Chat-aware proximity over whole id sets: ``W/3MSG``, ``PRE/10MIN``, ``W/THREAD`` ...

The rules (docs/QUERY.md, "Chat-aware proximity"):

* **Sequences.** A message's neighbours in messages are counted in a
  *sequence*: a thread (its root and replies, in time order) for a thread
  reply; the conversation's *main line* (every message that is not a thread
  reply, thread roots included) for any other message. A thread root is in
  both: its main line and its thread. A reply and a main-line message other
  than its root are in no common sequence, so never a number of messages
  apart. Order within a sequence is by time, ties by control number.
* **System events** are in no sequence: never counted in a distance, never a
  side of a pair.
* **Edits**: a message's versions are one message (one place in its sequence,
  at its send time).
* **Time** (``MIN``, ``H``, ``D``): two messages of one conversation (threads
  or not) sent at most that long apart, the bound included; an undated
  message has no time, so it is never near anything in time.
* ``W/THREAD``: two messages of one thread; a message in no thread is a
  thread of one. ``W/CONVERSATION``: two messages of one conversation.
* The same message may be both sides of a pair (distance 0). ``PRE/``: the
  left message at or before the right one (in its sequence; in time, at
  most as late). The hits of ``A W/N B`` are the messages of A and of B that
  are a side of some qualifying pair; of ``A NOT W/N B`` the messages of A
  in some sequence (for time: dated) with no message of B that near.

Everything is numpy over arrays indexed by ``id - 1``, read once per process
from the case store (:meth:`discovery.store.Store.order_columns`) and read
again when the store has grown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from discovery import family_store
from discovery.model import UNDATED
from discovery.query.ast import UNIT_SECONDS, ChatNear
from discovery.store import Store, to_us

if TYPE_CHECKING:
    import numpy as np

UNDATED_US = to_us(UNDATED)


@dataclass(frozen=True, slots=True)
class _Sequence:
    """One way of placing messages: a group (conversation, thread) and a value (rank, time)
    per message (index ``id - 1``); ``member`` says which messages it places."""

    group: np.ndarray
    value: np.ndarray
    member: np.ndarray


class ChatOrder:
    """Where every message sits in its conversation, main line and thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._through = -1
        self._units: dict[str, tuple[_Sequence, ...]] = {}

    def _load(self) -> None:
        import numpy as np

        top = self.store.max_message_id()
        if top == self._through:
            return
        cols = [np.array(c.split(), dtype=np.int64) for c in self.store.order_columns()]
        conv, sent, root, system = cols
        n = len(conv)
        ids = np.arange(1, n + 1, dtype=np.int64)
        # A family member sits where its parent does: a reply's attachments in its thread.
        pairs = np.array(family_store.parent_pairs(self.store.db), dtype=np.int64).reshape(-1, 2)
        pairs = pairs[pairs[:, 0] <= n]  # members stored after the columns were read
        members, parents = pairs[:, 0] - 1, pairs[:, 1] - 1
        root[members] = root[parents]
        reply = root > 0
        live = system == 0
        has_replies = np.zeros(n + 1, dtype=bool)
        has_replies[root[reply]] = True
        thread = np.where(reply, root, ids)
        threaded = reply | has_replies[1:]
        thread[members], threaded[members] = thread[parents], threaded[parents]
        main = _ranked(conv, sent, ids, live & ~reply)
        in_thread = _ranked(thread, sent, ids, live & threaded)
        zero = np.zeros(n, dtype=np.int64)
        timed = _Sequence(conv, sent, live & (sent != UNDATED_US))
        self._units = {
            "msg": (main, in_thread),
            "time": (timed,),
            "thread": (_Sequence(thread, zero, live),),
            "conversation": (_Sequence(conv, zero, live),),
        }
        self._through = top

    def near(self, node: ChatNear, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Sorted ids of the hits of ``node`` given the sorted ids of its two sides."""
        import numpy as np

        self._load()
        unit = "time" if node.unit in UNIT_SECONDS else node.unit
        if node.unit in UNIT_SECONDS:
            d = node.distance * UNIT_SECONDS[node.unit] * 1_000_000
        else:
            d = node.distance
        seqs = self._units[unit]
        top = self._through
        left, right = left[left <= top], right[right <= top]
        hit_left = np.zeros(len(left), dtype=bool)
        hit_right = np.zeros(len(right), dtype=bool)
        placed = np.zeros(len(left), dtype=bool)
        for seq in seqs:
            a = seq.member[left - 1]
            b = seq.member[right - 1]
            placed |= a
            ga, va = seq.group[left[a] - 1], seq.value[left[a] - 1]
            gb, vb = seq.group[right[b] - 1], seq.value[right[b] - 1]
            # From a left message: a right one within d (PRE: at or after it).
            lo = va if node.ordered else va - d
            hit_left[a] |= _any_within(ga, lo, va + d, gb, vb)
            if not node.negated:
                hi = vb if node.ordered else vb + d
                hit_right[b] |= _any_within(gb, vb - d, hi, ga, va)
        if node.negated:
            return left[placed & ~hit_left]
        return np.union1d(left[hit_left], right[hit_right])


def _ranked(group: np.ndarray, sent: np.ndarray, ids: np.ndarray, member: np.ndarray) -> _Sequence:
    """Each member's place (0, 1, 2 ...) within its group, by time then id."""
    import numpy as np

    rank = np.full(len(group), -1, dtype=np.int64)
    chosen = ids[member]
    order = chosen[np.lexsort((chosen, sent[chosen - 1], group[chosen - 1]))]
    g = group[order - 1]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = g[1:] != g[:-1]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    rank[order - 1] = np.arange(len(order)) - first
    return _Sequence(group, rank, member)


def _any_within(
    q_group: np.ndarray, q_lo: np.ndarray, q_hi: np.ndarray, t_group: np.ndarray, t_val: np.ndarray
) -> np.ndarray:
    """For each query i, whether some target j has ``t_group[j] == q_group[i]`` and
    ``q_lo[i] <= t_val[j] <= q_hi[i]``.

    All points are sorted together by (group, value), a low bound before the
    targets of its value and a high bound after them; the targets counted up
    to each bound then give how many lie between a query's two bounds.
    """
    import numpy as np

    nq, nt = len(q_group), len(t_group)
    if not nq or not nt:
        return np.zeros(nq, dtype=bool)
    group = np.concatenate((t_group, q_group, q_group))
    value = np.concatenate((t_val, q_lo, q_hi))
    kind = np.concatenate((np.ones(nt, np.int8), np.zeros(nq, np.int8), np.full(nq, 2, np.int8)))
    order = np.lexsort((kind, value, group))
    seen = np.cumsum(kind[order] == 1)
    place = np.empty(len(order), dtype=np.int64)
    place[order] = np.arange(len(order))
    return seen[place[nt + nq :]] > seen[place[nt : nt + nq]]
