"""What every ``discovery`` command shares: the app, consoles, the error guard, the audit hook.

:func:`guard` is the one place where our errors become one or two lines on
stderr and an exit status (PRODUCT.md §2). Tracebacks are never shown (they
could print privileged message text); set ``DISCOVERY_DEBUG=1`` to let them
through while developing.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from typer.core import TyperCommand

from discovery import __version__, files
from discovery.errors import DiscoveryError, ExitStatus, UsageError
from discovery.safetext import visible

app = typer.Typer(
    name="discovery",
    help="Search chat exports like evidence: exact phrase, proximity and boolean queries.\n\n"
    "Example: discovery search '\"ask forgiveness\" w/5 permission' --matter demo",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        print(f"discovery {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


class QueryCommand(TyperCommand):
    """A command whose argument is a query: ``discovery search -libgen`` hands ``-libgen``
    to the query parser, which refuses it with a caret and a hint (``use NOT``), instead
    of the option parser's bare "No such option: -l".

    A word starting with a single ``-`` that is none of the command's short options
    (nor the value of the option before it) is moved behind ``--``, where the
    option parser reads it as the query.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self._dash_words_last(args))

    def _dash_words_last(self, args: list[str]) -> list[str]:
        options = [p for p in self.params if getattr(p, "param_type_name", "") == "option"]
        known = {o for p in options for o in (*p.opts, *p.secondary_opts)}
        valued = {o for p in options if not (p.is_flag or p.count) for o in p.opts}  # type: ignore[attr-defined]
        kept: list[str] = []
        moved: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                kept.extend(args[i:])
                break
            if arg in valued:  # the option and its value, whatever the value looks like
                kept.extend(args[i : i + 2])
                i += 2
                continue
            dash_word = arg.startswith("-") and not arg.startswith("--") and len(arg) > 1
            (moved if dash_word and arg[:2] not in known else kept).append(arg)
            i += 1
        if not moved:
            return args
        return [*kept, *([] if "--" in kept else ["--"]), *moved]


MAX_MESSAGE_ID = 2**63 - 1
"""The largest id SQLite can hold; a longer number is not a control number."""

MAX_CONTEXT = 100
"""Most messages of context each side of a hit (``search``, ``exhibits``)."""
MAX_SHOW_CONTEXT = 1000
"""Most messages each side for ``show``, which reads one conversation."""
MAX_LIMIT = 1_000_000
"""Most hits ``--limit`` asks for (``--all`` shows every hit)."""

