"""``discovery produce`` from the command line on the acme Slack fixture (text only: quick).

What a reviewer types: withhold tags in any case, a misspelt withhold tag,
the modes of what a production writes. The message texts are those of
fixtures/slack/acme: MSG-00000029 is "The Libgen snapshot from January, plus
the licensed set." in #model-training.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from discovery.matter import open_matter
from tests.conftest import invoke

PRIVILEGED_TEXT = b"snapshot from January"


@pytest.fixture
def acme(acme_home: Path, discovery_home: Path) -> Path:
    shutil.copytree(acme_home, discovery_home)
    with open_matter("default") as m:
        m.store.tag([29], "privileged")
    return discovery_home


def _produce(out: Path, *extra: str) -> object:
    args = ["produce", "--query", "libgen", "--out", str(out), "--prefix", "ABC"]
    return invoke(*args, "--slice", "context:0", "--format", "text", *extra)


def _every_byte(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_a_withhold_tag_in_another_case_still_withholds(acme: Path, tmp_path: Path) -> None:
    out = tmp_path / "prod"
    result = _produce(out, "--withhold-tag", "Privileged")
    assert result.exit_code == 0, result.output
    assert PRIVILEGED_TEXT not in _every_byte(out)
    log = (out / "PRIVILEGE_LOG.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(log) == 2 and "MSG-00000029" in log[1]


def test_a_withhold_tag_no_message_carries_is_refused(acme: Path, tmp_path: Path) -> None:
    out = tmp_path / "prod"
    result = _produce(out, "--withhold-tag", "priviledged")
    assert result.exit_code == 1
    assert "no message is tagged 'priviledged'" in result.output and "privileged" in result.output
    assert not out.exists()


def test_a_production_is_for_its_owner_only(acme: Path, tmp_path: Path) -> None:
    out = tmp_path / "prod"
    assert _produce(out).exit_code == 0
    written = [out, *out.rglob("*")]
    assert len(written) > 4
    for p in written:
        assert p.stat().st_mode & 0o777 == (0o700 if p.is_dir() else 0o600), p


def test_undated_messages_are_produced_undated(discovery_home: Path, tmp_path: Path) -> None:
    ann = "From: Ann <ann@x.com>\nSubject: plan\n\n"
    (tmp_path / "nodate.eml").write_text(ann + "The undated plan.\n")
    (tmp_path / "secret.eml").write_text(ann + "Secret advice.\n")
    dated = "From: Bob <bob@x.com>\nDate: Mon, 6 Mar 2023 10:00:00 +0000\nSubject: x\n\nDated.\n"
    (tmp_path / "dated.eml").write_text(dated)
    files = [str(tmp_path / f) for f in ("nodate.eml", "secret.eml", "dated.eml")]
    assert invoke("ingest", *files).exit_code == 0
    with open_matter("default") as m:
        m.store.tag([1, 2, 3], "hot")
        m.store.tag([2], "privileged")
    out = tmp_path / "prod"
    args = ["produce", "--tag", "hot", "--out", str(out), "--prefix", "U", "--format", "rsmf,text"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    from discovery.loadfile import read_dat

    rows = {r["CONTROLNUMBERS"]: r for r in read_dat(out / "DATA" / "U.dat")}
    assert rows["MSG-00000003"]["DATESENT_FIRST"] == "2023-03-06 10:00:00"
    # the two undated messages of one email thread ("plan") are one slice, with no date
    undated = rows["MSG-00000001;MSG-00000002"]
    assert (undated["DATESENT_FIRST"], undated["DATESENT_LAST"]) == ("", "")
    assert "undated" in undated["SLICE"]
    everything = _every_byte(out)
    assert b"9999" not in everything and b"Secret advice" not in everything
    text = (out / undated["TEXTPATH"].replace("\\", "/")).read_text()
    assert "(undated)  Ann  MSG-00000001" in text
    log = (out / "PRIVILEGE_LOG.csv").read_text(encoding="utf-8-sig").splitlines()
    assert log[1].split(",")[2:6] == ["MSG-00000002", "", "", "(undated)"]
    # read back, they are undated again (and nothing is reported as a problem)
    back = invoke("ingest", str(out / "NATIVES"), "--matter", "back", "--json")
    assert back.exit_code == 0, back.output
    sources = json.loads(back.stdout)
    assert sum(s["undated"] for s in sources) == 2 and not any(s["problems"] for s in sources)


def test_tag_and_produce_during_an_ingest_say_what_they_saw(acme: Path, tmp_path: Path) -> None:
    from discovery import audit

    with open_matter("default") as writer, writer.writing():  # this test is the running ingest
        writer.store.db.execute(  # stored, not yet indexed: no search sees it yet
            "INSERT INTO messages (dedup, native_id, conversation_id, speaker_id, speaker,"
            " sent_us, text, dedup_hash) VALUES ('x', 'n', 1, 'u', 'U', 0, 'libgen extra',"
            " dedup_hash('x'))"
        )
        tagged = invoke("tag", "libgen", "--add", "hot")
        produced = _produce(tmp_path / "prod")
    for result in (tagged, produced):
        assert result.exit_code == 0, result.output
        assert "an ingest is running in this matter" in result.stderr
    logged = {e.command: e for e in audit.entries("default")}
    for command in ("tag", "produce"):
        assert logged[command].settings["partial"] is True
        assert logged[command].settings["indexed_through"] == 50
