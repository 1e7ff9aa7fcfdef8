"""Shared pieces of the "mutated input never raises" property tests.

Importers must yield conversations, messages and problems for any bytes and
never raise; these helpers damage a valid fixture, run one importer over the
result and check that only those three item types come out.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import UTC
from pathlib import Path

from hypothesis import strategies as st

from discovery.errors import ImportProblem
from discovery.importers.base import (
    ImportContext,
    Importer,
    ImportItem,
    RawConversation,
    RawMessage,
    SourceFact,
)

Edits = list[tuple[int, int]]

# Any JSON-like value, a few levels deep: what fuzzed export fields hold.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=8,
)


def byte_edits(max_pos: int, max_size: int) -> st.SearchStrategy[Edits]:
    """Up to ``max_size`` (position, byte value) overwrites, positions in 0..max_pos."""
    return st.lists(st.tuples(st.integers(0, max_pos), st.integers(0, 255)), max_size=max_size)


def mutate(data: bytes, cut: int, changes: Iterable[tuple[int, int]]) -> bytes:
    """Keep the first ``cut`` bytes of ``data``, then overwrite bytes in place.

    Each change is (position, value); positions wrap around the kept length,
    and nothing is overwritten when nothing is kept.
    """
    b = bytearray(data[:cut])
    for pos, value in changes:
        if b:
            b[pos % len(b)] = value
    return bytes(b)


def check_items(items: Iterable[ImportItem]) -> list[ImportItem]:
    """Assert every item is a conversation, message, problem or source fact; return them."""
    got = list(items)
    for item in got:
        assert isinstance(item, RawConversation | RawMessage | ImportProblem | SourceFact), item
    return got


def read_mutated(
    importer: Importer, name: str, data: bytes, *, sniff: bool = True
) -> list[ImportItem]:
    """Write ``data`` as ``name`` in a fresh folder, sniff it, read it and check the items.

    Args:
        importer: the importer under test.
        name: the file name to write (its suffix often decides the reading).
        data: the (damaged) file content.
        sniff: also call ``importer.sniff`` on the file, which must not raise either.
    """
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / name
        p.write_bytes(data)
        if sniff:
            importer.sniff(p)
        return check_items(importer.read(p, ImportContext(UTC, name)))


def truncate_and_flip(data: bytes, cut: int, flip: int) -> bytes:
    """Drop ``cut % len(data)`` trailing bytes unless ``cut % 3 == 0``, then invert one byte."""
    b = bytearray(data[: len(data) - cut % len(data)] if cut % 3 else data)
    if b:
        b[flip % len(b)] ^= 0xFF
    return bytes(b)
