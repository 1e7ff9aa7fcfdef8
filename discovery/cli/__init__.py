"""The ``discovery`` command line: thin typer commands over the library.

Only this package imports typer. :mod:`discovery.cli.common` holds the app, the
consoles, the error guard and the audit hook; each other module registers its
commands on the app, so ``discovery --help`` lists them all and the console
script is ``discovery.cli:main``.
"""

from __future__ import annotations

import sys

from discovery.cli import (  # noqa: F401  (register commands)
    explain,
    ingest,
    matters,
    produce,
    reports,
    search,
    sources,
    tags,
)
from discovery.cli.common import MAX_CONTEXT, MAX_LIMIT, MAX_SHOW_CONTEXT, app
from discovery.errors import ExitStatus

__all__ = ["MAX_CONTEXT", "MAX_LIMIT", "MAX_SHOW_CONTEXT", "app", "main"]


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("discovery: interrupted\n")
        sys.exit(int(ExitStatus.INTERRUPTED))
