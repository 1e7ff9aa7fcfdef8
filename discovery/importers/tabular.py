"""Generic CSV and JSONL: one message per row (or per JSON line).

Columns (CSV header) or keys (JSONL objects) are matched case-insensitively,
ignoring spaces, hyphens and a UTF-8 BOM, against these aliases:

=============  ==========================================================  ========
field          aliases                                                     required
=============  ==========================================================  ========
conversation   conversation, channel, chat, room, conversation_name, ...   no [1]
speaker        speaker, sender, from, author, user, username, sender_name  yes
time           time, timestamp, sent_at, date, datetime, sent, created_at  yes
text           text, message, body, content                                yes
id             id, message_id, msg_id, native_id                           no
thread         thread, thread_id, thread_ts, parent_id, reply_to           no
speaker_id     speaker_id, sender_id, user_id, author_id, from_id          no
platform       platform                                                    no
=============  ==========================================================  ========

[1] Without a conversation column every row belongs to one conversation named
after the file, keyed by the file's name and content as with a transcript
(``ImportContext.file_key``). Columns that match no alias are kept in
``RawMessage.extra``.

Times: ISO 8601 first, then anything python-dateutil reads, strictly: a time
without a full date (``10:15``, ``Jan 5``) is refused at its row rather than
completed with today's date. All-numeric dates (``12/03/2023``) are read in
ONE order for the whole file: day-first if any row's first field is above 12,
month-first if any second field is (the majority wins should both occur),
else month-first (dotted ``12.03.2023``: day-first). ISO and year-first dates
are never ambiguous. A bare number is Unix seconds, milliseconds or
microseconds by its size (below 10^11: seconds; below 10^14: ms; else µs),
read exactly. A time with an offset gives an aware datetime (an offset beyond
±24 h is refused at its row), one without stays naive (the ingest applies
``--tz``).

A file missing a required column is one ImportProblem for the file (for JSONL,
judged on its first object). A bad row (too few or too many cells, invalid
JSON, not an object, no text) is an ImportProblem at its line and the import
goes on. A row whose time is missing, empty or unreadable is kept **undated**
(``sent_at`` None; the unreadable cell stays in ``extra``) and reported at its
line; a row with no speaker is kept (the ingest names it "(unknown sender)").
``native_id`` is the id column or ``''``; ``location`` is ``line N`` (the
row's first physical line).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.textio import head_text, read_text
from discovery.importers.times import (
    from_epoch,
    infer_day_first,
    numeric_date,
    parse_iso,
    parse_loose,
)
from discovery.model import ConversationKind

ALIASES: dict[str, tuple[str, ...]] = {
    "conversation": (
        "conversation",
        "channel",
        "chat",
        "room",
        "conversation_name",
        "channel_name",
        "chat_name",
    ),
    "speaker": ("speaker", "sender", "from", "author", "user", "username", "sender_name"),
    "time": ("time", "timestamp", "sent_at", "date", "datetime", "sent", "created_at"),
    "text": ("text", "message", "body", "content"),
    "id": ("id", "message_id", "msg_id", "native_id"),
    "thread": ("thread", "thread_id", "thread_ts", "parent_id", "reply_to"),
    "speaker_id": ("speaker_id", "sender_id", "user_id", "author_id", "from_id"),
    "platform": ("platform",),
}
REQUIRED = ("speaker", "time", "text")
SNIFF_BYTES = 64 * 1024
CSV_FIELD_LIMIT = 16 * 1024 * 1024
_NUMBER_RE = re.compile(r"^-?\d+(?:\.\d+)?$")


def normalize_key(key: str) -> str:
    """A header as matched against the aliases: ``" Sent-At "`` -> ``sent_at``."""
    return re.sub(r"[\s\-]+", "_", key.strip().lstrip("\ufeff").strip().lower())


def resolve_columns(keys: list[str]) -> dict[str, str]:
    """Map each field to the original key that supplies it (first alias wins)."""
    by_norm: dict[str, str] = {}
    for k in keys:
        by_norm.setdefault(normalize_key(k), k)
    out: dict[str, str] = {}
    for fld, aliases in ALIASES.items():
        for alias in aliases:
            if alias in by_norm:
                out[fld] = by_norm[alias]
                break
    return out


def parse_time(value: Any, day_first: bool = False) -> datetime:
    """A message time from a cell or JSON value. Raises ValueError when unreadable.

    ``day_first`` is the file's reading of all-numeric dates (:func:`time_order`).
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("no time")
    if isinstance(value, int | float):
        when = from_epoch(value)
        if when is None:
            raise ValueError(f"time {value} is out of range")
        return when
    if not isinstance(value, str):
        raise ValueError("time is not text")
    v = value.strip()
    if not v:
        raise ValueError("empty time")
    if _NUMBER_RE.match(v):
        when = from_epoch(v)
        if when is None:
            raise ValueError(f"time {v[:40]} is out of range")
        return when
    return parse_iso(v) or parse_loose(v, day_first)


