"""Where the time goes: the top functions of a warm query, or of an ingest, by cProfile.

    python -m bench.profile --home /work/bench-data/b1m/home '"of the"' 'the w/5 for'
    python -m bench.profile --home /tmp/p --ingest /work/bench-data/export200k

Queries run warm in one process (one untimed run first, then ``--reps`` runs
under the profiler, top 20 hits with the summary line, or ``--count``). The
ingest profiles ``discovery ingest`` into a fresh matter. py-spy gives the
same picture with less overhead (``py-spy record -f raw -- python -m
discovery ...``); cProfile needs nothing installed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
from pathlib import Path


def _report(prof: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    ap.add_argument("queries", nargs="*")
    ap.add_argument("--home", type=Path, required=True, help="$DISCOVERY_HOME to use")
    ap.add_argument("--matter", default="bench")
    ap.add_argument("--ingest", type=Path, help="profile ingesting this export instead")
    ap.add_argument("--count", action="store_true", help="profile counts, not top 20")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    os.environ["DISCOVERY_HOME"] = str(args.home)
    from discovery.matter import open_matter

    if args.ingest:
        from discovery.ingest import ingest

        with open_matter(args.matter, create=True) as matter:
            prof = cProfile.Profile()
            prof.runcall(ingest, matter, [args.ingest], custodian="bench")
        print(_report(prof, args.top))
        return
    from discovery.search import Searcher

    with open_matter(args.matter) as matter:
        searcher = Searcher(matter, resident=True)  # warm: one process searching again and again
        for q in args.queries:

            def run(q: str = q) -> object:
                return searcher.count(q) if args.count else searcher.search(q, limit=20)

            run()
            prof = cProfile.Profile()
            for _ in range(args.reps):
                prof.runcall(run)
            print(f"=== {q} ({args.reps} runs)")
            print(_report(prof, args.top))


if __name__ == "__main__":
    main()
