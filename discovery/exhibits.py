"""Exhibit lists: selected messages with stable exhibit numbers and context (PRODUCT.md §6).

Messages are selected by review tag or by query, put in time order (ties by
control number) and numbered ``PREFIX-000001``, ``PREFIX-000002``, ... The
order depends only on the selected messages, so the same selection always
gives the same numbers. Each exhibit carries an excerpt of its conversation,
chosen as ``--context`` is everywhere (:mod:`discovery.context`: N messages
each side, a time span, the thread or the day), one line per message, the
exhibit's own line marked ``>>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from discovery.context import ContextSpec, excerpt, windows
from discovery.errors import DiscoveryError, QuerySyntaxError, UsageError
from discovery.export import FAMILY_COLUMNS, family_cells
from discovery.files import private_dir, write_text
from discovery.matter import Matter, View
from discovery.model import UNDATED_TEXT, Message, iso_time
from discovery.produce.bates import check_prefix
from discovery.query.ast import WILDCARDS
from discovery.query.parser import QUOTES, parse
from discovery.search import Searcher
from discovery.store import tag_key
from discovery.tags import known_tag

EXHIBIT_COLUMNS = (
    "exhibit",
    "control_number",
    "sent_at_utc",
    "local_time",
    "conversation",
    "speaker",
    "text",
    "custodians",
    "tags",
    "context",
    *FAMILY_COLUMNS,
)
MAX_CONTEXT = 100


@dataclass(frozen=True, slots=True)
class Exhibit:
    number: str
    message: Message
    context: tuple[Message, ...]
    """The conversation around the message, in time order, the message included."""


def exhibit_number(prefix: str, n: int) -> str:
    return f"{prefix}-{n:06d}"


def select(
    matter: Matter, *, tag: str | None = None, query: str | None = None, view: View | None = None
) -> tuple[set[int], str]:
    """The ids selected by a tag or a query, and the selection as query text.

    A tag (in any case) selects exactly the messages carrying it (system
    events included: someone tagged them); a query selects its hits as
    ``discovery search`` finds them. A tag is given back as :func:`tag_query`
    (``tag:hot``).

    Raises:
        UnknownTagError: no message carries the tag (the error names the tags there are).
    """
    if (tag is None) == (query is None):
        raise UsageError("give exactly one of --tag or --query")
    if tag is not None:
        stored = known_tag(matter.store, tag)
        return matter.store.ids_of_tags([stored]), tag_query(stored)
    assert query is not None
    return Searcher(matter).match(query, view=view)[1], query


_UNQUOTABLE = frozenset(QUOTES) | frozenset(WILDCARDS)


def stored_tag(tag: str) -> str:
    """The one spelling under which ``tag`` is stored (see :func:`discovery.store.tag_key`)."""
    return tag_key(tag)


def tag_query(tag: str) -> str:
    """The tag as a ``tag:`` query that names it (``tag:hot``, ``tag:"not hot"``).

    The query language has no escapes, so a tag with a quote mark or a
    wildcard (``*``, ``?``) in it cannot be written as a query; nor can one
    without a letter or digit. Such a tag is refused rather than logged as a
    query that names another tag. (The query's ``tag:`` field matches a tag's
    words, so ``tag:"a&b"`` also finds a tag ``a b``; an exhibit selection by
    tag, and its re-run from the audit log, take the tag exactly.)

    Raises:
        UsageError: a tag the query language cannot name.
    """
    bad = sorted({c for c in tag if c in _UNQUOTABLE})
    if bad:
        raise UsageError(
            f"the tag {tag!r} cannot be written as a query (it holds {' '.join(bad)});"
            " rename the tag without quote marks, '*' or '?'"
        )
    text = f"tag:{tag}" if re.fullmatch(r"[^\W_]+", tag) else f'tag:"{tag}"'
    try:
        parse(text)
    except QuerySyntaxError:
        raise UsageError(
            f"the tag {tag!r} cannot be written as a query (it needs a letter or digit)"
        ) from None
    return text


def build(
    matter: Matter, ids: Sequence[int] | set[int], prefix: str, context: ContextSpec | int
) -> list[Exhibit]:
    """Number the selected messages in time order and attach their context (an int is
    that many messages each side)."""
    check_prefix(prefix, "exhibit")
    if isinstance(context, int):
        context = ContextSpec("messages", context)
    if context.kind == "messages" and not 0 <= context.amount <= MAX_CONTEXT:
        raise UsageError(f"--context must be between 0 and {MAX_CONTEXT}")
    rows = matter.store.summary_rows(sorted(ids))
    ordered = [r[0] for r in sorted(rows, key=lambda r: (r[2], r[0]))]
    around = windows(matter.store, ordered, context, matter.tz)
    needed = sorted({i for ids_ in around.values() for i in ids_})
    messages = {m.id: m for m in matter.store.messages(needed)}
    return [
        Exhibit(exhibit_number(prefix, n), messages[mid], tuple(messages[i] for i in around[mid]))
        for n, mid in enumerate(ordered, 1)
    ]


def context_text(exhibit: Exhibit, tz: tzinfo) -> str:
    """The excerpt as plain text, one line per message, the exhibit marked ``>>``."""
    return excerpt(exhibit.context, exhibit.message.id, tz)


def rows(exhibits: Sequence[Exhibit], tz: tzinfo) -> Iterator[list[str]]:
    """One CSV row per exhibit (see :data:`EXHIBIT_COLUMNS`)."""
    for e in exhibits:
        m = e.message
        yield [
            e.number,
            m.control,
            iso_time(m.sent_at) or "",
            iso_time(m.sent_at, tz) or UNDATED_TEXT,
            m.conversation,
            m.speaker,
            m.text,
            "; ".join(m.custodians),
            "; ".join(m.tags),
            context_text(e, tz),
            *family_cells(m),
        ]


def transcript(exhibit: Exhibit, tz: tzinfo) -> str:
    """A transcript file's text: a short header, then the excerpt."""
    m = exhibit.message
    head = [
        f"Exhibit {exhibit.number}",
        f"Control number: {m.control}",
        f"Conversation: {m.conversation} ({m.platform})",
        f"Custodians: {'; '.join(m.custodians)}",
        f"Sent: {UNDATED_TEXT}"
        if m.undated
        else f"Sent: {m.sent_at.astimezone(tz).isoformat()} (UTC {m.sent_at.isoformat()})",
        "",
    ]
    return "\n".join(head) + context_text(exhibit, tz) + "\n"


def write_transcripts(exhibits: Sequence[Exhibit], folder: Path, tz: tzinfo) -> int:
    """One ``<exhibit number>.txt`` per exhibit (UTF-8) into ``folder``; returns files written."""
    try:
        private_dir(folder)
        for e in exhibits:
            write_text(folder / f"{e.number}.txt", transcript(e, tz))
    except OSError as exc:
        raise DiscoveryError(
            f"cannot write transcripts to {folder}: {exc.strerror or exc}"
        ) from None
    return len(exhibits)
