"""``discovery ingest``: import sources and print the ingest report."""

from __future__ import annotations

import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from discovery import config
from discovery.cli.common import (
    MatterOpt,
    app,
    err_console,
    guard,
    out_console,
    print_json,
    say,
)
from discovery.errors import ExitStatus, UsageError
from discovery.safetext import visible


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders or zips to import.")],
    matter: MatterOpt = None,
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
        str | None,
        typer.Option(
            help="Zone for timestamps that carry none (WhatsApp, transcripts); default UTC."
        ),
    ] = None,
    date_order: Annotated[
        str | None,
        typer.Option(
            "--date-order",
            help="DMY, MDY or YMD: how to read numeric dates such as 03/04/05 (default: inferred"
            " per file and line layout; the report says which order was used and why).",
        ),
    ] = None,
    ocr: Annotated[
        str,
        typer.Option(
            "--ocr",
            help="auto: OCR images and PDF pages without text among the attachments; off: never"
            " (they are reported unread); force: also every PDF page that has text.",
        ),
    ] = "auto",
    ocr_lang: Annotated[
        str,
        typer.Option(
            "--ocr-lang",
            help="Tesseract languages joined by '+' (eng, eng+deu); each needs its package"
            " tesseract-ocr-<lang>.",
        ),
    ] = "eng",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="If another ingest is writing the matter, wait for it to finish."
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=1024,
            help="Read the sources and index the shards on a local Dask cluster of N worker"
            " processes (docs/SCALE.md).",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Use the running Dask cluster at tcp://HOST:PORT instead; the matter must be"
            " on storage every worker reaches (docs/SCALE.md).",
        ),
    ] = None,
    shards: Annotated[
        str | None,
        typer.Option(
            "--shards",
            help="For a matter this ingest creates: its index in K shards, or auto (one per GiB"
            " of the collection).",
        ),
    ] = None,
) -> None:
    """Import chat exports into a matter and report what was added, skipped and why.

    Unreadable entries inside a source are listed as problems (path:line) and
    skipped; the rest of the source is imported. Exit status 0 when every
    source was imported (or had been already), 1 when a whole source failed or
    was not recognised; the other sources are imported either way. A run that
    finds nothing to import (an empty folder, only files that are not exports)
    exits 1 and creates no matter. The report is printed however the run ends
    (interrupted, disk full), and every source's report is kept in the matter:
    see 'discovery report'.

    Attachments the source holds (mail attachments, RSMF and WhatsApp media,
    Slack and Teams files in the export) are extracted and become searchable
    family members (MSG-00000042-A001), OCR'd as --ocr says; a problem with one
    is reported and its message still imports.

    Only one ingest writes a matter at a time: a second one refuses (exit 1)
    unless --wait is given. Searches meanwhile answer over what is indexed.

    \b
    Examples:
      discovery ingest fixtures/slack/acme --matter demo --custodian "Dana Whitfield"
      discovery ingest collection/ --matter demo --custodian-map auto
      discovery ingest collection/ --matter big --shards 4 --workers 2
    """
    with guard():
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        from discovery.custodians import load_custodian_map
        from discovery.ingest import IngestReport
        from discovery.ingest import ingest as run_ingest
        from discovery.matter import STORE_FILE, open_matter
        from discovery.shards import cluster, on_cluster, shard_option

        zone = config.zone(tz or "UTC")
        mapping = None if custodian_map is None else load_custodian_map(custodian_map)
        name = matter or config.default_matter()
        folder = config.matter_dir(name)
        is_new = not (folder / STORE_FILE).exists()
        count = shard_option(shards, paths)
        if shards is not None and not is_new:
            raise UsageError(
                f"matter {name!r} exists: its shards were set when it was created;"
                " leave out --shards"
            )
        err = err_console()
        report = IngestReport()
        stored = 0

        def waiting(holder: Any) -> None:
            who = f" ({holder.describe()})" if holder is not None else ""
            say(f"discovery: waiting for the ingest writing matter {name!r}{who} to finish")

        try:
            with (
                interruptible(),
                (
                    nullcontext()
                    if workers is None and scheduler is None
                    else cluster(workers, scheduler)
                ) as client,
                open_matter(name, create=True, shards=count) as m,
                Progress(
                    SpinnerColumn(),
                    TextColumn("{task.description}"),
                    BarColumn(),
                    TextColumn("{task.completed:,.0f}{task.fields[of]}"),
                    TimeElapsedColumn(),
                    console=err,
                    transient=True,
                    disable=not err.is_terminal,
                ) as bar,
            ):
                # Shown from the first moment: finding sources (unpacking zips) can take a while.
                reading = bar.add_task("messages read", total=None, of="")
                tasks: dict[str, Any] = {"messages": reading}

                def progress(stage: str, advance: int, total: int | None) -> None:
                    if stage not in tasks:
                        label = "sources done" if stage == "sources" else stage
                        tasks[stage] = bar.add_task(
                            label, total=total, of=f" of {total:,}" if total else ""
                        )
                    bar.update(tasks[stage], advance=advance)

                try:
                    run_ingest(
                        m,
                        paths,
                        custodian=custodian,
                        fmt=fmt,
                        tz=zone,
                        tz_name=tz or "UTC",
                        progress=progress,
                        custodian_map=mapping,
                        tz_defaulted=tz is None,
                        date_order=date_order,
                        report=report,
                        wait=wait,
                        on_wait=waiting,
                        ocr=ocr,
                        ocr_lang=ocr_lang,
                        stage=None if client is None else on_cluster(m, client),
                    )
                finally:
                    stored = m.store.counts()["sources"]
        finally:
            if report.sources:  # also when the run stopped: what was done is reported
                _print_report(report, name, custodian, as_json)
        if is_new and not stored:
            shutil.rmtree(folder, ignore_errors=True)  # made by this run, holding nothing
        if not report.sources:
            shown = ", ".join(str(p) for p in paths)
            say(f"discovery: no files to import in {shown}" + ("; no matter created" * is_new))
            raise typer.Exit(int(ExitStatus.ERROR))
        if is_new and not stored:
            say(f"discovery: nothing was imported, so matter {name!r} was not created")
        if report.failed:
            raise typer.Exit(int(ExitStatus.ERROR))


