"""``discovery matters`` and ``discovery tui``."""

from __future__ import annotations

from typing import Annotated

import typer

from discovery import config
from discovery.cli.common import MatterOpt, app, guard, open_existing, out_console, say
from discovery.errors import MatterNotFoundError, UsageError


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
    """List the matters under $DISCOVERY_HOME with their counts, or set one's display zone.

    With --matter (and no --display-tz), that matter's counts and the stored
    ingest report of each of its sources (as 'discovery report' shows them).
    A matter that other users of the computer could read is named in a warning.
    """
    with guard():
        from discovery.cli.sources import print_reports
        from discovery.matter import STORE_FILE, list_matters
        from discovery.render import matters_table
        from discovery.store import Store

        if display_tz is not None:
            if matter is None:
                raise UsageError("--display-tz needs --matter NAME")
            config.zone(display_tz)  # refuse an unknown zone before storing it
            with open_existing(matter) as m:
                m.store.set_meta(config.DISPLAY_TZ_KEY, display_tz)
            out_console().print(f"matter {matter!r} now shows and queries dates in {display_tz}")
            return

        rows = []
        names = list_matters() if matter is None else [matter]
        if matter is not None and not (config.matter_dir(matter) / STORE_FILE).exists():
            raise MatterNotFoundError(f"no matter {matter!r} under {config.home()}")
        reports = []
        for name in names:
            with Store(config.matter_dir(name) / STORE_FILE) as s:
                zone = config.display_zone_name(s.get_meta(config.DISPLAY_TZ_KEY))
                rows.append((name, s.counts(), zone))
                reports = s.source_reports() if matter is not None else []
        out = out_console()
        if not rows:
            out.print(f"no matters under {config.home()}", markup=False)
            return
        out.print(matters_table(rows))
        for name, *_ in rows:
            warn_if_exposed(name)
        if matter is not None:
            print_reports(reports, as_json=False)


def warn_if_exposed(name: str) -> None:
    """Warn when other users of this computer can read a matter (files 0644, folders 0755)."""
    from discovery import files
    from discovery.matter import INDEX_DIR, STORE_FILE

    path = config.matter_dir(name)
    bits = max(files.exposure(p) for p in (path, path / STORE_FILE, path / INDEX_DIR))
    if bits:
        say(
            f"discovery: warning: matter {name!r} can be read by other users of this computer"
            f" ({'group' if not bits & 0o007 else 'everyone'}); to make it private:"
            f" chmod -R go= {path}"
        )


@app.command()
def tui(
    matter: MatterOpt = config.DEFAULT_MATTER,
    query: Annotated[str, typer.Option(help="Start with this query.")] = "",
) -> None:
    """Open the interactive review screen: search, read hits in context, tag, export."""
    with guard():
        from discovery.tui import run  # textual is imported only here

        status = run(matter, query)
    if status:
        raise typer.Exit(status)
