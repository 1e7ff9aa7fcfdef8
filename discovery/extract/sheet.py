"""XLSX: every sheet's cell values, with openpyxl (read-only, values as last calculated).

Each sheet is a section ``sheet NAME`` (``sheet NAME (hidden)`` for a hidden
or very hidden one: the file holds it, so it is searched). A row is a line,
its non-empty cells a tab apart; empty rows are left out. Values are what
Excel last calculated and saved (``data_only``): numbers as Python prints
them (``1250000``, ``0.5``), dates in ISO form, booleans as ``TRUE``/``FALSE``.
A formula cell in a workbook never calculated by a spreadsheet program (one
written by a script) has no saved value and reads as empty; formulas, cell
comments and charts are not extracted.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time

from discovery.extract.core import Body, Walk, document_properties
from discovery.extract.model import Section


def read(data: bytes, walk: Walk) -> Body:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sections = []
        for ws in wb.worksheets:
            rows = []
            for row in ws.iter_rows(values_only=True):
                cells = [cell_text(v) for v in row]
                line = "\t".join(c for c in cells if c)
                if line:
                    rows.append(line)
            hidden = " (hidden)" if ws.sheet_state != "visible" else ""
            sections.append(Section(f"sheet {ws.title}{hidden}", "\n".join(rows)))
        meta = [("sheets", str(len(wb.worksheets))), *document_properties(wb.properties)]
    finally:
        wb.close()
    return Body(tuple(sections), metadata=tuple(meta))


def cell_text(value: object) -> str:
    """A cell value as text (``""`` for an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()
