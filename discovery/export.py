"""CSV exports of hit sets (PRODUCT.md §6).

Every cell that a spreadsheet could take for a formula is written with a
leading apostrophe, the neutralisation OWASP recommends, so an exported
message can never run in Excel: a cell starting with a tab or a carriage
return, or whose first visible character (after spaces, no-break spaces, line
breaks, zero-width and other invisible characters, which spreadsheets skip) is
``=``, ``+``, ``-``, ``@`` or one of their full-width or small forms
(``＝``, ``＋``, ``－``, ``＠``, ``﹦``, ``﹢``, ``﹣``, ``﹫``).

Files are written owner-only and whole or not at all (:func:`discovery.files.output`).

XLSX cells cannot hold the C0 control characters other than tab, line feed
and carriage return (openpyxl refuses them); :func:`xlsx_text` writes each as
the visible text ``\\xNN`` (``\\x07`` for a bell) instead.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import TextIO

from discovery.context import excerpt
from discovery.files import output
from discovery.model import UNDATED_TEXT, Message, control_number, iso_time
from discovery.query.ast import Node
from discovery.search import Searcher

FAMILY_COLUMNS = ("kind", "parent", "attachment_name", "attachment_sha256", "ocr", "ocr_confidence")
"""A family member's columns (:func:`family_cells`); last, so older readers keep theirs."""
HIT_COLUMNS = (
    "control_number",
    "sent_at_utc",
    "local_time",
    "conversation",
    "thread",
    "speaker",
    "text",
    "snippet",
    "custodians",
    "platform",
    "source_paths",
    "source_sha256",
    "tags",
    *FAMILY_COLUMNS,
)
FORMULA_SIGNS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b")
"""A cell whose first visible character is one of these is taken for a formula."""
XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Characters an XLSX cell cannot hold (the set openpyxl refuses)."""
PAGE = 500


def formula_like(value: str) -> bool:
    """Whether a spreadsheet could read ``value`` as a formula (see the module notes)."""
    if value.startswith(("\t", "\r")):
        return True
    for ch in value:
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp"):
            continue
        return ch in FORMULA_SIGNS
    return False


def neutralise(value: str) -> str:
    """A cell value that no spreadsheet will evaluate as a formula."""
    return "'" + value if formula_like(value) else value


def xlsx_text(value: str) -> str:
    """A text cell an XLSX can hold: forbidden control characters as ``\\xNN``, neutralised."""
    return neutralise(XLSX_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", value))


def write_csv(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], *, bom: bool
) -> int:
    """Write a neutralised UTF-8 CSV (with a BOM for Excel when asked); returns rows written.

    Raises:
        DiskFullError, DiscoveryError: the file cannot be written (nothing is left of it).
    """
    with output(path, encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        return write_rows(f, header, rows)


def write_rows(f: TextIO, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """Write a neutralised CSV to an open text stream; returns rows written."""
    n = 0
    writer = csv.writer(f)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(str(v)) for v in row])
        n += 1
    return n


def family_cells(m: Message) -> list[str]:
    """The :data:`FAMILY_COLUMNS` of a message: kind, parent's control number, and for a
    family member its file name, SHA-256, OCR flag (``true``/``false``) and confidence."""
    f = m.family
    if f is None:
        return ["message", "", "", "", "", ""]
    confidence = "" if f.ocr_confidence is None else f"{f.ocr_confidence:.1f}"
    return [
        "attachment",
        f.parent_control,
        f.name,
        f.sha256 or "",
        "true" if f.ocr else "false",
        confidence,
    ]


def hit_rows(
    searcher: Searcher,
    node: Node | None,
    ids: Sequence[int],
    tz: tzinfo,
    contexts: Mapping[int, Sequence[int]] | None = None,
) -> Iterator[list[str]]:
    """One CSV row per hit, fetched page by page; with ``contexts`` (each hit's window, see
    :func:`discovery.context.windows`) a last cell holds the window as text."""
    store = searcher.matter.store
    for i in range(0, len(ids), PAGE):
        page = list(ids[i : i + PAGE])
        refs = store.source_refs(page)
        around: dict[int, Message] = {}
        if contexts is not None:
            needed = sorted({j for mid in page for j in contexts.get(mid, ())})
            around = {m.id: m for m in store.messages(needed)}
        for hit in searcher.hits(node, page):
            m = hit.message
            holders = refs.get(m.id, [])
            extra = []
            if contexts is not None:
                shown = [around[j] for j in contexts.get(m.id, [m.id]) if j in around]
                extra = [excerpt(shown, m.id, tz)]
            yield [
                m.control,
                iso_time(m.sent_at) or "",
                iso_time(m.sent_at, tz) or UNDATED_TEXT,
                m.conversation,
                control_number(m.thread_root) if m.thread_root else "",
                m.speaker,
                m.text,
                hit.snippet.text,
                "; ".join(m.custodians),
                m.platform,
                "; ".join(dict.fromkeys(p for _, p, _ in holders)),
                "; ".join(dict.fromkeys(s for _, _, s in holders)),
                "; ".join(m.tags),
                *family_cells(m),
                *extra,
            ]
