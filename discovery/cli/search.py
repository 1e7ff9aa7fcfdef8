"""``discovery search``, ``show`` and ``export``: hits of a query, on screen or in a file."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from discovery.cli.common import (
    MAX_CONTEXT,
    MAX_LIMIT,
    MAX_MESSAGE_ID,
    MAX_SHOW_CONTEXT,
    ForceOpt,
    JsonOpt,
    MatterOpt,
    app,
    audited,
    check_new,
    guard,
    open_existing,
    out_console,
    output_file,
    pipe_closed_ok,
    print_json,
    say,
    shown_path,
    warn_partial,
    write_file,
)
from discovery.errors import UsageError
from discovery.model import control_number, parse_control_number

DEFAULT_SHOWN = 20
"""Hits shown on screen when no --limit is given (--json and --csv give every hit)."""


@app.command()
def search(
    query: Annotated[
        str, typer.Argument(help="A query, e.g. '\"ask forgiveness\" w/5 permission'.")
    ],
    matter: MatterOpt = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_LIMIT,
            help=f"Hits to show (default {DEFAULT_SHOWN} on screen, every hit with --json or"
            " --csv).",
            show_default=False,
        ),
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Show every hit.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per hit per line (every hit).")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Every hit as CSV, the columns of 'export'.")
    ] = False,
    count: Annotated[bool, typer.Option("--count", help="Print only the number of hits.")] = False,
    sort: Annotated[str, typer.Option(help="relevance or time.")] = "relevance",
    context: Annotated[
        int,
        typer.Option(
            min=0, max=MAX_CONTEXT, help="Messages of conversation to show around each hit."
        ),
    ] = 0,
    system: Annotated[
        bool, typer.Option("--system", help="Include system events (joins, renames, calls).")
    ] = False,
) -> None:
    """Search a matter; hits with keyword-in-context snippets and a summary.

    \b
    Examples:
      discovery search '"ask forgiveness" w/5 permission' --matter demo
      discovery search 'libgen' --json | head -1
      discovery search 'libgen' --csv > hits.csv
    """
    with guard():
        from discovery.search import Searcher

        if sum((as_json, as_csv, count)) > 1:
            raise UsageError("choose one of --json, --csv and --count")
        if limit is not None and show_all:
            raise UsageError("choose --limit N or --all, not both")
        machine = as_json or as_csv
        if show_all or (limit is None and machine):
            shown: int | None = None
        else:
            shown = limit or DEFAULT_SHOWN
        with open_existing(matter) as m:
            searcher = Searcher(m)
            if count:
                view = m.view()
                node, hit_ids = searcher.match(query, include_system=system, view=view)
                with pipe_closed_ok():
                    print(len(hit_ids))
                warn_partial(view)
                audited(m, "search", query, node, hit_ids, include_system=system, view=view)
                return
            result = searcher.search(
                query,
                limit=0 if as_csv else shown,
                sort=sort,
                include_system=system,
                summary=not machine,
            )
            with pipe_closed_ok() as closed:
                if as_csv:
                    from discovery.export import HIT_COLUMNS, hit_rows, write_rows

                    ids = result.ids if shown is None else result.ids[:shown]
                    write_rows(sys.stdout, HIT_COLUMNS, hit_rows(searcher, result.node, ids, m.tz))
                elif as_json:
                    _print_json_hits(m, searcher, result, context)
                else:
                    _print_hits(m, searcher, result, context)
            warn_partial(result.view)
            audited(
                m, "search", query, result.node, result.ids, include_system=system,
                view=result.view,
            )  # fmt: skip
            if closed[0]:
                raise typer.Exit(0)


def _print_json_hits(m: Any, searcher: Any, result: Any, context: int) -> None:
    refs = m.store.source_refs([h.message.id for h in result.hits])
    for hit in result.hits:
        msg = hit.message
        holders = refs.get(msg.id, [])
        obj: dict[str, Any] = {
            "id": msg.control,
            "conversation": msg.conversation,
            "thread": control_number(msg.thread_root) if msg.thread_root else None,
            "speaker": msg.speaker,
            "speaker_id": msg.speaker_id,
            "sent_at": msg.sent_at.isoformat(),
            "local_time": msg.sent_at.astimezone(m.tz).isoformat(),
            "utc_offset": msg.utc_offset,
            "text": msg.text,
            "versions": list(msg.versions),
            "snippet": hit.snippet.text,
            "snippet_highlights": [list(span) for span in hit.snippet.highlights],
            "snippet_version": hit.snippet.version,
            "platform": msg.platform,
            "custodian": "; ".join(msg.custodians),
            "custodians": list(msg.custodians),
            "source": holders[0][1] if holders else None,
            "sources": list(dict.fromkeys(p for _, p, _ in holders)),
            "native_id": msg.native_id,
            "deleted": msg.deleted,
            "edited": msg.edited,
            "system": msg.system,
            "tags": list(msg.tags),
            "partial": result.partial,
        }
        if context:
            around = m.store.messages(m.store.context_ids(msg.id, context, context))
            obj["context"] = [_context_json(c) for c in around]
        print_json(obj)


def _context_json(c: Any) -> dict[str, Any]:
    return {"id": c.control, "speaker": c.speaker, "sent_at": c.sent_at.isoformat(), "text": c.text}


def _print_hits(m: Any, searcher: Any, result: Any, context: int) -> None:
    from discovery.render import hits_view, summary_line

    out = out_console()
    if context:
        for hit in result.hits:
            _print_conversation(out, m, searcher, hit.message.id, context, result.node)
            out.print()
    elif result.hits:
        out.print(hits_view(result.hits, m.tz, out.width))
    out.print(summary_line(result, len(result.hits)), markup=False)


def _print_conversation(
    out: Console, m: Any, searcher: Any, message_id: int, context: int, node: Any
) -> None:
    from discovery.render import conversation_view, version_spans

    ids = m.store.context_ids(message_id, context, context)
    hits = searcher.hits(node, ids)
    spans = {h.message.id: version_spans(h) for h in hits}
    marks: dict[int, Sequence[tuple[int, int]]] = {i: s.get(0, []) for i, s in spans.items()}
    earlier: dict[int, dict[int, Sequence[tuple[int, int]]]] = {
        i: {v: sp for v, sp in s.items() if v} for i, s in spans.items()
    }
    out.print(conversation_view([h.message for h in hits], message_id, m.tz, marks, earlier))


@app.command()
def show(
    message: Annotated[str, typer.Argument(help="Control number, e.g. MSG-00000042 (or 42).")],
    matter: MatterOpt = None,
    context: Annotated[
        int, typer.Option(min=0, max=MAX_SHOW_CONTEXT, help="Messages each side.")
    ] = 5,
    query: Annotated[str | None, typer.Option(help="Highlight this query's matches.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the conversation around one message.

    With --json, one object per message (id, speaker, sent_at, text, and
    "focus": true on the message asked for).

    \b
    Example:
      discovery show MSG-00000015 --matter demo --context 5 --query 'forgiveness'
    """
    with guard():
        from discovery.search import Searcher

        mid = parse_control_number(message)
        if mid is None or mid > MAX_MESSAGE_ID:
            raise UsageError(f"{message!r} is not a control number (e.g. MSG-00000042)")
        with open_existing(matter) as m, pipe_closed_ok():
            searcher = Searcher(m)
            node = searcher.prepare(query) if query else None
            if as_json:
                for c in m.store.messages(m.store.context_ids(mid, context, context)):
                    obj = {**_context_json(c), "conversation": c.conversation, "focus": c.id == mid}
                    print_json(obj)
                return
            _print_conversation(out_console(), m, searcher, mid, context, node)


