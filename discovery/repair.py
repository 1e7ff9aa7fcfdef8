"""Repairs that let a message be stored without losing it (used by :mod:`discovery.ingest`).

A JSON export can hold a *lone surrogate*: half of a UTF-16 pair, written as
``"\\ud83d"`` when an app cut an emoji in two. Python reads it into a string
that cannot be encoded as UTF-8, so SQLite refuses the whole message (and,
unrepaired, the whole source). Each such character becomes U+FFFD (the
replacement character) in what is stored and searched, and the original
values are kept in the message's raw record (its ``extra`` JSON, under
``original``, with the surrogate written as the JSON escape it was read from),
so nothing is lost. File names that are not UTF-8 (the bytes Python hands over
as surrogate escapes) are shown as ``\\xNN`` instead.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

from discovery.importers.base import RawConversation, RawMessage
from discovery.model import Attachment, Participant, Reaction

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile(r"[\ud800-\udfff]")

T = TypeVar("T")
_FIELDS: dict[type, tuple[str, ...]] = {}


def has_surrogates(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def fix_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD."""
    return _SURROGATE.sub(REPLACEMENT, text) if has_surrogates(text) else text


def fix_path(text: str) -> str:
    """A file name as shown and recorded: bytes that were not UTF-8 as ``\\xNN``."""
    if not has_surrogates(text):
        return text

    def one(m: re.Match[str]) -> str:
        code = ord(m.group())
        return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else REPLACEMENT

    return _SURROGATE.sub(one, text)


def _fix(value: Any) -> Any:
    """``value`` with lone surrogates replaced in every string it holds."""
    if isinstance(value, str):
        return fix_text(value)
    if isinstance(value, tuple):
        return tuple(_fix(v) for v in value)
    if isinstance(value, list):
        return [_fix(v) for v in value]
    if isinstance(value, dict):
        return {_fix(k): _fix(v) for k, v in value.items()}
    if isinstance(value, Reaction | Attachment | Participant):
        return dataclasses.replace(
            value, **{f.name: _fix(getattr(value, f.name)) for f in dataclasses.fields(value)}
        )
    return value


def _dirty(value: Any) -> bool:
    """Whether ``value`` holds a lone surrogate anywhere (cheap: nothing is copied)."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, tuple | list):
        return any(_dirty(v) for v in value)
    if isinstance(value, dict):
        return any(_dirty(k) or _dirty(v) for k, v in value.items())
    if isinstance(value, Reaction | Attachment | Participant):
        return any(_dirty(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def _message_dirty(m: RawMessage) -> bool:
    """:func:`_dirty` for a raw message, written out: ingest calls it for every message."""
    parts = [
        m.platform, m.conversation_key, m.native_id, m.speaker_id, m.speaker, m.text,
        m.thread_key or "", m.location, *m.versions, *m.extra, *m.extra.values(),
    ]  # fmt: skip
    for r in m.reactions:
        parts.append(r.emoji)
        parts.extend(r.users)
    for a in m.attachments:
        parts.extend((a.name, a.sha256 or "", a.url or ""))
    try:
        return _SURROGATE.search("".join(parts)) is not None
    except TypeError:  # a value that is no string: let the field-by-field check see it
        return True


def _plain(value: Any) -> Any:
    """``value`` as JSON-able data (dataclasses as dicts), for the raw record."""
    if isinstance(value, Reaction | Attachment | Participant):
        return dataclasses.asdict(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def repair(item: T) -> tuple[T, dict[str, Any]]:
    """A raw message or conversation that can be stored, and the original fields changed.

    Returns ``(item, {})`` unchanged when nothing needed repair; otherwise the
    repaired copy and ``{field name: original value}`` (JSON-able) for the
    raw record.
    """
    assert isinstance(item, RawMessage | RawConversation)
    if isinstance(item, RawMessage) and not _message_dirty(item):
        return item, {}  # the common case, checked in one pass over its text
    names = _FIELDS.get(type(item))
    if names is None:
        names = _FIELDS[type(item)] = tuple(f.name for f in dataclasses.fields(item))
    values = [getattr(item, name) for name in names]
    originals: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    for name, value in zip(names, values, strict=True):
        if _dirty(value):
            originals[name] = _plain(value)
            changes[name] = _fix(value)
    return dataclasses.replace(item, **changes), originals  # type: ignore[type-var]


def describe(originals: dict[str, Any], *, kept: bool = True) -> str:
    """The problem line's reason for a repaired item (never quoting its text).

    ``kept``: whether the original is kept (a message's raw record keeps it; a
    conversation has none, its messages keep its original key).
    """
    names = ", ".join(sorted(originals))
    where = "the original kept in the message's raw record" if kept else "the original not kept"
    return (
        f"half of an emoji or other character pair (a lone surrogate) in {names}: stored"
        f" as U+FFFD, {where}"
    )
