"""What every importer yields: raw conversations and messages, plus problems.

An importer reads one source (a file, a folder or an archive already opened by
the caller) and yields :class:`RawConversation`, :class:`RawMessage` and
:class:`~discovery.errors.ImportProblem` objects. It never writes to the store
and never raises for bad content: an unreadable file or line becomes an
``ImportProblem`` (path, line, reason) and the import goes on. Normalisation
(UTC, thread resolution, control numbers, dedup) happens in
:mod:`discovery.ingest`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol

from discovery.errors import ImportProblem
from discovery.model import Attachment, ConversationKind, Participant, Reaction


@dataclass(frozen=True, slots=True)
class RawConversation:
    """A conversation as the platform names it.

    ``key`` is the platform's own stable id (Slack channel id, Teams chat id,
    the file name for a transcript); the pair (platform, key) identifies the
    conversation across custodians.
    """

    platform: str
    key: str
    name: str
    kind: ConversationKind = ConversationKind.CHANNEL
    participants: tuple[Participant, ...] = ()


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as read from a source.

    Attributes:
        conversation_key: the ``key`` of a RawConversation yielded before it.
        native_id: the platform's own message id ('' when the platform has none;
            then a deterministic id is derived from the location).
        sent_at: timezone-aware when the source carries a zone or offset;
            naive when it does not (read later in the source's ``--tz``);
            None when the source gives no time at all (stored ``undated``).
        thread_key: native id of the thread root, or None.
        location: where in the source (member path, ``line 12``, ``page 3``).
        versions: prior versions of the text, oldest first.
        dated_by: where ``sent_at`` came from when the message itself had no
            time and a fallback of the source gave one (``the mbox 'From ' line``,
            ``the PDF creation date``, ``the previous line``); '' otherwise. The
            ingest report counts them.
    """

    platform: str
    conversation_key: str
    native_id: str
    speaker_id: str
    speaker: str
    sent_at: datetime | None
    text: str
    thread_key: str | None = None
    location: str = ""
    versions: tuple[str, ...] = ()
    edited: bool = False
    deleted: bool = False
    system: bool = False
    reactions: tuple[Reaction, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    dated_by: str = ""


@dataclass(frozen=True, slots=True)
class SourceFact:
    """A decision the importer made for the whole source, for the ingest report.

    ``name`` is the report field (``date_order``), ``value`` what was decided and
    why (``DMY: a day above 12 at line 4``).
    """

    name: str
    value: str


ImportItem = RawConversation | RawMessage | ImportProblem | SourceFact

DATE_ORDERS = ("DMY", "MDY", "YMD")
"""The values of ``--date-order``: how to read an all-numeric date such as ``03/04/05``."""


@dataclass(frozen=True, slots=True)
class ImportContext:
    """What an importer may need besides the path.

    Attributes:
        tz: the zone for timestamps that carry none (``--tz``), as a tzinfo.
        display_path: the path to show in problems (the user's spelling,
            or ``archive.zip!member`` inside an archive).
        sha256: the source's SHA-256. Formats whose conversation is the file
            itself (transcripts, WhatsApp chats, exhibits) key the conversation
            by name and content, so two different files that share a name
            (every iOS export is ``_chat.txt``) never merge, while the same
            file from two custodians still deduplicates.
        date_order: ``--date-order`` (one of :data:`DATE_ORDERS`), or None to
            infer the order of ambiguous numeric dates from the source.
        ocr, ocr_lang: ``--ocr`` and ``--ocr-lang``, for the attachments the
            source holds (:mod:`discovery.families`).
    """

    tz: tzinfo
    display_path: str
    sha256: str = ""
    date_order: str | None = None
    ocr: str = "auto"
    ocr_lang: str = "eng"

    def file_key(self, name: str) -> str:
        """The conversation key for a conversation that is one file."""
        return f"{name}#{self.sha256[:16]}" if self.sha256 else name


class Importer(Protocol):
    """A format reader. ``name`` is the ``--format`` value."""

    name: str

    def sniff(self, path: Path) -> bool:
        """True when ``path`` (file or folder) looks like this format."""
        ...

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        """Yield conversations, messages and problems; never raise for bad content."""
        ...


class PartedImporter(Importer, Protocol):
    """An importer that can also read a large source in parts, each in a worker process
    (:mod:`discovery.workers`); the ingest uses it when a source has several parts.

    Reading every part of :meth:`parts` in order with :meth:`read_part` yields
    exactly what :meth:`read` yields (a test checks it for each such importer).
    """

    def parts(self, path: Path, ctx: ImportContext, size: int) -> list[Any] | None:
        """The source as picklable parts of about ``size`` bytes each, in reading order;
        None to have it read whole (something :meth:`read` reports is wrong with it)."""
        ...

    def read_part(self, path: Path, ctx: ImportContext, part: Any) -> Iterator[ImportItem]:
        """Yield what :meth:`read` yields for ``part``."""
        ...
