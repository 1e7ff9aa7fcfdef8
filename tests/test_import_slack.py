"""The Slack importer: the fixture export with every trap, malformed files, the real sample."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.slack import SlackImporter, parse_ts, user_display_name
from discovery.model import Attachment, ConversationKind, Reaction
from tests.conftest import SAMPLES
from tests.fuzzing import check_items, read_mutated, truncate_and_flip

ROOT = Path(__file__).parents[1]
ACME = ROOT / "fixtures" / "slack" / "acme"
MALFORMED = ROOT / "fixtures" / "slack" / "malformed"
SAMPLE = SAMPLES / "slack" / "slack-export-viewer_testarchive.zip"

MARCUS, DANA, PRIYA, TOM, ELENA = (
    "U04ACME0MC",
    "U04ACME0DW",
    "U04ACME0PR",
    "U04ACME0TO",
    "U04ACME0EL",
)


def read(path: Path, display: str | None = None) -> list[ImportItem]:
    return list(SlackImporter().read(path, ImportContext(UTC, display or str(path))))


def messages(items: list[ImportItem]) -> list[RawMessage]:
    return [i for i in items if isinstance(i, RawMessage)]


def by_text(items: list[ImportItem], fragment: str) -> RawMessage:
    found = [m for m in messages(items) if fragment in m.text]
    assert len(found) == 1, (fragment, [m.text for m in found])
    return found[0]


@pytest.fixture(scope="module")
def acme() -> list[ImportItem]:
    return read(ACME)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=UTC)


# --- basics -------------------------------------------------------------------------------


def test_parse_ts_keeps_microseconds_exactly() -> None:
    assert parse_ts("1452837318.000002") == utc(2016, 1, 15, 5, 55, 18, 2)
    assert parse_ts("1678201920.999999") == utc(2023, 3, 7, 15, 12, 0, 999999)
    assert parse_ts("1678201920") == utc(2023, 3, 7, 15, 12)
    assert parse_ts("1678201920.5") == utc(2023, 3, 7, 15, 12, 0, 500000)
    assert parse_ts("not a ts") is None
    assert parse_ts("") is None


def test_display_name_precedence() -> None:
    assert (
        user_display_name({"name": "n", "real_name": "R", "profile": {"display_name": "D"}}) == "D"
    )
    assert (
        user_display_name(
            {"name": "n", "real_name": "R", "profile": {"display_name": " ", "real_name": "PR"}}
        )
        == "PR"
    )
    assert user_display_name({"name": "n", "real_name": "R", "profile": {}}) == "R"
    assert user_display_name({"name": "n"}) == "n"


def test_sniff() -> None:
    imp = SlackImporter()
    assert imp.sniff(ACME)
    assert imp.sniff(MALFORMED)
    assert not imp.sniff(ROOT / "fixtures" / "slack")
    assert not imp.sniff(ACME / "users.json")
    assert not imp.sniff(ROOT / "fixtures" / "transcript" / "us_12h.txt")


def test_no_problems_and_conversations_precede_their_messages(acme: list[ImportItem]) -> None:
    assert not [i for i in acme if isinstance(i, ImportProblem)]
    seen: set[str] = set()
    for item in acme:
        if isinstance(item, RawConversation):
            seen.add(item.key)
        elif isinstance(item, RawMessage):
            assert item.conversation_key in seen
    assert len(messages(acme)) == 50


def test_conversations_kinds_and_names(acme: list[ImportItem]) -> None:
    convs = {c.key: c for c in acme if isinstance(c, RawConversation)}
    assert {k: (c.name, c.kind) for k, c in convs.items()} == {
        "C04GENERAL": ("general", ConversationKind.CHANNEL),
        "C04DATAACQ": ("data-acquisition", ConversationKind.CHANNEL),
        "C04MODELTR": ("model-training", ConversationKind.CHANNEL),
        "G04LEGALRV": ("legal-review", ConversationKind.CHANNEL),
        "D04DANAMAR": ("Dana Whitfield, Marcus", ConversationKind.DIRECT),
        "G04MPIMDPT": ("Dana Whitfield, Priya Raman, tom.o", ConversationKind.GROUP),
    }
    assert [p.name for p in convs["G04LEGALRV"].participants] == ["Dana Whitfield", "Priya Raman"]


def test_deterministic_order(acme: list[ImportItem]) -> None:
    assert read(ACME) == acme
    locations = [m.location for m in messages(acme)]
    folders = [loc.split("/")[0] for loc in locations]
    assert folders == sorted(folders)


# --- the key message -------------------------------------------------------------------------


def test_ask_forgiveness_message(acme: list[ImportItem]) -> None:
    m = by_text(acme, "ask forgiveness, not for permission")
    assert m.text == "Honestly? We should just ask forgiveness, not for permission."
    assert (m.speaker, m.speaker_id) == ("Marcus", MARCUS)
    assert m.sent_at == utc(2023, 3, 7, 15, 12, 0, 118)
    assert m.native_id == "1678201920.000118"
    assert m.conversation_key == "C04DATAACQ"
    assert m.location == "data-acquisition/2023-03-07.json entry 4"
    assert m.platform == "slack"
    assert m.reactions == (Reaction("+1", (TOM, ELENA)), Reaction("grimacing", (DANA,)))
    assert not (m.edited or m.deleted or m.system)
    assert m.thread_key is None


def test_speaker_name_fallbacks(acme: list[ImportItem]) -> None:
    # Priya has an empty display_name -> profile.real_name
    assert by_text(acme, "are those pirated books").speaker == "Priya Raman"
    # Elena's profile names are empty -> top-level real_name
    assert by_text(acme, "Línea base accuracy").speaker == "Elena Lindqvist"


# --- threads ---------------------------------------------------------------------------------


def test_thread_reply_filed_under_a_later_day(acme: list[ImportItem]) -> None:
    root = by_text(acme, "Thread for the download plan")
    assert root.thread_key is None
    assert root.location == "data-acquisition/2023-03-09.json entry 1"
    replies = [m for m in messages(acme) if m.thread_key == root.native_id]
    assert [(r.speaker, r.location) for r in replies] == [
        ("tom.o", "data-acquisition/2023-03-09.json entry 2"),
        ("Dana Whitfield", "data-acquisition/2023-03-10.json entry 1"),
        ("Elena Lindqvist", "data-acquisition/2023-03-10.json entry 2"),
    ]
    assert replies[1].sent_at == utc(2023, 3, 10, 0, 20, 0, 126)


def test_tombstone_root_kept_deleted(acme: list[ImportItem]) -> None:
    tomb = by_text(acme, "This message was deleted.")
    assert tomb.deleted and not tomb.system
    assert tomb.thread_key is None
    assert tomb.speaker == "Slackbot"
    reply = by_text(acme, "Deleting that was probably wise")
    assert reply.thread_key == tomb.native_id


# --- text rendering --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("are those pirated", "@tom.o are those pirated books? Legal will want to know."),
        ("ping me", "@tom.o ping me when it lands"),
        ("offsite", "@here the offsite moved to Thursday & Friday"),
        ("Mirror is at", "Mirror is at 61%. @channel please stop asking."),
        (
            "onboarding",
            "Welcome to Acme Reading Labs! Please read the onboarding guide before Friday.",
        ),
        (
            "Dataset notes",
            "Dataset notes: https://drive.example.com/acme/datasets and questions to "
            "legal@acme-reading.example",
        ),
        (
            "metrics should",
            "Hej! Quick reminder: metrics should be <5% error > baseline, see #model-training",
        ),
        ("loop in", "Please loop in #legal-review first. We should ask forgiveness only if legal"),
        ("Sending the memo", "Sending the memo tonight. Publisher list: memo v2"),
        ("Libgen mirror", "Should I stop the Libgen mirror?"),
    ],
)
def test_markup_rendered(acme: list[ImportItem], fragment: str, expected: str) -> None:
    assert by_text(acme, fragment).text.startswith(expected)


def test_mentions_inline_forms() -> None:
    from discovery.importers.slack import _Render

    render = _Render({"U1": "Ann Lee"}, {"C9": "general"})
    assert render("hi <@U1> and <@U1|ann>") == "hi @Ann Lee and @Ann Lee"
    assert render("<@U404|bob> <@U404>") == "@bob @U404"
    assert render("<#C9> <#C8|random> <#C7>") == "#general #random #C7"
    assert render("<!everyone> <!subteam^S1|@legal> <!date^1|Feb 3>") == "@everyone @legal Feb 3"
    assert render("a &amp;lt; b") == "a &lt; b"
    assert render("x < y > z") == "x < y > z"


# --- flags, files, bots, system --------------------------------------------------------------


def test_message_without_text_key_keeps_its_file(acme: list[ImportItem]) -> None:
    [m] = [m for m in messages(acme) if m.attachments]
    assert m.text == ""
    assert m.speaker == "Priya Raman"
    assert m.attachments == (
        Attachment(
            "Q1-plan.pdf",
            48213,
            url="https://files.slack.com/files-pri/T04ACMERL-F04Q1PLAN1/q1-plan.pdf",
        ),
    )


def test_bot_message(acme: list[ImportItem]) -> None:
    m = by_text(acme, "Nightly build finished")
    assert (m.speaker, m.speaker_id) == ("Acme CI", "B04ACMECI1")
    assert not m.system


def test_edited_and_changed(acme: list[ImportItem]) -> None:
    edited = by_text(acme, "190k titles")
    assert edited.edited and edited.versions == ()
    changed = by_text(acme, "Run 15 uses only licensed books.")
    assert changed.edited
    assert changed.versions == ("Run 15 uses the pirated books again.",)
    assert changed.native_id == "1678353300.000700"
    assert changed.speaker == "tom.o"


def test_system_events_kept_flagged(acme: list[ImportItem]) -> None:
    system = [m for m in messages(acme) if m.system]
    assert {m.extra["subtype"] for m in system} == {
        "channel_join",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "pinned_item",
        "group_join",
    }
    topic = next(m for m in system if m.extra["subtype"] == "channel_topic")
    assert topic.text == "set the channel topic: Acme Reading Labs all-hands & announcements"
    assert "@Dana Whitfield has joined the channel" in {m.text for m in system}


def test_dm_and_mpim(acme: list[ImportItem]) -> None:
    dm = by_text(acme, "better to ask forgiveness than permission")
    assert dm.conversation_key == "D04DANAMAR"
    assert dm.location == "D04DANAMAR/2023-03-09.json entry 1"
    # 02:10 UTC on 9 March is the evening of 8 March in US zones
    assert dm.sent_at == utc(2023, 3, 9, 2, 10, 0, 145)
    mp = by_text(acme, "Stop it today")
    assert mp.conversation_key == "G04MPIMDPT"
    assert mp.text == "Yes. Stop it today & keep the logs."


def test_demo_phrases_present(acme: list[ImportItem]) -> None:
    texts = "\n".join(m.text for m in messages(acme))
    for phrase in (
        "ask forgiveness, not for permission",
        "Libgen is essential",
        "pirated books",
        "ask for permission",
        "we should just ask forgiveness",
    ):
        assert phrase.lower() in texts.lower(), phrase


# --- zip -------------------------------------------------------------------------------------


def zip_of(folder: Path, prefix: str = "", compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for p in sorted(folder.rglob("*")):
            rel = p.relative_to(folder).as_posix()
            if p.is_dir():
                zf.writestr(prefix + rel + "/", b"")
            else:
                zf.writestr(prefix + rel, p.read_bytes())
    return buf.getvalue()


@pytest.mark.parametrize("prefix", ["", "Acme Slack export Mar 2023/"])
def test_zip_gives_the_same_items(tmp_path: Path, acme: list[ImportItem], prefix: str) -> None:
    z = tmp_path / "acme.zip"
    z.write_bytes(zip_of(ACME, prefix))
    assert SlackImporter().sniff(z)
    assert read(z) == acme
    assert list(tmp_path.iterdir()) == [z]  # nothing extracted


# --- malformed -------------------------------------------------------------------------------


def test_malformed_export_reports_and_continues() -> None:
    items = read(MALFORMED, "exports/malformed")
    problems = [i for i in items if isinstance(i, ImportProblem)]
    assert [(p.path, p.line) for p in problems] == [
        ("exports/malformed/general/2023-01-05.json", 2),
        ("exports/malformed/general/2023-01-05.json", 3),
        ("exports/malformed/general/2023-01-06.json", 11),
        ("exports/malformed/general/2023-01-07.json", 2),
    ]
    assert "no ts" in problems[0].reason
    assert "entry 2" in problems[0].reason
    assert "not valid JSON" in problems[2].reason
    assert [m.text for m in messages(items)] == [
        "first good message",
        "this entry has no ts",
        "second good message",
        "after the broken day",
        "this entry has a ts that is no Slack time",
        "a folder no channels.json lists",
    ]
    random = [c for c in items if isinstance(c, RawConversation) and c.key == "random"]
    assert random == [RawConversation("slack", "random", "random")]


def test_an_entry_without_a_readable_ts_is_kept_undated_and_reported(tmp_path: Path) -> None:
    """general/2023-01-05.json entry 2 has no ts, 2023-01-07.json entry 2 the ts 'yesterday
    at noon': both kept (never dropped), undated, reported, found by search."""
    items = read(MALFORMED, "m")
    undated = [m for m in messages(items) if m.sent_at is None]
    assert [(m.text, m.native_id, m.location, m.speaker) for m in undated] == [
        ("this entry has no ts", "", "general/2023-01-05.json entry 2", "Marcus"),
        (
            "this entry has a ts that is no Slack time",
            "yesterday at noon",
            "general/2023-01-07.json entry 2",
            "Marcus",
        ),
    ]
    reasons = {(p.path, p.line): p.reason for p in items if isinstance(p, ImportProblem)}
    assert "has no ts (message time); kept undated" in reasons[("m/general/2023-01-05.json", 2)]
    assert (
        "unreadable ts 'yesterday at noon'; kept undated"
        in reasons[("m/general/2023-01-07.json", 2)]
    )

    from discovery.ingest import ingest
    from discovery.matter import open_matter
    from discovery.search import Searcher

    with open_matter("slack-undated", create=True) as m:
        (source,) = ingest(m, [MALFORMED]).sources
        assert (source.added, source.undated) == (6, 2)
        hits = Searcher(m).search("entry", sort="time").hits
        assert [(h.message.text, h.message.undated) for h in hits] == [
            ("this entry has no ts", True),
            ("this entry has a ts that is no Slack time", True),
        ]
        assert Searcher(m).count("entry AND after:2000-01-01") == 0


