"""Control numbers are main's: the streaming ingest numbers the same sources the same way.

The expectations (``tests/data/control_numbers_main.json``) were written by
``tests/control_numbers.py`` run with main's code at the commit the file names (before the
streaming ingest), over this tree's fixtures: see that module for the command. They are
never produced by the code under test.

Since then importers keep messages main dropped (the contract: a message without a
readable time is kept undated, e.g. a Slack entry with no ``ts``). Such a message sorts
last in its source and takes the next id, so it moves the numbers of every later source.
So for the fixtures: every message main stored is stored, in main's order; every other
message is undated; and every number before the first such message is main's. The
20,000-message corpus has no such message: its store is main's exactly.

Attachments the fixtures hold are stored as family members (issue 16) after the messages
of their source, so they too move the numbers of later sources (never of messages of
sources before them, nor the order of any message). The fixtures' messages are compared
with the members left out, numbered by their place among the messages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from discovery.ingest import ingest
from discovery.matter import Matter, open_matter
from discovery.model import UNDATED_US
from tests.conftest import CHAT_MESSAGES, FIXTURES, worker_pools
from tests.control_numbers import CORPUS, corpus_digest, ingest_fixtures, numbered

MAIN = json.loads((Path(__file__).parent / "data" / "control_numbers_main.json").read_text())


def test_the_fixtures_keep_mains_control_numbers() -> None:
    with open_matter("fx", create=True) as m:
        added = ingest_fixtures(m, FIXTURES)
        members = {i for (i,) in m.store.db.execute("SELECT message_id FROM family_members")}
        messages = [(i, d) for i, d in numbered(m) if i not in members]
        ours = [(n, d[:16]) for n, (_, d) in enumerate(messages, 1)]
        rank = {i: n for n, (i, _) in enumerate(messages, 1)}
        undated = {
            i
            for (i,) in m.store.db.execute(
                "SELECT id FROM messages WHERE sent_us = ?", (UNDATED_US,)
            )
        }
    main = [(i, d) for i, d in MAIN["fixtures"]]
    known = {d for _, d in main}
    assert len(known) == len(main) and len(main) > 400
    new = [i for i, d in ours if d not in known]
    assert set(new) <= {rank[i] for i in undated if i in rank}, "a dated message main did not store"
    assert [d for _, d in ours if d in known] == [d for _, d in main]
    first_new = min(new, default=len(ours) + 1)
    assert [x for x in ours if x[0] < first_new] == [x for x in main if x[0] < first_new]
    assert first_new > len(ours) // 2  # most of the fixtures are compared number for number
    # per folder and pass: what main added, plus the messages it dropped; the second
    # custodian's pass adds nothing (every message deduplicates onto the stored one)
    assert [a[:2] for a in added] == [a[:2] for a in MAIN["fixtures_added"]]
    assert sum(a[2] for a in added) - sum(a[2] for a in MAIN["fixtures_added"]) == len(new)
    for a, b in zip(added, MAIN["fixtures_added"], strict=True):
        assert a[2] >= b[2] and (a[1] == "fx" or a[2] == b[2] == 0), (a, b)


def test_the_20k_corpus_is_stored_as_main_stored_it(chat_corpus: Matter) -> None:
    """The session's chat corpus is the one the expectations were made from."""
    assert CORPUS["messages"] == CHAT_MESSAGES
    assert MAIN["corpus"] == {"count": CHAT_MESSAGES, "digest": corpus_digest(chat_corpus)}


def test_the_corpus_in_small_batches_read_by_workers_is_mains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same corpus through the streaming paths at small sizes: 20 staging batches,
    the day files in parts read by two worker processes."""
    from discovery.synth import generate_slack_export

    pools = worker_pools(monkeypatch)
    for key, value in {
        "DISCOVERY_BATCH": "1000",
        "DISCOVERY_JOBS": "2",
        "DISCOVERY_PART_BYTES": "200000",
    }.items():
        monkeypatch.setenv(key, value)
    export = tmp_path / "export"
    rates = {"thread_rate": CORPUS["thread_rate"], "system_rate": CORPUS["system_rate"]}
    generate_slack_export(export, CORPUS["messages"], seed=CORPUS["seed"], **rates)
    with open_matter("c", create=True) as m:
        ingest(m, [export], custodian="Alice Example")
        assert MAIN["corpus"]["digest"] == corpus_digest(m)
    assert pools and set(pools) == {2}  # the day files were read by the workers
