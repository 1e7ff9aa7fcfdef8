"""Every ``discovery`` example in README.md runs as written (issue 10).

The examples are read from the README's ``sh`` blocks (continuation lines
joined, ``&&`` chains split, comments dropped) and run in order, in-process,
from a scratch folder that sees the project's ``fixtures/`` as the README
assumes. ``discovery tui`` needs a terminal and is only checked to be named.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from discovery.cli import app
from tests.conftest import ROOT

README = ROOT / "README.md"


def examples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    found: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words and words[0] == "discovery":
                    found.append(part.strip())
    return found


def test_the_readme_has_an_example_of_every_command() -> None:
    from typer.main import get_command

    split = [shlex.split(e, comments=True) for e in examples()]
    named = {words[1] for words in split if len(words) > 1}
    named |= set(re.findall(r"`discovery (\w+)", README.read_text(encoding="utf-8")))
    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    assert commands <= named, commands - named


def test_every_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    monkeypatch.chdir(tmp_path)
    ran = 0
    for example in examples():
        args = shlex.split(example, comments=True)[1:]
        if args[:1] == ["tui"]:
            continue
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, f"{example}\n{result.stdout}\n{result.stderr}"
        ran += 1
    assert ran >= 25