def test_malformed_in_zip_names_the_member(tmp_path: Path) -> None:
    z = tmp_path / "bad.zip"
    z.write_bytes(zip_of(MALFORMED))
    problems = [i for i in read(z, "bad.zip") if isinstance(i, ImportProblem)]
    assert (problems[2].path, problems[2].line) == ("bad.zip!general/2023-01-06.json", 11)
    assert (problems[3].path, problems[3].line) == ("bad.zip!general/2023-01-07.json", 2)


def test_not_a_zip_is_one_problem(tmp_path: Path) -> None:
    p = tmp_path / "x.zip"
    p.write_bytes(b"PK\x03\x04 this is not really a zip")
    items = read(p)
    assert len(items) == 1 and isinstance(items[0], ImportProblem)


def test_legacy_shapes(tmp_path: Path) -> None:
    (tmp_path / "users.json").write_text(
        json.dumps(
            [
                {"id": "U1", "name": "ann", "profile": {"display_name": "Ann"}},
                {
                    "id": "UB",
                    "name": "ci",
                    "is_bot": True,
                    "profile": {"real_name": "CI Bot", "bot_id": "B1"},
                },
            ]
        )
    )
    (tmp_path / "chan").mkdir()
    entries = [
        {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "B1",
            "text": "",
            "ts": "1.000001",
            "attachments": [
                {"pretext": "[repo] 1 new commit", "text": "<https://x/c/1|abc123>: fix"}
            ],
        },
        {
            "type": "message",
            "subtype": "message_deleted",
            "ts": "2.000000",
            "deleted_ts": "1.500000",
            "previous_message": {"user": "U1", "text": "oops &amp; gone", "ts": "1.500000"},
        },
        {
            "type": "message",
            "user": "U1",
            "text": "v3",
            "ts": "3.000000",
            "previous": ["v1", {"text": "v2"}],
        },
        {
            "type": "message",
            "user": "U9",
            "text": "profile",
            "ts": "4.000000",
            "user_profile": {"display_name": "", "real_name": "Zed Zulu"},
        },
        {"type": "message", "user": "U1", "text": "reply", "ts": 5, "thread_ts": 4},
    ]
    (tmp_path / "chan" / "2023-01-01.json").write_text(json.dumps(entries))
    (tmp_path / "chan" / "notes.json").write_text("[]")
    items = read(tmp_path, "t")
    ms = messages(items)
    assert ms[0].speaker == "CI Bot" and ms[0].text == "[repo] 1 new commit\nabc123: fix"
    assert ms[1].deleted and ms[1].native_id == "1.500000" and ms[1].text == "oops & gone"
    assert ms[1].speaker == "Ann"
    assert ms[2].versions == ("v1", "v2") and ms[2].edited
    assert ms[3].speaker == "Zed Zulu"
    assert ms[4].native_id == "5" and ms[4].thread_key == "4"
    problems = [i for i in items if isinstance(i, ImportProblem)]
    assert [p.path for p in problems] == ["t/chan/notes.json"]


