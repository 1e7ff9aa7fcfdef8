"""``discovery tag`` (bulk tagging by query, audited) and ``discovery tags`` (tags with counts)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from discovery.cli.common import (
    JsonOpt,
    MatterOpt,
    QueryCommand,
    app,
    audited,
    guard,
    open_existing,
    out_console,
    pipe_closed_ok,
    print_json,
    warn_partial,
)
from discovery.errors import DiscoveryError, UsageError

CONFIRM_ABOVE = 100
"""Tag changes touching more messages than this ask first (or need --yes)."""


@app.command("tag", cls=QueryCommand)
def tag_command(
    query: Annotated[str, typer.Argument(help="The query whose hits to tag or untag.")],
    add: Annotated[str | None, typer.Option("--add", help="Put this tag on every hit.")] = None,
    remove: Annotated[
        str | None, typer.Option("--remove", help="Take this tag off every hit.")
    ] = None,
    description: Annotated[
        str | None,
        typer.Option(
            "--description",
            help="Store this privilege description on every hit (the privilege log's"
            " description column); an empty one removes it.",
        ),
    ] = None,
    matter: MatterOpt = None,
    system: Annotated[
        bool, typer.Option("--system", help="Include system events among the hits.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help=f"Do not ask when more than {CONFIRM_ABOVE} messages."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Tag (or untag) every hit of a query; the change is recorded in the audit log.

    Tags are case-insensitive (Hot is hot). Removing a tag no message has is
    an error that names the tags there are. --description stores the privilege
    description a production's privilege log shows for each hit (with or
    without --add). A change touching more than 100 messages asks first; give
    --yes in scripts.

    \b
    Examples:
      discovery tag 'libgen OR "pirated books"' --add responsive --matter demo
      discovery tag 'tag:hot AND speaker:marcus' --remove hot --yes
      discovery tag 'speaker:counsel' --add privileged --description "Legal advice"
    """
    with guard():
        from discovery.search import Searcher
        from discovery.tags import known_tag, normalise_tag

        if add is not None and remove is not None:
            raise UsageError("give --add TAG or --remove TAG, not both")
        if add is None and remove is None and description is None:
            raise UsageError("give --add TAG, --remove TAG or --description TEXT")
        with open_existing(matter) as m:
            tag = None
            if add is not None or remove is not None:
                tag = normalise_tag(add) if add is not None else known_tag(m.store, remove or "")
            view = m.view()  # during an ingest: the messages indexed so far, and a warning
            node, hits = Searcher(m).match(query, include_system=system, view=view)
            ids = sorted(hits)
            verb = "tag" if add is not None else "untag" if remove is not None else "describe"
            if len(ids) > CONFIRM_ABOVE and not yes:
                what = f" {tag!r}" if tag is not None else ""
                _confirm(f"{verb} {len(ids)} messages{what}?")
            obj: dict[str, object] = {}
            lines = []
            changed = 0
            text = (description or "").strip()
            changed_ids: list[int] = []
            if tag is not None:
                changed_ids = _change(m, ids, tag, verb)
                changed = len(changed_ids)
                obj = {"tag": tag, "action": verb, "hits": len(ids), "changed": changed}
                lines.append(_summary(verb, tag, len(ids), changed))
            if description is not None:
                _change(m, ids, text, "describe")
                obj = obj or {"action": "describe", "hits": len(ids)}
                obj["description"] = text
                s = "" if len(ids) == 1 else "s"
                did = f"description {text!r} stored on" if text else "description removed from"
                lines.append(f"{did} {len(ids)} message{s}")
            with pipe_closed_ok():
                if as_json:
                    print_json(obj)
                else:
                    for line in lines:
                        out_console().print(line, markup=False)
            warn_partial(view)
            if tag is not None:
                audited(m, verb, query, node, ids, include_system=system, tag=tag,
                        via="cli", view=view, **_changed(changed_ids))  # fmt: skip
            if description is not None:
                audited(m, "describe", query, node, ids, include_system=system,
                        description=text, via="cli", view=view)  # fmt: skip


def _change(m: object, ids: list[int], value: str, verb: str) -> list[int]:
    """Tag, untag or describe ``ids``; returns the ids changed. A busy store is our error."""
    from discovery.tags import change_tag

    store = m.store  # type: ignore[attr-defined]
    try:
        if verb == "describe":
            with store.guarded():
                store.set_privilege_description(ids, value)
            return ids
        return change_tag(store, ids, value, add=verb == "tag")
    except Exception as exc:  # sqlite3.OperationalError: an ingest holds the store
        done = "described" if verb == "describe" else f"{verb}ged"
        raise DiscoveryError(f"nothing was {done}: the matter is busy ({exc})") from None


def _changed(ids: list[int]) -> dict[str, object]:
    """The audit settings naming the messages a tag change changed: how many, the SHA-256 of
    their sorted ids (as a search's result hash) and every control number."""
    from discovery.model import control_number
    from discovery.search import result_hash

    return {
        "changed": len(ids),
        "changed_hash": result_hash(ids),
        "control_numbers": [control_number(i) for i in ids],
    }


def _confirm(question: str) -> None:
    if not sys.stdin.isatty():
        raise UsageError(f"{question} Add --yes to confirm (no terminal to ask on)")
    if not typer.confirm(question, default=False):
        raise DiscoveryError("nothing changed")


def _summary(verb: str, tag: str, hits: int, changed: int) -> str:
    s = "" if hits == 1 else "s"
    if verb == "tag":
        return (
            f"tagged {hits} message{s} {tag!r} ({changed} newly, {hits - changed} had it already)"
        )
    return f"untagged {changed} of {hits} message{s} {tag!r} ({hits - changed} did not have it)"


@app.command("tags")
def tags_command(matter: MatterOpt = None, as_json: JsonOpt = False) -> None:
    """List the review tags of a matter with the number of messages carrying each.

    \b
    Example:
      discovery tags --matter demo
    """
    with guard():
        from rich.text import Text

        from discovery.render import Column, fitted_table
        from discovery.safetext import visible

        with open_existing(matter) as m:
            counts = m.store.tag_counts()
        with pipe_closed_ok():
            if as_json:
                for tag, n in counts:
                    print_json({"tag": tag, "messages": n})
                return
            out = out_console()
            if not counts:
                out.print("no tags yet: tag hits in 'discovery tui' or with 'discovery tag'")
                return
            rows = [(Text(visible(t, one_line=True)), str(n)) for t, n in counts]
            columns = (Column("tag"), Column("messages", right=True, whole=True))
            out.print(fitted_table(columns, rows, out.width))
