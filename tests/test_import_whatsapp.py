"""The WhatsApp importer: every line shape, date order, system lines, media, zips, samples."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.detect import detect
from discovery.importers.whatsapp import (
    WhatsAppImporter,
    chat_key,
    chat_name,
    is_whatsapp_header,
)
from discovery.importers.whatsapp_dates import decide_order
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.model import Attachment, ConversationKind
from discovery.search import Searcher
from tests.conftest import FIXTURES, SAMPLES
from tests.fuzzing import Edits, byte_edits, mutate, read_mutated

FIX = FIXTURES / "whatsapp"
SAMPLE_DIR = SAMPLES / "whatsapp"
BOOK_CLUB = FIX / "WhatsApp Chat - Book Club.txt"


def read(path: Path, display: str | None = None) -> list[ImportItem]:
    return list(WhatsAppImporter().read(path, ImportContext(UTC, display or path.name)))


def messages(items: list[ImportItem]) -> list[RawMessage]:
    return [i for i in items if isinstance(i, RawMessage)]


def conversation(items: list[ImportItem]) -> RawConversation:
    (conv,) = [i for i in items if isinstance(i, RawConversation)]
    return conv


def test_android_us_12_hour_with_narrow_and_thin_spaces() -> None:
    items = read(FIX / "android_us_12h.txt")
    lines = (FIX / "android_us_12h.txt").read_text(encoding="utf-8").splitlines()
    conv = conversation(items)
    assert (conv.platform, conv.key, conv.kind) == (
        "whatsapp",
        chat_key([s for n, s in enumerate(lines, 1) if n in (1, 2, 3, 4, 7)]),
        ConversationKind.GROUP,
    )
    assert [p.name for p in conv.participants] == ["Ann Lee", "Bob Ray", "Cy Diaz"]
    ms = messages(items)
    assert [(m.location, m.speaker, m.sent_at, m.system) for m in ms] == [
        ("line 1", "", datetime(2023, 12, 30, 20, 0), True),  # end-to-end notice
        ("line 2", "", datetime(2023, 12, 30, 20, 1), True),  # created group
        ("line 3", "", datetime(2023, 12, 30, 20, 1), True),  # added
        ("line 4", "Ann Lee", datetime(2023, 12, 31, 21, 5), False),  # U+202F before PM
        ("line 7", "Bob Ray", datetime(2023, 12, 31, 21, 6), False),  # U+2009 before PM
        ("line 9", "Cy Diaz", datetime(2023, 12, 31, 21, 7), False),
        ("line 10", "Cy Diaz", datetime(2023, 12, 31, 21, 8), False),
        ("line 11", "Bob Ray", datetime(2023, 12, 31, 21, 9), False),
        ("line 12", "", datetime(2024, 1, 1, 0, 15), True),  # 12:15 AM; colon inside quotes
    ]
    assert all(m.sent_at.tzinfo is None for m in ms)
    assert ms[3].text == (
        "Who has the scans of the first edition?\nI mean the whole box,\nnot just chapter one."
    )
    assert ms[4].attachments == (Attachment("IMG-20231231-WA0001.jpg"),)
    assert ms[4].text.endswith("\nthe cover page")
    assert ms[5].attachments == (Attachment("<Media omitted>"),)
    assert ms[6].deleted and not ms[5].deleted
    assert ms[7].edited and ms[7].text == "Ask the archivist for permission"
    assert ms[8].text == 'Ann Lee changed the subject from "Book Club" to "Plan: B"'


def test_android_day_first_24_hour_crlf() -> None:
    ms = messages(read(FIX / "android_uk_24h.txt"))
    assert [(m.speaker, m.sent_at, m.text) for m in ms] == [
        ("Dee Park", datetime(2023, 12, 31, 21, 5), "Meet at the library at nine"),
        ("Eli Moss", datetime(2023, 12, 31, 21, 6), "Fine: bring the ledger"),
        ("Dee Park", datetime(2024, 1, 1, 9, 0), "Happy new year"),
    ]
    assert conversation(read(FIX / "android_uk_24h.txt")).kind is ConversationKind.DIRECT


def test_ios_group_name_prefix_lrm_and_media() -> None:
    items = read(BOOK_CLUB)
    conv = conversation(items)
    assert conv.name == "Book Club"
    assert [p.name for p in conv.participants] == ["Ann Lee", "Bob Ray"]  # not "Book Club"
    ms = messages(items)
    assert [(m.speaker, m.system) for m in ms[:2]] == [("", True), ("", True)]
    assert ms[1].text == "Ann Lee added Bob Ray"  # U+200E removed
    assert ms[0].sent_at == datetime(2023, 12, 31, 21, 5, 9)  # dotted: day-first
    assert ms[3].attachments == (Attachment("00000001-PHOTO-2023-12-31-21-06-30.jpg"),)
    assert not ms[3].system and ms[3].speaker == "Bob Ray"
    assert ms[4].attachments == (Attachment("image omitted"),)
    assert ms[5].text == "Línea uno: ask for permission"
    assert ms[5].sent_at == datetime(2024, 1, 1, 8, 0)
    assert not any("\r" in m.text or "\u200e" in m.text for m in ms)


def test_spanish_a_m_p_m() -> None:
    ms = messages(read(FIX / "spanish_am_pm.txt"))
    assert [m.sent_at for m in ms] == [datetime(2023, 12, 31, 9, 5), datetime(2023, 12, 31, 21, 10)]


def test_ambiguous_dates_follow_chronology() -> None:
    # 24-hour slashed dates would be read day-first, but only month-first keeps them in order
    ms = messages(read(FIX / "ambiguous_order.txt"))
    assert [m.sent_at.date().isoformat() for m in ms] == ["2023-01-02", "2023-01-03", "2023-02-02"]


@pytest.mark.parametrize(
    ("dates", "twelve", "order"),
    [
        (["12/31/23", "1/1/24"], True, "MDY"),  # second field > 12
        (["31/12/23", "1/1/24"], False, "DMY"),  # first field > 12
        (["31.12.23", "12/31/23", "30.12.23"], False, "DMY"),  # majority
        (["03.02.23", "04.02.23"], False, "DMY"),  # dotted, ambiguous, in order both ways
        (["3/2/23", "3/2/23"], True, "MDY"),  # slashed with AM/PM: US
        (["3/2/23", "3/2/23"], False, "DMY"),  # slashed 24-hour: day-first
        (["01/02/23", "01/03/23", "02/02/23"], False, "MDY"),  # chronology decides
        (["2023/12/31"], False, "YMD"),  # year-first only: nothing to decide
    ],
)
def test_decide_order(dates: list[str], twelve: bool, order: str) -> None:
    assert decide_order(list(enumerate(dates, start=1)), twelve, None).order == order


def test_header_shapes_and_chat_names() -> None:
    assert is_whatsapp_header("12/31/23, 9:05\u202fPM - Ann: hi")
    assert is_whatsapp_header("\u200e[31.12.23, 21:05:09] Ann: hi")
    assert is_whatsapp_header("[12/31/23 21:05] Ann: hi")
    assert is_whatsapp_header("2023/12/31, 21:05 - Ann: hi")
    assert not is_whatsapp_header("2023-02-03 10:15 - Ann: hi")  # no comma: a transcript
    assert not is_whatsapp_header("Ann (2/3/2023 10:15 AM): hi")
    assert chat_name("WhatsApp Chat with Ann Lee.txt") == "Ann Lee"
    assert chat_name("WhatsApp Chat - Book Club.zip") == "Book Club"
    assert chat_name("export.txt") == "export"


def test_sniff_and_detect() -> None:
    imp = WhatsAppImporter()
    for p in FIX.glob("*.txt"):
        assert imp.sniff(p), p
        assert detect(p) is imp or getattr(detect(p), "name", None) == "whatsapp"
    transcripts = FIXTURES / "transcript"
    assert not imp.sniff(transcripts / "us_12h.txt")
    assert not imp.sniff(transcripts / "preamble.txt")  # a cover page: an exhibit
    assert not imp.sniff(transcripts / "continuation.txt")
    assert not imp.sniff(FIXTURES / "csv" / "bom_aliases.csv")


def _zip(tmp: Path, name: str, member: str, media: dict[str, bytes]) -> Path:
    z = tmp / name
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(member, BOOK_CLUB.read_bytes())
        for n, data in media.items():
            zf.writestr(n, data)
    return z


def test_zip_with_media_read_in_memory(tmp_path: Path) -> None:
    photo = b"\xff\xd8fake jpeg bytes"
    z = _zip(
        tmp_path,
        "WhatsApp Chat - Book Club.zip",
        "_chat.txt",
        {"00000001-PHOTO-2023-12-31-21-06-30.jpg": photo},
    )
    assert WhatsAppImporter().sniff(z)
    assert getattr(detect(z), "name", None) == "whatsapp"
    items = read(z, "exports/book.zip")
    conv = conversation(items)
    assert conv.key.startswith("chat-")
    assert conv.name == "Book Club"
    ms = messages(items)
    (att,) = ms[3].attachments
    assert Attachment(att.name, att.size, att.sha256, att.url) == Attachment(
        "00000001-PHOTO-2023-12-31-21-06-30.jpg", len(photo), hashlib.sha256(photo).hexdigest()
    )
    assert att.held is not None and att.held.read() == photo  # handed over for extraction
    assert ms[3].location == "_chat.txt line 4"
    assert ms[3].native_id.startswith("2023-12-31T21:06:30 ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["WhatsApp Chat - Book Club.zip"]


def test_zip_without_chat_is_a_problem(tmp_path: Path) -> None:
    z = tmp_path / "photos.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.jpg", b"x")
        zf.writestr("b.txt", b"x")
        zf.writestr("c.txt", b"y")
    assert not WhatsAppImporter().sniff(z)
    (item,) = read(z)
    assert isinstance(item, ImportProblem) and "no WhatsApp chat" in item.reason


def test_media_beside_plain_chat_is_hashed(tmp_path: Path) -> None:
    (tmp_path / "_chat.txt").write_bytes(BOOK_CLUB.read_bytes())
    (tmp_path / "00000001-PHOTO-2023-12-31-21-06-30.jpg").write_bytes(b"abc")
    ms = messages(read(tmp_path / "_chat.txt"))
    assert ms[3].attachments[0].size == 3
    assert ms[3].attachments[0].sha256 == hashlib.sha256(b"abc").hexdigest()


def test_bad_date_and_leading_text(tmp_path: Path) -> None:
    p = tmp_path / "chat.txt"
    p.write_text(
        "31/12/2023, 21:05 - Ann: ok\n31/02/2023, 21:06 - Bob: never\nmore\n"
        "31/12/2023, 21:07 - Ann: fine\n",
        encoding="utf-8",
    )
    items = read(p)
    problems = [i for i in items if isinstance(i, ImportProblem)]
    assert [(x.line, "dated by the message before it" in x.reason) for x in problems] == [(2, True)]
    # Never dropped: the line with 31 February is kept, at the time of the one before it.
    ms = messages(items)
    assert [m.text for m in ms] == ["ok", "never\nmore", "fine"]
    assert ms[1].sent_at == ms[0].sent_at and ms[1].dated_by == "the previous message's time"


def test_ingest_with_tz_gives_the_utc_instant() -> None:
    with open_matter("wa", create=True) as m:
        report = ingest(
            m, [FIX / "android_uk_24h.txt"], tz=ZoneInfo("America/New_York"), tz_name="NY"
        )
        assert report.sources[0].format == "whatsapp" and report.sources[0].added == 3
        (hit,) = Searcher(m).search('"bring the ledger"').hits
        assert hit.message.sent_at == datetime(2024, 1, 1, 2, 6, tzinfo=UTC)
        assert hit.message.utc_offset is None
        assert hit.message.speaker == "Eli Moss" and hit.message.platform == "whatsapp"


SAMPLE_FILES = [
    ("chat-miner_android_ddmmyy_24h.txt", "consectetur adipiscing", datetime(2019, 1, 30, 20, 49)),
    (
        "chat-miner_android_yyyymmdd_24h.txt",
        "consectetur adipiscing",
        datetime(2019, 1, 30, 20, 49),
    ),
    (
        "chat-miner_ios_bracket_mmddyy_24h.txt",
        "consectetur adipiscing",
        datetime(2019, 1, 30, 20, 49),
    ),
    ("pustur_ios_example__chat.txt", "mysterious", datetime(2019, 6, 20, 16, 3, 7)),
]


@pytest.mark.parametrize(("name", "phrase", "when"), SAMPLE_FILES)
def test_real_samples(name: str, phrase: str, when: datetime) -> None:
    path = SAMPLE_DIR / name
    if not path.exists():
        pytest.skip("shared WhatsApp sample not present")
    with open_matter("s", create=True) as m:
        report = ingest(m, [path])
        assert report.sources[0].format == "whatsapp"
        assert not report.sources[0].problems
        hits = Searcher(m).search(f'"{phrase}"', sort="time").hits
        msg = hits[0].message
        assert msg.sent_at == when.replace(tzinfo=UTC)
        assert msg.speaker in ("Jahn Doe", "Emily")
        assert "\n" in msg.text  # the continuation line belongs to the message


def test_real_sample_system_lines_and_attachments() -> None:
    path = SAMPLE_DIR / "pustur_ios_example__chat.txt"
    if not path.exists():
        pytest.skip("shared WhatsApp sample not present")
    ms = messages(read(path))
    assert [m.system for m in ms[:5]] == [True, True, True, True, False]
    assert ms[2].text == "Loris added Emily"
    photos = [a.name for m in ms for a in m.attachments]
    assert "00000001-PHOTO-2019-06-20-16-00-15.jpg" in photos
    people = {m.speaker for m in ms if not m.system}
    assert people == {"Loris", "John", "Emily"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from(sorted(p.name for p in FIX.glob("*.txt"))),
    cut=st.integers(min_value=0, max_value=2000),
    edits=byte_edits(2000, 8),
    zipped=st.booleans(),
)
def test_mutated_inputs_never_raise(which: str, cut: int, edits: Edits, zipped: bool) -> None:
    raw = (FIX / which).read_bytes()
    data = mutate(raw, cut % (len(raw) + 1), edits)
    if not zipped:
        assert read_mutated(WhatsAppImporter(), "chat.txt", data)
        return
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("_chat.txt", data)
    z = buf.getvalue()
    z = z[: max(1, len(z) - cut % 40)]  # sometimes a truncated zip
    assert read_mutated(WhatsAppImporter(), "chat.zip", z, sniff=False)
