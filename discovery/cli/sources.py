"""``discovery report``: the stored ingest report of every source of a matter."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from discovery.cli.common import MatterOpt, app, guard, open_existing, out_console, print_json
from discovery.errors import UsageError


@app.command("report")
def report(
    matter: MatterOpt = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source", help="Only this source: its number (#), its path, or part of its path."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per source per line.")
    ] = False,
) -> None:
    """Show what every ingest recorded of each source: counts, zone, custodian, problems.

    Sources that could not be imported (unreadable, unrecognised, refused) are
    listed too, with the report of their last attempt. The reports are kept in
    the matter, so they can be read again after the ingest's own output is gone.

    \b
    Examples:
      discovery report --matter demo
      discovery report --matter demo --source 1 --json
    """
    with guard():
        with open_existing(matter) as m:
            found = select(m.store.source_reports(), source)
        print_reports(found, as_json)


def select(reports: list[Any], source: str | None) -> list[Any]:
    """The reports ``--source`` names: a number, an exact path, else every path holding it."""
    if source is None:
        return reports
    if source.strip().isdigit():
        picked = [r for r in reports if r.id == int(source)]
    else:
        picked = [r for r in reports if r.path == source] or [
            r for r in reports if source in r.path
        ]
    if not picked:
        raise UsageError(f"no source {source!r} in this matter (see discovery report)")
    return picked


def print_reports(reports: list[Any], as_json: bool) -> None:
    from discovery.render import stored_problem_lines, stored_reports_table

    if as_json:
        for r in reports:
            print_json(
                {
                    **r.report,
                    "id": r.id,
                    "path": r.path,
                    "status": r.report.get("status", "imported"),
                    "format": r.format,
                    "custodian": r.custodian,
                    "tz": r.tz,
                    "sha256": r.sha256 or None,
                    "imported_at" if r.id is not None else "attempted_at": r.at,
                }
            )
        return
    out = out_console()
    if not reports:
        out.print("no sources in this matter yet", markup=False)
        return
    out.print(stored_reports_table(reports))
    for line in stored_problem_lines(reports):
        out.print(f"problem: {line}", markup=False, soft_wrap=True)
