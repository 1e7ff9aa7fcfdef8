"""Zips: safe names, size and ratio limits, nesting, display paths, re-ingest."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import tzinfo
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from discovery import archive
from discovery.archive import extract, is_archive, refusal, safe_name
from discovery.cli import app
from discovery.importers import detect as detect_mod
from discovery.importers.base import ImportContext
from discovery.importers.detect import iter_sources
from discovery.ingest import ingest
from discovery.matter import open_matter
from tests.conftest import FIXTURES
from tests.fuzzing import Edits, byte_edits, check_items, mutate

US = FIXTURES / "transcript" / "us_12h.txt"
JSONL = FIXTURES / "jsonl" / "messages.jsonl"
ACME = FIXTURES / "slack" / "acme"


def make_zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return path


def units(paths: list[Path], work: Path) -> list[tuple[str, str | None, str | None]]:
    return [
        (u.shown, u.importer and u.importer.name, u.problem and u.problem.reason)
        for u in iter_sources(paths, None, work)
    ]


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("a/b.json", "a/b.json"),
        ("./a//b.json", "a/b.json"),
        ("win\\dir\\c.txt", "win/dir/c.txt"),
        ("../evil.txt", None),
        ("a/../../evil.txt", None),
        ("a/..", None),
        ("/etc/passwd", None),
        ("\\\\server\\share\\x", None),
        ("C:/Windows/x.txt", None),
        ("C:x.txt", None),
        ("", None),
        ("nul\x00byte", None),
    ],
)
def test_safe_name(name: str, safe: str | None) -> None:
    got = safe_name(name)
    assert (None if got is None else got.as_posix()) == safe


def test_extract_never_writes_outside_its_folder(tmp_path: Path) -> None:
    z = make_zip(
        tmp_path / "evil.zip",
        {
            "../escaped.txt": b"x",
            "/abs.txt": b"x",
            "C:/drive.txt": b"x",
            "ok/../../climb.txt": b"x",
            "good/chat.txt": b"hello",
            "__MACOSX/good/._chat.txt": b"litter",
            "good/.DS_Store": b"litter",
        },
    )
    dest = tmp_path / "work" / "x"
    got = extract(z, dest)
    assert list(got.written) == ["good/chat.txt"]
    assert got.written["good/chat.txt"].read_bytes() == b"hello"
    assert sorted(m for m, _ in got.problems) == sorted(
        ["../escaped.txt", "/abs.txt", "C:/drive.txt", "ok/../../climb.txt"]
    )
    assert all("unsafe member name" in why for _, why in got.problems)
    everything = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert everything == {"evil.zip", "work/x/good/chat.txt"}


def test_duplicate_and_encrypted_members_are_reported(tmp_path: Path) -> None:
    z = tmp_path / "dup.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.txt", "first")
        with pytest.warns(UserWarning):
            zf.writestr("a.txt", "second")
        zf.writestr("secret.txt", "flagged as encrypted below")
    data = bytearray(z.read_bytes())
    entry = data.rindex(b"PK\x01\x02")  # the central directory entry of secret.txt
    data[entry + 8] |= 0x1  # general purpose flag bit 0: encrypted
    z.write_bytes(bytes(data))
    got = extract(z, tmp_path / "out")
    assert got.written["a.txt"].read_text() == "first"
    assert dict(got.problems) == {
        "a.txt": "duplicate member name; only the first copy was read",
        "secret.txt": "encrypted member; supply it decrypted",
    }


def test_ratio_limit_refuses_a_zip_bomb(tmp_path: Path) -> None:
    bomb = make_zip(tmp_path / "bomb.zip", {"zeros.bin": bytes(8 * 1024 * 1024)})
    reason = refusal(bomb)
    assert reason is not None and "zip bomb" in reason and "limit 200:1" in reason
    small = make_zip(tmp_path / "small.zip", {"blank.json": b" " * 100_000})
    assert refusal(small) is None  # under RATIO_FLOOR: highly compressible but harmless


def test_total_size_and_member_count_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    z = make_zip(tmp_path / "big.zip", {"a.txt": b"a" * 3000, "b.txt": b"b" * 3000})
    assert refusal(z) is None
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 5000)
    assert "6,000 bytes uncompressed (limit 5,000)" in (refusal(z) or "")
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 10**9)
    monkeypatch.setattr(archive, "MAX_MEMBERS", 1)
    assert "2 members (limit 1)" in (refusal(z) or "")


def test_extract_budget_stops_midway(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "z.zip", {"a.txt": b"a" * 3000, "b.txt": b"b" * 3000})
    with pytest.raises(archive.ArchiveError, match="more than 4,000 bytes"):
        extract(z, tmp_path / "out", budget=4000)
    assert not (tmp_path / "out" / "b.txt").exists()


def test_damaged_and_office_zips(tmp_path: Path) -> None:
    (tmp_path / "fake.zip").write_bytes(b"PK\x03\x04 not a zip")
    assert not is_archive(tmp_path / "fake.zip")
    docx = make_zip(
        tmp_path / "memo.docx", {"[Content_Types].xml": b"<x/>", "word/document.xml": b"<w/>"}
    )
    assert not is_archive(docx)
    assert is_archive(make_zip(tmp_path / "plain.zip", {"a.txt": b"a"}))
    assert (
        refusal(
            tmp_path / "fake.zip",
        )
        is not None
    )


def test_nested_zips_become_members_with_display_paths(tmp_path: Path) -> None:
    inner = make_zip(tmp_path / "inner.zip", {"chats/us.txt": US.read_bytes()})
    case = tmp_path / "case"
    case.mkdir()
    make_zip(case / "outer.zip", {"inner.zip": inner.read_bytes(), "log.jsonl": JSONL.read_bytes()})
    got = units([case], tmp_path / "work")
    assert got == [
        (f"{case}/outer.zip!inner.zip!chats/us.txt", "transcript", None),
        (f"{case}/outer.zip!log.jsonl", "jsonl", None),
    ]


def test_a_zip_an_importer_reads_whole_is_one_unit(tmp_path: Path) -> None:
    slack_zip = tmp_path / "export.zip"
    with zipfile.ZipFile(slack_zip, "w") as zf:
        for p in sorted(ACME.rglob("*.json")):
            zf.write(p, p.relative_to(ACME).as_posix())
    outer = make_zip(tmp_path / "collection.zip", {"alice/export.zip": slack_zip.read_bytes()})
    assert units([slack_zip], tmp_path / "w1") == [(str(slack_zip), "slack", None)]
    assert units([outer], tmp_path / "w2") == [(f"{outer}!alice/export.zip", "slack", None)]


def test_refused_and_unsafe_members_are_failed_units(tmp_path: Path) -> None:
    bomb = make_zip(tmp_path / "bomb.zip", {"zeros.bin": bytes(4 * 1024 * 1024)})
    bad = make_zip(tmp_path / "bad.zip", {"../x.txt": US.read_bytes(), "ok.txt": US.read_bytes()})
    got = units([bomb, bad], tmp_path / "work")
    assert got[0][0] == str(bomb) and got[0][1] is None and "zip bomb" in (got[0][2] or "")
    assert got[1] == (
        f"{bad}!../x.txt",
        None,
        "unsafe member name (absolute or outside the archive); skipped",
    )
    assert got[2] == (f"{bad}!ok.txt", "transcript", None)


def test_nesting_depth_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = US.read_bytes()
    name = "chat.txt"
    for level in range(3):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(name, data)
        data, name = buf.getvalue(), f"level{level}.zip"
    top = tmp_path / "top.zip"
    top.write_bytes(data)
    assert units([top], tmp_path / "w1") == [
        (f"{top}!level1.zip!level0.zip!chat.txt", "transcript", None)
    ]
    monkeypatch.setattr(detect_mod, "MAX_DEPTH", 2)
    ((shown, importer, reason),) = units([top], tmp_path / "w2")
    assert shown == f"{top}!level1.zip!level0.zip" and importer is None
    assert reason == "archives nested more than 2 deep; not opened"


def test_ingest_records_member_path_and_hash_and_reingest_adds_nothing(tmp_path: Path) -> None:
    outer = make_zip(
        tmp_path / "outer.zip", {"a/us.txt": US.read_bytes(), "b.jsonl": JSONL.read_bytes()}
    )
    with open_matter("m", create=True) as m:
        first = ingest(m, [outer])
        assert [(s.path, s.status, s.added) for s in first.sources] == [
            (f"{outer}!b.jsonl", "imported", 3),  # a folder's files before its subfolders
            (f"{outer}!a/us.txt", "imported", 5),
        ]
        sources = {s.path: s.sha256 for s in m.store.sources()}
        assert sources == {
            f"{outer}!a/us.txt": hashlib.sha256(US.read_bytes()).hexdigest(),
            f"{outer}!b.jsonl": hashlib.sha256(JSONL.read_bytes()).hexdigest(),
        }
        again = ingest(m, [outer])
        assert [s.status for s in again.sources] == ["already imported"] * 2
        assert again.added == 0
        # The same member loose on disk is the same bytes: nothing new either.
        loose = tmp_path / "us.txt"
        loose.write_bytes(US.read_bytes())
        assert ingest(m, [loose]).sources[0].status == "already imported"
    assert not list(Path(tmp_path).glob("**/discovery-ingest-*"))


def test_cli_reports_refused_archive_and_exits_1(tmp_path: Path) -> None:
    bomb = make_zip(tmp_path / "bomb.zip", {"zeros.bin": bytes(4 * 1024 * 1024)})
    r = CliRunner().invoke(app, ["ingest", str(bomb), str(US), "--json"])
    assert r.exit_code == 1
    reports = {x["path"]: x for x in json.loads(r.stdout)}
    assert reports[str(bomb)]["status"] == "failed"
    assert reports[str(bomb)]["problems"][0].startswith(
        f"{bomb}: archive refused: member 'zeros.bin'"
    )
    assert reports[str(US)]["added"] == 5


_SAMPLE = io.BytesIO()
with zipfile.ZipFile(_SAMPLE, "w", zipfile.ZIP_DEFLATED) as _zf:
    _zf.writestr("chats/us.txt", US.read_bytes())
    _zf.writestr("log.jsonl", JSONL.read_bytes())
    _inner = io.BytesIO()
    with zipfile.ZipFile(_inner, "w") as _izf:
        _izf.writestr("x/us.txt", US.read_bytes())
    _zf.writestr("inner.zip", _inner.getvalue())
_VALID = _SAMPLE.getvalue()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cut=st.integers(min_value=0, max_value=len(_VALID)),
    flips=byte_edits(len(_VALID) - 1, 6),
)
def test_mutated_zips_never_raise(tmp_path: Path, cut: int, flips: Edits) -> None:
    data = mutate(_VALID, len(_VALID) if flips else cut, flips)
    case = tmp_path / f"case-{cut}-{len(flips)}"
    case.mkdir(exist_ok=True)
    z = case / "mutant.zip"
    z.write_bytes(data)
    work = tmp_path / f"work-{cut}-{len(flips)}-{hash(data) & 0xFFFF}"
    for unit in iter_sources([case], None, work):
        assert unit.shown.startswith(str(case))
        if unit.importer is None:
            continue
        check_items(unit.importer.read(unit.path, ImportContext(archive_tz(), unit.shown)))
    # Nothing written outside the work folder (the zip itself aside).
    assert [p.name for p in case.iterdir()] == ["mutant.zip"]


def archive_tz() -> tzinfo:
    from datetime import UTC

    return UTC


def test_limits_apply_to_a_forced_format_too(tmp_path: Path) -> None:
    bomb = make_zip(tmp_path / "bomb.zip", {"users.json": bytes(4 * 1024 * 1024)})
    r = CliRunner().invoke(app, ["ingest", str(bomb), "--format", "slack", "--json"])
    assert r.exit_code == 1
    (report,) = json.loads(r.stdout)
    assert report["status"] == "failed" and "zip bomb" in report["problems"][0]
