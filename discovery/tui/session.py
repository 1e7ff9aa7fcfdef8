"""What the review screen does to a matter, free of any widget: search, page, context, tag, export.

The screen runs searches in a worker thread while the reviewer keeps reading,
so this object holds two SQLite connections to the case store: one for the
search worker, one for everything else (context, pages, tags, export). Each is
used under its own lock, so a slow search never holds up the next-hit redraw.

Every search that completes, every export and every tag change is written to
the audit log (PRODUCT.md §6), on the connection of the thread that made it. A
failed audit write does not undo the action: the method reports it
(``audit_error``) and the screen shows a warning. A tag change records the
message's control number.

The queries a reviewer runs are kept per matter in ``query-history.txt`` in
the matter's folder (one JSON string a line), so ↑ in the query bar finds
yesterday's queries too.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from discovery import audit, family_store
from discovery.context import ContextSpec, windows
from discovery.errors import DiscoveryError, QuerySyntaxError, UsageError
from discovery.export import HIT_COLUMNS, hit_rows, write_csv
from discovery.matter import STORE_FILE, Matter, View
from discovery.model import UNDATED_US, Message
from discovery.query.ast import Node
from discovery.query.unparse import unparse
from discovery.render import version_spans
from discovery.search import Hit, Searcher, SearchResult
from discovery.store import Store, from_us
from discovery.tags import BUILTIN_TAGS
from discovery.text import tokenize

PAGE = 50
"""Hits fetched (with snippets) per page of the hit list."""
HISTORY_FILE = "query-history.txt"
HISTORY_KEPT = 500
"""Most queries read back from the history file (the newest)."""


@dataclass(frozen=True, slots=True)
class Filters:
    """The filter panel's values; empty strings mean "any"."""

    speaker: str = ""
    conversation: str = ""
    custodian: str = ""
    date_from: str = ""
    date_to: str = ""

    def is_empty(self) -> bool:
        return not any(
            (self.speaker, self.conversation, self.custodian, self.date_from, self.date_to)
        )

    def query(self) -> str:
        """The filter as query text in the field syntax of docs/QUERY.md.

        Raises:
            UsageError: a date that is not YYYY-MM-DD, or a range that ends before it starts.
        """
        parts = []
        for name, value in (
            ("speaker", self.speaker),
            ("conversation", self.conversation),
            ("custodian", self.custodian),
        ):
            words = _field_words(value)
            if words:
                parts.append(f'{name}:"{words}"')
        start, end = _day(self.date_from, "from"), _day(self.date_to, "to")
        if start and end:
            if end < start:
                raise UsageError(f"the date range ends ({end}) before it starts ({start})")
            parts.append(f"sent:{start}..{end}")
        elif start:
            parts.append(f"after:{start}")
        elif end:
            parts.append(f"before:{date.fromisoformat(end) + timedelta(days=1)}")
        return " AND ".join(parts)


def _field_words(value: str) -> str:
    """A field value as a quotable phrase: its words, nothing that could break the quotes."""
    return " ".join(t.text for t in tokenize(value.replace('"', " ")))


def _day(value: str, which: str) -> str:
    value = value.strip()
    if not value:
        return ""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise UsageError(f"the {which} date {value!r} is not a date like 2023-03-07") from None


def _year(sent_us: int, tz: Any) -> int:
    return from_us(sent_us).astimezone(tz).year


def _dated_end(store: Store, ids: Sequence[int], *, last: bool) -> list[int]:
    """The sent time of the first (or last) dated message of ``ids`` in time order, read
    from the few rows at that end (more each time past undated ones); [] if none is dated."""
    done, n = 0, 1
    while done < len(ids):
        chunk = ids[max(0, len(ids) - done - n) : len(ids) - done] if last else ids[done : done + n]
        dated = [s for _, _, s in store.summary_rows(list(chunk)) if s != UNDATED_US]
        if dated:
            return [max(dated) if last else min(dated)]
        done, n = done + n, n * 4
    return []


