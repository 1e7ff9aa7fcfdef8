"""The synthetic Slack export generator: real layout, determinism, planted phrases, speed."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC
from pathlib import Path

import pytest

from discovery.importers.base import ImportContext, RawConversation, RawMessage
from discovery.importers.detect import detect
from discovery.importers.slack import SlackImporter
from discovery.synth import PLANTED, VOCABULARY, generate_slack_export
from discovery.text import words


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def test_layout_and_import(tmp_path: Path) -> None:
    stats = generate_slack_export(tmp_path / "ex", 3000, seed=1, n_channels=4, n_users=12)
    root = tmp_path / "ex"
    assert (root / "users.json").is_file() and (root / "channels.json").is_file()
    channels = json.loads((root / "channels.json").read_text())
    assert [c["name"] for c in channels] == [
        "general",
        "random",
        "data-acquisition",
        "model-training",
    ]
    for c in channels:
        for f in (root / c["name"]).iterdir():
            assert re.fullmatch(r"2023-\d\d-\d\d\.json", f.name)
    found = detect(root)
    assert found is not None and found.name == "slack"

    items = list(SlackImporter().read(root, ImportContext(UTC, "ex")))
    ms = [i for i in items if isinstance(i, RawMessage)]
    assert len(ms) == stats.messages == 3000
    assert len([i for i in items if isinstance(i, RawConversation)]) == 4
    assert not [i for i in items if not isinstance(i, RawMessage | RawConversation)]
    assert sum(1 for m in ms if m.thread_key) == stats.replies > 0
    roots = {m.thread_key for m in ms if m.thread_key}
    assert len(roots) == stats.threads
    keys = {(m.conversation_key, m.native_id) for m in ms}
    assert len(keys) == len(ms)  # ts unique per channel
    years = {m.sent_at.year for m in ms}
    assert years == {2023}
    months = {m.sent_at.month for m in ms}
    assert months == set(range(1, 13))  # spans both DST changes
    assert all("<@" not in m.text for m in ms)  # mentions rendered


def test_planted_counts_are_exact(tmp_path: Path) -> None:
    stats = generate_slack_export(tmp_path / "ex", 20_000, seed=5)
    items = SlackImporter().read(tmp_path / "ex", ImportContext(UTC, "ex"))
    found: Counter[str] = Counter()
    for m in items:
        if isinstance(m, RawMessage):
            seq = " ".join(words(m.text))
            for key in PLANTED:
                if f" {' '.join(words(key))} " in f" {seq} ":
                    found[key] += 1
    assert dict(found) == {k: v for k, v in stats.planted.items() if v}
    assert all(v > 0 for v in stats.planted.values())
    vocab = {x for v in VOCABULARY for x in words(v)}
    for key in PLANTED:  # each planted phrase has a word the vocabulary never produces
        assert any(w not in vocab for w in words(key)), key
    assert "for" in VOCABULARY and "the" in VOCABULARY  # stop words kept


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate_slack_export(tmp_path / "a", 2000, seed=42, zip_path=tmp_path / "a.zip")
    b = generate_slack_export(tmp_path / "b", 2000, seed=42, zip_path=tmp_path / "b.zip")
    generate_slack_export(tmp_path / "c", 2000, seed=43)
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "c")
    assert a.planted == b.planted
    zipped = list(SlackImporter().read(tmp_path / "a.zip", ImportContext(UTC, "a.zip")))
    folder = list(SlackImporter().read(tmp_path / "a", ImportContext(UTC, "a")))
    assert zipped == folder


def test_refuses_non_empty_dir(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        generate_slack_export(tmp_path / "x", 10)


def test_cli(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    r = subprocess.run(
        [sys.executable, "-m", "discovery.synth", str(out), "--messages", "500", "--seed", "3"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[1],
    )
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["messages"] == 500
    assert (out / "users.json").exists()
    r2 = subprocess.run(
        [sys.executable, "-m", "discovery.synth", str(out), "--messages", "5"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[1],
    )
    assert r2.returncode == 1 and "not empty" in r2.stderr


def test_a_realistic_vocabulary_keeps_planted_counts_exact(tmp_path: Path) -> None:
    stats = generate_slack_export(tmp_path / "ex", 5000, seed=3, vocabulary=20_000)
    seen: set[str] = set()
    found: Counter[str] = Counter()
    for m in SlackImporter().read(tmp_path / "ex", ImportContext(UTC, "ex")):
        if isinstance(m, RawMessage):
            ws = words(m.text)
            seen.update(ws)
            seq = f" {' '.join(ws)} "
            found.update(k for k in PLANTED if f" {' '.join(words(k))} " in seq)
    assert dict(found) == {k: v for k, v in stats.planted.items() if v}
    assert len(seen) > 10 * len(VOCABULARY)  # the built-in vocabulary has about 300 words
    generate_slack_export(tmp_path / "zero", 500, seed=3, vocabulary=0)
    generate_slack_export(tmp_path / "default", 500, seed=3)
    assert tree_digest(tmp_path / "zero") == tree_digest(tmp_path / "default")
