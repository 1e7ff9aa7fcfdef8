"""The review screen's panes: query bar, text lines, footer, conversation pane (the hit
list is in :mod:`discovery.tui.hittable`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Static

from discovery.errors import DiscoveryError, QuerySyntaxError
from discovery.model import UNDATED_TEXT, Message
from discovery.safetext import visible
from discovery.search import parse_query
from discovery.tui.conversation import Marks, conversation_lines


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
        """Show an error under the query, or none (nothing is redrawn when that is what
        is shown already: every search clears it)."""
        shown = self.query_one("#query-error", Static)
        if exc is None and not self.error_message and not shown.display:
            return
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


def detail_text(m: Message, tz: tzinfo, family: Sequence[Message] = ()) -> Text:
    """The hit's facts on one (folding) line: control number, full time, custodians,
    sources, attachments, its family (``a`` jumps along it) and tags."""
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
        *family_parts(m, family),
        *part("tags", ", ".join(m.tags) or "none"),
    )


def family_parts(m: Message, family: Sequence[Message]) -> list[tuple[str, str] | str]:
    """For a family member: what it is (OCR and its confidence); for any family: its
    members, the one shown marked ``*``."""
    out: list[tuple[str, str] | str] = []
    f = m.family
    if f is not None:
        ocr = "" if not f.ocr else f", OCR text (confidence {f.ocr_confidence or 0:.0f})"
        out += [
            ("  attachment of ", "dim"),
            f.parent_control,
            visible(f" {f.path}{ocr}", one_line=True),
        ]
    if len(family) > 1:
        names = [
            ("*" if x.id == m.id else "") + x.control + (f" {x.family.name}" if x.family else "")
            for x in family
        ]
        out += [("  family (a: next) ", "dim"), visible(", ".join(names), one_line=True)]
    return out


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
