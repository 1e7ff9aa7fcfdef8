"""The review screen, driven with Textual's Pilot on the acme Slack fixture.

Every key path is exercised and asserted on widget state and on the case
store; SVG snapshots (pytest-textual-snapshot) pin the main screens at 80x24
and 120x40. Regenerate them with ``pytest tests/test_tui.py --snapshot-update``
and look at the SVGs before accepting them.
"""

from __future__ import annotations

import asyncio
import csv
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.binding import Binding
from textual.pilot import Pilot
from typer.testing import CliRunner

from discovery.cli import app as cli_app
from discovery.export import HIT_COLUMNS
from discovery.matter import Matter, open_matter
from discovery.search import Searcher, result_hash
from discovery.tags import normalise_tag
from discovery.tui import Filters, ReviewApp, Session
from discovery.tui.session import combine
from tests.conftest import FIXTURES

pytestmark = pytest.mark.tui

ACME = FIXTURES / "slack" / "acme"
LIBGEN = ["MSG-00000016", "MSG-00000029", "MSG-00000039", "MSG-00000045"]
"""The four acme messages that mention Libgen, in time order."""

Scenario = Callable[[ReviewApp, Pilot[None]], Awaitable[None]]


@pytest.fixture
def matter(acme_home: Path, discovery_home: Path) -> Iterator[Matter]:
    """This test's own copy of the acme matter, open."""
    shutil.copytree(acme_home, discovery_home)
    with open_matter("default") as m:
        yield m


@pytest.fixture
def review(matter: Matter) -> Iterator[ReviewApp]:
    session = Session(matter)
    yield ReviewApp(session, blink=False)
    session.close()


def drive(app: ReviewApp, scenario: Scenario, size: tuple[int, int] = (120, 40)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await scenario(app, pilot)

    asyncio.run(main())


async def settle(app: ReviewApp, pilot: Pilot[Any]) -> None:
    """Wait for the workers (search, export) and the messages they post, again while a
    worker is left or keys are held for a dialog: in a burst, a worker can start after
    the one waited for ends (an export after the search its dialog waited for)."""
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        if not len(app.workers) and not app.holding_keys:
            return


async def search(app: ReviewApp, pilot: Pilot[Any], query: str, *, type_it: bool = False) -> None:
    """Enter a query in the query bar (typed key by key, or pasted) and wait for its hits."""
    await pilot.press("slash")
    app.query_bar.input.value = "" if type_it else query
    await pilot.press(*(query if type_it else ""), "enter")
    await settle(app, pilot)


async def export_to(app: ReviewApp, pilot: Pilot[Any], out: Path) -> None:
    """Open the export dialog, enter ``out`` as the path, confirm and wait for the export."""
    await pilot.press("x")
    await pilot.pause()
    app.screen.query_one("#export-path").value = str(out)  # type: ignore[attr-defined]
    await pilot.press("enter")
    await settle(app, pilot)


def controls(app: ReviewApp) -> list[str]:
    assert app.results is not None
    return [h.message.control for h in app.results.hits]


def current(app: ReviewApp) -> str:
    assert app.hit is not None
    return app.hit.message.control


# --- searching --------------------------------------------------------------------------------


def test_typing_a_query_shows_the_hits_totals_and_the_first_hit_in_context(
    review: ReviewApp,
) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        assert app.focused is app.query_bar.input
        await search(app, pilot, "libgen", type_it=True)
        assert controls(app) == LIBGEN
        assert app.table.row_count == 4
        assert app.focused is app.table
        totals = str(app.query_one("#totals").visual)  # type: ignore[attr-defined]
        assert "4 messages in 4 conversations, 1 custodian" in totals
        assert current(app) == LIBGEN[0]
        assert app.pane.focus_id == 16
        assert 16 in app.pane.message_ids and len(app.pane.message_ids) > 1

    drive(review, scenario)


def test_an_invalid_query_shows_the_caret_as_you_type_and_the_app_lives_on(
    review: ReviewApp,
) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await pilot.press(*"(libgen AND")
        await pilot.pause()
        assert "query error" in app.query_bar.error_message
        assert app.query_bar.query_one("#query-error").display
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.error is not None and app.results is None
        assert app.is_running
        # The caret sits under the column the error names.
        lines = app.query_bar.error_message.splitlines()
        assert lines[-1].index("^") == app.error.column  # type: ignore[attr-defined]
        # Fixing the query clears the error and searches.
        await search(app, pilot, "libgen")
        assert app.query_bar.error_message == ""
        assert not app.query_bar.query_one("#query-error").display
        assert controls(app) == LIBGEN

    drive(review, scenario)


def test_a_query_with_no_hits_says_so(review: ReviewApp) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "zzzznothing")
        assert app.results is not None and app.results.total == 0
        assert "No hits" in str(app.pane.query_one("#body").visual)  # type: ignore[attr-defined]

    drive(review, scenario)


def test_query_history_walks_with_up_and_down(review: ReviewApp) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        await search(app, pilot, "permission")
        await pilot.press("slash")
        app.query_bar.input.value = ""
        await pilot.press("up")
        assert app.query_bar.input.value == "permission"
        await pilot.press("up")
        assert app.query_bar.input.value == "libgen"
        await pilot.press("down")
        assert app.query_bar.input.value == "permission"
        await pilot.press("down")
        assert app.query_bar.input.value == ""
        await pilot.press("escape")
        assert app.focused is app.table

    drive(review, scenario)