def typed_error(exc: QuerySyntaxError, typed: str, combined: str) -> QuerySyntaxError:
    """An error in the combined query, pointing into what the reviewer typed when it lies
    there (the combined text is ``(typed) AND filter``)."""
    body = typed.strip()
    if combined == body:
        where = exc.column
    elif 1 <= exc.column <= len(body) + 1:
        where = exc.column - 1
    else:
        return exc
    lead = len(typed) - len(typed.lstrip())
    return type(exc)(exc.message, typed, where + lead, exc.length)


def combine(query: str, filter_query: str) -> str:
    """The reviewer's query ANDed with the filter's (either may be empty)."""
    query = query.strip()
    if not filter_query:
        return query
    if not query:
        return filter_query
    return f"({query}) AND {filter_query}"


@dataclass
class Results:
    """One search's hit set, its summary, and the hits fetched so far: from the first
    on (``hits``, a prefix of ``ids``), and around places jumped to (``far``)."""

    query: str
    result: SearchResult
    hits: list[Hit] = field(default_factory=list)
    audit_error: str | None = None
    """Why the search was not recorded in the audit log, if it was not."""
    years: tuple[int, ...] = ()
    """The calendar year (display zone) of the oldest hit and of the newest, once when
    they are the same year (none without hits)."""
    far: dict[int, Hit] = field(default_factory=dict)
    """Hits fetched past ``hits`` (the last hit, a go-to), by their place among the hits."""

    @property
    def ids(self) -> tuple[int, ...]:
        return self.result.ids

    @property
    def total(self) -> int:
        return self.result.total

    @property
    def node(self) -> Node | None:
        return self.result.node

    @property
    def complete(self) -> bool:
        return len(self.hits) >= self.total

    def hit_at(self, i: int) -> Hit | None:
        """The ``i``-th hit, if it has been fetched."""
        return self.hits[i] if 0 <= i < len(self.hits) else self.far.get(i)


