"""The review screen's panes: query bar, hit table, conversation pane."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message as TextualMessage
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Static

from discovery.errors import DiscoveryError, QuerySyntaxError
from discovery.model import UNDATED_TEXT, Message
from discovery.render import snippet_text
from discovery.safetext import visible
from discovery.search import Hit, Snippet, parse_query
from discovery.text import tokenize
from discovery.tui.conversation import Marks, conversation_lines

TAG_LETTERS = {"hot": "H", "responsive": "R", "privileged": "P"}
CHARS_PER_WORD_BEFORE = 16
"""Snippet cells per word kept before the first match, so the match shows in the column."""


def error_text(exc: DiscoveryError) -> Text:
    """An error for the screen; a query error with its caret under the bad spot."""
    if isinstance(exc, QuerySyntaxError):
        return Text.assemble(
            (f"column {exc.column + 1}: {exc.message}\n", "bold red"), (exc.caret_lines(), "red")
        )
    return Text(visible(str(exc)), style="bold red")


class TextLine(Static):
    """A line or two of text on the screen (totals, detail, filter), updated only when
    the text changes.

    Every update lays the whole screen out again; showing the same text again (the
    hit list reports the row a search has just put the cursor on) now costs
    nothing. A ``fixed`` line (its height set in the CSS) is updated without a layout.
    """

    def __init__(self, *, id: str, fixed: bool = False) -> None:
        super().__init__("", id=id)
        self._fixed = fixed
        self._shown: tuple[object, ...] | None = None

    def show(self, text: Text) -> None:
        key = (text.plain, tuple(text.spans), str(text.style))
        if key != self._shown:
            self._shown = key
            self.update(text, layout=not self._fixed)


class RoutedInput(Input):
    """An input that reads every key in the order typed, and passes on the keys it is
    not the one to read.

    Textual's input types a letter when it reads it but moves, deletes and submits
    (its bindings) only once the key has gone up to the app, after the letters
    behind it: ``4x⌫⏎`` submitted ``4x``, and ``libgen⏎j`` typed the ``j``. Here
    the input's own bindings run when it reads the key. Keys that reach it after
    the focus has left it, or while the app holds keys back for a dialog that
    opens or closes (:mod:`discovery.tui.keys`), go back to the app, which gives
    them to whatever reads keys by then.
    """

    async def _on_key(self, event: events.Key) -> None:
        if self.app.focused is not self or getattr(self.app, "holding_keys", False):
            event.stop()
            event.prevent_default()
            self.app.post_message(events.Key(event.key, event.character))
            return
        own = [] if event.is_printable else self._bindings.key_to_bindings.get(event.key, [])
        if own and await self.app.run_action(own[0].action, self):
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)  # a letter, or a key for the bindings further up


class QueryInput(RoutedInput):
    """The query input. Enter hands the focus to the hit list at once, and keys that
    were already on their way to the input when Enter was read go on to the hit list
    in their order, so ``libgen⏎jjh`` types ``libgen`` and acts on the hits with
    ``j j h``."""

    leave_to = "#hits"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Hit list", show=False),
    ]

    def action_leave(self) -> None:
        target = self.screen.query(self.leave_to)
        if target:
            self.screen.set_focus(target.first())

    async def action_submit(self) -> None:
        target = self.screen.query(self.leave_to)
        if target:
            self.screen.set_focus(target.first())
        bar = self.parent
        if isinstance(bar, QueryBar):
            bar.submit(self.value)


class DialogInput(RoutedInput):
    """An input of a dialog: from Enter on, the app holds keys until the dialog has
    closed or said what is wrong, so ``t hot⏎ j`` tags and then moves to the next hit."""

    async def action_submit(self) -> None:
        hold = getattr(self.app, "hold_keys", None)
        if hold is not None:
            hold()
        await super().action_submit()


class QueryBar(Vertical):
    """The query input, its live syntax check and its history (up/down)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Older query", show=False),
        Binding("down", "history(1)", "Newer query", show=False),
    ]

    def __init__(
        self,
        on_submit: Callable[[str], None],
        *,
        blink: bool = True,
        history: Sequence[str] = (),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.on_submit = on_submit
        """Called at once with the query when Enter is read (not through a message, so
        the search starts before any key typed after Enter is handled)."""
        self.history: list[str] = list(history)
        self._pos = len(self.history)
        self._blink = blink
        self.error_message = ""
        """The error shown under the query (with its caret lines), or ''."""

    def compose(self) -> ComposeResult:
        query = QueryInput(
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

    def submit(self, value: str) -> None:
        text = value.strip()
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._pos = len(self.history)
        self.on_submit(text)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._pos = max(0, min(len(self.history), self._pos + step))
        value = self.history[self._pos] if self._pos < len(self.history) else ""
        self.input.value = value
        self.input.cursor_position = len(value)


class HitTable(DataTable[Text | str]):
    """One row per hit; asks for the next page when the cursor nears the end.

    The columns follow the width: from 120 cells the full time, conversation
    and speaker; from 100 a short time and both names; below that the
    conversation is left to the detail line and the snippet gets the room. The
    year is shown whenever the hits span more than one year.
    """

    @dataclass
    class NearEnd(TextualMessage):
        pass

    @dataclass
    class NearStart(TextualMessage):
        """Scrolled up to the first rows (which are not the first hits after a jump)."""

    WIDE = 120
    MEDIUM = 100

    # Moves go through the app, so they reach past the rows loaded so far and wait
    # for a search that is running.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "app.next_hit", "Next", show=False),
        Binding("up", "app.prev_hit", "Prev", show=False),
        Binding("home", "app.first_hit", "First", show=False),
        Binding("end", "app.last_hit", "Last", show=False),
    ]

    def __init__(self, tz: tzinfo, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.tz = tz
        self._layout: tuple[int, bool] | None = None
        self._snippet_width = 20

    def _tier(self, width: int) -> int:
        return 2 if width >= self.WIDE else 1 if width >= self.MEDIUM else 0

    def set_columns(self, width: int, years: bool = False) -> None:
        """(Re)build the columns for a screen ``width`` wide; rows are cleared."""
        tier = self._tier(width)
        self._layout = (tier, years)
        self.clear(columns=True)
        time_w = 19 if tier == 2 else 16 if years else 11
        names = {2: (20, 16), 1: (14, 12), 0: (0, 10)}[tier]
        widths = [("control", 12), ("time", time_w)]
        if names[0]:
            widths.append(("conversation", names[0]))
        widths += [("speaker", names[1]), ("tags", 3)]
        used = sum(w for _, w in widths) + 2 * (len(widths) + 1) + 2  # padding, scrollbar
        self._snippet_width = max(10, width - used)
        for key, w in widths:
            self.add_column("tag" if key == "tags" else key, width=w, key=key)
        self.add_column("snippet", width=self._snippet_width, key="snippet")

    def needs_columns(self, width: int, years: bool = False) -> bool:
        return self._layout != (self._tier(width), years)

    def add_hits(self, hits: Sequence[Hit], start: int) -> None:
        for n, hit in enumerate(hits, start):
            self.add_row(*self.cells(hit), key=str(n))

    def cells(self, hit: Hit) -> list[Text | str]:
        m = hit.message
        tier, years = self._layout or (0, False)
        local = m.sent_at.astimezone(self.tz)
        fmt = "%Y-%m-%d %H:%M:%S" if tier == 2 else "%Y-%m-%d %H:%M" if years else "%m-%d %H:%M"
        short = lead_trimmed(hit.snippet, max(1, self._snippet_width // CHARS_PER_WORD_BEFORE))
        when = UNDATED_TEXT if m.undated else local.strftime(fmt)
        row: list[Text | str] = [Text(m.control, "cyan"), when]
        if tier:
            row.append(_name(m.conversation, "green"))
        row += [_name(m.speaker, "bold"), Text(tag_letters(m), "bold yellow"), snippet_text(short)]
        return row

    def update_tags(self, index: int, message: Message) -> None:
        self.update_cell(str(index), "tags", Text(tag_letters(message), "bold yellow"))

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self.row_count and new + self.size.height >= self.row_count - 5:
            self.post_message(self.NearEnd())
        if new < old and new <= 5:
            self.post_message(self.NearStart())


def lead_trimmed(snip: Snippet, words: int) -> Snippet:
    """The snippet with at most ``words`` words before its first highlight, so the
    match shows at the start of a narrow column and the rest of the width goes to
    what follows it."""
    if not snip.highlights:
        return snip
    first = min(start for start, _ in snip.highlights)
    starts = [t.start for t in tokenize(snip.text[:first])]
    if len(starts) <= words:
        return snip
    cut = starts[-words]
    shift = 1 - cut
    text = "…" + snip.text[cut:]
    marks = tuple((a + shift, b + shift) for a, b in snip.highlights if a >= cut)
    return Snippet(text, marks, snip.version)


def _name(text: str, style: str) -> Text:
    return Text(visible(text, one_line=True), style, no_wrap=True, overflow="ellipsis")


def detail_text(m: Message, tz: tzinfo) -> Text:
    """The hit's facts on one (folding) line: control number, full time, custodians,
    sources, attachments and tags."""
    local = m.sent_at.astimezone(tz)
    when = local.strftime("%a %Y-%m-%d %H:%M:%S ") + (local.tzname() or "")

    def part(label: str, value: str) -> tuple[tuple[str, str], str]:
        return (f"  {label} ", "dim"), visible(value, one_line=True)

    attachments = ", ".join(
        a.name + (f" ({a.size:,} bytes)" if a.size is not None else "") for a in m.attachments
    )
    return Text.assemble(
        (m.control, "bold cyan"),
        " ",
        UNDATED_TEXT if m.undated else when,
        *part("conversation", m.conversation),
        *part("custodians", "; ".join(m.custodians) or "none"),
        *part("source", "; ".join(m.sources) or "unknown"),
        *part("attachments", attachments or "none"),
        *part("tags", ", ".join(m.tags) or "none"),
    )


def tag_letters(m: Message) -> str:
    """H, R, P for the built-in tags, + for any other."""
    letters = "".join(TAG_LETTERS[t] for t in ("hot", "responsive", "privileged") if t in m.tags)
    if any(t not in TAG_LETTERS for t in m.tags):
        letters += "+"
    return letters


class KeysFooter(Footer):
    """Textual's footer, whose keys are shown, hidden or relabelled in place when the
    focus moves; it is composed again only for a key it has not made yet.

    Textual's own composes it anew at every move of the focus (the query bar to
    the hit list at every search, where h, r, p... stop typing letters): a new
    widget per key, styled and laid out, and the whole screen drawn again, a
    good part of the time a search took to reach the screen.
    """

    def _wanted(self, screen: Screen[object]) -> list[tuple[object, ...]]:
        """(action, key, key shown, description, enabled, tooltip) of each key the footer
        shows, in its order (as :meth:`Footer.compose` picks them)."""
        shown: dict[str, tuple[object, ...]] = {}
        bindings = screen.active_bindings
        show = self.app.get_key_display
        for _, b, enabled, tooltip in bindings.values():
            if b.show and b.action not in shown:
                shown[b.action] = (b.action, b.key, show(b), b.description, enabled, tooltip)
        palette = bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if palette and self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            _, b, enabled, _ = palette
            tip = b.tooltip or b.description
            shown[b.action] = (b.action, b.key, show(b), b.description, enabled, tip)
        return list(shown.values())

    def bindings_changed(self, screen: Screen[object]) -> None:
        made = {_key_state(k)[0]: k for k in self.query("FooterKey")}  # Textual's FooterKey
        wanted = self._wanted(screen)
        order = iter(made)
        if not (
            self._bindings_ready
            and all(w[0] in order for w in wanted)
            and all(_key_state(made[w[0]])[4:] == w[4:] for w in wanted)
        ):
            super().bindings_changed(screen)  # a key not made yet: compose again
            return
        by_action = {w[0]: w for w in wanted}
        for action, key in made.items():
            w = by_action.get(action)
            key.display = w is not None
            if w is not None and w[1:4] != _key_state(key)[1:4]:
                key.key, key.key_display, key.description = w[1:4]  # type: ignore[attr-defined]
                key.refresh(layout=True)


def _key_state(key: Widget) -> tuple[object, ...]:
    """What a footer key shows, as :meth:`KeysFooter._wanted` gives it."""
    fields = ("action", "key", "key_display", "description")
    return (
        *(getattr(key, f, None) for f in fields),
        not key.has_class("-disabled"),
        key.tooltip or "",
    )


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
        marks: Marks,
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
