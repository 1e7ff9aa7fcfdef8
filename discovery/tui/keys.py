"""Keys typed while a dialog opens or closes go to the screen that will read them.

Textual hands each key to the widget focused when the app reads it, and the
widget acts on it a moment later. Between pressing ``t`` (``:``, ``f``, ``x``)
and the dialog's input having the focus, keys typed in a burst (``thot⏎``)
were already on their way to the hit list; once the dialog was on top they
reached neither it nor the hits. And between Enter in a dialog and the dialog
closing, the keys after Enter were typed into it.

So the app keeps, for a while, every key it reads:

* from the moment a dialog's key is read (even while a search runs and the
  dialog waits for its hits) until the dialog has the focus: the keys are
  given to it, in the order typed;
* from Enter in a dialog until the dialog has closed (or stayed open with an
  error): the keys go to the review screen, or back to the dialog.

Keys already handed to the review screen's widgets when a dialog's key is read
are taken back when they return to the app unhandled (every key the hit list
does not type into something comes back to the app for its bindings), and put
in their place by the order they were read in. Nothing is acted on the hit list
meanwhile; nothing is dropped.
"""

from __future__ import annotations

import bisect
import functools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen

IN_FLIGHT_KEPT = 1000
"""Keys remembered on their way to a widget (a key a widget keeps is forgotten later)."""


@dataclass(frozen=True, slots=True, order=True)
class HeldKey:
    seq: int
    key: str
    character: str | None

    def event(self) -> events.Key:
        return events.Key(self.key, self.character)


class KeyRouter:
    """Which keys the app keeps back, and in what order it gives them out again."""

    def __init__(self) -> None:
        self._seq = 0
        self._in_flight: deque[tuple[events.Key, int]] = deque(maxlen=IN_FLIGHT_KEPT)
        """Keys handed to a widget, not yet back at the app (those a widget keeps, like the
        letters an input types, are forgotten when a later key comes back)."""
        self.held: list[HeldKey] = []
        self.holding = False
        self.holds = 0
        """How many times holding began (a release asked for an earlier one is ignored)."""

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def hold(self) -> None:
        """Keep every key from now on (and those on their way back) until :meth:`release`."""
        self.holding = True
        self.holds += 1

    def keep(self, event: events.Key, seq: int | None = None) -> None:
        """Keep a key read while holding (``seq``: when it was first read)."""
        bisect.insort(
            self.held, HeldKey(self.next_seq() if seq is None else seq, event.key, event.character)
        )

    def sent(self, event: events.Key, seq: int) -> None:
        """The app handed ``event`` (read as number ``seq``) to a widget."""
        self._in_flight.append((event, seq))

    def returned(self, event: events.Key) -> int | None:
        """A key is back at the app after its widget: when it was read (None: not tracked).

        Keys handed out before it and not back are forgotten: their widget kept them.
        """
        for i, (sent, seq) in enumerate(self._in_flight):
            if sent is event:
                for _ in range(i + 1):
                    self._in_flight.popleft()
                return seq
        return None

    def release(self) -> list[HeldKey]:
        """Stop holding; the kept keys, in the order they were read."""
        self.holding = False
        held, self.held = self.held, []
        return held


class HoldsKeys(App[None]):
    """An app that holds keys for its dialogs (see the module notes).

    Its dialogs' inputs pass keys back while it holds them
    (:class:`discovery.tui.widgets.RoutedInput`), and a dialog calls
    :meth:`release_keys` once it has the focus, or has refused an Enter.
    """

    @dataclass
    class ReleaseKeys(Message):
        """Give out the keys held (posted, so it comes after the keys read before it)."""

        hold: int

    def __init__(self) -> None:
        super().__init__()
        self.keys = KeyRouter()
        self._priority_keys = {
            k
            for b in self.BINDINGS
            if isinstance(b, Binding) and b.priority
            for k in b.key.split(",")
        }
        """Keys never held (ctrl+q quits whatever is opening)."""

    @property
    def holding_keys(self) -> bool:
        return self.keys.holding

    def hold_keys(self) -> None:
        """Keep every key read from now on (and those on their way) until :meth:`release_keys`."""
        self.keys.hold()

    def release_keys(self) -> None:
        """Give the held keys, in their order, to whatever reads keys once this is read."""
        if self.keys.holding:
            self.post_message(self.ReleaseKeys(self.keys.holds))

    def open_dialog(self, dialog: ModalScreen[Any], done: Callable[[Any], None]) -> None:
        """Open ``dialog``, which takes the held keys once it shows."""

        def closed(result: Any) -> None:
            self.release_keys()  # read once the screen under the dialog is back on top
            done(result)

        self.push_screen(dialog, closed)

    async def on_holds_keys_release_keys(self, message: ReleaseKeys) -> None:
        if message.hold != self.keys.holds:
            return  # held again since: that hold's own release will come
        for held in self.keys.release():
            await self._hand_out(held.event(), held.seq)

    async def on_event(self, event: events.Event) -> None:
        if (
            isinstance(event, events.Key)
            and not event.is_forwarded
            and event.key not in self._priority_keys
        ):
            seq = self.keys.next_seq()
            if self.keys.holding:
                self.keys.keep(event, seq)
                return
            await self._hand_out(event, seq)
            return
        await super().on_event(event)

    async def _hand_out(self, event: events.Key, seq: int) -> None:
        """Give a key to the focused widget (Textual's own routing), remembering it."""
        await super().on_event(event)
        if event.is_forwarded:
            self.keys.sent(event, seq)

    def on_key(self, event: events.Key) -> None:
        """A key back from the widget it was given to, for the bindings."""
        seq = self.keys.returned(event)
        if self.keys.holding:  # for a dialog that opens or closes: not for these bindings
            self.keys.keep(event, seq)
            event.stop()
            event.prevent_default()


A = TypeVar("A", bound=Callable[..., None])


def opens_dialog(action: A) -> A:
    """An action that opens a dialog: keys typed from its key on wait for the dialog
    (while a search runs, it opens on the search's hits). Each way through it either
    opens a dialog with :meth:`HoldsKeys.open_dialog` or calls ``release_keys``."""

    @functools.wraps(action)
    def run(self: HoldsKeys, *args: Any) -> None:
        self.hold_keys()
        action(self, *args)

    return run  # type: ignore[return-value]