# --- walking the hits ---------------------------------------------------------------------------


def test_next_and_previous_hit_with_keys_and_vim_aliases(review: ReviewApp) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        await pilot.press("j")
        assert current(app) == LIBGEN[1]
        assert app.pane.focus_id == 29
        await pilot.press("down")
        assert current(app) == LIBGEN[2]
        await pilot.press("j", "j", "j")  # stops at the last hit
        assert current(app) == LIBGEN[3]
        await pilot.press("k")
        assert current(app) == LIBGEN[2]
        await pilot.press("up", "up", "up")
        assert current(app) == LIBGEN[0]

    drive(review, scenario)


def test_clicking_a_hit_selects_it(review: ReviewApp) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        # Row 3 of the table: the header is row 0 of the widget.
        await pilot.click("#hits", offset=(20, 3))
        await pilot.pause()
        assert current(app) == LIBGEN[2]
        assert app.pane.focus_id == 39

    drive(review, scenario)


def test_next_and_previous_hit_in_the_same_conversation(review: ReviewApp) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen OR books OR licensed")
        hits = app.results.hits if app.results else []
        conv = [h.message.conversation_id for h in hits]
        # A conversation with at least two hits that are not adjacent in the list.
        start = next(
            i for i in range(len(conv)) if any(conv[k] == conv[i] for k in range(i + 2, len(conv)))
        )
        expected = next(k for k in range(start + 1, len(conv)) if conv[k] == conv[start])
        app.table.move_cursor(row=start)
        await pilot.pause()
        await pilot.press("right_square_bracket")
        assert app.index == expected
        assert conv[app.index] == conv[start]
        await pilot.press("left_square_bracket")
        assert app.index == start
        # J and K are the same keys.
        await pilot.press("J")
        assert app.index == expected
        await pilot.press("K")
        assert app.index == start

    drive(review, scenario)


def test_widen_narrow_context_and_jump_to_the_conversation_start(review: ReviewApp) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        await pilot.press("j")  # MSG-29, in the middle of model-training
        default = len(app.pane.message_ids)
        assert app.context == 3
        await pilot.press("plus")
        assert app.context == 5
        assert len(app.pane.message_ids) > default
        await pilot.press("minus", "minus", "minus", "minus")
        assert app.context == 0
        assert app.pane.message_ids == [29]
        await pilot.press("minus")  # stays at 0
        assert app.context == 0
        await pilot.press("equals_sign")
        assert app.context == 1
        assert len(app.pane.message_ids) == 3
        await pilot.press("g")
        first = app.session.matter.store.db.execute(
            "SELECT min(id) FROM messages WHERE conversation_id = ?",
            (app.hit.message.conversation_id if app.hit else 0,),
        ).fetchone()[0]
        assert app.at_start and app.pane.message_ids[0] == first
        assert app.pane.scroll_y == 0
        await pilot.press("g")  # back to the hit
        assert not app.at_start and 29 in app.pane.message_ids

    drive(review, scenario)


# --- tagging ------------------------------------------------------------------------------------


def test_tags_are_stored_and_found_by_tag_queries(review: ReviewApp, matter: Matter) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        await pilot.press("h")  # MSG-16 hot
        await pilot.press("j", "h", "r")  # MSG-29 hot and responsive
        await pilot.press("j", "p")  # MSG-39 privileged
        await pilot.press("j", "h", "h")  # MSG-45 hot, then untagged
        assert app.hit is not None and app.hit.message.tags == ()
        await pilot.press("k")
        assert app.hit is not None and app.hit.message.tags == ("privileged",)
        assert str(app.table.get_cell("2", "tags")) == "P"
        assert str(app.table.get_cell("1", "tags")) == "HR"
        # A tag of one's own, through the small input.
        await pilot.press("t")
        await pilot.press(*"Follow up", "enter")
        await pilot.pause()
        assert app.hit is not None and "follow up" in app.hit.message.tags
        assert str(app.table.get_cell("2", "tags")) == "P+"

    drive(review, scenario)
    searcher = Searcher(matter)
    assert searcher.match("tag:hot")[1] == {16, 29}
    assert searcher.match("tag:responsive")[1] == {29}
    assert searcher.match("tag:privileged")[1] == {39}
    assert searcher.match('tag:"follow up"')[1] == {39}
    # And from the command line, as the issue asks.
    out = CliRunner().invoke(cli_app, ["search", "tag:hot", "--json"])
    assert out.exit_code == 0
    assert sorted(line.split('"id": "')[1][:12] for line in out.stdout.splitlines()) == [
        "MSG-00000016",
        "MSG-00000029",
    ]


def test_a_bad_custom_tag_is_refused_in_place(review: ReviewApp, matter: Matter) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        await pilot.press("t", *"!!", "enter")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "TagScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.screen_stack[0]

    drive(review, scenario)
    assert matter.store.tag_names() == []


def test_tagging_before_any_search_does_nothing(review: ReviewApp, matter: Matter) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await pilot.press("escape", "h", "t")
        await pilot.pause()
        assert app.is_running

    drive(review, scenario)
    assert matter.store.tag_names() == []


# --- filtering ----------------------------------------------------------------------------------