def _print_report(report: Any, matter: str, custodian: str | None, as_json: bool) -> None:
    from discovery.ingest import DEFAULT_CUSTODIAN
    from discovery.render import (
        already_imported_lines,
        family_lines,
        ingest_table,
        problem_lines,
        source_notes,
    )

    if as_json:
        rows = [
            {**s.as_dict(), "recorded_problems": s.recorded_problems}
            if s.status == "already imported"
            else s.as_dict()
            for s in report.sources
        ]
        print_json(rows)
        return
    out = out_console()
    out.print(ingest_table(report, out.width), soft_wrap=True)  # paths unbroken
    for line in already_imported_lines(report):
        out.print(line, markup=False, soft_wrap=True)
    # One line each, never wrapped: reviewers grep these for path:line.
    for line in problem_lines(report):
        out.print(f"problem: {line}", markup=False, soft_wrap=True)
    for line in source_notes(report):
        out.print(visible(line, one_line=True), markup=False, soft_wrap=True)
    for line in family_lines(report):
        out.print(line, markup=False, soft_wrap=True)
    who = custodian or DEFAULT_CUSTODIAN
    for path in report.unplaced:
        out.print(
            f"not placed by --custodian-map (custodian {who!r}): {visible(path, one_line=True)}",
            markup=False,
            soft_wrap=True,
        )
    out.print(f"{report.added} messages added to matter {matter!r}", markup=False, soft_wrap=True)


@contextmanager
def interruptible() -> Iterator[None]:
    """Make SIGTERM and SIGHUP stop the ingest as Ctrl-C does.

    Python's default for them ends the process on the spot, leaving the
    extracted evidence in the work folder; as an interrupt, every ``finally``
    runs: the open transaction is rolled back, the work folder removed and the
    report so far printed (exit status 130).
    """

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    kept = {sig: signal.signal(sig, stop) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, handler)


_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
