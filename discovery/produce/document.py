"""One produced document: a slice's messages as the writers may show them, withholding applied.

Withholding happens here, once, before any writer sees a message: an
:class:`Entry` for a withheld message carries no text, no earlier versions,
no attachments and no reactions, only its control number, its place in the
thread and (unless ``--withhold-metadata`` says otherwise) its speaker and
time. The writers (PDF, RSMF, text, load files) only ever see entries, so a
withheld message's words cannot reach a produced file by any of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from discovery.errors import UsageError
from discovery.model import Attachment, Conversation, Message, Reaction
from discovery.produce.slices import Slice
from discovery.store import Store

WITHHOLD_FIELDS = ("speaker", "time")
"""Metadata a placeholder may keep (``--withhold-metadata``; both kept by default)."""

UNKNOWN_SPEAKER_ID = "unknown"
WITHHELD_SPEAKER_ID = "withheld"
WITHHELD_SPEAKER = "(withheld)"


def parse_withhold_metadata(text: str | None) -> frozenset[str]:
    """The placeholder fields kept: ``speaker,time`` (default), ``time``, ``speaker``, ``none``."""
    if text is None:
        return frozenset(WITHHOLD_FIELDS)
    parts = {p.strip().lower() for p in text.split(",") if p.strip()}
    if parts == {"none"}:
        return frozenset()
    bad = sorted(parts - set(WITHHOLD_FIELDS))
    if bad or not parts:
        raise UsageError(
            f"--withhold-metadata takes a comma list of {', '.join(WITHHOLD_FIELDS)} (the fields"
            f" a placeholder keeps) or 'none'; not {text!r}"
        )
    return frozenset(parts)


def withheld_label(tags: Iterable[str]) -> str:
    """``Withheld — Privileged`` for the withhold tags a message carries."""
    names = ", ".join(t.replace("-", " ").replace("_", " ").title() for t in sorted(set(tags)))
    return f"Withheld — {names}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One message of a document as it may be produced (see the module notes)."""

    id: int
    control: str
    native_id: str
    kind: str
    """``message``, ``join``, ``leave`` or ``unknown`` (another system event)."""
    sent_at: datetime | None
    utc_offset: int | None
    speaker_id: str
    speaker: str
    text: str
    versions: tuple[str, ...] = ()
    edited: bool = False
    deleted: bool = False
    reactions: tuple[Reaction, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    thread_root: int | None = None
    """The thread root's id when this is a reply (the root is always in the same document)."""
    direction: str = ""
    """``incoming`` or ``outgoing`` when the source said so (relative to the custodian)."""
    family: bool = False
    withheld: str | None = None
    """The placeholder text (``Withheld — Privileged``) when withheld."""
    undated: bool = False
    """The source gave no time (``sent_at`` is then None, as for a withheld time)."""

    @property
    def system(self) -> bool:
        return self.kind != "message"

    @property
    def body(self) -> str:
        return self.withheld if self.withheld is not None else self.text


@dataclass(frozen=True, slots=True)
class Document:
    """One slice, numbered: its entries and what the load files say of it."""

    seq: int
    slice: Slice
    conversation: Conversation
    entries: tuple[Entry, ...]
    custodians: tuple[str, ...]

    @property
    def slip_sheet(self) -> bool:
        """Every message withheld: produced as a slip sheet."""
        return all(e.withheld is not None for e in self.entries)

    @property
    def withheld(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.withheld is not None)

    @property
    def times(self) -> tuple[datetime, datetime] | None:
        """First and last time shown in the document (None when every time is withheld)."""
        shown = [e.sent_at for e in self.entries if e.sent_at is not None]
        return (min(shown), max(shown)) if shown else None

    @property
    def attachment_count(self) -> int:
        return sum(len(e.attachments) for e in self.entries)


def event_kind(m: Message, fields: dict[str, str]) -> str:
    """The RSMF event type of a stored message (joins and leaves as the formats mark them)."""
    if not m.system:
        return "message"
    marks = " ".join(fields.get(k, "") for k in ("type", "subtype", "event_type")).lower()
    if "join" in marks:
        return "join"
    if "leave" in marks or "left" in marks:
        return "leave"
    return "unknown"


def build_documents(
    store: Store,
    slices: Sequence[Slice],
    *,
    withhold_tags: Sequence[str],
    keep: frozenset[str],
) -> list[Document]:
    """Documents for ``slices`` (in order), withholding messages tagged with ``withhold_tags``."""
    needed = sorted({i for s in slices for i in s.ids})
    messages = {m.id: m for m in store.messages(needed)}
    fields = store.extra_fields(needed)
    withheld = withhold_tags_of(messages, withhold_tags)
    conversations: dict[int, Conversation] = {}
    out = []
    for seq, s in enumerate(slices, 1):
        if s.conversation_id not in conversations:
            conversations[s.conversation_id] = store.conversation(s.conversation_id)
        members = set(s.ids)
        entries = []
        custodians: list[str] = []
        for mid in s.ids:
            m = messages[mid]
            for c in m.custodians:
                if c not in custodians:
                    custodians.append(c)
            held = withheld[mid]
            root = m.thread_root if m.thread_root in members and m.thread_root != m.id else None
            kind = event_kind(m, fields.get(mid, {}))
            if held:
                entries.append(_placeholder(m, kind, root, held, keep, s))
            else:
                entries.append(
                    Entry(
                        id=m.id,
                        control=m.control,
                        native_id=m.native_id,
                        kind=kind,
                        sent_at=None if m.undated else m.sent_at,
                        utc_offset=m.utc_offset,
                        speaker_id=m.speaker_id or UNKNOWN_SPEAKER_ID,
                        speaker=m.speaker,
                        text=m.text,
                        versions=m.versions,
                        edited=m.edited,
                        deleted=m.deleted,
                        reactions=_named(m.reactions, conversations[s.conversation_id]),
                        attachments=m.attachments,
                        thread_root=root,
                        direction=_direction(fields.get(mid, {})),
                        family=mid in s.family,
                        undated=m.undated,
                    )
                )
        out.append(
            Document(seq, s, conversations[s.conversation_id], tuple(entries), tuple(custodians))
        )
    return out


def withhold_tags_of(
    messages: Mapping[int, Message], withhold_tags: Iterable[str]
) -> dict[int, tuple[str, ...]]:
    """The withhold tags each of ``messages`` is withheld for, sorted (empty: produced).

    A family member is withheld for its own tags, its parent's and those of the
    members holding it: a privileged mail withholds its attachments, a
    privileged zip its files, so a privileged family is never produced in part.
    (A production's slice always holds a member's whole family.)
    """
    withhold = set(withhold_tags)
    by_place = {(m.family.parent_id, m.family.ordinal): m for m in messages.values() if m.family}
    out = {}
    for mid, m in messages.items():
        tags = withhold.intersection(m.tags)
        f = m.family
        while f is not None:  # up through the members holding it to its parent
            up = by_place.get((f.parent_id, f.container)) if f.container else None
            up = up or messages.get(f.parent_id)
            if up is None:
                break
            tags |= withhold.intersection(up.tags)
            f = up.family
        out[mid] = tuple(sorted(tags))
    return out


def _direction(fields: dict[str, str]) -> str:
    value = fields.get("direction", "").strip().lower()
    return value if value in ("incoming", "outgoing") else ""


def _named(reactions: tuple[Reaction, ...], conv: Conversation) -> tuple[Reaction, ...]:
    """Reactions with the people's names where a format recorded their ids (Slack)."""
    names = {p.speaker_id: p.name for p in conv.participants}
    return tuple(Reaction(r.emoji, tuple(names.get(u, u) for u in r.users)) for r in reactions)


def _placeholder(
    m: Message,
    kind: str,
    root: int | None,
    held: Sequence[str],
    keep: frozenset[str],
    s: Slice,
) -> Entry:
    show_speaker = "speaker" in keep
    show_time = "time" in keep and not m.undated
    return Entry(
        id=m.id,
        control=m.control,
        native_id="",
        kind="message" if kind == "message" else "unknown",
        sent_at=m.sent_at if show_time else None,
        utc_offset=m.utc_offset if show_time else None,
        speaker_id=(m.speaker_id or UNKNOWN_SPEAKER_ID) if show_speaker else WITHHELD_SPEAKER_ID,
        speaker=m.speaker if show_speaker else WITHHELD_SPEAKER,
        text="",
        thread_root=root,
        family=m.id in s.family,
        withheld=withheld_label(held),
        undated=m.undated and "time" in keep,
    )
