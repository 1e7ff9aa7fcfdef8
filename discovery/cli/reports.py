"""The report commands: ``batch``, ``exhibits`` and ``audit``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from discovery import config
from discovery.cli.common import (
    MAX_CONTEXT,
    MatterOpt,
    app,
    audit_one,
    audited,
    guard,
    open_existing,
    out_console,
    print_json,
    say,
    warn_partial,
)
from discovery.errors import DiscoveryError, ExitStatus, UsageError
from discovery.safetext import visible


def _report_table(report: Any) -> Any:
    from rich.table import Table

    from discovery.render import evidence
    from discovery.report import REPORT_COLUMNS

    table = Table(title=f"Search term report (days in {report.zone})", title_justify="left")
    shown = [c for c in REPORT_COLUMNS if c != "query"]  # the CSV has the canonical queries
    for col in shown:
        table.add_column(col.replace("_", " "), justify="right" if col[0] in "mucd" else "left")
    for row in report.all_rows():
        values = [str(getattr(row, c)) for c in shown]
        table.add_row(
            evidence(values[0]), *values[1:-2], *(v[:16].replace("T", " ") for v in values[-2:])
        )
    return table


def _comparison_lines(changes: Any, earlier: str) -> list[str]:
    lines = [f"compared with {earlier}:"]
    for c in changes:
        if c.status == "same":
            continue
        if c.status != "changed":
            lines.append(f"  {c.term}: {c.status}")
            continue
        diffs = ", ".join(f"{col} {was} -> {now}" for col, (was, now) in c.changes.items())
        lines.append(f"  {c.term}: {diffs}")
    if len(lines) == 1:
        lines.append("  no changes")
    return lines


def _audit_table(entries: Any) -> Any:
    from rich.table import Table

    from discovery.render import evidence

    table = Table()
    for col in ("id", "at (UTC)", "user", "matter", "command", "hits", "hash", "query"):
        table.add_column(col, justify="right" if col in ("id", "hits") else "left")
    for e in entries:
        table.add_row(
            str(e.id),
            e.at,
            evidence(e.user),
            evidence(e.matter),
            e.command,
            str(e.hits),
            e.result_hash[:12],
            evidence(e.canonical),
        )
    return table


def _rerun_line(outcome: Any) -> str:
    e = outcome.entry
    head = f"#{e.id} {e.command} {e.canonical!r} on {e.matter}:"
    if outcome.matches:
        line = f"{head} {outcome.hits} hits, hash {outcome.result_hash[:12]} - same as logged"
    else:
        line = (
            f"{head} DIFFERENT: logged {e.hits} hits ({e.result_hash[:12]}), now"
            f" {outcome.hits} hits ({outcome.result_hash[:12]})"
        )
    if not outcome.same_matter:
        line += " [the matter's sources differ from when it was logged]"
    if outcome.same_tags is False and (outcome.uses_tags or not outcome.matches):
        line += " [review tags changed since it was logged]"
    return line


@app.command()
def batch(
    terms: Annotated[
        Path, typer.Argument(help="TERMS file: one query per line ('name: query'), or CSV.")
    ],
    report: Annotated[Path, typer.Option("--report", help="Search term report CSV to write.")],
    matter: MatterOpt = config.DEFAULT_MATTER,
    xlsx: Annotated[Path | None, typer.Option(help="Also write the report as XLSX.")] = None,
    tz: Annotated[
        str | None, typer.Option(help="Zone for days and dates (default $DISCOVERY_TZ or UTC).")
    ] = None,
    compare: Annotated[
        Path | None, typer.Option(help="An earlier report CSV: show what changed.")
    ] = None,
    bom: Annotated[bool, typer.Option(help="Start the CSV with a BOM (for Excel).")] = False,
    system: Annotated[bool, typer.Option("--system", help="Include system events.")] = False,
) -> None:
    """Run a saved batch of search terms and write the search term report.

    Every line of TERMS is parsed first; if any has a syntax error, all of
    them are listed (line and column) and nothing runs (exit 2).
    """
    with guard():
        from discovery.batch import read_terms
        from discovery.report import (
            build_report,
            read_report_csv,
            write_report_csv,
            write_report_xlsx,
        )
        from discovery.report import compare as compare_reports

        parsed = read_terms(terms)
        earlier = read_report_csv(compare) if compare is not None else None
        with open_existing(matter) as m:
            zone_name = tz or str(getattr(m.tz, "key", "UTC"))
            zone = config.zone(zone_name)
            m.tz = zone
            view = m.view()
            result = build_report(
                m, parsed, zone, zone_name=zone_name, include_system=system, view=view
            )
            write_report_csv(result, report, bom=bom)
            if xlsx is not None:
                write_report_xlsx(result, xlsx)
            logged = all(
                [
                    audit_one(
                        m,
                        "batch",
                        t.query,
                        t.node,
                        hits,
                        include_system=system,
                        batch=str(terms),
                        term=t.name,
                        view=view,
                    )
                    for t, hits in zip(parsed, result.hits, strict=True)
                ]
            )
        out = out_console()
        out.print(_report_table(result))
        if earlier is not None:
            for line in _comparison_lines(compare_reports(earlier, result), str(compare)):
                out.print(visible(line, one_line=True), markup=False, soft_wrap=True)
        written = f"{report}" + (f" and {xlsx}" if xlsx is not None else "")
        say(f"report of {len(parsed)} terms written to {written}")
        warn_partial(view)
        if not logged:
            raise typer.Exit(int(ExitStatus.ERROR))


@app.command()
def exhibits(
    out: Annotated[Path, typer.Option("--out", "-o", help="Exhibit list CSV to write.")],
    prefix: Annotated[str, typer.Option(help="Exhibit number prefix: PX gives PX-000001.")],
    tag: Annotated[str | None, typer.Option(help="Select the messages with this tag.")] = None,
    query: Annotated[str | None, typer.Option(help="Select the hits of this query.")] = None,
    matter: MatterOpt = config.DEFAULT_MATTER,
    context: Annotated[
        int, typer.Option(min=0, max=MAX_CONTEXT, help="Messages of context each side.")
    ] = 3,
    transcripts: Annotated[
        Path | None, typer.Option(help="Folder for one transcript .txt per exhibit.")
    ] = None,
    loadfile: Annotated[
        Path | None,
        typer.Option(help="Also write a Concordance DAT load file (texts in TEXT/ beside it)."),
    ] = None,
    bom: Annotated[bool, typer.Option(help="Start the CSV with a BOM (for Excel).")] = False,
) -> None:
    """Build an exhibit list: selected messages numbered in time order, with context."""
    with guard():
        from discovery import exhibits as ex
        from discovery.export import write_csv
        from discovery.loadfile import write_loadfile
        from discovery.search import parse_query

        ex.check_prefix(prefix)
        with open_existing(matter) as m:
            view = m.view()
            ids, selection = ex.select(m, tag=tag, query=query, view=view)
            items = ex.build(m, ids, prefix, context)
            try:
                n = write_csv(out, ex.EXHIBIT_COLUMNS, ex.rows(items, m.tz), bom=bom)
            except OSError as exc:
                raise DiscoveryError(f"cannot write {out}: {exc.strerror or exc}") from None
            if transcripts is not None:
                ex.write_transcripts(items, transcripts, m.tz)
            if loadfile is not None:
                numbers = {e.message.id: e.number for e in items}
                write_loadfile(
                    m.store, [e.message for e in items], loadfile, exhibit_numbers=numbers
                )
            say(f"{n} exhibits written to {out}")
            if transcripts is not None:
                say(f"{n} transcripts written to {transcripts}")
            if loadfile is not None:
                say(f"load file written to {loadfile} (text files in TEXT/)")
            extra: dict[str, Any] = {"out": str(out), "prefix": prefix}
            if tag is not None:
                extra.update(selection="tag", tag=tag)
            node = parse_query(query) if query is not None else None
            if query is not None:
                warn_partial(view)
                extra["view"] = view
            audited(m, "exhibits", selection, node, ids, include_system=tag is not None, **extra)


@app.command("audit")
def audit_log(
    matter: Annotated[
        str | None, typer.Option("--matter", "-m", help="Only this matter's entries.")
    ] = None,
    rerun: Annotated[
        str | None,
        typer.Option(help="Run entry ID again (or 'all') and compare its result hash."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """The log of every search, batch, export, exhibit list and tag change; re-run entries.

    The log is $DISCOVERY_HOME/audit.sqlite, outside the matter folders, so it
    survives deleting and re-ingesting a matter. With --rerun the exit status
    is 1 when any hash differs; a re-run also says when the matter's sources
    or (for a result that depends on them) its review tags changed since.
    '--rerun all' skips tag changes, which have nothing to re-run.
    """
    with guard():
        from discovery import audit

        if rerun is None:
            found = audit.entries(matter)
            if as_json:
                for e in found:
                    print_json(e.as_dict())
            elif found:
                out_console().print(_audit_table(found))
            else:
                out_console().print(f"no audit entries in {audit.log_path()}", markup=False)
            return
        if rerun.strip().lower() == "all":
            # tag changes are logged too, but there is nothing to re-run in them
            ids = [e.id for e in audit.entries(matter) if e.command in audit.RERUNNABLE]
        elif rerun.strip().isdigit():
            ids = [int(rerun)]
        else:
            raise UsageError(f"--rerun takes an entry number or 'all', not {rerun!r}")
        ok = True
        for entry_id in ids:
            try:
                outcome = audit.rerun(entry_id)
            except DiscoveryError as exc:
                if len(ids) == 1:
                    raise
                say(f"discovery: entry {entry_id}: {exc}")
                ok = False
                continue
            ok = ok and outcome.matches
            if as_json:
                obj = {
                    **outcome.entry.as_dict(),
                    "rerun_hits": outcome.hits,
                    "rerun_hash": outcome.result_hash,
                    "matches": outcome.matches,
                    "same_matter": outcome.same_matter,
                    "same_tags": outcome.same_tags,
                }
                print_json(obj)
            else:
                out_console().print(
                    visible(_rerun_line(outcome), one_line=True), markup=False, soft_wrap=True
                )
        if not ok:
            raise typer.Exit(int(ExitStatus.ERROR))
