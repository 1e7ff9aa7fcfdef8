"""Attachments as family members (issue 16): import, search, OCR, problems, reports.

Every input is made here (python-docx, openpyxl, python-pptx, fpdf2, Pillow
with the DejaVu font, the standard library's email): no binary fixture. One
matter is ingested once per module (two OCR calls: a chat screenshot and a
scanned page) and searched by every test.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from discovery.cli import app
from discovery.extract import ocr
from tests.extract_inputs import (
    CHAT,
    SCAN_LINES,
    chat_screenshot,
    docx_bytes,
    pptx_bytes,
    scanned_pdf,
    xlsx_bytes,
    zip_bytes,
)

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract-ocr")


def text_pdf(lines: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in lines:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(["secret ledger"]))))
    writer.encrypt("s3cret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def attached_mail() -> EmailMessage:
    inner = EmailMessage()
    inner["From"] = "Marcus Chen <marcus@example.com>"
    inner["Subject"] = "Forwarded note"
    inner["Date"] = "Thu, 02 Feb 2023 09:00:00 -0500"
    inner.set_content("The capybara shipment is delayed")
    return inner


def outlook_bytes() -> bytes:
    """An Outlook .msg (aspose-email-foss, a test dependency: extract-msg only reads them)."""
    from aspose.email_foss import msg

    message = msg.MapiMessage.create("Vendor note", "The tapir invoice is overdue")
    message.set_property(msg.PropertyId.SENDER_NAME, "Marcus Chen")
    return bytes(message.to_bytes())


KINDS: dict[str, tuple[str, str, object]] = {
    # kind: (file name, the word only in it, its bytes or an attached message)
    "docx": ("memo.docx", "zanzibar", lambda: docx_bytes(["The zanzibar forecast is late"])),
    "xlsx": ("budget.xlsx", "quokka", lambda: xlsx_bytes({"Q1": [["quokka", 3]]})),
    "pptx": ("deck.pptx", "marmoset", lambda: pptx_bytes([("Plan", "marmoset launch", "")])),
    "pdf": ("report.pdf", "pangolin", lambda: text_pdf(["The pangolin audit found gaps"])),
    "html": ("page.html", "axolotl", lambda: b"<html><body><p>axolotl terms</p></body></html>"),
    "text": ("notes.txt", "wombat", lambda: b"wombat minutes\n"),
    "csv": ("rows.csv", "narwhal", lambda: b"item,amount\nnarwhal,12\n"),
    "eml": ("", "capybara", attached_mail),
    "msg": ("note.msg", "tapir", outlook_bytes),
    "zip": ("bundle.zip", "okapi", lambda: zip_bytes([("inner.docx", docx_bytes(["okapi"]))])),
}


def mail(n: int, body: str, attachments: list[tuple[str, object]]) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Dana Whitfield <dana@example.com>"
    msg["To"] = "Marcus Chen <marcus@example.com>"
    msg["Subject"] = f"Family {n}"
    msg["Date"] = f"Fri, 03 Feb 2023 10:{n:02d}:00 -0500"
    msg["Message-ID"] = f"<family{n}@example.com>"
    msg.set_content(body)
    for name, data in attachments:
        if isinstance(data, EmailMessage):
            msg.add_attachment(data)
        else:
            assert isinstance(data, bytes)
            msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


@dataclass
class Built:
    home: Path
    ingest: dict[str, object]
    data: dict[str, object]
    """Each kind's attachment as written (Office files are not byte-for-byte reproducible)."""


