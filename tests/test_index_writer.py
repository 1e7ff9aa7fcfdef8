"""The fast segment writer against Whoosh's own writer, and the positions sidecar.

The same messages are indexed by Whoosh's ``add_document`` (through the
schema's analyzer) and by :class:`SegmentBuilder`; Whoosh must read the same
index back from both: every word, every posting (document, weight, encoded
positions), the per-word statistics, stored ids and document lengths. The
sidecar must hold, for every word, exactly the (message, position) pairs that
the tokenizer gives for the messages' texts.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from whoosh import index, scoring

from discovery.index import sidecar
from discovery.index import whoosh_engine as we
from discovery.index.schema import VERSION_SEP, schema
from discovery.index.segment import SegmentBuilder
from discovery.text import version_tokens

VOCAB = [
    "the",
    "of",
    "and",
    "data",
    "model",
    "Línea",
    "STRASSE",
    "straße",
    "½",
    "don't",
    "pirated",
    "books",
    "x1",
    "a",
    "b",
    "c",
    "東京",
]


def _rows(n: int, seed: int = 1) -> list[tuple[int, tuple[str, ...]]]:
    rng = random.Random(seed)
    rows = []
    for mid in range(1, n + 1):
        text = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(0, 40)))
        earlier = tuple(
            " ".join(rng.choice(VOCAB) for _ in range(rng.randint(0, 6)))
            for _ in range(rng.choice((0, 0, 0, 0, 1, 2)))
        )
        rows.append((mid, (text, *earlier)))
    return rows


def _whoosh_index(folder: Path, rows: list[tuple[int, tuple[str, ...]]]) -> Any:
    ix = index.create_in(str(folder), schema())
    w = ix.writer(compound=False)
    for mid, versions in rows:
        w.add_document(id=mid, body=VERSION_SEP.join(versions))
    w.commit(merge=False)
    return ix


def _fast_index(folder: Path, rows: list[tuple[int, tuple[str, ...]]], per: int) -> Any:
    ix = index.create_in(str(folder), schema())
    for i in range(0, len(rows), per):
        w = SegmentBuilder(ix)
        for mid, versions in rows[i : i + per]:
            w.add_message(mid, versions)
        w.commit(merge=False)
    return ix


def _read_back(ix: Any) -> dict[str, Any]:
    """Everything Whoosh reads from an index, by global document number."""
    out: dict[str, Any] = {}
    with ix.reader() as r:
        n = r.doc_count_all()
        out["stored"] = [r.stored_fields(d) for d in range(n)]
        out["lengths"] = [r.doc_field_length(d, "body") for d in range(n)]
        out["field_length"] = r.field_length("body")
        for word in r.lexicon("body"):
            m = r.postings("body", word)
            postings = []
            while m.is_active():
                postings.append((m.id(), m.weight(), m.value(), list(m.value_as("positions"))))
                m.next()
            ti = r.term_info("body", word)
            stats = (ti.weight(), ti.doc_frequency(), ti.min_length(), ti.max_length())
            out.setdefault("postings", {})[word.decode()] = postings
            out.setdefault("stats", {})[word.decode()] = (stats, ti.max_weight())
    return out


@pytest.mark.parametrize("per", [10_000, 333], ids=["one-segment", "three-segments"])
def test_whoosh_reads_the_same_index(tmp_path: Path, per: int) -> None:
    rows = _rows(900)
    (tmp_path / "whoosh").mkdir()
    (tmp_path / "fast").mkdir()
    expected = _read_back(_whoosh_index(tmp_path / "whoosh", rows))
    assert len(expected["postings"]["the"]) > 128  # several blocks
    got = _read_back(_fast_index(tmp_path / "fast", rows, per))
    if per == 10_000:
        assert got == expected
    else:  # per-word statistics are per segment (and merged by Whoosh); the rest is not
        del got["stats"], expected["stats"]
        assert got == expected
    for name in ("_body_len.col", "_stored.col"):  # per-document files: byte for byte
        (a,) = (tmp_path / "whoosh").glob(f"*.{name}")
        (b, *_) = sorted((tmp_path / "fast").glob(f"*.{name}"))
        if per == 10_000:
            assert a.read_bytes() == b.read_bytes()


def test_sidecar_holds_every_token(tmp_path: Path) -> None:
    rows = _rows(700, seed=3)
    _fast_index(tmp_path, rows, 250)
    expected: dict[str, list[int]] = {}
    docs: dict[str, set[int]] = {}
    for mid, versions in rows:
        for tok in version_tokens(versions):
            expected.setdefault(tok.text, []).append(mid << 32 | tok.pos)
            docs.setdefault(tok.text, set()).add(mid)
    ids = sorted(p.name.split(".")[0] for p in tmp_path.glob("*.dpos"))
    assert len(ids) == 3
    pos = sidecar.Positions.open(tmp_path, ids)
    assert pos is not None
    for word, keys in expected.items():
        assert pos.keys([word]).tolist() == keys
        assert pos.doc_count(word) == len(docs[word])
        assert pos.ids([word]).tolist() == sorted(docs[word])
    assert pos.keys(["zzz"]).tolist() == []
    assert pos.expand(r"\A(?:d[^\W_]*)\Z", "d", 10) == sorted(w for w in expected if w[0] == "d")
    assert pos.expand(r"\A(?:[^\W_]*a)\Z", "", 100) == sorted(w for w in expected if w[-1] == "a")
    assert pos.expand(r"\A(?:[^\W_]*)\Z", "", 3) is None
    both = pos.keys(["data", "model"])
    assert both.tolist() == sorted(expected["data"] + expected["model"])
    assert np.all(np.diff(both) > 0)


def test_a_segment_without_sidecar_turns_it_off(tmp_path: Path) -> None:
    rows = _rows(50)
    _fast_index(tmp_path, rows, 25)
    ids = sorted(p.name.split(".")[0] for p in tmp_path.glob("*.dpos"))
    next(tmp_path.glob("*.dpos")).unlink()
    assert sidecar.Positions.open(tmp_path, ids) is None


def test_ranking_uses_whooshs_bm25_parameters() -> None:
    assert (we.BM25_B, we.BM25_K1) == (scoring.BM25F().B, scoring.BM25F().K1)


def test_a_search_does_not_import_whoosh(tmp_path: Path) -> None:
    """Start-up: with sidecars, searching reads no Whoosh module (checked in a fresh process)."""
    import subprocess
    import sys

    from discovery.ingest import ingest
    from discovery.matter import open_matter
    from tests.conftest import ACME

    with open_matter("m", create=True) as m:
        ingest(m, [ACME])
    code = (
        "import sys\n"
        "from discovery.matter import open_matter\n"
        "from discovery.search import Searcher\n"
        "with open_matter('m') as m:\n"
        "    r = Searcher(m).search('libgen OR \"ask forgiveness\"')\n"
        "assert r.total > 0\n"
        "heavy = ('whoosh', 'textual', 'typer')\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_index_without_sidecars_answers_the_same(tmp_path: Path) -> None:
    """An index written before the sidecars (none beside its segments, no manifest)
    is read through Whoosh: the same hits in the same order."""
    from discovery.ingest import ingest
    from discovery.matter import open_matter
    from discovery.search import Searcher
    from tests.conftest import ACME

    queries = ["libgen", '"ask forgiveness"', "forgiveness w/5 permission", "pirat* OR books"]
    with open_matter("m", create=True) as m:
        ingest(m, [ACME])
        before = [Searcher(m).search(q, limit=None).ids for q in queries]
        index_dir = m.path / "index"
    for p in [*index_dir.glob("*.dpos"), index_dir / we.MANIFEST]:
        p.unlink()
    with open_matter("m") as m:
        assert m.engine.occurrences(["libgen"]) is None
        assert [Searcher(m).search(q, limit=None).ids for q in queries] == before
    assert (index_dir / we.MANIFEST).exists()  # written again by the reader
    assert all(before)