# --- the real sample -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> list[ImportItem]:
    if not SAMPLE.exists():
        pytest.skip("shared Slack sample not present")
    return read(SAMPLE, "testarchive.zip")


def test_sample_conversations(sample: list[ImportItem]) -> None:
    assert not [i for i in sample if isinstance(i, ImportProblem)]
    convs = [c for c in sample if isinstance(c, RawConversation)]
    assert [(c.key, c.name) for c in convs] == [
        ("C0JGLMMNX", "enrique"),
        ("C0JL6CGQ2", "traveling-sailor"),
    ]
    assert len(messages(sample)) == 158


def test_sample_specific_messages(sample: list[ImportItem]) -> None:
    ms = {(m.conversation_key, m.native_id): m for m in messages(sample)}
    first = ms[("C0JGLMMNX", "1452837352.000006")]
    assert first.speaker == "hamza" and first.speaker_id == "U0BMQB6JE"
    assert first.sent_at == utc(2016, 1, 15, 5, 55, 52, 6)
    # filed under the exporter's local day (14 Jan), sent on 15 Jan UTC
    assert first.location == "enrique/2016-01-14.json entry 5"
    assert first.text.startswith("@abilinski: Created an issue for a setup.py")
    assert first.thread_key is None

    join = ms[("C0JGLMMNX", "1452837318.000003")]
    assert join.system and join.text == "@abilinski has joined the channel"

    link = ms[("C0JGLMMNX", "1452846025.000011")]
    assert (
        link.text == "Here's an example: https://github.com/hfaran/progressive/blob/master/setup.py"
    )
    assert link.speaker == "hamza"

    edited = ms[("C0JL6CGQ2", "1458972985.000010")]
    assert edited.edited and edited.speaker == "hamza"

    bot = ms[("C0JGLMMNX", "1459154014.000018")]
    assert bot.speaker_id == "B0JL6RASU"
    assert bot.text.startswith("[enrique:master] 1 new commit by hfaran:")
    assert bot.reactions == (Reaction("botman", ("U0BMYT2FL",)),)

    upload = ms[("C0JL6CGQ2", "1459052866.000012")]
    assert upload.text == "@doubledeez uploaded a file: 100 cities"
    assert upload.attachments[0].name == "100_cities.js" and upload.attachments[0].size == 4163

    comment = ms[("C0JL6CGQ2", "1459106048.000018")]
    assert comment.speaker == "doubledeez"  # from comment.user; the entry has no user

    assert all(m.thread_key is None for m in messages(sample))  # no threads in this archive
    assert ms[("C0JGLMMNX", "1452988746.000017")].system  # bot_add


