"""The dedup key's number, the store's index of it, and the check that keeps keys unique.

Every message has a dedup key (:func:`discovery.ingest.normalize`: a SHA-256 of
what makes it the same message in any source). The case store indexes the keys
by a 64-bit number of each, not by the 64-character keys themselves: about a
fifth of the index, and the index of the keys was most of the time storing a
source took (docs/SCALE.md, "Fourth session"). A number says where to look;
the full key says whether it is the same message.
"""

from __future__ import annotations

import hashlib
import sqlite3

from discovery.errors import DuplicateKeyError


def dedup_hash(key: str) -> int:
    """A dedup key as the signed 64-bit number the store indexes it by (the first 8 bytes
    of its BLAKE2b hash). Equal keys have equal numbers; two messages are the same
    message only when their full keys are equal too, so a number shared by two keys
    costs one more comparison, never a wrong match."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def refuse_duplicates(db: sqlite3.Connection, before: int) -> None:
    """Raise :class:`DuplicateKeyError` if a message after id ``before`` has the dedup key
    of a message before it (the store's key is unique; a look-up by number per new
    message, in the transaction that added them, so the source fails, is rolled
    back, and nothing is silently held twice)."""
    row = db.execute(
        "SELECT n.id, o.id FROM main.messages n JOIN main.messages o"
        " ON o.dedup_hash = n.dedup_hash AND o.id < n.id AND o.dedup = n.dedup"
        " WHERE n.id > ? LIMIT 1",
        (before,),
    ).fetchone()
    if row is not None:
        raise DuplicateKeyError(
            f"message {row[0]} would repeat message {row[1]} (the same dedup key):"
            " nothing of this source was stored"
        )