def time_order(values: list[Any]) -> bool:
    """Whether a file's all-numeric dates are day-first, judged on all its time values."""
    dates = [numeric_date(v) for v in values if isinstance(v, str)]
    return infer_day_first([d for d in dates if d])


def _unquoted(message: str, cell: Any) -> str:
    """``message`` with the cell's text replaced by its length.

    A problem line never quotes a cell: a shifted row puts message text in
    the time column.
    """
    text = cell.strip() if isinstance(cell, str) else ""
    for quoted in (repr(text[:40]), repr(text), text[:40]):
        if text and quoted in message:
            return message.replace(quoted, f"({len(text)} characters)")
    return message


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise ValueError("is not a text or number")


class _Rows:
    """Turns mapped rows into conversations and messages, remembering conversations seen."""

    def __init__(
        self,
        platform: str,
        default_conversation: str,
        display_path: str,
        day_first: bool = False,
        default_name: str | None = None,
    ) -> None:
        self.platform = platform
        self.default_conversation = default_conversation
        self.default_name = default_conversation if default_name is None else default_name
        self.display_path = display_path
        self.day_first = day_first
        self.seen: set[tuple[str, str]] = set()

    def row(
        self, values: Mapping[str, Any], cols: dict[str, str], line: int
    ) -> Iterator[ImportItem]:
        if "text" not in cols or cols["text"] not in values:
            yield ImportProblem(self.display_path, "row has no text; skipped", line)
            return
        when: datetime | None = None
        unread: dict[str, str] = {}  # an unreadable time cell, kept in the raw record
        if "time" not in cols or cols["time"] not in values:
            yield ImportProblem(self.display_path, "row has no time; kept undated", line)
        else:
            cell = values[cols["time"]]
            try:
                when = parse_time(cell, self.day_first)
            except ValueError as e:
                reason = _unquoted(str(e), cell)
                yield ImportProblem(
                    self.display_path, f"column {cols['time']!r}: {reason}; kept undated", line
                )
                unread[cols["time"]] = cell if isinstance(cell, str) else json.dumps(cell)
        got: dict[str, str] = {}
        for f, k in cols.items():
            if f == "time" or k not in values:
                continue
            try:
                got[f] = _cell(values.get(k))
            except ValueError:
                yield ImportProblem(self.display_path, f"{k!r} is not text; row skipped", line)
                return
        platform = got.get("platform", "").strip() or self.platform
        conv = got.get("conversation", "").strip()
        name = conv or self.default_name
        conv = conv or self.default_conversation
        if platform != self.platform:
            # A conversation is (platform, key): rows of "general" from Slack and from
            # Teams are two conversations, each keeping its own platform.
            conv = f"{platform}:{conv}"
        if (platform, conv) not in self.seen:
            self.seen.add((platform, conv))
            yield RawConversation(
                platform=platform, key=conv, name=name, kind=ConversationKind.CHANNEL
            )
        native_id = got.get("id", "").strip()
        thread = got.get("thread", "").strip() or None
        if thread is not None and thread == native_id:
            thread = None
        speaker = got.get("speaker", "").strip()  # none: the ingest stores "(unknown sender)"
        used = set(cols.values())
        extra = dict(unread)
        for k, v in values.items():
            if k not in used and isinstance(k, str):
                try:
                    extra[k] = _cell(v)
                except ValueError:
                    extra[k] = json.dumps(v, ensure_ascii=False)
        yield RawMessage(
            platform=platform,
            conversation_key=conv,
            native_id=native_id,
            speaker_id=got.get("speaker_id", "").strip() or speaker,
            speaker=speaker,
            sent_at=when,
            text=got["text"],
            thread_key=thread,
            location=f"line {line}",
            extra=extra,
        )


