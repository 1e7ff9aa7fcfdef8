"""The ``discovery`` command line: thin typer commands over the library.

Every command runs inside :func:`_guard`, the one place where our errors become
one or two lines on stderr and an exit status (PRODUCT.md §2). Tracebacks are
never shown (they could print privileged message text); set
``DISCOVERY_DEBUG=1`` to let them through while developing.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from discovery import config
from discovery.errors import DiscoveryError, ExitStatus, UsageError
from discovery.model import control_number, parse_control_number

app = typer.Typer(
    name="discovery",
    help="Search chat exports like evidence: exact phrase, proximity and boolean queries.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

MAX_MESSAGE_ID = 2**63 - 1
"""The largest id SQLite can hold; a longer number is not a control number."""

MAX_CONTEXT = 100
"""Most messages of context each side of a hit (``search``, ``exhibits``)."""
MAX_SHOW_CONTEXT = 1000
"""Most messages each side for ``show``, which reads one conversation."""
MAX_LIMIT = 1_000_000
"""Most hits ``--limit`` asks for (``--all`` shows every hit)."""

MatterOpt = Annotated[
    str, typer.Option("--matter", "-m", help="Matter name (a folder under $DISCOVERY_HOME).")
]


def _out() -> Console:
    return Console(soft_wrap=False, highlight=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False)


def _say(text: str) -> None:
    """Write an error report to stderr as is.

    Not through rich: rich wraps long lines at the terminal width (80 when
    piped), which breaks a message in two and moves a caret off its column.
    """
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


@contextmanager
def _guard() -> Iterator[None]:
    """Turn our errors into a short message and an exit status."""
    try:
        yield
    except DiscoveryError as exc:
        _say(f"discovery: {exc}")
        raise typer.Exit(int(exc.exit_status)) from None
    except KeyboardInterrupt:
        _say("discovery: interrupted")
        raise typer.Exit(int(ExitStatus.INTERRUPTED)) from None
    except typer.Exit:
        raise
    except Exception as exc:
        if os.environ.get("DISCOVERY_DEBUG"):
            raise
        _say(
            f"discovery: internal error ({type(exc).__name__}); run again with"
            " DISCOVERY_DEBUG=1 for details"
        )
        raise typer.Exit(int(ExitStatus.ERROR)) from None


def _open(matter: str) -> Any:
    from discovery.matter import open_matter

    return open_matter(matter)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders or zips to import.")],
    matter: MatterOpt = config.DEFAULT_MATTER,
    custodian: Annotated[
        str | None, typer.Option(help="Custodian the sources were collected from.")
    ] = None,
    custodian_map: Annotated[
        str | None,
        typer.Option(
            "--custodian-map",
            help="CSV of 'path,custodian' (path prefixes below the named folder), or 'auto'"
            " for the first folder level as custodian; unmatched sources get --custodian.",
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Source format, or auto to sniff each file.")
    ] = "auto",
    tz: Annotated[
        str, typer.Option(help="Zone for timestamps that carry none (WhatsApp, transcripts).")
    ] = "UTC",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import chat exports into a matter and report what was added, skipped and why.

    Unreadable entries inside a source are listed as problems (path:line) and
    skipped; the rest of the source is imported. Exit status 0 when every
    source was imported (or had been already), 1 when a whole source failed or
    was not recognised; the other sources are imported either way.
    """
    with _guard():
        from discovery.custodians import load_custodian_map
        from discovery.ingest import ingest as run_ingest
        from discovery.matter import open_matter
        from discovery.render import ingest_table, problem_lines

        zone = config.zone(tz)
        mapping = None if custodian_map is None else load_custodian_map(custodian_map)
        err = _err()
        with (
            open_matter(matter, create=True) as m,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
                disable=not err.is_terminal,
            ) as bar,
        ):
            tasks: dict[str, Any] = {}

            def progress(stage: str, advance: int, total: int | None) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], advance=advance)

            report = run_ingest(
                m,
                paths,
                custodian=custodian,
                fmt=fmt,
                tz=zone,
                tz_name=tz,
                progress=progress,
                custodian_map=mapping,
            )
        if as_json:
            print(json.dumps([s.as_dict() for s in report.sources], ensure_ascii=False))
        else:
            out = _out()
            out.print(ingest_table(report))
            # One line each, never wrapped: reviewers grep these for path:line.
            for line in problem_lines(report):
                out.print(f"problem: {line}", markup=False, soft_wrap=True)
            out.print(
                f"{report.added} messages added to matter {matter!r}", markup=False, soft_wrap=True
            )
        if report.failed:
            raise typer.Exit(int(ExitStatus.ERROR))


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
    with _guard():
        from discovery.search import Searcher

        with _open(matter) as m:
            searcher = Searcher(m)
            if count:
                node, hit_ids = searcher.match(query, include_system=system)
                print(len(hit_ids))
                _audited(m, "search", query, node, hit_ids, include_system=system)
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
            _audited(m, "search", query, result.node, result.ids, include_system=system)


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
        print(json.dumps(obj, ensure_ascii=False))


