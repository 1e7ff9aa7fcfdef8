"""Format detection and the expansion of paths into importable units."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from discovery.importers.detect import IMPORTERS, Unit, detect, iter_sources
from tests.conftest import SAMPLES

FIX = Path(__file__).parents[1] / "fixtures"
SAMPLE = SAMPLES / "slack" / "slack-export-viewer_testarchive.zip"


def name_of(path: Path) -> str | None:
    imp = detect(path)
    return None if imp is None else imp.name


def test_registry() -> None:
    names = list(IMPORTERS)
    assert names[0] == "slack"
    assert {"csv", "jsonl", "pdf", "html", "transcript"} <= set(names)
    # The loose sniffers come last: HTML exhibits are the fallback for any HTML
    # (formats with their own HTML are sniffed before), then plain transcripts.
    assert names[-2:] == ["html", "transcript"]
    for name, imp in IMPORTERS.items():
        assert imp.name == name


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("slack/acme", "slack"),
        ("slack/malformed", "slack"),
        ("transcript/us_12h.txt", "transcript"),
        ("transcript/european_bracket.txt", "whatsapp"),
        ("csv/bom_aliases.csv", "csv"),
        ("jsonl/messages.jsonl", "jsonl"),
        ("slack/acme/users.json", None),
        ("slack", None),
    ],
)
def test_detect_fixtures(rel: str, expected: str | None) -> None:
    assert name_of(FIX / rel) == expected


def test_detect_missing_and_empty(tmp_path: Path) -> None:
    assert detect(tmp_path / "nope") is None
    (tmp_path / "empty.txt").write_bytes(b"")
    assert detect(tmp_path / "empty.txt") is None
    (tmp_path / "bin.dat").write_bytes(b"\x00\x01\x02PK")
    assert detect(tmp_path / "bin.dat") is None


def test_detect_slack_zip(tmp_path: Path) -> None:
    z = tmp_path / "export.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted((FIX / "slack" / "acme").rglob("*.json")):
            zf.write(p, "Acme export/" + p.relative_to(FIX / "slack" / "acme").as_posix())
    assert name_of(z) == "slack"
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("chat.txt", "hello")
    assert detect(other) is None


def test_real_sample_zip_detected() -> None:
    if not SAMPLE.exists():
        pytest.skip("shared Slack sample not present")
    assert name_of(SAMPLE) == "slack"


def test_iter_sources_walks_folders(tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(FIX / "slack" / "acme", case / "custodian-a" / "slack")
    shutil.copy(FIX / "transcript" / "us_12h.txt", case / "exhibit-1.txt")
    shutil.copy(FIX / "csv" / "bom_aliases.csv", case / "custodian-a" / "table.csv")
    (case / "notes.docx").write_bytes(b"PK\x03\x04not really")
    (case / ".DS_Store").write_bytes(b"\x00\x00")
    (case / "sub").mkdir()
    (case / "sub" / "b.jsonl").write_text((FIX / "jsonl" / "messages.jsonl").read_text())
    units = list(iter_sources([case]))
    got = [(u.path.relative_to(case).as_posix(), u.importer and u.importer.name) for u in units]
    assert got == [
        ("exhibit-1.txt", "transcript"),
        ("notes.docx", None),
        ("custodian-a/slack", "slack"),
        ("custodian-a/table.csv", "csv"),
        ("sub/b.jsonl", "jsonl"),
    ]
    assert all(isinstance(u, Unit) for u in units)
    # a file that starts like a zip but is none is damaged evidence, not an unknown format
    assert str(units[1].problem).endswith(
        "damaged or truncated zip archive (File is not a zip"
        " file): its list of members cannot be read; not imported"
    )

    def plain(us: list[Unit]) -> list[tuple[object, ...]]:
        return [(u.path, u.importer, u.display, str(u.problem), u.named) for u in us]

    assert plain(list(iter_sources([case]))) == plain(units)  # deterministic


def test_iter_sources_explicit_paths(tmp_path: Path) -> None:
    units = list(
        iter_sources(
            [FIX / "slack" / "acme", tmp_path / "missing.txt", FIX / "transcript" / "us_12h.txt"]
        )
    )
    assert [(u.path.name, u.importer and u.importer.name) for u in units] == [
        ("acme", "slack"),
        ("missing.txt", None),
        ("us_12h.txt", "transcript"),
    ]


def test_iter_sources_forced_format() -> None:
    csv = IMPORTERS["csv"]
    units = list(iter_sources([FIX / "transcript" / "us_12h.txt", FIX / "jsonl"], csv))
    assert units[0] == Unit(FIX / "transcript" / "us_12h.txt", csv)  # explicit file: as told
    assert all(u.importer is None for u in units[1:])  # walked files must still sniff
