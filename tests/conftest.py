"""Shared fixtures: every test gets its own $DISCOVERY_HOME, so none touches real matters."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SAMPLES = ROOT.parent / "shared" / "samples"


@pytest.fixture(autouse=True)
def discovery_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("DISCOVERY_HOME", str(home))
    monkeypatch.delenv("DISCOVERY_TZ", raising=False)
    monkeypatch.delenv("DISCOVERY_DEBUG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return home
