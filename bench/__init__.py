"""Benchmarks: ``python -m bench --messages 200000`` (see docs/BENCHMARKS.md)."""

from __future__ import annotations


def ensure_matter(name: str, messages: int) -> None:
    """Build matter ``name`` from the seed-7 synthetic export of ``messages`` unless it exists
    (the 200,000-message matter the operator, chat and batch benches time)."""
    import tempfile
    from pathlib import Path

    from discovery import config
    from discovery.ingest import ingest
    from discovery.matter import open_matter
    from discovery.synth import generate_slack_export

    if (config.matter_dir(name) / "case.sqlite").exists():
        return
    export = Path(tempfile.mkdtemp()) / "export"
    generate_slack_export(export, messages, seed=7)
    with open_matter(name, create=True) as m:
        ingest(m, [export], custodian="bench")
