"""The review screen: header, query bar, filter, hit list, detail line, conversation, footer.

**Keys act on what is on screen when they are read.** The current hit is the
hit table's cursor row, which every key moves at once; the panes follow when
the table reports the move. So a burst of keys (``j`` thirty times, then
``h``) moves thirty hits and tags the thirtieth, never the hit the panes
showed a moment before. Keys that act on hits while a search is running wait
for its hits and then act on them, in the order they were pressed; none is
dropped.

Searches run in a thread worker that replaces the one before it; a result
arriving for a query that has since been replaced is dropped. Errors (a query
syntax error, a wildcard too broad, a file that cannot be written) are shown
on the screen and never end the app.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from discovery.context import ContextSpec
from discovery.errors import DiscoveryError
from discovery.matter import View
from discovery.model import Message
from discovery.safetext import visible
from discovery.search import Hit, parse_query
from discovery.tui.explain import open_explain
from discovery.tui.hittable import HitTable
from discovery.tui.keys import HoldsKeys, opens_dialog
from discovery.tui.screens import (
    DescriptionScreen,
    ExportScreen,
    FilterScreen,
    GotoScreen,
    HelpScreen,
    TagScreen,
)
from discovery.tui.session import Filters, Results, Session
from discovery.tui.widgets import (
    ConversationPane,
    KeysFooter,
    QueryBar,
    TextLine,
    detail_text,
)

CONTEXT_STEPS = (0, 1, 2, 3, 5, 8, 13, 20, 30, 50)
"""Messages shown each side of a hit, as the context is widened or narrowed."""
DEFAULT_CONTEXT = 3
CONTEXT_KINDS = (None, ContextSpec("time", 600), ContextSpec("time", 7200), ContextSpec("thread"),
                 ContextSpec("day"))  # fmt: skip
"""What ``c`` cycles through: ±N messages (None: the +/- steps), ±10min, ±2h, thread, day."""
AHEAD = 5
"""Hits fetched ahead of the cursor: the next page is fetched this many hits before the end."""
SCAN = 1000
"""Hit ids looked up at a time when looking for the next hit in the same conversation."""
INGEST_POLL = 2.0
"""Seconds between two looks at whether an ingest is adding to the matter."""
PAINT_HOLD = 0.1
"""Seconds a search may run before the screen shows it searching (the old hits gone,
"searching…"). A quicker one goes from the screen before it to its hits in one frame:
the frame in between cost as much as the search itself (docs/BENCHMARKS.md)."""

KEYS: tuple[tuple[str, str], ...] = (
    ("/", "query bar: Enter searches, ↑ ↓ history, Esc leaves"),
    ("j ↓  k ↑", "next / previous hit (or click one)"),
    ("Home  G End", "first / last hit"),
    ("] J  [ K", "next / previous hit in the same conversation"),
    (":", "go to a message by control number (MSG-00000042)"),
    ("+ =  -", "widen / narrow the context around the hit"),
    ("c", "context: ±N messages, ±10min, ±2h, thread, day"),
    ("g", "conversation start (again: back to the hit)"),
    ("h  r  p", "tag Hot / Responsive / Privileged (again: untag)"),
    ("t  d", "your own tag (again: untag) / privilege description"),
    ("f  F", "filter by speaker, conversation, dates… / clear it"),
    ("x", "export the hit set to CSV (asks before overwriting)"),
    ("e", "explain the query: expansions, hits per clause"),
    ("ctrl+p", "every action by name (command palette)"),
    ("?  f1", "this help"),
    ("q  ctrl+q", "quit"),
)

A = TypeVar("A", bound=Callable[..., None])


def on_shown_hits(action: A) -> A:
    """An action on the hits: while a search runs, it waits for that search's hits."""

    @functools.wraps(action)
    def run(self: ReviewApp, *args: Any) -> None:
        if self.searching:
            self.deferred.append((action, args))
            return
        action(self, *args)

    return run  # type: ignore[return-value]


