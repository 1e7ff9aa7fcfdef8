"""``discovery search``, ``show`` and ``export``: hits of a query, on screen or in a file."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from discovery.cli.common import (
    INTERRUPTED,
    MAX_CONTEXT,
    MAX_LIMIT,
    MAX_MESSAGE_ID,
    MAX_SHOW_CONTEXT,
    ForceOpt,
    JsonOpt,
    MatterOpt,
    QueryCommand,
    app,
    audited,
    check_new,
    file_path,
    guard,
    open_existing,
    out_console,
    output_file,
    pipe_closed_ok,
    print_json,
    say,
    screen_safe,
    shown_path,
    warn_partial,
    write_file,
)
from discovery.context import ContextSpec, context_hash, parse_context, windows
from discovery.errors import MessageNotFoundError, UsageError
from discovery.family_store import families, internal_row, is_member_number, resolve
from discovery.model import control_number, iso_time, parse_control_number

DEFAULT_SHOWN = 20
"""Hits shown on screen when no --limit is given (--json and --csv give every hit)."""

CONTEXT_HELP = "N messages each side, a time (10min, 2h), thread or day (in the display zone)"


def context_option(limit: int) -> Any:
    """A ``--context`` value as a :class:`ContextSpec` (bad values: typer's usage error, exit 2)."""

    def convert(value: str | ContextSpec) -> ContextSpec:
        if isinstance(value, ContextSpec):
            return value
        try:
            return parse_context(value, limit)
        except UsageError as exc:
            raise typer.BadParameter(str(exc).replace("--context should", "Input should")) from None

    return convert


ContextOpt = Annotated[
    ContextSpec,
    typer.Option(
        parser=context_option(MAX_CONTEXT),
        metavar="N|10min|2h|thread|day",
        help=f"Context around each hit: {CONTEXT_HELP}.",
    ),
]
ShowContextOpt = Annotated[
    ContextSpec,
    typer.Option(
        parser=context_option(MAX_SHOW_CONTEXT),
        metavar="N|10min|2h|thread|day",
        help=f"The conversation around it: {CONTEXT_HELP}.",
    ),
]


def context_settings(spec: ContextSpec, found: dict[int, list[int]] | None) -> dict[str, Any]:
    """What the audit entry records of a context: its label and, when it was written for
    every hit, the hash of the windows (re-checked by ``audit --rerun``)."""
    if spec.none and found is None:
        return {}
    out: dict[str, Any] = {"context": spec.label}
    if found is not None:
        out["context_hash"] = context_hash(found)
    return out


@app.command(cls=QueryCommand)
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
    context: ContextOpt = "0",  # type: ignore[assignment]
    system: Annotated[
        bool, typer.Option("--system", help="Include system events (joins, renames, calls).")
    ] = False,
    family: Annotated[
        bool,
        typer.Option(
            "--family",
            help="Whole families: each hit's parent message and all its attachments, parent"
            " first (a family once however many of its members hit).",
        ),
    ] = False,
) -> None:
    """Search a matter; hits with keyword-in-context snippets and a summary.

    A hit in an attachment is the attachment (MSG-00000042-A001, its parent
    MSG-00000042); --family gives parents and whole families.

    \b
    Examples:
      discovery search '"ask forgiveness" w/5 permission' --matter demo
      discovery search 'libgen' --json | head -1
      discovery search 'libgen' --csv > hits.csv
      discovery search 'budget AND kind:attachment' --family
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
            settings = {"family": True} if family else {}
            if count:
                view = m.view()
                node, hit_ids = searcher.match(query, include_system=system, view=view)
                if family:
                    hit_ids = set(families(m.store.db, sorted(hit_ids)))
                with pipe_closed_ok():
                    print(len(hit_ids))
                warn_partial(view)
                audited(
                    m, "search", query, node, hit_ids, include_system=system, view=view,
                    **settings,
                )  # fmt: skip
                return
            result = searcher.search(
                query,
                limit=0 if as_csv else shown,
                sort=sort,
                include_system=system,
                summary=not machine,
                family=family,
            )
            found = None
            with pipe_closed_ok() as closed:
                if as_csv:
                    from discovery.export import HIT_COLUMNS, hit_rows, write_rows

                    ids = result.ids if shown is None else result.ids[:shown]
                    found = None if context.none else windows(m.store, ids, context, m.tz)
                    columns = HIT_COLUMNS if found is None else (*HIT_COLUMNS, "context")
                    rows = hit_rows(searcher, result.node, ids, m.tz, found)
                    write_rows(sys.stdout, columns, screen_safe(rows))
                elif as_json:
                    found = _print_json_hits(m, searcher, result, context)
                else:
                    _print_hits(m, searcher, result, context)
            warn_partial(result.view)
            complete = found is not None and len(found) == result.total
            audited(
                m, "search", query, result.node, result.ids, include_system=system,
                view=result.view, **context_settings(context, found if complete else None),
                **settings,
            )  # fmt: skip
            if closed[0]:
                raise typer.Exit(0)


def _print_json_hits(
    m: Any, searcher: Any, result: Any, context: ContextSpec
) -> dict[int, list[int]] | None:
    """One JSON line per hit (with ``context`` when asked); returns the windows written."""
    refs = m.store.source_refs([h.message.id for h in result.hits])
    found = None
    if not context.none:
        found = windows(m.store, [h.message.id for h in result.hits], context, m.tz)
    for hit in result.hits:
        msg = hit.message
        holders = refs.get(msg.id, [])
        obj: dict[str, Any] = {
            "id": msg.control,
            "conversation": msg.conversation,
            "thread": control_number(msg.thread_root) if msg.thread_root else None,
            "speaker": msg.speaker,
            "speaker_id": msg.speaker_id,
            "sent_at": iso_time(msg.sent_at),
            "local_time": iso_time(msg.sent_at, m.tz),
            "undated": msg.undated,
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
            **family_json(msg),
        }
        if found is not None:
            obj["context"] = [_context_json(c) for c in m.store.messages(found[msg.id])]
        print_json(obj)
    return found


def _context_json(c: Any) -> dict[str, Any]:
    return {
        "id": c.control,
        "speaker": c.speaker,
        "sent_at": iso_time(c.sent_at),
        "text": c.text,
        "kind": c.kind,
        "parent": c.family.parent_control if c.family else None,
    }


def family_json(msg: Any) -> dict[str, Any]:
    """``kind``, ``parent`` (None for a message) and, for a family member, ``attachment``."""
    f = msg.family
    if f is None:
        return {"kind": "message", "parent": None, "attachment": None}
    return {
        "kind": "attachment",
        "parent": f.parent_control,
        "attachment": {
            "name": f.name,
            "path": f.path,
            "kind": f.kind,
            "media_type": f.media_type,
            "size": f.size,
            "sha256": f.sha256,
            "ocr": f.ocr,
            "ocr_confidence": f.ocr_confidence,
            "sections": [label for label, _, _ in f.sections],
            "problems": list(f.problems),
        },
    }


def _print_hits(m: Any, searcher: Any, result: Any, context: ContextSpec) -> None:
    from discovery.render import hits_view, summary_line

    out = out_console()
    if not context.none:
        for hit in result.hits:
            _print_conversation(out, m, searcher, hit.message.id, context, result.node)
            out.print()
    elif result.hits:
        out.print(hits_view(result.hits, m.tz, out.width))
    out.print(summary_line(result, len(result.hits)), markup=False)


def _print_conversation(
    out: Console, m: Any, searcher: Any, message_id: int, context: ContextSpec, node: Any
) -> None:
    from discovery.render import conversation_view, version_spans

    ids = windows(m.store, [message_id], context, m.tz).get(message_id)
    if ids is None:
        from discovery.errors import MessageNotFoundError

        raise MessageNotFoundError(f"no message {control_number(message_id)} in this matter")
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
    context: ShowContextOpt = "5",  # type: ignore[assignment]
    query: Annotated[str | None, typer.Option(help="Highlight this query's matches.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the conversation around one message.

    With --json, one object per message (id, speaker, sent_at, text, and
    "focus": true on the message asked for).

    \b
    Example:
      discovery show MSG-00000015 --matter demo --context 5 --query 'forgiveness'
      discovery show MSG-00000015 --context thread
    """
    with guard():
        from discovery.search import Searcher

        mid = parse_control_number(message)
        member = mid is None and is_member_number(message)
        if not member and (mid is None or mid > MAX_MESSAGE_ID):
            raise UsageError(f"{message!r} is not a control number (e.g. MSG-00000042)")
        with open_existing(matter) as m, pipe_closed_ok():
            if member:
                mid = resolve(m.store.db, message)
                if mid is None:
                    raise MessageNotFoundError(f"no attachment {message} in this matter")
            elif shown := internal_row(m.store.db, mid):
                raise MessageNotFoundError(
                    f"no message {message} in this matter (did you mean {shown}?)"
                )
            searcher = Searcher(m)
            node = searcher.prepare(query) if query else None
            if as_json:
                around = windows(m.store, [mid], context, m.tz).get(mid)
                if around is None:
                    m.store.message(mid)  # raises: no such message
                for c in m.store.messages(around or []):
                    obj = {**_context_json(c), "conversation": c.conversation, "focus": c.id == mid}
                    print_json(obj)
                return
            _print_conversation(out_console(), m, searcher, mid, context, node)


