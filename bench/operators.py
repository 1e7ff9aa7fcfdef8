"""Time the dtSearch operators of issue 8 against a plain word (target: each within 3x).

    DISCOVERY_HOME=/tmp/bench200/home python -m bench.operators --matter bench

Without an existing matter, ``--messages N`` generates and ingests a synthetic
Slack export first (seed 7, as ``python -m bench``). Each query runs warm in
one process, as ``discovery search`` runs it (top 20 hits and the summary),
with a **new planner per run**, so every run expands its terms against the
word list again (a fresh process would). The synthetic vocabulary holds no
``apply``, ``banana`` or number, so the issue's three queries measure the
cost of the expansion with no hit; the rows after them use words the corpus
has (``model~``, ``bu%dget``, a regex, an edge word). Where a query is one
expanded term, it is also timed against the same words written out as plain
words (``"model" OR "models"``), which has the same hits: that ratio is what
the expansion itself costs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bench import ensure_matter
from discovery.matter import open_matter
from discovery.query.ast import terms
from discovery.query.parser import parse
from discovery.search import Searcher

PLAIN = "libgen"
QUERIES = [
    "apply~",
    "ba%nana",
    "10~~20",
    "model~",
    "bu%dget",
    "b%%udget",
    '"##deadl.*"',
    "20==",
    "budget pre/3 xlastword",
    "(model AND data) w/5 license",
]


def _p50(searcher: Searcher, query: str, reps: int) -> tuple[float, int]:
    searcher.search(query, limit=20)
    samples = []
    total = 0
    for _ in range(reps):
        start = time.perf_counter()
        total = searcher.search(query, limit=20).total
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--matter", default="bench")
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=21)
    args = ap.parse_args(argv)
    ensure_matter(args.matter, args.messages)
    rows = []
    with open_matter(args.matter) as m:
        searcher = Searcher(m, resident=True)  # warm
        plain, plain_hits = _p50(searcher, PLAIN, args.reps)
        for q in QUERIES:
            p50, hits = _p50(searcher, q, args.reps)
            row = {"query": q, "hits": hits, "p50_ms": round(p50, 2),
                   "ratio_to_plain": round(p50 / plain, 2)}  # fmt: skip
            planner = searcher.planner()
            searcher.prepare(q, planner)
            words = sorted({w for ws in planner.expansions().values() for w in ws})
            if words and len(planner.expansions()) == len(terms(parse(q))):
                # The same hits asked for as plain words: what the expansion itself costs.
                same = " OR ".join(f'"{w}"' for w in words)
                e50, ehits = _p50(searcher, same, args.reps)
                assert ehits == hits, (q, ehits, hits)
                row.update(as_words_ms=round(e50, 2), ratio_to_words=round(p50 / e50, 2))
            rows.append(row)
        n = m.store.max_message_id()
    result = {
        "messages": n,
        "plain": {"query": PLAIN, "hits": plain_hits, "p50_ms": round(plain, 2)},
        "queries": rows,
    }
    print(json.dumps(result, indent=2))
    Path("bench/out").mkdir(parents=True, exist_ok=True)
    Path("bench/out/operators.json").write_text(json.dumps(result, indent=2) + "\n")
    issue = [r for r in rows if r["query"] in ("apply~", "ba%nana", "10~~20")]
    return 0 if all(r["ratio_to_plain"] <= 3 for r in issue) else 1


if __name__ == "__main__":
    sys.exit(main())
