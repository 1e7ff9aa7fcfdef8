"""Time chat-aware proximity (issue 12) against the plain AND of the same words.

    python -m bench.chat --home /tmp/b200k/home --matter bench

Without an existing matter, ``--messages N`` generates and ingests a synthetic
Slack export first (seed 7, as ``python -m bench``). Each query runs warm in one
process with one :class:`~discovery.search.Searcher` (as the review screen and
``python -m bench`` do): 1 warm-up and ``--reps`` timed runs of the exact hit set
(``Searcher.match``) and of the first page with snippets and the summary
(``Searcher.search``, top 20). Target (issue 12): ``libgen w/5msg permission`` and
``libgen w/10min permission`` each with a hit-set p50 <= 50 ms and within 3x of
``libgen AND permission``. The load average is printed with the figures: the
machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import ensure_matter
from discovery.matter import open_matter
from discovery.search import Searcher

PLAIN = "libgen AND permission"
QUERIES = [
    "libgen w/5msg permission",
    "libgen w/10min permission",
    "libgen pre/5msg permission",
    "libgen not w/5msg permission",
    "libgen w/thread permission",
    "(speaker:u0000001* AND libgen) w/20msg permission",
    "the w/3msg data",
]


def _p50(run: Callable[[], object], reps: int) -> float:
    run()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=None, help="$DISCOVERY_HOME to use")
    ap.add_argument("--matter", default="bench")
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=21)
    args = ap.parse_args(argv)
    if args.home is not None:
        os.environ["DISCOVERY_HOME"] = str(args.home)
    ensure_matter(args.matter, args.messages)
    rows = []
    with open_matter(args.matter) as m:
        searcher = Searcher(m, resident=True)  # warm
        for q in [PLAIN, *QUERIES]:
            hits = len(searcher.match(q)[1])
            hit_set = _p50(lambda q=q: searcher.match(q), args.reps)
            top = _p50(lambda q=q: searcher.search(q, limit=20), args.reps)
            rows.append({"query": q, "hits": hits, "hit_set_ms": round(hit_set, 2),
                         "top20_ms": round(top, 2)})  # fmt: skip
        n = m.store.max_message_id()
    plain = rows[0]
    for r in rows[1:]:
        r["ratio_to_plain"] = round(r["hit_set_ms"] / plain["hit_set_ms"], 2)
    result = {"messages": n, "load_average": os.getloadavg(), "rows": rows}
    print(json.dumps(result, indent=2))
    Path("bench/out").mkdir(parents=True, exist_ok=True)
    Path("bench/out/chat.json").write_text(json.dumps(result, indent=2) + "\n")
    issue = [r for r in rows if r["query"] in QUERIES[:2]]
    ok = all(r["hit_set_ms"] <= 50 and r["ratio_to_plain"] <= 3 for r in issue)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
