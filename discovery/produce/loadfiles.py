"""A production's load files: the Concordance DAT, the Opticon OPT and the TEXT/ files.

The DAT uses the Concordance delimiters of :mod:`discovery.loadfile` (UTF-8
with BOM, ``þ`` quote, U+0014 column, ``®`` newline, ``;`` multi-value), one
record per document, fields :data:`DAT_FIELDS`. Paths are relative to the
production folder, Windows style (``NATIVES\\ABC-000001.rsmf``). Dates are
UTC, ``YYYY-MM-DD HH:MM:SS``; ``DATESENT_FIRST``/``DATESENT_LAST`` are the
first and last message times shown in the document (empty when every time in
it is withheld). A chat slice is its own family, so ``BEGATTACH``/``ENDATTACH``
equal its Bates range.

The Opticon OPT (written with page images) has one line per page:
``BATES,VOLUME,IMAGEPATH,DOCBREAK,,,PAGECOUNT`` where ``DOCBREAK`` is ``Y`` on
a document's first page and the page count is given there only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from discovery.loadfile import multi_value, record
from discovery.produce.bates import BatesRange
from discovery.produce.document import WITHHELD_SPEAKER, Document

DAT_FIELDS = (
    "BEGBATES",
    "ENDBATES",
    "BEGATTACH",
    "ENDATTACH",
    "CUSTODIANS",
    "DATESENT_FIRST",
    "DATESENT_LAST",
    "PARTICIPANTS",
    "CONVERSATION",
    "PLATFORM",
    "SLICE",
    "MESSAGECOUNT",
    "WITHHELDCOUNT",
    "CONTROLNUMBERS",
    "CONFIDENTIALITY",
    "TEXTPATH",
    "NATIVEPATH",
    "PDFPATH",
)


@dataclass(frozen=True, slots=True)
class Produced:
    """One document as produced: its Bates range and the files holding it."""

    doc: Document
    bates: BatesRange
    text_path: str = ""
    native_path: str = ""
    pdf_path: str = ""
    image_paths: tuple[str, ...] = ()


def _win(path: str) -> str:
    return path.replace("/", "\\")


def _utc(doc: Document, i: int) -> str:
    times = doc.times
    return "" if times is None else times[i].strftime("%Y-%m-%d %H:%M:%S")


def dat_bytes(produced: Sequence[Produced], legend: str) -> bytes:
    out = [record(DAT_FIELDS)]
    for p in produced:
        d = p.doc
        speakers = {e.speaker for e in d.entries} - {WITHHELD_SPEAKER}
        names = sorted({pt.name for pt in d.conversation.participants} | speakers)
        out.append(
            record(
                [
                    p.bates.begin,
                    p.bates.end,
                    p.bates.begin,
                    p.bates.end,
                    multi_value(d.custodians),
                    _utc(d, 0),
                    _utc(d, 1),
                    multi_value(names),
                    d.conversation.name,
                    d.conversation.platform,
                    f"{d.slice.kind}: {d.slice.key}",
                    str(len(d.entries)),
                    str(len(d.withheld)),
                    multi_value([e.control for e in d.entries]),
                    legend,
                    _win(p.text_path),
                    _win(p.native_path),
                    _win(p.pdf_path),
                ]
            )
        )
    return "".join(out).encode("utf-8-sig")


def opt_bytes(produced: Sequence[Produced], volume: str) -> bytes:
    lines = []
    for p in produced:
        for n, path in enumerate(p.image_paths):
            first = n == 0
            count = str(len(p.image_paths)) if first else ""
            lines.append(
                f"{p.bates.page(n)},{volume},{_win(path)},{'Y' if first else ''},,,{count}\r\n"
            )
    return "".join(lines).encode("utf-8")
