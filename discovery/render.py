"""Rich renderables shared by the CLI and the review screen. Nothing here prints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from discovery.model import Message, control_number
from discovery.search import Hit, SearchResult, Snippet
from discovery.text import version_tokens

if TYPE_CHECKING:  # importing ingest loads every importer; the type is all we need
    from discovery.explain import Explanation
    from discovery.ingest import IngestReport

HIGHLIGHT = "bold black on yellow"


def local_time(dt: datetime, tz: tzinfo) -> str:
    """``2023-03-04 18:05:09 EST``: a time as shown to reviewers, in the display zone."""
    local = dt.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "")


def snippet_text(snippet: Snippet) -> Text:
    text = Text(snippet.text)
    for start, end in snippet.highlights:
        text.stylize(HIGHLIGHT, start, end)
    if snippet.version:
        text = Text.assemble(Text(f"[earlier version {snippet.version}] ", "dim italic"), text)
    return text


def hit_spans(hit: Hit) -> list[tuple[int, int]]:
    """(start, end) offsets of the hit's matched words in its current text."""
    return version_spans(hit).get(0, [])


def version_spans(hit: Hit) -> dict[int, list[tuple[int, int]]]:
    """Version (0 current, n the n-th earlier) -> offsets of the matched words in that text."""
    out: dict[int, list[tuple[int, int]]] = {}
    for t in version_tokens(hit.message.searchable_versions()):
        if t.pos in hit.positions:
            out.setdefault(t.version, []).append((t.start, t.end))
    return out


def marked_text(text: str, spans: Iterable[tuple[int, int]]) -> Text:
    out = Text(text)
    for start, end in spans:
        out.stylize(HIGHLIGHT, start, end)
    return out


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
            m.conversation,
            Text(m.speaker + flags(m)),
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
                (m.conversation, "green"),
                "  ",
                (m.speaker, "bold"),
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
    earlier_marks: dict[int, dict[int, Sequence[tuple[int, int]]]] | None = None,
) -> RenderableType:
    """Messages in conversation order; ``focus`` is marked, query matches highlighted.

    ``marks`` are offsets in each message's current text, ``earlier_marks``
    (message id -> version n -> offsets) in its earlier versions, numbered
    oldest first as everywhere (snippets, load files, the review screen).
    """
    marks = marks or {}
    earlier_marks = earlier_marks or {}
    lines: list[RenderableType] = []
    if messages:
        first = messages[0]
        lines.append(Text(f"{first.conversation}  ({first.platform})", style="bold underline"))
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
            (m.speaker, "bold" if m.id == focus else ""),
            (thread + flags(m), "dim"),
        )
        body = marked_text(m.text, marks.get(m.id, ()))
        body.pad_left(4)
        lines.extend([head, body])
        for i, prior in enumerate(m.versions, 1):
            label = Text(f"    (earlier version {i}) ", style="dim")
            label.append_text(marked_text(prior, earlier_marks.get(m.id, {}).get(i, ())))
            lines.append(label)
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
            s.path,
        )
    return table


def problem_lines(report: IngestReport) -> list[str]:
    return [str(p) for s in report.sources for p in s.problems]


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


def explain_view(expl: Explanation) -> RenderableType:
    """An :class:`~discovery.explain.Explanation` as sections of plain text (no markup)."""
    lines: list[RenderableType] = [
        Text.assemble(("query      ", "bold"), expl.query),
        Text.assemble(("canonical  ", "bold"), expl.canonical),
        Text.assemble(("read as    ", "bold"), expl.parenthesized),
        Text(f"hits       {expl.hits}", style="bold"),
    ]
    if expl.typed:
        lines.append(Text("\nwords as typed -> folded terms", style="bold underline"))
        for t in expl.typed:
            lines.append(Text(f"  col {t.column:<3} {t.text}  ->  {'  '.join(t.terms)}"))
    if expl.expansions:
        lines.append(Text("\nexpansions (index word: messages)", style="bold underline"))
        for e in expl.expansions:
            shown = ", ".join(f"{w}: {n}" for w, n in e.words)
            more = f", … {e.word_count - len(e.words)} more" if e.word_count > len(e.words) else ""
            lines.append(
                Text(
                    f"  {e.term} ({e.kind}): {e.word_count} words in {e.messages} messages"
                    + (f" — {shown}{more}" if shown else "")
                )
            )
    lines.append(Text("\nclauses (messages hit)", style="bold underline"))
    for c in expl.clauses:
        lines.append(Text(f"  {'  ' * c.depth}{c.hits:>7}  {c.text}"))
    if expl.warnings:
        lines.append(Text("\nwarnings", style="bold underline"))
        for w in expl.warnings:
            lines.append(Text(f"  ! {w}", style="yellow"))
    return Group(*lines)
