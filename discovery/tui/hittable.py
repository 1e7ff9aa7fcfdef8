"""The hit list: one row per hit, each drawn as one line of text.

Textual's ``DataTable`` drew every visible cell of new rows through rich's
padding and wrapping, about a quarter of the time a search took to reach the
screen at 1M messages (docs/BENCHMARKS.md, "Review screen at 1M"). Here a
row's cells are made when the row is first drawn (rows below the fold never
are), cut to their columns' widths and joined into one ``Text``, turned into
segments once and kept until its tags change; the focus moving (which
restyles every row) only lays the new row styles under them again. It looks
like the table it replaces: a header, zebra stripes, a row cursor, a hover row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message as TextualMessage
from textual.scroll_view import ScrollView
from textual.strip import Strip

from discovery.model import UNDATED_TEXT, Message
from discovery.render import snippet_text
from discovery.safetext import visible
from discovery.search import Hit, Snippet
from discovery.text import tokenize

TAG_LETTERS = {"hot": "H", "responsive": "R", "privileged": "P"}
CHARS_PER_WORD_BEFORE = 16
"""Snippet cells per word kept before the first match, so the match shows in the column."""
PADDING = 1
"""Blank cells each side of a cell."""


class HitTable(ScrollView, can_focus=True):
    """One row per hit; asks for the next page when the cursor nears the end.

    The columns follow the width: from 120 cells the full time, conversation
    and speaker; from 100 a short time and both names; below that the
    conversation is left to the detail line and the snippet gets the room. The
    year is shown whenever the hits span more than one year.

    The cursor row is the current hit: :meth:`move_cursor` moves it at once and
    posts :class:`Highlighted`, which the app follows (or ignores, when later
    keys have moved the cursor again by the time it is read).
    """

    @dataclass
    class Highlighted(TextualMessage):
        """The cursor moved to row ``cursor_row``."""

        cursor_row: int

    @dataclass
    class NearEnd(TextualMessage):
        pass

    @dataclass
    class NearStart(TextualMessage):
        """Scrolled up to the first rows (which are not the first hits after a jump)."""

    WIDE = 120
    MEDIUM = 100

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "hit-table--header",
        "hit-table--even-row",
        "hit-table--odd-row",
        "hit-table--cursor",
        "hit-table--hover",
    }

    DEFAULT_CSS = """
    HitTable {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .hit-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .hit-table--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .hit-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .hit-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .hit-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .hit-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .hit-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .hit-table--hover {
            background: $block-hover-background;
        }
    }
    """

    # Moves go through the app, so they reach past the rows loaded so far and wait
    # for a search that is running.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "app.next_hit", "Next", show=False),
        Binding("up", "app.prev_hit", "Prev", show=False),
        Binding("home", "app.first_hit", "First", show=False),
        Binding("end", "app.last_hit", "Last", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("ctrl+home", "to_row(0)", "Top", show=False),
        Binding("ctrl+end", "to_row(-1)", "Bottom", show=False),
    ]

    def __init__(self, tz: tzinfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self._layout: tuple[int, bool] | None = None
        self._snippet_width = 20
        self._columns: list[tuple[str, str, int]] = []
        """(key, label, width) of each column, in order."""
        self._hits: list[Hit] = []
        self._first = 0
        """The place among the hits of the first row's hit (the rows are consecutive hits)."""
        self._plain: dict[int, list[Segment]] = {}
        """Each drawn row's cells cut to their columns, as segments in their own styles."""
        self._lines: dict[tuple[int, str], list[Segment]] = {}
        """Each drawn row's segments, by (row, how it is drawn: even, odd, cursor, hover),
        for the styles of :attr:`_styled`."""
        self._styled: tuple[Style, ...] | None = None
        """The styles the kept rows were drawn with."""
        self.cursor_row = 0
        self.hover_row: int | None = None

    # --- columns and rows --------------------------------------------------------------
    def _tier(self, width: int) -> int:
        return 2 if width >= self.WIDE else 1 if width >= self.MEDIUM else 0

    def set_columns(self, width: int, years: bool = False) -> None:
        """(Re)build the columns for a screen ``width`` wide; rows are cleared."""
        tier = self._tier(width)
        self._layout = (tier, years)
        time_w = 19 if tier == 2 else 16 if years else 11
        names = {2: (20, 16), 1: (14, 12), 0: (0, 10)}[tier]
        widths = [("control", 12), ("time", time_w)]
        if names[0]:
            widths.append(("conversation", names[0]))
        widths += [("speaker", names[1]), ("tags", 3)]
        used = sum(w for _, w in widths) + 2 * (len(widths) + 1) + 2  # padding, scrollbar
        self._snippet_width = max(10, width - used)
        self._columns = [(key, "tag" if key == "tags" else key, w) for key, w in widths]
        self._columns.append(("snippet", "snippet", self._snippet_width))
        self.clear()

    def needs_columns(self, width: int, years: bool = False) -> bool:
        return self._layout != (self._tier(width), years)

    @property
    def row_count(self) -> int:
        return len(self._hits)

    def clear(self) -> None:
        """No rows; the cursor on the first row, scrolled to the top."""
        self._hits.clear()
        self._plain.clear()
        self._lines.clear()
        self.cursor_row = 0
        self.hover_row = None
        self._sized()
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def add_hits(self, hits: Sequence[Hit], start: int) -> None:
        """Rows for ``hits``, the first being hit number ``start`` (its place among the
        hits, the row's key), following the rows there are."""
        first = len(self._hits)
        if not first:
            self._first = start
        elif start != self._first + first:
            raise ValueError(f"hit {start} does not follow the rows (hits {self._first}-)")
        self._hits.extend(hits)
        self._sized()
        self.refresh_lines(first + 1, len(hits))
        if not first and self._hits:
            self.post_message(self.Highlighted(self.cursor_row))  # a first row to be on

    def _sized(self) -> None:
        width = sum(w + 2 * PADDING for _, _, w in self._columns)
        size = Size(width, len(self._hits) + 1)
        if size != self.virtual_size:
            self.virtual_size = size

    def cells(self, hit: Hit) -> list[Text]:
        m = hit.message
        tier, years = self._layout or (0, False)
        local = m.sent_at.astimezone(self.tz)
        fmt = "%Y-%m-%d %H:%M:%S" if tier == 2 else "%Y-%m-%d %H:%M" if years else "%m-%d %H:%M"
        short = lead_trimmed(hit.snippet, max(1, self._snippet_width // CHARS_PER_WORD_BEFORE))
        when = UNDATED_TEXT if m.undated else local.strftime(fmt)
        row = [Text(m.control, "cyan"), Text(when)]
        if tier:
            row.append(_name(m.conversation, "green"))
        row += [_name(m.speaker, "bold"), _tags(m), snippet_text(short)]
        return row

    def get_cell(self, key: str, column: str) -> Text:
        """The cell of the row with ``key`` (its hit's place) in ``column``."""
        return self.cells(self._hits[self._row_of(int(key))])[self._column_index(column)]

    def _row_of(self, index: int) -> int:
        row = index - self._first
        if not 0 <= row < len(self._hits):
            raise KeyError(f"hit {index} is not among the rows")
        return row

    def _column_index(self, column: str) -> int:
        return [key for key, _, _ in self._columns].index(column)

    def update_tags(self, index: int, message: Message) -> None:
        """Show ``message``'s tags in the row of hit ``index``."""
        row = self._row_of(index)
        self._hits[row] = dataclasses.replace(self._hits[row], message=message)
        self._plain.pop(row, None)
        for kind in ("even", "odd", "cursor", "hover"):
            self._lines.pop((row, kind), None)
        self.refresh_line(row + 1)

    # --- the cursor --------------------------------------------------------------------
    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        """Put the cursor on ``row`` (kept among the rows) and scroll it into view."""
        row = max(0, min(row, len(self._hits) - 1))
        old, self.cursor_row = self.cursor_row, row
        if row != old:
            self.refresh_line(old + 1)
            self.refresh_line(row + 1)
            self.post_message(self.Highlighted(row))
        self._scroll_to_cursor(animate)

    @property
    def rows_shown(self) -> int:
        """Rows the list has room for (under its header)."""
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self, animate: bool = False) -> None:
        shown = self.rows_shown
        top = round(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=animate, force=True)
        elif self.cursor_row >= top + shown:
            self.scroll_to(y=self.cursor_row - shown + 1, animate=animate, force=True)

    def action_page(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step * self.rows_shown)

    def action_to_row(self, row: int) -> None:
        self.move_cursor(row=row if row >= 0 else len(self._hits) - 1)

    def _row_at(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return None  # the header, or off the rows
        row = offset.y - 1 + round(self.scroll_y)
        return row if row < len(self._hits) else None

    async def _on_click(self, event: events.Click) -> None:
        row = self._row_at(event)
        if row is not None:
            event.stop()
            self.move_cursor(row=row)

    def _on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover(self._row_at(event))

    def _on_leave(self, event: events.Leave) -> None:
        self._hover(None)

    def _hover(self, row: int | None) -> None:
        if row != self.hover_row:
            for old in (self.hover_row, row):
                if old is not None:
                    self.refresh_line(old + 1)
            self.hover_row = row

    def on_resize(self, event: events.Resize) -> None:
        if self._hits and len(self._hits) < self.rows_shown + 5:
            self.post_message(self.NearEnd())  # room for more rows than were fetched

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self._hits and new + self.size.height >= len(self._hits) - 5:
            self.post_message(self.NearEnd())
        if new < old and new <= 5:
            self.post_message(self.NearStart())

    # --- drawing -----------------------------------------------------------------------
    def render_lines(self, crop: object) -> list[Strip]:  # type: ignore[override]
        styles = (
            self.rich_style,
            *(
                self.get_component_rich_style(f"hit-table--{kind}")
                for kind in ("header", "even-row", "odd-row", "cursor", "hover")
            ),
        )
        if styles != self._styled:  # the focus moved, or the theme changed
            self._styled = styles
            self._lines.clear()
        return super().render_lines(crop)  # type: ignore[arg-type]

    def render_line(self, y: int) -> Strip:
        assert self._styled is not None
        base, header, even, odd, cursor, hover = self._styled
        width = self.size.width
        if y == 0:
            labels = [Text(label) for _, label, _ in self._columns]
            return self._strip(self._styled_as(self._cut(labels), header, Style()), header, width)
        row = y - 1 + round(self.scroll_y)
        if row >= len(self._hits):
            return Strip.blank(width, base)
        zebra = odd if row % 2 else even
        if row == self.cursor_row:
            kind, over = "cursor", cursor
        elif row == self.hover_row:
            kind, over = "hover", hover
        else:
            kind, over = ("odd" if row % 2 else "even"), Style()
        segments = self._lines.get((row, kind))
        if segments is None:
            plain = self._plain.get(row)
            if plain is None:
                plain = self._plain[row] = self._cut(self.cells(self._hits[row]))
            segments = self._lines[(row, kind)] = self._styled_as(plain, zebra + over, over)
        return self._strip(segments, zebra + over, width)

    def _cut(self, cells: Sequence[Text]) -> list[Segment]:
        """A row's cells cut to their columns' widths and padded, as segments."""
        line = Text(no_wrap=True, end="")
        pad = " " * PADDING
        for (_, _, w), cell in zip(self._columns, cells, strict=True):
            shown = cell.copy()
            shown.truncate(w, pad=True)
            line.append(pad)
            line.append_text(shown)
            line.append(pad)
        return list(line.render(self.app.console))

    @staticmethod
    def _styled_as(segments: list[Segment], style: Style, over: Style) -> list[Segment]:
        """Segments over ``style``, the cursor's colour laid over the cells' own (as
        Textual's table does)."""
        post = Style.from_color(color=over.color) if over.color else None
        return list(Segment.apply_style(segments, style, post))

    def _strip(self, segments: list[Segment], style: Style, width: int) -> Strip:
        x = round(self.scroll_x)
        strip = Strip(segments).extend_cell_length(x + width, style)
        return strip.crop(x, x + width) if x else strip.adjust_cell_length(width, style)


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


def _tags(m: Message) -> Text:
    return Text(tag_letters(m), "bold yellow")


def tag_letters(m: Message) -> str:
    """H, R, P for the built-in tags, + for any other."""
    letters = "".join(TAG_LETTERS[t] for t in ("hot", "responsive", "privileged") if t in m.tags)
    if any(t not in TAG_LETTERS for t in m.tags):
        letters += "+"
    return letters
