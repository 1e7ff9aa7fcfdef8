"""The conversation pane's content: a hit among its neighbours, as a rich renderable.

Like :func:`discovery.render.conversation_view`, with what a reviewer reading
for a while needs on top: each speaker in a colour of their own (the same
colour wherever they appear), the hit set off with a bar, thread replies
indented under a "reply to" marker, and the day written out at each boundary
in the display zone. Query matches are highlighted in each version of a
message where they are, earlier versions of an edited message included.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from datetime import tzinfo

from rich.console import Group, RenderableType
from rich.text import Text

from discovery.model import UNDATED_TEXT, Message, control_number
from discovery.render import flags, marked_text
from discovery.safetext import visible

SPEAKER_STYLES = (
    "bold cyan",
    "bold green",
    "bold magenta",
    "bold blue",
    "bold yellow",
    "bold red",
    "bold bright_cyan",
    "bold bright_green",
    "bold bright_magenta",
    "bold bright_blue",
)
FOCUS_BAR = "▌"


def speaker_style(speaker_id: str) -> str:
    """A colour per speaker, the same in every window and every run."""
    return SPEAKER_STYLES[zlib.crc32(speaker_id.encode()) % len(SPEAKER_STYLES)]


Marks = Mapping[int, Mapping[int, Sequence[tuple[int, int]]]]
"""Message id -> version (0 the current text, n the n-th earlier one) -> (start, end)
offsets of the query's matches in that text (:func:`discovery.render.version_spans`)."""


def conversation_pane(
    messages: Sequence[Message],
    focus: int,
    tz: tzinfo,
    marks: Marks | None = None,
    *,
    note: str = "",
) -> RenderableType:
    """Messages in conversation order, ``focus`` set off, query matches highlighted."""
    return Group(*conversation_lines(messages, focus, tz, marks, note=note)[0])


def conversation_lines(
    messages: Sequence[Message],
    focus: int,
    tz: tzinfo,
    marks: Marks | None = None,
    *,
    note: str = "",
) -> tuple[list[Text], int]:
    """The pane's lines, and the index of the focused message's first line (0 if absent).

    Args:
        note: a line under the heading (e.g. "from the start of the conversation").
    """
    marks = marks or {}
    lines: list[Text] = []
    focus_line = 0
    if not messages:
        return [Text("(no message)", style="dim")], 0
    first = messages[0]
    lines.append(
        Text.assemble(
            (visible(first.conversation, one_line=True), "bold underline"),
            f"  ({visible(first.platform, one_line=True)})",
        )
    )
    if note:
        lines.append(Text(note, style="dim italic"))
    day = None
    for m in messages:
        local = m.sent_at.astimezone(tz)
        if local.date() != day:
            day = local.date()
            shown = f"{local.strftime('%A %Y-%m-%d')} ({local.tzname()})"
            shown = UNDATED_TEXT if m.undated else shown
            lines.append(Text(f"──── {shown} ────", style="dim"))
        focused = m.id == focus
        bar = (FOCUS_BAR, "bold magenta") if focused else (" ", "")
        indent = "    " if m.thread_root and m.thread_root != m.id else ""
        head = Text.assemble(
            bar,
            indent,
            (m.control, "cyan"),
            " ",
            "--:--:--" if m.undated else local.strftime("%H:%M:%S"),
            " ",
            (visible(m.speaker, one_line=True), speaker_style(m.speaker_id)),
        )
        if indent:
            head.append(f" ↳ reply to {control_number(m.thread_root or 0)}", "dim")
        mark = flags(m)
        if mark:
            head.append(mark, "italic red" if m.deleted else "dim")
        if m.tags:
            head.append(visible(" #" + " #".join(m.tags), one_line=True), "bold yellow")
        if focused:
            focus_line = len(lines)
        lines.append(head)
        spans = marks.get(m.id, {})
        body = marked_text(m.text or "(no text)", spans.get(0, ()))
        if m.system or m.deleted:
            body.stylize("dim italic")
        for line in body.split("\n"):
            lines.append(Text.assemble(bar, indent, "   ", line))
        for i, prior in enumerate(m.versions, 1):
            lines.append(
                Text.assemble(
                    bar, indent, "   ", (f"(earlier version {i}) ", "dim"),
                    _earlier(prior, spans.get(i, ())),
                )
            )  # fmt: skip
    return lines, focus_line


def _earlier(text: str, spans: Sequence[tuple[int, int]]) -> Text:
    """An earlier version on one dim line, its matches highlighted as in the current text."""
    out = marked_text(text, spans, one_line=True)
    marked = [(span.start, span.end) for span in out.spans]
    out.style = "dim"
    for start, end in marked:
        out.stylize("not dim", start, end)
    return out
