"""``discovery search``, ``show`` and ``export``: hits of a query, on screen or in a file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from discovery import config
from discovery.cli.common import (
    MAX_CONTEXT,
    MAX_LIMIT,
    MAX_MESSAGE_ID,
    MAX_SHOW_CONTEXT,
    MatterOpt,
    app,
    audited,
    guard,
    open_existing,
    out_console,
    print_json,
    say,
    warn_partial,
)
from discovery.errors import UsageError
from discovery.model import control_number, parse_control_number


@app.command()
def search(
    query: Annotated[
        str, typer.Argument(help="A query, e.g. '\"ask forgiveness\" w/5 permission'.")
    ],
    matter: MatterOpt = config.DEFAULT_MATTER,
    limit: Annotated[
        int, typer.Option(min=1, max=MAX_LIMIT, help="Hits to show (--all for every hit).")
    ] = 20,
    show_all: Annotated[bool, typer.Option("--all", help="Show every hit.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per hit per line.")
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
    """Search a matter; hits with keyword-in-context snippets and a summary."""
    with guard():
        from discovery.search import Searcher

        with open_existing(matter) as m:
            searcher = Searcher(m)
            if count:
                view = m.view()
                node, hit_ids = searcher.match(query, include_system=system, view=view)
                print(len(hit_ids))
                warn_partial(view)
                audited(m, "search", query, node, hit_ids, include_system=system, view=view)
                return
            result = searcher.search(
                query,
                limit=None if show_all else limit,
                sort=sort,
                include_system=system,
                summary=not as_json,
            )
            if as_json:
                _print_json_hits(m, searcher, result, context)
            else:
                _print_hits(m, searcher, result, context)
            warn_partial(result.view)
            audited(
                m, "search", query, result.node, result.ids, include_system=system,
                view=result.view,
            )  # fmt: skip


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
            obj["context"] = [
                {
                    "id": c.control,
                    "speaker": c.speaker,
                    "sent_at": c.sent_at.isoformat(),
                    "text": c.text,
                }
                for c in around
            ]
        print_json(obj)


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
    from discovery.render import conversation_view, hit_spans

    ids = m.store.context_ids(message_id, context, context)
    hits = searcher.hits(node, ids)
    marks: dict[int, Sequence[tuple[int, int]]] = {h.message.id: hit_spans(h) for h in hits}
    out.print(conversation_view([h.message for h in hits], message_id, m.tz, marks))


@app.command()
def show(
    message: Annotated[str, typer.Argument(help="Control number, e.g. MSG-00000042 (or 42).")],
    matter: MatterOpt = config.DEFAULT_MATTER,
    context: Annotated[
        int, typer.Option(min=0, max=MAX_SHOW_CONTEXT, help="Messages each side.")
    ] = 5,
    query: Annotated[str | None, typer.Option(help="Highlight this query's matches.")] = None,
) -> None:
    """Show the conversation around one message."""
    with guard():
        from discovery.search import Searcher, parse_query

        mid = parse_control_number(message)
        if mid is None or mid > MAX_MESSAGE_ID:
            raise UsageError(f"{message!r} is not a control number (e.g. MSG-00000042)")
        with open_existing(matter) as m:
            node = parse_query(query) if query else None
            _print_conversation(out_console(), m, Searcher(m), mid, context, node)


@app.command()
def export(
    query: Annotated[str, typer.Argument(help="The query whose hits to export.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write.")],
    matter: MatterOpt = config.DEFAULT_MATTER,
    bom: Annotated[bool, typer.Option(help="Start the file with a BOM (for Excel).")] = False,
    system: Annotated[bool, typer.Option("--system", help="Include system events.")] = False,
) -> None:
    """Export every hit of a query as CSV (one row per message, time order)."""
    with guard():
        from discovery.export import HIT_COLUMNS, hit_rows, write_csv
        from discovery.search import Searcher

        with open_existing(matter) as m:
            searcher = Searcher(m)
            result = searcher.search(query, limit=0, sort="time", include_system=system)
            n = write_csv(
                out, HIT_COLUMNS, hit_rows(searcher, result.node, result.ids, m.tz), bom=bom
            )
            say(f"{n} hits written to {out}")
            warn_partial(result.view)
            audited(
                m, "export", query, result.node, result.ids, include_system=system,
                out=str(out), view=result.view,
            )  # fmt: skip