def test_the_filter_panel_narrows_the_hits_with_field_queries(review: ReviewApp) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        await pilot.press("f")
        await pilot.pause()
        await pilot.click("#f-speaker")
        await pilot.press(*"priya")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.filters == Filters(speaker="priya")
        assert controls(app) == [LIBGEN[2]]
        # Dates: a range that keeps the hits of 03-07 and 03-08 only.
        await pilot.press("f")
        await pilot.pause()
        await pilot.click("#f-speaker")
        app.screen.query_one("#f-speaker").value = ""  # type: ignore[attr-defined]
        app.screen.query_one("#f-date_from").value = "2023-03-07"  # type: ignore[attr-defined]
        app.screen.query_one("#f-date_to").value = "2023-03-08"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(app, pilot)
        assert controls(app) == LIBGEN[:2]
        # A bad date is refused in the panel; Clear removes every filter.
        await pilot.press("f")
        await pilot.pause()
        app.screen.query_one("#f-date_to").value = "March 8"  # type: ignore[attr-defined]
        await pilot.click("#f-date_to")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "FilterScreen"
        await pilot.click("#clear")
        await settle(app, pilot)
        assert app.filters.is_empty()
        assert controls(app) == LIBGEN

    drive(review, scenario)


def test_filter_query_text() -> None:
    f = Filters(
        speaker='Dana "D" Whitfield',
        conversation="legal-review",
        custodian="",
        date_from="2023-03-01",
        date_to="2023-03-31",
    )
    assert f.query() == (
        'speaker:"dana d whitfield" AND conversation:"legal review" AND sent:2023-03-01..2023-03-31'
    )
    assert Filters(date_to="2023-03-08").query() == "before:2023-03-09"
    assert Filters(date_from="2023-03-08").query() == "after:2023-03-08"
    assert combine("a OR b", 'speaker:"x"') == '(a OR b) AND speaker:"x"'
    assert combine("", "after:2023-03-08") == "after:2023-03-08"
    assert combine(" libgen ", "") == "libgen"
    from discovery.errors import UsageError

    with pytest.raises(UsageError, match="before it starts"):
        Filters(date_from="2023-03-09", date_to="2023-03-08").query()
    with pytest.raises(UsageError, match="not a date"):
        Filters(date_from="yesterday").query()
    assert normalise_tag("  Follow   UP ") == "follow up"
    with pytest.raises(UsageError):
        normalise_tag("")


# --- export -------------------------------------------------------------------------------------


def test_export_writes_the_hit_set_as_csv(review: ReviewApp, tmp_path: Path) -> None:
    out = tmp_path / "hits.csv"

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        await export_to(app, pilot, out)
        assert app.exported == (out, 4)

    drive(review, scenario)
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == HIT_COLUMNS
    assert [r[0] for r in rows[1:]] == LIBGEN


def test_export_to_an_unwritable_place_is_reported(review: ReviewApp, tmp_path: Path) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        await export_to(app, pilot, tmp_path / "no" / "such" / "h.csv")
        assert app.exported is None and app.is_running

    drive(review, scenario)


# --- help, paging, quit -------------------------------------------------------------------------


def test_help_lists_the_keys_and_closes(review: ReviewApp) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ != "HelpScreen"
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running

    drive(review, scenario)


def test_large_hit_sets_load_page_by_page(
    review: ReviewApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discovery.tui import session as session_module

    monkeypatch.setattr(session_module, "PAGE", 5)

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "the OR a OR we OR i")
        assert app.results is not None
        total = app.results.total
        assert total > 12
        # The first page and the one after it (fetched ahead of the cursor), not all.
        assert len(app.results.hits) == 10 and app.table.row_count == 10
        for _ in range(total + 2):
            await pilot.press("j")
        assert app.index == total - 1
        assert app.table.row_count == total
        assert [h.message.id for h in app.results.hits] == list(app.results.ids)

    drive(review, scenario)


def test_the_first_page_is_what_the_list_shows_and_a_taller_screen_gets_more(
    review: ReviewApp, matter: Matter
) -> None:
    expected = slack_hits_in_time_order(matter)

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "platform:slack")
        assert app.results is not None and app.results.total == len(expected)
        shown = app.table.rows_shown
        assert shown + 5 < len(expected)
        assert len(app.results.hits) == app.table.row_count == shown + 5  # 5 fetched ahead
        await pilot.resize_terminal(120, 80)
        await settle(app, pilot)
        assert app.table.rows_shown > shown + 5
        assert app.table.row_count >= min(len(expected), app.table.rows_shown)
        assert [h.message.id for h in app.results.hits] == expected[: len(app.results.hits)]

    drive(review, scenario)


def test_the_tui_command_opens_nothing_for_a_missing_matter() -> None:
    out = CliRunner().invoke(cli_app, ["tui", "--matter", "nosuch"])
    assert out.exit_code == 1
    assert "no matter 'nosuch'" in out.stderr


# --- snapshots ----------------------------------------------------------------------------------


async def _walked(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ReviewApp)
    await search(app, pilot, '"libgen" OR permission')
    await pilot.press("j", "h")
    await pilot.pause()
    app.clear_notifications()
    await pilot.pause()


async def _bad_query(pilot: Pilot[Any]) -> None:
    await pilot.press(*"(ask AND forgiveness) w/5 (permission AND now)")
    await pilot.pause()