@app.command(cls=QueryCommand)
def export(
    query: Annotated[str, typer.Argument(help="The query whose hits to export.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="CSV file to write ('-': stdout).",
            parser=file_path,
            metavar="<path>",
        ),
    ],
    matter: MatterOpt = None,
    bom: Annotated[bool, typer.Option(help="Start the file with a BOM (for Excel).")] = False,
    system: Annotated[bool, typer.Option("--system", help="Include system events.")] = False,
    context: ContextOpt = "0",  # type: ignore[assignment]
    force: ForceOpt = False,
) -> None:
    """Export every hit of a query as CSV (one row per message, time order).

    With --context, a last column "context" holds each hit's context as
    text, one line per message, the hit marked >>.

    \b
    Examples:
      discovery export '"pirated books"' --out hits.csv --matter demo --bom
      discovery export 'libgen w/3msg permission' --out hits.csv --context thread
    """
    with guard():
        from discovery.export import HIT_COLUMNS, hit_rows, write_csv
        from discovery.search import Searcher

        check_new(out, force)
        with open_existing(matter) as m:
            searcher = Searcher(m)
            result = searcher.search(query, limit=0, sort="time", include_system=system)
            found = None if context.none else windows(m.store, result.ids, context, m.tz)
            columns = HIT_COLUMNS if found is None else (*HIT_COLUMNS, "context")
            rows = hit_rows(searcher, result.node, result.ids, m.tz, found)
            closed = [False]
            with output_file(out, force=force, closed=closed) as path:
                n = write_file(
                    path, lambda p: write_csv(p, columns, screen_safe(rows, out), bom=bom)
                )
            if not closed[0]:
                say(f"{n} hits written to {shown_path(out)}")
            warn_partial(result.view)
            audited(
                m, "export", query, result.node, result.ids, include_system=system,
                out=str(out), view=result.view, **context_settings(context, found),
                **(INTERRUPTED if closed[0] else {}),
            )  # fmt: skip