def run(home: Path, *args: str) -> str:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISCOVERY_HOME", str(home))
        result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("families")
    src = base / "mail"
    src.mkdir()
    made: dict[str, object] = {}
    for n, (kind, (name, _word, make)) in enumerate(KINDS.items(), 1):
        data = made[kind] = make()  # type: ignore[operator]
        (src / f"{n:02d}-{kind}.eml").write_bytes(
            mail(n, f"parent{kind} see attached", [(name, data)])
        )
    (src / "20-ocr.eml").write_bytes(
        mail(
            20,
            "parentocr screenshots",
            [("chat.png", chat_screenshot()), ("scan.pdf", scanned_pdf())],
        )
    )
    (src / "21-problems.eml").write_bytes(
        mail(
            21,
            "parentproblems still imports",
            [
                ("broken.docx", docx_bytes(["truncated"])[:300]),
                ("locked.pdf", encrypted_pdf()),
                ("fine.txt", b"gazelle survives"),
            ],
        )
    )
    (src / "22-plain.eml").write_bytes(mail(22, "no attachments here at all", []))
    home = base / "home"
    out = run(home, "ingest", str(src), "--custodian", "Dana", "--json")
    return Built(home, {r["path"]: r for r in json.loads(out)}, made)


def search(b: Built, query: str, *extra: str) -> list[dict[str, object]]:
    out = run(b.home, "search", query, "--json", *extra)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def control_of_parent(b: Built, word: str) -> str:
    (hit,) = search(b, f"{word} AND kind:message")
    return str(hit["id"])


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_is_a_family_member_found_with_its_parent(built: Built, kind: str) -> None:
    name, word, _ = KINDS[kind]
    parent = control_of_parent(built, f"parent{kind}")
    (hit,) = search(built, word)
    assert hit["kind"] == "attachment"
    assert hit["parent"] == parent
    assert re.fullmatch(re.escape(parent) + r"-A\d{3}", str(hit["id"]))
    assert word in str(hit["text"]).lower()
    att = hit["attachment"]
    assert isinstance(att, dict)
    if name:
        assert att["name"] == name or str(att["path"]).startswith(name)
    assert hit["speaker"] == "Dana Whitfield" and hit["custodians"] == ["Dana"]
    family = search(built, word, "--family")
    assert family[0]["id"] == parent and family[0]["kind"] == "message"
    assert hit["id"] in [f["id"] for f in family]
    assert all(f["parent"] == parent for f in family[1:])


def test_member_facts_and_hash(built: Built) -> None:
    (hit,) = search(built, "zanzibar")
    att = hit["attachment"]
    assert isinstance(att, dict)
    data = built.data["docx"]
    assert isinstance(data, bytes) and att["size"] == len(data)
    assert att["sha256"] == hashlib.sha256(data).hexdigest()
    assert att["kind"] == "docx" and att["ocr"] is False and att["ocr_confidence"] is None


def test_nested_zip_member_numbered_after_its_zip(built: Built) -> None:
    (hit,) = search(built, "okapi")
    assert str(hit["id"]).endswith("-A002")
    assert hit["attachment"]["path"] == "bundle.zip!inner.docx"  # type: ignore[index]
    zip_member = search(built, "attachment:bundle")
    assert [h["id"] for h in zip_member] == [str(hit["id"])[:-4] + "A001"]


def test_fields_kind_and_attachment(built: Built) -> None:
    members = search(built, "kind:attachment")
    messages = search(built, "kind:message")
    assert all(h["kind"] == "attachment" for h in members)
    assert all(h["kind"] == "message" for h in messages)
    assert len(messages) == len(KINDS) + 3  # one message per .eml written by `built`
    by_name = search(built, "attachment:budget.xlsx")
    assert [h["attachment"]["name"] for h in by_name] == ["budget.xlsx"]  # type: ignore[index]
    assert search(built, "quokka AND NOT kind:attachment") == []