# --- robustness ------------------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
_entry = st.fixed_dictionaries(
    {},
    optional={
        "ts": st.one_of(st.text(max_size=20), st.integers(), st.floats(allow_nan=False), st.none()),
        "thread_ts": st.one_of(st.text(max_size=20), st.integers(), st.none()),
        "text": st.one_of(st.text(max_size=40), st.integers(), st.none()),
        "user": st.one_of(st.sampled_from(["U04ACME0MC", "U0"]), st.integers()),
        "subtype": st.sampled_from(
            ["bot_message", "tombstone", "message_changed", "message_deleted", "x"]
        ),
        "message": _json_values,
        "previous_message": _json_values,
        "previous": _json_values,
        "files": _json_values,
        "file": _json_values,
        "reactions": _json_values,
        "attachments": _json_values,
        "bot_profile": _json_values,
        "user_profile": _json_values,
        "comment": _json_values,
        "edited": _json_values,
    },
)


def _check_items(items: list[ImportItem]) -> None:
    for item in check_items(items):
        if isinstance(item, RawMessage):
            assert item.sent_at is None or item.sent_at.tzinfo is not None  # None: undated
            assert isinstance(item.text, str)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=st.lists(st.one_of(_entry, _json_values), max_size=6), meta=_json_values)
def test_mutated_entries_never_raise(
    tmp_path_factory: pytest.TempPathFactory, entries: list, meta: object
) -> None:
    root = tmp_path_factory.mktemp("fz")
    (root / "users.json").write_text(json.dumps(meta))
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general"}]))
    (root / "general").mkdir()
    (root / "general" / "2023-01-01.json").write_text(json.dumps(entries))
    _check_items(read(root))


@settings(max_examples=100, deadline=None)
@given(
    cut=st.integers(min_value=0, max_value=10_000), flip=st.integers(min_value=0, max_value=10_000)
)
def test_truncated_and_corrupted_zip_never_raises(cut: int, flip: int) -> None:
    data = truncate_and_flip(zip_of(MALFORMED, compression=zipfile.ZIP_DEFLATED), cut, flip)
    _check_items(read_mutated(SlackImporter(), "x.zip", data, sniff=False))
