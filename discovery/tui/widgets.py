"""The review screen's panes: query bar, hit table, conversation pane."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message as TextualMessage
from textual.widgets import DataTable, Input, Static

from discovery.errors import DiscoveryError, QuerySyntaxError
from discovery.model import Message
from discovery.render import snippet_text
from discovery.safetext import visible
from discovery.search import Hit, parse_query, snippet
from discovery.tui.conversation import conversation_lines

LIST_SNIPPET_WORDS = 4
"""Words before the first match in a hit-list snippet, so the match shows in a narrow column."""
TAG_LETTERS = {"hot": "H", "responsive": "R", "privileged": "P"}


def error_text(exc: DiscoveryError) -> Text:
    """An error for the screen; a query error with its caret under the bad spot."""
    if isinstance(exc, QuerySyntaxError):
        return Text.assemble(
            (f"column {exc.column + 1}: {exc.message}\n", "bold red"), (exc.caret_lines(), "red")
        )
    return Text(visible(str(exc)), style="bold red")


class QueryBar(Vertical):
    """The query input, its live syntax check and its history (up/down)."""

    @dataclass
    class Submitted(TextualMessage):
        query: str

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Older query", show=False),
        Binding("down", "history(1)", "Newer query", show=False),
    ]

    def __init__(self, *, blink: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history: list[str] = []
        self._pos = 0
        self._blink = blink
        self.error_message = ""
        """The error shown under the query (with its caret lines), or ''."""

    def compose(self) -> ComposeResult:
        query = Input(
            placeholder='query, e.g. "ask forgiveness" w/5 permission   (Enter to search)',
            id="query",
        )
        query.cursor_blink = self._blink
        yield query
        yield Static("", id="query-error")

    @property
    def input(self) -> Input:
        return self.query_one("#query", Input)

    def show_error(self, exc: DiscoveryError | None) -> None:
        shown = self.query_one("#query-error", Static)
        self.error_message = "" if exc is None else str(exc)
        shown.update(error_text(exc) if exc else "")
        shown.display = exc is not None

    def on_mount(self) -> None:
        self.show_error(None)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        text = event.value
        if not text.strip():
            self.show_error(None)
            return
        try:
            parse_query(text)
        except DiscoveryError as exc:
            self.show_error(exc)
        else:
            self.show_error(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._pos = len(self.history)
        self.post_message(self.Submitted(text))

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._pos = max(0, min(len(self.history), self._pos + step))
        value = self.history[self._pos] if self._pos < len(self.history) else ""
        self.input.value = value
        self.input.cursor_position = len(value)


class HitTable(DataTable[Text | str]):
    """One row per hit; asks for the next page when the cursor nears the end."""

    @dataclass
    class NearEnd(TextualMessage):
        pass

    WIDE = 120

    def __init__(self, tz: tzinfo, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.tz = tz
        self._wide: bool | None = None

    def set_columns(self, width: int) -> None:
        """(Re)build the columns for a screen ``width`` wide; rows are cleared."""
        wide = width >= self.WIDE
        self._wide = wide
        self.clear(columns=True)
        time_w, conv_w, speaker_w = (19, 20, 16) if wide else (11, 12, 10)
        fixed = 12 + time_w + conv_w + speaker_w + 3
        snippet_w = max(10, width - fixed - 2 * 6 - 3)
        self.add_column("control", width=12, key="control")
        self.add_column("time", width=time_w, key="time")
        self.add_column("conversation", width=conv_w, key="conversation")
        self.add_column("speaker", width=speaker_w, key="speaker")
        self.add_column("tag", width=3, key="tags")
        self.add_column("snippet", width=snippet_w, key="snippet")

    def needs_columns(self, width: int) -> bool:
        return self._wide is None or self._wide != (width >= self.WIDE)

    def add_hits(self, hits: Sequence[Hit], start: int) -> None:
        for n, hit in enumerate(hits, start):
            self.add_row(*self.cells(hit), key=str(n))

    def cells(self, hit: Hit) -> list[Text | str]:
        m = hit.message
        local = m.sent_at.astimezone(self.tz)
        when = local.strftime("%Y-%m-%d %H:%M:%S" if self._wide else "%m-%d %H:%M")
        words = LIST_SNIPPET_WORDS if self._wide else 1
        short = snippet(m, hit.positions, words) if hit.positions else hit.snippet
        return [
            Text(m.control, "cyan"),
            when,
            Text(
                visible(m.conversation, one_line=True), "green", no_wrap=True, overflow="ellipsis"
            ),
            Text(visible(m.speaker, one_line=True), "bold", no_wrap=True, overflow="ellipsis"),
            Text(tag_letters(m), "bold yellow"),
            snippet_text(short),
        ]

    def update_tags(self, index: int, message: Message) -> None:
        self.update_cell(str(index), "tags", Text(tag_letters(message), "bold yellow"))

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self.row_count and new + self.size.height >= self.row_count - 5:
            self.post_message(self.NearEnd())


def tag_letters(m: Message) -> str:
    """H, R, P for the built-in tags, + for any other."""
    letters = "".join(TAG_LETTERS[t] for t in ("hot", "responsive", "privileged") if t in m.tags)
    if any(t not in TAG_LETTERS for t in m.tags):
        letters += "+"
    return letters


class ConversationPane(VerticalScroll):
    """The selected hit in its conversation; scrolls the hit into view."""

    def __init__(self, tz: tzinfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.focus_id: int | None = None
        self.message_ids: list[int] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("Type a query and press Enter. Press ? for the keys.", "dim"), id="body")

    def show(
        self,
        messages: Sequence[Message],
        focus: int,
        marks: dict[int, list[tuple[int, int]]],
        *,
        note: str = "",
        to_top: bool = False,
    ) -> None:
        lines, at = conversation_lines(messages, focus, self.tz, marks, note=note)
        self.focus_id = focus
        self.message_ids = [m.id for m in messages]
        body = self.query_one("#body", Static)
        body.update(Text("\n").join(lines))
        if to_top:
            self.scroll_home(animate=False)
            return
        width = max(20, self.scrollable_content_region.width)
        rows = sum(len(line.wrap(self.app.console, width)) for line in lines[:at])
        self.scroll_to(y=max(0, rows - 2), animate=False)

    def clear(self, note: str) -> None:
        self.focus_id = None
        self.message_ids = []
        self.query_one("#body", Static).update(Text(note, "dim"))
