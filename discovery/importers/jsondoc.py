"""Small helpers shared by the JSON-based importers (Teams, RSMF, Google Chat, Discord, Mattermost).

Each helper turns bad content into a value or an :class:`ImportProblem`,
never an exception, so that importers stay "never raise for bad content".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from discovery.errors import ImportProblem

SNIFF_BYTES = 64 * 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def head(path: Path, size: int = SNIFF_BYTES) -> str | None:
    """The first ``size`` bytes of a regular file as text (None: not a readable text file)."""
    try:
        if not path.is_file():
            return None
        with path.open("rb") as fh:
            raw = fh.read(size)
    except OSError:
        return None
    if b"\x00" in raw:
        return None
    return raw.decode("utf-8-sig", errors="replace")


def looks_like_json(text: str | None) -> bool:
    """True when ``text`` starts (after blanks) like a JSON object or array."""
    return bool(text) and text.lstrip()[:1] in ("{", "[")  # type: ignore[union-attr]


def decode_json(raw: bytes, where: str) -> tuple[Any, ImportProblem | None]:
    """Parse JSON bytes (UTF-8, optional BOM); the value, or None and the problem."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return None, ImportProblem(where, f"not UTF-8 text (byte {e.start})")
    try:
        return json.loads(text), None
    except json.JSONDecodeError as e:
        return None, ImportProblem(where, f"not valid JSON: {e.msg}", e.lineno)
    except RecursionError:
        return None, ImportProblem(where, "not valid JSON: nested too deeply")


def load_json(path: Path, where: str) -> tuple[Any, ImportProblem | None]:
    """Read and parse a JSON file; the value, or None and the problem."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        return None, ImportProblem(where, f"cannot read the file ({e.strerror or e})")
    return decode_json(raw, where)


def text_of(value: Any) -> str:
    """``value`` when it is a string, else ''."""
    return value if isinstance(value, str) else ""


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty mapping."""
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty list."""
    return value if isinstance(value, list) else []


def integer(value: Any) -> int | None:
    """An int from a JSON number or digit string (bools excluded), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def parse_iso(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` or an offset; naive when it has none), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    v = value.strip()
    try:
        return datetime.fromisoformat(v)
    except ValueError:
        pass
    # .NET writes 7 fractional digits; older Pythons and some tools choke on more than 6.
    if "." in v:
        base, _, rest = v.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        try:
            return datetime.fromisoformat(
                f"{base}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
            )
        except ValueError:
            return None
    return None


def from_epoch(value: Any, unit: int) -> datetime | None:
    """A UTC datetime from an epoch number in ``unit`` per second (1000: ms, 10**6: µs), or None."""
    n = integer(value)
    if n is None:
        return None
    try:
        return _EPOCH + timedelta(microseconds=n * (1_000_000 // unit))
    except OverflowError:
        return None
