"""Rich renderables shared by the CLI and the review screen. Nothing here prints.

Every string from evidence (names, paths, texts) is shown through
:func:`discovery.safetext.visible` and as a rich ``Text``, never parsed as
markup: ``[python-dev]`` shows as typed, and an escape sequence in a message
shows as ``␛[...`` instead of reaching the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from discovery.model import Message, control_number
from discovery.safetext import visible
from discovery.search import Hit, SearchResult, Snippet
from discovery.text import tokenize

if TYPE_CHECKING:  # importing ingest loads every importer; the type is all we need
    from discovery.ingest import IngestReport
    from discovery.store import StoredReport

HIGHLIGHT = "bold black on yellow"


def local_time(dt: datetime, tz: tzinfo) -> str:
    """``2023-03-04 18:05:09 EST``: a time as shown to reviewers, in the display zone."""
    local = dt.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "")


def evidence(text: str, style: str = "") -> Text:
    """One evidence string (a name, a path) on one line: controls visible, no markup."""
    return Text(visible(text, one_line=True), style)


def shown_text(text: str, spans: Iterable[tuple[int, int]] = (), *, one_line: bool = False) -> Text:
    """Evidence text with ``spans`` (offsets into ``text``) highlighted, controls visible.

    Made visible piece by piece, so a highlight stays on its word even where a
    control character before it is shown as several characters.
    """
    out = Text()
    pos = 0
    for start, end in sorted(spans):
        if start < pos or end <= start:
            continue
        out.append(visible(text[pos:start], one_line=one_line))
        out.append(visible(text[start:end], one_line=one_line), HIGHLIGHT)
        pos = end
    out.append(visible(text[pos:], one_line=one_line))
    return out


def snippet_text(snippet: Snippet) -> Text:
    text = shown_text(snippet.text, snippet.highlights, one_line=True)
    if snippet.version:
        text = Text.assemble(Text(f"[earlier version {snippet.version}] ", "dim italic"), text)
    return text


def hit_spans(hit: Hit) -> list[tuple[int, int]]:
    """(start, end) offsets of the hit's matched words in its current text."""
    return [(t.start, t.end) for t in tokenize(hit.message.text) if t.pos in hit.positions]


def marked_text(text: str, spans: Iterable[tuple[int, int]]) -> Text:
    """A message text (line breaks kept) with its matched words highlighted."""
    return shown_text(text, spans)


def summary_line(result: SearchResult, shown: int) -> str:
    s = "" if result.total == 1 else "s"
    line = (
        f"{result.total} message{s} in {result.conversations} conversation"
        f"{'' if result.conversations == 1 else 's'}, {result.custodians} custodian"
        f"{'' if result.custodians == 1 else 's'}"
    )
    if shown < result.total:
        line += f" (showing {shown}; --all shows every hit)"
    return line


WIDE = 120
"""From this terminal width on, hits are shown as a table; below it, as a list."""


def hits_view(hits: Sequence[Hit], tz: tzinfo, width: int) -> RenderableType:
    """A table of hits on a wide terminal, a two-line-per-hit list on a narrow one."""
    return hits_table(hits, tz) if width >= WIDE else hits_list(hits, tz)


def hits_table(hits: Sequence[Hit], tz: tzinfo) -> Table:
    table = Table(expand=True, pad_edge=False)
    table.add_column("control", no_wrap=True, style="cyan")
    table.add_column("time", no_wrap=True)
    table.add_column("conversation", overflow="fold", max_width=22)
    table.add_column("speaker", overflow="fold", max_width=18)
    table.add_column("snippet", ratio=1)
    for hit in hits:
        m = hit.message
        table.add_row(
            m.control,
            local_time(m.sent_at, tz),
            evidence(m.conversation),
            Text.assemble(evidence(m.speaker), flags(m)),
            snippet_text(hit.snippet),
        )
    return table


def hits_list(hits: Sequence[Hit], tz: tzinfo) -> Group:
    """Each hit as a heading line (control, time, conversation, speaker) and its snippet.

    A list rather than a table keeps snippets readable in an 80-column terminal.
    """
    lines: list[RenderableType] = []
    for hit in hits:
        m = hit.message
        lines.append(
            Text.assemble(
                (m.control, "cyan"),
                "  ",
                local_time(m.sent_at, tz),
                "  ",
                evidence(m.conversation, "green"),
                "  ",
                evidence(m.speaker, "bold"),
                (flags(m), "dim"),
            )
        )
        body = snippet_text(hit.snippet)
        body.pad_left(4)
        lines.append(body)
    return Group(*lines)


def flags(m: Message) -> str:
    out = []
    if m.system:
        out.append("system")
    if m.edited:
        out.append("edited")
    if m.deleted:
        out.append("deleted")
    if m.attachments:
        out.append(f"{len(m.attachments)} attachment{'s' if len(m.attachments) > 1 else ''}")
    return f" [{', '.join(out)}]" if out else ""


