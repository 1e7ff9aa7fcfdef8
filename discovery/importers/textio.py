"""Reading a source's bytes and text the same way in every importer.

* :func:`head` is what sniffers look at: the first bytes of a regular file,
  or None when it cannot be read or (for text formats) holds a NUL byte.
* :func:`read_bytes` reads a whole file; failure is an ImportProblem
  ("cannot read the file (reason)"), never an exception.
* :func:`decode_text` decodes UTF-8 (a BOM is dropped). Invalid bytes never
  stop an import: they become U+FFFD and the source gets the problem
  "not valid UTF-8; unreadable bytes shown as �", so a reviewer knows the text
  is not exactly what the file holds.
* :func:`decode_html` is :func:`decode_text` for HTML, except that a page
  declaring another charset in a ``<meta>`` is left to the parser.
* :func:`decode_json` is :func:`decode_text` then ``json.loads``; a parse
  failure is a problem at its line.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

from discovery.errors import ImportProblem

SNIFF_BYTES = 64 * 1024
NOT_UTF8 = "not valid UTF-8; unreadable bytes shown as �"
_DECLARED_CHARSET = re.compile(rb"<meta[^>]{0,200}charset\s*=\s*[\"']?\s*([a-z0-9_.:-]+)", re.I)


def head(path: Path, size: int = SNIFF_BYTES, *, binary: bool = False) -> bytes | None:
    """The first ``size`` bytes of a regular file.

    None when it is not a readable file, or (unless ``binary``) when the bytes
    hold a NUL: a text format's sniffer never claims a binary file, while a
    binary format's (PDF) reads on whatever bytes follow its marker.
    """
    try:
        if not path.is_file():
            return None
        with path.open("rb") as fh:
            raw = fh.read(size)
    except OSError:
        return None
    return None if not binary and b"\x00" in raw else raw


def head_text(path: Path, size: int = SNIFF_BYTES) -> str | None:
    """:func:`head` decoded leniently (a BOM dropped, bad bytes replaced), for sniffing."""
    raw = head(path, size)
    return None if raw is None else raw.decode("utf-8-sig", errors="replace")


def read_bytes(path: Path, where: str) -> tuple[bytes | None, list[ImportProblem]]:
    """The whole file, or None and the problem saying why it cannot be read."""
    try:
        return path.read_bytes(), []
    except OSError as e:
        return None, [ImportProblem(where, f"cannot read the file ({e.strerror or e})")]


def read_text(path: Path, where: str) -> tuple[str | None, list[ImportProblem]]:
    """Read and decode a text file: :func:`read_bytes` then :func:`decode_text`."""
    raw, problems = read_bytes(path, where)
    if raw is None:
        return None, problems
    text, more = decode_text(raw, where)
    return text, problems + more


def decode_text(raw: bytes, where: str) -> tuple[str, list[ImportProblem]]:
    """UTF-8 text without its BOM; invalid bytes become U+FFFD and are reported."""
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
        return text, [ImportProblem(where, NOT_UTF8)]


def decode_html(raw: bytes, where: str) -> tuple[str | bytes, list[ImportProblem]]:
    """HTML for BeautifulSoup: UTF-8 text, or the bytes when they declare another charset.

    A page that is valid UTF-8 is read as UTF-8 (never guessed at). One that is
    not, but names its charset in a ``<meta>`` (``windows-1252``), is handed
    over as bytes so the parser honours the declaration. Anything else is
    :func:`decode_text`: bad bytes become U+FFFD and are reported.
    """
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    declared = _DECLARED_CHARSET.search(raw[:SNIFF_BYTES])
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return raw, []
    return decode_text(raw, where)


def parse_html(raw: bytes, where: str) -> tuple[Any, list[ImportProblem]]:
    """The BeautifulSoup tree of an HTML page (parsed, never executed) and the problems met.

    The tree is None, with a problem saying so, when the parser gives up on
    pathological markup.
    """
    from bs4 import BeautifulSoup

    markup, problems = decode_html(raw, where)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bs4 warns about markup that looks like a URL
            return BeautifulSoup(markup, "html.parser"), problems
    except Exception as e:  # bs4's own parser can choke on pathological markup
        return None, [*problems, ImportProblem(where, f"unreadable HTML ({type(e).__name__})")]


def decode_json(raw: bytes, where: str) -> tuple[Any, list[ImportProblem]]:
    """The JSON value of ``raw`` and the problems met.

    The value is None when the text is not JSON (the last problem says where);
    invalid UTF-8 is reported but does not stop the parse.
    """
    text, problems = decode_text(raw, where)
    try:
        return json.loads(text), problems
    except json.JSONDecodeError as e:
        return None, [*problems, ImportProblem(where, f"not valid JSON: {e.msg}", e.lineno)]
    except RecursionError:
        return None, [*problems, ImportProblem(where, "not valid JSON: nested too deeply")]


def load_json(path: Path, where: str) -> tuple[Any, list[ImportProblem]]:
    """Read and parse a JSON file: :func:`read_bytes` then :func:`decode_json`."""
    raw, problems = read_bytes(path, where)
    if raw is None:
        return None, problems
    return decode_json(raw, where)
