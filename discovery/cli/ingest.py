"""``discovery ingest``: import sources and print the ingest report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from discovery import config
from discovery.cli.common import MatterOpt, app, err_console, guard, out_console
from discovery.errors import ExitStatus


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
    with guard():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        from discovery.custodians import load_custodian_map
        from discovery.ingest import ingest as run_ingest
        from discovery.matter import open_matter
        from discovery.render import ingest_table, problem_lines

        zone = config.zone(tz)
        mapping = None if custodian_map is None else load_custodian_map(custodian_map)
        err = err_console()
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
            out = out_console()
            out.print(ingest_table(report))
            # One line each, never wrapped: reviewers grep these for path:line.
            for line in problem_lines(report):
                out.print(f"problem: {line}", markup=False, soft_wrap=True)
            out.print(
                f"{report.added} messages added to matter {matter!r}", markup=False, soft_wrap=True
            )
        if report.failed:
            raise typer.Exit(int(ExitStatus.ERROR))
