"""The full-text index behind a matter. Only this package imports whoosh.

:class:`TextEngine` is what the rest of the code may use; ``open_engine``
returns the Whoosh implementation. A second engine implements the same
protocol and is chosen here, without touching ``query/`` or ``search.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol


class TextEngine(Protocol):
    """Word look-ups over message texts, by message id.

    The engine answers which messages hold which words, and where; what a
    phrase or ``w/N`` means is decided by :mod:`discovery.query.verify`.
    """

    def indexed_through(self) -> int:
        """The highest message id in the index (ids are added in increasing order)."""
        ...

    def add(self, rows: Iterable[tuple[int, Sequence[str]]]) -> int:
        """Index (message id, versions) rows with ids above :meth:`indexed_through`."""
        ...

    def add_range(
        self,
        read: Callable[[int, int], Iterable[tuple[int, Sequence[str]]]],
        through: int,
        progress: Callable[[int], None] | None = None,
        jobs: int = 1,
    ) -> int:
        """Index the rows ``read(after, through)`` gives (ids in ``(after, through]``, in
        order; ``after`` is :meth:`indexed_through`), in up to ``jobs`` processes;
        ``progress`` is told how many rows are done as they are."""
        ...

    def word_ids(self, words: Sequence[str]) -> set[int]:
        """Ids of messages containing any of ``words`` (folded, no wildcards)."""
        ...

    def doc_count(self, word: str) -> int:
        """How many messages hold ``word``."""
        ...

    def all_of(self, groups: Sequence[Sequence[str]]) -> set[int]:
        """Ids of messages holding at least one word of every group."""
        ...

    def occurrences(self, words: Sequence[str]) -> Any:
        """Sorted int64 numpy keys ``message id << 32 | position`` of every occurrence
        of any of ``words``; None when this index cannot give them (then the
        verifier checks phrases and proximity from :meth:`positions`)."""
        ...

    def few_occurrences(self, words: Sequence[str], limit: int) -> list[int] | None:
        """:meth:`occurrences` as a sorted list of ints, read without numpy; None when
        there are more than ``limit`` of them or this index cannot give them."""
        ...

    def few_positions(
        self, words: Sequence[str], ids: Sequence[int]
    ) -> dict[int, dict[str, list[int]]] | None:
        """:meth:`positions` at sorted ``ids``, read without numpy; None when this index
        cannot give them so."""
        ...

    def positions(self, words: Sequence[str], ids: set[int]) -> dict[int, dict[str, list[int]]]:
        """For each of ``ids``: each of ``words`` it holds -> the word's sorted positions."""
        ...

    def expand(self, regex: str, prefix: str, limit: int) -> list[str] | None:
        """Indexed words fully matching ``regex`` (all start with ``prefix``);
        None when there are more than ``limit``."""
        ...

    def lexicon(self, prefix: str) -> Iterator[str]:
        """Indexed words beginning with ``prefix`` (every word when it is empty), in order."""
        ...

    def lexicon_between(self, first: str, last: str) -> Iterator[str]:
        """Indexed words whose first letter is between ``first`` and ``last`` (both included)."""
        ...

    def scores(self, words: Sequence[str], ids: Any, limit: int | None) -> list[int]:
        """``ids`` (a set, or a sorted numpy array of distinct ids) ranked by relevance
        to ``words``, best first (at most ``limit``)."""
        ...

    def close(self) -> None: ...


def open_engine(path: Path, *, create: bool = False, shards: int = 1) -> TextEngine:
    """The index at ``path``: sharded when it was made so (``shards`` > 1 makes it so
    when it is created; :mod:`discovery.index.sharded`)."""
    from discovery.index import sharded
    from discovery.index.whoosh_engine import WhooshEngine

    if create and shards > 1 and not path.exists():
        sharded.create_sharded(path, shards)
    if sharded.is_sharded(path):
        return sharded.ShardedEngine(path)
    return WhooshEngine(path, create=create)
