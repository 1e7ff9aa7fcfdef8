"""The privilege log: one row per withheld message, CSV and XLSX.

Columns (:data:`COLUMNS`): where the placeholder stands (``bates``: the page
numbers, or document numbers without PDFs, ``; ``-joined when the message is
in more than one slice; ``documents``: the documents' first numbers), the
control number, date and time in UTC, the local time in the production's zone
with its offset, the zone, the author, the conversation's participants
(recipients), conversation, platform, the privilege type (the withhold tags
the message carries) and the reviewer's description (stored per message with
:meth:`discovery.store.Store.set_privilege_description`; empty when none was
written). The log always names the author and time, whatever
``--withhold-metadata`` hid in the production itself. Rows are in time
order, ties by control number. Text cells are neutralised against formulas.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from discovery.export import neutralise, xlsx_text
from discovery.model import UNDATED_TEXT, Message
from discovery.produce.document import withhold_tags_of
from discovery.produce.files import repack_zip
from discovery.produce.transcript import zone_name

COLUMNS = (
    "bates",
    "documents",
    "control_number",
    "date_utc",
    "time_utc",
    "local_time",
    "zone",
    "author",
    "participants",
    "conversation",
    "platform",
    "privilege_type",
    "description",
)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


@dataclass(frozen=True, slots=True)
class LogRow:
    message: Message
    bates: tuple[str, ...]
    documents: tuple[str, ...]
    participants: tuple[str, ...]
    privilege: tuple[str, ...]
    description: str

    def cells(self, tz: tzinfo) -> list[str]:
        m = self.message
        if m.undated:  # no date is invented for a message the source gave none
            date_utc, time_utc, local = "", "", UNDATED_TEXT
        else:
            date_utc, time_utc = m.sent_at.strftime("%Y-%m-%d"), m.sent_at.strftime("%H:%M:%S")
            local = m.sent_at.astimezone(tz).isoformat(timespec="seconds")
        return [
            "; ".join(self.bates),
            "; ".join(self.documents),
            m.control,
            date_utc,
            time_utc,
            local,
            zone_name(tz),
            m.speaker,
            "; ".join(self.participants),
            m.conversation,
            m.platform,
            "; ".join(self.privilege),
            self.description,
        ]


def build_rows(
    messages: Sequence[Message],
    places: Mapping[int, list[tuple[str, str]]],
    participants: Mapping[int, tuple[str, ...]],
    withhold_tags: Sequence[str],
    descriptions: Mapping[int, str],
) -> list[LogRow]:
    """One row per withheld message; ``places[id]`` lists (bates, document) where it stands."""
    rows = []
    held = withhold_tags_of({m.id: m for m in messages}, withhold_tags)
    for m in sorted(messages, key=lambda m: (m.sent_at, m.id)):
        where = places.get(m.id, [])
        rows.append(
            LogRow(
                m,
                tuple(dict.fromkeys(b for b, _ in where)),
                tuple(dict.fromkeys(d for _, d in where)),
                participants.get(m.conversation_id, ()),
                held[m.id],
                descriptions.get(m.id) or _family_description(m, descriptions),
            )
        )
    return rows


def _family_description(m: Message, descriptions: Mapping[int, str]) -> str:
    """An attachment without a description of its own has its withheld parent's."""
    return "" if m.family is None else descriptions.get(m.family.parent_id, "")


def csv_bytes(rows: Sequence[LogRow], tz: tzinfo) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([neutralise(c) for c in r.cells(tz)])
    return buf.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows: Sequence[LogRow], tz: tzinfo, when: datetime) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Privilege log"
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([xlsx_text(c) for c in r.cells(tz)])
    ws.freeze_panes = "A2"
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    wb.properties.created = when.astimezone(UTC).replace(tzinfo=None)
    wb.properties.creator = "discovery"
    buf = io.BytesIO()
    wb.save(buf)

    def fixed(name: str, body: bytes) -> bytes:
        # openpyxl stamps the save time as "modified"; the production's as-of date instead
        if name != "docProps/core.xml":
            return body
        return _MODIFIED.sub(rf"\g<1>{stamp}\g<2>".encode(), body)

    return repack_zip(buf.getvalue(), when, fixed)
