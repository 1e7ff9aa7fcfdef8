"""The review screen: query bar, hit list, conversation pane, footer (PRODUCT.md §1).

Searches run in a thread worker that replaces the one before it; a result
arriving for a query that has since been replaced is dropped. Errors (a query
syntax error, a wildcard too broad, a file that cannot be written) are shown
on the screen and never end the app.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from discovery.errors import DiscoveryError
from discovery.safetext import visible
from discovery.search import Hit
from discovery.tui.screens import ExportScreen, FilterScreen, HelpScreen, TagScreen
from discovery.tui.session import Filters, Results, Session, combine
from discovery.tui.widgets import ConversationPane, HitTable, QueryBar

CONTEXT_STEPS = (0, 1, 2, 3, 5, 8, 13, 20, 30, 50)
"""Messages shown each side of a hit, as the context is widened or narrowed."""
DEFAULT_CONTEXT = 3
SCAN = 1000
"""Hit ids looked up at a time when looking for the next hit in the same conversation."""

KEYS: tuple[tuple[str, str], ...] = (
    ("/", "query bar: Enter searches, ↑ ↓ history, Esc leaves"),
    ("j ↓  k ↑", "next / previous hit (or click one)"),
    ("] J  [ K", "next / previous hit in the same conversation"),
    ("+ =  -", "widen / narrow the context around the hit"),
    ("g", "conversation start (again: back to the hit)"),
    ("h  r  p", "tag Hot / Responsive / Privileged (again: untag)"),
    ("t", "tag with a tag of your own (again: untag)"),
    ("f", "filter: speaker, conversation, custodian, dates"),
    ("x", "export the hit set to CSV"),
    ("?  f1", "this help"),
    ("q  ctrl+q", "quit"),
)


class ReviewApp(App[None]):
    """Search a matter, walk the hits in their conversations, tag, export."""

    CSS_PATH = "app.tcss"
    TITLE = "discovery"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_query", "Query", show=True),
        Binding("j", "next_hit", "Next", show=True),
        Binding("k", "prev_hit", "Prev", show=True),
        Binding("right_square_bracket,J", "next_in_conversation", "Next in conv.", show=True),
        Binding("left_square_bracket,K", "prev_in_conversation", "Prev in conv.", show=False),
        Binding("plus,equals_sign", "context(1)", "Wider", show=True),
        Binding("minus", "context(-1)", "Narrower", show=False),
        Binding("g", "conversation_start", "Start", show=True),
        Binding("h", "toggle_tag('hot')", "Hot", show=True),
        Binding("r", "toggle_tag('responsive')", "Resp.", show=True),
        Binding("p", "toggle_tag('privileged')", "Priv.", show=True),
        Binding("t", "custom_tag", "Tag…", show=True),
        Binding("f", "filter", "Filter", show=True),
        Binding("x", "export", "Export", show=True),
        Binding("question_mark,f1", "help", "Help", show=True),
        Binding("q", "quit", "Quit", show=True),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, session: Session, *, blink: bool = True, query: str = "") -> None:
        super().__init__()
        self.session = session
        self.tz = session.matter.tz
        self.blink = blink
        self.initial_query = query
        self.results: Results | None = None
        self.error: DiscoveryError | None = None
        """The last search's error, if it failed."""
        self.index = 0
        self.context = DEFAULT_CONTEXT
        self.at_start = False
        self.filters = Filters()
        self.generation = 0
        self.exported: tuple[Path, int] | None = None
        self.sub_title = f"matter {session.name}"

    # --- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield QueryBar(blink=self.blink, id="querybar")
        yield Static("", id="totals")
        yield HitTable(self.tz, id="hits")
        yield ConversationPane(self.tz, id="conversation")
        yield Footer()

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
        self._show_totals()
        if self.initial_query:
            self.query_bar.input.value = self.initial_query
            self.run_search(self.initial_query)
        else:
            self.query_bar.input.focus()

    def on_resize(self) -> None:
        if self.table.needs_columns(self.size.width):
            self.table.set_columns(self.size.width)
            if self.results:
                self.table.add_hits(self.results.hits, 0)
                self.table.move_cursor(row=self.index, animate=False)

    # --- searching ---------------------------------------------------------------------
    def on_query_bar_submitted(self, event: QueryBar.Submitted) -> None:
        self.run_search(event.query)

    def run_search(self, text: str) -> None:
        """Search ``text`` (ANDed with the filter) in the background."""
        try:
            query = combine(text, self.filters.query())
        except DiscoveryError as exc:
            self._search_failed(self.generation, exc)
            return
        if not query:
            self.query_bar.show_error(None)
            return
        self.generation += 1
        self.query_one("#totals", Static).update(Text("searching…", "dim italic"))
        self._search(query, self.generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group="search")
    def _search(self, query: str, generation: int) -> None:
        try:
            results = self.session.search(query)
        except DiscoveryError as exc:
            self.call_from_thread(self._search_failed, generation, exc)
            return
        self.call_from_thread(self._show_results, generation, results)

    def _search_failed(self, generation: int, exc: DiscoveryError) -> None:
        if generation != self.generation:
            return
        self.error = exc
        self.query_bar.show_error(exc)
        self._show_totals()

    def _show_results(self, generation: int, results: Results) -> None:
        if generation != self.generation:
            return
        self.error = None
        self.query_bar.show_error(None)
        self.results = results
        self.index = 0
        self.at_start = False
        self._audit_warning(results.audit_error)
        table = self.table
        table.clear()
        table.add_hits(results.hits, 0)
        self._show_totals()
        if results.hits:
            table.move_cursor(row=0, animate=False)
            table.focus()
            self._show_conversation()
        else:
            self.pane.clear("No hits.")

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
            if res.partial and res.view is not None:
                note = "ingest in progress" if res.view.writer else "index incomplete"
                parts.append((f"  {note}: hits so far", "bold yellow"))
        parts.append(f"  context ±{self.context}")
        if not self.filters.is_empty():
            parts.append(("  filter: ", "dim"))
            parts.append((self.filters.query(), "yellow"))
        self.query_one("#totals", Static).update(Text.assemble(*parts))

    # --- the current hit ---------------------------------------------------------------
    @property
    def hit(self) -> Hit | None:
        r = self.results
        if r is None or not r.hits or self.index >= len(r.hits):
            return None
        return r.hits[self.index]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.results is None or event.cursor_row < 0:
            return
        self.index = event.cursor_row
        self.at_start = False
        self._ensure_loaded(self.index + 1)
        self._show_conversation()
        self._show_totals()

    def on_hit_table_near_end(self, event: HitTable.NearEnd) -> None:
        if self.results is not None:
            self._ensure_loaded(len(self.results.hits))

    def _ensure_loaded(self, index: int) -> None:
        """Load pages of hits through ``index`` into the table (the next page, near the end)."""
        r = self.results
        if r is None or r.complete or index < len(r.hits) - 5:
            return
        before = len(r.hits)
        self.session.load_through(r, index + 5)
        self.table.add_hits(r.hits[before:], before)

    def _show_conversation(self) -> None:
        hit = self.hit
        r = self.results
        if hit is None or r is None:
            return
        mid = hit.message.id
        messages, marks = self.session.context(mid, self.context, r.node, from_start=self.at_start)
        note = "from the start of the conversation (g: back to the hit)" if self.at_start else ""
        self.pane.show(messages, mid, marks, note=note, to_top=self.at_start)

    def _go(self, index: int) -> None:
        r = self.results
        if r is None or not r.total:
            return
        index = max(0, min(r.total - 1, index))
        self._ensure_loaded(index)
        self.table.move_cursor(row=index, animate=False)

    # --- actions -----------------------------------------------------------------------
    def action_focus_query(self) -> None:
        self.query_bar.input.focus()

    def action_next_hit(self) -> None:
        self._go(self.index + 1)

    def action_prev_hit(self) -> None:
        self._go(self.index - 1)

    def action_next_in_conversation(self) -> None:
        self._same_conversation(1)

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

    def action_context(self, step: int) -> None:
        now = CONTEXT_STEPS.index(self.context) if self.context in CONTEXT_STEPS else 3
        self.context = CONTEXT_STEPS[max(0, min(len(CONTEXT_STEPS) - 1, now + step))]
        self._show_conversation()
        self._show_totals()

    def action_conversation_start(self) -> None:
        if self.hit is None:
            return
        self.at_start = not self.at_start
        self._show_conversation()

    def action_toggle_tag(self, tag: str) -> None:
        hit = self.hit
        if hit is None:
            self.notify("No hit to tag: search first.", severity="warning", timeout=3)
            return
        on = tag not in hit.message.tags
        try:
            tags, problem = self.session.set_tag(hit.message.id, tag, on)
        except DiscoveryError as exc:  # the store busy past its timeout, a full disk
            self.notify(visible(str(exc)), severity="error", timeout=8)
            return
        self._replace_tags(tags)
        self.notify(f"{hit.message.control} {'tagged' if on else 'untagged'} {tag}", timeout=2)
        self._audit_warning(problem)

    def _audit_warning(self, problem: str | None) -> None:
        """Tell the reviewer an action was done but not logged (PRODUCT.md §6)."""
        if problem:
            self.notify(f"Warning: {problem}", severity="error", timeout=10)

    def _replace_tags(self, tags: tuple[str, ...]) -> None:
        r, hit = self.results, self.hit
        if r is None or hit is None:
            return
        message = dataclasses.replace(hit.message, tags=tags)
        r.hits[self.index] = dataclasses.replace(hit, message=message)
        self.table.update_tags(self.index, message)
        self._show_conversation()

    def action_custom_tag(self) -> None:
        hit = self.hit
        if hit is None:
            self.notify("No hit to tag: search first.", severity="warning", timeout=3)
            return

        def done(tag: object) -> None:
            if isinstance(tag, str):
                self.action_toggle_tag(tag)

        self.push_screen(TagScreen(self.session.tag_names(), hit.message.tags), done)

    def action_filter(self) -> None:
        def done(filters: object) -> None:
            if isinstance(filters, Filters):
                self.filters = filters
                self._show_totals()
                self.run_search(self.query_bar.input.value)

        self.push_screen(FilterScreen(self.filters), done)

    def action_export(self) -> None:
        r = self.results
        if r is None or not r.total:
            self.notify("Nothing to export: search first.", severity="warning", timeout=3)
            return

        def done(path: object) -> None:
            if isinstance(path, Path):
                self._export(r, path)

        self.push_screen(ExportScreen(Path(f"{self.session.name}-hits.csv"), r.total), done)

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

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        if key == "escape" and self.focused is self.query_bar.input:
            self.table.focus()


def run(matter_name: str, query: str = "") -> int:
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
