"""``discovery matters`` and ``discovery tui``."""

from __future__ import annotations

from typing import Annotated

import typer

from discovery import config
from discovery.cli.common import MatterOpt, app, err_console, guard, open_existing, out_console
from discovery.errors import UsageError


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
    with guard():
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
        for name in list_matters():
            with Store(config.matter_dir(name) / STORE_FILE) as s:
                zone = config.display_zone_name(s.get_meta(config.DISPLAY_TZ_KEY))
                rows.append((name, s.counts(), zone))
        out = out_console()
        if not rows:
            out.print(f"no matters under {config.home()}", markup=False)
            return
        out.print(matters_table(rows))


@app.command()
def reindex(matter: MatterOpt = config.DEFAULT_MATTER) -> None:
    """Rebuild a matter's index from its case store (control numbers unchanged).

    Needed when a matter was indexed by an older discovery whose tokenizer read
    words differently; searches refuse such a matter until it is rebuilt.
    """
    with guard():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from discovery.matter import STORE_FILE
        from discovery.matter import reindex as rebuild
        from discovery.store import Store
        from discovery.text import TOKENIZER_VERSION

        path = config.matter_dir(matter) / STORE_FILE
        total = 0
        if path.exists():
            with Store(path) as s:
                total = s.max_message_id()
        err = err_console()
        with Progress(
            TextColumn("reindexing"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task("reindex", total=total)
            n = rebuild(matter, lambda k: bar.update(task, advance=k))
        out_console().print(
            f"matter {matter!r}: {n} messages indexed with tokenizer version {TOKENIZER_VERSION}"
            " (control numbers unchanged)",
            markup=False,
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
