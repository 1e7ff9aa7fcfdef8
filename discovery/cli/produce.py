"""The ``produce`` command: a production of selected messages (see docs/PRODUCTION.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from discovery.cli.common import (
    MatterOpt,
    app,
    audited,
    err_console,
    guard,
    open_existing,
    warn_partial,
)
from discovery.safetext import visible

MAX_BATES = 999_999_999


@app.command()
def produce(
    out: Annotated[Path, typer.Option("--out", "-o", help="New or empty folder to write.")],
    prefix: Annotated[str, typer.Option(help="Bates prefix: ABC gives ABC-000001.")],
    tag: Annotated[str | None, typer.Option(help="Produce the messages with this tag.")] = None,
    query: Annotated[str | None, typer.Option(help="Produce the hits of this query.")] = None,
    matter: MatterOpt = None,
    start: Annotated[int, typer.Option(min=1, max=MAX_BATES, help="First Bates number.")] = 1,
    slice_: Annotated[
        str,
        typer.Option(
            "--slice", help="day, thread, conversation, context:N or context:10min/2h (documents)."
        ),
    ] = "day",
    tz: Annotated[
        str | None,
        typer.Option(help="Zone for days and shown times (default: the matter's display zone)."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Comma list of rsmf, pdf, text, images (TIFF pages).")
    ] = "rsmf,pdf,text",
    withhold_tag: Annotated[
        list[str] | None,
        typer.Option(
            help="Withhold messages with this tag, any case (repeatable; default privileged)."
            " A tag no message carries is refused."
        ),
    ] = None,
    withhold_metadata: Annotated[
        str | None,
        typer.Option(
            help="What a withheld message's placeholder keeps: speaker,time (default), time,"
            " speaker or none."
        ),
    ] = None,
    confidentiality: Annotated[
        str, typer.Option(help="Legend stamped on every page (e.g. CONFIDENTIAL).")
    ] = "",
) -> None:
    """Produce selected messages: RSMF and Bates-stamped PDF slices, load files, privilege log.

    Messages with a withhold tag never appear in a produced file: each is a
    placeholder ("Withheld — Privileged") and a row of the privilege log. The
    same selection and options always give the same files, byte for byte; the
    production is logged, and 'discovery audit --rerun ID' rebuilds it and
    compares every file's SHA-256.

    \b
    Example:
      discovery produce --tag responsive --out prod-001 --prefix ACME --slice day
    """
    with guard():
        from discovery.produce.document import WITHHOLD_FIELDS, parse_withhold_metadata
        from discovery.produce.production import (
            DEFAULT_WITHHOLD,
            Options,
            audit_settings,
            parse_formats,
            select,
        )
        from discovery.produce.production import produce as run
        from discovery.tags import known_tag

        keep = parse_withhold_metadata(withhold_metadata)
        with open_existing(matter) as m:
            # A misspelt withhold tag would produce what it was meant to withhold.
            withheld = tuple(known_tag(m.store, t) for t in withhold_tag or ())
            options = Options(
                prefix=prefix,
                start=start,
                slice=slice_,
                tz=tz or str(getattr(m.tz, "key", "UTC")),
                formats=parse_formats(fmt),
                withhold_tags=withheld or DEFAULT_WITHHOLD,
                withhold_metadata=tuple(f for f in WITHHOLD_FIELDS if f in keep),
                confidentiality=confidentiality,
            ).checked()
            view = m.view() if query is not None else None  # an ingest may be running
            selection = select(m, tag=tag, query=query, view=view)
            result = _run_with_progress(lambda p: run(m, selection, options, out, p))
            err = err_console()
            err.print(
                f"{result.documents} documents, {result.first} to {result.last}"
                f" ({result.pages} pages), {result.produced} messages produced,"
                f" {result.withheld} withheld ({result.slip_sheets} slip sheets),"
                f" {len(result.files) + 1} files in {visible(str(out))}",
                markup=False,
            )
            if result.missing_glyphs:
                shown = " ".join(f"U+{ord(c):04X}" for c in sorted(result.missing_glyphs)[:10])
                err.print(
                    f"warning: no installed font draws {len(result.missing_glyphs)} character(s)"
                    f" ({shown}); the PDFs show them as [U+XXXX]",
                    markup=False,
                )
            from discovery.search import parse_query

            warn_partial(view)
            audited(
                m,
                "produce",
                selection.text if selection.kind == "query" else selection.canonical,
                parse_query(selection.text) if selection.kind == "query" else None,
                selection.ids,
                include_system=selection.kind == "tag",
                view=view,
                **audit_settings(result, selection, options),
            )


def _run_with_progress(job):  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("producing"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console(),
        transient=True,
    ) as bar:
        task = bar.add_task("documents", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return job(step)
