"""Rich renderables shared by the CLI and the review screen. Nothing here prints.

Every string from evidence (names, paths, texts) is shown through
:func:`discovery.safetext.visible` and as a rich ``Text``, never parsed as
markup: ``[python-dev]`` shows as typed, and an escape sequence in a message
shows as ``␛[...`` instead of reaching the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.text import Text

from discovery.model import UNDATED, UNDATED_TEXT, Message, control_number
from discovery.safetext import visible
from discovery.search import Hit, SearchResult, Snippet
from discovery.text import version_tokens

if TYPE_CHECKING:  # importing ingest loads every importer; the type is all we need
    from rich.table import Table

    from discovery.explain import Explanation
    from discovery.ingest import IngestReport
    from discovery.store import StoredReport

HIGHLIGHT = "bold black on yellow"


def local_time(dt: datetime, tz: tzinfo) -> str:
    """``2023-03-04 18:05:09 EST``: a time as shown to reviewers, in the display zone."""
    if dt == UNDATED:
        return UNDATED_TEXT
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
    return version_spans(hit).get(0, [])


def version_spans(hit: Hit) -> dict[int, list[tuple[int, int]]]:
    """Version (0 current, n the n-th earlier) -> offsets of the matched words in that text."""
    out: dict[int, list[tuple[int, int]]] = {}
    for t in version_tokens(hit.message.searchable_versions()):
        if t.pos in hit.positions:
            out.setdefault(t.version, []).append((t.start, t.end))
    return out


def marked_text(text: str, spans: Iterable[tuple[int, int]], *, one_line: bool = False) -> Text:
    """A message text with its matched words highlighted (see :func:`shown_text`)."""
    return shown_text(text, spans, one_line=one_line)


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
    from rich.table import Table  # a list of hits needs none (start-up)

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
    f = m.family
    if f is not None:
        out.append(f"attachment {visible(f.path, one_line=True)} of {f.parent_control}")
        if f.ocr:
            out.append(f"OCR text, confidence {f.ocr_confidence or 0:.0f}")
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
            shown = UNDATED_TEXT if m.undated else day.isoformat()
            lines.append(Text(f"── {shown} ──", style="dim"))
        arrow = "▶ " if m.id == focus else "  "
        thread = f" ↳ reply to {_ctrl(m.thread_root)}" if m.thread_root else ""
        head = Text.assemble(
            (arrow, "bold magenta"),
            (m.control, "cyan"),
            " ",
            "--:--:--" if m.undated else local.strftime("%H:%M:%S"),
            " ",
            evidence(m.speaker, "bold" if m.id == focus else ""),
            (thread + flags(m), "dim"),
        )
        lines.append(head)
        for line in marked_text(m.text, marks.get(m.id, ())).split("\n"):
            line.pad_left(4)  # every line of the text, so none passes for a heading
            lines.append(line)
        for i, prior in enumerate(m.versions, 1):
            label = Text(f"    (earlier version {i}) ", style="dim")
            label.append_text(marked_text(prior, earlier_marks.get(m.id, {}).get(i, ())))
            lines.append(label)
    return Group(*lines)


def _ctrl(mid: int | None) -> str:
    return control_number(mid) if mid else ""


INGEST_FACTS = (
    ("custodian", "custodian", "custodian_defaulted"),
    ("zone", "zone", "zone_defaulted"),
)
"""(header, SourceReport attribute, its "was defaulted" attribute), shown when reported.
How dates were read (``date_order``) is a sentence: it goes in :func:`source_notes`."""


def ingest_table(report: IngestReport, width: int) -> RenderableType:
    """One row per source, fitted to ``width``.

    The custodian, zone and path come last; when they do not fit beside the
    counts, each source's are listed under the table by row number, on one
    unbroken line (a path is never broken mid-word).
    """
    facts = [f for f in INGEST_FACTS if any(getattr(s, f[1]) for s in report.sources)]
    counts = [
        Column("#", right=True, whole=True),
        Column("status", whole=True),
        Column("format", whole=True),
        *(
            Column(n, right=True, whole=True)
            for n in ("added", "dupes", "system", "undated", "problems")
        ),
    ]
    rows: list[list[str | Text]] = []
    tails: list[list[Text]] = []
    defaulted = False
    for n, s in enumerate(report.sources, 1):
        rows.append([
            str(n), s.status, s.format, str(s.added), str(s.duplicates), str(s.system),
            str(s.undated), str(len(s.problems)),
        ])  # fmt: skip
        tail = []
        for _, attr, flag in facts:
            value = getattr(s, attr)
            mark = "*" if value and getattr(s, flag) else ""
            defaulted = defaulted or bool(mark)
            tail.append(Text(visible(f"{value}{mark}", one_line=True)))
        tails.append([*tail, Text(visible(s.path, one_line=True))])
    tail_columns = [*(Column(header, whole=True) for header, _, _ in facts), Column("source")]
    wide = fitted_table(
        [*counts, *tail_columns], [[*r, *t] for r, t in zip(rows, tails, strict=True)], width
    )
    inline = Console(width=10_000).measure(wide).maximum <= width
    table = wide if inline else fitted_table(counts, rows, width)
    table.title = "Ingest report"
    table.title_justify = "left"
    parts: list[RenderableType] = [table]
    if not inline:
        for n, tail in enumerate(tails, 1):
            labelled = [
                Text.assemble((f"{h} ", "dim"), v)
                for (h, _, _), v in zip(facts, tail[:-1], strict=True)
            ]
            parts.append(Text("  ").join([Text(f"{n:>3}"), *labelled, tail[-1]]))
    if defaulted:
        parts.append(Text("* defaulted: not given on the command line (--custodian, --tz)", "dim"))
    return Group(*parts)


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


def source_notes(report: IngestReport) -> list[str]:
    """What a reviewer must know of how each source's times were read (one line each)."""
    lines = []
    for s in report.sources:
        if s.date_order:
            lines.append(f"date order: {s.path}: {s.date_order}")
        if s.undated:
            lines.append(f"undated: {s.path}: {s.undated} message(s) without a time, sorted last")
        for how, n in s.dated_by.items():
            lines.append(f"dated by {how}: {s.path}: {n} message(s)")
    return lines