class ReviewScreen(Screen[None]):
    """The screen under the dialogs. A move of the focus (the query bar to the hit list
    at every search) repaints the widgets whose look it changes, which Textual restyles
    for it, not the whole screen (Textual's own default: every widget drawn again)."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)


class ReviewApp(HoldsKeys):
    """Search a matter, walk the hits in their conversations, tag, export."""

    CSS_PATH = "app.tcss"
    TITLE = "discovery"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_query", "Query", show=True),
        Binding("j,down", "next_hit", "Next", show=False),
        Binding("k,up", "prev_hit", "Prev", show=False),
        Binding("home", "first_hit", "First", show=False),
        Binding("G,end", "last_hit", "Last", show=False),
        Binding("right_square_bracket,J", "next_in_conversation", "Next in conv.", show=False),
        Binding("left_square_bracket,K", "prev_in_conversation", "Prev in conv.", show=False),
        Binding("colon", "goto", "Go to", show=False),
        Binding("a", "family", "Family", show=False),
        Binding("plus,equals_sign", "context(1)", "Wider", show=False),
        Binding("minus", "context(-1)", "Narrower", show=False),
        Binding("c", "context_kind", "Context kind", show=False),
        Binding("g", "conversation_start", "Start", show=False),
        Binding("h", "toggle_tag('hot')", "Hot", show=True),
        Binding("r", "toggle_tag('responsive')", "Resp", show=True),
        Binding("p", "toggle_tag('privileged')", "Priv", show=True),
        Binding("t", "custom_tag", "Tag", show=True),
        Binding("d", "describe", "Describe", show=False),
        Binding("f", "filter", "Filter", show=True),
        Binding("F", "clear_filter", "Clear filter", show=False),
        Binding("x", "export", "Export", show=True),
        Binding("e", "explain", "Explain", show=False),
        Binding("question_mark,f1", "help", "Help", show=True),
        Binding("q", "quit", "Quit", show=True),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    ACTIONS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Query bar", "Type a query (Enter searches)", "focus_query"),
        ("Next hit", "j or ↓", "next_hit"),
        ("Previous hit", "k or ↑", "prev_hit"),
        ("First hit", "Home", "first_hit"),
        ("Last hit", "G or End", "last_hit"),
        ("Next hit in this conversation", "] or J", "next_in_conversation"),
        ("Previous hit in this conversation", "[ or K", "prev_in_conversation"),
        ("Go to a message", ": then a control number", "goto"),
        ("Parent and attachments", "a: the next of the family (parent, A001, ...)", "family"),
        ("Explain the query", "e: how it is read, expansions, hits per clause", "explain"),
        ("Wider context", "+ or =", "context(1)"),
        ("Narrower context", "-", "context(-1)"),
        ("Context kind", "c: ±N messages, ±10min, ±2h, the thread, the day", "context_kind"),
        ("Conversation start", "g (again: back to the hit)", "conversation_start"),
        ("Tag Hot", "h (again: untag)", "toggle_tag('hot')"),
        ("Tag Responsive", "r (again: untag)", "toggle_tag('responsive')"),
        ("Tag Privileged", "p (again: untag)", "toggle_tag('privileged')"),
        ("Tag with a tag of your own", "t", "custom_tag"),
        ("Privilege description", "d: the privilege log's description of the hit", "describe"),
        ("Filter", "f: speaker, conversation, custodian, dates", "filter"),
        ("Clear the filter", "F", "clear_filter"),
        ("Export the hits to CSV", "x", "export"),
        ("Help: the keys", "? or F1", "help"),
        ("Quit", "q or ctrl+q", "quit"),
    )
    """Every action, for the command palette (ctrl+p): title, what it does / its keys, action."""

    def __init__(self, session: Session, *, blink: bool = True, query: str = "") -> None:
        super().__init__()
        self.session = session
        self.tz = session.matter.tz
        self.blink = blink
        self.initial_query = query
        self.results: Results | None = None
        self.error: DiscoveryError | None = None
        """The last search's error, if it failed."""
        self.looked_up: Message | None = None
        """A message shown by go-to that is not among the hits (it is what keys act on)."""
        self.context = DEFAULT_CONTEXT
        self.context_kind = 0
        """Index into :data:`CONTEXT_KINDS` (0: ±``context`` messages)."""
        self.at_start = False
        self.filters = Filters()
        self.generation = 0
        self.searching = False
        self.first_row = 0
        """The place among the hits of the hit list's first row (not 0 after a jump far
        down, e.g. to the last hit: the rows are the hits around it)."""
        self.put_back: tuple[int, int, int] | None = None
        """The hit list a running search took off the screen (the current hit, the first
        row's hit, the rows), to put back if it fails."""
        self.pane_shows: tuple[object, ...] | None = None
        """What the conversation pane was last drawn for (drawn again only when it changes)."""
        self.deferred: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        """Hit actions pressed while a search ran, to run on its hits."""
        self.ingest: View | None = None
        """What the last poll saw of the matter: an ingest running, messages not indexed."""
        self.exported: tuple[Path, int] | None = None
        self.held: Timer | None = None
        """While a search runs for less than :data:`PAINT_HOLD`: no frame is painted
        (keys are read and acted on as ever), and this ends the hold if it is not over."""
        self.sub_title = f"matter {session.name}"

    # --- layout ------------------------------------------------------------------------
    def get_default_screen(self) -> Screen[Any]:
        return ReviewScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield Static(self._header(), id="header")
        yield QueryBar(
            self._submitted, blink=self.blink, history=self.session.history(), id="querybar"
        )
        yield TextLine(id="filter")
        yield TextLine(id="totals", fixed=True)
        yield HitTable(self.tz, id="hits")
        yield TextLine(id="detail")
        yield ConversationPane(self.tz, id="conversation")
        yield KeysFooter(compact=True)

    @property
    def query_bar(self) -> QueryBar:
        return self.query_one(QueryBar)

    @property
    def table(self) -> HitTable:
        return self.query_one(HitTable)

    @property
    def pane(self) -> ConversationPane:
        return self.query_one(ConversationPane)

    def on_mount(self) -> None:
        self.table.set_columns(self.size.width)
        self._show_filter()
        self._show_totals()
        self._show_detail()
        self.set_interval(INGEST_POLL, self._poll_ingest)
        self._poll_ingest()
        if self.initial_query:
            self.query_bar.input.value = self.initial_query
            self.run_search(self.initial_query)
        else:
            self.query_bar.input.focus()

    def on_resize(self) -> None:
        self._layout_table()

    def _layout_table(self) -> None:
        years = self.results is not None and len(self.results.years) > 1
        if self.table.needs_columns(self.size.width, years):
            index, rows = self.index, self.table.row_count
            self.table.set_columns(self.size.width, years)
            if self.results and not self.searching:
                self._show_rows(self.first_row, self.first_row + rows, index)

    def _header(self) -> Text:
        s = self.session
        zone = str(getattr(self.tz, "key", None) or self.tz)
        parts: list[tuple[str, str] | str] = [
            ("discovery ", "bold"),
            ("matter ", "dim"),
            (visible(s.name), "bold cyan"),
            ("  dates in ", "dim"),
            (zone, "bold"),
        ]
        view = self.ingest
        if view is not None and view.partial:
            waiting = max(0, view.stored - view.indexed)
            note = "ingest in progress" if view.writer else "index incomplete"
            parts.append(
                (f"  {note}: {waiting:,} messages not searchable yet", "bold black on yellow")
            )
        return Text.assemble(*parts)

    def _poll_ingest(self) -> None:
        view = self.session.ingest_view()
        if view is not None and view != self.ingest:
            self.ingest = view
            self.query_one("#header", Static).update(self._header())

    # --- searching ---------------------------------------------------------------------
    def _submitted(self, query: str) -> None:
        if query:
            self.session.remember(query)
        self.run_search(query)

    def run_search(self, text: str) -> None:
        """Search ``text`` (ANDed with the filter, which is shown apart) in the background."""
        try:
            if text.strip():
                parse_query(text)  # a caret into what was typed, before the filter is added
            filter_query = self.filters.query()
        except DiscoveryError as exc:
            self.generation += 1  # a search still running is for a query now replaced
            self._search_failed(self.generation, exc)
            self.query_bar.input.focus()  # back to the query, to mend it
            return
        if not text.strip() and not filter_query:
            self.query_bar.show_error(None)
            return
        self.generation += 1
        self._hold_paint()
        if not self.searching:
            self.put_back = (self.index, self.first_row, self.table.row_count)
        self.searching = True
        # The old hits leave the screen: kept, they would be drawn again for the focus
        # moving to them, a frame the search would wait for.
        self.table.clear()
        self.screen.set_focus(self.table)  # keys from now on act on the hits, not the query
        self.query_one("#totals", TextLine).show(Text("searching…", "dim italic"))
        # The first page is the rows the list shows and the few fetched ahead of the cursor.
        first = self.table.rows_shown + AHEAD
        self._search(text, filter_query, first, self.generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group="search")
    def _search(self, text: str, filter_query: str, first: int, generation: int) -> None:
        try:
            results = self.session.search(text, filter_query, first)
        except DiscoveryError as exc:
            self.call_from_thread(self._search_failed, generation, exc)
            return
        self.call_from_thread(self._show_results, generation, results)

    def _search_failed(self, generation: int, exc: DiscoveryError) -> None:
        if generation != self.generation:
            return
        self.error = exc
        self.query_bar.show_error(exc)
        if self.searching:
            self._put_back_hits()
            self.query_bar.input.focus()
        self._show_totals()
        self._search_done()

    def _put_back_hits(self) -> None:
        """The hits of the search before, where the cursor was, after one that failed."""
        shown, self.put_back = self.put_back, None
        if self.results and self.results.total and shown is not None:
            index, lo, rows = shown
            self._show_rows(lo, lo + rows, index)

    def _show_results(self, generation: int, results: Results) -> None:
        if generation != self.generation:
            return
        self.error = None
        self.query_bar.show_error(None)
        self.results = results
        self.first_row = 0
        self.put_back = None
        self.looked_up = None
        self.at_start = False
        self._audit_warning(results.audit_error)
        table = self.table
        years = len(results.years) > 1
        if table.needs_columns(self.size.width, years):
            table.set_columns(self.size.width, years)
        else:
            table.clear()
        table.add_hits(results.hits, 0)
        if results.hits:
            table.move_cursor(row=0, animate=False)
            table.focus()
        else:
            self.pane_shows = None
            self.pane.clear("No hits.")
        self._refresh_hit()
        self._search_done()

    def _hold_paint(self) -> None:
        if self.held is None:
            self._begin_batch()  # what App.delay_update does, ended here when the hits come
            self.held = self.set_timer(PAINT_HOLD, self._release_paint, name="paint hold")

    def _release_paint(self) -> None:
        held, self.held = self.held, None
        if held is not None:
            held.stop()
            self._end_batch()
            self.screen.check_idle()  # the screen paints what changed meanwhile

    def _search_done(self) -> None:
        self._release_paint()
        self.searching = False
        pending, self.deferred = self.deferred, []
        for action, args in pending:
            action(self, *args)

    def _show_totals(self) -> None:
        r = self.results
        parts: list[tuple[str, str] | str] = []
        if r is None:
            parts.append(("no search yet", "dim"))
        else:
            res = r.result
            s = "" if res.total == 1 else "s"
            parts.append(
                (
                    f"{res.total} message{s} in {res.conversations} conversation"
                    f"{'' if res.conversations == 1 else 's'}, {res.custodians} custodian"
                    f"{'' if res.custodians == 1 else 's'}",
                    "bold",
                )
            )
            if res.total:
                parts.append(f"  hit {self.index + 1}/{res.total}")
            if r.years:
                span = f"{r.years[0]}" if len(r.years) == 1 else f"{r.years[0]}–{r.years[-1]}"
                parts.append(f"  {span}")
            if res.partial and res.view is not None:
                note = "ingest in progress" if res.view.writer else "index incomplete"
                parts.append((f"  {note}: hits so far", "bold yellow"))
        kind = CONTEXT_KINDS[self.context_kind]
        parts.append(f"  context {'±' + str(self.context) if kind is None else kind.describe()}")
        self.query_one("#totals", TextLine).show(Text.assemble(*parts))

    def _show_filter(self) -> None:
        shown = self.query_one("#filter", TextLine)
        try:
            text = self.filters.query()
        except DiscoveryError as exc:
            text = str(exc)
        shown.display = bool(text)
        shown.show(
            Text.assemble(
                ("filter, kept for every query (f changes, F clears): ", "dim"), (text, "yellow")
            )
        )

    # --- the current hit ---------------------------------------------------------------
    @property
    def index(self) -> int:
        """The current hit: the hit table's cursor row, which every key moves at once
        (its place among the hits: the row, past :attr:`first_row`)."""
        r = self.results
        if r is None or not r.total:
            return 0
        return max(0, min(self.first_row + self.table.cursor_row, r.total - 1))

    @property
    def hit(self) -> Hit | None:
        r = self.results
        return None if r is None else r.hit_at(self.index)

    @property
    def message(self) -> Message | None:
        """The message keys act on: a looked-up message, else the current hit's."""
        if self.looked_up is not None:
            return self.looked_up
        hit = self.hit
        return None if hit is None else hit.message

    def on_hit_table_highlighted(self, event: HitTable.Highlighted) -> None:
        if self.results is None or self.searching or event.cursor_row != self.table.cursor_row:
            return  # a move that later keys have already overtaken, or an emptied list
        self.looked_up = None
        self.at_start = False
        self._ensure_loaded(self.index + 1)
        if self.table.cursor_row < 5:
            self._grow_back()
        self._refresh_hit()

    def _refresh_hit(self) -> None:
        self._show_conversation()
        self._show_totals()
        self._show_detail()

    def _show_detail(self) -> None:
        m = self.message
        detail = self.query_one("#detail", TextLine)
        family = self.session.family(m.id) if m is not None else []
        detail.show(detail_text(m, self.tz, family) if m is not None else Text())
        detail.display = m is not None

    def on_hit_table_near_end(self, event: HitTable.NearEnd) -> None:
        self._ensure_loaded(self.first_row + self.table.row_count)

    def on_hit_table_near_start(self, event: HitTable.NearStart) -> None:
        self._grow_back()

    def _ensure_loaded(self, index: int) -> None:
        """Load pages of hits through ``index`` into the table (the next page, near the end)."""
        r = self.results
        end = self.first_row + self.table.row_count
        if r is None or self.searching or end >= r.total or index < end - AHEAD:
            return
        self.session.load(r, end, index + AHEAD + 1)
        rows = []
        while (hit := r.hit_at(end + len(rows))) is not None:
            rows.append(hit)
        self.table.add_hits(rows, end)

    def _grow_back(self) -> None:
        """Near the first row of hits that start past the first hit: the page before too."""
        if self.results is not None and self.first_row > 0 and not self.searching:
            index, end = self.index, self.first_row + self.table.row_count
            self._show_rows(max(0, self.first_row - self.session.page), end, index)

    def _show_rows(self, lo: int, hi: int, index: int) -> None:
        """The hits at places ``lo`` to ``hi`` (fetched as needed) as the hit list's rows,
        the cursor on hit ``index``."""
        r = self.results
        assert r is not None
        self.session.load(r, lo, hi)
        rows = []
        while lo + len(rows) < hi and (hit := r.hit_at(lo + len(rows))) is not None:
            rows.append(hit)
        self.first_row = lo
        self.table.clear()
        self.table.add_hits(rows, lo)
        self.table.move_cursor(row=index - lo, animate=False)

    def _show_conversation(self) -> None:
        m = self.message
        r = self.results
        if m is None:
            return
        node = r.node if r is not None else None
        context = self.shown_context()
        shows = (m.id, m.tags, context, self.at_start, self.looked_up is not None, node)
        if shows == self.pane_shows:
            return
        self.pane_shows = shows
        messages, marks = self.session.context(m.id, context, node, from_start=self.at_start)
        if self.at_start:
            note = "from the start of the conversation (g: back to the hit)"
        elif self.looked_up is not None:
            note = "not a hit of this search (j, k: back to the hits)"
        else:
            note = ""
        self.pane.show(messages, m.id, marks, note=note, to_top=self.at_start)

    def _go(self, index: int) -> None:
        """Move to hit ``index``: among the rows, the page after them, or (further away,
        G, a go-to) the rows around it alone: no page before it is fetched."""
        r = self.results
        if r is None or not r.total:
            return
        index = max(0, min(r.total - 1, index))
        was = self.index
        lo, end, page = self.first_row, self.first_row + self.table.row_count, self.session.page
        if lo <= index < end + page:
            self._ensure_loaded(index)
        elif lo - page <= index < lo:
            self._show_rows(max(0, lo - page), end, index)
        else:
            self._show_rows(max(0, index - page // 2), index + page // 2 + 1, index)
        if self.looked_up is not None and index == was:
            self.looked_up = None
            self._refresh_hit()
        self.table.move_cursor(row=index - self.first_row, animate=False)

    # --- actions -----------------------------------------------------------------------
    def action_explain(self) -> None:
        open_explain(self)

    def action_focus_query(self) -> None:
        """To the query bar; keys typed after ``/`` in the same burst are typed into it
        (held until it has the focus: on the hit list ``e``, ``h``, ``p`` would act)."""
        self.hold_keys()
        self.query_bar.input.focus()
        self.call_later(self.release_keys)  # read after the focus has moved

    @on_shown_hits
    def action_next_hit(self) -> None:
        self._go(self.index + (0 if self.looked_up else 1))

    @on_shown_hits
    def action_prev_hit(self) -> None:
        self._go(self.index - (0 if self.looked_up else 1))

    @on_shown_hits
    def action_first_hit(self) -> None:
        self._go(0)

    @on_shown_hits
    def action_last_hit(self) -> None:
        if self.results is not None:
            self._go(self.results.total - 1)

    @on_shown_hits
    def action_next_in_conversation(self) -> None:
        self._same_conversation(1)

    @on_shown_hits
    def action_prev_in_conversation(self) -> None:
        self._same_conversation(-1)

    def _same_conversation(self, step: int) -> None:
        hit, r = self.hit, self.results
        if hit is None or r is None:
            return
        conv = hit.message.conversation_id
        i = self.index + step
        while 0 <= i < r.total:
            chunk = r.ids[i : i + SCAN] if step > 0 else r.ids[max(0, i - SCAN + 1) : i + 1]
            convs = self.session.conversation_of(chunk)
            order = range(len(chunk)) if step > 0 else range(len(chunk) - 1, -1, -1)
            for k in order:
                if convs.get(chunk[k]) == conv:
                    self._go(i + k if step > 0 else max(0, i - SCAN + 1) + k)
                    return
            i += step * len(chunk)
        self.notify("No other hit in this conversation that way.", timeout=3)

    @opens_dialog
    @on_shown_hits
    def action_goto(self) -> None:
        def done(mid: object) -> None:
            if isinstance(mid, int):
                self._goto(mid)

        self.open_dialog(GotoScreen(), done)

    def action_family(self) -> None:
        """Jump along the shown message's family: parent, its attachments, back to the parent."""
        m = self.message
        if m is None:
            return
        ids = [x.id for x in self.session.family(m.id)]
        if len(ids) < 2:
            self.notify(f"{m.control} has no attachments.", timeout=3)
            return
        self._goto(ids[(ids.index(m.id) + 1) % len(ids)])

    def _goto(self, mid: int) -> None:
        try:
            found = self.session.find(self.results, mid)
        except DiscoveryError as exc:
            self.notify(str(exc), severity="error", timeout=5)
            return
        if isinstance(found, int):
            self.looked_up = None
            self._go(found)
            self._refresh_hit()
            return
        self.looked_up = found
        self.at_start = False
        self._refresh_hit()
        self.notify(f"{found.control} is not a hit of this search; j or k goes back.", timeout=4)

    def shown_context(self) -> ContextSpec:
        return CONTEXT_KINDS[self.context_kind] or ContextSpec("messages", self.context)

    @on_shown_hits
    def action_context_kind(self) -> None:
        self.context_kind = (self.context_kind + 1) % len(CONTEXT_KINDS)
        self._show_conversation()
        self._show_totals()

    @on_shown_hits
    def action_context(self, step: int) -> None:
        now = CONTEXT_STEPS.index(self.context) if self.context in CONTEXT_STEPS else 3
        self.context_kind = 0  # back to messages
        self.context = CONTEXT_STEPS[max(0, min(len(CONTEXT_STEPS) - 1, now + step))]
        self._show_conversation()
        self._show_totals()

    @on_shown_hits
    def action_conversation_start(self) -> None:
        if self.message is None:
            return
        self.at_start = not self.at_start
        self._show_conversation()

    @on_shown_hits
    def action_toggle_tag(self, tag: str) -> None:
        self._toggle(self.message, tag)

    def _toggle(self, m: Message | None, tag: str) -> None:
        if m is None:
            self.notify("No hit to tag: search first.", severity="warning", timeout=3)
            return
        on = tag not in m.tags
        try:
            tags, problem = self.session.set_tag(m.id, tag, on)
        except DiscoveryError as exc:
            self.notify(visible(str(exc)), severity="error", timeout=8)
            return
        self._replace_tags(m, tags)
        self.notify(f"{m.control} {'tagged' if on else 'untagged'} {tag}", timeout=2)
        self._audit_warning(problem)

    def _audit_warning(self, problem: str | None) -> None:
        """Tell the reviewer an action was done but not logged (PRODUCT.md §6)."""
        if problem:
            self.notify(f"Warning: {problem}", severity="error", timeout=10)

    def _replace_tags(self, m: Message, tags: tuple[str, ...]) -> None:
        message = dataclasses.replace(m, tags=tags)
        if self.looked_up is not None and self.looked_up.id == m.id:
            self.looked_up = message
        r = self.results
        if r is not None:  # the message may be a hit too (or elsewhere)
            for i, hit in [*enumerate(r.hits), *r.far.items()]:
                if hit.message.id == m.id:
                    if i < len(r.hits):
                        r.hits[i] = dataclasses.replace(hit, message=message)
                    else:
                        r.far[i] = dataclasses.replace(hit, message=message)
                    shown = self.first_row <= i < self.first_row + self.table.row_count
                    if shown and not self.searching:
                        self.table.update_tags(i, message)
                    break
        self._show_conversation()
        self._show_detail()

    @opens_dialog
    @on_shown_hits
    def action_custom_tag(self) -> None:
        m = self.message
        if m is None:
            self.notify("No hit to tag: search first.", severity="warning", timeout=3)
            self.release_keys()  # no dialog: the keys go on to the review screen
            return

        def done(tag: object) -> None:
            if isinstance(tag, str):
                self._toggle(m, tag)  # the message the dialog was opened on

        self.open_dialog(TagScreen(self.session.tag_names(), m.tags), done)

    @opens_dialog
    @on_shown_hits
    def action_describe(self) -> None:
        m = self.message
        if m is None:
            self.notify("No hit to describe: search first.", severity="warning", timeout=3)
            self.release_keys()  # no dialog: the keys go on to the review screen
            return

        def done(text: object) -> None:
            if not isinstance(text, str):
                return
            try:
                problem = self.session.set_description(m.id, text)  # the dialog's message
            except DiscoveryError as exc:
                self.notify(visible(str(exc)), severity="error", timeout=8)
                return
            said = "description stored" if text.strip() else "description removed"
            self.notify(f"{m.control} {said}", timeout=2)
            self._audit_warning(problem)

        self.open_dialog(DescriptionScreen(m.control, self.session.description(m.id)), done)

    @opens_dialog
    def action_filter(self) -> None:
        def done(filters: object) -> None:
            if isinstance(filters, Filters):
                self._set_filter(filters)

        self.open_dialog(FilterScreen(self.filters), done)

    def action_clear_filter(self) -> None:
        if self.filters.is_empty():
            self.notify("No filter to clear.", timeout=2)
            return
        self._set_filter(Filters())
        self.notify("Filter cleared.", timeout=2)

    def _set_filter(self, filters: Filters) -> None:
        self.filters = filters
        self._show_filter()
        self.run_search(self.query_bar.input.value)

    @opens_dialog
    @on_shown_hits
    def action_export(self) -> None:
        r = self.results
        if r is None or not r.total:
            self.notify("Nothing to export: search first.", severity="warning", timeout=3)
            self.release_keys()  # no dialog: the keys go on to the review screen
            return

        def done(path: object) -> None:
            if isinstance(path, Path):
                self._export(r, path)

        self.open_dialog(ExportScreen(Path(f"{self.session.name}-hits.csv"), r.total), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def _export(self, results: Results, path: Path) -> None:
        try:
            n, problem = self.session.export(results, path)
        except DiscoveryError as exc:
            self.call_from_thread(self.notify, visible(str(exc)), severity="error", timeout=8)
            return
        self.call_from_thread(self._exported, path, n, problem)

    def _exported(self, path: Path, n: int, problem: str | None = None) -> None:
        self.exported = (path, n)
        self.notify(visible(f"{n} hits written to {path}"), timeout=5)
        self._audit_warning(problem)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(KEYS))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette (ctrl+p) lists every review action, then Textual's own."""
        for title, what, action in self.ACTIONS:
            yield SystemCommand(title, what, functools.partial(self.run_action, action))
        yield from super().get_system_commands(screen)

    def _fatal_error(self) -> None:
        """A crash is reported in one line: Textual's traceback shows locals (message text)."""
        if os.environ.get("DISCOVERY_DEBUG"):
            super()._fatal_error()
            return
        self.bell()
        name = type(self._exception).__name__ if self._exception else "unknown"
        self._exit_renderables.append(
            Text(
                f"discovery: internal error in the review screen ({name}); run again with"
                " DISCOVERY_DEBUG=1 for details"
            )
        )
        self._close_messages_no_wait()


def run(matter_name: str | None, query: str = "") -> int:
    """Open a matter and run the review screen until the reviewer quits; the exit status."""
    from discovery.matter import open_matter

    with open_matter(matter_name) as matter:
        session = Session(matter)
        try:
            app = ReviewApp(session, query=query)
            app.run()
        finally:
            session.close()
    return app.return_code or 0