class Session:
    """A matter opened for review. Safe to call from the UI thread and from workers."""

    def __init__(self, matter: Matter, *, sort: str = "time") -> None:
        self.matter = matter
        self.sort = sort
        self._ui_lock = threading.RLock()
        self._search_lock = threading.Lock()
        self._searcher = Searcher(matter)
        self._search_store = Store(matter.path / STORE_FILE)
        self._search_matter = Matter(
            matter.name, matter.path, self._search_store, matter.engine, matter.tz
        )
        self._search_searcher = Searcher(self._search_matter, resident=True)

    def close(self) -> None:
        with self._search_lock:
            self._search_store.close()

    @property
    def name(self) -> str:
        return self.matter.name

    @property
    def page(self) -> int:
        """Hits fetched at a time (:data:`PAGE`)."""
        return PAGE

    # --- searching (worker thread) ------------------------------------------------------
    def search(self, typed: str, filter_query: str = "", first: int = PAGE) -> Results:
        """All hit ids of the typed query ANDed with the filter, in review order, the
        summary, and the first ``first`` hits (at most a page: what the hit list shows,
        the next ones are fetched as the reviewer moves on).

        Raises:
            QuerySyntaxError: with its column in the typed text when the problem is there.
        """
        query = combine(typed, filter_query)
        with self._search_lock:
            try:
                limit = max(1, min(first, PAGE))
                result = self._search_searcher.search(query, limit=limit, sort=self.sort)
            except QuerySyntaxError as exc:
                raise typed_error(exc, typed, query) from None
            problem = _log(
                self._search_matter, "search", query, result.node, result.ids, view=result.view
            )
            span = self._year_span(result.ids)
        return Results(query, result, list(result.hits), problem, span)

    def _year_span(self, ids: Sequence[int]) -> tuple[int, ...]:
        """The year of the oldest and of the newest dated hit (one year if they are the
        same, none if no hit is dated). In time order those are the first hit and the
        last dated one (undated hits sort last): a few rows, not one per hit (95,000
        rows took 165 ms at 1M)."""
        store, tz = self._search_store, self.matter.tz
        if self.sort == "time":
            sent = [*_dated_end(store, ids, last=False), *_dated_end(store, ids, last=True)]
        else:
            sent = [s for _, _, s in store.summary_rows(ids) if s != UNDATED_US]
        years = sorted({_year(s, tz) for s in sent})
        return (years[0], years[-1]) if len(years) > 1 else tuple(years)

    def ingest_view(self) -> View | None:
        """What a search would see now (:meth:`discovery.matter.Matter.view`): whether an
        ingest is running and how many stored messages are not searchable yet.

        None when a search holds the index just now (ask again later).
        """
        if not self._search_lock.acquire(blocking=False):
            return None
        try:
            with self._ui_lock:
                return self.matter.view()
        finally:
            self._search_lock.release()

    # --- query history ----------------------------------------------------------------
    @property
    def history_path(self) -> Path:
        return self.matter.path / HISTORY_FILE

    def history(self) -> list[str]:
        """This matter's earlier queries, oldest first (unreadable lines skipped)."""
        try:
            lines = self.history_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        out: list[str] = []
        for line in lines[-HISTORY_KEPT:]:
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, str) and value.strip():
                out.append(value)
        return out

    def remember(self, query: str) -> None:
        """Append a query to the matter's history; a failure to write is not worth a crash."""
        try:
            with self.history_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(query, ensure_ascii=False) + "\n")
        except OSError:
            pass

    def find(self, results: Results | None, message_id: int) -> int | Message:
        """Where a message is among the hits (its index), or the message itself when it is
        not a hit.

        Raises:
            MessageNotFoundError: no such message in the matter.
        """
        if results is not None and message_id in results.ids:
            return results.ids.index(message_id)
        with self._ui_lock:
            return self.matter.store.message(message_id)

    def family(self, message_id: int) -> list[Message]:
        """The message's family: its parent first, then the attachments in family order
        (just the message when it has none)."""
        with self._ui_lock:
            store = self.matter.store
            return store.messages(family_store.families(store.db, [message_id]))

    # --- pages, context, tags (UI thread or workers) --------------------------------------
    def load(self, results: Results, lo: int, hi: int) -> None:
        """Fetch the hits at places ``lo`` to ``hi`` (excluded) that are not fetched yet,
        a page at a time; none before them is fetched (the last hit of 100,000 is one
        page, not 2,000)."""
        hi = min(hi, results.total)
        with self._ui_lock:
            i = max(lo, 0)
            while i < hi:
                if results.hit_at(i) is not None:
                    i += 1
                    continue
                end = i + 1  # the run of missing hits from i, a page at most
                while end < min(i + PAGE, results.total) and results.hit_at(end) is None:
                    end += 1
                fetched = self._searcher.hits(results.node, results.ids[i:end])
                if i == len(results.hits):
                    results.hits.extend(fetched)
                else:
                    results.far.update(zip(range(i, end), fetched, strict=True))
                i = end
            while len(results.hits) in results.far:  # the first hits have reached them
                results.hits.append(results.far.pop(len(results.hits)))

    def context(
        self,
        message_id: int,
        around: int | ContextSpec,
        node: Node | None,
        *,
        from_start: bool = False,
    ) -> tuple[list[Message], dict[int, dict[int, list[tuple[int, int]]]]]:
        """Messages around one (or the conversation's first ones) and the query's matches.

        ``around`` is a number of messages each side or any context kind
        (:mod:`discovery.context`). Returns the messages in conversation order and,
        per message id and version (0 its current text, n its n-th earlier one), the
        (start, end) offsets of the matched words in that text.
        """
        spec = around if isinstance(around, ContextSpec) else ContextSpec("messages", around)
        with self._ui_lock:
            store = self.matter.store
            if from_start:
                n = spec.amount if spec.kind == "messages" else 3
                ids = self._conversation_start(message_id, 2 * n + 1)
            else:
                ids = windows(store, [message_id], spec, self.matter.tz).get(message_id) or [
                    store.message(message_id).id
                ]
            hits = self._searcher.hits(node, ids)
        marks = {h.message.id: version_spans(h) for h in hits}
        return [h.message for h in hits], marks

    def _conversation_start(self, message_id: int, n: int) -> list[int]:
        store = self.matter.store
        row = store.db.execute(
            "SELECT id FROM messages WHERE conversation_id ="
            " (SELECT conversation_id FROM messages WHERE id = ?)"
            " ORDER BY sent_us, id LIMIT 1",
            (message_id,),
        ).fetchone()
        first = int(row[0]) if row else message_id
        return store.context_ids(first, 0, n - 1)

    def conversation_of(self, ids: Sequence[int]) -> dict[int, int]:
        """Conversation id of each of ``ids``."""
        with self._ui_lock:
            return {r[0]: r[1] for r in self.matter.store.summary_rows(list(ids))}

    def set_tag(self, message_id: int, tag: str, on: bool) -> tuple[tuple[str, ...], str | None]:
        """Add or remove one tag and log it (command ``tag`` or ``untag``, with the
        message's control number).

        Returns:
            The message's tags afterwards, and why the change was not logged (or None).

        Raises:
            DiscoveryError: the store could not be changed (an ingest holds it too long).
        """
        command = "tag" if on else "untag"
        with self._ui_lock:
            store = self.matter.store
            try:
                (store.tag if on else store.untag)([message_id], tag)
            except sqlite3.OperationalError as exc:
                raise DiscoveryError(
                    f"{family_store.control(store.db, message_id)} was NOT {command}ged {tag}:"
                    " the matter is"
                    f" busy ({exc}); try again"
                ) from None
            tags = store.tags_of([message_id]).get(message_id, ())
            problem = _log(
                self.matter, command, tag, None, [message_id], tag=tag,
                control_number=family_store.control(store.db, message_id),
            )  # fmt: skip
        return tags, problem

    def description(self, message_id: int) -> str:
        """The privilege description stored for a message ('' when none)."""
        with self._ui_lock:
            return self.matter.store.privilege_descriptions([message_id]).get(message_id, "")

    def set_description(self, message_id: int, text: str) -> str | None:
        """Store (or, blank, remove) a message's privilege description and log it
        (command ``describe``, with the control number); why it was not logged, or None.

        Raises:
            DiscoveryError: the store could not be changed (an ingest holds it too long).
        """
        with self._ui_lock:
            control = family_store.control(self.matter.store.db, message_id)
            try:
                with self.matter.store.guarded():
                    self.matter.store.set_privilege_description([message_id], text.strip())
            except DiscoveryError as exc:
                raise DiscoveryError(
                    f"the description of {control} was NOT stored ({exc}); try again"
                ) from None
            return _log(
                self.matter, "describe", control, None, [message_id],
                description=text.strip(), control_number=control,
            )  # fmt: skip

    def tag_names(self) -> list[str]:
        with self._ui_lock:
            return sorted(set(self.matter.store.tag_names()) | set(BUILTIN_TAGS))

    def export(self, results: Results, path: Path) -> tuple[int, str | None]:
        """Write every hit of ``results`` as CSV (PRODUCT.md §6) and log the export.

        Runs on the search connection, so reading continues while a large set is written.

        Returns:
            Rows written, and why the export was not logged (or None).

        Raises:
            DiscoveryError: the file cannot be written.
        """
        with self._search_lock:
            try:
                n = write_csv(
                    path,
                    HIT_COLUMNS,
                    hit_rows(self._search_searcher, results.node, results.ids, self.matter.tz),
                    bom=False,
                )
            except OSError as exc:
                raise DiscoveryError(f"cannot write {path}: {exc.strerror or exc}") from None
            problem = _log(
                self._search_matter, "export", results.query, results.node, results.ids,
                out=str(path),
            )  # fmt: skip
        return n, problem


def _log(
    matter: Matter,
    command: str,
    query: str,
    node: Node | None,
    ids: Sequence[int],
    **extra: Any,
) -> str | None:
    """Append one audit entry from the review screen; None, or why it could not be written."""
    canonical = unparse(node) if node is not None else query
    try:
        audit.record(
            matter, command, query, canonical, ids, include_system=False, via="tui", **extra
        )
    except Exception as exc:  # the action is done; the screen warns instead of crashing
        reason = str(exc) if isinstance(exc, DiscoveryError) else type(exc).__name__
        return f"this {command} was NOT recorded in the audit log ({reason})"
    return None