def family_lines(report: IngestReport) -> list[str]:
    """Attachments extracted per source, and OCR missing said once for the whole ingest."""
    lines = []
    for s in report.sources:
        f = s.family
        if not (f.held or f.not_held):
            continue
        parts = [f"{s.attachments} family member(s) stored from {f.held} attachment(s) held"]
        if f.with_problems:
            parts.append(f"{f.with_problems} with problems (listed above)")
        if f.ocr:
            parts.append(f"{f.ocr} read by OCR")
        if f.not_held:
            parts.append(f"{f.not_held} listed but not held (not extracted)")
        lines.append(visible(f"attachments: {s.path}: " + ", ".join(parts), one_line=True))
    message, unread = report.ocr_missing
    if message:
        lines.append(f"OCR: {message}; text in {unread} attachment(s) was not read")
    return lines


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a table that must fit the terminal.

    Numbers and dates (``whole=True``) are never wrapped or cut; text folds.
    When the terminal is too narrow, columns with the highest ``drop`` go first
    (0: never dropped).
    """

    header: str
    right: bool = False
    whole: bool = False
    drop: int = 0


TEXT_MIN = 10
"""The narrowest a folding text column gets before columns are dropped instead."""


def fitted_table(
    columns: Sequence[Column],
    rows: Iterable[Sequence[str | Text]],
    width: int,
    *,
    title: str | None = None,
) -> Table:
    """A table at most ``width`` cells wide: optional columns dropped, text folded."""
    rows = [list(r) for r in rows]

    def need(i: int) -> int:
        col = columns[i]
        if not col.whole:
            return max(min(TEXT_MIN, max((cell_len(str(r[i])) for r in rows), default=1)), 1)
        cells = [cell_len(str(r[i])) for r in rows]
        return max([cell_len(col.header), *cells])

    keep = list(range(len(columns)))
    while True:
        total = sum(need(i) + 2 for i in keep) + len(keep) + 1
        optional = [i for i in keep if columns[i].drop]
        if total <= width or not optional:
            break
        keep.remove(max(optional, key=lambda i: (columns[i].drop, i)))
    from rich.table import Table

    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, expand=False
    )
    for i in keep:
        col = columns[i]
        table.add_column(
            col.header,
            justify="right" if col.right else "left",
            no_wrap=col.whole,
            min_width=need(i) if col.whole else None,
            overflow="fold",
        )
    for r in rows:
        table.add_row(*(r[i] for i in keep))
    return table


def matters_table(
    rows: Sequence[tuple[str, dict[str, int], str]], default: str, width: int
) -> Table:
    """Rows of (matter name, counts, display zone); the default matter marked ``*``."""
    columns = (
        Column("matter"),
        Column("messages", right=True, whole=True),
        Column("conversations", right=True, whole=True, drop=2),
        Column("custodians", right=True, whole=True, drop=3),
        Column("sources", right=True, whole=True, drop=4),
        Column("zone", whole=True, drop=1),
    )
    body = [
        (
            Text(visible(name, one_line=True) + (" *" if name == default else "")),
            str(c["messages"]),
            str(c["conversations"]),
            str(c["custodians"]),
            str(c["sources"]),
            zone,
        )
        for name, c, zone in rows
    ]
    return fitted_table(columns, body, width, title="Matters (* the default)")


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


def stored_reports_table(reports: Sequence[StoredReport]) -> Table:
    """The stored ingest report of each source: one row each, the path last."""
    from rich.table import Table

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