def test_report_counts_a_family_once(built: Built, tmp_path: Path) -> None:
    terms = tmp_path / "terms.txt"
    terms.write_text("only: zanzibar\nboth: zanzibar OR parentdocx\nplain: parentdocx\n")
    out = tmp_path / "r.csv"
    run(built.home, "batch", str(terms), "--report", str(out))
    rows = {r["term"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert (rows["only"]["messages"], rows["only"]["families"], rows["only"]["attachments"]) == (
        "1",
        "1",
        "1",
    )
    assert (rows["both"]["messages"], rows["both"]["families"], rows["both"]["attachments"]) == (
        "2",
        "1",
        "1",
    )
    assert rows["plain"]["families"] == "1" and rows["plain"]["attachments"] == "0"
    assert rows["TOTAL"]["families"] == "1"


def test_csv_export_has_the_family_columns(built: Built) -> None:
    out = run(built.home, "search", "zanzibar OR parentdocx", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["attachment"]["parent"] == by_kind["message"]["control_number"]
    assert by_kind["attachment"]["attachment_name"] == "memo.docx"
    assert by_kind["message"]["parent"] == ""


def test_show_accepts_a_member_number(built: Built) -> None:
    (hit,) = search(built, "zanzibar")
    out = run(built.home, "show", str(hit["id"]), "--json", "--context", "0")
    (obj,) = [json.loads(line) for line in out.splitlines()]
    assert obj["id"] == hit["id"] and obj["focus"] and obj["parent"] == hit["parent"]


def test_a_sources_messages_are_numbered_before_its_members(tmp_path: Path) -> None:
    box = tmp_path / "box.mbox"
    first = mail(1, "firstparent", [("one.txt", b"heron"), ("two.txt", b"egret")])
    second = mail(2, "secondparent", [("three.txt", b"stork")])
    box.write_bytes(
        b"".join(
            b"From dana@example.com Fri Feb  3 10:00:00 2023\n" + m + b"\n" for m in (first, second)
        )
    )
    assert CliRunner().invoke(app, ["ingest", str(box)]).exit_code == 0

    def ids(query: str) -> list[str]:
        out = CliRunner().invoke(app, ["search", query, "--json", "--sort", "time"]).stdout
        return [json.loads(line)["id"] for line in out.splitlines()]

    # The two messages first, in time order, as they would be numbered without attachments.
    assert ids("kind:message") == ["MSG-00000001", "MSG-00000002"]
    assert ids("heron OR egret OR stork") == [
        "MSG-00000001-A001",
        "MSG-00000001-A002",
        "MSG-00000002-A001",
    ]


def test_chat_screenshot_ocr_is_searchable(built: Built) -> None:
    parent = control_of_parent(built, "parentocr")
    words = sorted({w.lower() for _, _, text in CHAT for w in re.findall(r"[A-Za-z]+", text)})
    found = 0
    for w in words:
        hits = search(built, f'"{w}" AND attachment:chat.png')
        found += len(hits) == 1
        fuzzy = search(built, f"{w[0]}%{w[1:]} AND attachment:chat.png" if len(w) > 1 else w)
        assert len(fuzzy) == 1, w
        assert fuzzy[0]["parent"] == parent
    assert found / len(words) >= 0.95
    (shot,) = search(built, "attachment:chat.png")
    assert shot["attachment"]["ocr"] is True  # type: ignore[index]
    assert 0 < shot["attachment"]["ocr_confidence"] <= 100  # type: ignore[index,operator]


def test_scanned_pdf_page_imports_with_ocr_text_and_flag(built: Built) -> None:
    (scan,) = search(built, "preservation AND attachment:scan.pdf")
    att = scan["attachment"]
    assert att["ocr"] is True and att["sections"] == ["page 1"]  # type: ignore[index]
    assert "merger" in str(scan["text"]).lower()
    assert all(w.lower() in str(scan["text"]).lower() for w in SCAN_LINES[4].split()[:3])


def test_corrupt_and_encrypted_are_reported_and_the_parent_imports(built: Built) -> None:
    (report,) = [r for p, r in built.ingest.items() if p.endswith("21-problems.eml")]
    problems = report["problems"]
    assert isinstance(problems, list)
    assert any("broken.docx" in p and "corrupt" in p for p in problems)
    assert any("locked.pdf" in p and "encrypted" in p for p in problems)
    assert report["attachments_with_problems"] == 2 and report["added"] == 1
    assert search(built, "parentproblems")  # the parent
    (fine,) = search(built, "gazelle")
    assert fine["attachment"]["name"] == "fine.txt"  # type: ignore[index]


def test_a_source_without_attachments_reports_none(built: Built) -> None:
    (report,) = [r for p, r in built.ingest.items() if p.endswith("22-plain.eml")]
    assert report["attachments"] == 0 and report["problems"] == []


# --- problems that need their own ingest --------------------------------------------------------


@pytest.fixture
def no_tesseract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    yield


def test_ocr_missing_is_said_once_and_the_rest_imports(tmp_path: Path, no_tesseract: None) -> None:
    src = tmp_path / "in"
    src.mkdir()
    tiny = chat_screenshot(CHAT[:1])
    (src / "a.eml").write_bytes(mail(1, "first", [("a.png", tiny), ("a.txt", b"ibex notes")]))
    (src / "b.eml").write_bytes(mail(2, "second", [("b.png", tiny)]))
    result = CliRunner().invoke(app, ["ingest", str(src)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "OCR is not installed" in line]
    assert len(lines) == 1
    assert lines[0].endswith(
        f"install it with: {ocr.INSTALL}; text in 2 attachment(s) was not read"
    )
    hits = CliRunner().invoke(app, ["search", "ibex", "--json"])
    assert json.loads(hits.stdout)["attachment"]["name"] == "a.txt"
    count = CliRunner().invoke(app, ["search", "kind:attachment", "--count"])
    assert count.stdout.strip() == "3"  # the images are members too, without text


def test_oversized_attachment_is_reported_and_the_parent_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discovery import families
    from discovery.extract import Options

    monkeypatch.setattr(families, "options_for", lambda ocr, lang: Options(max_bytes=1000))
    src = tmp_path / "big.eml"
    src.write_bytes(mail(1, "parentbig", [("big.txt", b"elk " * 1000), ("small.txt", b"lynx")]))
    result = CliRunner().invoke(app, ["ingest", str(src), "--json"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    assert any("big.txt" in p and "oversized" in p for p in report["problems"])
    assert report["added"] == 1 and report["attachments"] == 2
    assert CliRunner().invoke(app, ["search", "lynx", "--count"]).stdout.strip() == "1"
    assert CliRunner().invoke(app, ["search", "parentbig", "--count"]).stdout.strip() == "1"


def test_bad_ocr_flags_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(mail(1, "x", []))
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "a.eml"), "--ocr", "sometimes"])
    assert result.exit_code == 2
    assert "--ocr must be auto, off or force" in result.stderr


# --- review screen -----------------------------------------------------------------------------


def test_review_screen_shows_the_family_and_jumps_between_parent_and_attachment(
    built: Built, discovery_home: Path
) -> None:
    import asyncio

    from discovery.matter import open_matter
    from discovery.tui import ReviewApp, Session
    from tests.test_tui import goto, settle
    from tests.test_tui import search as tui_search

    shutil.copytree(built.home, discovery_home, dirs_exist_ok=True)
    parent = control_of_parent(built, "parentdocx")
    with open_matter("default") as m:
        session = Session(m)
        app = ReviewApp(session, blink=False)

        async def main() -> None:
            async with app.run_test(size=(140, 40)) as pilot:
                await tui_search(app, pilot, "zanzibar")
                assert app.message is not None and app.message.control == f"{parent}-A001"
                detail = str(app.query_one("#detail").render())
                assert f"attachment of {parent} memo.docx" in detail
                assert f"{parent}, *{parent}-A001 memo.docx" in detail
                pane = str(app.query_one("#body").render())
                assert "zanzibar forecast" in pane and "parentdocx" in pane  # text, with parent
                await pilot.press("a")
                await settle(app, pilot)
                assert app.message is not None and app.message.control == parent
                assert f"*{parent}, {parent}-A001" in str(app.query_one("#detail").render())
                await pilot.press("a")
                await settle(app, pilot)
                assert app.message is not None and app.message.control == f"{parent}-A001"
                # go-to with the member's internal row number is refused, naming its number
                await goto(app, pilot, f"MSG-{app.message.id:08d}")
                error = str(app.screen.query_one(".dialog-error").render())
                assert f"did you mean {parent}-A001" in error

        try:
            asyncio.run(main())
        finally:
            session.close()


def test_a_production_keeps_the_family_together_attachments_after_their_parent(
    built: Built, tmp_path: Path
) -> None:
    parent = control_of_parent(built, "parentproblems")
    out = tmp_path / "prod"
    args = ["produce", "--query", "gazelle", "--out", str(out), "--prefix", "FAM"]
    run(built.home, *args, "--slice", "context:0", "--format", "text")
    (doc,) = sorted((out / "TEXT").glob("*.txt"))
    text = doc.read_text(encoding="utf-8")
    shown = re.findall(r"  (MSG-\d{8}(?:-A\d{3})?)\b", text)
    # the hit is the third attachment; its parent and the parent's other attachments come
    # with it, the parent first, then the attachments in family order
    assert shown == [parent, f"{parent}-A001", f"{parent}-A002", f"{parent}-A003"]
    assert "gazelle survives" in text
    assert f"Slice: context:0, {parent}-A003..{parent}-A003;" in text  # the hit, as numbered


def test_search_family_is_audited_and_reruns_to_the_same_hits(built: Built) -> None:
    run(built.home, "search", "zanzibar", "--family", "--count")
    listed = json.loads(run(built.home, "audit", "--json").splitlines()[-1])
    assert listed["settings"]["family"] is True and listed["hits"] == 2  # parent + memo.docx
    again = json.loads(run(built.home, "audit", "--rerun", str(listed["id"]), "--json"))
    assert again["rerun_hits"] == 2 and again["matches"] is True


# --- every source that holds attachment bytes ---------------------------------------------------


def _rsmf_zip(path: Path) -> None:
    manifest = {
        "version": "2.0.0",
        "participants": [{"id": "P1", "display": "Ida Marsh"}],
        "conversations": [{"id": "c1", "display": "deal-team", "type": "channel"}],
        "events": [
            {
                "id": "e1",
                "type": "message",
                "body": "rsmfparent minutes attached",
                "participant": "P1",
                "timestamp": "2023-05-02T10:07:00Z",
                "conversation": "c1",
                "attachments": [{"id": "f1.txt", "display": "minutes.txt", "size": 17}],
            }
        ],
    }
    path.write_bytes(
        zip_bytes(
            [("rsmf_manifest.json", json.dumps(manifest).encode()), ("f1.txt", b"heliotrope notes")]
        )
    )


def _whatsapp_zip(path: Path) -> None:
    chat = (
        "[03/02/2023, 10:15:00] Dana Whitfield: whatsappparent\n"
        "[03/02/2023, 10:16:00] Dana Whitfield: \u200e<attached: 00000001-notes.pdf>\n"
    )
    media = text_pdf(["tamarind"])  # one .txt in the zip: the chat (else it is no export)
    path.write_bytes(zip_bytes([("_chat.txt", chat.encode()), ("00000001-notes.pdf", media)]))


def _slack_export(folder: Path) -> None:
    from tests.conftest import FIXTURES

    shutil.copytree(FIXTURES / "slack" / "acme", folder)
    day = folder / "general" / "2023-03-06.json"
    entries = json.loads(day.read_text(encoding="utf-8"))
    entries.append(
        {
            "type": "message",
            "text": "slackparent plan attached",
            "user": "U04ACME0DW",
            "ts": "1678140000.000900",
            "files": [{"id": "F0PLAN", "name": "plan.txt", "size": 6}],
        }
    )
    day.write_text(json.dumps(entries), encoding="utf-8")
    (folder / "general" / "attachments").mkdir()
    (folder / "general" / "attachments" / "F0PLAN-plan.txt").write_bytes(b"quince")


def _teams_chat(folder: Path) -> Path:
    folder.mkdir()
    doc = [
        {
            "id": "1700001000000",
            "body": {"contentType": "text", "content": "teamsparent brief attached"},
            "createdDateTime": "2023-11-16T10:00:00Z",
            "messageType": "message",
            "chatId": "19:chat",
            "from": {"user": {"id": "u-nora", "displayName": "Nora Quist"}},
            "attachments": [
                {
                    "id": "a1",
                    "contentType": "reference",
                    "name": "brief.txt",
                    "contentUrl": "https://example.invalid/brief.txt",
                }
            ],
        }
    ]
    (folder / "files").mkdir()
    (folder / "files" / "brief.txt").write_bytes(b"persimmon")
    (folder / "chat.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder / "chat.json"


def test_rsmf_whatsapp_slack_and_teams_hand_over_their_files(tmp_path: Path) -> None:
    _rsmf_zip(tmp_path / "export.rsmf.zip")
    _whatsapp_zip(tmp_path / "WhatsApp Chat - Dana.zip")
    _slack_export(tmp_path / "slack")
    teams = _teams_chat(tmp_path / "teams")
    sources = [
        tmp_path / "export.rsmf.zip",
        tmp_path / "WhatsApp Chat - Dana.zip",
        tmp_path / "slack",
        teams,
    ]
    result = CliRunner().invoke(app, ["ingest", *map(str, sources), "--json"])
    assert result.exit_code == 0, result.output
    for word, parent_word, name in (
        ("heliotrope", "rsmfparent", "minutes.txt"),
        ("tamarind", "attached AND platform:whatsapp", "00000001-notes.pdf"),
        ("quince", "slackparent", "plan.txt"),
        ("persimmon", "teamsparent", "brief.txt"),
    ):
        out = CliRunner().invoke(app, ["search", word, "--json"]).stdout
        (hit,) = [json.loads(line) for line in out.splitlines()]
        assert hit["kind"] == "attachment" and hit["attachment"]["name"] == name, word
        if parent_word is not None:
            out = CliRunner().invoke(app, ["search", parent_word, "--json"]).stdout
            (parent,) = [json.loads(line) for line in out.splitlines()]
            assert hit["parent"] == parent["id"], word


def test_a_privileged_parent_withholds_its_attachments_in_a_production(tmp_path: Path) -> None:
    home = tmp_path / "home"
    src = tmp_path / "mail.eml"
    inner = b"quokka legal advice from counsel"
    src.write_bytes(mail(1, "quokka cover note", [("advice.txt", inner)]))
    run(home, "ingest", str(src))
    run(home, "tag", '"cover note"', "--add", "privileged", "--description", "Legal advice")
    out = tmp_path / "prod"
    run(
        home, "produce", "--query", "quokka", "--out", str(out), "--prefix", "P", "--format", "text"
    )
    produced = "".join(p.read_text(encoding="utf-8") for p in (out / "TEXT").glob("*.txt"))
    # a privileged mail is withheld with its attachments: no word of the family is produced
    assert "legal advice" not in produced and "cover note" not in produced
    with (out / "PRIVILEGE_LOG.csv").open(encoding="utf-8-sig", newline="") as f:
        log = {
            r["control_number"]: (r["privilege_type"], r["description"]) for r in csv.DictReader(f)
        }
    # the parent only was tagged and described: its attachment is logged as the family
    assert log == {
        "MSG-00000001": ("privileged", "Legal advice"),
        "MSG-00000001-A001": ("privileged", "Legal advice"),
    }


def test_a_thread_replys_attachments_are_in_its_thread_not_the_main_line(tmp_path: Path) -> None:
    from tests.conftest import FIXTURES

    folder = tmp_path / "slack"
    shutil.copytree(FIXTURES / "slack" / "acme", folder)
    user = "U04ACME0DW"
    day = [  # after every message of the fixture's general channel
        {"type": "message", "text": "alpha main", "user": user, "ts": "1680307200.000100"},
        {
            "type": "message",
            "text": "rootmsg asks",
            "user": user,
            "ts": "1680307201.000100",
            "thread_ts": "1680307201.000100",
            "reply_count": 1,
        },
        {
            "type": "message",
            "text": "beta reply",
            "user": user,
            "ts": "1680307202.000100",
            "thread_ts": "1680307201.000100",
            "parent_user_id": user,
            "files": [
                {"id": "F1", "name": "one.txt", "size": 7},
                {"id": "F2", "name": "two.txt", "size": 7},
            ],
        },
        {"type": "message", "text": "gamma main", "user": user, "ts": "1680307203.000100"},
    ]
    (folder / "general" / "2023-04-01.json").write_text(json.dumps(day), encoding="utf-8")
    (folder / "general" / "attachments").mkdir()
    for name in ("F1-one.txt", "F2-two.txt"):
        (folder / "general" / "attachments" / name).write_bytes(b"kestrel")
    home = tmp_path / "home"
    run(home, "ingest", str(folder))

    def count(query: str) -> int:
        return int(run(home, "search", query, "--count").strip())

    assert count("kind:attachment") == 2
    # main line: alpha, the thread root, gamma (the reply and its attachments are in the
    # thread), so alpha and gamma are two messages apart
    assert count("alpha w/2msg gamma") == 2
    # thread: the root, the reply, its attachments right after it
    assert count("kestrel w/1msg beta") == 2  # one.txt and the reply (two.txt is 2 apart)
    assert count("kestrel w/2msg rootmsg") == 2  # one.txt, two.txt is 3 apart
    assert count("kestrel w/thread rootmsg") == 3
    from discovery.matter import open_matter
    from discovery.query.parser import parse
    from discovery.search import Searcher
    from tests.reference_eval import evaluate_all, refs_from_matter

    # --context 1 of gamma: the main-line message before it is the thread root, never an
    # attachment of a reply in the thread
    shown = re.findall(r"(MSG-\d{8}(?:-A\d{3})?) ", run(home, "search", "gamma", "--context", "1"))
    (root,) = re.findall(r"(MSG-\d{8}) ", run(home, "search", "rootmsg"))
    assert shown[0] == root and len(shown) == 2
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISCOVERY_HOME", str(home))
        with open_matter("default") as matter:
            refs = refs_from_matter(matter)
            for query in ("alpha w/2msg gamma", "kestrel w/1msg beta", "kestrel w/thread rootmsg"):
                expected = evaluate_all(parse(query), refs, matter.tz)
                assert Searcher(matter).match(query)[1] == expected, query


def test_a_copy_with_another_attachment_never_reuses_a_control_number(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # the same mail (same Message-ID and body) held twice, its first attachment revised
    (tmp_path / "a" / "m.eml").write_bytes(mail(1, "cover", [("plan.txt", b"heron first")]))
    (tmp_path / "b" / "m.eml").write_bytes(mail(1, "cover", [("plan.txt", b"heron revised")]))
    run(home, "ingest", str(tmp_path / "a"), "--custodian", "Dana")
    run(home, "ingest", str(tmp_path / "b"), "--custodian", "Marcus")
    out = run(home, "search", "heron", "--json")
    hits = [json.loads(line) for line in out.splitlines() if line.strip()]
    # two different attachments: two members, each with its own control number
    assert len(hits) == 2
    assert len({h["id"] for h in hits}) == 2
    for h in hits:
        shown = run(home, "show", str(h["id"]))
        word = "first" if "Dana" in h["custodians"] else "revised"
        assert re.search(rf"▶ {h['id']} .*\n\s+heron {word}", shown), shown


def test_show_refuses_a_members_internal_row_number(built: Built) -> None:
    (member,) = search(built, "gazelle")  # fine.txt, MSG-…-A003
    parent = str(member["parent"])
    internal = int(parent.removeprefix("MSG-")) + 3  # members are stored after their source
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISCOVERY_HOME", str(built.home))
        result = CliRunner().invoke(app, ["show", f"MSG-{internal:08d}"])
    # no message has that control number: refused, naming the member's own number
    assert result.exit_code != 0
    assert str(member["id"]) in result.stderr


def test_a_withheld_zip_withholds_the_files_in_it(built: Built, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(built.home, home)
    run(home, "tag", "attachment:bundle", "--add", "privileged")  # bundle.zip, A001
    out = tmp_path / "prod"
    run(home, "produce", "--query", "okapi", "--out", str(out), "--prefix", "Z", "--format", "text")
    produced = "".join(p.read_text(encoding="utf-8") for p in (out / "TEXT").glob("*.txt"))
    assert "okapi" not in produced and "parentzip see attached" in produced  # parent produced
    with (out / "PRIVILEGE_LOG.csv").open(encoding="utf-8-sig", newline="") as f:
        logged = sorted(r["control_number"][-4:] for r in csv.DictReader(f))
    assert logged == ["A001", "A002"]  # the zip and inner.docx
