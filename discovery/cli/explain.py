"""``discovery explain``: how a query is read, what each part finds, and what to watch for."""

from __future__ import annotations

from typing import Annotated

import typer

from discovery.cli.common import (
    MatterOpt,
    QueryCommand,
    app,
    guard,
    open_existing,
    out_console,
    print_json,
)


@app.command(cls=QueryCommand)
def explain(
    query: Annotated[str, typer.Argument(help="The query to explain.")],
    matter: MatterOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    system: Annotated[
        bool, typer.Option("--system", help="Count system events (joins, renames, calls) too.")
    ] = False,
) -> None:
    """Show the parsed query, its words and expansions with counts, per-clause hits, warnings.

    \b
    Example:
      discovery explain 'apply~ w/5 (ba%nana OR 10~~20)' --matter demo
    """
    with guard():
        from discovery.explain import explain as run_explain

        with open_existing(matter) as m:
            expl = run_explain(m, query, include_system=system)
        if as_json:
            print_json(expl.as_dict())
            return
        from discovery.render import explain_view

        out_console().print(explain_view(expl))
