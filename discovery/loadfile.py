"""Concordance DAT load files, for importing messages into a review platform.

The layout follows the Concordance defaults that Relativity's load-file import
expects unless told otherwise (Relativity, "Load file specifications",
help.relativity.com/.../Relativity_Desktop_Client/Importing/Load_file_specifications.htm;
the default delimiter set as listed in Relativity's import settings is column
``¶`` = ASCII 020, quote ``þ`` = ASCII 254, newline ``®`` = ASCII 174,
multi-value ``;`` = ASCII 059, nested value ``\\`` = ASCII 092; see also
litigationsupporttipofthenight.com, "default delimiters used in Relativity
load files", 2016). Note the glyph trap: ``¶`` is how code page 437 *shows*
the control character 0x14 (DC4); the column delimiter is U+0014, **not** the
pilcrow U+00B6. ``þ`` (U+00FE) is the text qualifier (quote), not the column
delimiter.

So a record is::

    þCONTROLNUMBERþ<U+0014>þCUSTODIANþ<U+0014>...<CR><LF>

* encoding UTF-8 with a byte-order mark: Relativity recognises a file's
  encoding only by its BOM (Load file specifications, "Encoding"); without
  one it falls back to whatever default the operator picked;
* the first record is the header (field names, same delimiters);
* a line break inside a value is written as ``®`` (the newline delimiter);
  several custodians or participants are separated by ``;`` (multi-value);
* Concordance has no escape for its delimiters, so a U+0014 inside a value
  becomes a space, a ``þ`` becomes ``th`` (its usual transliteration) and a
  literal ``®`` becomes ``(R)`` (else the import would read it as a line
  break); a ``;`` inside one custodian's or participant's name becomes ``,``
  (else the name would be split into two values of the multi-value field);
* the message text is not in the DAT: each message gets a UTF-8 (BOM) text
  file ``TEXT/<control number>.txt`` beside the DAT, and the ``TEXTPATH``
  field holds its path relative to the DAT, Windows style
  (``TEXT\\MSG-00000042.txt``). An edited message's earlier versions follow
  its current text, each under a ``--- earlier version N ---`` line.

Fields: :data:`FIELDS`. ``SENTTIME_UTC`` is ``YYYY-MM-DD HH:MM:SS`` in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from discovery.errors import DiscoveryError
from discovery.files import output, private_dir, write_text
from discovery.model import Message
from discovery.store import Store

COLUMN = "\x14"
"""Column delimiter: ASCII 020 (DC4), which code page 437 displays as ``¶``."""
QUOTE = "\u00fe"
"""Text qualifier: ``þ``, ASCII 254."""
NEWLINE = "\u00ae"
"""Stands for a line break inside a value: ``®``, ASCII 174."""
MULTI = ";"
"""Separates the values of a multi-value field (custodians, participants)."""
RECORD_END = "\r\n"
TEXT_DIR = "TEXT"

FIELDS = (
    "CONTROLNUMBER",
    "EXHIBIT",
    "CUSTODIAN",
    "SENTTIME_UTC",
    "SPEAKER",
    "PARTICIPANTS",
    "CONVERSATION",
    "PLATFORM",
    "TEXTPATH",
)


@dataclass(frozen=True, slots=True)
class LoadFileResult:
    records: int
    text_files: int
    dat: Path


def clean(value: str) -> str:
    """A value safe inside a Concordance field (see the module notes)."""
    value = value.replace(COLUMN, " ").replace(QUOTE, "th").replace(NEWLINE, "(R)")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\n", NEWLINE)


def multi_value(names: Sequence[str]) -> str:
    """Names as one multi-value field: ``;`` between them, a ``;`` inside one made ``,``."""
    return MULTI.join(name.replace(MULTI, ",") for name in names)


def record(values: Sequence[str]) -> str:
    """One DAT record (with its CR LF)."""
    return COLUMN.join(QUOTE + clean(v) + QUOTE for v in values) + RECORD_END


def text_file_body(m: Message) -> str:
    parts = [m.text]
    for n, earlier in enumerate(m.versions, 1):
        parts.append(f"\n--- earlier version {n} ---\n{earlier}")
    return "\n".join(parts) + "\n"


def write_loadfile(
    store: Store,
    messages: Sequence[Message],
    dat: Path,
    *,
    exhibit_numbers: dict[int, str] | None = None,
) -> LoadFileResult:
    """Write ``dat`` and one text file per message under ``TEXT/`` beside it."""
    numbers = exhibit_numbers or {}
    text_dir = dat.parent / TEXT_DIR
    participants: dict[int, str] = {}
    try:
        private_dir(text_dir)
        with output(dat, encoding="utf-8-sig", newline="") as f:
            f.write(record(FIELDS))
            for m in messages:
                if m.conversation_id not in participants:
                    conv = store.conversation(m.conversation_id)
                    participants[m.conversation_id] = multi_value(
                        [p.name for p in conv.participants]
                    )
                name = f"{m.control}.txt"
                write_text(text_dir / name, text_file_body(m), encoding="utf-8-sig")
                f.write(
                    record(
                        [
                            m.control,
                            numbers.get(m.id, ""),
                            multi_value(m.custodians),
                            "" if m.undated else m.sent_at.strftime("%Y-%m-%d %H:%M:%S"),
                            m.speaker,
                            participants[m.conversation_id],
                            m.conversation,
                            m.platform,
                            f"{TEXT_DIR}\\{name}",
                        ]
                    )
                )
    except OSError as exc:
        raise DiscoveryError(f"cannot write the load file {dat}: {exc.strerror or exc}") from None
    return LoadFileResult(len(messages), len(messages), dat)


def read_dat(path: Path) -> list[dict[str, str]]:
    """Records of a DAT written by :func:`write_loadfile`, as field -> value (``®`` kept)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        text = f.read()
    lines = [line for line in text.split(RECORD_END) if line]
    rows = [[cell[1:-1] for cell in line.split(COLUMN)] for line in lines]
    header, body = rows[0], rows[1:]
    return [dict(zip(header, r, strict=True)) for r in body]