def read_csv(
    text: str,
    default_conversation: str,
    display_path: str,
    platform: str = "csv",
    name: str | None = None,
) -> Iterator[ImportItem]:
    """The items of a CSV text (see the module doc).

    Args:
        text: the decoded file.
        default_conversation: the key of the conversation of rows that name none.
        display_path: the path shown in problems.
        platform: the platform of rows that name none.
        name: the display name of that default conversation (default: its key).
    """
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        # The default (128 KiB) would reject a long pasted message; raised once, never lowered.
        csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        yield ImportProblem(display_path, "empty CSV file")
        return
    except csv.Error as e:
        yield ImportProblem(display_path, f"unreadable CSV header ({e})", 1)
        return
    cols = resolve_columns(header)
    missing = [f for f in REQUIRED if f not in cols]
    if missing:
        names = "; ".join(f"{f} ({'/'.join(ALIASES[f][:4])})" for f in missing)
        yield ImportProblem(display_path, f"no column for {names}: file not imported", 1)
        return
    width = len(header)
    last = reader.line_num
    pending: list[tuple[dict[str, str], int] | ImportProblem] = []  # in line order
    while True:
        start = last + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            last = reader.line_num
            pending.append(ImportProblem(display_path, f"unreadable CSV row ({e}); skipped", start))
            continue
        last = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != width:
            reason = f"row has {len(cells)} cells, the header has {width}; skipped"
            pending.append(ImportProblem(display_path, reason, start))
            continue
        pending.append((dict(zip(header, cells, strict=True)), start))
    good = [p for p in pending if not isinstance(p, ImportProblem)]
    day_first = time_order([values[cols["time"]] for values, _ in good])
    rows = _Rows(platform, default_conversation, display_path, day_first, name)
    for item in pending:
        if isinstance(item, ImportProblem):
            yield item
        else:
            yield from rows.row(item[0], cols, item[1])


def read_jsonl(
    text: str,
    default_conversation: str,
    display_path: str,
    platform: str = "jsonl",
    name: str | None = None,
) -> Iterator[ImportItem]:
    """The items of a JSONL text (arguments as for :func:`read_csv`)."""
    pending: list[tuple[dict[str, Any], dict[str, str], int] | ImportProblem] = []
    first = True
    for n, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            reason = f"not valid JSON: {e.msg} (column {e.colno}); skipped"
            pending.append(ImportProblem(display_path, reason, n))
            continue
        except RecursionError:
            reason = "not valid JSON: nested too deeply; skipped"
            pending.append(ImportProblem(display_path, reason, n))
            continue
        if not isinstance(obj, dict):
            pending.append(ImportProblem(display_path, "not a JSON object; skipped", n))
            continue
        cols = resolve_columns([k for k in obj if isinstance(k, str)])
        if first:
            first = False
            missing = [f for f in REQUIRED if f not in cols]
            if missing:
                names = "; ".join(f"{f} ({'/'.join(ALIASES[f][:4])})" for f in missing)
                yield from (p for p in pending if isinstance(p, ImportProblem))
                yield ImportProblem(display_path, f"no key for {names}: file not imported", n)
                return
        pending.append((obj, cols, n))
    times = [p[0].get(p[1].get("time", "")) for p in pending if not isinstance(p, ImportProblem)]
    rows = _Rows(platform, default_conversation, display_path, time_order(times), name)
    for item in pending:
        if isinstance(item, ImportProblem):
            yield item
        else:
            yield from rows.row(*item)


class _TableImporter:
    """Decode the file, then hand the text to ``parse`` (:func:`read_csv` or :func:`read_jsonl`)."""

    name: str
    parse: Callable[..., Iterator[ImportItem]]

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        text, problems = read_text(path, ctx.display_path)
        yield from problems
        if text is None:
            return
        yield from self.parse(
            text, ctx.file_key(path.name), ctx.display_path, self.name, name=path.name
        )


class CsvImporter(_TableImporter):
    """A CSV file with a header row naming speaker, time and text (and more)."""

    name = "csv"
    parse = staticmethod(read_csv)

    def sniff(self, path: Path) -> bool:
        """A ``.csv`` file, or any text file whose header supplies speaker, time and text.

        A ``.csv`` whose header lacks a required column is still claimed, so
        that the ingest reports which column is missing instead of
        "unrecognised format".
        """
        head = head_text(path, SNIFF_BYTES)
        if head is None:
            return False
        if path.suffix.lower() == ".csv":
            return True
        first = head.splitlines()[0] if head.strip() else ""
        try:
            header = next(csv.reader([first]))
        except (csv.Error, StopIteration):
            return False
        cols = resolve_columns(header)
        return all(f in cols for f in REQUIRED)


class JsonlImporter(_TableImporter):
    """JSON Lines: one object per line with speaker, time and text keys (and more)."""

    name = "jsonl"
    parse = staticmethod(read_jsonl)

    def sniff(self, path: Path) -> bool:
        """A ``.jsonl``/``.ndjson`` file, or one whose first line is an object with the keys."""
        head = head_text(path, SNIFF_BYTES)
        if head is None:
            return False
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            return True
        for line in head.splitlines():
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                return False
            return isinstance(obj, dict) and all(f in resolve_columns(list(obj)) for f in REQUIRED)
        return False
