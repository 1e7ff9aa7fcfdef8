"""The explain pop-up of the review screen: how the query in the bar is read (key ``e``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from discovery.errors import DiscoveryError

if TYPE_CHECKING:
    from discovery.tui.app import ReviewApp


class ExplainScreen(ModalScreen[None]):
    """``discovery explain`` for one query, over the session's matter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,e,q", "app.pop_screen", "Close", show=True),
    ]

    def __init__(self, body: Text | object) -> None:
        super().__init__()
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="explain", classes="dialog"):
            yield Label("Explain (Esc closes)", classes="dialog-title")
            yield Static(self.body)  # type: ignore[arg-type]


def open_explain(app: ReviewApp) -> None:
    """Explain the query in the bar (or say why it cannot be explained) in a pop-up."""
    from discovery.explain import explain
    from discovery.render import explain_view

    query = app.query_bar.input.value.strip()
    if not query:
        app.notify("Type a query first.", severity="warning", timeout=3)
        return
    try:
        body: object = explain_view(explain(app.session.matter, query))
    except DiscoveryError as exc:
        body = Text(str(exc), "bold red")
    app.push_screen(ExplainScreen(body))
