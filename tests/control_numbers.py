"""Control numbers of the bundled fixtures and of a 20,000-message corpus, as stored.

``tests/test_control_numbers.py`` compares this branch's numbers with the ones main's code
gave for the same inputs, kept in ``tests/data/control_numbers_main.json``. That file is
written by this module run with main's code (never the code under test)::

    git -C /path/to/clone archive COMMIT | tar -x -C /tmp/main-src
    DISCOVERY_HOME=$(mktemp -d) PYTHONPATH=/tmp/main-src \\
        python tests/control_numbers.py fixtures tests/data/control_numbers_main.json COMMIT

It uses only what every version has had: ``ingest``, ``open_matter``, the ``messages``
table's columns and ``generate_slack_export``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

CORPUS = {"messages": 20_000, "seed": 12, "thread_rate": 0.15, "system_rate": 0.03}
"""The corpus of ``tests/conftest.py``'s ``chat_corpus`` (ingested by custodian Alice Example)."""


def fixture_folders(fixtures: Path) -> list[Path]:
    """Every top-level fixture folder, in name order: the order they are ingested in."""
    return sorted(p for p in fixtures.iterdir() if p.is_dir())


def numbered(matter: Any) -> list[tuple[int, str]]:
    """(control number as an id, dedup key) of every stored message, in id order."""
    rows = matter.store.db.execute("SELECT id, dedup FROM messages ORDER BY id")
    return [(int(i), str(d)) for i, d in rows]


def corpus_digest(matter: Any) -> str:
    """One digest over every message's id, dedup key, conversation and thread root."""
    h = hashlib.sha256()
    rows = matter.store.db.execute(
        "SELECT m.id, m.dedup, c.platform, c.native_key, m.thread_root FROM messages m"
        " JOIN conversations c ON c.id = m.conversation_id ORDER BY m.id"
    )
    for row in rows:
        h.update(json.dumps(list(row)).encode())
    return h.hexdigest()


def ingest_fixtures(matter: Any, fixtures: Path) -> list[list[Any]]:
    """Each fixture folder ingested by custodian ``fx``, then all again by ``other``
    (duplicates: holders only). Per folder and pass: [name, custodian, messages added]."""
    from discovery.ingest import ingest

    added = []
    for custodian in ("fx", "other"):
        for folder in fixture_folders(fixtures):
            report = ingest(matter, [folder], custodian=custodian)
            added.append([folder.name, custodian, report.added])
    return added


def main() -> None:
    import os
    import tempfile

    import discovery
    from discovery.ingest import ingest
    from discovery.matter import open_matter
    from discovery.synth import generate_slack_export

    fixtures, out, commit = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    os.environ.pop("DISCOVERY_TZ", None)
    with open_matter("fx", create=True) as m:
        added = ingest_fixtures(m, fixtures)
        fx = numbered(m)
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export"
        n, seed = CORPUS["messages"], CORPUS["seed"]
        rates = {"thread_rate": CORPUS["thread_rate"], "system_rate": CORPUS["system_rate"]}
        generate_slack_export(export, n, seed=seed, **rates)
        with open_matter("corpus", create=True) as m:
            ingest(m, [export], custodian="Alice Example")
            corpus = {"count": len(numbered(m)), "digest": corpus_digest(m)}
    result = {
        "written_by": f"tests/control_numbers.py with main's code at {commit}",
        "code": str(Path(discovery.__file__).parent),
        "fixtures_added": added,
        "corpus": corpus,
    }
    head = ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in result.items())
    rows = ",\n".join(json.dumps([i, d[:16]]) for i, d in fx)  # one message a line
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f'{{\n{head},\n"fixtures": [\n{rows}\n]\n}}\n')


if __name__ == "__main__":
    main()
