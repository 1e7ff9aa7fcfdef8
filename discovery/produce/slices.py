"""Selection and slices: the selected messages grouped into produced documents.

A *slice* is one produced document: messages of one conversation, in time
order (ties by control number). The kinds, all in :data:`SLICE_KINDS` (add a
kind there and in :func:`_windows`):

* ``day``: every message of the calendar day (in the production's zone) of a
  selected message, per conversation. A day is the local date of each
  message, so a 23- or 25-hour day at a DST change is one slice; the
  undated messages of a conversation (no time in the source) are one slice
  keyed ``undated``, after its days;
* ``thread``: a thread root and all its replies (a selected message outside
  any thread is a thread of one);
* ``conversation``: the whole conversation;
* ``context:N``: each selected message with N messages before and after it,
  counted as ``--context N`` counts them (:mod:`discovery.context`: in its
  thread for a reply, else in the conversation's main line, system events
  between shown but not counted); windows that overlap are merged into one
  slice;
* ``context:10min``, ``context:2h``, ``context:1d`` (kind ``time``): each
  selected message with every message of its conversation sent within that
  time of it; overlapping windows merged. ``context:thread`` and
  ``context:day`` are the ``thread`` and ``day`` kinds.

**Family-complete.** A thread reply in a slice brings its root when the root
is not already in it (from another day, or outside the context window); a
message brings its attachments (family members, docs/ATTACHMENTS.md) and an
attachment its parent and the parent's other attachments. Thread roots so
added are listed in :attr:`Slice.family` so the document can say so (a
family's attachments are simply part of the document). Attachments come
right after their parent, in family order (A001, A002, ...), so they are
numbered after it.

The order of slices (and so their Bates numbers) depends only on the messages:
by the time of the first message, then conversation, then the slice's key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from discovery import family_store
from discovery.context import ContextSpec, parse_context, windows
from discovery.errors import UsageError
from discovery.model import UNDATED_US, control_number
from discovery.store import Store, from_us, to_us

MAX_CONTEXT = 100


@dataclass(frozen=True, slots=True)
class SliceKind:
    name: str
    description: str
    takes_count: bool = False


SLICE_KINDS: dict[str, SliceKind] = {
    k.name: k
    for k in (
        SliceKind("day", "every message of the calendar day, per conversation"),
        SliceKind("thread", "a thread root and all its replies"),
        SliceKind("conversation", "the whole conversation"),
        SliceKind("context", "each hit with N messages each side, overlaps merged", True),
        SliceKind(
            "time", "each hit with what was sent 10min/2h/1d each side, overlaps merged", True
        ),
    )
}
"""Every slice kind, in one place. ``time`` is written ``context:10min`` (its count is
seconds each side)."""


@dataclass(frozen=True, slots=True)
class SliceSpec:
    kind: str
    count: int = 0

    @property
    def label(self) -> str:
        if self.kind == "time":
            return f"context:{ContextSpec('time', self.count).label}"
        return f"{self.kind}:{self.count}" if SLICE_KINDS[self.kind].takes_count else self.kind


def parse_slice(text: str) -> SliceSpec:
    """``day``, ``thread``, ``conversation``, ``context:N`` or ``context:10min`` (any
    ``--context`` value after ``context:``) as a :class:`SliceSpec`."""
    name, _, arg = text.strip().lower().partition(":")
    kind = SLICE_KINDS.get(name) if name != "time" else None
    choices = "day, thread, conversation, context:N or context:10min (2h, 1d)"
    if name == "context" and arg and not arg.isdigit():
        try:
            spec = parse_context(arg, MAX_CONTEXT)
        except UsageError:
            raise UsageError(f"unknown --slice {text!r}: use one of {choices}") from None
        return SliceSpec("time", spec.amount) if spec.kind == "time" else SliceSpec(spec.kind)
    if kind is None:
        raise UsageError(f"unknown --slice {text!r}: use one of {choices}")
    if not kind.takes_count:
        if arg:
            raise UsageError(f"--slice {name} takes no number")
        return SliceSpec(name)
    if not arg.isdigit() or not 0 <= int(arg) <= MAX_CONTEXT:
        raise UsageError(f"--slice {name}:N needs N between 0 and {MAX_CONTEXT} (e.g. {name}:3)")
    return SliceSpec(name, int(arg))


@dataclass(frozen=True, slots=True)
class Slice:
    """One produced document's messages.

    Attributes:
        ids: every message in it, in time order (ties by control number).
        hits: the selected messages among them.
        family: messages added only as the thread roots of replies in it.
        key: what the slice is, for people (``2023-03-07``, ``thread of MSG-…``).
    """

    conversation_id: int
    kind: str
    key: str
    ids: tuple[int, ...]
    hits: frozenset[int]
    family: frozenset[int]


def build_slices(store: Store, selected: Iterable[int], spec: SliceSpec, tz: tzinfo) -> list[Slice]:
    """The slices holding every selected message, family-complete, in production order."""
    rows = store.summary_rows(sorted(set(selected)))
    if not rows:
        return []
    windows = _windows(store, rows, spec, tz)
    sent = {r[0]: r[2] for r in rows}
    slices: list[tuple[tuple[int, int, str], Slice]] = []
    for conv_id, key, ids in windows:
        core = set(ids)
        roots = store.thread_roots(sorted(core))
        threads = core | {root for root in roots.values()}
        families = family_store.families(store.db, sorted(threads))
        members = threads | set(families)
        family = threads - core  # attachments added are their family's, never marked
        order = {r[0]: r[2] for r in store.summary_rows(sorted(members - sent.keys()))} | {
            i: sent[i] for i in members if i in sent
        }
        ordered = _parents_first(members, order, families, store)
        hit_set = frozenset(i for i in members if i in sent)
        first = min(order[i] for i in core)
        slices.append(
            (
                (first, conv_id, key),
                Slice(conv_id, spec.label, key, ordered, hit_set, frozenset(family)),
            )
        )
    slices.sort(key=lambda s: s[0])
    return [s for _, s in slices]


def _parents_first(
    ids: set[int], order: dict[int, int], families: list[int], store: Store
) -> tuple[int, ...]:
    """``ids`` in time order (ties by id), each parent's attachments right after it."""
    parents = family_store.parents_of(store.db, sorted(ids))
    after: dict[int, list[int]] = {}
    for i in families:  # parent first, members in family order
        if i in parents:
            after.setdefault(parents[i], []).append(i)
    heads = sorted((i for i in ids if i not in parents), key=lambda i: (order[i], i))
    return tuple(x for h in heads for x in (h, *after.get(h, ())))


