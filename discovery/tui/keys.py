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
from collections import deque
from dataclasses import dataclass

from textual import events

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
