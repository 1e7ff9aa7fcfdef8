"""Shared fixtures: every test gets its own $DISCOVERY_HOME, so none touches real matters."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from discovery.cli import app
from discovery.ingest import ingest
from discovery.matter import Matter, open_matter

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
# The shared samples sit beside the clone (../shared/samples); DISCOVERY_SAMPLES names
# them elsewhere (a worktree whose parent holds no shared/).
SAMPLES = Path(os.environ.get("DISCOVERY_SAMPLES") or ROOT.parent / "shared" / "samples")
ACME = FIXTURES / "slack" / "acme"


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run the command line in-process; an exception escaping it fails the test."""
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def worker_pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every worker pool started from now on (:class:`discovery.workers.Workers`)."""
    from discovery import workers

    pools: list[int] = []
    real = workers.Workers.__init__

    def counted(self: workers.Workers, count: int, **how: bool) -> None:
        pools.append(count)
        real(self, count, **how)

    monkeypatch.setattr(workers.Workers, "__init__", counted)
    return pools


@pytest.fixture(autouse=True)
def discovery_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("DISCOVERY_HOME", str(home))
    monkeypatch.delenv("DISCOVERY_TZ", raising=False)
    monkeypatch.delenv("DISCOVERY_DEBUG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return home


@pytest.fixture(scope="session")
def acme_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A $DISCOVERY_HOME holding matter ``default`` with the acme export, built once.

    Copy it into a test's own ``discovery_home`` before changing anything.
    """
    home = tmp_path_factory.mktemp("acme_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISCOVERY_HOME", str(home))
        mp.delenv("DISCOVERY_TZ", raising=False)
        with open_matter("default", create=True) as m:
            report = ingest(m, [ACME])
    assert report.added == 50
    return home


CHAT_MESSAGES = 20_000
CHAT_ZONE = "America/New_York"
"""The display zone of the chat corpus: its days cross both 2023 DST changes (12 March,
5 November)."""


@pytest.fixture(scope="session")
def chat_corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matter]:
    """A matter of 20,000 generated Slack messages with threads (15 % replies), system
    events (3 %) and edits, over 2023 (both DST changes), display zone New York; built once
    per session for the chat-aware tests. Read only: copy it before changing anything."""
    from discovery.synth import generate_slack_export

    base = tmp_path_factory.mktemp("chat")
    export = base / "export"
    stats = generate_slack_export(
        export, CHAT_MESSAGES, seed=12, thread_rate=0.15, system_rate=0.03
    )
    assert stats.system > 300 and stats.replies > 2000
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISCOVERY_HOME", str(base / "home"))
        mp.setenv("DISCOVERY_TZ", CHAT_ZONE)
        matter = open_matter("chat", create=True)
        report = ingest(matter, [export], custodian="Alice Example")
        assert report.added == CHAT_MESSAGES
        matter.store.tag(range(7, CHAT_MESSAGES, 89), "hot")
        yield matter
        matter.close()
