"""Context around a message, chosen at query time: N messages, a time span, the thread, the day.

One definition for ``search``, ``show``, ``export``, ``exhibits``, the review
screen and production slices (docs/QUERY.md, "Context"):

* ``N`` (0 to the command's maximum): the N messages before and after the
  message in its *sequence*, as ``W/NMSG`` counts them (:mod:`discovery.chat`):
  for a thread reply, its thread (root and replies); for any other message,
  the conversation's main line, and for a thread root also its first N
  replies. System events are not counted, but one lying between the first
  and last main-line message shown is shown too (joins and topic changes
  are part of what was on screen);
* ``10min``, ``2h``, ``1d`` (also ``30s`` is refused: minutes at least): every
  message of the conversation sent at most that long before or after it,
  threads and system events included; around an undated message, itself;
* ``thread``: its thread (the root and every reply; a message in no thread
  alone);
* ``day``: every message of the conversation sent on its calendar day in the
  display zone (a 23- or 25-hour day at a DST change is one day); an undated
  message alone.

Windows list ids in time order, ties by control number.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from discovery.errors import UsageError
from discovery.model import UNDATED, UNDATED_TEXT, Message
from discovery.store import Store, from_us, to_us

KINDS = ("messages", "time", "thread", "day")
"""The kinds of context, in the order the review screen cycles them."""

_TIME = re.compile(r"([0-9]{1,4})(min|h|d)")
_SECONDS = {"min": 60, "h": 3600, "d": 86400}
MAX_SECONDS = 7 * 86400
"""The widest time context: a week each side."""
UNDATED_US = to_us(UNDATED)


@dataclass(frozen=True, slots=True)
class ContextSpec:
    """One choice of context: ``kind`` and its amount (messages, or seconds each side)."""

    kind: str
    amount: int = 0

    @property
    def label(self) -> str:
        """How it is written (``3``, ``10min``, ``2h``, ``thread``, ``day``): what
        :func:`parse_context` reads back and the audit log stores."""
        if self.kind == "messages":
            return str(self.amount)
        if self.kind == "time":
            for unit in ("d", "h", "min"):
                if self.amount % _SECONDS[unit] == 0:
                    return f"{self.amount // _SECONDS[unit]}{unit}"
        return self.kind

    @property
    def none(self) -> bool:
        """Whether this is no context at all (``0``: the message alone)."""
        return self.kind == "messages" and self.amount == 0

    def describe(self) -> str:
        if self.kind == "messages":
            return f"±{self.amount} messages"
        if self.kind == "time":
            return f"±{self.label}"
        return f"the {self.kind}"


NO_CONTEXT = ContextSpec("messages", 0)


def parse_context(text: str, max_messages: int = 100) -> ContextSpec:
    """``N``, ``10min``/``2h``/``1d``, ``thread`` or ``day`` as a :class:`ContextSpec`.

    Raises:
        UsageError: anything else, or more than ``max_messages`` messages or a week.
    """
    value = text.strip().lower()
    if value in ("thread", "day"):
        return ContextSpec(value)
    m = _TIME.fullmatch(value)
    if value.isascii() and value.isdigit() and int(value) <= max_messages:
        return ContextSpec("messages", int(value))
    if m is not None and 0 < int(m.group(1)) * _SECONDS[m.group(2)] <= MAX_SECONDS:
        return ContextSpec("time", int(m.group(1)) * _SECONDS[m.group(2)])
    raise UsageError(
        f"--context should be 0 to {max_messages} (messages each side), a time from 1min to 7d"
        f" (10min, 2h, 1d), thread or day, not {text!r}"
    )


def windows(
    store: Store, ids: Iterable[int], spec: ContextSpec, tz: tzinfo
) -> dict[int, list[int]]:
    """Each message's context window (its own id included), in time order."""
    wanted = list(dict.fromkeys(ids))
    places = store.places(wanted)
    out: dict[int, list[int]] = {}
    for mid in wanted:
        if mid not in places:
            continue
        conv, sent, root, _ = places[mid]
        if spec.kind == "messages":
            found = _messages(store, mid, conv, sent, root, spec.amount)
        elif spec.kind == "thread":
            head = root or mid
            members = [head, *store.thread_ids([head])[head]]
            when = store.places(members)
            found = sorted(members, key=lambda i: (when[i][1] if i in when else sent, i))
        elif sent == UNDATED_US:
            found = [mid]
        elif spec.kind == "time":
            d = spec.amount * 1_000_000
            found = [i for i, _ in store.conversation_rows(conv, sent - d, sent + d + 1)]
        else:
            found = _day(store, conv, sent, tz)
        out[mid] = found if mid in found else sorted({*found, mid})
    return out


def _messages(store: Store, mid: int, conv: int, sent: int, root: int | None, n: int) -> list[int]:
    if n == 0:
        return [mid]
    if root is not None:
        thread = store.thread_members(root)
        at = thread.index(mid) if mid in thread else 0
        return thread[max(0, at - n) : at + n + 1]
    before = store.main_line(conv, sent, mid, n, later=False)
    after = store.main_line(conv, sent, mid, n, later=True)
    line = [*reversed(before), mid, *after]
    shown = set(line) | set(store.system_between(conv, line[0], line[-1]))
    shown.update(store.thread_members(mid)[1 : n + 1])  # a thread root's first replies
    order = store.places(sorted(shown))
    return sorted(shown, key=lambda i: (order[i][1], i))


def _day(store: Store, conv: int, sent: int, tz: tzinfo) -> list[int]:
    day = from_us(sent).astimezone(tz).date()
    # A local day lasts 23 to 25 hours: read a padded UTC span, keep its local date.
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=27)
    rows = store.conversation_rows(conv, to_us(start), to_us(start + timedelta(hours=78)))
    return [i for i, us in rows if from_us(us).astimezone(tz).date() == day]


def context_hash(found: Mapping[int, Sequence[int]]) -> str:
    """SHA-256 over every message's window (by message id): the same windows, the same hash."""
    text = "\n".join(f"{mid}:{','.join(map(str, ids))}" for mid, ids in sorted(found.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def line(m: Message, tz: tzinfo, focus: bool) -> str:
    """One message of a context excerpt as plain text (``>>`` marks the message itself)."""
    when = UNDATED_TEXT if m.undated else m.sent_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")
    body = m.text.replace("\r\n", "\n").replace("\n", "\n    ")
    flags = " [deleted]" if m.deleted else ""
    return f"{'>>' if focus else '  '} [{when}] {m.control} {m.speaker}: {body}{flags}"


def excerpt(messages: Sequence[Message], focus: int, tz: tzinfo) -> str:
    """A window as plain text, one line per message, the focus marked ``>>``."""
    return "\n".join(line(m, tz, m.id == focus) for m in messages)
