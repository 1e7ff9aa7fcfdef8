"""A full disk (issue 13): a clear error, nothing half-written, still searchable, a retry works.

The matter lives on a 20 MB tmpfs (its index on a second, smaller one, so the
index can run out while the case store has room). Mounting needs root and
Linux; elsewhere the test is skipped, saying why.
"""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from discovery.matter import INDEX_DIR, WORK_DIR, open_matter
from discovery.synth import generate_slack_export
from tests.conftest import ACME, invoke


def mount(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not permitted'})")


def remount(path: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(path)], check=True)


@pytest.fixture
def disks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """(home on a 20 MB tmpfs, matter ``m``'s index folder on a 256 KB tmpfs)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    disk = tmp_path / "disk"
    mount(disk, "20m")
    index = disk / "home" / "m" / INDEX_DIR
    try:
        mount(index, "256k")
        monkeypatch.setenv("DISCOVERY_HOME", str(disk / "home"))
        yield disk, index
    finally:
        gc.collect()  # Whoosh's memory maps of index files close with their readers
        for path in (index, disk):
            if subprocess.run(["umount", str(path)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(path)], capture_output=True)


def files_under(path: Path) -> set[str]:
    return {p.relative_to(path).as_posix() for p in path.rglob("*")}


def libgen_hits() -> list[str]:
    found = invoke("search", "libgen", "--json", "--all", "-m", "m")
    assert "internal error" not in found.stderr
    return sorted(json.loads(line)["id"] for line in found.stdout.splitlines())


def test_a_full_disk_is_one_clear_error_and_a_retry_completes(
    disks: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk, index = disks
    monkeypatch.setenv("DISCOVERY_BATCH", "500")  # the export staged in six batches
    corpus = tmp_path / "corpus"
    stats = generate_slack_export(corpus, 3000, seed=21)
    assert invoke("ingest", str(ACME), "-m", "m").exit_code == 0
    acme_hits = libgen_hits()
    assert len(acme_hits) == 4

    # 1. The case store's disk is full.
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    filler.write_bytes(b"\0" * (free - 256 * 1024))
    before = files_under(disk / "home" / "m")
    full = invoke("ingest", str(corpus), "-m", "m")
    assert full.exit_code == 1
    error = full.stderr.strip().splitlines()
    assert len(error) == 1 and "internal error" not in full.stderr
    assert error[0].startswith(
        f"discovery: no space left on the disk holding {disk}/home/m/case.sqlite (about"
    )
    assert " MB needed, " in error[0] and "free some space and run it again" in error[0]
    assert re.search(r"failed +slack", full.stdout)  # the report is printed too
    assert files_under(disk / "home" / "m") <= before  # nothing left behind
    assert libgen_hits() == acme_hits  # still searchable (the audit log may warn: disk full)

    # 2. Room for the case store, none for the index.
    filler.unlink()
    index_before = files_under(index)
    full = invoke("ingest", str(corpus), "-m", "m")
    assert full.exit_code == 1
    (error,) = full.stderr.strip().splitlines()
    assert error.startswith(f"discovery: no space left on the disk holding {index} (about")
    assert "3000 messages added" in full.stdout
    with open_matter("m") as m:
        assert m.store.counts()["messages"] == 50 + 3000
        assert m.engine.indexed_through() == 50  # rolled back to the last commit
    assert not (disk / "home" / "m" / WORK_DIR).exists()
    left = files_under(index) - index_before  # no segment file of the failed write is left
    assert left <= {"MAIN_WRITELOCK"}, left
    searched = invoke("search", "libgen", "--count", "-m", "m")
    assert searched.exit_code == 0 and searched.stdout == "4\n"
    assert "the index holds 50 of the 3,050 stored messages" in searched.stderr

    # 3. With space, a retry completes.
    remount(index, "20m")
    again = invoke("ingest", str(corpus), "-m", "m")
    assert again.exit_code == 0 and "already imported" in again.stdout
    assert again.stderr == ""
    assert len(libgen_hits()) == 4 + stats.planted["libgen"]
    found = invoke("search", "libgen", "--count", "-m", "m")
    assert found.stderr == ""


def committed_files(index: Path) -> set[str]:
    """The index files its newest table of contents names (and what any index has)."""
    from whoosh import index as whoosh_index

    toc = whoosh_index.open_dir(str(index))._read_toc()
    names = {s.segment_id() for s in toc.segments}
    return {
        p.name
        for p in index.iterdir()
        if p.name.split(".")[0] in names
        or p.name in (f"_MAIN_{toc.generation}.toc", "positions.json", "MAIN_WRITELOCK")
    }


def test_a_full_disk_while_workers_index_keeps_whole_ranges_and_a_retry_completes(
    disks: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk, index = disks
    monkeypatch.setenv("DISCOVERY_JOBS", "2")
    monkeypatch.setenv("DISCOVERY_INDEX_RANGE", "500")  # 3000 messages: 6 ranges, 2 workers
    corpus = tmp_path / "corpus"
    stats = generate_slack_export(corpus, 3000, seed=21)
    remount(index, "512k")  # room for a few ranges
    assert invoke("ingest", str(ACME), "-m", "m").exit_code == 0  # 50: indexed here
    full = invoke("ingest", str(corpus), "-m", "m")
    assert full.exit_code == 1 and "3000 messages added" in full.stdout
    (error,) = full.stderr.strip().splitlines()
    assert error.startswith(f"discovery: no space left on the disk holding {index} (about")
    with open_matter("m") as m:
        through = m.engine.indexed_through()
    assert 50 <= through < 3050 and (through - 50) % 500 == 0  # whole ranges, in id order
    assert {p.name for p in index.iterdir()} == committed_files(index)  # nothing half written
    assert not (disk / "home" / "m" / WORK_DIR).exists()
    searched = invoke("search", "libgen", "--count", "-m", "m")
    assert searched.exit_code == 0
    assert f"the index holds {through:,} of the 3,050 stored messages" in searched.stderr

    remount(index, "20m")
    again = invoke("ingest", str(corpus), "-m", "m")
    assert again.exit_code == 0 and again.stderr == ""
    assert len(libgen_hits()) == 4 + stats.planted["libgen"]
    assert {p.name for p in index.iterdir()} == committed_files(index)
