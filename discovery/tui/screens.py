"""Pop-up screens over the review screen: help, tag, description, filter, export."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from discovery.errors import DiscoveryError
from discovery.family_store import internal_row, is_member_number, resolve
from discovery.model import parse_control_number
from discovery.tags import normalise_tag
from discovery.tui.session import Filters
from discovery.tui.widgets import DialogInput

MAX_MESSAGE_ID = 2**63 - 1


class HelpScreen(ModalScreen[None]):
    """Every key of the review screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q,f1", "app.pop_screen", "Close", show=True),
    ]

    def __init__(self, keys: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, what in self.keys:
            table.add_row(key, what)
        with Vertical(id="help", classes="dialog"):
            yield Label("Keys (Esc closes)", classes="dialog-title")
            yield Static(table)


class _Dialog(ModalScreen[object]):
    """A small form: Enter accepts, Esc cancels, errors shown in place.

    Keys typed before it showed, and after an Enter it refused, are given to its
    input once it has the focus (the app held them: :mod:`discovery.tui.keys`).
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=True)]

    def on_mount(self) -> None:
        first = self.query(Input).first()
        first.focus()
        self._release_keys()

    def _release_keys(self) -> None:
        release = getattr(self.app, "release_keys", None)
        if release is not None:
            release()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def show_error(self, exc: DiscoveryError) -> None:
        self.query_one(".dialog-error", Static).update(Text(str(exc), "bold red"))
        self._release_keys()


class TagScreen(_Dialog):
    """Ask for a tag name; toggles it on the current hit."""

    def __init__(self, known: Sequence[str], current: Sequence[str]) -> None:
        super().__init__()
        self.known = known
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="tag", classes="dialog"):
            yield Label("Tag this hit (Enter toggles the tag, Esc cancels)", classes="dialog-title")
            yield DialogInput(placeholder="tag name, e.g. follow-up", id="tag-name")
            yield Static(
                Text.assemble(("known: ", "dim"), ", ".join(self.known) or "none"),
                id="tag-known",
            )
            yield Static(
                Text.assemble(("on this hit: ", "dim"), ", ".join(self.current) or "none"),
                id="tag-current",
            )
            yield Static("", classes="dialog-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            self.dismiss(normalise_tag(event.value))
        except DiscoveryError as exc:
            self.show_error(exc)


class DescriptionScreen(_Dialog):
    """Ask for the privilege description of the current hit (the privilege log's column)."""

    def __init__(self, control: str, current: str) -> None:
        super().__init__()
        self.control = control
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="description", classes="dialog"):
            yield Label(
                f"Privilege description of {self.control} (Enter stores it, empty removes it,"
                " Esc cancels)",
                classes="dialog-title",
            )
            hint = "e.g. Legal advice on data licensing"
            yield DialogInput(self.current, placeholder=hint, id="description-text")
            yield Static("", classes="dialog-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)


class FilterScreen(_Dialog):
    """Speaker, conversation, custodian and date range, ANDed to the query."""

    FIELDS = (
        ("speaker", "speaker", "name or id, e.g. dana whitfield"),
        ("conversation", "conversation", "e.g. legal-review"),
        ("custodian", "custodian", "e.g. smith"),
        ("date_from", "from", "YYYY-MM-DD (included)"),
        ("date_to", "to", "YYYY-MM-DD (included)"),
    )

    def __init__(self, current: Filters) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="filter", classes="dialog"):
            yield Label("Filter the hits (Enter applies, Esc cancels)", classes="dialog-title")
            for attr, label, hint in self.FIELDS:
                with Horizontal(classes="field"):
                    yield Label(label, classes="field-label")
                    yield DialogInput(
                        value=getattr(self.current, attr), placeholder=hint, id=f"f-{attr}"
                    )
            yield Static("", classes="dialog-error")
            with Horizontal(classes="buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Clear", id="clear")

    def values(self) -> Filters:
        return Filters(
            **{attr: self.query_one(f"#f-{attr}", Input).value for attr, _, _ in self.FIELDS}
        )

    def apply(self) -> None:
        filters = self.values()
        try:
            filters.query()
        except DiscoveryError as exc:
            self.show_error(exc)
            return
        self.dismiss(filters)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "clear":
            self.dismiss(Filters())
        else:
            self.apply()


class ExportScreen(_Dialog):
    """Ask where to write the hit set as CSV; a file that exists is overwritten only
    after a second Enter on the same name."""

    def __init__(self, default: Path, total: int) -> None:
        super().__init__()
        self.default = default
        self.total = total
        self.confirmed: Path | None = None
        """The existing file the reviewer was warned about (Enter again overwrites it)."""

    def compose(self) -> ComposeResult:
        s = "" if self.total == 1 else "s"
        with Vertical(id="export", classes="dialog"):
            yield Label(
                f"Export {self.total} hit{s} as CSV (Enter writes, Esc cancels)",
                classes="dialog-title",
            )
            yield DialogInput(value=str(self.default), id="export-path")
            yield Static("", classes="dialog-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.show_error(DiscoveryError("give a file name, e.g. hits.csv"))
            return
        path = Path(text).expanduser()
        if path.is_dir():
            self.show_error(DiscoveryError(f"{path} is a folder: give a file name"))
            return
        if path.exists() and path != self.confirmed:
            self.confirmed = path
            self.show_error(
                DiscoveryError(f"{path} exists: Enter again overwrites it, or change the name")
            )
            return
        self.dismiss(path)


class GotoScreen(_Dialog):
    """Ask for a control number to go to."""

    def compose(self) -> ComposeResult:
        with Vertical(id="goto", classes="dialog"):
            yield Label("Go to a message (Enter goes, Esc cancels)", classes="dialog-title")
            yield DialogInput(placeholder="control number, e.g. MSG-00000042 or 42", id="goto-id")
            yield Static("", classes="dialog-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        mid = parse_control_number(text)
        if mid is None and is_member_number(text):
            app = self.app
            mid = resolve(app.session.matter.store.db, text)  # type: ignore[attr-defined]
            if mid is None:
                self.show_error(DiscoveryError(f"no attachment {text} in this matter"))
                return
        if mid is None or mid > MAX_MESSAGE_ID:
            self.show_error(DiscoveryError(f"{event.value.strip()!r} is not a control number"))
            return
        db = self.app.session.matter.store.db  # type: ignore[attr-defined]
        if not is_member_number(text) and (shown := internal_row(db, mid)):
            self.show_error(DiscoveryError(f"no message {text} here (did you mean {shown}?)"))
            return
        self.dismiss(mid)
