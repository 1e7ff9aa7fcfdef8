"""Time storing one staged source (``Staging.store`` and the transaction around it) alone.

    python -m bench.store /work/bench-data/final1m/export --work /tmp/store-bench

Storing is the ingest's one phase in a single process (docs/BENCHMARKS.md). The export is
read and staged once, in this process, into ``WORK/staged.sqlite`` (kept, so later runs
skip it); each run copies that file and stores it into a fresh matter, printing the wall
and CPU seconds of each SQL statement of the transaction and of the commit, and the
peak RSS of this process. ``--twice`` stores a second copy of the export under another
custodian into the same matter: every message a duplicate (the path that joins on the
dedup key).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import shutil
import time
from datetime import UTC
from pathlib import Path


class _Timeline:
    """Wall and CPU time between successive SQL statements (SQLite's trace callback is
    called as each one starts, so the time to the next is the previous one's)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []
        self._last = ("(start)", time.perf_counter(), time.process_time())

    def __call__(self, sql: str) -> None:
        self.mark(sql)

    def mark(self, what: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        name, t, c = self._last
        self.rows.append((name, now - t, cpu - c))
        self._last = (" ".join(what.split())[:90], now, cpu)


def _staged(export: Path, work: Path, fresh: Path) -> object:
    """The export read and staged into ``fresh`` (from the copy kept in ``work``)."""
    from discovery.ingest import SourceJob, stage_source

    kept, about = work / "staged.sqlite", work / "staged.pickle"
    if not about.exists():
        job = SourceJob(export, "slack", "bench", UTC, "UTC", str(export), None)
        got = stage_source(job, fresh)
        if got.source is None:
            raise SystemExit(f"cannot stage {export}: {got.rep.problems}")
        shutil.copyfile(fresh, kept)
        about.write_bytes(pickle.dumps(got))
    shutil.copyfile(kept, fresh)
    return pickle.loads(about.read_bytes())


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.store", description=__doc__)
    ap.add_argument("export", type=Path)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--twice", action="store_true")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    fresh = args.work / "staged-run.sqlite"
    home = args.work / "home"
    shutil.rmtree(home, ignore_errors=True)
    os.environ["DISCOVERY_HOME"] = str(home)
    from discovery.ingest import _store_source
    from discovery.matter import open_matter

    result: dict[str, object] = {}
    with open_matter("bench", create=True) as matter:
        for who in ("bench", "again")[: 1 + args.twice]:
            got = _staged(args.export, args.work, fresh)
            got.rep.custodian = who  # type: ignore[attr-defined]
            line = _Timeline()
            matter.store.db.set_trace_callback(line)
            t, c = time.perf_counter(), time.process_time()
            with matter.store.staging(fresh, filled=True) as into:
                _store_source(matter, got.rep, got.sha, got.size, got.source, into)  # type: ignore[attr-defined]
            line.mark("(end)")
            matter.store.db.set_trace_callback(None)
            top = sorted(line.rows, key=lambda r: -r[1])[:8]
            result[who] = {
                "store_s": round(time.perf_counter() - t, 2),
                "store_cpu_s": round(time.process_time() - c, 2),
                "statements": [(s, round(w, 2), round(p, 2)) for s, w, p in top],
                "added": got.rep.added,  # type: ignore[attr-defined]
            }
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["load"] = os.getloadavg()[0]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