MatterOpt = Annotated[
    str | None,
    typer.Option(
        "--matter",
        "-m",
        help="Matter name (a folder under the home; default: the one set with"
        " 'discovery matters --use', else 'default').",
        show_default=False,
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Overwrite output files that exist already.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]

T = TypeVar("T")
STDOUT = "-"
"""An output file named ``-`` is standard output."""


class PipeClosed(Exception):
    """Standard output was closed by its reader (``discovery search ... | head``)."""


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (tests): nothing to flush
        pass


class _Out(Console):
    def on_broken_pipe(self) -> None:
        self.quiet = True
        _silence_stdout()
        raise PipeClosed


def out_console() -> Console:
    # No emoji codes: ':smile:' in a printed string stays as written (and rich's
    # table of codes is not loaded).
    return _Out(soft_wrap=False, highlight=False, emoji=False)


@contextmanager
def pipe_closed_ok() -> Iterator[list[bool]]:
    """Write results; if the reader closes the pipe, stop writing quietly.

    Yields a one-item list that holds True afterwards when the pipe closed, so a
    command can still log what it ran before it exits 0.
    """
    closed = [False]
    try:
        yield closed
        sys.stdout.flush()
    except (BrokenPipeError, PipeClosed):
        _silence_stdout()
        closed[0] = True


def file_path(text: str) -> Path:
    """An output file's path as typed (the ``parser`` of a file option). A path ending in a
    separator, ``.`` or ``..`` names a folder, which :class:`~pathlib.Path` would quietly
    turn into a file of the folder's name: refused."""
    if text != STDOUT and text.replace(os.sep, "/").rsplit("/", 1)[-1] in ("", ".", ".."):
        raise typer.BadParameter(
            f"{visible(text)} names a folder: give the name of the file to write in it"
        )
    return Path(text)


def check_new(path: Path | None, force: bool) -> None:
    """Refuse an output file that cannot be written, before any work is done.

    An existing file is not overwritten unless ``--force`` is given; a folder, or
    a path under a file, is bad usage (exit 2). Missing folders are fine:
    :func:`output_file` creates them.
    """
    if path is None or str(path) == STDOUT:
        return
    if path.is_dir():
        raise UsageError(f"{path} is a folder: give the name of the file to write in it")
    blocking = next((p for p in path.parents if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise UsageError(f"cannot write {path}: {blocking} is a file, not a folder")
    if path.exists() and not force:
        raise DiscoveryError(f"{path} exists already: add --force to overwrite it")


def write_file(path: Path, writer: Callable[[Path], T]) -> T:
    """Run ``writer(path)``; an OS error becomes our one-line "cannot write" message."""
    try:
        return writer(path)
    except OSError as exc:
        raise DiscoveryError(f"cannot write {path}: {exc.strerror or exc}") from None


def shown_path(path: Path) -> str:
    return "standard output" if str(path) == STDOUT else str(path)


@contextmanager
def output_file(path: Path, *, force: bool, closed: list[bool] | None = None) -> Iterator[Path]:
    """The path a writer should write to: ``path``, or for ``-`` a temporary file whose
    bytes go to standard output once the writer is done.

    ``closed`` (a one-item list) holds True afterwards when the reader of standard
    output closed it before every byte was written (``--out - | head``).
    """
    check_new(path, force)
    if str(path) != STDOUT:
        if not path.parent.is_dir():  # missing folders are created, owner-only
            try:
                files.private_dir(path.parent)
            except OSError as exc:
                raise DiscoveryError(
                    f"cannot create the folder {path.parent}: {exc.strerror or exc}"
                ) from None
        yield path
        return
    import shutil  # only an output to standard output needs these (start-up)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="discovery-out-") as folder:
        tmp = Path(folder) / "out"
        yield tmp
        with tmp.open("rb") as f, pipe_closed_ok() as shut:
            sys.stdout.flush()
            shutil.copyfileobj(f, sys.stdout.buffer)
        if closed is not None:
            closed[0] = shut[0]


INTERRUPTED = {"interrupted": "standard output was closed by its reader before the end"}
"""The audit settings of an output that did not reach its reader whole (docs/DESIGN.md)."""


def screen_safe(rows: Iterable[Sequence[str]], out: Path | None = None) -> Iterable[Sequence[str]]:
    """CSV rows as they may be written to ``out`` (None or ``-``: standard output).

    When they go to standard output and that is a terminal, every cell passes
    through :func:`discovery.safetext.visible`, so evidence cannot control the
    screen (``\x1b`` shows as ``␛``). To a file or a pipe the cells are left
    exact, since the CSV is evidence.
    """
    if (out is not None and str(out) != STDOUT) or not sys.stdout.isatty():
        return rows
    return ([visible(cell) for cell in row] for row in rows)


def err_console() -> Console:
    return Console(stderr=True, highlight=False, emoji=False)


def say(text: str) -> None:
    """Write a message (an error, a warning) to stderr, control characters made visible.

    Not through rich: rich wraps long lines at the terminal width (80 when
    piped), which breaks a message in two and moves a caret off its column.
    Messages can carry evidence (a file name), so nothing in them reaches the
    terminal as a control sequence (:func:`discovery.safetext.visible`).
    """
    sys.stderr.write(visible(text) + "\n")
    sys.stderr.flush()


def warn_partial(view: Any) -> None:
    """The one-line warning for a search that saw a matter mid-ingest (else nothing)."""
    if view is not None and view.partial:
        say(f"discovery: warning: {view.warning()}")


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def print_json(obj: Any) -> None:
    """One JSON line on stdout.

    Evidence stays readable (no ASCII escapes for letters), but the characters
    a terminal could obey that JSON leaves raw (DEL, the C1 controls such as
    the one-byte CSI, line and paragraph separators, lone surrogates) are written as ``\\uXXXX``
    escapes: the same JSON value, safe to print.
    """
    text = json.dumps(obj, ensure_ascii=False)
    print(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


@contextmanager
def guard() -> Iterator[None]:
    """Turn our errors into a short message and an exit status."""
    try:
        yield
    except DiscoveryError as exc:
        say(f"discovery: {exc}")
        raise typer.Exit(int(exc.exit_status)) from None
    except KeyboardInterrupt:
        say("discovery: interrupted")
        raise typer.Exit(int(ExitStatus.INTERRUPTED)) from None
    except (BrokenPipeError, PipeClosed):
        # The reader of our output went away (`| head`): nothing to report.
        _silence_stdout()
        raise typer.Exit(int(ExitStatus.OK)) from None
    except typer.Exit:
        raise
    except sqlite3.Error as exc:  # one the library did not name (a read of a damaged store)
        if os.environ.get("DISCOVERY_DEBUG"):
            raise
        say(f"discovery: a case store or the audit log cannot be used ({exc})")
        raise typer.Exit(int(ExitStatus.ERROR)) from None
    except Exception as exc:
        if os.environ.get("DISCOVERY_DEBUG"):
            raise
        say(
            f"discovery: internal error ({type(exc).__name__}); run again with"
            " DISCOVERY_DEBUG=1 for details"
        )
        raise typer.Exit(int(ExitStatus.ERROR)) from None


def open_existing(matter: str | None) -> Any:
    from discovery.matter import open_matter

    return open_matter(matter)


# --- the audit log ---------------------------------------------------------
def audited(
    m: Any, command: str, query: str, node: Any, ids: Any, *, include_system: bool, **extra: Any
) -> None:
    """Record one audit entry after the results are out; a failure is reported, exit 1."""
    if not audit_one(m, command, query, node, ids, include_system=include_system, **extra):
        raise typer.Exit(int(ExitStatus.ERROR))


def audit_one(
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
        say(
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
    "produce": "the production was written",
    "tag": "the tags were changed",
    "untag": "the tags were changed",
    "describe": "the privilege descriptions were stored",
    "reindex": "the index was rebuilt",
}
"""What already happened when an audit write fails, for the warning."""
