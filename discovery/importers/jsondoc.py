"""Small helpers for reading parsed JSON values (Teams, RSMF, Google Chat, Discord, Mattermost).

Each helper turns a value of the wrong type into an empty or None value,
never an exception, so that importers stay "never raise for bad content".
Reading and decoding files is :mod:`discovery.importers.textio`; timestamps
are :mod:`discovery.importers.times`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def looks_like_json(text: str | None) -> bool:
    """True when ``text`` starts (after blanks) like a JSON object or array."""
    return bool(text) and text.lstrip()[:1] in ("{", "[")  # type: ignore[union-attr]


def text_of(value: Any) -> str:
    """``value`` when it is a string, else ''."""
    return value if isinstance(value, str) else ""


def id_of(value: Any) -> str:
    """An id as a string: a string as is, a JSON integer in decimal, else ''.

    Exports write the same id as ``7`` in one place and ``"7"`` in another;
    comparing them as strings keeps them the same id.
    """
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


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
