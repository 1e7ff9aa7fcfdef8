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
after the file, as with a transcript. Columns that match no alias are kept in
``RawMessage.extra``.

Times: ISO 8601 first, then anything python-dateutil reads (``02/03/2023`` is
month-first, dateutil's default); a bare number is Unix seconds (milliseconds
when above 10^11). A time with an offset gives an aware datetime, one without
stays naive (the ingest applies ``--tz``).

A file missing a required column is one ImportProblem for the file (for JSONL,
judged on its first object). A bad row (too few or too many cells, empty
time, unreadable time, invalid JSON, not an object) is an ImportProblem at its
line and the import goes on. ``native_id`` is the id column or ``''``;
``location`` is ``line N`` (the row's first physical line).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dateutil import parser as dateparser

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
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
_EPOCH_ZERO = datetime(1970, 1, 1, tzinfo=UTC)


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


def parse_time(value: Any) -> datetime:
    """A message time from a cell or JSON value. Raises ValueError when unreadable."""
    if isinstance(value, bool) or value is None:
        raise ValueError("no time")
    if isinstance(value, int | float):
        return _epoch(float(value))
    if not isinstance(value, str):
        raise ValueError("time is not text")
    v = value.strip()
    if not v:
        raise ValueError("empty time")
    if _NUMBER_RE.match(v):
        return _epoch(float(v))
    try:
        return datetime.fromisoformat(v)
    except ValueError:
        pass
    try:
        return dateparser.parse(v)
    except (ValueError, OverflowError, dateparser.ParserError) as e:
        raise ValueError(f"unreadable time {v[:40]!r}") from e


def _epoch(seconds: float) -> datetime:
    if abs(seconds) > 1e11:
        seconds /= 1000
    try:
        return _EPOCH_ZERO + timedelta(seconds=seconds)
    except OverflowError as e:
        raise ValueError(f"time {seconds} is out of range") from e


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

    def __init__(self, platform: str, default_conversation: str, display_path: str) -> None:
        self.platform = platform
        self.default_conversation = default_conversation
        self.display_path = display_path
        self.seen: set[tuple[str, str]] = set()

    def row(
        self, values: Mapping[str, Any], cols: dict[str, str], line: int
    ) -> Iterator[ImportItem]:
        missing = [f for f in REQUIRED if f not in cols or cols[f] not in values]
        if missing:
            yield ImportProblem(
                self.display_path, f"row has no {', '.join(missing)}; skipped", line
            )
            return
        try:
            when = parse_time(values[cols["time"]])
        except ValueError as e:
            yield ImportProblem(self.display_path, f"{e}; row skipped", line)
            return
        got: dict[str, str] = {}
        for f, k in cols.items():
            if f == "time":
                continue
            try:
                got[f] = _cell(values.get(k))
            except ValueError:
                yield ImportProblem(self.display_path, f"{k!r} is not text; row skipped", line)
                return
        platform = got.get("platform", "").strip() or self.platform
        conv = got.get("conversation", "").strip() or self.default_conversation
        if (platform, conv) not in self.seen:
            self.seen.add((platform, conv))
            yield RawConversation(
                platform=platform, key=conv, name=conv, kind=ConversationKind.CHANNEL
            )
        native_id = got.get("id", "").strip()
        thread = got.get("thread", "").strip() or None
        if thread is not None and thread == native_id:
            thread = None
        speaker = got["speaker"].strip()
        used = set(cols.values())
        extra = {}
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


def _read_text(path: Path, display_path: str) -> tuple[str | None, list[ImportProblem]]:
    try:
        raw = path.read_bytes()
    except OSError as e:
        return None, [ImportProblem(display_path, f"cannot read the file ({e.strerror or e})")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
        return text, [ImportProblem(display_path, "not valid UTF-8; unreadable bytes shown as �")]


def _head(path: Path) -> str | None:
    try:
        if not path.is_file():
            return None
        with path.open("rb") as fh:
            raw = fh.read(SNIFF_BYTES)
    except OSError:
        return None
    if b"\x00" in raw:
        return None
    return raw.decode("utf-8-sig", errors="replace")


class CsvImporter:
    """A CSV file with a header row naming speaker, time and text (and more)."""

    name = "csv"

    def sniff(self, path: Path) -> bool:
        """A ``.csv`` file, or any text file whose header supplies speaker, time and text.

        A ``.csv`` whose header lacks a required column is still claimed, so
        that the ingest reports which column is missing instead of
        "unrecognised format".
        """
        head = _head(path)
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

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        text, problems = _read_text(path, ctx.display_path)
        yield from problems
        if text is None:
            return
        yield from read_csv(text, path.name, ctx.display_path, self.name)


def read_csv(
    text: str, default_conversation: str, display_path: str, platform: str = "csv"
) -> Iterator[ImportItem]:
    """The items of a CSV text (see the module doc)."""
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
    rows = _Rows(platform, default_conversation, display_path)
    width = len(header)
    last = reader.line_num
    while True:
        start = last + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            last = reader.line_num
            yield ImportProblem(display_path, f"unreadable CSV row ({e}); skipped", start)
            continue
        last = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != width:
            yield ImportProblem(
                display_path, f"row has {len(cells)} cells, the header has {width}; skipped", start
            )
            continue
        yield from rows.row(dict(zip(header, cells, strict=True)), cols, start)


class JsonlImporter:
    """JSON Lines: one object per line with speaker, time and text keys (and more)."""

    name = "jsonl"

    def sniff(self, path: Path) -> bool:
        """A ``.jsonl``/``.ndjson`` file, or one whose first line is an object with the keys."""
        head = _head(path)
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

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        text, problems = _read_text(path, ctx.display_path)
        yield from problems
        if text is None:
            return
        yield from read_jsonl(text, path.name, ctx.display_path, self.name)


def read_jsonl(
    text: str, default_conversation: str, display_path: str, platform: str = "jsonl"
) -> Iterator[ImportItem]:
    """The items of a JSONL text (see the module doc)."""
    rows = _Rows(platform, default_conversation, display_path)
    first = True
    for n, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            yield ImportProblem(
                display_path, f"not valid JSON: {e.msg} (column {e.colno}); skipped", n
            )
            continue
        except RecursionError:
            yield ImportProblem(display_path, "not valid JSON: nested too deeply; skipped", n)
            continue
        if not isinstance(obj, dict):
            yield ImportProblem(display_path, "not a JSON object; skipped", n)
            continue
        cols = resolve_columns([k for k in obj if isinstance(k, str)])
        if first:
            first = False
            missing = [f for f in REQUIRED if f not in cols]
            if missing:
                names = "; ".join(f"{f} ({'/'.join(ALIASES[f][:4])})" for f in missing)
                yield ImportProblem(display_path, f"no key for {names}: file not imported", n)
                return
        yield from rows.row(obj, cols, n)