async def _help(pilot: Pilot[Any]) -> None:
    await pilot.press("escape", "question_mark")
    await pilot.pause()


@pytest.fixture
def snap_review(monkeypatch: pytest.MonkeyPatch) -> Iterator[ReviewApp]:
    """The acme matter ingested by a path relative to the project, so the source path
    on screen is the same in every clone."""
    from discovery.ingest import ingest
    from tests.conftest import ROOT

    monkeypatch.chdir(ROOT)
    with open_matter("default", create=True) as m:
        ingest(m, [Path("fixtures/slack/acme")])
        session = Session(m)
        yield ReviewApp(session, blink=False)
        session.close()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize(
    "name,run_before",
    [("hits", _walked), ("syntax_error", _bad_query), ("help", _help)],
)
def test_snapshot(
    snap_review: ReviewApp,
    snap_compare: Any,
    size: tuple[int, int],
    name: str,
    run_before: Callable[[Pilot[Any]], Awaitable[None]],
) -> None:
    """At 80x24 too, the hits screen shows the matter, a year and the footer's essentials."""
    assert snap_compare(snap_review, terminal_size=size, run_before=run_before)


# --- the audit log ------------------------------------------------------------------------------


def test_searches_exports_and_tag_changes_are_audited(review: ReviewApp, tmp_path: Path) -> None:
    from discovery import audit

    out = tmp_path / "hits.csv"

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen", type_it=True)  # typed key by key: still one entry
        await pilot.press("h")
        await pilot.press("h")
        await export_to(app, pilot, out)
        assert app.exported == (out, 4)

    drive(review, scenario)
    log = audit.entries("default")
    assert [e.command for e in log] == ["search", "tag", "untag", "export"]
    searched, tagged, untagged, exported = log
    assert searched.query == "libgen" and searched.hits == 4
    assert searched.settings["via"] == "tui" and searched.settings["include_system"] is False
    assert tagged.query == "hot" and tagged.settings["tag"] == "hot"
    assert tagged.result_hash == untagged.result_hash == result_hash([16])
    assert tagged.settings["tags_fingerprint"] != untagged.settings["tags_fingerprint"]
    assert exported.settings["out"] == str(out) and exported.result_hash == searched.result_hash
    # The screen's search re-runs from the log like any other.
    assert audit.rerun(searched.id).matches and audit.rerun(exported.id).matches


def test_an_audit_failure_is_reported_and_the_action_still_done(matter: Matter) -> None:
    from discovery import audit, config

    (config.home() / audit.LOG_FILE).mkdir()  # a folder where the log file should be
    session = Session(matter)
    try:
        results = session.search("libgen")
        assert results.total == 4
        assert results.audit_error and "NOT recorded in the audit log" in results.audit_error
        tags, problem = session.set_tag(16, "hot", True)
        assert tags == ("hot",) and problem and "tag was NOT recorded" in problem
        n, problem = session.export(results, config.home() / "hits.csv")
        assert n == 4 and problem and "export was NOT recorded" in problem
    finally:
        session.close()


def test_the_screen_warns_when_a_search_is_not_logged(review: ReviewApp) -> None:
    from discovery import audit, config

    (config.home() / audit.LOG_FILE).mkdir()

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        assert controls(app) == LIBGEN  # the hits are shown all the same
        messages = [n.message for n in app._notifications]
        assert any("search was NOT recorded in the audit log" in m for m in messages), messages

    drive(review, scenario)


