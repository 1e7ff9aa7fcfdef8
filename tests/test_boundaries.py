"""Architecture boundaries: the library knows nothing of the CLI, the TUI or Whoosh's API."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT

PACKAGE = ROOT / "discovery"


def test_library_imports_no_ui_framework() -> None:
    code = (
        "import sys, discovery.search, discovery.ingest, discovery.export, discovery.render;"
        "bad = [m for m in ('typer', 'textual', 'click') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == ""


def _importers_of(module: str) -> set[str]:
    pattern = re.compile(rf"^\s*(import|from)\s+{module}\b", re.MULTILINE)
    return {
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if pattern.search(p.read_text(encoding="utf-8"))
    }


def test_only_the_index_package_imports_whoosh() -> None:
    offenders = {p for p in _importers_of("whoosh") if not p.startswith("index/")}
    assert offenders == set()
    assert _importers_of("whoosh")  # the check looks at real files


def test_only_cli_imports_typer_and_only_tui_imports_textual() -> None:
    typer_users = _importers_of("typer")
    assert typer_users and all(p.startswith("cli/") for p in typer_users)
    assert {p for p in _importers_of("textual") if not p.startswith("tui/")} == set()


def test_cli_helpers_sit_in_no_import_cycle() -> None:
    """Command modules import the shared helpers; the helpers import no command module."""
    common = (PACKAGE / "cli" / "common.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*from discovery\.cli(\.| import)", common, re.MULTILINE)
