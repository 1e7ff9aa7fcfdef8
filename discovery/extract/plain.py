"""Plain text and CSV: decoded as the importers decode text (``importers.textio``).

UTF-8, a BOM dropped; invalid bytes become U+FFFD and are reported, never
guessed at. A file that starts with a UTF-16 or UTF-32 byte-order mark (a
"Unicode" text file saved by Notepad or Excel) is decoded as the mark says:
the mark is in the file, so this is not a guess. Line ends become ``\\n``. A
CSV's text is kept as written (delimiters and quotes are not words, so
splitting it into cells would change no search).
"""

from __future__ import annotations

from discovery.extract.core import Body, Walk
from discovery.extract.model import Problem, ProblemCode, Section
from discovery.importers.textio import decode_text

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def read(data: bytes, walk: Walk) -> Body:
    text, problems = decode(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Body((Section("", text),) if text.strip() else (), problems=problems)


def decode(data: bytes) -> tuple[str, tuple[Problem, ...]]:
    """Text of ``data`` and the problem of its unreadable bytes, if any."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec), ()
            except UnicodeDecodeError:
                text = data[len(bom) :].decode(codec, errors="replace")
                label = codec.upper().replace("-LE", "").replace("-BE", "")
                return text, (
                    Problem(
                        ProblemCode.NOT_UTF8, f"not valid {label}; unreadable bytes shown as �"
                    ),
                )
    text, bad = decode_text(data, "")
    return text, tuple(Problem(ProblemCode.NOT_UTF8, p.reason) for p in bad)