def test_queries_entered_in_a_burst_show_the_last_and_every_search_is_logged_in_order(
    review: ReviewApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several queries typed and entered faster than they are searched, then h: the screen
    shows the last query's hits, h tags its first hit, and the log has an entry for every
    search that ran, in order, with the tag after them."""
    from discovery import audit

    ran: list[str] = []
    real = review.session.search

    def counted(*args: Any, **kwargs: Any) -> Any:
        results = real(*args, **kwargs)
        ran.append(results.query)
        return results

    queries = ["permission", "libgen", "books", "libgen"]
    keys = [k for q in queries for k in ("slash", "ctrl+u", *q, "enter")]

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        monkeypatch.setattr(app.session, "search", counted)
        for _ in range(3):
            await burst(app, pilot, *keys, "h")
            assert app.results is not None and app.results.query == "libgen"
            assert controls(app) == LIBGEN and current(app) == LIBGEN[0]
            assert app.table.row_count == 4 and app.pane.focus_id == 16
            assert "4 messages in 4 conversations" in str(app.query_one("#totals").visual)  # type: ignore[attr-defined]
            assert app.query_bar.input.value == "libgen"

    drive(review, scenario)
    log = audit.entries("default")
    searches = [e.query for e in log if e.command == "search"]
    assert searches == ran and ran[-1] == "libgen"
    assert all(q in queries for q in ran)
    # h three times: tagged, untagged, tagged; each after the searches of its burst.
    assert [e.command for e in log if e.command != "search"] == ["tag", "untag", "tag"]
    assert log[-1].command == "tag" and log[-2].command == "search"
    assert log[-2].hits == 4 and log[-2].result_hash == result_hash([16, 29, 39, 45])


# --- keys in bursts, and what the screen shows (issue 10) ----------------------------------------


def slack_hits_in_time_order(matter: Matter) -> list[int]:
    """What 'platform:slack' finds in acme, read from the store: every message not a system
    event (acme is all Slack), oldest first."""
    rows = matter.store.db.execute(
        "SELECT id FROM messages WHERE system = 0 ORDER BY sent_us, id"
    ).fetchall()
    return [r[0] for r in rows]


async def burst(app: ReviewApp, pilot: Pilot[Any], *keys: str, wait: bool = True) -> None:
    """Deliver every key to the app before it handles any (no pause between them), then
    wait (unless told not to) for what they started."""
    from textual import events

    driver = app._driver
    assert driver is not None
    for key in keys:
        char = {"enter": "\r", "colon": ":"}.get(key, key if len(key) == 1 else None)
        driver.send_message(events.Key(key, char))
    if wait:
        await settle(app, pilot)


def test_thirty_j_then_h_in_one_burst_tags_the_hit_on_screen(
    review: ReviewApp, matter: Matter
) -> None:
    from discovery import audit
    from discovery.model import control_number

    expected = slack_hits_in_time_order(matter)
    assert len(expected) > 31

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "platform:slack")
        assert app.results is not None and app.results.total == len(expected)
        await burst(app, pilot, *["j"] * 30, "h")
        assert app.index == 30  # thirty j, thirty hits
        assert current(app) == control_number(expected[30])
        assert app.pane.focus_id == expected[30]  # the conversation shows that hit
        assert control_number(expected[30]) in str(app.query_one("#detail").visual)  # type: ignore[attr-defined]
        assert str(app.table.get_cell("30", "tags")) == "H"

    drive(review, scenario, size=(80, 24))
    assert matter.store.ids_of_tags(["hot"]) == {expected[30]}
    (entry,) = [e for e in audit.entries("default") if e.command == "tag"]
    assert entry.settings["control_number"] == control_number(expected[30])
    assert entry.result_hash == result_hash([expected[30]])


async def libgen_typed_over_other_hits(app: ReviewApp, pilot: Pilot[Any]) -> None:
    """The hits of ``permission`` on screen, and ``libgen`` typed in the query bar
    (not submitted)."""
    await search(app, pilot, "permission")
    await pilot.press("slash")
    app.query_bar.input.value = "libgen"


def test_keys_pressed_while_a_search_runs_act_on_its_hits(
    review: ReviewApp, matter: Matter
) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await libgen_typed_over_other_hits(app, pilot)
        await burst(app, pilot, "enter", "j", "j", "h")
        assert controls(app) == LIBGEN
        assert current(app) == LIBGEN[2]
        assert app.query_bar.input.value == "libgen"  # j and h were not typed into the query

    drive(review, scenario)
    assert matter.store.ids_of_tags(["hot"]) == {39}


def test_a_slow_search_shows_it_is_searching_and_a_quick_one_its_hits(
    review: ReviewApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search slower than the paint hold shows "searching…" with the old hits gone while
    it runs; its hits and keys pressed meanwhile then land as ever, and painting is not
    held after it (nor after a quick one)."""
    import threading

    from discovery.tui.app import PAINT_HOLD

    go = threading.Event()
    real = review.session.search

    def slow(*args: Any) -> Any:
        go.wait(10)
        return real(*args)

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await libgen_typed_over_other_hits(app, pilot)
        assert app._batch_count == 0 and app.held is None
        monkeypatch.setattr(app.session, "search", slow)
        await burst(app, pilot, "enter", "j", wait=False)
        await asyncio.sleep(PAINT_HOLD * 3)  # the search still waits
        await pilot.pause()
        assert app.searching and app.held is None and app._batch_count == 0
        assert "searching" in str(app.query_one("#totals").visual)  # type: ignore[attr-defined]
        assert app.table.row_count == 0
        go.set()
        await settle(app, pilot)
        assert controls(app) == LIBGEN and current(app) == LIBGEN[1]
        assert app.held is None and app._batch_count == 0
        monkeypatch.setattr(app.session, "search", real)
        await search(app, pilot, "permission")
        assert app.results is not None and app.results.query == "permission"
        assert app.held is None and app._batch_count == 0

    drive(review, scenario)


def test_keys_typed_as_a_dialog_opens_are_the_dialogs(
    review: ReviewApp, matter: Matter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """t, d, :, f and x each open a dialog; the keys typed in the same burst are typed into
    it (h, r, p, j would otherwise tag or move on the hit list), and those after its
    Enter act on the hits again."""
    monkeypatch.chdir(tmp_path)

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        await burst(app, pilot, "t", *"hot", "enter", "j")
        assert current(app) == LIBGEN[1]  # the j after Enter moved on the hits
        await burst(app, pilot, "d", *"hr", "enter", "j")
        assert current(app) == LIBGEN[2]
        await burst(app, pilot, "colon", *"45", "enter", "h")
        assert current(app) == LIBGEN[3]
        await burst(app, pilot, "f", *"priya", "enter")
        assert app.filters == Filters(speaker="priya") and controls(app) == [LIBGEN[2]]
        await burst(app, pilot, "F", "x", *"hr.csv", "enter")
        assert app.filters.is_empty() and app.exported == (Path("hr.csv"), 4)
        await burst(app, pilot, "colon", *"4x", "enter", "backspace", "enter", "r")
        assert current(app) == LIBGEN[0]  # 4x refused in the dialog, then MSG-4: not a hit
        assert app.looked_up is not None and app.looked_up.id == 4

    drive(review, scenario)
    assert matter.store.tag_names() == ["hot", "responsive"]
    assert matter.store.ids_of_tags(["hot"]) == {16, 45}  # by the dialog, then by h on 45
    assert matter.store.ids_of_tags(["responsive"]) == {4}  # r on the message gone to
    assert matter.store.privilege_descriptions([16, 29, 39]) == {29: "hr"}  # d on LIBGEN[1]
    assert (tmp_path / "hr.csv").is_file()


def test_a_dialog_key_pressed_while_a_search_runs_opens_on_its_hits(
    review: ReviewApp, matter: Matter
) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await libgen_typed_over_other_hits(app, pilot)
        await burst(app, pilot, "enter", "j", "t", *"hr", "enter", "j")
        assert controls(app) == LIBGEN and current(app) == LIBGEN[2]

    drive(review, scenario)
    assert matter.store.tag_names() == ["hr"]  # h and r were the tag's name, not tags
    assert matter.store.ids_of_tags(["hr"]) == {29}


def test_up_down_home_end_and_g_move_through_every_hit(
    review: ReviewApp, matter: Matter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discovery.tui import session as session_module

    monkeypatch.setattr(session_module, "PAGE", 5)
    expected = slack_hits_in_time_order(matter)

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "platform:slack")
        await burst(app, pilot, "down", "down", "down")
        assert app.index == 3
        await pilot.press("G")  # the last hit, past the pages loaded so far
        assert app.index == len(expected) - 1 and app.hit is not None
        assert app.hit.message.id == expected[-1]
        await pilot.press("home")
        assert app.index == 0
        await pilot.press("end")
        assert app.index == len(expected) - 1
        await pilot.press("up")
        assert app.index == len(expected) - 2

    drive(review, scenario)


def test_the_last_hit_is_a_jump_that_fetches_no_page_before_it(
    review: ReviewApp, matter: Matter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """G on a large hit set fetches the hits around the last one, not every page up to it;
    walking back up fetches the pages before as the cursor reaches them."""
    from discovery.model import control_number
    from discovery.tui import session as session_module

    monkeypatch.setattr(session_module, "PAGE", 5)
    expected = slack_hits_in_time_order(matter)
    n = len(expected)
    assert n > 30

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "platform:slack")
        await burst(app, pilot, "G")
        r = app.results
        assert r is not None and app.index == n - 1 and current(app) == control_number(expected[-1])
        assert app.pane.focus_id == expected[-1]
        assert len(r.hits) == 10 and len(r.far) < 10  # the first two pages, and the last one
        assert app.table.row_count == len(r.far)
        await burst(app, pilot, *["k"] * 12, "h")
        assert app.index == n - 13 and current(app) == control_number(expected[n - 13])
        assert str(app.table.get_cell(str(n - 13), "tags")) == "H"
        assert len(r.hits) + len(r.far) < n  # still not every page
        await burst(app, pilot, "home")
        assert app.index == 0 and current(app) == control_number(expected[0])
        await burst(app, pilot, "end", "up", "up")
        assert app.index == n - 3 and app.pane.focus_id == expected[n - 3]

    drive(review, scenario)
    assert matter.store.ids_of_tags(["hot"]) == {expected[n - 13]}


def test_header_detail_line_and_footer_at_80_columns(review: ReviewApp, matter: Matter) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        header = str(app.query_one("#header").visual)  # type: ignore[attr-defined]
        assert "matter default" in header and "dates in UTC" in header
        await search(app, pilot, "libgen")
        detail = str(app.query_one("#detail").visual)  # type: ignore[attr-defined]
        m = matter.store.message(16)
        assert m.control in detail and "2023-03-07 15:15:00 UTC" in detail
        assert f"custodians {'; '.join(m.custodians)}" in detail
        assert f"source {m.sources[0]}" in detail
        assert "attachments none" in detail and "tags none" in detail
        await pilot.press("h")
        assert "tags hot" in str(app.query_one("#detail").visual)  # type: ignore[attr-defined]
        footer = app.export_screenshot()
        for label in ("Tag", "Filter", "Export", "Help", "Quit"):
            assert f">{label}<" in footer or f"&#160;{label}" in footer, label

    drive(review, scenario, size=(80, 24))


def test_the_footer_follows_the_focus_as_textual_lays_it_out(review: ReviewApp) -> None:
    """The keys shown while typing a query (h, r, ... type letters there) and on the hit
    list are where Textual's own footer puts them, the second time round without the
    footer being composed again."""

    def footer(app: ReviewApp) -> list[tuple[int, int, str, str]]:
        keys = app.screen.query("FooterKey")
        return [
            (k.region.x, k.region.width, k.key_display, k.description) for k in keys if k.display
        ]  # type: ignore[attr-defined]

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await pilot.pause()
        typing = footer(app)  # composed by Textual with the query bar focused
        assert [d for *_, d in typing] == ["Query", "Help", "palette"]
        await search(app, pilot, "libgen")
        on_hits = footer(app)  # composed again by Textual: more keys
        assert [d for *_, d in on_hits][:3] == ["Query", "Hot", "Resp"]
        made = set(app.screen.query("FooterKey"))
        for _ in range(2):
            await burst(app, pilot, "slash")
            assert footer(app) == typing
            await search(app, pilot, "libgen")
            assert footer(app) == on_hits
        assert set(app.screen.query("FooterKey")) == made

    drive(review, scenario, size=(80, 24))


def test_the_year_shows_when_the_hits_span_years(matter: Matter, tmp_path: Path) -> None:
    from discovery.ingest import ingest

    older = tmp_path / "older.jsonl"
    older.write_text(
        '{"conversation": "archive", "sender": "Ann", "timestamp": "2021-05-04T10:00:00Z",'
        ' "content": "An old note about libgen.", "id": "o1"}\n',
        encoding="utf-8",
    )
    undated = tmp_path / "note.eml"  # no headers: an undated message, last in time order
    undated.write_text("A note about libgen, no headers at all.\n", encoding="utf-8")
    ingest(matter, [older, undated])
    session = Session(matter)

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        assert app.results is not None and app.results.total == len(LIBGEN) + 2
        assert app.results.years == (2021, 2023)  # the undated hit has no year
        assert str(app.table.get_cell("0", "time")) == "2021-05-04 10:00"
        assert "2021–2023" in str(app.query_one("#totals").visual)  # type: ignore[attr-defined]
        await search(app, pilot, "permission")  # all in 2023: month and day only
        assert str(app.table.get_cell("0", "time")).startswith("03-")

    try:
        drive(ReviewApp(session, blink=False), scenario, size=(80, 24))
    finally:
        session.close()


def test_the_filter_is_shown_in_full_kept_and_cleared_explicitly(review: ReviewApp) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        app.filters = Filters(speaker="priya raman", conversation="legal review")
        app._set_filter(app.filters)
        await settle(app, pilot)
        shown = str(app.query_one("#filter").visual)  # type: ignore[attr-defined]
        assert 'speaker:"priya raman" AND conversation:"legal review"' in shown
        assert controls(app) == [LIBGEN[2]]
        assert app.query_bar.input.value == "libgen"  # the filter is not put into the query
        # The next query keeps the filter, and says so.
        await search(app, pilot, "permission OR libgen")
        assert app.filters == Filters(speaker="priya raman", conversation="legal review")
        assert app.query_one("#filter").display
        # A syntax error points into what was typed, not into the combined text.
        await search(app, pilot, "libgen AND (")
        assert app.error is not None
        assert app.error.query == "libgen AND ("  # type: ignore[attr-defined]
        assert app.error.column == "libgen AND (".index("(")  # type: ignore[attr-defined]
        # F clears it, explicitly.
        await search(app, pilot, "libgen")
        await pilot.press("F")
        await settle(app, pilot)
        assert app.filters.is_empty() and not app.query_one("#filter").display
        assert controls(app) == LIBGEN

    drive(review, scenario, size=(80, 24))


def test_a_too_broad_wildcard_with_a_filter_points_into_the_typed_query(
    review: ReviewApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discovery import candidates

    monkeypatch.setattr(candidates, "MAX_EXPANSION", 2)

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        app.filters = Filters(custodian="unassigned")
        await search(app, pilot, "libgen OR t*")
        assert app.error is not None
        assert app.error.query == "libgen OR t*"  # type: ignore[attr-defined]
        assert app.error.column == len("libgen OR ")  # type: ignore[attr-defined]

    drive(review, scenario)


async def goto(app: ReviewApp, pilot: Pilot[Any], control: str) -> None:
    await pilot.press("colon")
    app.screen.query_one("#goto-id").value = control  # type: ignore[attr-defined]
    await pilot.press("enter")
    await pilot.pause()


def test_go_to_a_hit_and_to_a_message_that_is_not_one(review: ReviewApp, matter: Matter) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        await goto(app, pilot, "MSG-00000039")
        assert current(app) == "MSG-00000039" and app.looked_up is None
        await goto(app, pilot, "17")
        assert app.looked_up is not None and app.looked_up.id == 17
        assert app.pane.focus_id == 17
        await pilot.press("r")  # acts on the message on screen, not on the hit list's cursor
        await pilot.press("j")  # back to the hits
        assert app.looked_up is None and current(app) == "MSG-00000039"
        await goto(app, pilot, "MSG-99999999")
        assert app.looked_up is None and app.is_running

    drive(review, scenario)
    assert matter.store.ids_of_tags(["responsive"]) == {17}


def test_matches_in_an_earlier_version_are_highlighted_in_the_pane(review: ReviewApp) -> None:
    """MSG-35 read "Run 15 uses the pirated books again." before it was edited to "Run 15
    uses only licensed books.": the phrase matches the earlier version only, so that is
    where its words are marked, not "books" in the current text."""
    from textual.widgets import Static

    from discovery.render import HIGHLIGHT

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, '"pirated books"')
        await burst(app, pilot, "colon", *"35", "enter")
        assert current(app) == "MSG-00000035" and app.pane.focus_id == 35
        body = app.pane.query_one("#body", Static).content
        assert isinstance(body, Text)
        lines = body.split("\n")
        (earlier,) = [line for line in lines if "(earlier version 1)" in line.plain]
        (now,) = [line for line in lines if "uses only licensed books" in line.plain]

        def marked(line: Text) -> list[str]:
            return [line.plain[s.start : s.end] for s in line.spans if HIGHLIGHT in str(s.style)]

        assert marked(earlier) == ["pirated", "books"] and marked(now) == []

    drive(review, scenario)


def test_query_history_is_kept_per_matter(matter: Matter) -> None:
    async def first(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        await search(app, pilot, "permission")

    async def later(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await pilot.press("up")
        assert app.query_bar.input.value == "permission"
        await pilot.press("up")
        assert app.query_bar.input.value == "libgen"

    for scenario in (first, later):
        session = Session(matter)
        try:
            drive(ReviewApp(session, blink=False), scenario)
        finally:
            session.close()


def test_the_command_palette_offers_every_action(review: ReviewApp) -> None:
    bound = {b.action for b in review.BINDINGS if isinstance(b, Binding)}
    offered = {action for _, _, action in review.ACTIONS}
    assert bound <= offered
    for action in offered:
        assert hasattr(review, "action_" + action.split("(")[0]), action

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert [t for t, _, _ in app.ACTIONS] == titles[: len(app.ACTIONS)]
        await search(app, pilot, "libgen")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Last hit")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert current(app) == LIBGEN[-1]

    drive(review, scenario)


def test_export_asks_before_overwriting(review: ReviewApp, tmp_path: Path) -> None:
    out = tmp_path / "hits.csv"
    out.write_text("keep me", encoding="utf-8")

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        await export_to(app, pilot, out)
        assert app.screen.__class__.__name__ == "ExportScreen"  # asked, not written
        assert "exists" in str(app.screen.query_one(".dialog-error").visual)  # type: ignore[attr-defined]
        assert out.read_text(encoding="utf-8") == "keep me"
        await pilot.press("enter")  # again: overwrite
        await settle(app, pilot)
        assert app.exported == (out, 4)

    drive(review, scenario)
    assert out.read_text(encoding="utf-8").startswith("control_number,")


def test_an_ingest_in_progress_is_shown_and_tagging_goes_on(
    review: ReviewApp, matter: Matter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discovery.ingest import ingest

    # Messages stored but not yet indexed: what the screen sees while an ingest runs.
    monkeypatch.setattr(type(matter), "catch_up", lambda self, progress=None: 0)
    report = ingest(matter, [FIXTURES / "whatsapp" / "android_uk_24h.txt"])
    assert report.added > 0

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        header = str(app.query_one("#header").visual)  # type: ignore[attr-defined]
        assert f"index incomplete: {report.added} messages not searchable yet" in header
        await search(app, pilot, "libgen")
        assert controls(app) == LIBGEN
        await pilot.press("h")

    drive(review, scenario)
    assert matter.store.ids_of_tags(["hot"]) == {16}


def test_an_undated_hit_is_shown_undated(tmp_path: Path) -> None:
    (tmp_path / "note.eml").write_text("The budget note, no headers at all.\n")
    dated = "From: Ann <a@x.com>\nDate: Tue, 3 Jan 2023 10:00:00 +0000\nSubject: b\n\nbudget\n"
    (tmp_path / "dated.eml").write_text(dated)
    with open_matter("default", create=True) as m:
        from discovery.ingest import ingest

        ingest(m, [tmp_path / "note.eml", tmp_path / "dated.eml"])
        session = Session(m)

        async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
            await search(app, pilot, "budget")
            await pilot.press("j")  # undated messages sort last
            await pilot.pause()
            assert current(app) == "MSG-00000001"
            detail = str(app.query_one("#detail").visual)  # type: ignore[attr-defined]
            pane = str(app.pane.query_one("#body").visual)  # type: ignore[attr-defined]
            totals = str(app.query_one("#totals").visual)  # type: ignore[attr-defined]
            assert "(undated)" in detail and "(undated)" in pane
            assert "9999" not in detail + pane + totals and "2023" in totals

        try:
            drive(ReviewApp(session, blink=False), scenario, size=(80, 24))
        finally:
            session.close()


def test_d_stores_the_privilege_description_of_the_hit_on_screen(
    review: ReviewApp, matter: Matter
) -> None:
    from discovery import audit

    async def scenario(app: ReviewApp, pilot: Pilot[Any]) -> None:
        await search(app, pilot, "libgen")
        await pilot.press("j", "d", *"Advice of counsel", "enter")  # one burst
        await settle(app, pilot)
        assert current(app) == LIBGEN[1]
        await pilot.press("d")  # opens with the stored text; Esc keeps it
        await pilot.pause()
        assert app.screen.query_one("#description-text").value == "Advice of counsel"  # type: ignore[attr-defined]
        await pilot.press("escape", "k", "d")  # the first hit's description, emptied: removed
        await pilot.pause()
        field = app.screen.query_one("#description-text")
        assert field.value == "old text"  # type: ignore[attr-defined]
        field.value = ""  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(app, pilot)

    matter.store.set_privilege_description([16], "old text")
    drive(review, scenario, size=(80, 24))
    assert matter.store.privilege_descriptions([16, 29, 39]) == {29: "Advice of counsel"}
    logged = [e for e in audit.entries("default") if e.command == "describe"]
    assert [(e.settings["control_number"], e.settings["description"]) for e in logged] == [
        (LIBGEN[1], "Advice of counsel"), (LIBGEN[0], "")
    ]  # fmt: skip
