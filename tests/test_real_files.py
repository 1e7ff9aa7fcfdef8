"""Every real export file (fixtures/real/ and the shared samples) imports, read right.

One case per file. Each expectation was written from reading the file (its
text, its JSON, its headers, a PDF's text layer and Info dates), never from
running the importer: the number of user (non-system) messages, one speaker,
one time in UTC and one phrase that must be found. All files are ingested
once into one matter; each test looks at the messages its own source holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from discovery.importers.detect import IMPORTERS, _sniffs
from discovery.ingest import IngestReport, SourceReport, ingest
from discovery.matter import Matter, open_matter
from discovery.search import Searcher
from tests.conftest import FIXTURES, SAMPLES

REAL = FIXTURES / "real"


@dataclass(frozen=True)
class Case:
    path: str  # "real/<format>/<file or export folder>" or "samples/<format>/<file>"
    format: str
    users: int
    speaker: str
    utc: str
    phrase: str

    @property
    def file(self) -> Path:
        root, _, rest = self.path.partition("/")
        return (REAL if root == "real" else SAMPLES) / rest


W, E, P, M = "whatsapp", "email", "pdf", "messenger"
CASES = [
    # WhatsApp (chat-miner, whatsapp-chat-parser): many header layouts, read as UTC (--tz default)
    Case("real/whatsapp/chat-miner_dateformat1.txt", W, 7, "Jahn Doe", "2020-01-17T20:49:00+00:00", "Pellentesque non tincidunt erat"),  # noqa: E501
    Case("real/whatsapp/chat-miner_dateformat2.txt", W, 4, "John-John Doe", "2019-09-24T23:30:00+00:00", "Duis libero"),  # noqa: E501
    Case("real/whatsapp/chat-miner_dateformat3.txt", W, 4, "Jahn Doe", "2022-12-14T13:34:00+00:00", "consectetur adipiscing elit"),  # noqa: E501
    Case("real/whatsapp/chat-miner_dateformat4.txt", W, 4, "John-John Doe", "2022-09-10T23:37:00+00:00", "dolor sit amet"),  # noqa: E501
    Case("real/whatsapp/chat-miner_dateformat5.txt", W, 4, "Jahn Doe", "2021-10-21T15:21:45+00:00", "Duis libero"),  # noqa: E501
    Case("real/whatsapp/chat-miner_dateformat6.txt", W, 4, "John-John Doe", "2021-10-21T15:21:45+00:00", "Duis libero"),  # noqa: E501
    Case("real/whatsapp/chat-miner_unicode_nbsp_pm.txt", W, 3, "John Doe", "2022-09-10T22:37:00+00:00", "Testing abnormal unicode"),  # noqa: E501
    Case("real/whatsapp/chat-miner_testlog.txt", W, 20, "John-John Doe", "2021-10-24T15:21:43+00:00", "Testing date dashes"),  # noqa: E501
    Case("real/whatsapp/chat-miner_mmddyy_24h.txt", W, 7, "John-John Doe", "2021-12-30T22:01:00+00:00", "ipsum dolor sit amet"),  # noqa: E501
    Case("real/whatsapp/chat-miner_mmddyyyy_12h_am_pm.txt", W, 7, "Jahn Doe", "2021-12-30T22:01:00+00:00", "Duis libero"),  # noqa: E501
    Case("real/whatsapp/pustur_short-chat.txt", W, 3, "TestBot", "2017-06-03T00:45:00+00:00", "Is everything alright"),  # noqa: E501
    Case("real/whatsapp/WhatsApp Chat - pustur example.zip", W, 48, "Emily", "2019-06-20T15:58:53+00:00", "so mysterious and show us"),  # noqa: E501
    # Email (mail-parser): real mail, spam and bounces with encoded words and odd charsets
    Case("real/email/mail-parser_mail_malformed_2", E, 1, "postmaster@netpar.com.br", "2016-08-22T09:23:36+00:00", "mailbox quota exceeded"),  # noqa: E501
    Case("real/email/mail-parser_mail_malformed_3", E, 1, "El Punto de los Frutos & Verdes", "2017-03-19T23:12:54+00:00", "Recibo de Luz"),  # noqa: E501
    Case("real/email/mail-parser_mail_test_3", E, 1, "Ava Oneil", "2016-08-22T13:56:09+00:00", "bills of the goods we delivered"),  # noqa: E501
    Case("real/email/mail-parser_mail_test_5", E, 1, "Marina de Carlance", "2017-03-08T04:00:31+00:00", "dans tous les instituts Carlance"),  # noqa: E501
    Case("real/email/mail-parser_mail_test_6", E, 1, "Время пришло", "2017-07-15T09:18:41+00:00", "вкладывайте в золото"),  # noqa: E501
    Case("real/email/mail-parser_mail_test_9", E, 1, "xwfcpggy", "2016-12-26T05:33:31+00:00", "go2buy com cn"),  # noqa: E501
    Case("real/email/mail-parser_mail_test_10", E, 1, "Nicoletta Bernasconi", "2017-03-08T16:45:48+00:00", "campagna Move To Eight"),  # noqa: E501
    Case("real/email/mail-parser_mail_test_12", E, 1, "张先生", "2018-05-13T04:32:22+00:00", "代开各地增值税发票"),  # noqa: E501
    Case("real/email/mail-parser_mail_test_13", E, 1, "Continuity Insights", "2018-08-29T20:26:47+00:00", "Register Today for This FREE Essential Webinar"),  # noqa: E501
    Case("real/email/mail-parser_mail_test_14", E, 1, "example@example.com", "2019-04-24T08:05:02+00:00", "Plaintext here"),  # noqa: E501
    Case("real/email/mail-parser_mail_test_16", E, 1, "Sender", "2003-07-23T21:30:00+00:00", "Generic Test for Unsolicited Bulk Email"),  # noqa: E501
    Case("real/email/mail-parser_mail_test_17", E, 1, "notificaccion-clientes@bbva.mx", "2022-10-10T20:11:32+00:00", "Transferencia Interbancaria Banca en Linea"),  # noqa: E501
    Case("real/email/mail-parser_mail_test_18", E, 1, "LastßlName, FirstName", "2025-11-03T17:23:00+00:00", "contains a comma in the encoded display name"),  # noqa: E501
    Case("real/email/mail-parser_mail_test_19", E, 1, "alice@example.com", "2024-01-01T12:00:00+00:00", "display name is itself an email address"),  # noqa: E501
    # Messenger / Instagram (chat-miner, fbchat-archive-parser): JSON with mojibake, legacy HTML
    Case("real/messenger/chat-miner_messenger_testlog.json", M, 2, "Allan Smith", "2022-11-16T19:50:03.612000+00:00", "Hello Allan"),  # noqa: E501
    Case("real/messenger/chat-miner_instagram_testlog.json", M, 13, "J❤️hn Doe", "2019-12-24T11:23:00+00:00", "Testing message with reactions"),  # noqa: E501
    Case("real/messenger/fbchat-archive-parser_messages.htm", M, 20, "Third User 三", "2013-10-05T05:07:00+00:00", "The last message"),  # noqa: E501
    # PDF exhibits from office tools (pdfplumber): dated by their creation date, a page each
    Case("real/pdf/pdfplumber_150109DSP-Milw-505-90D.pdf", P, 2, "(unknown sender)", "2015-07-20T21:16:48+00:00", "Division of Safety and Permanence"),  # noqa: E501
    Case("real/pdf/pdfplumber_2023-06-20-PV.pdf", P, 2, "(unknown sender)", "2023-06-21T13:30:27+00:00", "comité de démolition"),  # noqa: E501
    Case("real/pdf/pdfplumber_annotations.pdf", P, 1, "(unknown sender)", "2007-02-23T15:56:37+00:00", "Dummy PDF file"),  # noqa: E501
    Case("real/pdf/pdfplumber_cupertino_usd_4-6-16.pdf", P, 1, "(unknown sender)", "2016-04-05T14:08:05+00:00", "Cupertino Union School District"),  # noqa: E501
    Case("real/pdf/pdfplumber_issue-33-lorem-ipsum.pdf", P, 2, "(unknown sender)", "2017-05-09T13:57:58+00:00", "Quisquam"),  # noqa: E501
    Case("real/pdf/pdfplumber_la-precinct-bulletin-2014-p1.pdf", P, 1, "(unknown sender)", "2016-02-28T22:45:01+00:00", "PRECINCT BULLETINS"),  # noqa: E501
    Case("real/pdf/pdfplumber_mcid_example.pdf", P, 1, "(unknown sender)", "2023-08-09T18:14:59+00:00", "Test of figures"),  # noqa: E501
    Case("real/pdf/pdfplumber_pdffill-demo.pdf", P, 7, "(unknown sender)", "2016-09-15T04:00:14+00:00", "Six Arrow Styles"),  # noqa: E501
    Case("real/pdf/pdfplumber_scotus-transcript-p1.pdf", P, 1, "(unknown sender)", "2009-01-13T20:23:05+00:00", "SUPREME COURT OF THE UNITED STATES"),  # noqa: E501
    Case("real/pdf/pdfplumber_test-punkt.pdf", P, 4, "(unknown sender)", "2022-07-05T20:22:55+00:00", "Algorithms"),  # noqa: E501
    Case("real/pdf/pdfplumber_word365_structure.pdf", P, 1, "(unknown sender)", "2023-07-21T23:22:25+00:00", "Liste numérotée"),  # noqa: E501
    # mbox (Apache Pony Mail): real list archives with 'From ' separators, multipart and flowed text
    Case("real/mbox/ponymail_dev_ponymail_apache_org_2020-10.mbox", E, 1, "jmclean@apache.org", "2020-10-05T04:41:21+00:00", "prepare your quarterly board report"),  # noqa: E501
    Case("real/mbox/ponymail_users_ponymail_apache_org_2019-09.mbox", E, 4, "Gary D. Gregory", "2019-09-20T12:27:54+00:00", "Can you get to this page from the root page"),  # noqa: E501
    # Mattermost (zulip): a whole bulk export; users by name; a reply nested in its root post
    Case("real/mattermost/zulip_mattermost_export.json", "mattermost", 21, "Ron Weasley", "2019-03-21T11:08:39.720000+00:00", "I was always in your team"),  # noqa: E501
    # Teams (zulip): a user's chat messages (DMs and a group chat), system events without a sender
    Case("real/teams/zulip_TeamsData_user_messages.json", "teams", 5, "Pieter K", "2025-08-12T13:23:08.802000+00:00", "relational algorithms are an interesting new topic"),  # noqa: E501
    # Telegram (tele_dashboard): scrubbed, one id for all 256 records (86 distinct), unixtime 0
    Case("real/telegram/tele_dashboard_sample.json", "telegram", 86, "Joseph Joestar", "2022-03-21T11:11:11+00:00", "The One Piece is Real"),  # noqa: E501
    # Google Chat (google-chat-formatter): a Takeout messages.json, renamed, records repeated
    Case("real/google_chat/google-chat-formatter_messages-sample.json", "google_chat", 18, "Olivia Martinez", "2023-12-27T02:50:09+00:00", "Nemo enim ipsam voluptatem"),  # noqa: E501
    # Discord and Telegram (chatpack-cli): a lean DiscordChatExporter JSON (no dateRange, no
    # exportedAt, authors without nickname) and a Telegram chat with naive dates only
    Case("real/discord/chatpack_discord_export.json", "discord", 7, "Alice", "2024-01-15T10:30:00+00:00", "did you see the news"),  # noqa: E501
    Case("real/telegram/chatpack_telegram_export.json", "telegram", 7, "Bob", "2024-01-15T10:30:15+00:00", "doing great, thanks for asking"),  # noqa: E501
    # Slack (houstondatavis/slack-export): a community's real export, two channels of it; javier
    # has no real_name or display_name (the speaker is his username)
    Case("real/slack/houstondatavis", "slack", 56, "javier", "2016-07-14T01:10:13.000007+00:00", "didnt see this channel here"),  # noqa: E501
    # The shared samples
    Case("samples/discord/chat-analytics_DCE_DM.json", "discord", 2, "Someones nickname", "2019-01-04T17:52:39.762000+00:00", "something something text"),  # noqa: E501
    Case("samples/email/mail-parser_8bit_alternative.eml", E, 1, "Helicopter_flight_simulator", "2017-03-07T22:29:24+00:00", "Real World Flying"),  # noqa: E501
    Case("samples/email/scutes_test.mbox", E, 1, "Brockman, Kent", "2022-10-31T15:17:37+00:00", "Metropolitan Museum of Art"),  # noqa: E501
    Case("samples/mattermost/zulip_mattermost_v11_post_with_replies.json", "mattermost", 4, "brandon.mccoy", "2026-01-20T13:36:41.357000+00:00", "quod ut voluptatem"),  # noqa: E501
    Case("samples/messenger/chat-miner_instagram_message_1.json", M, 2, "Jane Doe", "2020-01-17T20:49:00+00:00", "Hello Jane"),  # noqa: E501
    Case("samples/rsmf/relativity-slack-demo_rsmf_manifest.json", "rsmf", 125, "RaoP", "2019-04-02T14:53:55.002000+00:00", "can be seen by all of the organization"),  # noqa: E501
    Case("samples/slack/slack-export-viewer_testarchive.zip", "slack", 147, "abilinski", "2016-01-15T08:17:45.000008+00:00", "what should setup.py do"),  # noqa: E501
    Case("samples/teams/zulip_TeamsDataExport_channel_messages.json", "teams", 1, "Will Begon", "2025-09-25T14:30:13.079000+00:00", "asdad"),  # noqa: E501
    Case("samples/telegram/chat-miner_full_account_export.json", "telegram", 2, "Author 1", "2018-12-05T10:39:10+00:00", "Minimal Message"),  # noqa: E501
    Case("samples/telegram/chat-miner_single_export.json", "telegram", 2, "Author 2", "2018-12-05T10:39:10+00:00", "Minimal Message"),  # noqa: E501
    Case("samples/whatsapp/chat-miner_android_ddmmyy_24h.txt", W, 7, "John-John Doe", "2021-12-30T22:01:00+00:00", "Duis libero"),  # noqa: E501
    Case("samples/whatsapp/chat-miner_android_yyyymmdd_24h.txt", W, 7, "Jahn Doe", "2021-12-30T22:01:00+00:00", "Duis libero"),  # noqa: E501
    Case("samples/whatsapp/chat-miner_ios_bracket_mmddyy_24h.txt", W, 7, "John Doe", "2021-12-30T22:01:00+00:00", "Duis libero"),  # noqa: E501
    Case("samples/whatsapp/pustur_ios_example__chat.txt", W, 48, "Loris", "2019-06-20T16:44:58+00:00", "I hope you like whatsapp-chat-parser"),  # noqa: E501
]  # fmt: skip


def _all_files() -> list[Path]:
    files = [p for p in sorted(REAL.rglob("*")) if p.is_file() and p.name != "SOURCES.md"]
    if SAMPLES.is_dir():
        files += [p for p in sorted(SAMPLES.rglob("*")) if p.is_file() and p.name != "README.md"]
    return files


def test_every_real_file_has_a_case() -> None:
    named = {c.file for c in CASES}
    assert [p for p in _all_files() if not named.intersection((p, *p.parents))] == []
    assert len([c for c in CASES if c.path.startswith("real/")]) >= 40


def test_every_real_file_has_its_own_sources_row() -> None:
    """Each file has a row of its own: path, repository, path there, 40-hex commit, licence."""
    rows: dict[str, list[str]] = {}
    for line in (REAL / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 5:
            rows[cells[0].split("`")[1]] = cells
    files = [p.relative_to(REAL).as_posix() for p in sorted(REAL.rglob("*")) if p.is_file()]
    missing = [f for f in files if f != "SOURCES.md" and f not in rows]
    assert missing == []
    for name in (f for f in files if f in rows):
        _, repo, _, commit, licence = rows[name]
        assert "/" in repo and re.fullmatch(r"`[0-9a-f]{40}`", commit) and licence, name


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.path)
def test_claimed_by_exactly_its_importer(case: Case) -> None:
    if not case.file.exists():
        pytest.skip("shared sample not present")
    assert [n for n, imp in IMPORTERS.items() if _sniffs(imp, case.file)] == [case.format]


@pytest.fixture(scope="module")
def real_matter(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IngestReport]:
    home = tmp_path_factory.mktemp("real_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISCOVERY_HOME", str(home))
        mp.delenv("DISCOVERY_TZ", raising=False)
        with open_matter("real", create=True) as m:
            report = ingest(m, [c.file for c in CASES if c.file.exists()])
    return home, report


def _held(m: Matter, path: Path) -> set[int]:
    return m.store.ids_where(
        "m.id IN (SELECT ms.message_id FROM message_sources ms"
        " JOIN sources s ON s.id = ms.source_id WHERE s.path = ?)",
        [str(path)],
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.path)
def test_real_file_imports(
    case: Case, real_matter: tuple[Path, IngestReport], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not case.file.exists():
        pytest.skip("shared sample not present")
    home, report = real_matter
    rep: SourceReport = next(s for s in report.sources if s.path == str(case.file))
    assert (rep.status, rep.format) == ("imported", case.format), rep.problems
    monkeypatch.setenv("DISCOVERY_HOME", str(home))
    with open_matter("real") as m:
        ids = _held(m, case.file)
        # the messages (an attachment's text is a family member of its message, not one)
        users = [x for x in m.store.messages(sorted(ids)) if not x.system and x.family is None]
        assert len(users) == case.users
        assert case.speaker in {x.speaker for x in users}
        assert case.utc in {x.sent_at.isoformat() for x in users}
        assert Searcher(m).match(f'"{case.phrase}"')[1] & ids, case.phrase
