"""Nothing from evidence controls the terminal (issue 13).

Every kind of string a source carries (file names, zip member names, message
texts, conversation and speaker names, the custodian and batch term names)
gets ESC/CSI, OSC (a pane title), BEL, CR, a newline, a C1 CSI and Rich
markup (``[/``, ``[bold]``, ``[python-dev]``). The captured output of every
command that shows them, and the review screen, must hold no raw control
character and show the markup as typed.
"""

from __future__ import annotations

import asyncio
import json
import re
import zipfile
from pathlib import Path

import pytest

from discovery.matter import open_matter
from discovery.tui import ReviewApp, Session
from tests.conftest import invoke

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\r[/][python-dev] \x9b31m"
"""An OSC title change ended by BEL, a clear screen, CR, markup and a one-byte C1 CSI."""
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""What must never reach the terminal (tab and newline are the layout's own)."""


def row(n: int) -> str:
    return json.dumps(
        {
            "conversation": f"[python-dev] Re: x{HOSTILE}",
            "speaker": f"[/b]Mallory{HOSTILE}",
            "time": f"2023-01-0{n}T00:00:00Z",
            "text": f"libgen number {n} {HOSTILE}\nsecond line [/ [bold]bold?",
        }
    )


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A collection whose every string is hostile, ingested into matter ``default``."""
    coll = tmp_path / "coll"
    coll.mkdir()
    forged = coll / "evil\x1b]0;t\x07\n[bold]problem: forged.jsonl"
    forged.write_text(row(1) + "\nnot json\n", encoding="utf-8")
    with zipfile.ZipFile(coll / "e.zip", "w") as z:
        z.writestr("m\x1b[2Jember[/].jsonl", row(2) + "\n")
        z.writestr("junk\x1b]0;x\x07\r.bin", b"\x00\x01")
    return coll


def clean(text: str) -> str:
    assert not RAW.findall(text), RAW.findall(text)
    return text


def test_every_command_shows_evidence_inert(hostile: Path, tmp_path: Path) -> None:
    outputs = []
    for width in ("200", "80"):  # the wide table and the narrow list
        ingested = invoke(
            "ingest", str(hostile), "--custodian", "[/]Cust[bold]", env={"COLUMNS": width}
        )
        assert ingested.exit_code == 1  # junk.bin is no format
        outputs.append(ingested.stdout + ingested.stderr)
        for args in (["libgen"], ["libgen", "--context", "1"], ["libgen", "--json"]):
            found = invoke("search", *args, env={"COLUMNS": width})
            assert found.exit_code == 0
            outputs.append(found.stdout + found.stderr)
    first = outputs[0]
    # a newline in a file name cannot forge a problem line: each problem is one line
    problems = [line for line in first.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 2
    assert not [line for line in first.splitlines() if line.startswith("problem: forged")]
    assert "evil␛]0;t␇⏎[bold]problem: forged.jsonl:2: not valid JSON" in first
    assert "junk␛]0;x␇␍.bin" in first and "m␛[2Jember[/].jsonl" in first

    terms = tmp_path / "terms.txt"
    terms.write_text("[/b]Evil [python-dev]: libgen\n", encoding="utf-8")
    for args in (
        ["show", "1", "--context", "2", "--query", "libgen"],
        ["report"],
        ["report", "--json"],
        ["matters", "--matter", "default"],
        ["batch", str(terms), "--report", str(tmp_path / "r.csv")],
        ["audit"],
        ["audit", "--json"],
        ["export", "libgen", "--out", str(tmp_path / "hits.csv")],
    ):
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.stderr)
        outputs.append(result.stdout + result.stderr)
    for text in outputs:
        clean(text)
    everything = "\n".join(outputs)
    # markup is shown as typed, never interpreted (and never crashes a wide table)
    for typed in ("[python-dev] Re: x", "[/b]Mallory", "[/]Cust[bold]", "[/b]Evil", "[bold]bold?"):
        assert typed in everything, typed
    assert "␛]0;pwned␇␛[2J" in everything and "⟨U+009B⟩31m" in everything
    # JSON keeps the evidence exactly, with the controls escaped
    hit = json.loads(outputs[3].splitlines()[0])
    assert hit["speaker"] == f"[/b]Mallory{HOSTILE}"


def test_the_review_screen_shows_evidence_inert(hostile: Path) -> None:
    assert invoke("ingest", str(hostile)).exit_code == 1

    async def main() -> str:
        with open_matter("default") as m:
            session = Session(m)
            try:
                review = ReviewApp(session, blink=False, query="libgen")
                async with review.run_test(size=(120, 40)) as pilot:
                    await review.workers.wait_for_complete()
                    await pilot.pause()
                    await pilot.pause()
                    assert review.results is not None and review.results.total == 2
                    return review.export_screenshot()
            finally:
                session.close()

    svg = asyncio.run(main())
    clean(svg)
    text = re.sub(r"<[^>]+>", "", svg).replace("&#160;", " ")
    for shown in ("[python-dev]", "[/b]Mallory", "␛]0;pwned␇", "⟨U+009B⟩31m", "[bold]bold?"):
        assert shown in text, shown


def _on_a_terminal(*args: str) -> bytes:
    """What ``discovery ARGS`` writes to a real terminal (a pseudo-terminal) as stdout."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import tty

    leader, follower = pty.openpty()
    tty.setraw(follower)  # the bytes as written: no newline translation by the terminal
    proc = subprocess.Popen(
        [sys.executable, "-m", "discovery", *args],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    os.close(follower)
    out = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait(timeout=30) == 0
    return out


@pytest.mark.parametrize(
    "args",
    [
        ("search", "libgen", "--csv"),
        ("export", "libgen", "--out", "-"),
        ("exhibits", "--query", "libgen", "--prefix", "PX", "--out", "-"),
    ],
    ids=["search --csv", "export --out -", "exhibits --out -"],
)
def test_csv_to_a_terminal_is_inert_and_exact_to_a_pipe(hostile: Path, args: tuple) -> None:
    assert invoke("ingest", str(hostile)).exit_code == 1  # junk.bin is no format
    shown = _on_a_terminal(*args).decode("utf-8")
    clean(shown.replace("\r\n", "\n"))  # CSV's own row ends are not evidence
    assert "libgen number 1 ␛]0;pwned␇␛[2J␍[/][python-dev] ⟨U+009B⟩31m" in shown
    assert "[/b]Mallory␛]0;pwned␇" in shown
    # to a pipe (or a file) the CSV is evidence: every byte as the source had it
    piped = invoke(*args)
    assert piped.exit_code == 0
    assert f"libgen number 1 {HOSTILE}" in piped.stdout
    assert f"[/b]Mallory{HOSTILE}" in piped.stdout
