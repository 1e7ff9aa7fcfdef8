"""The ``discovery`` command line: thin typer commands over the library.

Only this package imports typer. :mod:`discovery.cli.common` holds the app, the
consoles, the error guard and the audit hook; each other module registers its
commands on the app, so ``discovery --help`` lists them all and the console
script is ``discovery.cli:main``.

Start-up: :func:`main` registers only the module of the command it is asked to
run (``discovery search ...`` builds the options of ``search``, ``show`` and
``export``, not those of every command), and everything for ``--help``, shell
completion or a name it does not know. ``discovery.cli.app`` read from
outside (tests, ``typer.testing``) is the app with every command registered.
A new command module goes in :data:`MODULES`; a new command in
:data:`COMMANDS` (a test checks both against what the modules register).
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import Any

from discovery.errors import ExitStatus

__all__ = ["MAX_CONTEXT", "MAX_LIMIT", "MAX_SHOW_CONTEXT", "app", "main"]

MODULES = ("explain", "ingest", "matters", "produce", "search", "reports", "sources", "tags")
"""The command modules, in the order ``discovery --help`` lists their commands (``reports``
imports ``search`` for its ``--context`` option, so search's commands come first)."""

COMMANDS = {
    "explain": "explain",
    "ingest": "ingest",
    "matters": "matters",
    "reindex": "matters",
    "tui": "matters",
    "produce": "produce",
    "batch": "reports",
    "exhibits": "reports",
    "audit": "reports",
    "search": "search",
    "show": "search",
    "export": "search",
    "report": "sources",
    "tag": "tags",
    "tags": "tags",
}
"""Each command's name and the module (of :data:`MODULES`) that registers it."""


def register(modules: tuple[str, ...] = MODULES) -> Any:
    """Import the command modules (each registers its commands on the app); the app."""
    for name in modules:
        importlib.import_module(f"discovery.cli.{name}")
    from discovery.cli.common import app

    return app


def _wanted(argv: list[str]) -> tuple[str, ...]:
    """The command modules a run with these arguments needs: the command's own, or all."""
    completing = any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ)
    if completing or not argv or argv[0].startswith("-") or argv[0] not in COMMANDS:
        return MODULES
    return (COMMANDS[argv[0]],)


def __getattr__(name: str) -> Any:
    if name == "app":
        return register()
    if name in ("MAX_CONTEXT", "MAX_LIMIT", "MAX_SHOW_CONTEXT"):
        from discovery.cli import common

        return getattr(common, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point."""
    # numpy (imported by searches) starts one OpenBLAS thread per core when it is
    # loaded; nothing here uses BLAS, and on a busy machine those threads cost
    # start-up time (docs/BENCHMARKS.md, "Fresh `discovery search` process").
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # typer, rich and the command's module make some 100,000 objects that live as long
    # as the process; the cyclic garbage collector went over them again and again while
    # they were made (about 30 ms of a fresh search, docs/BENCHMARKS.md). They are made
    # with it paused, then frozen (left out of every later collection); what the
    # command itself makes is collected as usual.
    collecting = gc.isenabled()
    gc.disable()
    try:
        app = register(_wanted(sys.argv[1:]))
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("discovery: interrupted\n")
        sys.exit(int(ExitStatus.INTERRUPTED))