def _print_hits(m: Any, searcher: Any, result: Any, context: int) -> None:
    from discovery.render import hits_view, summary_line

    out = _out()
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
    with _guard():
        from discovery.search import Searcher, parse_query

        mid = parse_control_number(message)
        if mid is None or mid > MAX_MESSAGE_ID:
            raise UsageError(f"{message!r} is not a control number (e.g. MSG-00000042)")
        with _open(matter) as m:
            node = parse_query(query) if query else None
            _print_conversation(_out(), m, Searcher(m), mid, context, node)


@app.command()
def export(
    query: Annotated[str, typer.Argument(help="The query whose hits to export.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write.")],
    matter: MatterOpt = config.DEFAULT_MATTER,
    bom: Annotated[bool, typer.Option(help="Start the file with a BOM (for Excel).")] = False,
    system: Annotated[bool, typer.Option("--system", help="Include system events.")] = False,
) -> None:
    """Export every hit of a query as CSV (one row per message, time order)."""
    with _guard():
        from discovery.export import HIT_COLUMNS, hit_rows, write_csv
        from discovery.search import Searcher

        with _open(matter) as m:
            searcher = Searcher(m)
            result = searcher.search(query, limit=0, sort="time", include_system=system)
            try:
                n = write_csv(
                    out, HIT_COLUMNS, hit_rows(searcher, result.node, result.ids, m.tz), bom=bom
                )
            except OSError as exc:
                raise DiscoveryError(f"cannot write {out}: {exc.strerror or exc}") from None
            _err().print(f"{n} hits written to {out}", markup=False)
            _audited(
                m, "export", query, result.node, result.ids, include_system=system, out=str(out)
            )


@app.command()
def matters(
    matter: Annotated[
        str | None, typer.Option("--matter", "-m", help="The matter --display-tz applies to.")
    ] = None,
    display_tz: Annotated[
        str | None,
        typer.Option(
            help="Show and query this matter's dates in this zone (IANA name, e.g."
            " America/New_York); $DISCOVERY_TZ still overrides it."
        ),
    ] = None,
) -> None:
    """List the matters under $DISCOVERY_HOME with their counts, or set one's display zone."""
    with _guard():
        from discovery.matter import STORE_FILE, list_matters
        from discovery.render import matters_table
        from discovery.store import Store

        if display_tz is not None:
            if matter is None:
                raise UsageError("--display-tz needs --matter NAME")
            config.zone(display_tz)  # refuse an unknown zone before storing it
            with _open(matter) as m:
                m.store.set_meta(config.DISPLAY_TZ_KEY, display_tz)
            _out().print(f"matter {matter!r} now shows and queries dates in {display_tz}")
            return

        rows = []
        for name in list_matters():
            with Store(config.matter_dir(name) / STORE_FILE) as s:
                zone = config.display_zone_name(s.get_meta(config.DISPLAY_TZ_KEY))
                rows.append((name, s.counts(), zone))
        out = _out()
        if not rows:
            out.print(f"no matters under {config.home()}", markup=False)
            return
        out.print(matters_table(rows))


@app.command()
def tui(
    matter: MatterOpt = config.DEFAULT_MATTER,
    query: Annotated[str, typer.Option(help="Start with this query.")] = "",
) -> None:
    """Open the interactive review screen: search, read hits in context, tag, export."""
    with _guard():
        from discovery.tui import run  # textual is imported only here

        status = run(matter, query)
    if status:
        raise typer.Exit(status)


# --- the audit log (shared with cli_reports) ----------------------------------
def _audited(
    m: Any, command: str, query: str, node: Any, ids: Any, *, include_system: bool, **extra: Any
) -> None:
    """Record one audit entry after the results are out; a failure is reported, exit 1."""
    if not _audit_one(m, command, query, node, ids, include_system=include_system, **extra):
        raise typer.Exit(int(ExitStatus.ERROR))


def _audit_one(
    m: Any, command: str, query: str, node: Any, ids: Any, *, include_system: bool, **extra: Any
) -> bool:
    from discovery import audit
    from discovery.query.unparse import unparse

    canonical = unparse(node) if node is not None else query
    try:
        audit.record(m, command, query, canonical, ids, include_system=include_system, **extra)
    except Exception as exc:  # never let the log hide a result that was already shown
        reason = str(exc) if isinstance(exc, DiscoveryError) else type(exc).__name__
        done = _DONE.get(command, "it ran")
        _say(
            f"discovery: warning: {done}, but this {command} was NOT recorded in the audit log"
            f" ({reason})"
        )
        return False
    return True


_DONE = {
    "search": "the results were shown",
    "export": "the file was written",
    "batch": "the report was written",
    "exhibits": "the exhibit list was written",
}
"""What already happened when an audit write fails, for the warning."""


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("discovery: interrupted\n")
        sys.exit(int(ExitStatus.INTERRUPTED))


# The report commands register themselves on ``app``; imported last, as they use the above.
from discovery import cli_reports  # noqa: E402, F401