def _windows(
    store: Store, rows: Sequence[tuple[int, int, int]], spec: SliceSpec, tz: tzinfo
) -> list[tuple[int, str, list[int]]]:
    """(conversation id, key, message ids) of each slice before family completion."""
    if spec.kind == "day":
        return _days(store, rows, tz)
    if spec.kind == "conversation":
        convs = sorted({r[1] for r in rows})
        return [
            (c, "whole conversation", [i for i, _ in store.conversation_rows(c)]) for c in convs
        ]
    if spec.kind == "thread":
        roots = store.thread_roots([r[0] for r in rows])
        conv_of = {r[0]: r[1] for r in rows}
        heads = sorted({roots.get(r[0], r[0]) for r in rows})
        head_conv = {h: conv_of.get(h) for h in heads}
        missing = [h for h, c in head_conv.items() if c is None]
        head_conv.update({r[0]: r[1] for r in store.summary_rows(missing)})
        replies = store.thread_ids(heads)
        return [
            (int(head_conv[h] or 0), f"thread of {control_number(h)}", [h, *replies[h]])
            for h in heads
        ]
    if spec.kind in ("context", "time"):
        context = ContextSpec("messages" if spec.kind == "context" else "time", spec.count)
        return _contexts(store, rows, context, tz)
    raise UsageError(f"unknown slice kind {spec.kind!r}")  # pragma: no cover (parse_slice)


def local_day(sent_us: int, tz: tzinfo) -> date:
    return from_us(sent_us).astimezone(tz).date()


def _days(
    store: Store, rows: Sequence[tuple[int, int, int]], tz: tzinfo
) -> list[tuple[int, str, list[int]]]:
    # Undated messages have no day: those of one conversation are one slice, "undated".
    wanted = sorted({(conv, local_day(us, tz)) for _, conv, us in rows if us != UNDATED_US})
    out = [
        (conv, "undated", [i for i, _ in store.conversation_rows(conv, UNDATED_US, UNDATED_US + 1)])
        for conv in sorted({conv for _, conv, us in rows if us == UNDATED_US})
    ]
    for conv, day in wanted:
        # A local day lasts 23 to 25 hours: read a padded UTC span, keep its local date.
        start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=27)
        end = start + timedelta(hours=27 + 24 + 27)
        rows_ = store.conversation_rows(conv, to_us(start), to_us(end))
        out.append((conv, day.isoformat(), [i for i, us in rows_ if local_day(us, tz) == day]))
    return out


def _contexts(
    store: Store, rows: Sequence[tuple[int, int, int]], context: ContextSpec, tz: tzinfo
) -> list[tuple[int, str, list[int]]]:
    by_conv: dict[int, list[tuple[int, int]]] = {}
    for mid, conv, us in rows:
        by_conv.setdefault(conv, []).append((us, mid))
    found = windows(store, [r[0] for r in rows], context, tz)
    sent = {
        i: us for i, _, us in store.summary_rows(sorted({i for w in found.values() for i in w}))
    }
    out = []
    for conv in sorted(by_conv):
        groups: list[tuple[list[int], set[int]]] = []
        for _, mid in sorted(by_conv[conv]):
            window = found[mid]
            if groups and groups[-1][1] & set(window):
                ordered, members = groups[-1]
                members.update(window)
                ordered[:] = sorted(members, key=lambda i: (sent[i], i))
            else:
                groups.append((list(window), set(window)))
        for ordered, _ in groups:
            first, last = (family_store.control(store.db, i) for i in (ordered[0], ordered[-1]))
            key = f"{first}..{last}"
            out.append((conv, key, ordered))
    return out