def conversation_view(
    messages: Sequence[Message],
    focus: int,
    tz: tzinfo,
    marks: dict[int, Sequence[tuple[int, int]]] | None = None,
) -> RenderableType:
    """Messages in conversation order; ``focus`` is marked, query matches highlighted."""
    marks = marks or {}
    lines: list[RenderableType] = []
    if messages:
        first = messages[0]
        lines.append(
            Text.assemble(
                evidence(first.conversation), f"  ({visible(first.platform, one_line=True)})",
                style="bold underline",
            )
        )  # fmt: skip
    day = None
    for m in messages:
        local = m.sent_at.astimezone(tz)
        if local.date() != day:
            day = local.date()
            lines.append(Text(f"── {day.isoformat()} ──", style="dim"))
        arrow = "▶ " if m.id == focus else "  "
        thread = f" ↳ reply to {_ctrl(m.thread_root)}" if m.thread_root else ""
        head = Text.assemble(
            (arrow, "bold magenta"),
            (m.control, "cyan"),
            " ",
            local.strftime("%H:%M:%S"),
            " ",
            evidence(m.speaker, "bold" if m.id == focus else ""),
            (thread + flags(m), "dim"),
        )
        lines.append(head)
        for line in marked_text(m.text, marks.get(m.id, ())).split("\n"):
            line.pad_left(4)  # every line of the text, so none passes for a heading
            lines.append(line)
        for i, prior in enumerate(reversed(m.versions), 1):
            lines.append(Text(f"    (earlier version {i}) {visible(prior)}", style="dim"))
    return Group(*lines)


def _ctrl(mid: int | None) -> str:
    return control_number(mid) if mid else ""


def ingest_table(report: IngestReport) -> Table:
    """One row per source; the path last, so it keeps the width a terminal has left."""
    table = Table(title="Ingest report", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for col in ("status", "format", "added", "dupes", "system", "problems"):
        table.add_column(
            col, justify="left" if col in ("status", "format") else "right", no_wrap=True
        )
    table.add_column("source", overflow="fold")
    for s in report.sources:
        table.add_row(
            s.status,
            s.format,
            str(s.added),
            str(s.duplicates),
            str(s.system),
            str(len(s.problems)),
            evidence(s.path),
        )
    return table


def already_imported_lines(report: IngestReport) -> list[str]:
    """For each source imported before whose stored report holds problems, a reminder."""
    return [
        visible(
            f"{s.path}: already imported ({s.recorded_problems} problem"
            f"{'' if s.recorded_problems == 1 else 's'} recorded; see discovery report)",
            one_line=True,
        )
        for s in report.sources
        if s.status == "already imported" and s.recorded_problems
    ]


def problem_lines(report: IngestReport) -> list[str]:
    """Each problem on one line (a newline in a file name cannot forge another)."""
    return [visible(str(p), one_line=True) for s in report.sources for p in s.problems]


def matters_table(rows: Sequence[tuple[str, dict[str, int], str]]) -> Table:
    """Rows of (matter name, counts, display zone)."""
    table = Table(title="Matters")
    for col in ("matter", "messages", "conversations", "custodians", "sources", "zone"):
        table.add_column(col, justify="left" if col in ("matter", "zone") else "right")
    for name, c, zone in rows:
        table.add_row(
            name,
            str(c["messages"]),
            str(c["conversations"]),
            str(c["custodians"]),
            str(c["sources"]),
            zone,
        )
    return table


def stored_reports_table(reports: Sequence[StoredReport]) -> Table:
    """The stored ingest report of each source: one row each, the path last."""
    table = Table(
        title="Sources and their ingest reports", box=box.SIMPLE_HEAD, pad_edge=False,
        collapse_padding=True,
    )  # fmt: skip
    for col in ("#", "status", "format", "custodian", "zone", "added", "dupes", "problems"):
        right = col in ("#", "added", "dupes", "problems")
        table.add_column(col, justify="right" if right else "left", no_wrap=col != "custodian")
    table.add_column("source", overflow="fold")
    for r in reports:
        rep = r.report
        table.add_row(
            "" if r.id is None else str(r.id),
            evidence(str(rep.get("status", "imported"))),
            evidence(r.format),
            evidence(r.custodian),
            evidence(r.tz),
            str(rep.get("added", "")),
            str(rep.get("duplicates", "")),
            str(len(rep.get("problems", []))),
            evidence(r.path),
        )
    return table


def stored_problem_lines(reports: Sequence[StoredReport]) -> list[str]:
    """Every recorded problem of every source, one line each."""
    return [visible(str(p), one_line=True) for r in reports for p in r.report.get("problems", [])]
