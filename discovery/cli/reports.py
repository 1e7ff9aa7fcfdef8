"""The report commands: ``batch``, ``exhibits`` and ``audit``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from discovery import config
from discovery.cli.common import (
    INTERRUPTED,
    STDOUT,
    ForceOpt,
    MatterOpt,
    app,
    audit_one,
    audited,
    check_new,
    err_console,
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
from discovery.cli.search import ContextOpt, context_settings
from discovery.errors import DiscoveryError, ExitStatus, UsageError
from discovery.safetext import visible


def _report_table(report: Any, width: int) -> Any:
    from discovery.render import Column, fitted_table

    columns = (
        Column("term"),
        *(Column(h, right=True, whole=True) for h in ("messages", "unique", "convs", "days")),
        Column("custodians", right=True, whole=True),
        Column("families", right=True, whole=True, drop=3),
        Column("attach.", right=True, whole=True, drop=4),
        Column("first hit", whole=True, drop=1),
        Column("last hit", whole=True, drop=2),
    )
    rows = [
        (
            Text(visible(r.term, one_line=True)),
            *(str(n) for n in (r.messages, r.unique_messages, r.conversations)),
            str(r.conversation_days),
            str(r.custodians),
            str(r.families),
            str(r.attachments),
            *(v[:19].replace("T", " ") for v in (r.first_hit, r.last_hit)),
        )
        for r in report.all_rows()
    ]
    title = f"Search term report (days in {report.zone})"
    return fitted_table(columns, rows, width, title=title)


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


def _audit_table(entries: Any, width: int) -> Any:
    from discovery.render import Column, fitted_table

    columns = (
        Column("id", right=True, whole=True),
        Column("at (UTC)", whole=True),
        Column("user", drop=4),
        Column("matter", drop=3),
        Column("command", whole=True),
        Column("hits", right=True, whole=True),
        Column("hash", whole=True, drop=2),
        Column("query"),
    )
    rows = [
        (
            str(e.id),
            e.at[:19].replace("T", " "),
            Text(visible(e.user, one_line=True)),
            Text(visible(e.matter, one_line=True)),
            e.command + (" (interrupted)" if e.settings.get("interrupted") else ""),
            str(e.hits),
            e.result_hash[:12],
            Text(visible(e.canonical, one_line=True)),
        )
        for e in entries
    ]
    return fitted_table(columns, rows, width)


def _rerun_line(outcome: Any) -> str:
    e = outcome.entry
    head = f"#{e.id} {e.command} {e.canonical!r} on {e.matter}:"
    if outcome.matches:
        line = f"{head} {outcome.hits} hits, hash {outcome.result_hash[:12]} - same as logged"
    elif not outcome.same_tokenizer:
        line = (
            f"{head} logged under tokenizer version {outcome.logged_tokenizer} (now"
            f" {outcome.current_tokenizer}): words are read differently, so the hits differ:"
            f" logged {e.hits} ({e.result_hash[:12]}), now {outcome.hits}"
            f" ({outcome.result_hash[:12]})"
        )
    else:
        line = (
            f"{head} DIFFERENT: logged {e.hits} hits ({e.result_hash[:12]}), now"
            f" {outcome.hits} hits ({outcome.result_hash[:12]})"
        )
    if "files" in outcome.extra:
        diffs = outcome.extra["differences"]
        line += f"; {outcome.extra['files']} files rebuilt, " + (
            f"{len(diffs)} differ: {', '.join(diffs[:5])}" if diffs else "every SHA-256 the same"
        )
        if outcome.extra.get("error"):
            line += f" (not rebuilt: {outcome.extra['error']})"
    if "context_hash" in outcome.extra:
        same = "context" not in outcome.extra["differences"]
        line += f"; context {e.settings.get('context')}: " + (
            "the same windows" if same else "the windows DIFFER from the logged ones"
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
    report: Annotated[
        Path,
        typer.Option(
            "--report",
            help="Search term report CSV to write ('-': stdout).",
            parser=file_path,
            metavar="<path>",
        ),
    ],
    matter: MatterOpt = None,
    xlsx: Annotated[
        Path | None,
        typer.Option(help="Also write the report as XLSX.", parser=file_path, metavar="<path>"),
    ] = None,
    tz: Annotated[
        str | None, typer.Option(help="Zone for days and dates (default $DISCOVERY_TZ or UTC).")
    ] = None,
    compare: Annotated[
        Path | None, typer.Option(help="An earlier report CSV: show what changed.")
    ] = None,
    bom: Annotated[bool, typer.Option(help="Start the CSV with a BOM (for Excel).")] = False,
    system: Annotated[bool, typer.Option("--system", help="Include system events.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report rows as JSON lines, not a table.")
    ] = False,
    level: Annotated[
        list[str] | None,
        typer.Option(
            "--level",
            help="Also count per message, conversation-day or conversation (repeatable): unique"
            " units and the messages in the units hit.",
        ),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Run a saved batch of search terms and write the search term report.

    Every line of TERMS is parsed first; if any has a syntax error, all of
    them are listed (line and column) and nothing runs (exit 2).

    \b
    Examples:
      discovery batch fixtures/batch/terms.txt --report str.csv --matter demo
      discovery batch fixtures/batch/terms.txt --report str-v2.csv --compare str.csv
      discovery batch terms.txt --report str.csv --level conversation-day
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

        to_stdout = [p for p in (report, xlsx) if p is not None and str(p) == STDOUT]
        if len(to_stdout) + as_json > 1:
            raise UsageError("only one of --report -, --xlsx - and --json can use standard output")
        check_new(report, force)
        check_new(xlsx, force)
        parsed = read_terms(terms)
        earlier = read_report_csv(compare) if compare is not None else None
        with open_existing(matter) as m:
            zone_name = tz or str(getattr(m.tz, "key", "UTC"))
            zone = config.zone(zone_name)
            m.tz = zone
            view = m.view()
            result = build_report(
                m, parsed, zone, zone_name=zone_name, include_system=system, view=view,
                levels=level or (),
            )  # fmt: skip
            with output_file(report, force=force) as path:
                write_report_csv(result, path, bom=bom)
            if xlsx is not None:
                with output_file(xlsx, force=force) as path:
                    write_file(path, lambda p: write_report_xlsx(result, p))
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
                        **({"levels": list(result.levels)} if result.levels else {}),
                    )
                    for t, hits in zip(parsed, result.hits, strict=True)
                ]
            )
        with pipe_closed_ok():
            out = out_console() if not (as_json or to_stdout) else err_console()
            if as_json:
                for row in result.all_rows():
                    print_json(dict(zip(result.columns, row.cells(), strict=True)))
            elif not to_stdout:
                out.print(_report_table(result, out.width))
            if earlier is not None:
                for line in _comparison_lines(compare_reports(earlier, result), str(compare)):
                    out.print(visible(line, one_line=True), markup=False, soft_wrap=True)
        written = shown_path(report) + (f" and {shown_path(xlsx)}" if xlsx is not None else "")
        say(f"report of {len(parsed)} terms written to {written}")
        warn_partial(view)
        if not logged:
            raise typer.Exit(int(ExitStatus.ERROR))


@app.command()
def exhibits(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Exhibit list CSV to write ('-': stdout).",
            parser=file_path,
            metavar="<path>",
        ),
    ],
    prefix: Annotated[str, typer.Option(help="Exhibit number prefix: PX gives PX-000001.")],
    tag: Annotated[
        str | None, typer.Option(help="Select the messages with this tag (any case).")
    ] = None,
    query: Annotated[str | None, typer.Option(help="Select the hits of this query.")] = None,
    matter: MatterOpt = None,
    context: ContextOpt = "3",  # type: ignore[assignment]
    transcripts: Annotated[
        Path | None, typer.Option(help="Folder for one transcript .txt per exhibit.")
    ] = None,
    loadfile: Annotated[
        Path | None,
        typer.Option(
            help="Also write a Concordance DAT load file (texts in TEXT/ beside it).",
            parser=file_path,
            metavar="<path>",
        ),
    ] = None,
    bom: Annotated[bool, typer.Option(help="Start the CSV with a BOM (for Excel).")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Also print each exhibit as a JSON line.")
    ] = False,
    force: ForceOpt = False,
) -> None:
    """Build an exhibit list: selected messages numbered in time order, with context.

    \b
    Examples:
      discovery exhibits --tag hot --prefix PX --out exhibits.csv --matter demo
      discovery exhibits --query 'libgen' --prefix DX --out - --context 1
      discovery exhibits --tag hot --prefix PX --out exhibits.csv --context day
    """
    with guard():
        from discovery import exhibits as ex
        from discovery.export import write_csv
        from discovery.loadfile import write_loadfile
        from discovery.produce.bates import check_prefix
        from discovery.search import parse_query

        check_prefix(prefix, "exhibit")
        if as_json and str(out) == STDOUT:
            raise UsageError("--out - and --json both use standard output: choose one")
        check_new(out, force)
        check_new(loadfile, force)
        if transcripts is not None and transcripts.is_dir() and any(transcripts.iterdir()):
            check_new(transcripts / f"{prefix}-000001.txt", force)
        with open_existing(matter) as m:
            view = m.view()
            ids, selection = ex.select(m, tag=tag, query=query, view=view)
            items = ex.build(m, ids, prefix, context)
            closed = [False]
            with output_file(out, force=force, closed=closed) as path:
                n = write_file(
                    path,
                    lambda p: write_csv(
                        p, ex.EXHIBIT_COLUMNS, screen_safe(ex.rows(items, m.tz), out), bom=bom
                    ),
                )
            if transcripts is not None:
                ex.write_transcripts(items, transcripts, m.tz)
            if loadfile is not None:
                numbers = {e.message.id: e.number for e in items}
                write_loadfile(
                    m.store, [e.message for e in items], loadfile, exhibit_numbers=numbers
                )
            if not closed[0]:
                say(f"{n} exhibits written to {shown_path(out)}")
            if transcripts is not None:
                say(f"{n} transcripts written to {transcripts}")
            if loadfile is not None:
                say(f"load file written to {loadfile} (text files in TEXT/)")
            extra: dict[str, Any] = {"out": str(out), "prefix": prefix}
            if closed[0]:
                extra.update(INTERRUPTED)
            shown = {e.message.id: [c.id for c in e.context] for e in items}
            extra.update(context_settings(context, shown))
            if tag is not None:
                extra.update(selection="tag", tag=ex.stored_tag(tag))
            node = parse_query(query) if query is not None else None
            with pipe_closed_ok():
                for row in ex.rows(items, m.tz) if as_json else ():
                    print_json(dict(zip(ex.EXHIBIT_COLUMNS, row, strict=True)))
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

    \b
    Examples:
      discovery audit --matter demo
      discovery audit --rerun 1
      discovery audit --rerun all --json
    """
    with guard():
        from discovery import audit

        if rerun is None:
            found = audit.entries(matter)
            if as_json:
                for e in found:
                    print_json(e.as_dict())
            elif found:
                out = out_console()
                out.print(_audit_table(found, out.width))
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
                    **outcome.extra,
                    "logged_tokenizer": outcome.logged_tokenizer,
                    "same_tokenizer": outcome.same_tokenizer,
                }
                print_json(obj)
            else:
                out_console().print(
                    visible(_rerun_line(outcome), one_line=True), markup=False, soft_wrap=True
                )
        if not ok:
            raise typer.Exit(int(ExitStatus.ERROR))
