"""Context kinds, chat-aware syntax and its reports on a small hand-made Slack export.

Channel ``legal`` around the US daylight-saving change of 12 March 2023
(New York: 02:00 EST jumps to 03:00 EDT), display zone America/New_York:

=======  ===================  ==================  ============================
message  UTC                  New York            what
=======  ===================  ==================  ============================
alpha    2023-03-12 04:30     11 Mar 23:30 EST    main line
bravo    2023-03-12 05:10     12 Mar 00:10 EST    main line, thread root
charlie  2023-03-12 06:55     12 Mar 01:55 EST    reply to bravo
(join)   2023-03-12 06:58     12 Mar 01:58 EST    system event (Erin joins)
delta    2023-03-12 07:05     12 Mar 03:05 EDT    main line (10 min after charlie)
echo     2023-03-12 07:20     12 Mar 03:20 EDT    reply to bravo
foxtrot  2023-03-13 03:50     12 Mar 23:50 EDT    main line (UTC date is the 13th)
golf     2023-03-13 04:10     13 Mar 00:10 EDT    main line
=======  ===================  ==================  ============================

and channel ``general``: hotel at 2023-03-12 07:00 UTC. Every expectation below
is read from this table.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from discovery.context import parse_context, windows
from discovery.errors import QuerySyntaxError, UsageError
from discovery.ingest import ingest
from discovery.matter import Matter, open_matter
from discovery.produce.slices import build_slices, parse_slice
from discovery.query.parser import parse
from discovery.query.unparse import unparse
from tests.conftest import invoke

ZONE = "America/New_York"
USERS = {"U1": "Dana", "U2": "Marcus", "U3": "Erin"}
# name -> (channel, UTC time, user, thread root name or None, system)
MESSAGES: dict[str, tuple[str, str, str, str | None, bool]] = {
    "alpha": ("legal", "2023-03-12T04:30:00", "U1", None, False),
    "bravo": ("legal", "2023-03-12T05:10:00", "U2", None, False),
    "charlie": ("legal", "2023-03-12T06:55:00", "U1", "bravo", False),
    "join": ("legal", "2023-03-12T06:58:00", "U3", None, True),
    "delta": ("legal", "2023-03-12T07:05:00", "U2", None, False),
    "echo": ("legal", "2023-03-12T07:20:00", "U2", "bravo", False),
    "foxtrot": ("legal", "2023-03-13T03:50:00", "U1", None, False),
    "golf": ("legal", "2023-03-13T04:10:00", "U2", None, False),
    "hotel": ("general", "2023-03-12T07:00:00", "U1", None, False),
}
TEXT = {
    "alpha": "alpha permission needed",
    "bravo": "bravo thread about libgen",
    "charlie": "charlie says libgen is fine",
    "delta": "delta asks permission",
    "echo": "echo no permission at all",
    "foxtrot": "foxtrot late libgen",
    "golf": "golf early permission",
    "hotel": "hotel libgen permission",
}


def _ts(name: str) -> str:
    at = datetime.fromisoformat(MESSAGES[name][1]).replace(tzinfo=UTC)
    return f"{int(at.timestamp())}.000100"


def _export(folder: Path) -> Path:
    folder.mkdir()
    users = [
        {"id": u, "name": n.lower(), "real_name": n, "profile": {"real_name": n}}
        for u, n in USERS.items()
    ]
    (folder / "users.json").write_text(json.dumps(users))
    channels = [
        {"id": f"C{i}", "name": c, "created": 1678000000, "members": list(USERS)}
        for i, c in enumerate(("legal", "general"))
    ]
    (folder / "channels.json").write_text(json.dumps(channels))
    for channel in ("legal", "general"):
        entries = []
        for name, (chan, _, user, root, system) in MESSAGES.items():
            if chan != channel:
                continue
            entry: dict[str, Any] = {"type": "message", "user": user, "ts": _ts(name)}
            if system:
                entry.update(subtype="channel_join", text=f"<@{user}> has joined the channel")
            else:
                entry["text"] = TEXT[name]
            if root is not None:
                entry.update(thread_ts=_ts(root), parent_user_id=MESSAGES[root][2])
            elif name == "bravo":
                entry.update(thread_ts=_ts(name), reply_count=2)
            entries.append(entry)
        (folder / channel).mkdir()
        (folder / channel / "2023-03-12.json").write_text(json.dumps(entries))
    return folder


@pytest.fixture
def dst(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Matter:
    monkeypatch.setenv("DISCOVERY_TZ", ZONE)
    matter = open_matter("default", create=True)
    ingest(matter, [_export(tmp_path / "export")])
    return matter


def _ids(matter: Matter) -> dict[str, int]:
    """Each table name -> its control number id (found by its native id)."""
    rows = matter.store.db.execute("SELECT native_id, id FROM messages").fetchall()
    by_ts = dict(rows)
    return {name: by_ts[_ts(name)] for name in MESSAGES}


def _names(matter: Matter, ids: list[int]) -> list[str]:
    back = {v: k for k, v in _ids(matter).items()}
    return [back[i] for i in ids]


CASES = [
    # N messages: a main-line message counts main-line neighbours; the join between is shown
    ("1", "delta", ["bravo", "join", "delta", "foxtrot"]),
    # a thread reply's neighbours are its thread's
    ("1", "charlie", ["bravo", "charlie", "echo"]),
    ("5", "echo", ["bravo", "charlie", "echo"]),
    # a thread root: its main line and its first replies
    ("1", "bravo", ["alpha", "bravo", "charlie", "join", "delta"]),
    ("0", "bravo", ["bravo"]),
    # time: 01:55 EST and 03:05 EDT are 10 minutes apart; other channels never join
    ("10min", "charlie", ["charlie", "join", "delta"]),
    ("9min", "charlie", ["charlie", "join"]),
    ("2h", "delta", ["bravo", "charlie", "join", "delta", "echo"]),
    # thread: root and replies; a message in no thread alone
    ("thread", "echo", ["bravo", "charlie", "echo"]),
    ("thread", "bravo", ["bravo", "charlie", "echo"]),
    ("thread", "alpha", ["alpha"]),
    # day: the 23-hour 12 March in New York (alpha is the 11th there, golf the 13th)
    ("day", "delta", ["bravo", "charlie", "join", "delta", "echo", "foxtrot"]),
    ("day", "golf", ["golf"]),
]


@pytest.mark.parametrize(("spec", "focus", "expected"), CASES)
def test_context_windows_show_exactly_these_messages(
    dst: Matter, spec: str, focus: str, expected: list[str]
) -> None:
    mid = _ids(dst)[focus]
    found = windows(dst.store, [mid], parse_context(spec), dst.tz)
    assert _names(dst, found[mid]) == expected
    shown = invoke("show", str(mid), "--context", spec, "--json")
    assert shown.exit_code == 0, shown.stderr
    lines = [json.loads(x) for x in shown.stdout.splitlines()]
    assert [x["id"] for x in lines] == [f"MSG-{_ids(dst)[n]:08d}" for n in expected]
    assert [x["id"] for x in lines if x["focus"]] == [f"MSG-{mid:08d}"]


def test_every_command_takes_every_kind(dst: Matter, tmp_path: Path) -> None:
    ids = _ids(dst)
    expected = [f"MSG-{ids[n]:08d}" for n in ("charlie", "join", "delta")]
    hits = [
        json.loads(x)
        for x in invoke("search", "charlie", "--json", "--context", "10min").stdout.splitlines()
    ]
    assert [c["id"] for c in hits[0]["context"]] == expected
    out = tmp_path / "hits.csv"
    assert invoke("export", "charlie", "--out", str(out), "--context", "10min").exit_code == 0
    (row,) = csv.DictReader(out.open(encoding="utf-8"))
    assert [_control(line) for line in row["context"].splitlines()] == expected
    assert row["context"].splitlines()[0].startswith(">> [2023-03-12 01:55:00 EST]")
    assert "03:05:00 EDT" in row["context"]
    ex = tmp_path / "ex.csv"
    done = invoke(
        "exhibits", "--query", "charlie", "--prefix", "PX", "--out", str(ex), "--context", "thread"
    )
    assert done.exit_code == 0, done.stderr
    (row,) = csv.DictReader(ex.open(encoding="utf-8"))
    assert [_control(line) for line in row["context"].splitlines()] == [
        f"MSG-{ids[n]:08d}" for n in ("bravo", "charlie", "echo")
    ]
    text = invoke("search", "delta", "--context", "day").stdout
    assert [f"MSG-{ids[n]:08d}" in text for n in MESSAGES] == [
        n in ("bravo", "charlie", "join", "delta", "echo", "foxtrot") for n in MESSAGES
    ]
    bad = invoke("search", "charlie", "--context", "3mg")
    assert bad.exit_code == 2 and "Invalid value for '--context'" in bad.stderr
    with pytest.raises(UsageError):
        parse_context("8d")


def _control(line: str) -> str:
    found = re.search(r"MSG-[0-9]{8}", line)
    assert found is not None
    return found.group()


def test_context_is_saved_in_the_audit_entry_and_rerun_with_it(
    dst: Matter, tmp_path: Path, discovery_home: Path
) -> None:
    out = tmp_path / "hits.csv"
    assert invoke("export", "permission", "--out", str(out), "--context", "2h").exit_code == 0
    entry = json.loads(invoke("audit", "--json").stdout.splitlines()[-1])
    assert entry["settings"]["context"] == "2h"
    rerun = invoke("audit", "--rerun", str(entry["id"]))
    assert rerun.exit_code == 0 and "context 2h: the same windows" in rerun.stdout
    # A logged window that is not what the matter gives now is reported, exit 1.
    db = sqlite3.connect(discovery_home / "audit.sqlite")
    settings = {**entry["settings"], "context_hash": "0" * 64}
    db.execute("UPDATE audit SET settings = ? WHERE id = ?", (json.dumps(settings), entry["id"]))
    db.commit()
    again = invoke("audit", "--rerun", str(entry["id"]))
    assert again.exit_code == 1 and "the windows DIFFER" in again.stdout


def test_produce_slices_take_time_contexts(dst: Matter) -> None:
    ids = _ids(dst)
    spec = parse_slice("context:10min")
    assert spec.label == "context:10min" and parse_slice(spec.label) == spec
    (one,) = build_slices(dst.store, [ids["charlie"]], spec, dst.tz)
    assert _names(dst, list(one.ids)) == ["bravo", "charlie", "join", "delta"]  # bravo: family
    assert one.family == {ids["bravo"]}
    (merged,) = build_slices(
        dst.store, [ids["charlie"], ids["delta"]], parse_slice("context:1"), dst.tz
    )
    assert _names(dst, list(merged.ids)) == ["bravo", "charlie", "join", "delta", "echo", "foxtrot"]
    assert parse_slice("context:thread") == parse_slice("thread")
    with pytest.raises(UsageError):
        parse_slice("context:3mg")


# --- chat-aware proximity on the table ------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # the reply charlie and the main-line delta share no sequence: never messages apart
        ("charlie w/5msg delta", []),
        ("bravo w/2msg echo", ["bravo", "echo"]),  # thread: bravo, charlie, echo
        ("echo pre/2msg bravo", []),
        ("alpha w/1msg delta", []),  # main line: alpha, bravo, delta (the join not counted)
        ("alpha w/2msg delta", ["alpha", "delta"]),
        ("bravo w/1msg delta", ["bravo", "delta"]),
        # 10 minutes across the DST jump, bound included; another channel never pairs
        ("charlie w/10min delta", ["charlie", "delta"]),
        ("charlie w/9min delta", []),
        ("hotel w/1h delta", []),
        ("foxtrot w/thread libgen", ["foxtrot"]),  # the same message: distance 0
        ("charlie w/thread permission", ["charlie", "echo"]),
        ("delta not w/thread libgen", ["delta"]),
        ("golf w/conversation alpha", ["alpha", "golf"]),
        # bravo is next to alpha, foxtrot to golf; charlie's neighbours are its thread's
        ("libgen not w/1msg (alpha OR golf)", ["charlie", "hotel"]),
        (
            "(speaker:dana AND libgen) w/1d (speaker:marcus AND permission)",
            ["charlie", "delta", "echo", "foxtrot", "golf"],
        ),
    ],
)
def test_chat_operators_on_the_table(dst: Matter, query: str, expected: list[str]) -> None:
    from discovery.search import Searcher

    _, got = Searcher(dst).match(query)
    assert sorted(_names(dst, sorted(got))) == sorted(expected)


# --- syntax --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "column", "length", "words"),
    [
        ("a w/3mg b", 2, 5, "unknown unit 'mg'"),
        ("a w/0msg b", 2, 6, "between 1 and 999"),
        ("a w/-1min b", 2, 7, "between 1 and 999"),
        ("a pre/msg b", 2, 7, "needs a number"),
        ("a pre/min b", 2, 7, "needs a number"),
        ("a pre/thread b", 2, 10, "needs a number"),
        ("a w/3m b", 2, 4, "ambiguous"),
        ("a w/3 msg b", 6, 3, "write W/3MSG"),
        ("NOT a w/3msg b", 0, 5, "ambiguous"),
        ("a w/3msg b w/5 c", 0, 10, "a chat proximity group cannot be an operand of W/5"),
        ("a w/5 (b w/thread c)", 6, 14, "a chat proximity group cannot be an operand of W/5"),
        ("xfirstword w/3msg b", 0, 10, "cannot be an operand of W/3MSG"),
    ],
)
def test_malformed_chat_forms_are_refused_with_a_caret(
    dst: Matter, query: str, column: int, length: int, words: str
) -> None:
    with pytest.raises(QuerySyntaxError) as err:
        parse(query)
    assert (err.value.column, err.value.length) == (column, length)
    assert words in err.value.message
    result = invoke("search", query)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[-2] == query and lines[-1] == " " * column + "^" * length


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("a w/3msg b", "a W/3MSG b"),
        ("a pre/3MSG b", "a PRE/3MSG b"),
        ("a not w/2h b", "a NOT W/2H b"),
        ("a w/10min b AND c", "(a W/10MIN b) AND c"),
        ("a w/1d b", "a W/1D b"),
        ("a w/thread (NOT b)", "a W/THREAD (NOT b)"),
        ("a not w/conversation b", "a NOT W/CONVERSATION b"),
        ("a w/5 b w/3msg c", "a W/5 b W/3MSG c"),
        ("(speaker:marcus AND libgen) w/5msg (speaker:dana AND approve*)",
         "(speaker:marcus AND libgen) W/5MSG (speaker:dana AND approve*)"),
    ],
)  # fmt: skip
def test_chat_forms_have_a_canonical_form_read_back_the_same(query: str, canonical: str) -> None:
    assert unparse(parse(query)) == canonical
    assert parse(canonical) == parse(query)


def test_explain_shows_the_chat_operators(dst: Matter) -> None:
    result = invoke(
        "explain", "(speaker:dana AND libgen) w/1d permission OR bravo w/thread echo", "--json"
    )
    assert result.exit_code == 0, result.stderr
    expl = json.loads(result.stdout)
    assert expl["canonical"] == (
        "((speaker:dana AND libgen) W/1D permission) OR (bravo W/THREAD echo)"
    )
    clauses = {c["text"]: c["hits"] for c in expl["clauses"]}
    # charlie and foxtrot pair with alpha, delta, echo and golf (within 24 hours); hotel with
    # itself; bravo (Marcus) is not a side
    assert clauses["(speaker:dana AND libgen) W/1D permission"] == 7
    assert clauses["bravo W/THREAD echo"] == 2
    assert any("w/thread at column" in w and "same thread" in w for w in expl["warnings"])


def test_search_term_report_levels(dst: Matter, tmp_path: Path) -> None:
    terms = tmp_path / "terms.txt"
    terms.write_text("near: libgen w/1msg permission\nplain: golf\n")
    result = invoke(
        "batch",
        str(terms),
        "--report",
        "-",
        "--level",
        "conversation-day",
        "--level",
        "conversation",
    )
    assert result.exit_code == 0, result.stderr
    rows = {r["term"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    near, plain, total = rows["near"], rows["plain"], rows["TOTAL"]
    # near hits every message but the join: bravo with alpha and delta (main line), charlie
    # with echo (thread), foxtrot with delta and golf, hotel with itself. New York days:
    # legal 11 March (alpha), 12 March, 13 March (golf); general 12 March.
    assert near["messages"] == "8" and near["conversation_days"] == "4"
    assert near["unique_conversation_days"] == "3" and near["conversation_day_messages"] == "8"
    assert plain["conversation_days"] == "1"
    assert plain["unique_conversation_days"] == "0"  # golf's day (13 March) is near's too
    assert plain["conversation_day_messages"] == "1"
    assert plain["unique_conversations"] == "0" and plain["conversation_messages"] == "7"
    assert total["unique_conversation_days"] == "3"


def test_the_review_screen_cycles_the_context_kinds(dst: Matter) -> None:
    import asyncio

    from discovery.tui.app import ReviewApp
    from discovery.tui.session import Session

    session = Session(dst)
    app = ReviewApp(session, blink=False, query="charlie")
    seen: list[tuple[str, list[str]]] = []

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            for _ in range(5):
                await pilot.press("escape", "c")
                await app.workers.wait_for_complete()
                await pilot.pause()
                seen.append((app.shown_context().label, _names(dst, list(app.pane.message_ids))))

    try:
        asyncio.run(main())
    finally:
        session.close()
    assert seen == [
        ("10min", ["charlie", "join", "delta"]),
        ("2h", ["bravo", "charlie", "join", "delta", "echo"]),
        ("thread", ["bravo", "charlie", "echo"]),
        ("day", ["bravo", "charlie", "join", "delta", "echo", "foxtrot"]),
        ("3", ["bravo", "charlie", "echo"]),
    ]
