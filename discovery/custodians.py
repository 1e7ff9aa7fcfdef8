"""Which custodian a source came from, for a folder (or zip) holding several custodians.

``discovery ingest --custodian-map FILE`` reads a CSV of ``path,custodian``
rows (a header row ``path,custodian`` is optional). ``path`` is a prefix of a
source's path relative to the folder or zip named on the command line, whole
components only (``alice`` matches ``alice/slack.zip`` and
``alice/phone/chat.txt``, not ``alicia/...``); members of archives count as
below their archive (``alice/phone.zip/WhatsApp Chat.txt``). The longest
matching prefix wins; an empty path or ``.`` matches every source.

``--custodian-map auto`` takes the first folder level below the named path as
the custodian (``case/alice/...`` → ``alice``); a source lying directly in the
named folder has none.

A source the map does not place gets ``--custodian``, or ``unassigned``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from discovery.errors import UsageError

AUTO = "auto"


def _parts(path: str) -> tuple[str, ...]:
    text = path.strip().replace("\\", "/").replace("!", "/")
    return tuple(p for p in text.split("/") if p not in ("", "."))


@dataclass(frozen=True, slots=True)
class CustodianMap:
    """Path prefixes (as components) to custodians; or ``auto`` for the first folder level."""

    prefixes: tuple[tuple[tuple[str, ...], str], ...] = ()
    auto: bool = False

    def custodian_for(self, relative: str) -> str | None:
        """The custodian for a source at ``relative`` (``/``-separated), or None."""
        parts = _parts(relative)
        if self.auto:
            return parts[0] if len(parts) >= 2 else None
        best: tuple[int, str] | None = None
        for prefix, custodian in self.prefixes:
            if parts[: len(prefix)] == prefix and (best is None or len(prefix) > best[0]):
                best = (len(prefix), custodian)
        return None if best is None else best[1]


def load_custodian_map(spec: str) -> CustodianMap:
    """The map named by ``--custodian-map``: ``auto``, or a CSV file of ``path,custodian``.

    Raises:
        UsageError: the file cannot be read, or a row is not ``path,custodian``.
    """
    if spec.strip().lower() == AUTO:
        return CustodianMap(auto=True)
    path = Path(spec)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise UsageError(f"cannot read the custodian map {spec}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UsageError(f"custodian map {spec} is not UTF-8 text") from None
    seen: dict[tuple[str, ...], str] = {}
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as e:
        raise UsageError(f"custodian map {spec}: not a CSV file ({e})") from None
    for n, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if n == 1 and [c.lower() for c in cells] == ["path", "custodian"]:
            continue
        if len(cells) != 2 or not cells[1]:
            raise UsageError(f"{spec}:{n}: expected two columns 'path,custodian'")
        prefix = _parts(cells[0])
        if prefix in seen and seen[prefix] != cells[1]:
            raise UsageError(
                f"{spec}:{n}: {cells[0]!r} is mapped twice ({seen[prefix]!r} and {cells[1]!r})"
            )
        seen[prefix] = cells[1]
    if not seen:
        raise UsageError(f"custodian map {spec} has no 'path,custodian' rows")
    return CustodianMap(prefixes=tuple(seen.items()))
