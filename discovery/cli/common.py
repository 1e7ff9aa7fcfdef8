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
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console

from discovery.errors import DiscoveryError, ExitStatus
from discovery.safetext import visible

app = typer.Typer(
    name="discovery",
    help="Search chat exports like evidence: exact phrase, proximity and boolean queries.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

MAX_MESSAGE_ID = 2**63 - 1
"""The largest id SQLite can hold; a longer number is not a control number."""

MAX_CONTEXT = 100
"""Most messages of context each side of a hit (``search``, ``exhibits``)."""
MAX_SHOW_CONTEXT = 1000
"""Most messages each side for ``show``, which reads one conversation."""
MAX_LIMIT = 1_000_000
"""Most hits ``--limit`` asks for (``--all`` shows every hit)."""

MatterOpt = Annotated[
    str, typer.Option("--matter", "-m", help="Matter name (a folder under $DISCOVERY_HOME).")
]


def out_console() -> Console:
    return Console(soft_wrap=False, highlight=False)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


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


def open_existing(matter: str) -> Any:
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
}
"""What already happened when an audit write fails, for the warning."""
