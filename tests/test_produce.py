"""Productions: slices, Bates numbers, RSMF, PDF, load files, withholding, privilege log, manifest.

The matter is :mod:`tests.production_corpus`; every expectation is read from
its events. The productions are built once per module (the PDF fonts take a
moment) and examined by the tests; Relativity's validator checks every
``.rsmf`` they hold in one call.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import re
import subprocess
import unicodedata
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from discovery.audit import entries as audit_entries
from discovery.cli import app
from discovery.errors import UsageError
from discovery.ingest import ingest
from discovery.matter import open_matter
from discovery.produce.production import Options, produce, select
from discovery.produce.slices import parse_slice
from tests import production_corpus as corpus
from tests.conftest import ROOT

SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared") if p.is_dir()), ROOT)
VALIDATOR = SHARED / "tools" / "rsmf-validator" / "rsmf-validate"
ZONE = "America/New_York"
LEGEND = "CONFIDENTIAL — SUBJECT TO PROTECTIVE ORDER"
EV = corpus.by_id()
WITHHELD = [e for e in corpus.EVENTS if "privileged" in e.tags]
RESPONSIVE = [e for e in corpus.EVENTS if "responsive" in e.tags]
BATES_RE = re.compile(r"ABC-\d{6}")

# the productions every test examines: name -> options
RUNS = {
    "day": dict(slice="day"),
    "thread": dict(slice="thread", formats=("rsmf", "pdf", "text", "images")),
    "conversation": dict(slice="conversation"),
    "context": dict(slice="context:1"),
    "hidden": dict(slice="day", withhold_metadata=(), formats=("rsmf", "text")),
    "start": dict(slice="day", start=500, formats=("rsmf",)),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("production")
    home = base / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISCOVERY_HOME", str(home))
        with open_matter("case", create=True) as m:
            ids = corpus.build(m, base / "source")
            selection = select(m, tag="responsive")
            outs = {}
            for name, opts in RUNS.items():
                options = Options(prefix="ABC", tz=ZONE, confidentiality=LEGEND, **opts)
                outs[name] = produce(m, selection, options, base / name)
    return {"home": home, "ids": ids, "outs": outs, "base": base}


def _use(world: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCOVERY_HOME", str(world["home"]))


def _folder(world: dict[str, object], name: str) -> Path:
    return world["outs"][name].out  # type: ignore[index]


def _control(world: dict[str, object], native: str) -> str:
    return f"MSG-{world['ids'][native]:08d}"  # type: ignore[index]


def _dat(folder: Path) -> list[dict[str, str]]:
    from discovery.loadfile import read_dat

    return read_dat(next((folder / "DATA").glob("*.dat")))


def _manifest(rsmf: Path) -> tuple[email.message.Message, dict, zipfile.ZipFile]:
    msg = email.message_from_bytes(rsmf.read_bytes(), policy=email.policy.default)
    parts = [p for p in msg.walk() if p.get_filename() == "rsmf.zip"]
    assert len(parts) == 1, rsmf
    zf = zipfile.ZipFile(io.BytesIO(parts[0].get_payload(decode=True)))
    return msg, json.loads(zf.read("rsmf_manifest.json")), zf


def test_the_corpus_holds_at_least_five_scripts() -> None:
    scripts = {
        unicodedata.name(ch).split()[0] for e in corpus.EVENTS for ch in e.body if ch.isalpha()
    }
    assert len(scripts) >= 5, scripts  # LATIN CYRILLIC GREEK CJK HIRAGANA HANGUL ARABIC ...


# --- slices ------------------------------------------------------------------
def test_slice_kinds_parse_and_refuse() -> None:
    assert parse_slice("context:3").label == "context:3"
    assert parse_slice("DAY").label == "day"
    for bad in ("week", "context", "context:x", "day:2", "context:101"):
        with pytest.raises(UsageError):
            parse_slice(bad)


def test_day_slices_follow_local_days_and_bring_thread_roots(world) -> None:
    rows = _dat(_folder(world, "day"))
    got = [(r["CONVERSATION"], r["SLICE"], r["CONTROLNUMBERS"].split(";")) for r in rows]
    c = lambda *ns: [_control(world, n) for n in ns]  # noqa: E731
    # responsive: L1 (03-11), L3 and L5 (03-12 New York), I1 and I4 (03-14), D1 (03-15), D3 (03-16).
    # L8 is 03-13 in UTC but 23:30 on 03-12 in New York; L3's root L1 joins the 03-12 slice.
    assert got == [
        ("legal-strategy", "day: 2023-03-11", c("L1", "L2")),
        ("legal-strategy", "day: 2023-03-12", c("L1", "L3", "L4", "L5", "L6", "L7", "L8")),
        (
            "international",
            "day: 2023-03-14",
            c("I1", "I2", "I3", "I7", "I8", "I4", "I5", "I6", "I9", "I10", "I11"),
        ),
        ("Dana / Marcus", "day: 2023-03-15", c("D1", "D2")),
        ("Dana / Marcus", "day: 2023-03-16", c("D3")),
    ]
    text = (_folder(world, "day") / "TEXT" / f"{rows[1]['BEGBATES']}.txt").read_text()
    assert f"{_control(world, 'L1')} [thread root from outside this slice]" in text


def test_thread_conversation_and_context_slices(world) -> None:
    c = lambda *ns: [_control(world, n) for n in ns]  # noqa: E731
    thread = [r["CONTROLNUMBERS"].split(";") for r in _dat(_folder(world, "thread"))]
    assert c("L1", "L2", "L3") in thread  # L1 and L3 are one thread: one document
    assert c("L5") in thread and c("D3") in thread
    assert len(thread) == 6  # L1+L3, L5, I1, I4, D1, D3
    conv = [r["CONTROLNUMBERS"].split(";") for r in _dat(_folder(world, "conversation"))]
    in_time = lambda k: sorted(  # noqa: E731
        (e for e in corpus.EVENTS if e.conv == k), key=lambda e: datetime.fromisoformat(e.at)
    )
    assert conv == [c(*[e.id for e in in_time(k)]) for k in ("legal", "intl", "dm")]
    ctx = [r["CONTROLNUMBERS"].split(";") for r in _dat(_folder(world, "context"))]
    # L1's window (L1, L2) and L3's (L2, L3, L4) overlap: merged; L5's (L4, L5, L6) overlaps too.
    assert ctx[0] == c("L1", "L2", "L3", "L4", "L5", "L6")
    assert c("I2", "I1", "I3") in ctx or any(set(c("I1")) <= set(x) for x in ctx)


# --- Bates numbers and load files ---------------------------------------------
def test_bates_ranges_contiguous_and_start_number(world) -> None:
    for name in RUNS:
        rows = _dat(_folder(world, name))
        first = 500 if name == "start" else 1
        expected = first
        for r in rows:
            assert r["BEGBATES"] == f"ABC-{expected:06d}"
            assert r["BEGATTACH"] == r["BEGBATES"] and r["ENDATTACH"] == r["ENDBATES"]
            expected = int(r["ENDBATES"][4:]) + 1
            for key in ("TEXTPATH", "NATIVEPATH", "PDFPATH"):
                if r[key]:
                    assert (_folder(world, name) / r[key].replace("\\", "/")).is_file()


def test_page_images_and_opticon(world) -> None:
    from PIL import Image

    folder = _folder(world, "thread")
    rows = _dat(folder)
    opt = (folder / "DATA" / "ABC.opt").read_text().splitlines()
    pages = [p for r in rows for p in range(int(r["BEGBATES"][4:]), int(r["ENDBATES"][4:]) + 1)]
    assert [line.split(",")[0] for line in opt] == [f"ABC-{p:06d}" for p in pages]
    starts = {r["BEGBATES"]: int(r["ENDBATES"][4:]) - int(r["BEGBATES"][4:]) + 1 for r in rows}
    for line in opt:
        key, volume, path, brk, _, _, count = line.split(",")
        assert volume == "ABC" and path == f"IMAGES\\{key}.tif"
        assert (brk, count) == (("Y", str(starts[key])) if key in starts else ("", ""))
        with Image.open(folder / "IMAGES" / f"{key}.tif") as im:
            assert im.mode == "1" and round(im.info["dpi"][0]) == 300
            assert im.size == (2550, 3300)  # US Letter at 300 dpi


def test_dat_fields(world) -> None:
    rows = _dat(_folder(world, "day"))
    assert list(rows[0]) == [
        "BEGBATES", "ENDBATES", "BEGATTACH", "ENDATTACH", "CUSTODIANS", "DATESENT_FIRST",
        "DATESENT_LAST", "PARTICIPANTS", "CONVERSATION", "PLATFORM", "SLICE", "MESSAGECOUNT",
        "WITHHELDCOUNT", "CONTROLNUMBERS", "CONFIDENTIALITY", "TEXTPATH", "NATIVEPATH", "PDFPATH",
    ]  # fmt: skip
    legal = rows[1]
    assert legal["CUSTODIANS"] == "Dana Whitfield" and legal["PLATFORM"] == "slack"
    assert legal["DATESENT_FIRST"] == "2023-03-11 14:00:00"  # L1, the family root, 09:00 EST
    assert legal["DATESENT_LAST"] == "2023-03-13 03:30:00"  # L8
    assert legal["MESSAGECOUNT"] == "7" and legal["WITHHELDCOUNT"] == "1"
    assert legal["CONFIDENTIALITY"] == LEGEND
    assert set(legal["PARTICIPANTS"].split(";")) >= {"Dana Whitfield", "Marcus Chen", "Priya Raman"}


# --- PDF ----------------------------------------------------------------------
def _pdf_pages(folder: Path) -> list[tuple[str, str]]:
    out = []
    for pdf in sorted((folder / "PDF").glob("*.pdf")):
        for page in PdfReader(pdf).pages:
            out.append((pdf.name, page.extract_text()))
    return out


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.mark.parametrize("name", ["day", "thread", "conversation", "context"])
def test_pdf_bates_on_every_page_legend_and_text_layer(world, name: str) -> None:
    folder = _folder(world, name)
    pages = _pdf_pages(folder)
    numbers = []
    for _, text in pages:
        found = BATES_RE.findall(text)
        assert found, "a page without a Bates number"
        numbers.append(int(found[-1][4:]))  # the stamp is the page's last line
        assert _squash(LEGEND) in _squash(text)
    assert numbers == list(range(1, len(pages) + 1))  # contiguous across the production
    rows = _dat(folder)
    assert rows[-1]["ENDBATES"] == f"ABC-{len(pages):06d}"
    # every produced message's words are in the text layer of its document's PDF
    by_doc: dict[str, str] = {}
    for pdf_name, text in pages:
        by_doc[pdf_name] = by_doc.get(pdf_name, "") + _squash(text)
    for r in rows:
        layer = by_doc[Path(r["PDFPATH"].replace("\\", "/")).name]
        for control in r["CONTROLNUMBERS"].split(";"):
            e = next(e for e in corpus.EVENTS if _control(world, e.id) == control)
            if e in WITHHELD:
                continue
            for word in e.body.split():
                if any(0x0900 <= ord(ch) <= 0x0DFF for ch in word):
                    # shaped Indic text extracts in visual order: every letter must be there
                    assert all(ch in layer for ch in word), (control, word)
                else:
                    assert _squash(word) in layer, (control, word)
            for earlier in e.edits:
                assert _squash(earlier) in layer


def test_pdf_metadata_is_fixed(world) -> None:
    pdf = next((_folder(world, "day") / "PDF").glob("*.pdf"))
    meta = PdfReader(pdf).metadata
    assert meta["/CreationDate"] == "D:20230316160000Z"  # the newest message: D3


# --- withholding ----------------------------------------------------------------
def _expanded(path: Path) -> list[bytes]:
    """Every byte string a file holds: itself, its zip members, MIME parts, PDF text."""
    data = path.read_bytes()
    out = [data]
    if path.suffix == ".rsmf":
        msg = email.message_from_bytes(data, policy=email.policy.default)
        for part in msg.walk():
            if not part.is_multipart():
                payload = part.get_payload(decode=True)
                out.append(payload)
                if part.get_filename() == "rsmf.zip":
                    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
                        out.extend(zf.read(n) for n in zf.namelist())
    elif path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as zf:
            out.extend(zf.read(n) for n in zf.namelist())
    elif path.suffix == ".pdf":
        reader = PdfReader(path)
        out.extend(p.extract_text().encode() for p in reader.pages)
        out.append(_squash(" ".join(p.extract_text() for p in reader.pages)).encode())
    return out


@pytest.mark.parametrize("name", list(RUNS))
def test_no_withheld_text_in_any_file(world, name: str) -> None:
    secrets = [e.body for e in WITHHELD] + ["quokka", "wombat", "弁護士"]
    files = [p for p in _folder(world, name).rglob("*") if p.is_file()]
    assert len(files) > 5
    for path in files:
        for blob in _expanded(path):
            for secret in secrets:
                for enc in ("utf-8", "utf-16-be", "utf-16-le"):
                    assert secret.encode(enc) not in blob, (path, secret)
                assert _squash(secret).encode() not in blob, (path, secret)


def test_placeholders_and_slip_sheet(world) -> None:
    folder = _folder(world, "day")
    rows = _dat(folder)
    l4 = _control(world, "L4")
    legal = (folder / "TEXT" / f"{rows[1]['BEGBATES']}.txt").read_text()
    assert f"2023-03-12 10:30:00 -04:00  Dana Whitfield  {l4}\n    Withheld — Privileged" in legal
    slip = (folder / "TEXT" / f"{rows[3]['BEGBATES']}.txt").read_text()
    assert "DOCUMENT WITHHELD" in slip and "Withheld — Privileged" in slip
    slip_pdf = PdfReader(folder / rows[3]["PDFPATH"].replace("\\", "/"))
    assert len(slip_pdf.pages) == 1 and "DOCUMENT WITHHELD" in slip_pdf.pages[0].extract_text()
    _, man, _ = _manifest(folder / rows[1]["NATIVEPATH"].replace("\\", "/"))
    event = next(e for e in man["events"] if e["id"] == l4)
    assert event["body"] == "Withheld — Privileged" and event["participant"] == "dana"
    assert event["timestamp"] == "2023-03-12T10:30:00-04:00"
    assert set(event) == {
        "id",
        "type",
        "participant",
        "conversation",
        "timestamp",
        "body",
        "custom",
    }


def test_withhold_metadata_none_hides_speaker_and_time(world) -> None:
    folder = _folder(world, "hidden")
    rows = _dat(folder)
    _, man, _ = _manifest(folder / rows[1]["NATIVEPATH"].replace("\\", "/"))
    event = next(e for e in man["events"] if e["id"] == _control(world, "L4"))
    assert event["participant"] == "withheld" and "timestamp" not in event
    text = (folder / "TEXT" / f"{rows[1]['BEGBATES']}.txt").read_text()
    assert f"(time withheld)  (withheld)  {_control(world, 'L4')}" in text
    assert "10:30:00" not in text


# --- RSMF -------------------------------------------------------------------------
def test_rsmf_headers_and_manifest(world) -> None:
    folder = _folder(world, "day")
    rows = _dat(folder)
    msg, man, zf = _manifest(folder / rows[1]["NATIVEPATH"].replace("\\", "/"))
    assert msg["X-RSMF-Version"] == "2.0.0"
    assert msg["X-RSMF-Generator"].startswith("discovery")
    assert msg["X-RSMF-BeginDate"] == "2023-03-11T14:00:00Z"
    assert msg["X-RSMF-EndDate"] == "2023-03-13T03:30:00Z"
    assert msg["X-RSMF-EventCount"] == "7" and msg["X-RSMF-AttachmentCount"] == "1"
    assert msg["X-RSMF-Application"] == "slack" and msg["X-RSMF-Custodian"] == "Dana Whitfield"
    assert set(msg["X-RSMF-Participants"].split(", ")) >= {"Dana Whitfield", "Marcus Chen"}
    assert msg["X-RSMF-EventCollectionID"] == man["eventcollectionid"]
    # both legal-strategy days share the collection id; another conversation has another
    other, _, _ = _manifest(folder / rows[0]["NATIVEPATH"].replace("\\", "/"))
    intl, _, _ = _manifest(folder / rows[2]["NATIVEPATH"].replace("\\", "/"))
    assert other["X-RSMF-EventCollectionID"] == msg["X-RSMF-EventCollectionID"]
    assert intl["X-RSMF-EventCollectionID"] != msg["X-RSMF-EventCollectionID"]
    events = {e["id"]: e for e in man["events"]}
    c = lambda n: _control(world, n)  # noqa: E731
    assert events[c("L3")]["parent"] == c("L1")
    assert events[c("L6")]["deleted"] is True
    assert events[c("L7")]["type"] == "join"
    custom = {x["name"]: x["value"] for x in events[c("L5")]["custom"]}
    assert custom["Edit1"] == "Final numbers are 41" and custom["Edited"] == "true"
    assert custom["ControlNumber"] == c("L5") and BATES_RE.fullmatch(custom["Bates"])
    assert events[c("L5")]["reactions"] == [
        {"value": "thumbsup", "count": 2, "participants": ["dana", "priya"]}
    ]
    assert all("direction" not in e for e in man["events"])  # the legal channel records none
    _, dm, _ = _manifest(folder / rows[4]["NATIVEPATH"].replace("\\", "/"))
    assert dm["events"][0]["direction"] == "incoming"  # D3, as its source said
    (att,) = events[c("L3")]["attachments"]
    assert att["display"] == "contracts.pdf (not held)" and att["size"] == 2048
    assert b"contracts.pdf" in zf.read(att["id"])


def test_relativity_validator_passes_every_rsmf(world, tmp_path: Path) -> None:
    assert VALIDATOR.is_file(), f"Relativity's validator is needed at {VALIDATOR}"
    files = sorted(
        str(p) for name in RUNS for p in (_folder(world, name) / "NATIVES").glob("*.rsmf")
    )
    assert len(files) >= 20
    cache = ROOT / ".pytest_cache" / "rsmf-validate"
    env = {**os.environ, "RSMF_VALIDATE_CACHE": str(cache)}
    run = subprocess.run(
        [str(VALIDATOR), "--strict", *files], capture_output=True, text=True, env=env, timeout=900
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert sum(line.startswith("PASS ") for line in lines) == len(files)
    assert not any(line.strip().startswith(("error", "warning")) for line in lines)


# --- privilege log -------------------------------------------------------------------
def test_privilege_log_rows_and_columns(world) -> None:
    folder = _folder(world, "day")
    wb = load_workbook(folder / "PRIVILEGE_LOG.xlsx")
    rows = list(wb.active.iter_rows(values_only=True))
    assert list(rows[0]) == [
        "bates", "documents", "control_number", "date_utc", "time_utc", "local_time", "zone",
        "author", "participants", "conversation", "platform", "privilege_type", "description",
    ]  # fmt: skip
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [r["control_number"] for r in body] == [_control(world, e.id) for e in WITHHELD]
    l4 = body[0]
    assert l4["author"] == "Dana Whitfield" and l4["conversation"] == "legal-strategy"
    assert (l4["date_utc"], l4["time_utc"]) == ("2023-03-12", "14:30:00")
    assert l4["local_time"] == "2023-03-12T10:30:00-04:00" and l4["zone"] == ZONE
    assert l4["privilege_type"] == "privileged" and l4["platform"] == "slack"
    assert l4["description"] == corpus.DESCRIPTIONS["L4"]
    assert (body[1]["description"] or "") == ""
    d1, d2 = body[2], body[3]
    assert d1["bates"] == d2["bates"] == d1["documents"]  # both on the one slip sheet
    csv_text = (folder / "PRIVILEGE_LOG.csv").read_text(encoding="utf-8-sig")
    assert csv_text.count("\n") == len(WITHHELD) + 1


def test_privilege_descriptions_set_replace_and_clear(discovery_home: Path, tmp_path: Path) -> None:
    with open_matter("case", create=True) as m:
        ids = corpus.build(m, tmp_path / "src")
        a, b = ids["L4"], ids["D1"]
        assert m.store.privilege_descriptions([a, b]) == {a: corpus.DESCRIPTIONS["L4"]}
        m.store.set_privilege_description([a, b], "Attorney-client communication")
        assert m.store.privilege_descriptions([a, b]) == {
            a: "Attorney-client communication",
            b: "Attorney-client communication",
        }
        m.store.set_privilege_description([a], "  ")
        assert m.store.privilege_descriptions([a, b]) == {b: "Attorney-client communication"}


# --- determinism, manifest and the audit log ----------------------------------------
def test_manifest_lists_every_file_with_its_hash(world) -> None:
    import hashlib

    folder = _folder(world, "day")
    man = json.loads((folder / "production_manifest.json").read_text())
    on_disk = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != "production_manifest.json"
    }
    assert {f["path"] for f in man["files"]} == on_disk
    for f in man["files"]:
        assert hashlib.sha256((folder / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    assert man["selection"]["canonical"] == "tag:responsive"
    assert man["selection"]["messages"] == len(RESPONSIVE)
    assert man["options"]["slice"] == "day" and man["options"]["tz"] == ZONE
    assert man["counts"]["messages_withheld"] == len(WITHHELD)
    assert man["counts"]["slip_sheets"] == 1


def test_same_selection_gives_identical_files_and_audit_rerun(world, tmp_path, monkeypatch) -> None:
    _use(world, monkeypatch)
    runner = CliRunner()
    outs = []
    for n in (1, 2):
        out = tmp_path / f"run{n}"
        res = _produce(out, "--tz", ZONE, "--confidentiality", LEGEND)
        assert res.exit_code == 0, res.output
        outs.append(out)
    a, b = (o / "production_manifest.json" for o in outs)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() == (_folder(world, "day") / "production_manifest.json").read_bytes()
    listed = runner.invoke(app, ["audit", "--matter", "case", "--json"])
    entries = [json.loads(line) for line in listed.output.splitlines() if line.startswith("{")]
    last = [e for e in entries if e["command"] == "produce"][-1]
    assert last["settings"]["manifest_sha256"]
    rerun = runner.invoke(app, ["audit", "--rerun", str(last["id"]), "--json"])
    assert rerun.exit_code == 0, rerun.output
    result = json.loads(rerun.output.splitlines()[-1])
    assert result["matches"] is True and result["differences"] == []
    assert result["files"] == len(last["settings"]["files"])
    # a changed file of the evidence's production shows up in a re-run: untag one message
    with open_matter("case") as m:
        m.store.untag([world["ids"]["D3"]], "responsive")  # type: ignore[index]
    try:
        again = runner.invoke(app, ["audit", "--rerun", str(last["id"])])
        assert again.exit_code == 1
        assert "files rebuilt" in again.output and " differ: " in again.output
        assert "review tags changed since it was logged" in again.output
    finally:
        with open_matter("case") as m:
            m.store.tag([world["ids"]["D3"]], "responsive")  # type: ignore[index]


def _produce(out: Path, *extra: str, tag: str = "responsive") -> Any:
    args = ["produce", "--matter", "case", "--tag", tag, "--out", str(out), "--prefix", "ABC"]
    return CliRunner().invoke(app, [*args, *extra])


def test_query_selection_and_context_zero(world, tmp_path, monkeypatch) -> None:
    _use(world, monkeypatch)
    with open_matter("case") as m:
        selection = select(m, query="numbers OR wombat")
        options = Options(prefix="Q", slice="context:0", formats=("rsmf",))
        result = produce(m, selection, options, tmp_path / "q")
    # L5 and L8 say "numbers", D1 and D2 "wombat" (withheld: slip sheets); L8 replies to L4
    want = [[_control(world, n) for n in ids] for ids in (["L5"], ["L4", "L8"], ["D1"], ["D2"])]
    assert [r["CONTROLNUMBERS"].split(";") for r in _dat(tmp_path / "q")] == want
    assert selection.canonical == "numbers OR wombat" and result.slip_sheets == 2
    man = json.loads((tmp_path / "q" / "production_manifest.json").read_text())
    assert man["selection"]["kind"] == "query" and man["selection"]["messages"] == 4


def test_produce_refuses_a_non_empty_folder_and_an_empty_selection(
    world, tmp_path, monkeypatch
) -> None:
    _use(world, monkeypatch)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.txt").write_text("x")
    res = _produce(tmp_path / "busy")
    assert res.exit_code == 2 and "not an empty folder" in res.output
    res = _produce(tmp_path / "new", tag="nosuchtag")
    assert res.exit_code == 1 and "no message is tagged 'nosuchtag'" in res.output
    assert not (tmp_path / "new").exists()
    args = ["produce", "--matter", "case", "--query", "zzyzx", "--out", str(tmp_path / "new")]
    res = CliRunner().invoke(app, [*args, "--prefix", "ABC"])
    assert res.exit_code == 1 and "nothing to produce" in res.output
    assert not (tmp_path / "new").exists()
    assert _produce(tmp_path / "n2", "--withhold-metadata", "colour").exit_code == 2
    assert _produce(tmp_path / "n3", "--format", "images").exit_code == 2
    assert _produce(tmp_path / "n4", "--slice", "week").exit_code == 2


@pytest.mark.parametrize("fault", ["disk full", "ctrl-c"])
def test_a_production_that_fails_midway_leaves_nothing_that_looks_produced(
    world, tmp_path, monkeypatch, fault
) -> None:
    import contextlib
    import errno

    from discovery.produce import files as production_files

    _use(world, monkeypatch)
    real_output = production_files.output
    written: list[str] = []

    @contextlib.contextmanager
    def failing_output(path: Path, mode: str = "w", **kwargs: Any):  # type: ignore[no-untyped-def]
        with real_output(path, mode, **kwargs) as f:
            if len(written) == 3:  # some documents are on disk; load files, manifest not yet
                if fault == "ctrl-c":
                    raise KeyboardInterrupt
                raise OSError(errno.ENOSPC, "No space left on device")
            written.append(path.name)
            yield f

    monkeypatch.setattr(production_files, "output", failing_output)
    (tmp_path / "empty").mkdir()  # a new folder, and an empty one the user made
    for out in (tmp_path / "new", tmp_path / "empty"):
        written.clear()
        res = _produce(out, "--format", "rsmf,text")
        assert len(written) == 3
        if fault == "disk full":
            assert res.exit_code == 1
            (line,) = res.stderr.strip().splitlines()  # a progress bar may leave a blank line
            assert line.startswith("discovery: no space left on the disk holding ")
        else:
            assert res.exit_code == 130
        assert not out.exists() or list(out.iterdir()) == []  # never files without a manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]  # no staging folder left
    logged = [e.settings.get("out") for e in audit_entries("case") if e.command == "produce"]
    assert str(tmp_path / "new") not in logged and str(tmp_path / "empty") not in logged
    # without the fault the same folder gets the whole production, manifest included
    monkeypatch.setattr(production_files, "output", real_output)
    assert _produce(tmp_path / "empty", "--format", "rsmf,text").exit_code == 0
    assert (tmp_path / "empty" / "production_manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


# --- round trip ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["conversation", "day"])
def test_round_trip_ingest_of_a_production(world, name: str, monkeypatch) -> None:
    _use(world, monkeypatch)
    folder = _folder(world, name)
    produced = {c for r in _dat(folder) for c in r["CONTROLNUMBERS"].split(";")}
    with open_matter(f"back-{name}", create=True) as m:
        report = ingest(m, [folder / "NATIVES"])
        assert not any(s.problems for s in report.sources)
        back = {x.native_id: x for x in m.store.messages(range(1, m.store.max_message_id() + 1))}
    with open_matter("case") as m:
        ids = list(world["ids"].values())  # type: ignore[union-attr]
        source = {x.control: x for x in m.store.messages(ids) if x.control in produced}
    # a message in two slices (a thread root brought into a later day) is one message again
    assert set(back) == set(source) == produced
    by_id = {x.id: x for x in back.values()}
    for control, orig in source.items():
        got = back[control]
        assert (got.speaker, got.speaker_id) == (orig.speaker, orig.speaker_id)
        assert (got.sent_at, got.utc_offset, got.system) == (
            orig.sent_at,
            orig.utc_offset,
            orig.system,
        )
        got_root = by_id[got.thread_root].native_id if got.thread_root else None
        assert got_root == (f"MSG-{orig.thread_root:08d}" if orig.thread_root else None)
        if "privileged" in orig.tags:
            assert (got.text, got.versions, got.attachments) == ("Withheld — Privileged", (), ())
            continue
        assert (got.text, got.versions) == (orig.text, orig.versions)
        assert (got.deleted, got.edited) == (orig.deleted, orig.edited)
        assert [(a.name, a.size, a.sha256) for a in got.attachments] == [
            (a.name, a.size, a.sha256) for a in orig.attachments
        ]
        assert [r.emoji for r in got.reactions] == [r.emoji for r in orig.reactions]
