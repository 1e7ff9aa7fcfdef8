"""The data model: frozen dataclasses shared by every layer (PRODUCT.md §4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

CONTROL_PREFIX = "MSG-"
CONTROL_WIDTH = 8

UNDATED = datetime(9999, 12, 30, tzinfo=UTC)
"""The stored time of a message whose time is unknown (``undated``).

Kept as a real time so that every ordering by time puts undated messages
last; date filters exclude it explicitly. Never shown as a date. (A day
before the last representable one, so that converting it to any zone works.)
"""
UNDATED_US = (UNDATED - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
""":data:`UNDATED` as the case store keeps times (microseconds since the epoch)."""
UNDATED_TEXT = "(undated)"
"""How an undated message's time is shown to people (machine columns are left empty)."""
UNKNOWN_SENDER = "(unknown sender)"
"""The speaker of a message whose source names no sender."""


def iso_time(dt: datetime, tz: tzinfo | None = None) -> str | None:
    """``dt`` in ISO 8601 (in ``tz`` when given), or None for :data:`UNDATED`.

    Every output that writes a time goes through this, so an undated message
    never reaches a file or a screen with an invented date.
    """
    if dt == UNDATED:
        return None
    return (dt if tz is None else dt.astimezone(tz)).isoformat()


def control_number(message_id: int) -> str:
    """The stable control number shown to users for an internal message id."""
    return f"{CONTROL_PREFIX}{message_id:0{CONTROL_WIDTH}d}"


def parse_control_number(text: str) -> int | None:
    """The message id in ``MSG-00000042`` or ``42``; None if it is neither."""
    s = text.strip().upper()
    if s.startswith(CONTROL_PREFIX):
        s = s[len(CONTROL_PREFIX) :]
    return int(s) if s.isdigit() else None


class ConversationKind(StrEnum):
    CHANNEL = "channel"
    GROUP = "group"
    DIRECT = "direct"
    EMAIL_THREAD = "email thread"
    EXHIBIT = "exhibit"


@dataclass(frozen=True, slots=True)
class Source:
    """One imported file, folder or archive."""

    id: int
    path: str
    sha256: str
    size: int
    format: str
    custodian: str
    tz: str
    imported_at: datetime


@dataclass(frozen=True, slots=True)
class Participant:
    speaker_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Conversation:
    id: int
    platform: str
    native_key: str
    kind: ConversationKind
    name: str
    participants: tuple[Participant, ...] = ()


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    size: int | None = None
    sha256: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class FamilyInfo:
    """What makes a stored message a family member: an attachment (or a file nested in
    one) of the message ``parent_id``, extracted and searchable (docs/ATTACHMENTS.md).

    ``ordinal`` is its place in the family (depth first from 1; its control
    number is the parent's with ``-A001``); ``container`` the ordinal of the
    member holding it (0: the message itself); ``path`` its names from the
    message down, ``!`` apart. ``ocr`` says some of its text was read by OCR
    (it may hold recognition errors), with Tesseract's mean word confidence
    (0-100). ``sections`` are (label, start, end) offsets into its text;
    ``problems`` what kept any of it from being read.
    """

    parent_id: int
    ordinal: int
    container: int
    path: str
    name: str
    kind: str
    media_type: str
    size: int | None
    sha256: str | None
    ocr: bool = False
    ocr_confidence: float | None = None
    sections: tuple[tuple[str, int, int], ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def parent_control(self) -> str:
        return control_number(self.parent_id)

    def location(self, offset: int) -> str:
        """The section (``page 3``, ``sheet Budget``) holding the character at ``offset``."""
        return next((label for label, s, e in self.sections if s <= offset < e), "")


@dataclass(frozen=True, slots=True)
class Reaction:
    emoji: str
    users: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Message:
    """One message as stored.

    Attributes:
        id: internal id; ``control`` is the control number shown to users.
        thread_root: id of the thread's root message, or None when not in a thread.
        sent_at: the time in UTC (timezone-aware); :data:`UNDATED` when the
            source gives none (then ``undated`` is True).
        utc_offset: the sender-side offset in minutes as recorded in the source,
            or None when the source carried no zone ("zone unknown"); then
            ``sent_at`` was read in the source's ``--tz`` zone.
        text: the current searchable plain text.
        versions: prior versions of an edited message, oldest first.
        custodians: every custodian holding the message.
        sources: every source path holding it.
    """

    id: int
    native_id: str
    conversation_id: int
    conversation: str
    platform: str
    thread_root: int | None
    speaker_id: str
    speaker: str
    sent_at: datetime
    utc_offset: int | None
    text: str
    versions: tuple[str, ...] = ()
    edited: bool = False
    deleted: bool = False
    system: bool = False
    reactions: tuple[Reaction, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    custodians: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=())
    family: FamilyInfo | None = None
    """Set when the message is a family member (an attachment's text); None for a message."""

    @property
    def control(self) -> str:
        """``MSG-00000042``; a family member's is its parent's with ``-A001``."""
        if self.family is not None:
            return f"{control_number(self.family.parent_id)}-A{self.family.ordinal:03d}"
        return control_number(self.id)

    @property
    def kind(self) -> str:
        """``attachment`` for a family member, else ``message``."""
        return "message" if self.family is None else "attachment"

    @property
    def parent_id(self) -> int | None:
        return None if self.family is None else self.family.parent_id

    @property
    def undated(self) -> bool:
        """Whether the source gave no time for this message (it sorts last)."""
        return self.sent_at == UNDATED

    @property
    def unknown_sender(self) -> bool:
        """Whether the source named no sender for this (non-system) message."""
        return self.speaker == UNKNOWN_SENDER and not self.speaker_id

    def searchable_versions(self) -> tuple[str, ...]:
        """The current text first, then every prior version (all searchable)."""
        return (self.text, *self.versions)