@app.command()
def export(
    query: Annotated[str, typer.Argument(help="The query whose hits to export.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write ('-': stdout).")],
    matter: MatterOpt = None,
    bom: Annotated[bool, typer.Option(help="Start the file with a BOM (for Excel).")] = False,
    system: Annotated[bool, typer.Option("--system", help="Include system events.")] = False,
    force: ForceOpt = False,
) -> None:
    """Export every hit of a query as CSV (one row per message, time order).

    \b
    Example:
      discovery export '"pirated books"' --out hits.csv --matter demo --bom
    """
    with guard():
        from discovery.export import HIT_COLUMNS, hit_rows, write_csv
        from discovery.search import Searcher

        check_new(out, force)
        with open_existing(matter) as m:
            searcher = Searcher(m)
            result = searcher.search(query, limit=0, sort="time", include_system=system)
            rows = hit_rows(searcher, result.node, result.ids, m.tz)
            with output_file(out, force=force) as path:
                n = write_file(path, lambda p: write_csv(p, HIT_COLUMNS, rows, bom=bom))
            say(f"{n} hits written to {shown_path(out)}")
            warn_partial(result.view)
            audited(
                m, "export", query, result.node, result.ids, include_system=system,
                out=str(out), view=result.view,
            )  # fmt: skip
