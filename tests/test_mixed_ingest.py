"""One ingest of a folder mixing every format, zipped and nested; custodians per subfolder."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from discovery.cli import app
from discovery.custodians import CustodianMap, load_custodian_map
from discovery.errors import UsageError
from discovery.importers.detect import detect
from discovery.ingest import ingest
from discovery.matter import open_matter
from tests.conftest import FIXTURES

SKIP = re.compile(r"^(malformed|bad)", re.IGNORECASE)
"""Fixtures that show a broken input (named so) stay out of the mixed folder."""
CORE = {"slack", "csv", "jsonl", "transcript", "pdf", "html"}
NOT_SOURCES = {"batch", "real"}
"""Fixture folders left out: search term lists (``discovery batch``), and the real files,
which ``tests/test_real_files.py`` imports one by one (with their SOURCES.md beside them)."""
KEEP_PLAIN: set[str] = set()
"""Formats kept out of zips in the mixed folder (none: every format also travels zipped)."""


def copy_valid(src: Path, dest: Path) -> None:
    """Copy a fixture folder without its malformed/bad* entries."""
    shutil.copytree(src, dest, ignore=lambda _dir, names: [n for n in names if SKIP.match(n)])


def format_folders() -> list[Path]:
    """Fixture folders holding at least one file some importer recognises."""
    out = []
    for d in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name not in NOT_SOURCES):
        files = [p for p in d.rglob("*") if not SKIP.match(p.name)]
        if detect(d) is not None or any(detect(p) is not None for p in files):
            out.append(d)
    return out


def zip_folder(zf: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            zf.write(p, f"{prefix}/{p.relative_to(folder).as_posix()}")


def build_mixed(root: Path, folders: list[Path], staging: Path) -> None:
    """Plain folders, a zip of several formats, and a zip nested in a zip in a subfolder."""
    root.mkdir()
    plain, bundled, nested = [], [], []
    for i, d in enumerate(folders):
        (plain if d.name in KEEP_PLAIN or i % 3 == 0 else bundled if i % 3 == 1 else nested).append(
            d
        )
    for d in plain:
        copy_valid(d, root / d.name)
    with zipfile.ZipFile(root / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for d in bundled:
            copy_valid(d, staging / "b" / d.name)
            zip_folder(zf, staging / "b" / d.name, d.name)
    inner = staging / "inner.zip"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        for d in nested:
            copy_valid(d, staging / "n" / d.name)
            zip_folder(zf, staging / "n" / d.name, d.name)
    (root / "box").mkdir()
    with zipfile.ZipFile(root / "box" / "outer.zip", "w") as zf:
        zf.write(inner, "nested/inner.zip")


def logical(path: str, root: Path) -> str:
    """A mixed-folder source path as ``<format folder>/<path>``, archives taken away."""
    rest = path[len(str(root)) + 1 :]
    for wrapper in ("box/outer.zip!nested/inner.zip!", "bundle.zip!"):
        rest = rest.removeprefix(wrapper)
    return rest


def test_one_ingest_of_every_format_mixed_zipped_and_nested(tmp_path: Path) -> None:
    folders = format_folders()
    assert {d.name for d in folders} >= CORE
    # Each format on its own first: what every source gives when ingested alone.
    solo: dict[str, tuple[str, str, int, int]] = {}
    for d in folders:
        copy = tmp_path / "solo" / d.name
        copy_valid(d, copy)
        with open_matter(f"solo-{d.name}", create=True) as m:
            for s in ingest(m, [copy]).sources:
                rel = f"{d.name}/{s.path[len(str(copy)) + 1 :]}" if s.path != str(copy) else d.name
                solo[rel] = (s.format, s.status, s.added + s.duplicates, len(s.problems))
    root = tmp_path / "mixed"
    build_mixed(root, folders, tmp_path / "staging")

    result = CliRunner().invoke(app, ["ingest", str(root), "--matter", "mixed", "--json"])
    assert "Traceback" not in result.output
    reports = json.loads(result.stdout)
    mixed = {
        logical(r["path"], root): (
            r["format"],
            r["status"],
            r["added"] + r["duplicates"],
            len(r["problems"]),
        )
        for r in reports
    }
    assert [r["path"] for r in reports if r["status"] == "unrecognised"] == []
    assert mixed == solo
    # Members of archives are shown inside them, nested ones through both.
    paths = [r["path"] for r in reports]
    assert any(p.startswith(f"{root}/bundle.zip!") for p in paths)
    assert any(p.startswith(f"{root}/box/outer.zip!nested/inner.zip!") for p in paths)
    assert sum(r["added"] for r in reports) > 100
    failed = [r for r in reports if r["status"] == "failed"]
    assert result.exit_code == (1 if failed else 0)
    for r in failed:  # every failure says where and why
        assert r["problems"] and all(p.startswith(r["path"]) for p in r["problems"])
    # Nothing new the second time.
    again = CliRunner().invoke(app, ["ingest", str(root), "--matter", "mixed", "--json"])
    assert sum(r["added"] for r in json.loads(again.stdout)) == 0


def test_a_collection_zip_holding_a_whatsapp_chat_keeps_its_other_members(tmp_path: Path) -> None:
    z = tmp_path / "collection.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(FIXTURES / "whatsapp" / "android_uk_24h.txt", "phone/WhatsApp Chat.txt")
        zf.write(FIXTURES / "jsonl" / "messages.jsonl", "logs/messages.jsonl")
    with open_matter("m", create=True) as m:
        formats = {s.format for s in ingest(m, [z]).sources}
    assert formats == {"whatsapp", "jsonl"}


# --- custodians ----------------------------------------------------------------------------------


def custodian_case(tmp_path: Path) -> Path:
    case = tmp_path / "case"
    (case / "alice" / "exhibits").mkdir(parents=True)
    shutil.copy(FIXTURES / "transcript" / "us_12h.txt", case / "alice" / "exhibits" / "us.txt")
    (case / "bob").mkdir()
    with zipfile.ZipFile(case / "bob" / "phone.zip", "w") as zf:
        zf.write(FIXTURES / "jsonl" / "messages.jsonl", "logs/messages.jsonl")
        zf.write(FIXTURES / "html" / "saved_chat.html", "saved/chat.html")
    shutil.copy(FIXTURES / "pdf" / "transcript_exhibit.pdf", case / "loose.pdf")
    return case


def custodians_by_source() -> dict[str, str]:
    with open_matter("c") as m:
        return {s.path: s.custodian for s in m.store.sources()}


def test_custodian_map_auto_takes_the_first_folder_level(tmp_path: Path) -> None:
    case = custodian_case(tmp_path)
    r = CliRunner().invoke(
        app, ["ingest", str(case), "-m", "c", "--custodian-map", "auto", "--custodian", "Court"]
    )
    assert r.exit_code == 0, r.output
    assert custodians_by_source() == {
        f"{case}/loose.pdf": "Court",
        f"{case}/alice/exhibits/us.txt": "alice",
        f"{case}/bob/phone.zip!logs/messages.jsonl": "bob",
        f"{case}/bob/phone.zip!saved/chat.html": "bob",
    }


def test_custodian_map_file_longest_prefix_wins(tmp_path: Path) -> None:
    case = custodian_case(tmp_path)
    mapping = tmp_path / "custodians.csv"
    mapping.write_text(
        "\ufeffpath,custodian\n"
        "alice,Alice Ng\n"
        "bob,Bob Ray\n"
        "bob/phone.zip/saved,Bob Ray (saved pages)\n"
        "# a comment line\n",
        encoding="utf-8",
    )
    r = CliRunner().invoke(app, ["ingest", str(case), "-m", "c", "--custodian-map", str(mapping)])
    assert r.exit_code == 0, r.output
    assert custodians_by_source() == {
        f"{case}/loose.pdf": "unassigned",
        f"{case}/alice/exhibits/us.txt": "Alice Ng",
        f"{case}/bob/phone.zip!logs/messages.jsonl": "Bob Ray",
        f"{case}/bob/phone.zip!saved/chat.html": "Bob Ray (saved pages)",
    }
    hits = CliRunner().invoke(app, ["search", "custodian:alice", "-m", "c", "--count"])
    assert hits.stdout.strip() == "5"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("alice\n", "custodians.csv:1: expected two columns 'path,custodian'"),
        ("path,custodian\nalice,A\nalice,B\n", "custodians.csv:3: 'alice' is mapped twice"),
        ("path,custodian\n", "has no 'path,custodian' rows"),
    ],
)
def test_bad_custodian_map_is_a_usage_error(tmp_path: Path, content: str, message: str) -> None:
    mapping = tmp_path / "custodians.csv"
    mapping.write_text(content)
    r = CliRunner().invoke(
        app, ["ingest", str(FIXTURES / "jsonl" / "messages.jsonl"), "--custodian-map", str(mapping)]
    )
    assert r.exit_code == 2
    assert message in r.stderr
    assert "Traceback" not in r.output
    missing = CliRunner().invoke(
        app, ["ingest", str(FIXTURES / "jsonl"), "--custodian-map", str(tmp_path / "none.csv")]
    )
    assert missing.exit_code == 2 and "cannot read the custodian map" in missing.stderr


def test_custodian_map_matches_whole_components() -> None:
    m = CustodianMap(prefixes=((("alice",), "A"), (("alice", "phone.zip"), "A phone"), ((), "Any")))
    assert m.custodian_for("alice/x.txt") == "A"
    assert m.custodian_for("alice/phone.zip/chat.txt") == "A phone"
    assert m.custodian_for("alicia/x.txt") == "Any"
    assert CustodianMap(auto=True).custodian_for("x.txt") is None
    assert CustodianMap(auto=True).custodian_for("bob/x.zip/y") == "bob"
    assert load_custodian_map("AUTO").auto
    with pytest.raises(UsageError):
        load_custodian_map("/nonexistent/map.csv")
