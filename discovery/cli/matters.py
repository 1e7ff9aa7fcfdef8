"""``discovery matters`` and ``discovery tui``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from discovery import config
from discovery.cli.common import (
    JsonOpt,
    MatterOpt,
    app,
    audited,
    err_console,
    guard,
    open_existing,
    out_console,
    print_json,
    say,
)
from discovery.errors import MatterNotFoundError


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
    use: Annotated[
        str | None,
        typer.Option(
            "--use", help="Make this matter the default for commands run without --matter."
        ),
    ] = None,
    create: Annotated[
        str | None, typer.Option("--create", help="Create an empty matter of this name.")
    ] = None,
    shards: Annotated[
        str | None,
        typer.Option(
            "--shards",
            help="With --create: the matter's index in K shards for a cluster (docs/SCALE.md).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the matters under the home with their counts; set the default matter or a zone.

    The home is $DISCOVERY_HOME, else the nearest indexes/ folder in the current
    folder or its parents, else a per-user data folder; the first line says
    which was read. With --matter (and no --display-tz or --use), that matter's
    counts and the stored ingest report of each of its sources (as 'discovery
    report' shows them). A matter that other users of the computer could read
    is named in a warning.

    \b
    Examples:
      discovery matters
      discovery matters --use demo
      discovery matters --matter demo --display-tz America/New_York
      discovery matters --create big --shards 4
    """
    with guard():
        if create is not None or shards is not None:
            _create(create, shards)
            return
        from discovery.cli.sources import print_reports
        from discovery.matter import STORE_FILE, list_matters, missing_matter_message
        from discovery.render import matters_table
        from discovery.store import Store

        out = out_console()
        if use is not None:
            with open_existing(use):  # refuse a matter that does not exist
                config.set_default_matter(use)
            out.print(f"commands without --matter now use matter {use!r}", markup=False)
        if display_tz is not None:
            config.zone(display_tz)  # refuse an unknown zone before storing it
            with open_existing(matter) as m:
                m.store.set_meta(config.DISPLAY_TZ_KEY, display_tz)
                name = m.name
            out.print(f"matter {name!r} now shows and queries dates in {display_tz}", markup=False)
        if use is not None or display_tz is not None:
            return

        home, reason = config.home_and_reason()
        default = config.default_matter()
        rows = []
        names = list_matters() if matter is None else [matter]
        if matter is not None and not (config.matter_dir(matter) / STORE_FILE).exists():
            raise MatterNotFoundError(missing_matter_message(matter))
        reports = []
        for name in names:
            with Store(config.matter_dir(name) / STORE_FILE) as s:
                zone = config.display_zone_name(s.get_meta(config.DISPLAY_TZ_KEY))
                rows.append((name, s.counts(), zone))
                reports = s.source_reports() if matter is not None else []
        if as_json:
            for name, counts, zone in rows:
                print_json({"matter": name, **counts, "zone": zone, "default": name == default})
            if matter is not None:
                print_reports(reports, as_json=True)
            return
        out.print(f"home: {home} ({reason})", markup=False, soft_wrap=True)
        if not rows:
            out.print("no matters there yet: 'discovery ingest PATH --matter NAME' makes one")
            return
        out.print(matters_table(rows, default, out.width))
        for name, *_ in rows:
            warn_if_exposed(name)
        if matter is not None:
            print_reports(reports, as_json=False)


def _create(name: str | None, shards: str | None) -> None:
    from discovery.errors import UsageError
    from discovery.matter import STORE_FILE, open_matter
    from discovery.shards import shard_option

    if name is None:
        raise UsageError("--shards goes with --create NAME (a matter's shards are set when made)")
    count = shard_option(shards)
    if (config.matter_dir(name) / STORE_FILE).exists():
        raise UsageError(f"matter {name!r} exists already")
    with open_matter(name, create=True, shards=count):
        pass
    layout = f"its index in {count} shards" if count > 1 else "one index"
    out_console().print(f"matter {name!r} created, {layout}", markup=False)


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
def reindex(
    matter: MatterOpt = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for an ingest writing the matter to finish.")
    ] = False,
) -> None:
    """Rebuild a matter's index from its case store (control numbers unchanged).

    Needed when a matter was indexed by an older discovery whose tokenizer read
    words differently; searches refuse such a matter until it is rebuilt.

    \b
    Example:
      discovery reindex --matter demo
    """
    with guard():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from discovery.matter import STORE_FILE, tokenizer_version
        from discovery.matter import reindex as rebuild
        from discovery.store import Store
        from discovery.text import TOKENIZER_VERSION

        matter = config.default_matter() if matter is None else matter
        path = config.matter_dir(matter) / STORE_FILE
        total, before = 0, None
        if path.exists():
            with Store(path) as s:
                total = s.max_message_id()
                before = tokenizer_version(s)
        err = err_console()

        def waiting(holder: Any) -> None:
            who = f" ({holder.describe()})" if holder is not None else ""
            say(f"discovery: waiting for the ingest writing matter {matter!r}{who} to finish")

        with Progress(
            TextColumn("reindexing"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task("reindex", total=total)
            n = rebuild(matter, lambda k: bar.update(task, advance=k), wait=wait, on_wait=waiting)
        out_console().print(
            f"matter {matter!r}: {n} messages indexed with tokenizer version {TOKENIZER_VERSION}"
            " (control numbers unchanged)",
            markup=False,
        )
        with open_existing(matter) as m:  # what was rebuilt, with which tokenizer
            audited(
                m, "reindex", "", None, m.store.ids_where("1 = 1", ()), include_system=True,
                rebuilt="index", indexed=n, tokenizer_before=before,
            )  # fmt: skip


@app.command()
def tui(
    matter: MatterOpt = None,
    query: Annotated[str, typer.Option(help="Start with this query.")] = "",
) -> None:
    """Open the interactive review screen: search, read hits in context, tag, export.

    \b
    Example:
      discovery tui --matter demo --query 'libgen'
    """
    with guard():
        from discovery.tui import run  # textual is imported only here

        status = run(matter, query)
    if status:
        raise typer.Exit(status)
